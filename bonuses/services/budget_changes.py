"""Administrators' changes of managers' budgets (models/budgets.py states the design): a top-up or a
reduction of one budget or of several (all or none), and setting a budget's allowance. Each is one movement
with its actor and comment, on the budget of the current period (opened if need be)."""

from datetime import datetime
from decimal import Decimal

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from .. import exceptions, rules
from ..models import ZERO, Budget, BudgetMovement, Currency
from ..roles import draws_on_budget
from ..rules import points
from .budgets import budget_for, post_movement
from .currency import get_currency

Kind = BudgetMovement.Kind


def _holder(manager) -> None:
    if not draws_on_budget(manager):
        raise exceptions.NoBudget(_("%(name)s does not grant from a budget.") % {"name": manager})


def _change(budget: Budget, change: Decimal, actor, comment: str, at: datetime) -> None:
    """Top up (+) or reduce (-) the locked budget; never below what was granted and is held."""
    currency = budget.currency
    if change < 0 and budget.left + change < 0:
        raise exceptions.BudgetBelowGranted(
            _(
                "%(name)s has used %(used)s of %(allowance)s %(currency)s: the budget can be reduced by at most "
                "%(left)s."
            )
            % {
                "name": budget.manager,
                "used": points(budget.granted + budget.held, currency),
                "allowance": points(budget.allowance, currency),
                "currency": currency.name,
                "left": points(budget.left, currency),
            }
        )
    if change > 0 and budget.allowance + change > rules.MAX_BALANCE:
        raise exceptions.AmountAboveMaximum(
            _("A budget can be at most %(max)s.") % {"max": rules.grouped(rules.MAX_BALANCE)}
        )
    if change:
        kind = Kind.TOP_UP if change > 0 else Kind.REDUCTION
        post_movement(budget, kind, change, at, actor=actor, comment=comment)


def _signed_amount(amount, currency: Currency, maximum: Decimal) -> Decimal:
    """A top-up (positive) or a reduction (negative), as the ledger reads amounts."""
    text = str(amount).strip()
    negative = text.startswith("-")
    value = rules.clean_amount(text[1:] if negative else amount, currency, maximum=maximum)
    return -value if negative else value


def _allowance(amount, currency: Currency) -> Decimal:
    """An allowance: zero, or an amount as the ledger reads it, at most rules.MAX_BALANCE."""
    try:
        return rules.clean_amount(amount, currency, maximum=rules.MAX_BALANCE)
    except exceptions.InvalidAmount:
        try:
            zero = not isinstance(amount, bool) and rules.parse_amount(str(amount)) == 0
        except exceptions.InvalidAmount:
            zero = False
        if zero:
            return ZERO
        raise


def top_up_budget(*, manager, amount, actor, currency: Currency | None = None, comment: str = "") -> Budget:
    """Top up (amount > 0) or reduce (amount < 0) the manager's budget of the current period."""
    return top_up_budgets(managers=[manager], amount=amount, actor=actor, currency=currency, comment=comment)[0]


def top_up_budgets(*, managers, amount, actor, currency: Currency | None = None, comment: str = "") -> list[Budget]:
    """The same top-up or reduction of several managers' budgets: all of them, or none (naming who not)."""
    currency = Currency.objects.get(pk=get_currency(currency).pk)  # its budget policy as stored now
    change = _signed_amount(amount, currency, rules.MAX_OPERATION)
    comment = rules.clean_comment(comment)
    people = sorted(managers, key=lambda person: person.pk)
    if not people:
        raise exceptions.NoEmployees(_("Select at least one manager."))
    refused, budgets = [], []
    with transaction.atomic():
        now = timezone.now()
        for manager in people:
            _holder(manager)
            budget = budget_for(manager, currency, now, actor=actor)
            try:
                _change(budget, change, actor, comment, now)
            except exceptions.BudgetBelowGranted as error:
                refused.append(error.message)
            budgets.append(budget)
        if refused and len(people) == 1:
            raise exceptions.BudgetBelowGranted(refused[0])
        if refused:  # raised inside the transaction: every change above is rolled back
            message = ngettext(
                "%(count)d budget cannot be reduced that much; nothing was changed. %(why)s",
                "%(count)d budgets cannot be reduced that much; nothing was changed. %(why)s",
                len(refused),
            )
            raise exceptions.BudgetBelowGranted(message % {"count": len(refused), "why": " ".join(refused[:5])})
    return budgets


def set_budget(*, manager, amount, actor, currency: Currency | None = None, comment: str = "") -> Budget:
    """Make the allowance of the manager's current budget `amount`: one movement for the difference."""
    currency = Currency.objects.get(pk=get_currency(currency).pk)  # its budget policy as stored now
    value = _allowance(amount, currency)
    comment = rules.clean_comment(comment)
    with transaction.atomic():
        _holder(manager)
        now = timezone.now()
        budget = budget_for(manager, currency, now, actor=actor)
        _change(budget, value - budget.allowance, actor, comment, now)
    return budget
