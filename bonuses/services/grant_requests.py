"""Grant requests (models/approvals.py states the design): whether a grant needs a second person's approval,
the request it becomes, with its hold on the manager's budget, and the hold's release. The accrual services
call these; deciding a request (approvals.py) posts it through them."""

from decimal import Decimal

from django.db import connection
from django.utils.translation import gettext as _

from ..models import Budget, Currency, GrantRequest
from ..roles import can_manage
from .budgets import draw, give_back, post_movement


def needs_approval(currency: Currency, *, from_budget: bool, bulk: bool, amount: Decimal, total: Decimal) -> bool:
    """Whether the currency's approval policy turns this grant into a request."""
    if not currency.approval_required:
        return False
    if from_budget:
        per_employee, in_all = currency.approval_per_employee, currency.approval_total
        return (per_employee is not None and amount > per_employee) or (bulk and in_all is not None and total > in_all)
    return bulk and currency.approval_admin_total is not None and total > currency.approval_admin_total


def create_request(*, actor, currency: Currency, operation: str, user_ids: list[int], options: dict, amount, at):
    """The request a grant becomes (the caller checked scope and policy); a manager's holds its points on
    their budget, refused as a whole (BudgetExceeded) when they are more than what is left."""
    total = amount * len(user_ids)
    budget = None
    if currency.budget_period and not can_manage(actor):
        budget = draw(actor, currency, total, at)
    request = GrantRequest.objects.create(
        requester=actor,
        currency=currency,
        operation=operation,
        employee_count=len(user_ids),
        amount=amount,
        total=total,
        comment=options["comment"],
        source=options["source"],
        expires_on=options["expires_on"],
        lifetime_days=options["lifetime_days"],
        activates_on=options["activates_on"],
        created_at=at,
        budget=budget,
    )
    request.recipients.set(user_ids)
    if budget is not None:
        post_movement(budget, "held", -total, at, actor=actor, comment=_("Request %(number)d") % {"number": request.pk})
    return request


def release_hold(request: GrantRequest, at, actor) -> None:
    """Give the request's held points back to the budget they were held on (locked here)."""
    if request.budget_id is None:
        return
    queryset = Budget.objects.filter(pk=request.budget_id).select_related("currency", "manager")
    if connection.features.has_select_for_update:
        queryset = queryset.select_for_update(of=("self",))
    budget = queryset.get()
    comment = _("Request %(number)d") % {"number": request.pk}
    give_back(budget, "released", request.total, max(at, request.created_at), actor=actor, comment=comment)
