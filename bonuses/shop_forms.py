"""Forms of the gift shop and of the administrators' catalog and orders screens."""

from django import forms
from django.contrib.auth import get_user_model
from django.utils.translation import gettext_lazy as _

from .forms import AmountField, EmployeeAutocomplete, checked_amount
from .models import Gift
from .rules import MAX_COMMENT

OFFICES = [
    ("", _("Delivery (see the comment)")),
    ("Berlin HQ", "Berlin HQ"),
    ("Munich office", "Munich office"),
    ("Hamburg office", "Hamburg office"),
]


class OrderForm(forms.Form):
    quantity = forms.IntegerField(label=_("Quantity"), min_value=1, max_value=100, initial=1)
    pickup_office = forms.ChoiceField(label=_("Pick-up office"), choices=OFFICES, required=False)
    delivery_comment = forms.CharField(
        label=_("Delivery comment"), required=False, max_length=MAX_COMMENT, widget=forms.Textarea(attrs={"rows": 2})
    )
    confirmed = forms.BooleanField(required=False, widget=forms.HiddenInput)


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


class ReturnForm(forms.Form):
    quantity = forms.IntegerField(label=_("Items returned"), min_value=1)


class GiftForm(forms.ModelForm):
    class Meta:
        model = Gift
        fields = ["name", "category", "description", "picture", "price", "currency", "stock", "is_active"]
        field_classes = {"price": AmountField}

    def clean(self):
        data = super().clean()
        if data.get("price") is not None and data.get("currency"):
            try:
                data["price"] = checked_amount(data["price"], data["currency"])
            except forms.ValidationError as error:
                self.add_error("price", error)
        return data
