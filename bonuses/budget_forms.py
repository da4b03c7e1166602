"""Forms of the budgets screens: an administrator's top-up or reduction of one budget, or of several; and
the reason of a rejected grant request."""

from django import forms
from django.utils.translation import gettext_lazy as _

from giftshop.web.forms import AmountField

from .forms import BulkSelectionForm, TableCurrencyForm
from .rules import MAX_COMMENT


class BudgetChangeForm(TableCurrencyForm):
    """Top up or reduce a budget by an amount, with a comment saying why."""

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
