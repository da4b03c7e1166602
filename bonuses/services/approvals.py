"""Four-eyes approval of grants (models/approvals.py states the design): an administrator's approval of a
grant request (the grant posted through the accrual services, as the requester's) or rejection (the hold
released; the request and its hold are made in grant_requests.py). The requester hears of the decision
by e-mail, through the outbox, once it commits."""

from django.contrib.auth import get_user_model
from django.db import connection, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from giftshop.outbox import services as outbox

from .. import exceptions, rules
from ..models import GrantRequest
from ..roles import can_manage
from . import accrual
from .grant_requests import release_hold

Status = GrantRequest.Status


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
