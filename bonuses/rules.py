"""The ledger's rules as pure functions: day boundaries, limits, amounts, comments, burn-out steps.

Nothing here touches the database, and it imports nothing of the app but `exceptions`.
`planner.py` builds on it (first-expiring-first and the settlement plan); `services` applies
these rules and writes; `selectors` applies them to copies to read a balance at a moment.
Days are calendar days in the company time zone (settings.TIME_ZONE): an activation date means
active from 00:00 of that day; an expiry date means usable through 23:59:59 of that day, i.e.
expired from 00:00 of the next.
"""

import calendar
import re
from datetime import date, datetime, time, timedelta
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation

from django.utils import timezone
from django.utils.formats import date_format
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, ngettext

from .exceptions import (
    AmountAboveMaximum,
    BalanceAboveMaximum,
    CommentTooLong,
    InvalidAmount,
    InvalidDates,
    InvalidSettings,
)

ZERO = Decimal("0.00")
MAX_COMMENT = 1000
PERIOD_UNITS = ("days", "months", "years")
DEFAULT_BURN_STEPS = [{"period": 1, "unit": "years", "percent": 100}]

# Limits (README "Limits"). Far below what the amount columns hold (14 digits, 2 of them decimals), so
# that every figure, and the sums and totals made of them, can be stored and read back exactly.
# - One operation moves at most MAX_OPERATION: an accrual (each employee's amount in a bulk accrual),
#   a write-off, a gift's price.
# - One account is credited at most MAX_BALANCE in all (every accrual, the written-off ones too). Its
#   figures are parts of what it was credited, so each of them stays within it; the database refuses
#   any stored figure beyond it.
# - Dates, lifetimes, delays and periods reach at most MAX_YEARS ahead.
MAX_OPERATION = Decimal("10000000.00")
MAX_BALANCE = Decimal("1000000000.00")
MAX_YEARS = 100
MAX_DAYS = 36_525  # 100 years of days
MAX_PERIOD = {"days": MAX_DAYS, "months": 12 * MAX_YEARS, "years": MAX_YEARS}


def is_whole(value: Decimal, currency) -> bool:
    """Whether `value` is shown (and exported) without decimals: whole, in a whole-number currency."""
    return bool(getattr(currency, "whole_numbers", False)) and value == value.to_integral_value()


def points(value: Decimal | None, currency=None, signed: bool = False) -> str:
    """An amount as every screen, export and message shows it: 12345.5 -> "12,345.50"; 1200 in a whole-number
    currency -> "1,200" (a fraction is never hidden); `signed` adds "+" or "-"."""
    if value is None or value == "":
        return ""
    value = Decimal(value)
    places = 0 if is_whole(value, currency) else 2
    return f"{value:+,.{places}f}" if signed else f"{value:,.{places}f}"


def grouped(value) -> str:
    """A limit as people read it: 10000000 -> "10,000,000"; 10.5 -> "10.50"."""
    value = Decimal(value)
    return f"{value:,.0f}" if value == value.to_integral_value() else f"{value:,.2f}"


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


BUDGET_PERIODS = {"month": 1, "quarter": 3, "year": 12}  # months in each kind of budget period


def budget_period(day: date, period: str) -> tuple[date, date]:
    """The first and the last day of the budget period (a calendar month, quarter or year) containing `day`."""
    months = BUDGET_PERIODS[period]
    first = date(day.year, (day.month - 1) // months * months + 1, 1)
    return first, add_period(first, months, "months") - timedelta(days=1)


def period_label(period: str, start: date) -> str:
    """A budget period as people name it: "March 2026", "Q1 2026", "2026"."""
    if period == "month":
        return date_format(start, "F Y")
    if period == "quarter":
        return _("Q%(quarter)d %(year)d") % {"quarter": (start.month - 1) // 3 + 1, "year": start.year}
    return str(start.year)


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
    if lifetime_days is not None:
        check_lifetime_days(lifetime_days)
    if expires_on is not None:
        check_expiry_date(expires_on, today)
    if activates_on is not None:
        check_activation_date(activates_on, today)
    check_currency_periods(currency)

    if activates_on is not None:
        activation_day = activates_on
    elif currency.activation_delay_days:
        activation_day = today + timedelta(days=currency.activation_delay_days)
    else:
        activation_day = None
    activates_at = start_of_day(activation_day) if activation_day and activation_day > today else None

    if expires_on is not None:
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


def farthest_day(today: date) -> date:
    """The last day an accrual may name as its expiry or activation: 100 years from today."""
    return add_period(today, MAX_YEARS, "years")


def check_lifetime_days(days) -> None:
    if isinstance(days, bool) or not isinstance(days, int) or not 1 <= days <= MAX_DAYS:
        raise InvalidDates(
            _("The lifetime must be a whole number of days from 1 to %(max)s (100 years).") % {"max": grouped(MAX_DAYS)}
        )


def check_expiry_date(day: date, today: date) -> None:
    if day < today:
        raise InvalidDates(_("The expiry date is in the past."))
    if day > farthest_day(today):
        raise InvalidDates(
            _("The expiry date can be at most 100 years ahead: %(last)s at the latest.")
            % {"last": farthest_day(today).isoformat()}
        )


def check_activation_date(day: date, today: date) -> None:
    if day > farthest_day(today):
        raise InvalidDates(
            _("The activation date can be at most 100 years ahead: %(last)s at the latest.")
            % {"last": farthest_day(today).isoformat()}
        )


def period_within_limit(value, unit) -> bool:
    """At most 100 years in its unit (36,525 days, 1,200 months or 100 years)."""
    return unit in MAX_PERIOD and value <= MAX_PERIOD[unit]


def check_currency_periods(currency) -> None:
    """Refuse to apply an activation delay or a lifetime stored beyond 100 years (by an older version)."""
    if (currency.activation_delay_days or 0) > MAX_DAYS:
        raise InvalidSettings(
            _("The activation delay of %(currency)s is more than 100 years: correct it in the currency's settings.")
            % {"currency": currency.name}
        )
    lifetime = currency.lifetime_value
    if (
        currency.burn_policy == "from_crediting"
        and lifetime
        and not period_within_limit(lifetime, currency.lifetime_unit)
    ):
        raise InvalidSettings(
            _("The lifetime of %(currency)s is more than 100 years: correct it in the currency's settings.")
            % {"currency": currency.name}
        )


def day_after(day: date, days: int) -> date | None:
    """`days` calendar days after `day`; None when that is beyond the calendar."""
    try:
        return day + timedelta(days=days)
    except OverflowError:
        return None


# Amounts -----------------------------------------------------------------------------------

NOT_A_NUMBER = gettext_lazy("Enter the amount in digits, for example 1250 or 1,250.50.")
UNCLEAR = gettext_lazy(
    "The separators are unclear: use a point for decimals and spaces or commas between groups of three digits, "
    "for example 1 250.50 or 1,250.50."
)
# What a person types: digits (ASCII only), optionally in groups of three separated by spaces (also
# no-break and narrow no-break ones, as word processors and some locales write them) or by commas
# (as the product shows amounts: "12,345.50"), then a point and decimals. A comma is a decimal
# separator only where it is the only separator and 1 or 2 digits follow ("12,5"). static/js/accrual.js
# (updateTotal) reads amounts the same way.
_SPACES = " \u00a0\u202f"
_GROUPED = re.compile(
    rf"(?P<sign>[-+]?)(?P<whole>[0-9]+|[1-9][0-9]{{0,2}}(?P<sep>[{_SPACES},])[0-9]{{3}}(?:(?P=sep)[0-9]{{3}})*)?"
    r"(?:\.(?P<fraction>[0-9]+))?",
    re.ASCII,
)
_DECIMAL_COMMA = re.compile(r"(?P<sign>[-+]?)(?P<whole>[0-9]+),(?P<fraction>[0-9]{1,2})", re.ASCII)
_NUMBER_LIKE = re.compile(rf"[-+]?[0-9{_SPACES},.]*[0-9][0-9{_SPACES},.]*", re.ASCII)


def parse_amount(text: str) -> Decimal:
    """The number in `text` as a person types it (see above), or InvalidAmount saying what is wrong."""
    text = str(text).strip()
    match = _GROUPED.fullmatch(text) or _DECIMAL_COMMA.fullmatch(text)
    if match and (match["whole"] or match["fraction"]):
        whole = re.sub(rf"[{_SPACES},]", "", match["whole"] or "0")
        return Decimal(f"{match['sign']}{whole}.{match['fraction'] or '0'}")
    raise InvalidAmount(UNCLEAR if _NUMBER_LIKE.fullmatch(text) else NOT_A_NUMBER)


def clean_amount(amount, currency, *, maximum: Decimal | None = None) -> Decimal:
    """The amount as a Decimal with two places, or InvalidAmount with the reason.

    Text is read as a person types it (`parse_amount`); `currency` None skips its whole-number rule;
    `maximum` is MAX_OPERATION unless given (a reservation or a refund may reach MAX_BALANCE).
    """
    maximum = MAX_OPERATION if maximum is None else maximum
    if isinstance(amount, bool):
        raise InvalidAmount(NOT_A_NUMBER)
    if isinstance(amount, Decimal):
        value = amount
    elif isinstance(amount, int):
        value = Decimal(amount)
    elif isinstance(amount, float):
        value = Decimal(repr(amount)) if amount == amount and abs(amount) != float("inf") else Decimal("NaN")
    else:
        value = parse_amount(amount)
    if not value.is_finite():
        raise InvalidAmount(NOT_A_NUMBER)
    if value <= 0:
        raise InvalidAmount(_("Enter an amount greater than zero."))
    if value > maximum:
        raise AmountAboveMaximum(
            _("The amount is more than %(max)s, the maximum for one operation.") % {"max": grouped(maximum)}
        )
    if value != value.quantize(Decimal("0.01"), rounding=ROUND_HALF_UP):
        raise InvalidAmount(_("Use at most two decimal places."))
    if currency is not None and currency.whole_numbers and value != value.to_integral_value():
        raise InvalidAmount(_("%(currency)s are whole numbers only.") % {"currency": currency.name})
    return value.quantize(Decimal("0.01"))


def check_balance_room(over: list[tuple[str, Decimal]], currency, *, one: bool) -> None:
    """Refuse an accrual that would take accounts past MAX_BALANCE credited in all.

    `over` holds (name, credited so far) of the accounts that would pass it; `one` says whether the
    accrual goes to one employee (the message then says how much more is possible).
    """
    if not over:
        return
    limit = grouped(MAX_BALANCE)
    if one:
        name, credited = over[0]
        room = max(MAX_BALANCE - credited, ZERO)
        raise BalanceAboveMaximum(
            _(
                "%(name)s can be credited at most %(room)s more %(currency)s: "
                "one account may be credited %(max)s in all."
            )
            % {"name": name, "room": points(room, currency), "currency": currency.name, "max": limit}
        )
    names = some_names([name for name, _credited in over])
    raise BalanceAboveMaximum(
        ngettext(
            "%(count)d employee would pass the %(max)s %(currency)s one account may be credited in all (%(names)s); "
            "nothing was accrued.",
            "%(count)d employees would pass the %(max)s %(currency)s one account may be credited in all (%(names)s); "
            "nothing was accrued.",
            len(over),
        )
        % {"count": len(over), "max": limit, "currency": currency.name, "names": names}
    )


def some_names(names: list[str], shown: int = 5) -> str:
    """The first few of these names for a message, and how many more there are."""
    text = ", ".join(names[:shown])
    more = len(names) - shown
    if more > 0:
        text = ngettext("%(names)s and %(count)d more", "%(names)s and %(count)d more", more) % {
            "names": text,
            "count": more,
        }
    return text


def clean_comment(comment: str | None) -> str:
    comment = (comment or "").strip()
    if len(comment) > MAX_COMMENT:
        raise CommentTooLong(_("The comment is longer than %(max)d characters.") % {"max": MAX_COMMENT})
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
        if not period_within_limit(period, unit):
            raise InvalidSettings(
                _("Step %(n)d: the period can be at most 100 years (%(days)s days or %(months)s months).")
                % {"n": number, "days": grouped(MAX_DAYS), "months": grouped(MAX_PERIOD["months"])}
            )
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


def burn_due_at(streak_started_at: datetime, step: dict) -> datetime | None:
    """After a full period without an order (counted in days like a lifetime), from 00:00.

    None when that is beyond the calendar (a step stored by an older version): it is never due.
    """
    try:
        return expiry_instant(add_period(local_date(streak_started_at), int(step["period"]), step["unit"]))
    except (OverflowError, ValueError):
        return None


def burn_cutoff(step: dict, at: datetime) -> datetime | None:
    """The streaks started before this moment, and only those, have `step` due by `at`.

    `burn_due_at` is 00:00 of the day after the period ends; so is this cutoff, found by going the
    period back from `at` in calendar days of the company time zone (a period of N days is not N
    times 24 hours when a clock change falls into it). None: no streak can have it due yet.
    """
    period, unit = int(step["period"]), step["unit"]
    last = local_date(at) - timedelta(days=1)  # the period must have ended by this day
    try:
        start = add_period(last, -period, unit)
        # Months and years clamp at a month's end (31 January + 1 month = 28 February): later days may map there too.
        while add_period(start + timedelta(days=1), period, unit) <= last:
            start += timedelta(days=1)
        return start_of_day(start + timedelta(days=1))
    except (OverflowError, ValueError):
        return None


def burn_steps_in_force(currency) -> list[dict] | None:
    """The burn-out steps that apply to the currency's accounts: None unless it burns from the last purchase."""
    if currency.burn_policy != "from_last_purchase":
        return None
    return currency.burn_steps or DEFAULT_BURN_STEPS


def burn_step_due(account, steps: list[dict] | None, at: datetime) -> bool:
    """Whether the account's next burn-out step (of `steps`) is due by `at`."""
    if not (steps and account.streak_started_at and account.burned_steps < len(steps)):
        return False
    due = burn_due_at(account.streak_started_at, steps[account.burned_steps])
    return due is not None and due <= at
