"""Forms of the administrator screens. They validate input; the services decide."""

import uuid

from django import forms
from django.contrib.auth import get_user_model
from django.urls import reverse_lazy
from django.utils.text import format_lazy
from django.utils.translation import gettext_lazy as _

from . import rules
from .exceptions import InvalidAmount
from .models import Currency
from .rules import MAX_COMMENT

DATE_INPUT = forms.DateInput(attrs={"type": "date"})


class EmployeeAutocomplete(forms.Select):
    """A select that renders only the chosen employee; tom-select asks the server for the rest."""

    def __init__(self, attrs=None, *, former_too=False):
        url = reverse_lazy("bonuses:employee-autocomplete")
        # The log also filters by deactivated employees; the write-off form only by active ones.
        url = format_lazy("{}?all=1", url) if former_too else url
        super().__init__({"data-autocomplete": url, **(attrs or {})})

    def optgroups(self, name, value, attrs=None):
        chosen = [str(v) for v in value if v not in (None, "")]
        if not chosen:
            return [(None, [self.create_option(name, "", "", False, 0)], 0)]
        # Only someone the field may choose is named: any id can be put in a URL.
        choices = getattr(self.choices, "queryset", get_user_model().objects.none())
        users = choices.filter(pk__in=[v for v in chosen if v.isdecimal() and int(v) < 2**63])
        options = [
            self.create_option(name, str(u.pk), f"{u.full_name} ({u.email})", True, i) for i, u in enumerate(users)
        ]
        return [(None, options, 0)]


def checked_amount(amount, currency):
    """The ledger's own amount rules (whole numbers, limits), as a field error."""
    try:
        return rules.clean_amount(amount, currency)
    except InvalidAmount as error:
        raise forms.ValidationError(error.message) from None


class IdempotentForm(forms.Form):
    """Carries a key made when the form is shown, so that a double submission posts once."""

    idempotency_key = forms.CharField(widget=forms.HiddenInput, max_length=100)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        if not self.is_bound:
            self.initial.setdefault("idempotency_key", uuid.uuid4().hex)

    def renew_key(self) -> None:
        """A refused form is shown again with a new key: its corrected submission is a new request."""
        self.data = self.data.copy()
        self.data["idempotency_key"] = uuid.uuid4().hex


class AccrualForm(IdempotentForm):
    amount = forms.DecimalField(label=_("Amount"), min_value=0.01, decimal_places=2, max_digits=14)
    comment = forms.CharField(
        label=_("Comment"), required=False, max_length=MAX_COMMENT, widget=forms.Textarea(attrs={"rows": 3})
    )
    expires_on = forms.DateField(
        label=_("Expiry date"), required=False, widget=DATE_INPUT, help_text=_("The last day the points can be used.")
    )
    lifetime_days = forms.IntegerField(label=_("or lifetime (days)"), required=False, min_value=1)
    activates_on = forms.DateField(label=_("Activation date"), required=False, widget=DATE_INPUT)

    def __init__(self, *args, currency: Currency, **kwargs):
        super().__init__(*args, **kwargs)
        self.currency = currency
        if currency.whole_numbers:
            self.fields["amount"].widget.attrs["step"] = "1"

    def clean_amount(self):
        return checked_amount(self.cleaned_data["amount"], self.currency)

    def clean(self):
        data = super().clean()
        if data.get("expires_on") and data.get("lifetime_days"):
            self.add_error("lifetime_days", _("Give either an expiry date or a lifetime, not both."))
        return data

    def service_options(self) -> dict:
        data = self.cleaned_data
        return {name: data[name] for name in ("amount", "comment", "expires_on", "lifetime_days", "activates_on")}


class BulkAccrualForm(AccrualForm):
    employees = forms.CharField(widget=forms.HiddenInput, required=False)  # comma-separated ids
    select_all = forms.BooleanField(widget=forms.HiddenInput, required=False)
    filters = forms.CharField(widget=forms.HiddenInput, required=False)  # the table's query string

    def clean_employees(self):
        raw = self.cleaned_data["employees"]
        try:
            return sorted({int(part) for part in raw.split(",") if part.strip()})
        except ValueError:
            raise forms.ValidationError(_("The selection is not valid.")) from None


class WriteOffForm(IdempotentForm):
    employee = forms.ModelChoiceField(
        label=_("Employee"),
        queryset=get_user_model().objects.filter(is_active=True),
        widget=EmployeeAutocomplete,
        error_messages={"invalid_choice": _("Choose an active employee from the list.")},
    )
    currency = forms.ModelChoiceField(label=_("Currency"), queryset=Currency.objects.all(), empty_label=None)
    amount = forms.DecimalField(label=_("Subtract bonuses"), min_value=0.01, decimal_places=2, max_digits=14)
    comment = forms.CharField(
        label=_("Comment"),
        required=False,
        max_length=MAX_COMMENT,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text=_("Recommended: why the points are written off."),
    )

    def clean(self):
        data = super().clean()
        if data.get("amount") is not None and data.get("currency"):
            try:
                data["amount"] = checked_amount(data["amount"], data["currency"])
            except forms.ValidationError as error:
                self.add_error("amount", error)
        return data


class CurrencySettingsForm(forms.ModelForm):
    class Meta:
        model = Currency
        fields = [
            "name",
            "whole_numbers",
            "activation_delay_days",
            "burn_policy",
            "lifetime_value",
            "lifetime_unit",
            "burn_steps",
            "expiry_reminder_days",
            "requires_confirmation",
        ]
