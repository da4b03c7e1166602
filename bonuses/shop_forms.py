"""Forms of the gift shop and of the administrators' catalog and orders screens."""

from django import forms
from django.contrib.auth import get_user_model
from django.utils.translation import gettext_lazy as _

from .forms import EmployeeAutocomplete, IdempotentForm, checked_amount
from .models import Gift
from .rules import MAX_COMMENT

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


class GiftForm(forms.ModelForm):
    class Meta:
        model = Gift
        fields = ["name", "category", "description", "picture", "price", "currency", "stock", "is_active"]

    def clean(self):
        data = super().clean()
        if data.get("price") is not None and data.get("currency"):
            try:
                data["price"] = checked_amount(data["price"], data["currency"])
            except forms.ValidationError as error:
                self.add_error("price", error)
        return data
