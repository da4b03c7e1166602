"""Four-eyes approval of grants (models/approvals.py states the design): when a grant becomes a request,
the request's hold on the manager's budget, and an administrator's approval (the grant posted through the
accrual services, as the requester's) or rejection (the hold released). The requester hears of the decision
by e-mail, through the outbox, once it commits."""

from decimal import Decimal

from django.contrib.auth import get_user_model
from django.db import connection, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from giftshop.outbox import services as outbox

from .. import exceptions, rules
from ..models import Currency, GrantRequest
from ..roles import can_manage
from . import accrual
from .budgets import draw, give_back, post_movement

Status = GrantRequest.Status


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


def _lock(request: GrantRequest) -> GrantRequest:
    queryset = GrantRequest.objects.filter(pk=request.pk).select_related("requester", "currency", "budget")
    if connection.features.has_select_for_update:
        queryset = queryset.select_for_update(of=("self",))
    return queryset.get()


def _decider(request: GrantRequest, actor) -> None:
    if request.status != Status.PENDING:
        raise exceptions.RequestDecided(
            _("Request %(number)d was already %(status)s.")
            % {"number": request.pk, "status": request.get_status_display().lower()}
        )
    if actor.pk == request.requester_id:
        raise exceptions.SelfApproval()
    if not can_manage(actor):
        raise exceptions.NotAnApprover()


def release_hold(request: GrantRequest, at, actor) -> None:
    """Give the request's held points back to the budget they were held on (locked here)."""
    if request.budget_id is None:
        return
    from ..models import Budget

    queryset = Budget.objects.filter(pk=request.budget_id).select_related("currency", "manager")
    if connection.features.has_select_for_update:
        queryset = queryset.select_for_update(of=("self",))
    budget = queryset.get()
    comment = _("Request %(number)d") % {"number": request.pk}
    give_back(budget, "released", request.total, max(at, request.created_at), actor=actor, comment=comment)


def approve_request(request: GrantRequest, *, actor) -> GrantRequest:
    """Post the requested grant through the accrual services (the log's actor: the requester); the request
    records `actor` as its approver and links the batch or entry. All or nothing."""
    with transaction.atomic():
        request = _lock(request)
        _decider(request, actor)
        users = list(request.recipients.values_list("pk", flat=True))
        options = {
            "amount": request.amount,
            "actor": request.requester,
            "comment": request.comment,
            "currency": request.currency,
            "source": request.source,
            "expires_on": request.expires_on,
            "lifetime_days": request.lifetime_days,
            "activates_on": request.activates_on,
            "approval": request,
        }
        if request.operation == GrantRequest.Operation.ONE:
            request.entry = accrual.accrue(user=get_user_model().objects.get(pk=users[0]), **options)
        else:
            request.batch = accrual.accrue_many(users=users, **options)
        _decide(request, Status.APPROVED, actor, "")
    return request


def reject_request(request: GrantRequest, *, actor, reason: str) -> GrantRequest:
    """Refuse the request with a reason; what it held returns to the budget."""
    reason = rules.clean_comment(reason)
    if not reason:
        raise exceptions.ReasonRequired()
    with transaction.atomic():
        request = _lock(request)
        _decider(request, actor)
        release_hold(request, timezone.now(), actor)
        _decide(request, Status.REJECTED, actor, reason)
    return request


def _decide(request: GrantRequest, status: str, actor, reason: str) -> None:
    request.status, request.decided_by, request.decided_at, request.reason = status, actor, timezone.now(), reason
    request.save()
    subject, body, html = outbox.render(
        "bonuses/email/grant_request_decided",
        {
            "name": outbox.greeting_name(request.requester.full_name, request.requester.email),
            "request": request,
            "currency": request.currency,
            "approved": status == Status.APPROVED,
            "log_url": outbox.link("bonuses:log-list"),
        },
    )
    outbox.queue([(request.requester.email, subject, body, html)])
