"""Forms of the gift shop and of the administrators' catalog and orders screens."""

import uuid
from io import BytesIO
from pathlib import Path

from django import forms
from django.contrib.auth import get_user_model
from django.core.files.base import ContentFile
from django.utils.text import slugify
from django.utils.translation import gettext_lazy as _
from PIL import Image, ImageOps

from bonuses.rules import MAX_COMMENT
from giftshop.web.forms import AmountField, CurrencyAmountMixin, EmployeeAutocomplete, IdempotentForm

from .models import Gift

OFFICES = [
    ("", _("Delivery (see the comment)")),
    ("Berlin HQ", "Berlin HQ"),
    ("Munich office", "Munich office"),
    ("Hamburg office", "Hamburg office"),
]


class OrderForm(IdempotentForm):
    """An order in the shop: the form, then a confirmation step; the idempotency key made when the form
    is first shown goes through both, so that "Place order" pressed twice places one order."""

    quantity = forms.IntegerField(label=_("Quantity"), min_value=1, max_value=100, initial=1)
    pickup_office = forms.ChoiceField(label=_("Pick-up office"), choices=OFFICES, required=False)
    delivery_comment = forms.CharField(
        label=_("Delivery comment"), required=False, max_length=MAX_COMMENT, widget=forms.Textarea(attrs={"rows": 2})
    )
    confirmed = forms.BooleanField(required=False, widget=forms.HiddenInput)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        if self.is_bound and not self.data.get("idempotency_key") and not self.places_order():
            self.renew_key()  # a step before the order itself, posted without the form: the key starts here

    def places_order(self) -> bool:
        """Whether this submission places the order (the confirmation's "Place order"), not a step before."""
        confirmed = self.fields["confirmed"].to_python(self.data.get(self.add_prefix("confirmed")))
        return confirmed and self.add_prefix("change") not in self.data


class DeskOrderForm(OrderForm):
    """An administrator orders at the gift desk on an employee's behalf."""

    employee = forms.ModelChoiceField(
        label=_("Employee"), queryset=get_user_model().objects.filter(is_active=True), widget=EmployeeAutocomplete
    )
    gift = forms.ModelChoiceField(label=_("Gift"), queryset=Gift.objects.filter(is_active=True))
    code = forms.CharField(
        label=_("Confirmation code"),
        required=False,
        max_length=6,
        help_text=_("Sent to the employee when the currency requires confirmation."),
    )

    field_order = ["employee", "gift", "quantity", "pickup_office", "delivery_comment", "code"]

    def places_order(self) -> bool:
        return "send_code" not in self.data


class ReturnForm(forms.Form):
    quantity = forms.IntegerField(label=_("Items returned"), min_value=1)


class GiftPictureField(forms.ImageField):
    """A gift's picture: PNG, JPEG or WebP, known by its content (Pillow), at most 5 MB and 40 megapixels.

    What is stored is what Pillow re-encoded from the pixels: no metadata (the camera's place and
    time), nothing hidden after the picture, and a name with the extension of what it is. The
    uploaded name and content type say nothing: anyone can write them.
    """

    FORMATS = {"PNG": ".png", "JPEG": ".jpg", "WEBP": ".webp"}
    MAX_BYTES = 5 * 1024 * 1024
    MAX_PIXELS = 40_000_000
    default_validators = []  # the extension of the upload's name is not checked: the content is
    default_error_messages = {
        "invalid_image": _("Upload a PNG, JPEG or WebP picture. This file is not a picture, or it is damaged."),
        "wrong_kind": _("Upload a PNG, JPEG or WebP picture, not %(kind)s."),
        "too_large": _("The picture is larger than 5 MB."),
        "too_many_pixels": _("The picture has more than 40 megapixels."),
    }

    def to_python(self, data):
        if data not in self.empty_values and getattr(data, "size", 0) > self.MAX_BYTES:
            raise forms.ValidationError(self.error_messages["too_large"], code="too_large")
        upload = super().to_python(data)  # Pillow's verify(): a picture of some kind, undamaged
        if upload is None:
            return None
        kind = upload.image.format
        if kind not in self.FORMATS:
            raise forms.ValidationError(self.error_messages["wrong_kind"], code="wrong_kind", params={"kind": kind})
        width, height = upload.image.size
        if width * height > self.MAX_PIXELS:
            raise forms.ValidationError(self.error_messages["too_many_pixels"], code="too_many_pixels")
        try:
            content = self.re_encode(upload, kind)
        except Exception as error:  # Pillow's errors have no common class; decoding is what failed
            raise forms.ValidationError(self.error_messages["invalid_image"], code="invalid_image") from error
        stem = slugify(Path(upload.name or "").stem)[:60] or "picture"
        return ContentFile(content, name=f"{stem}-{uuid.uuid4().hex[:8]}{self.FORMATS[kind]}")

    @staticmethod
    def re_encode(upload, kind: str) -> bytes:
        upload.seek(0)
        with Image.open(upload) as image:
            image.load()
            # The orientation lives in the metadata that is dropped: turn the pixels instead.
            pixels = ImageOps.exif_transpose(image)
        if kind == "JPEG" and pixels.mode not in ("L", "RGB", "CMYK"):
            pixels = pixels.convert("RGB")
        elif kind == "WEBP" and pixels.mode not in ("RGB", "RGBA"):
            pixels = pixels.convert("RGBA" if "A" in pixels.getbands() else "RGB")
        out = BytesIO()
        options = {"quality": 90} if kind in ("JPEG", "WEBP") else {"optimize": True}
        pixels.save(out, kind, **options)  # no exif, icc_profile or text chunks: only the pixels
        return out.getvalue()


class GiftForm(CurrencyAmountMixin, forms.ModelForm):
    amount_field = "price"

    class Meta:
        model = Gift
        fields = ["name", "category", "description", "picture", "price", "currency", "stock", "is_active"]
        field_classes = {"picture": GiftPictureField, "price": AmountField}
