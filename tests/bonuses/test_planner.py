"""The settlement planner (bonuses/planner.py), without the database: first-expiring-first, and every
activation, expiry and burn-out due on one account, in time order."""

from datetime import date, datetime, timedelta
from decimal import Decimal
from types import SimpleNamespace

import pytest

from bonuses import planner, rules

BERLIN = "Europe/Berlin"


@pytest.fixture(autouse=True)
def _berlin(settings):
    settings.TIME_ZONE = BERLIN


# First-expiring-first ---------------------------------------------------------------------------


def moment(day: int, hour: int = 0) -> datetime:
    return rules.start_of_day(date(2026, 3, day)) + timedelta(hours=hour)


def lot(pk, remaining, *, accrued=1, expires=None, activated=True, activates=None, account_id=1):
    return planner.LotState(
        pk=pk,
        account_id=account_id,
        remaining=Decimal(remaining),
        is_activated=activated,
        activates_at=None if activates is None else moment(activates),
        expires_at=None if expires is None else moment(expires),
        accrued_at=moment(accrued, 9),
    )


def test_take_fefo_takes_the_first_expiring_lots_first_and_those_without_expiry_last():
    lots = [
        lot(1, "10", accrued=1),  # no expiry: last
        lot(2, "10", accrued=2, expires=20),
        lot(3, "10", accrued=3, expires=10),  # expires first
        lot(4, "10", accrued=1, expires=20),  # same expiry as lot 2, accrued earlier: before it
        lot(5, "10", accrued=1, expires=5),  # expired by then
        lot(6, "10", accrued=1, activated=False, activates=9),  # not active
    ]
    taken = planner.take_fefo(lots, Decimal("35"), moment(6))
    assert [(taken_lot.pk, part) for taken_lot, part in taken] == [
        (3, Decimal("-10")),
        (4, Decimal("-10")),
        (2, Decimal("-10")),
        (1, Decimal("-5")),
    ]
    assert [one.remaining for one in lots] == [Decimal("5"), 0, 0, 0, Decimal("10"), Decimal("10")]


def test_take_fefo_never_takes_more_than_is_spendable():
    with pytest.raises(AssertionError):
        planner.take_fefo([lot(1, "10", expires=5)], Decimal("1"), moment(5))


def test_ties_in_expiry_and_accrual_go_to_the_oldest_lot():
    lots = [lot(8, "1", expires=9), lot(7, "1", expires=9)]
    assert [one.pk for one in planner.spendable_lots(lots, moment(1))] == [7, 8]


# The settlement plan -----------------------------------------------------------------------------


def account(active="0", non_activated="0", *, latest=None, streak=None, burned=0):
    return SimpleNamespace(
        active=Decimal(active),
        non_activated=Decimal(non_activated),
        expired=Decimal("0"),
        burned_steps=burned,
        streak_started_at=streak,
        last_entry_at=latest,
    )


def test_the_plan_activates_before_it_expires_at_the_same_moment():
    mine = account(active="4", non_activated="10", latest=moment(1, 12))
    lots = [lot(1, "4", expires=5), lot(2, "10", activated=False, activates=5, expires=8)]
    events = planner.plan_settlement(mine, lots, moment(6), None)
    assert [(e.kind, e.at, e.amount, e.balance_after) for e in events] == [
        ("activated", moment(5), Decimal("10"), Decimal("14")),
        ("expired", moment(5), Decimal("-4"), Decimal("10")),
    ]
    assert events[1].allocations == [(lots[0], Decimal("-4"))]
    assert (mine.active, mine.non_activated, mine.expired) == (Decimal("10"), Decimal("0"), Decimal("4"))
    assert (lots[0].remaining, lots[1].is_activated) == (0, True)
    assert planner.plan_settlement(mine, lots, moment(6), None) == []  # nothing is due twice


def test_an_event_due_before_the_latest_entry_is_dated_at_it():
    mine = account(active="3", latest=moment(7, 10))
    events = planner.plan_settlement(mine, [lot(1, "3", expires=5)], moment(8), None)
    assert [(e.kind, e.at) for e in events] == [("expired", moment(7, 10))]


def test_a_burn_out_takes_its_share_of_the_active_balance_first_expiring_first():
    steps = [{"period": 2, "unit": "days", "percent": "50"}, {"period": 5, "unit": "days", "percent": "100"}]
    mine = account(active="30", streak=moment(1, 9))
    lots = [lot(1, "20"), lot(2, "10", expires=9)]
    events = planner.plan_settlement(mine, lots, moment(4), steps)
    # Two full days after the 1st (the 2nd and the 3rd): due from 00:00 of the 4th.
    assert [(e.kind, e.at, e.amount, e.balance_after) for e in events] == [
        ("burned", moment(4), Decimal("-15"), Decimal("15"))
    ]
    assert [(one.pk, part) for one, part in events[0].allocations] == [(2, Decimal("-10")), (1, Decimal("-5"))]
    assert (mine.burned_steps, mine.expired) == (1, Decimal("15"))
