"""The two implementations of settlement agree (bonuses/services/settlement.py says why there are two).

Hypothesis builds a few accounts with random lots (activated or not, spent in part, expiring or
not, due before or after the account's latest entry) and settles the same rows twice, each time
in a savepoint that is rolled back: once by the set-based SQL, once by the planner. Both must post
the same entries, with the same allocations, and leave the same lots and figures.
"""

from datetime import timedelta
from decimal import Decimal

import pytest
from django.db import transaction
from django.db.models import Max
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bonuses import bulk, rules
from bonuses.models import Account, Allocation, Entry, Lot
from bonuses.services.settlement import SETTLE_READS, Scope, post_planned
from bonuses.services.settlement_sql import post_in_sql
from tests.helpers import local
from users.models import User

pytestmark = pytest.mark.django_db

START = local(3, 27, 0, 0)  # the Sunday of the change to summer time in Europe lies inside the days drawn
DAYS = st.integers(-6, 6)  # days around the start, as 00:00 in the company time zone
LOTS = st.lists(
    st.fixed_dictionaries(
        {
            "amount": st.integers(1, 50_000).map(lambda cents: Decimal(cents) / 100),
            "spent": st.sampled_from([0, 0, 0, 0.25, 0.5, 1]),  # the share of an activated lot already taken
            "activates": st.none() | DAYS,
            "activated": st.booleans(),  # for a lot with an activation day: whether it was posted
            "lifetime": st.none() | st.integers(1, 8),  # days from the later of accrual and activation
        }
    ),
    min_size=1,
    max_size=6,
)
ACCOUNTS = st.lists(st.tuples(LOTS, st.none() | st.integers(-6 * 24, 6 * 24)), min_size=1, max_size=3)


def midnight(offset: int):
    return rules.start_of_day(rules.local_date(START) + timedelta(days=offset))


def build(accounts, currency) -> list[int]:
    """Accounts whose stored figures hold what their lots hold; `latest` hours from the start, or none."""
    ids = []
    for n, (lots, latest) in enumerate(accounts):
        user = User.objects.create_user(f"settle{n}@example.com", None, full_name=f"Settle {n}")
        account = Account.objects.create(
            user=user, currency=currency, last_entry_at=None if latest is None else START + timedelta(hours=latest)
        )
        for drawn in lots:
            accrued = midnight(-10) + timedelta(hours=9)
            activates = None if drawn["activates"] is None else midnight(drawn["activates"])
            activated = activates is None or drawn["activated"]
            amount = drawn["amount"]
            remaining = (amount * Decimal(str(1 - drawn["spent"]))).quantize(Decimal("0.01")) if activated else amount
            expires = None
            if drawn["lifetime"] is not None:
                expires = (activates or accrued) + timedelta(days=drawn["lifetime"])
                expires = rules.start_of_day(rules.local_date(expires))
            Lot.objects.create(
                account=account,
                amount=amount,
                remaining=remaining,
                accrued_at=accrued,
                activates_at=activates,
                expires_at=expires,
                is_activated=activated,
            )
            account.total_accrued += amount
            account.spent += amount - remaining
            if activated:
                account.active += remaining
            else:
                account.non_activated += remaining
        account.save()
        ids.append(account.pk)
    return ids


def settled(ids: list[int], implementation, at) -> dict:
    """What `implementation` posts and leaves on these accounts, rolled back afterwards."""
    with transaction.atomic():
        first = (Entry.objects.aggregate(top=Max("id"))["top"] or 0) + 1
        counts = implementation(ids, at)
        entries = list(
            Entry.objects.filter(id__gte=first)
            .order_by("id")
            .values_list("id", "account_id", "kind", "amount", "balance_after", "at", "created_at", "lot_id", "comment")
        )
        position = {row[0]: n for n, row in enumerate(entries)}  # ids differ between the runs on PostgreSQL
        allocations = sorted(
            (position[entry_id], lot_id, amount)
            for entry_id, lot_id, amount in Allocation.objects.filter(entry_id__gte=first).values_list(
                "entry_id", "lot_id", "amount"
            )
        )
        state = {
            "counts": counts,
            "entries": [row[1:] for row in entries],
            "allocations": allocations,
            "lots": list(
                Lot.objects.filter(account_id__in=ids).order_by("pk").values_list("pk", "remaining", "is_activated")
            ),
            "accounts": list(
                Account.objects.filter(pk__in=ids)
                .order_by("pk")
                .values_list("pk", *Account.FIGURES, "last_entry_at", "burned_steps")
            ),
        }
        transaction.set_rollback(True)
    return state


def by_sql(ids, at) -> dict:
    _changed, posted = post_in_sql(Scope.of_ids(ids), at)
    return {kind: (count, abs(total)) for kind, (count, total) in posted.items()}


def by_planner(ids, at) -> dict:
    accounts = list(Account.objects.filter(pk__in=ids).order_by("pk").only(*SETTLE_READS))
    result = post_planned(accounts, accounts[0].currency, at)
    return {kind: (count, result.amounts[kind]) for kind, count in result.counts.items()}


@settings(
    max_examples=50,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(accounts=ACCOUNTS, until=DAYS, hours=st.sampled_from([0, 0, 0, 9, 23]))
def test_the_set_based_sql_posts_what_the_planner_posts(bonuses, accounts, until, hours):
    at = midnight(until) + timedelta(hours=hours)
    with transaction.atomic():
        ids = build(accounts, bonuses)
        assert settled(ids, by_sql, at) == settled(ids, by_planner, at)
        transaction.set_rollback(True)


@pytest.mark.parametrize("rows_per_insert", [bulk.ROWS_PER_INSERT, 1])
def test_both_implementations_agree_on_a_hand_made_account(bonuses, monkeypatch, rows_per_insert):
    """What the comparison above compares: an expiry and an activation due before the latest entry.

    With one row per INSERT the planner's entries come back from several statements: each
    allocation must still go with its own entry.
    """
    monkeypatch.setattr(bulk, "ROWS_PER_INSERT", rows_per_insert)
    lots = [
        {"amount": Decimal("10.00"), "spent": 0, "activates": -2, "activated": False, "lifetime": None},
        {"amount": Decimal("4.50"), "spent": 0.5, "activates": None, "activated": True, "lifetime": 1},
    ]
    with transaction.atomic():
        ids = build([(lots, 0)], bonuses)
        sql, planned = settled(ids, by_sql, midnight(1)), settled(ids, by_planner, midnight(1))
        transaction.set_rollback(True)
    assert sql == planned
    # The 4.50 lot (half spent) expired on day -9, the 10 activate on day -2: in that order, both dated
    # at the account's latest entry, which is later.
    assert [(kind, amount, after) for _account, kind, amount, after, *_rest in sql["entries"]] == [
        ("expired", Decimal("-2.25"), Decimal("0.00")),
        ("activated", Decimal("10.00"), Decimal("10.00")),
    ]
    assert [row[4] for row in sql["entries"]] == [START, START]
