"""The ledger's rules as pure functions: day boundaries, amounts, first-expiring-first, settlement.

Nothing here touches the database. `services` applies these rules and writes; `selectors`
applies the same rules to copies to read a balance at a moment. Days are calendar days in the
company time zone (settings.TIME_ZONE): an activation date means active from 00:00 of that day;
an expiry date means usable through 23:59:59 of that day, i.e. expired from 00:00 of the next.
"""

import calendar
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from decimal import ROUND_CEILING, ROUND_HALF_UP, Decimal, InvalidOperation

from django.utils import timezone
from django.utils.translation import gettext as _

from .exceptions import InvalidAmount, InvalidDates, InvalidSettings

ZERO = Decimal("0.00")
MAX_AMOUNT = Decimal("999999999999.99")
MAX_COMMENT = 1000
PERIOD_UNITS = ("days", "months", "years")
DEFAULT_BURN_STEPS = [{"period": 1, "unit": "years", "percent": 100}]


# Days and instants -------------------------------------------------------------------------


def local_date(moment: datetime) -> date:
    return timezone.localtime(moment, timezone.get_default_timezone()).date()


def start_of_day(day: date) -> datetime:
    return datetime.combine(day, time.min, tzinfo=timezone.get_default_timezone())


def add_period(day: date, value: int, unit: str) -> date:
    if unit == "days":
        return day + timedelta(days=value)
    months = value * 12 if unit == "years" else value
    month_index = day.month - 1 + months
    year, month = day.year + month_index // 12, month_index % 12 + 1
    return date(year, month, min(day.day, calendar.monthrange(year, month)[1]))


def expiry_instant(day: date) -> datetime:
    """Points with this expiry date are usable through 23:59:59 of it."""
    return start_of_day(day + timedelta(days=1))


def last_usable_day(expires_at: datetime) -> date:
    return local_date(expires_at) - timedelta(days=1)


def lot_timing(
    *, at: datetime, currency, expires_on=None, lifetime_days=None, activates_on=None
) -> tuple[datetime | None, datetime | None]:
    """(activates_at, expires_at) of a lot credited at `at`; None where it applies at once / never."""
    today = local_date(at)
    if expires_on is not None and lifetime_days is not None:
        raise InvalidDates(_("Give either an expiry date or a lifetime, not both."))
    if lifetime_days is not None and (not isinstance(lifetime_days, int) or lifetime_days < 1):
        raise InvalidDates(_("The lifetime must be a whole number of days, at least 1."))

    if activates_on is not None:
        activation_day = activates_on
    elif currency.activation_delay_days:
        activation_day = today + timedelta(days=currency.activation_delay_days)
    else:
        activation_day = None
    activates_at = start_of_day(activation_day) if activation_day and activation_day > today else None

    if expires_on is not None:
        if expires_on < today:
            raise InvalidDates(_("The expiry date is in the past."))
        last_day = expires_on
    elif lifetime_days is not None:
        last_day = today + timedelta(days=lifetime_days)
    elif currency.burn_policy == "from_crediting" and currency.lifetime_value:
        last_day = add_period(today, currency.lifetime_value, currency.lifetime_unit)
    else:
        last_day = None
    expires_at = expiry_instant(last_day) if last_day else None
    if expires_at and activates_at and expires_at <= activates_at:
        raise InvalidDates(_("The points would expire before they activate."))
    return activates_at, expires_at


# Amounts -----------------------------------------------------------------------------------


def clean_amount(amount, currency) -> Decimal:
    """The amount as a Decimal with two places, or InvalidAmount with the reason."""
    if isinstance(amount, float):
        amount = repr(amount)
    try:
        value = Decimal(str(amount).strip()) if not isinstance(amount, Decimal) else amount
    except (InvalidOperation, ValueError):
        raise InvalidAmount(_("Enter a number.")) from None
    if not value.is_finite():
        raise InvalidAmount(_("Enter a number."))
    if value <= 0:
        raise InvalidAmount(_("Enter an amount greater than zero."))
    if value > MAX_AMOUNT:
        raise InvalidAmount(_("The amount is too large."))
    if value != value.quantize(Decimal("0.01"), rounding=ROUND_HALF_UP):
        raise InvalidAmount(_("Use at most two decimal places."))
    if currency.whole_numbers and value != value.to_integral_value():
        raise InvalidAmount(_("%(currency)s are whole numbers only.") % {"currency": currency.name})
    return value.quantize(Decimal("0.01"))


def round_computed(amount: Decimal, currency) -> Decimal:
    """A computed accrual (e.g. a percentage): up to the next whole number where required."""
    return Decimal(amount).quantize(currency.quantum, rounding=ROUND_CEILING).quantize(Decimal("0.01"))


def clean_comment(comment: str | None) -> str:
    comment = (comment or "").strip()
    if len(comment) > MAX_COMMENT:
        raise InvalidAmount(_("The comment is longer than %(max)d characters.") % {"max": MAX_COMMENT})
    return comment


# Burn-out steps ----------------------------------------------------------------------------


def clean_burn_steps(steps) -> list[dict]:
    """Steps ordered by period, each longer than the one before, percentages rising, 100% last only."""
    if not steps:
        raise InvalidSettings(_("Give at least one burn-out step."))
    cleaned, previous = [], None
    for number, step in enumerate(steps, start=1):
        try:
            period, unit, percent = int(step["period"]), step["unit"], Decimal(str(step["percent"]))
        except (KeyError, TypeError, ValueError, InvalidOperation):
            raise InvalidSettings(_("Step %(n)d needs a period, a unit and a percentage.") % {"n": number}) from None
        if unit not in PERIOD_UNITS or period < 1:
            raise InvalidSettings(_("Step %(n)d: the period must be at least one day, month or year.") % {"n": number})
        if not 0 < percent <= 100:
            raise InvalidSettings(_("Step %(n)d: the percentage must be above 0 and at most 100.") % {"n": number})
        if percent == 100 and number != len(steps):
            raise InvalidSettings(_("Only the last step may burn 100%."))
        reference = date(2000, 1, 1)
        length = add_period(reference, period, unit)
        if previous is not None:
            if length <= add_period(reference, previous["period"], previous["unit"]):
                raise InvalidSettings(_("Step %(n)d must be longer than the step before it.") % {"n": number})
            if percent <= Decimal(str(previous["percent"])):
                raise InvalidSettings(
                    _("Step %(n)d must burn a higher percentage than the step before.") % {"n": number}
                )
        previous = {"period": period, "unit": unit, "percent": str(percent)}
        cleaned.append(previous)
    return cleaned


def burn_due_at(streak_started_at: datetime, step: dict) -> datetime:
    """After a full period without an order (counted in days like a lifetime), from 00:00."""
    return expiry_instant(add_period(local_date(streak_started_at), int(step["period"]), step["unit"]))


# First-expiring-first and settlement -------------------------------------------------------


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
            if due > moment:
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
