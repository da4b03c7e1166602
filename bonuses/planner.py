"""The settlement planner: first-expiring-first, and every event due on one account, in time order.

Pure functions on lots and an account (model instances or `LotState` rows): nothing here touches
the database, and it imports nothing of the app but `rules`. `plan_settlement` is the reference
for what a settlement posts; the set-based SQL in `services/settlement_sql.py` is its equivalent
for activations and expiries where no burn-out is due (`services/settlement.py` says which tests
prove it). `services` writes what it plans; `selectors.balance` plans on copies to read a balance.
"""

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from decimal import ROUND_HALF_UP, Decimal

from .rules import ZERO, burn_due_at


def fefo_key(lot):
    """Lots that expire first go first; lots without expiry last; ties to the oldest lot."""
    return (lot.expires_at is None, lot.expires_at or lot.accrued_at, lot.accrued_at, lot.pk or 0)


def spendable_lots(lots, at: datetime):
    return sorted(
        (
            lot
            for lot in lots
            if lot.is_activated and lot.remaining > 0 and (lot.expires_at is None or lot.expires_at > at)
        ),
        key=fefo_key,
    )


def take_fefo(lots, amount: Decimal, at: datetime) -> list[tuple[object, Decimal]]:
    """Take `amount` from the spendable lots, first-expiring first; mutates the lots."""
    taken, left = [], amount
    for lot in spendable_lots(lots, at):
        if left <= 0:
            break
        part = min(lot.remaining, left)
        lot.remaining -= part
        left -= part
        taken.append((lot, -part))
    if left > 0:
        raise AssertionError("take_fefo called with more than the spendable balance")
    return taken


@dataclass(slots=True)
class LotState:
    """What settlement needs of a lot; lighter than a model instance when there are 100,000."""

    pk: int
    account_id: int
    remaining: Decimal
    is_activated: bool
    activates_at: datetime | None
    expires_at: datetime | None
    accrued_at: datetime

    FIELDS = ("pk", "account_id", "remaining", "is_activated", "activates_at", "expires_at", "accrued_at")


@dataclass
class PlannedEvent:
    kind: str  # "activated", "expired" or "burned"
    at: datetime
    amount: Decimal  # signed, as the entry will carry it
    balance_after: Decimal
    allocations: list = field(default_factory=list)  # (lot, signed amount)
    lot: object = None


def plan_settlement(
    account, lots, until: datetime, burn_steps: list[dict] | None, quantum: Decimal = Decimal("0.01")
) -> list[PlannedEvent]:
    """Every activation, expiry and burn-out due by `until`, in time order.

    Mutates `account` (active, non_activated, expired, burned_steps) and `lots` as the events
    would; the caller writes them or, for a read, works on copies. `lots` must hold every lot of
    the account that is due, and every open lot where a burn-out is due. An event dated before
    the account's latest entry (points refunded into a lot that had expired) is dated at it.
    """
    floor = account.last_entry_at
    candidates = []
    for lot in lots:
        if not lot.is_activated and lot.activates_at and lot.activates_at <= until:
            candidates.append((lot.activates_at, 0, lot.pk or 0, "activated", lot))
        if lot.expires_at and lot.expires_at <= until and lot.remaining > 0:
            candidates.append((lot.expires_at, 1, lot.pk or 0, "expired", lot))
    candidates.sort(key=lambda c: c[:3])

    events: list[PlannedEvent] = []

    def dated(moment):
        return max(moment, floor) if floor else moment

    def burn_until(moment):
        while burn_steps and account.streak_started_at and account.burned_steps < len(burn_steps):
            step = burn_steps[account.burned_steps]
            due = burn_due_at(account.streak_started_at, step)
            if due is None or due > moment:
                return
            account.burned_steps += 1
            spendable = spendable_lots(lots, due)
            amount = min(
                account.active,
                (account.active * Decimal(str(step["percent"])) / 100).quantize(quantum, rounding=ROUND_HALF_UP),
            )
            if amount <= 0 or not spendable:
                continue
            allocations = take_fefo(lots, amount, due)
            account.active -= amount
            account.expired += amount
            events.append(PlannedEvent("burned", dated(due), -amount, account.active, allocations))

    for moment, _prio, _pk, kind, lot in candidates:
        burn_until(moment - timedelta(microseconds=1))
        if kind == "activated":
            lot.is_activated = True
            if lot.remaining > 0:
                account.non_activated -= lot.remaining
                account.active += lot.remaining
                events.append(PlannedEvent("activated", dated(moment), lot.remaining, account.active, [], lot))
        elif lot.remaining > 0:  # expired; a burn-out may have emptied it meanwhile
            amount = lot.remaining
            lot.remaining = ZERO
            if lot.is_activated:
                account.active -= amount
            else:  # cannot happen while lots expire after they activate; kept exact regardless
                account.non_activated -= amount
            account.expired += amount
            events.append(PlannedEvent("expired", dated(moment), -amount, account.active, [(lot, -amount)], lot))
    burn_until(until)
    return events
