"""Deductions and reservations: write-offs, and an order's points held, spent, released and refunded.

Points leave the lots first-expiring first (planner.take_fefo); a reservation remembers the lots
it took from (its entries' allocations), and points that come back (a release, a refund) go
into those same lots, latest-expiring first.
"""

from datetime import datetime
from decimal import Decimal

from django.db import transaction
from django.db.models import Q
from django.utils.translation import gettext as _

from .. import exceptions, planner, rules
from ..models import Account, Allocation, Currency, Entry, Lot, Reservation
from ..rules import points
from .core import ACCOUNT_FIELDS, lock_account, operation_moment, post_entry, require_aware
from .currency import get_currency
from .idempotency import normalised_payload_value, run_idempotent
from .settlement import settle_locked


def write_off(
    *,
    user,
    amount,
    actor,
    comment: str = "",
    currency: Currency | None = None,
    idempotency_key: str | None = None,
    at: datetime | None = None,
) -> Entry:
    """Take active points away (first-expiring first), as an administrator does with a comment."""
    currency, at = get_currency(currency), require_aware(at)
    payload = {"user": user.pk, "currency": currency.pk, "amount": normalised_payload_value(amount), "comment": comment}

    def run():
        value = rules.clean_amount(amount, currency)
        text = rules.clean_comment(comment)
        account, moment = _lock_and_settle(user, currency, at)
        taken = _take_first_expiring(account, value, moment)
        account.active -= value
        account.written_off += value
        account.total_accrued -= value
        entry = post_entry(
            account, Entry.Kind.MANUAL_WRITE_OFF, -value, moment, allocations=taken, actor=actor, comment=text
        )
        account.save(update_fields=ACCOUNT_FIELDS)
        return entry

    return run_idempotent(actor, idempotency_key, "write_off", payload, run)


def reserve(
    *, user, amount, reference: str, currency: Currency | None = None, at: datetime | None = None, actor=None
) -> Reservation:
    """Hold points for an order: they leave the active balance at once, first-expiring first."""
    currency, at = get_currency(currency), require_aware(at)
    value = rules.clean_amount(amount, currency, maximum=rules.MAX_BALANCE)  # an order's points may add up
    with transaction.atomic():
        account, at = _lock_and_settle(user, currency, at)
        _check_spendable(account)
        taken = _take_first_expiring(account, value, at)
        reservation = Reservation.objects.create(account=account, amount=value, reference=reference, created_at=at)
        account.active -= value
        account.reserved += value
        # A new order resets the inactivity streak of "burn-out from the last purchase".
        account.streak_started_at, account.burned_steps = at, 0
        post_entry(
            account,
            Entry.Kind.ORDER_RESERVED,
            -value,
            at,
            allocations=taken,
            reservation=reservation,
            actor=actor or user,
        )
        account.save(update_fields=ACCOUNT_FIELDS)
        return reservation


def capture(reservation: Reservation, *, at: datetime | None = None, actor=None) -> Entry:
    """Turn held points into spent points (the order is completed)."""
    at = require_aware(at)
    with transaction.atomic():
        account, fresh, at = _lock_reservation(reservation, at, Reservation.Status.HELD)
        _check_spendable(account)
        account.reserved -= fresh.amount
        account.spent += fresh.amount
        fresh.status, fresh.resolved_at = Reservation.Status.CAPTURED, at
        fresh.save(update_fields=["status", "resolved_at"])
        entry = post_entry(account, Entry.Kind.ORDER_SPENT, -fresh.amount, at, reservation=fresh, actor=actor)
        account.save(update_fields=ACCOUNT_FIELDS)
    reservation.refresh_from_db()
    return entry


def release(reservation: Reservation, *, at: datetime | None = None, actor=None) -> Entry:
    """Cancel the hold: the points go back into the lots they came from."""
    at = require_aware(at)
    with transaction.atomic():
        account, fresh, at = _lock_reservation(reservation, at, Reservation.Status.HELD)
        given = _give_back(fresh, fresh.amount)
        account.reserved -= fresh.amount
        account.active += fresh.amount
        fresh.status, fresh.resolved_at = Reservation.Status.RELEASED, at
        fresh.save(update_fields=["status", "resolved_at"])
        entry = post_entry(
            account, Entry.Kind.ORDER_RELEASED, fresh.amount, at, allocations=given, reservation=fresh, actor=actor
        )
        account.save(update_fields=ACCOUNT_FIELDS)
        # Points that went back into a lot that has meanwhile expired expire again now.
        settle_locked([account], [account.currency], at)
    reservation.refresh_from_db()
    return entry


def refund(reservation: Reservation, *, amount=None, at: datetime | None = None, actor=None) -> Entry:
    """Return spent points (a returned order, in whole or in part) into the lots they came from."""
    at = require_aware(at)
    with transaction.atomic():
        account, fresh, at = _lock_reservation(reservation, at, Reservation.Status.CAPTURED)
        refundable = fresh.amount - fresh.refunded
        value = (
            refundable if amount is None else rules.clean_amount(amount, account.currency, maximum=rules.MAX_BALANCE)
        )
        if value <= 0 or value > refundable:
            raise exceptions.InvalidAmount(
                _("At most %(refundable)s %(currency)s of this order can be refunded.")
                % {"refundable": points(refundable, account.currency), "currency": account.currency.name}
            )
        given = _give_back(fresh, value)
        account.spent -= value
        account.active += value
        fresh.refunded += value
        fresh.save(update_fields=["refunded"])
        entry = post_entry(
            account, Entry.Kind.ORDER_REFUNDED, value, at, allocations=given, reservation=fresh, actor=actor
        )
        account.save(update_fields=ACCOUNT_FIELDS)
        settle_locked([account], [account.currency], at)
    reservation.refresh_from_db()
    return entry


def _lock_and_settle(user, currency: Currency, at: datetime | None) -> tuple[Account, datetime]:
    """Lock the account, fix the operation's moment, and settle the account up to it."""
    account = lock_account(user, currency)
    at = operation_moment(at, account.last_entry_at)
    settle_locked([account], [currency], at)
    return account, at


def _lock_reservation(
    reservation: Reservation, at: datetime | None, expected: str
) -> tuple[Account, Reservation, datetime]:
    """Lock the account, then re-read the reservation (it resolves at most once); settle the account."""
    account = Account.objects.select_for_update(of=("self",)).select_related("currency").get(pk=reservation.account_id)
    fresh = Reservation.objects.select_for_update().get(pk=reservation.pk)
    if fresh.status != expected:
        raise exceptions.ReservationResolved(
            _("Reservation %(ref)s is %(status)s.") % {"ref": fresh.reference, "status": fresh.get_status_display()}
        )
    at = operation_moment(at, account.last_entry_at)
    settle_locked([account], [account.currency], at)
    return account, fresh, at


def _check_spendable(account: Account) -> None:
    if account.state == Account.State.BLOCKED:
        raise exceptions.AccountBlocked()
    if account.state == Account.State.ACCUMULATE_ONLY:
        raise exceptions.AccumulateOnly()


def _take_first_expiring(account: Account, amount: Decimal, at: datetime) -> list[tuple[Lot, Decimal]]:
    """Take `amount` from the account's spendable lots, first-expiring first (InsufficientBalance beyond them)."""
    if amount > account.active:
        raise exceptions.InsufficientBalance(
            _("Only %(active)s %(currency)s are available; %(amount)s were asked for.")
            % {
                "active": points(account.active, account.currency),
                "currency": account.currency.name,
                "amount": points(amount, account.currency),
            }
        )
    lots = list(
        Lot.objects.filter(account=account, is_activated=True, remaining__gt=0).filter(
            Q(expires_at__isnull=True) | Q(expires_at__gt=at)
        )
    )
    taken = planner.take_fefo(lots, amount, at)
    Lot.objects.bulk_update([lot for lot, _part in taken], ["remaining"])
    return taken


def _still_taken(reservation: Reservation) -> dict[int, Decimal]:
    """Per lot, what the reservation took and has not yet put back."""
    net: dict[int, Decimal] = {}
    for lot_id, part in Allocation.objects.filter(entry__reservation=reservation).values_list("lot_id", "amount"):
        net[lot_id] = net.get(lot_id, Decimal("0")) - part
    return {lot_id: part for lot_id, part in net.items() if part > 0}


def _give_back(reservation: Reservation, amount: Decimal) -> list[tuple[Lot, Decimal]]:
    """Put `amount` back into the lots the reservation took it from, latest-expiring first."""
    taken = _still_taken(reservation)
    lots = sorted(Lot.objects.filter(pk__in=taken), key=planner.fefo_key, reverse=True)
    given, left = [], amount
    for lot in lots:
        if left <= 0:
            break
        part = min(taken[lot.pk], left)
        lot.remaining += part
        left -= part
        given.append((lot, part))
    Lot.objects.bulk_update([lot for lot, _part in given], ["remaining"])
    return given
