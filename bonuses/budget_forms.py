"""Forms of the budgets screens: an administrator's top-up or reduction of one budget, or of several; and
the reason of a rejected grant request."""

from django import forms
from django.utils.translation import gettext_lazy as _

from giftshop.web.forms import AmountField, checked_amount, whole_numbers_hint

from . import services
from .forms import BulkSelectionForm
from .models import Currency
from .rules import MAX_COMMENT


class BudgetChangeForm(forms.Form):
    """Top up or reduce a budget by an amount, with a comment saying why."""

    currency = forms.ModelChoiceField(
        queryset=Currency.objects.all(),
        required=False,
        widget=forms.HiddenInput,
        error_messages={"invalid_choice": _("The currency is not valid: open the form again.")},
    )
    direction = forms.ChoiceField(
        label=_("Change"),
        choices=[("top_up", _("Top up")), ("reduce", _("Reduce"))],
        initial="top_up",
        widget=forms.RadioSelect,
    )
    amount = AmountField(label=_("Amount"))
    comment = forms.CharField(
        label=_("Comment"),
        max_length=MAX_COMMENT,
        widget=forms.Textarea(attrs={"rows": 2}),
        help_text=_("Why the budget changes; the manager sees it on their budget page."),
    )

    def __init__(self, *args, currency: Currency, **kwargs):
        super().__init__(*args, **kwargs)
        self.initial.setdefault("currency", currency.pk)
        self.use_currency(currency)

    def use_currency(self, currency: Currency) -> None:
        self.currency = currency
        whole_numbers_hint(self.fields["amount"], currency)

    def clean_currency(self):
        self.use_currency(self.cleaned_data["currency"] or services.get_currency())
        return self.currency

    def clean_amount(self):
        return checked_amount(self.cleaned_data["amount"], self.currency)

    def change(self):
        """The signed change: the amount, negative for a reduction."""
        data = self.cleaned_data
        return -data["amount"] if data["direction"] == "reduce" else data["amount"]


class BudgetBulkChangeForm(BulkSelectionForm, BudgetChangeForm):
    """The same change of the budgets of the managers selected in the table (`employees`), or of all it shows."""


class RejectRequestForm(forms.Form):
    reason = forms.CharField(
        label=_("Reason"),
        max_length=MAX_COMMENT,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text=_("The requester reads it in the e-mail and on their requests page."),
    )
