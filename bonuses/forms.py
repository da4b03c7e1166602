"""Forms of the administrator screens. They validate input; the services decide."""

import uuid

from django import forms
from django.contrib.auth import get_user_model
from django.urls import reverse_lazy
from django.utils.text import format_lazy
from django.utils.translation import gettext_lazy as _

from . import rules, services
from .exceptions import InvalidAmount
from .models import Currency
from .rules import MAX_COMMENT

DATE_INPUT = forms.DateInput(attrs={"type": "date"})
MAX_ID = 2**63 - 1  # the largest id a database column holds (SQLite's INTEGER, PostgreSQL's bigint)


def parse_id(value) -> int | None:
    """An id as written in a URL or a form: ASCII digits within the range of an id column, else None.

    `str.isdigit` also accepts "²" and other scripts' digits, and SQLite cannot bind an integer
    beyond 64 bits: a forged value must never reach a query.
    """
    text = str(value).strip()
    if text.isascii() and text.isdigit() and len(text) <= len(str(MAX_ID)) and 0 < int(text) <= MAX_ID:
        return int(text)
    return None


class EmployeeIdsField(forms.Field):
    """The bulk form's hidden `employees` input: comma-separated ids, as a sorted list of distinct ids.

    Who they are (unknown, inactive, outside the viewer's scope) is for `selectors.bulk_recipients`
    and the service to say; this field only refuses what is not a list of ids.
    """

    widget = forms.HiddenInput
    default_error_messages = {"invalid": _("The selection is not valid.")}

    def prepare_value(self, value):
        return ",".join(map(str, value)) if isinstance(value, list | tuple) else value

    def to_python(self, value) -> list[int]:
        parts = [part.strip() for part in str(value or "").split(",") if part.strip()]
        ids = [parse_id(part) for part in parts]
        if None in ids:
            raise forms.ValidationError(self.error_messages["invalid"], code="invalid")
        return sorted(set(ids))


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
        users = get_user_model().objects.filter(pk__in=[pk for pk in map(parse_id, chosen) if pk])
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
    # The table's currency, posted back by the modal; empty means the default currency.
    currency = forms.ModelChoiceField(
        queryset=Currency.objects.all(),
        required=False,
        widget=forms.HiddenInput,
        error_messages={"invalid_choice": _("The currency is not valid: open the form again.")},
    )
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
        self.initial.setdefault("currency", currency.pk)
        self.use_currency(currency)

    def use_currency(self, currency: Currency) -> None:
        self.currency = currency
        if currency.whole_numbers:
            self.fields["amount"].widget.attrs["step"] = "1"

    def clean_currency(self):
        # Cleaned before the amount, whose rules (whole numbers) are the chosen currency's.
        self.use_currency(self.cleaned_data["currency"] or services.get_currency())
        return self.currency

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


class BulkSelectionForm(forms.Form):
    """Who a bulk accrual goes to: the rows checked in the table, or every employee matching its filter."""

    employees = EmployeeIdsField(required=False)  # comma-separated ids
    select_all = forms.BooleanField(widget=forms.HiddenInput, required=False)
    filters = forms.CharField(widget=forms.HiddenInput, required=False)  # the table's query string

    def selection(self) -> dict:
        """The keyword arguments of `selectors.bulk_recipients`; a refused field selects nobody."""
        data = getattr(self, "cleaned_data", {})
        return {
            "employees": data.get("employees") or [],
            "select_all": data.get("select_all", False),
            "filters": data.get("filters", ""),
        }


class BulkAccrualForm(BulkSelectionForm, AccrualForm):
    pass


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


class AvailableBalanceForm(forms.Form):
    """The query of the write-off form's "Available bonuses" figure."""

    employee = forms.ModelChoiceField(queryset=get_user_model().objects.all(), required=False)
    currency = forms.ModelChoiceField(queryset=Currency.objects.all(), required=False)


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
