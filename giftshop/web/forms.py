"""Form fields every screen shares: ids as written in URLs, amounts as people type them, the idempotency
key of a form, and the employee autocomplete."""

import uuid
from decimal import Decimal

from django import forms
from django.contrib.auth import get_user_model
from django.urls import reverse_lazy
from django.utils.text import format_lazy

from bonuses import rules
from bonuses.exceptions import InvalidAmount

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
        users = choices.filter(pk__in=[pk for pk in map(parse_id, chosen) if pk])
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


class CurrencyAmountMixin:
    """A form with an amount (`amount_field`) and a `currency` field: the amount follows the rules of the
    currency chosen (whole numbers), a refusal shown on the amount."""

    amount_field = "amount"

    def clean(self):
        data = super().clean()
        name = self.amount_field
        if data.get(name) is not None and data.get("currency"):
            try:
                data[name] = checked_amount(data[name], data["currency"])
            except forms.ValidationError as error:
                self.add_error(name, error)
        return data
