"""Forms of the administrator screens. They validate input; the services decide."""

import uuid
from decimal import Decimal

from django import forms
from django.contrib.auth import get_user_model
from django.urls import reverse_lazy
from django.utils import timezone
from django.utils.text import format_lazy
from django.utils.translation import gettext_lazy as _

from . import rules
from .exceptions import InvalidAmount, InvalidDates
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
        users = get_user_model().objects.filter(pk__in=[v for v in chosen if v.isdigit()])
        options = [
            self.create_option(name, str(u.pk), f"{u.full_name} ({u.email})", True, i) for i, u in enumerate(users)
        ]
        return [(None, options, 0)]


class AmountField(forms.DecimalField):
    """Every amount field: read as a person types it, and as the services read text (rules.parse_amount).

    A text input (a number input would refuse "1 000" in the browser), for decimals on a phone's
    keyboard; the limits (greater than zero, at most two places, the maximum for one operation) are
    the ledger's own, with its messages. The form adds the currency's whole-number rule (`checked_amount`).
    """

    widget = forms.TextInput

    def __init__(self, *, maximum: Decimal = rules.MAX_OPERATION, **kwargs):
        kwargs.setdefault("max_digits", 14)
        kwargs.setdefault("decimal_places", 2)
        self.maximum = maximum
        super().__init__(**kwargs)

    def widget_attrs(self, widget):
        # static/js/accrual.js reads the maximum to show no total for an amount that would be refused.
        return {**super().widget_attrs(widget), "inputmode": "decimal", "data-max-amount": str(self.maximum)}

    def to_python(self, value):
        if value in self.empty_values:
            return None
        if isinstance(value, Decimal):
            return value
        try:
            return rules.parse_amount(value)
        except InvalidAmount as error:
            raise forms.ValidationError(error.message, code="invalid") from None

    def validate(self, value):
        forms.Field.validate(self, value)  # required; DecimalField's own checks are the ledger's below
        if value is not None:
            try:
                rules.clean_amount(value, None, maximum=self.maximum)
            except InvalidAmount as error:
                raise forms.ValidationError(error.message, code="invalid") from None


def whole_numbers_hint(field: AmountField, currency) -> None:
    """A whole-number currency: digits only on a phone's keyboard, and no total for a fraction (accrual.js)."""
    if currency.whole_numbers:
        field.widget.attrs.update({"inputmode": "numeric", "data-whole-numbers": "1"})


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
    amount = AmountField(label=_("Amount"))
    comment = forms.CharField(
        label=_("Comment"), required=False, max_length=MAX_COMMENT, widget=forms.Textarea(attrs={"rows": 3})
    )
    expires_on = forms.DateField(
        label=_("Expiry date"), required=False, widget=DATE_INPUT, help_text=_("The last day the points can be used.")
    )
    lifetime_days = forms.IntegerField(
        label=_("or lifetime (days)"), required=False, widget=forms.NumberInput(attrs={"min": 1, "max": rules.MAX_DAYS})
    )
    activates_on = forms.DateField(label=_("Activation date"), required=False, widget=DATE_INPUT)

    def __init__(self, *args, currency: Currency, **kwargs):
        super().__init__(*args, **kwargs)
        self.currency = currency
        whole_numbers_hint(self.fields["amount"], currency)

    def clean_amount(self):
        return checked_amount(self.cleaned_data["amount"], self.currency)

    # Dates and lifetimes as far as the product means them (100 years), with the services' messages.
    def clean_expires_on(self):
        return self._checked_date("expires_on", rules.check_expiry_date)

    def clean_activates_on(self):
        return self._checked_date("activates_on", rules.check_activation_date)

    def clean_lifetime_days(self):
        days = self.cleaned_data["lifetime_days"]
        if days is not None:
            try:
                rules.check_lifetime_days(days)
            except InvalidDates as error:
                raise forms.ValidationError(error.message) from None
        return days

    def _checked_date(self, name, check):
        day = self.cleaned_data[name]
        if day is not None:
            try:
                check(day, rules.local_date(timezone.now()))
            except InvalidDates as error:
                raise forms.ValidationError(error.message) from None
        return day

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
    amount = AmountField(label=_("Subtract bonuses"))
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
