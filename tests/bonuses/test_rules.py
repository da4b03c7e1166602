"""The pure rules (bonuses/rules.py), without the database: day boundaries, periods, the timing of a lot,
amounts as people type them, comments and burn-out steps (the planner: test_planner.py)."""

from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from types import SimpleNamespace

import pytest

from bonuses import rules
from bonuses.exceptions import AmountAboveMaximum, CommentTooLong, InvalidAmount, InvalidDates
from tests.helpers import LOOSE, READ_AS

BERLIN = "Europe/Berlin"


@pytest.fixture(autouse=True)
def _berlin(settings):
    settings.TIME_ZONE = BERLIN


# Days and instants ---------------------------------------------------------------------------


def test_a_day_starts_at_00_00_in_the_company_time_zone():
    start = rules.start_of_day(date(2026, 7, 1))
    assert start.astimezone(UTC) == datetime(2026, 6, 30, 22, 0, tzinfo=UTC)  # summer time: UTC+2
    assert rules.local_date(start) == date(2026, 7, 1)
    assert rules.local_date(start - timedelta(microseconds=1)) == date(2026, 6, 30)


def test_points_expiring_on_a_day_are_usable_through_its_last_second():
    expires_at = rules.expiry_instant(date(2026, 3, 4))
    assert expires_at == rules.start_of_day(date(2026, 3, 5))
    assert rules.last_usable_day(expires_at) == date(2026, 3, 4)


def test_the_day_of_the_clock_change_has_23_hours():
    change = date(2026, 3, 29)
    length = rules.start_of_day(change + timedelta(days=1)).astimezone(UTC) - rules.start_of_day(change).astimezone(UTC)
    assert length == timedelta(hours=23)  # (subtracting in the zone itself would count wall-clock hours)
    assert rules.expiry_instant(change) == rules.start_of_day(date(2026, 3, 30))


@pytest.mark.parametrize(
    ("day", "value", "unit", "expected"),
    [
        (date(2026, 1, 31), 1, "months", date(2026, 2, 28)),
        (date(2028, 1, 31), 1, "months", date(2028, 2, 29)),  # a leap year
        (date(2026, 3, 31), -1, "months", date(2026, 2, 28)),
        (date(2026, 1, 31), 3, "months", date(2026, 4, 30)),
        (date(2026, 11, 30), 3, "months", date(2027, 2, 28)),
        (date(2028, 2, 29), 1, "years", date(2029, 2, 28)),
        (date(2028, 2, 29), 4, "years", date(2032, 2, 29)),
        (date(2026, 12, 31), 1, "days", date(2027, 1, 1)),
        (date(2026, 3, 1), -1, "days", date(2026, 2, 28)),
    ],
)
def test_add_period_clamps_to_the_end_of_a_shorter_month(day, value, unit, expected):
    assert rules.add_period(day, value, unit) == expected


def test_a_day_beyond_the_calendar_is_none():
    assert rules.day_after(date(9999, 12, 30), 5) is None
    assert rules.day_after(date(2026, 1, 1), 5) == date(2026, 1, 6)


# The timing of a lot ------------------------------------------------------------------------------


def currency(**settings):
    """The settings `rules.lot_timing` reads of a currency: none by default."""
    fields = {"name": "Bonuses", "activation_delay_days": 0, "burn_policy": "never", "lifetime_value": None}
    return SimpleNamespace(**{**fields, "lifetime_unit": "days", **settings})


def at(month: int, day: int, hour: int, minute: int = 0) -> datetime:
    return rules.start_of_day(date(2026, month, day)) + timedelta(hours=hour, minutes=minute)


def test_an_activation_date_means_active_from_its_00_00():
    timing = rules.lot_timing(at=at(3, 3, 15), currency=currency(), activates_on=date(2026, 3, 15))
    assert timing == (rules.start_of_day(date(2026, 3, 15)), None)
    # Today, or no date and no delay: active at once.
    assert rules.lot_timing(at=at(3, 3, 15), currency=currency(), activates_on=date(2026, 3, 3)) == (None, None)
    assert rules.lot_timing(at=at(3, 3, 15), currency=currency()) == (None, None)


def test_an_activation_delay_counts_calendar_days_from_the_day_of_crediting():
    """Credited at 23:30 with a delay of 2 days: active from 00:00 two days later, not 48 hours later."""
    activates_at, expires_at = rules.lot_timing(at=at(3, 3, 23, 30), currency=currency(activation_delay_days=2))
    assert (activates_at, expires_at) == (rules.start_of_day(date(2026, 3, 5)), None)
    # An activation date given with the accrual wins over the currency's delay.
    timing = rules.lot_timing(
        at=at(3, 3, 9), currency=currency(activation_delay_days=2), activates_on=date(2026, 3, 10)
    )
    assert timing == (rules.start_of_day(date(2026, 3, 10)), None)


def test_a_lifetime_of_n_days_is_usable_through_day_d_plus_n():
    _activates_at, expires_at = rules.lot_timing(at=at(3, 1, 8), currency=currency(), lifetime_days=3)
    assert expires_at == rules.start_of_day(date(2026, 3, 5))  # expired from 00:00 of D+N+1
    assert rules.last_usable_day(expires_at) == date(2026, 3, 4)  # usable through D+N


def test_an_expiry_date_is_usable_through_its_last_second_and_may_be_today():
    _activates_at, expires_at = rules.lot_timing(at=at(3, 1, 8), currency=currency(), expires_on=date(2026, 3, 10))
    assert expires_at == rules.start_of_day(date(2026, 3, 11))
    _activates_at, today = rules.lot_timing(at=at(3, 1, 23, 59), currency=currency(), expires_on=date(2026, 3, 1))
    assert today == rules.start_of_day(date(2026, 3, 2))


@pytest.mark.parametrize(
    ("crediting", "value", "unit", "last_day"),
    [
        (date(2026, 1, 31), 1, "months", date(2026, 2, 28)),
        (date(2028, 1, 31), 1, "months", date(2028, 2, 29)),
        (date(2026, 8, 31), 1, "months", date(2026, 9, 30)),
        (date(2028, 2, 29), 1, "years", date(2029, 2, 28)),
        (date(2026, 12, 31), 30, "days", date(2027, 1, 30)),
    ],
)
def test_a_lifetime_from_the_date_of_crediting_ends_on_the_same_day_of_a_later_month(crediting, value, unit, last_day):
    policy = currency(burn_policy="from_crediting", lifetime_value=value, lifetime_unit=unit)
    _activates_at, expires_at = rules.lot_timing(at=rules.start_of_day(crediting), currency=policy)
    assert rules.last_usable_day(expires_at) == last_day


@pytest.mark.parametrize(
    ("options", "message"),
    [
        ({"expires_on": date(2026, 2, 28)}, "The expiry date is in the past."),
        ({"expires_on": date(2026, 3, 20), "lifetime_days": 5}, "Give either an expiry date or a lifetime, not both."),
        (
            {"activates_on": date(2026, 3, 10), "expires_on": date(2026, 3, 9)},
            "The points would expire before they activate.",
        ),
        ({"activates_on": date(2026, 3, 10), "lifetime_days": 8}, "The points would expire before they activate."),
    ],
)
def test_dates_that_contradict_each_other_are_refused(options, message):
    with pytest.raises(InvalidDates) as refused:
        rules.lot_timing(at=at(3, 1, 12), currency=currency(), **options)
    assert refused.value.message == message


def test_points_that_activate_on_their_last_usable_day_are_accepted():
    timing = rules.lot_timing(at=at(3, 1, 12), currency=currency(), activates_on=date(2026, 3, 9), lifetime_days=8)
    assert timing == (rules.start_of_day(date(2026, 3, 9)), rules.start_of_day(date(2026, 3, 10)))


# Amounts and comments ---------------------------------------------------------------------------


@pytest.mark.parametrize(("text", "value"), READ_AS.items())
def test_an_amount_is_read_as_a_person_types_it(text, value):
    assert rules.parse_amount(text) == Decimal(value)


@pytest.mark.parametrize(("text", "message"), LOOSE.values(), ids=LOOSE.keys())
def test_loose_numbers_are_refused_with_a_clear_message(text, message):
    with pytest.raises(InvalidAmount) as refused:
        rules.parse_amount(text)
    assert refused.value.message == message


@pytest.mark.parametrize(
    ("amount", "value"),
    [
        (Decimal("0.01"), Decimal("0.01")),
        (5, Decimal("5.00")),
        (0.1, Decimal("0.10")),  # a float as written, not as stored in binary
        ("1,250.5", Decimal("1250.50")),
        ("10,000,000", rules.MAX_OPERATION),
    ],
)
def test_an_amount_comes_back_with_two_places(amount, value):
    cleaned = rules.clean_amount(amount, None)
    assert (cleaned, str(cleaned)) == (value, f"{value:.2f}")


@pytest.mark.parametrize(
    ("amount", "message"),
    [
        (True, "Enter the amount in digits, for example 1250 or 1,250.50."),
        (float("nan"), "Enter the amount in digits, for example 1250 or 1,250.50."),
        (Decimal("-Infinity"), "Enter the amount in digits, for example 1250 or 1,250.50."),
        (0, "Enter an amount greater than zero."),
        ("-0.01", "Enter an amount greater than zero."),
        ("1.001", "Use at most two decimal places."),
        ("10000000.01", "The amount is more than 10,000,000, the maximum for one operation."),
    ],
)
def test_an_amount_that_is_no_positive_number_of_cents_within_the_maximum_is_refused(amount, message):
    with pytest.raises(InvalidAmount) as refused:
        rules.clean_amount(amount, None)
    assert refused.value.message == message


def test_a_whole_number_currency_refuses_cents_and_a_larger_maximum_may_be_given():
    stars = SimpleNamespace(name="Stars", whole_numbers=True)
    assert rules.clean_amount("12.00", stars) == Decimal("12.00")
    with pytest.raises(InvalidAmount, match="^Stars are whole numbers only.$"):
        rules.clean_amount("12.50", stars)
    assert rules.clean_amount(rules.MAX_BALANCE, None, maximum=rules.MAX_BALANCE) == rules.MAX_BALANCE
    with pytest.raises(AmountAboveMaximum, match="1,000,000,000"):
        rules.clean_amount(rules.MAX_BALANCE + Decimal("0.01"), None, maximum=rules.MAX_BALANCE)


def test_a_comment_too_long_is_its_own_error():
    assert rules.clean_comment("  thanks  ") == "thanks"
    assert rules.clean_comment(None) == ""
    with pytest.raises(CommentTooLong, match="1000") as refused:
        rules.clean_comment("x" * (rules.MAX_COMMENT + 1))
    assert not isinstance(refused.value, InvalidAmount)


# Burn-out steps -------------------------------------------------------------------------------------


def test_burn_steps_apply_only_from_the_last_purchase():
    steps = [{"period": 6, "unit": "months", "percent": "50"}]
    assert rules.burn_steps_in_force(SimpleNamespace(burn_policy="never", burn_steps=steps)) is None
    assert rules.burn_steps_in_force(SimpleNamespace(burn_policy="from_crediting", burn_steps=steps)) is None
    assert rules.burn_steps_in_force(SimpleNamespace(burn_policy="from_last_purchase", burn_steps=steps)) == steps
    unset = SimpleNamespace(burn_policy="from_last_purchase", burn_steps=[])
    assert rules.burn_steps_in_force(unset) == rules.DEFAULT_BURN_STEPS


def test_a_burn_step_is_due_from_00_00_after_its_period():
    steps = [{"period": 1, "unit": "months", "percent": "50"}, {"period": 2, "unit": "months", "percent": "100"}]
    account = SimpleNamespace(streak_started_at=rules.start_of_day(date(2026, 1, 31)) + timedelta(hours=15))
    account.burned_steps = 0
    due = rules.start_of_day(date(2026, 3, 1))  # 31 January + 1 month = 28 February, usable through it
    assert rules.burn_due_at(account.streak_started_at, steps[0]) == due
    assert not rules.burn_step_due(account, steps, due - timedelta(microseconds=1))
    assert rules.burn_step_due(account, steps, due)
    account.burned_steps = 2  # every step burned
    assert not rules.burn_step_due(account, steps, due + timedelta(days=400))
    assert not rules.burn_step_due(SimpleNamespace(streak_started_at=None, burned_steps=0), steps, due)
