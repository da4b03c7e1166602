"""Services of the gift shop: orders and confirmation codes.

Orders never write ledger rows themselves: they call `services.reserve`, `capture`, `release`
and `refund`, and `services.run_idempotent` for an order posted twice. Each function runs in one
transaction, locks the gift (stock) before the account (points) so that two orders cannot
deadlock, and e-mails the employee after the commit.
"""

import math
import secrets
from datetime import datetime, timedelta

from django.contrib.auth.hashers import check_password, make_password
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from bonuses import rules, services

from . import notifications
from .exceptions import CodeBlocked, CodeError, OrderError, OrderStateError, OutOfStock
from .models import CodeGuard, ConfirmationCode, Gift, Order

CODE_LIFETIME = timedelta(seconds=300)
CODE_RESEND_AFTER = timedelta(seconds=60)
CODE_MAX_WRONG = 3
CODE_BLOCK = timedelta(hours=12)


def _moment(at: datetime | None) -> datetime:
    """The operation's moment: as given, or now."""
    return at or timezone.now()


def place_order(
    *,
    user,
    gift: Gift,
    quantity: int,
    actor=None,
    pickup_office: str = "",
    delivery_comment: str = "",
    code: str | None = None,
    idempotency_key: str | None = None,
    at: datetime | None = None,
) -> Order:
    """Reserve the stock and the points of an order in one transaction.

    An administrator ordering on an employee's behalf (at the gift desk) needs the code sent to the
    employee when the gift's currency requires confirmation; without it nothing is reserved.

    With an `idempotency_key` (made when the order form is shown), a repeat of the same request by the
    same actor is a no-op: it returns the first order, or the first refusal again, without checking a
    code, reserving points or taking stock a second time.
    """
    actor = actor or user
    if not isinstance(quantity, int) or quantity < 1:
        raise OrderError(_("Order at least one."))
    delivery_comment = rules.clean_comment(delivery_comment)
    confirming = Gift.objects.filter(pk=gift.pk).values_list("currency__requires_confirmation", flat=True).first()
    confirmation = []

    def check():  # outside the order's transaction: a wrong code counts even though the order is refused
        if actor.pk != user.pk and confirming:
            confirmation.append(_check_code(user=user, code=code or "", at=at))

    def run():
        if confirmation:
            _use_code(confirmation[0], _moment(at))  # used only if the order is placed
        locked = Gift.objects.select_for_update(of=("self",)).select_related("currency").get(pk=gift.pk)
        if not locked.is_active:
            raise OrderError(_("This gift is no longer available."))
        if locked.stock is not None and locked.stock < quantity:
            raise OutOfStock(
                _("Only %(left)d of %(gift)s left in stock.") % {"left": locked.stock, "gift": locked.name}
                if locked.stock
                else _("%(gift)s is out of stock.") % {"gift": locked.name}
            )
        moment = _moment(at)
        points = rules.clean_amount(locked.price * quantity, locked.currency, maximum=rules.MAX_BALANCE)
        order = Order.objects.create(
            user=user,
            gift=locked,
            quantity=quantity,
            unit_price=locked.price,
            points=points,
            currency=locked.currency,
            pickup_office=pickup_office,
            delivery_comment=delivery_comment,
            placed_by=actor,
            created_at=moment,
        )
        order.reservation = services.reserve(
            user=user,
            amount=order.points,
            reference=f"Order {order.number}",
            currency=locked.currency,
            at=at,
            actor=actor,
        )
        order.save(update_fields=["reservation"])
        if locked.stock is not None:
            locked.stock -= quantity
            locked.save(update_fields=["stock"])
        notifications.order_changed(order, "placed")
        return order

    # The code is no part of what identifies the request: it is kept nowhere but in its salted hash.
    payload = {
        "user": user.pk,
        "gift": gift.pk,
        "quantity": quantity,
        "pickup_office": pickup_office,
        "delivery_comment": delivery_comment,
    }
    return services.run_idempotent(actor, idempotency_key, "place_order", payload, run, check=check)


def _locked_order(order: Order, *allowed: str) -> Order:
    fresh = Order.objects.select_for_update(of=("self",)).select_related("reservation", "gift", "user").get(pk=order.pk)
    if fresh.status not in allowed:
        raise OrderStateError(
            _("Order %(number)s is %(status)s.") % {"number": fresh.number, "status": fresh.get_status_display()}
        )
    return fresh


def _restock(gift: Gift, quantity: int) -> None:
    locked = Gift.objects.select_for_update().get(pk=gift.pk)
    if locked.stock is not None:
        locked.stock += quantity
        locked.save(update_fields=["stock"])


def complete_order(order: Order, *, actor=None, at: datetime | None = None) -> Order:
    """The gift was handed over: the held points are spent."""
    with transaction.atomic():
        fresh = _locked_order(order, Order.Status.PENDING)
        entry = services.capture(fresh.reservation, at=at, actor=actor)
        fresh.status, fresh.completed_at = Order.Status.COMPLETED, entry.at
        fresh.save(update_fields=["status", "completed_at"])
        notifications.order_changed(fresh, "completed")
    return fresh


def cancel_order(order: Order, *, actor=None, at: datetime | None = None) -> Order:
    """A pending order is cancelled (by the employee or an administrator): points and stock go back."""
    with transaction.atomic():
        fresh = _locked_order(order, Order.Status.PENDING)
        _restock(fresh.gift, fresh.quantity)
        entry = services.release(fresh.reservation, at=at, actor=actor)
        fresh.status, fresh.cancelled_at = Order.Status.CANCELLED, entry.at
        fresh.save(update_fields=["status", "cancelled_at"])
        notifications.order_changed(fresh, "cancelled")
    return fresh


def return_order(order: Order, *, quantity: int | None = None, actor=None, at: datetime | None = None) -> Order:
    """A completed order comes back, in whole or in part: points refunded into their lots, stock back."""
    with transaction.atomic():
        fresh = _locked_order(order, *Order.RETURNABLE)
        left = fresh.quantity - fresh.returned_quantity
        quantity = left if quantity is None else quantity
        if not isinstance(quantity, int) or not 0 < quantity <= left:
            message = ngettext(
                "Only %(left)d item of this order can be returned.",
                "Between 1 and %(left)d items of this order can be returned.",
                left,
            )
            raise OrderError(message % {"left": left})
        _restock(fresh.gift, quantity)
        services.refund(fresh.reservation, amount=fresh.unit_price * quantity, at=at, actor=actor)
        fresh.returned_quantity += quantity
        fresh.status = (
            Order.Status.RETURNED if fresh.returned_quantity == fresh.quantity else Order.Status.PARTIALLY_RETURNED
        )
        fresh.save(update_fields=["returned_quantity", "status"])
        notifications.order_changed(fresh, "returned", quantity=quantity)
    return fresh


def deactivate_or_delete_gift(gift: Gift) -> bool:
    """A gift that was ever ordered is deactivated, never deleted; returns True when deleted."""
    if gift.orders.exists():
        Gift.objects.filter(pk=gift.pk).update(is_active=False)
        return False
    gift.delete()
    return True


# Confirmation codes ------------------------------------------------------------------------


def _lock_guard(user, moment: datetime) -> CodeGuard:
    guard, _created = CodeGuard.objects.select_for_update().get_or_create(user=user)
    if guard.blocked_until and guard.blocked_until <= moment:
        guard.wrong_entries, guard.blocked_until = 0, None
        guard.save(update_fields=["wrong_entries", "blocked_until"])
    if guard.blocked_until:
        raise CodeBlocked(
            _("Too many wrong codes: confirmation is blocked until %(until)s.")
            % {"until": timezone.localtime(guard.blocked_until).strftime("%Y-%m-%d %H:%M")}
        )
    return guard


def send_code(*, user, at: datetime | None = None) -> None:
    """Send a 6-digit code to the employee (by e-mail; the backend is pluggable, e.g. for SMS)."""
    moment = _moment(at)
    with transaction.atomic():
        guard = _lock_guard(user, moment)
        last = ConfirmationCode.objects.filter(user=user).order_by("-sent_at").first()
        if last and moment < last.sent_at + CODE_RESEND_AFTER:
            wait = math.ceil((last.sent_at + CODE_RESEND_AFTER - moment).total_seconds())
            raise CodeError(
                ngettext(
                    "A new code can be sent in %(seconds)d second.",
                    "A new code can be sent in %(seconds)d seconds.",
                    wait,
                )
                % {"seconds": wait}
            )
        code = f"{secrets.randbelow(10**6):06d}"
        ConfirmationCode.objects.create(
            user=user, code_hash=make_password(code), sent_at=moment, expires_at=moment + CODE_LIFETIME
        )
        guard.wrong_entries = 0  # a new code starts with all its attempts
        guard.save(update_fields=["wrong_entries"])
        notifications.confirmation_code(user, code)


def verify_code(*, user, code: str, at: datetime | None = None) -> None:
    """Accept the latest unexpired code once; three wrong entries of one code block for 12 hours."""
    _use_code(_check_code(user=user, code=code, at=at), _moment(at))


def _waiting_code(user, moment: datetime) -> ConfirmationCode:
    """The code to enter now: the latest one sent, unless it is used or expired (then nothing counts)."""
    latest = ConfirmationCode.objects.filter(user=user).order_by("-sent_at", "-pk").first()
    if latest is None or latest.used_at is not None:
        raise CodeError(_("There is no code to enter: send a code to the employee first."))
    if latest.expires_at <= moment:
        raise CodeError(_("The code has expired: send a new one."))
    return latest


def code_attempts_left(*, user, at: datetime | None = None) -> int | None:
    """How many entries the code waiting for this employee has left; None when no code is waiting."""
    moment = _moment(at)
    try:
        _waiting_code(user, moment)
    except CodeError:
        return None
    guard = CodeGuard.objects.filter(user=user).first()
    if guard and guard.blocked_until and guard.blocked_until > moment:
        return 0
    return CODE_MAX_WRONG - (guard.wrong_entries if guard else 0)


def _check_code(*, user, code: str, at: datetime | None = None) -> ConfirmationCode:
    """The code waiting for this employee, if `code` is it; else count the wrong entry and refuse.

    Only entries of a waiting code count (each new code starts with three attempts); with none sent,
    or the latest one used or expired, the refusal says so and counts nothing. The third wrong entry
    of one code blocks sending and entering codes for 12 hours. Call it outside any transaction that
    a refusal would roll back: the count must stay. The code is used (`_use_code`) in the transaction
    of what it confirms, so a refused order leaves it usable.
    """
    moment = _moment(at)
    with transaction.atomic():
        guard = _lock_guard(user, moment)
        latest = _waiting_code(user, moment)
        code = (code or "").strip()
        if code.isascii() and code.isdigit() and check_password(code, latest.code_hash):
            return latest
        guard.wrong_entries += 1
        if guard.wrong_entries >= CODE_MAX_WRONG:
            guard.blocked_until = moment + CODE_BLOCK
        guard.save(update_fields=["wrong_entries", "blocked_until"])
    if guard.blocked_until:
        raise CodeBlocked()
    raise CodeError(_("The code is wrong or has expired."))


def _use_code(confirmation: ConfirmationCode, moment: datetime) -> None:
    """Mark the code used, once: of two requests with the same code, the second is refused."""
    used = ConfirmationCode.objects.filter(pk=confirmation.pk, used_at__isnull=True).update(used_at=moment)
    if not used:
        raise CodeError(_("The code is wrong or has expired."))
