"""services.reverse_batch (issue 11, "Reversing a batch"): a compensating batch takes back, all or nothing, what a
bulk accrual gave each employee, once; a recipient who no longer has the points refuses the whole reversal, and
the refusal lists every such recipient exactly. The ledger's identities hold after it (check_ledger), with
non-activated and expiring lots, in whole-number currencies, and under real concurrency on PostgreSQL."""

from collections import Counter
from datetime import timedelta
from decimal import Decimal
from io import StringIO

import pytest
from django.core.management import call_command
from django.db import IntegrityError, connection, transaction
from django.test.utils import CaptureQueriesContext
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bonuses import selectors, services
from bonuses.exceptions import (
    BatchAlreadyReversed,
    BatchNotReversible,
    CommentTooLong,
    OperationInPast,
    ReversalShortfall,
    Shortfall,
)
from bonuses.models import Account, Allocation, Batch, BudgetMovement, Currency, Entry, Lot
from tests.bonuses.services.test_concurrency import kinds, race
from tests.helpers import day, local
from users.models import User

pytestmark = pytest.mark.django_db

FIGURES = ("active", "reserved", "non_activated", "spent", "written_off", "expired", "total_accrued")


def figures(user, currency=None) -> dict:
    account = Account.objects.get(user=user, currency=currency or Currency.objects.get(is_default=True))
    return {name: getattr(account, name) for name in FIGURES}


def assert_ledger_clean(*users) -> None:
    for account in Account.objects.filter(user__in=users) if users else Account.objects.all():
        assert selectors.ledger_problems(account) == [], account
    call_command("check_ledger")  # raises CommandError when any account fails


@pytest.fixture
def people(make_user):
    return [make_user(full_name=name) for name in ("Anna Able", "Boris Brown", "Clara Cole", "Dmitri Dark")]


# What a reversal posts --------------------------------------------------------------------------


def test_a_reversal_takes_back_what_the_batch_gave_each_employee(bonuses, people, administrator):
    anna = people[0]
    services.accrue(user=anna, amount=50, actor=administrator, at=local(3, 1, 9))
    batch = services.accrue_many(users=people, amount=100, actor=administrator, comment="Q1", at=local(3, 2))
    reversal = services.reverse_batch(batch, actor=administrator, comment="Wrong list", at=local(3, 3))

    assert (reversal.reverses, reversal.amount, reversal.employee_count, reversal.total) == (batch, 100, 4, 400)
    assert (reversal.currency, reversal.actor, reversal.comment, reversal.at) == (
        bonuses,
        administrator,
        "Wrong list",
        local(3, 3),
    )
    assert batch.reversal == reversal
    given = dict(Entry.objects.filter(batch=batch).values_list("user_id", "lot_id"))
    entries = Entry.objects.filter(batch=reversal).order_by("user_id")
    assert [(e.user_id, e.kind, e.amount, e.lot_id, e.actor, e.comment, e.at) for e in entries] == [
        (p.pk, Entry.Kind.REVERSED, -100, given[p.pk], administrator, "Wrong list", local(3, 3)) for p in people
    ]
    assert [e.balance_after for e in entries] == [50, 0, 0, 0]
    # Out of the batch's own lots: they are empty; Anna's other lot is untouched.
    assert set(Lot.objects.filter(pk__in=given.values()).values_list("remaining", flat=True)) == {0}
    assert set(Allocation.objects.filter(entry__batch=reversal).values_list("lot_id", "amount")) == {
        (lot, -100) for lot in given.values()
    }
    assert figures(anna) == {**dict.fromkeys(FIGURES, 0), "active": 50, "total_accrued": 50}
    assert figures(people[1]) == dict.fromkeys(FIGURES, 0)
    assert_ledger_clean()


def test_what_the_batch_lot_lacks_comes_from_the_other_active_lots_first_expiring_first(bonuses, people, administrator):
    anna = people[0]
    # The batch's lot expires first: spending takes from it before the others.
    batch = services.accrue_many(users=[anna], amount=100, actor=administrator, expires_on=day(3, 20), at=local(3, 1))
    late = services.accrue(user=anna, amount=80, actor=administrator, expires_on=day(4, 30), at=local(3, 2)).lot
    soon = services.accrue(user=anna, amount=40, actor=administrator, expires_on=day(4, 10), at=local(3, 2, 13)).lot
    never = services.accrue(user=anna, amount=500, actor=administrator, at=local(3, 2, 14)).lot
    services.capture(services.reserve(user=anna, amount=70, reference="bike", at=local(3, 3)), at=local(3, 3, 13))
    own = Lot.objects.get(entries__batch=batch)
    assert (own.remaining, figures(anna)["active"]) == (30, 650)

    reversal = services.reverse_batch(batch, actor=administrator, at=local(3, 4))

    allocations = Counter(dict(Allocation.objects.filter(entry__batch=reversal).values_list("lot_id", "amount")))
    assert allocations == {own.pk: -30, soon.pk: -40, late.pk: -30}
    assert {lot.pk: lot.remaining for lot in Lot.objects.all()} == {own.pk: 0, soon.pk: 0, late.pk: 50, never.pk: 500}
    assert figures(anna) == {**dict.fromkeys(FIGURES, 0), "active": 550, "spent": 70, "total_accrued": 620}
    assert Entry.objects.get(batch=reversal).balance_after == 550
    assert_ledger_clean()


def test_points_not_yet_active_are_taken_back_as_non_activated(bonuses, people, administrator):
    anna, boris = people[:2]
    services.accrue(user=boris, amount=30, actor=administrator, at=local(3, 1))
    batch = services.accrue_many(
        users=[anna, boris], amount=100, actor=administrator, activates_on=day(3, 15), at=local(3, 1, 13)
    )
    reversal = services.reverse_batch(batch, actor=administrator, at=local(3, 5))

    assert figures(anna) == dict.fromkeys(FIGURES, 0)
    assert figures(boris) == {**dict.fromkeys(FIGURES, 0), "active": 30, "total_accrued": 30}
    assert sorted(Entry.objects.filter(batch=reversal).values_list("balance_after", flat=True)) == [0, 30]
    # The lots activate with nothing in them: the daily run posts no activation.
    services.settle(at=local(3, 16))
    assert not Entry.objects.filter(kind=Entry.Kind.ACTIVATED).exists()
    assert set(Lot.objects.filter(entries__batch=batch).values_list("is_activated", "remaining")) == {(True, 0)}
    assert_ledger_clean()
    # The log read at a moment in between: the points were non-activated, then taken back.
    assert selectors.balance(anna, at=local(3, 3)).non_activated == 100
    assert selectors.balance(anna, at=local(3, 6)).non_activated == 0
    assert selectors.balance(anna, at=local(3, 6)).total_accrued == 0


def test_points_that_expired_in_the_batch_lot_are_taken_from_the_rest_of_the_balance(bonuses, people, administrator):
    """Active points are alike: a recipient whose active balance covers the batch gives it back, whatever expired."""
    anna = people[0]
    batch = services.accrue_many(users=[anna], amount=100, actor=administrator, expires_on=day(3, 3), at=local(3, 1))
    other = services.accrue(user=anna, amount=150, actor=administrator, at=local(3, 2)).lot
    # The reversal's own settlement posts the expiry due at 00:00 of 4 March first.
    services.reverse_batch(batch, actor=administrator, at=local(3, 5))
    assert Entry.objects.filter(kind=Entry.Kind.EXPIRED, amount=-100).count() == 1
    assert Lot.objects.get(pk=other.pk).remaining == 50
    assert figures(anna) == {**dict.fromkeys(FIGURES, 0), "active": 50, "expired": 100, "total_accrued": 150}
    assert_ledger_clean()


def test_whole_number_currency(whole, people, administrator):
    batch = services.accrue_many(users=people[:2], amount=7, actor=administrator, at=local(3, 1))
    services.write_off(user=people[0], amount=3, actor=administrator, at=local(3, 2))
    with pytest.raises(ReversalShortfall) as refusal:
        services.reverse_batch(batch, actor=administrator, at=local(3, 3))
    assert refusal.value.shortfalls == (Shortfall(people[0].pk, "Anna Able", Decimal(7), Decimal(4), Decimal(3)),)
    services.accrue(user=people[0], amount=5, actor=administrator, at=local(3, 4))
    reversal = services.reverse_batch(batch, actor=administrator, at=local(3, 5))
    assert set(Entry.objects.filter(batch=reversal).values_list("amount", flat=True)) == {-7}
    assert (figures(people[0])["active"], figures(people[0])["total_accrued"]) == (2, 2)
    assert_ledger_clean()


def test_blocked_and_accumulate_only_accounts_are_reversed_too(bonuses, people, administrator):
    batch = services.accrue_many(users=people[:2], amount=10, actor=administrator)
    services.set_account_state(user=people[0], state=Account.State.BLOCKED)
    services.set_account_state(user=people[1], state=Account.State.ACCUMULATE_ONLY)
    services.reverse_batch(batch, actor=administrator)
    assert figures(people[0])["active"] == figures(people[1])["active"] == 0
    assert_ledger_clean()


# Refusals: all or nothing, and what they list --------------------------------------------------


def test_a_shortfall_refuses_the_whole_reversal_and_lists_every_employee_exactly(
    bonuses, people, administrator, ledger_snapshot
):
    anna, boris, clara, dmitri = people
    batch = services.accrue_many(users=people, amount=100, actor=administrator, expires_on=day(3, 10), at=local(3, 1))
    services.write_off(user=dmitri, amount="0.01", actor=administrator, at=local(3, 2))  # lost a cent
    services.capture(services.reserve(user=boris, amount=60, reference="spent", at=local(3, 2)), at=local(3, 2, 13))
    services.reserve(user=anna, amount="12.50", reference="held", at=local(3, 3))  # an open order holds them
    services.accrue(user=clara, amount=5, actor=administrator, at=local(3, 4))
    before = ledger_snapshot()

    with pytest.raises(ReversalShortfall) as refusal:
        services.reverse_batch(batch, actor=administrator, at=local(3, 9))
    assert refusal.value.message == (
        "3 employees have already spent or lost part of the points of this batch; nothing was reversed."
    )
    assert refusal.value.shortfalls == (
        Shortfall(anna.pk, "Anna Able", Decimal(100), Decimal("87.50"), Decimal("12.50")),
        Shortfall(boris.pk, "Boris Brown", Decimal(100), Decimal(40), Decimal(60)),
        Shortfall(dmitri.pk, "Dmitri Dark", Decimal(100), Decimal("99.99"), Decimal("0.01")),
    )
    assert ledger_snapshot() == before
    # Later, the batch lots have expired: Anna's new points cover hers, the others still fall short.
    services.accrue(user=anna, amount=200, actor=administrator, at=local(3, 12))
    with pytest.raises(ReversalShortfall) as refusal:
        services.reverse_batch(batch, actor=administrator, at=local(3, 13))
    assert [(s.name, s.active, s.missing) for s in refusal.value.shortfalls] == [
        ("Boris Brown", 0, 100),
        ("Clara Cole", 5, 95),
        ("Dmitri Dark", 0, 100),
    ]
    assert not Batch.objects.filter(reverses=batch).exists()


def test_a_batch_is_reversed_once(bonuses, people, administrator, ledger_snapshot):
    batch = services.accrue_many(users=people, amount=10, actor=administrator, at=local(3, 1))
    reversal = services.reverse_batch(batch, actor=administrator, comment="First", at=local(3, 2, 9, 30))
    before = ledger_snapshot()
    with pytest.raises(BatchAlreadyReversed) as refusal:
        services.reverse_batch(batch, actor=administrator, comment="Again")
    assert refusal.value.message == (
        f"Batch {batch.pk} was already reversed on 2026-03-02 09:30 by Alex Admin (batch {reversal.pk})."
    )
    with pytest.raises(BatchNotReversible, match=f"Batch {reversal.pk} is the reversal of batch {batch.pk}"):
        services.reverse_batch(reversal, actor=administrator)
    assert ledger_snapshot() == before
    # The database refuses a second reversal too, whatever the code does.
    with pytest.raises(IntegrityError), transaction.atomic():
        Batch.objects.create(currency=bonuses, amount=10, employee_count=4, at=local(3, 3), reverses=batch)


def test_only_administrators_reverse(bonuses, people, administrator, manager, employee, ledger_snapshot):
    batch = services.accrue_many(users=people, amount=10, actor=administrator)
    before = ledger_snapshot()
    for actor in (manager, employee, None):
        with pytest.raises(BatchNotReversible, match="Only administrators may reverse a batch."):
            services.reverse_batch(batch, actor=actor)
    assert ledger_snapshot() == before


def test_other_refusals_change_nothing(bonuses, people, administrator, ledger_snapshot):
    batch = services.accrue_many(users=people, amount=10, actor=administrator, at=local(3, 1))
    services.accrue(user=people[2], amount=1, actor=administrator, at=local(3, 5))
    before = ledger_snapshot()
    with pytest.raises(CommentTooLong):
        services.reverse_batch(batch, actor=administrator, comment="x" * 1001)
    with pytest.raises(OperationInPast):  # before Clara's latest entry
        services.reverse_batch(batch, actor=administrator, at=local(3, 4))
    assert ledger_snapshot() == before


def test_a_repeated_key_returns_the_same_reversal(bonuses, people, administrator):
    batch = services.accrue_many(users=people, amount=10, actor=administrator)
    first = services.reverse_batch(batch, actor=administrator, comment="Once", idempotency_key="form-1")
    again = services.reverse_batch(batch, actor=administrator, comment="Once", idempotency_key="form-1")
    assert first == again and Batch.objects.filter(reverses=batch).count() == 1


def test_a_reversed_manager_grant_returns_to_their_budget(bonuses, department, make_user, administrator, manager):
    team = [make_user(department=department, full_name=name) for name in ("Anna Able", "Boris Brown", "Clara Cole")]
    services.set_budget(manager=manager, amount=1_000, actor=administrator, comment="March")
    batch = services.accrue_many(users=team, amount=100, actor=manager, comment="Launch")
    assert selectors.budget(manager).left == Decimal("700")
    reversal = services.reverse_batch(batch, actor=administrator, comment="Wrong team")
    figures = selectors.budget(manager)
    assert (figures.allowance, figures.granted, figures.left) == (Decimal("1000"), Decimal("0"), Decimal("1000"))
    returned = BudgetMovement.objects.get(kind=BudgetMovement.Kind.RETURNED)
    assert (returned.batch, returned.amount, returned.actor, returned.comment) == (
        batch,
        Decimal("300"),
        administrator,
        "Wrong team",
    )
    assert reversal.reverses == batch
    call_command("check_ledger", stdout=StringIO())  # the budget's figures are the sums of its movements


def test_reversing_an_administrators_batch_moves_no_budget(bonuses, people, administrator, manager):
    services.set_budget(manager=manager, amount=1_000, actor=administrator)
    before = list(BudgetMovement.objects.values())
    services.reverse_batch(services.accrue_many(users=people, amount=10, actor=administrator), actor=administrator)
    assert list(BudgetMovement.objects.values()) == before


def test_a_reversal_costs_the_same_queries_for_10_and_300_employees(bonuses, administrator, make_user):
    counts = {}
    for size in (10, 300):
        group = [make_user() for _ in range(size)]
        batch = services.accrue_many(users=group, amount=5, actor=administrator)
        # Half of them spent part of the batch, and give the rest back from another lot.
        for person in group[::2]:
            services.write_off(user=person, amount=2, actor=administrator)
        services.accrue_many(users=group, amount=3, actor=administrator, expires_on=day(12, 31, 2099))
        actor = User.objects.get(pk=administrator.pk)  # whose permissions are read afresh each time
        with CaptureQueriesContext(connection) as context:
            services.reverse_batch(batch, actor=actor)
        counts[size] = len(context.captured_queries)
    assert counts[10] == counts[300], counts
    assert_ledger_clean()


# A property: whatever happened to the points, a reversal is exact or refused exactly --------------

OPERATIONS = st.lists(
    st.tuples(
        st.sampled_from(["accrue", "write_off", "spend", "hold", "wait"]), st.integers(0, 2), st.integers(1, 150)
    ),
    max_size=8,
)


@settings(
    max_examples=40,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
)
@given(
    timing=st.sampled_from([{}, {"expires_on": day(3, 4)}, {"activates_on": day(3, 3)}, {"lifetime_days": 9}]),
    amount=st.integers(1, 200),
    operations=OPERATIONS,
    reverse_after_days=st.integers(0, 4),
)
def test_a_reversal_is_exact_or_refused_exactly(ledger_snapshot, timing, amount, operations, reverse_after_days):
    """Random histories after a batch (accruals, write-offs, orders spent or held, days passing over the
    batch's expiry or activation), then a reversal: it takes exactly the batch's amount from everyone whose
    balance covers it (a lot not yet active: from the lot) and check_ledger stays clean, or it is refused
    with exactly the employees short and what they miss, and nothing changes."""
    with transaction.atomic():  # each example starts from the migrated ledger
        reverse_after_history(ledger_snapshot, timing, amount, operations, reverse_after_days)
        transaction.set_rollback(True)


def reverse_after_history(ledger_snapshot, timing, amount, operations, reverse_after_days) -> None:
    admin = User.objects.create_superuser("root@example.com", "x", full_name="Root")
    users = [User.objects.create_user(f"p{n}@example.com", None, full_name=f"P{n}") for n in range(3)]
    moment = local(3, 1)
    services.accrue(user=users[0], amount=40, actor=admin, at=moment)
    batch = services.accrue_many(users=users, amount=amount, actor=admin, at=moment, **timing)
    for number, (operation, who, value) in enumerate(operations):
        moment += timedelta(hours=5)
        user = users[who]
        take = min(Decimal(value), selectors.balance(user, at=moment).active)
        if operation == "accrue":
            services.accrue(user=user, amount=value, actor=admin, at=moment)
        elif operation == "wait":
            moment += timedelta(days=value % 3)
        elif take > 0 and operation == "write_off":
            services.write_off(user=user, amount=take, actor=admin, at=moment)
        elif take > 0:
            order = services.reserve(user=user, amount=take, reference=f"o{number}", at=moment)
            if operation == "spend":
                services.capture(order, at=moment)
    moment += timedelta(days=reverse_after_days)
    services.settle(at=moment)  # what the reversal will see: it settles first too
    lots = {e.user_id: e.lot for e in Entry.objects.filter(batch=batch).select_related("lot", "account")}
    accounts = {a.user_id: a for a in Account.objects.filter(user__in=users)}
    can_give = {pk: lot.remaining if not lot.is_activated else accounts[pk].active for pk, lot in lots.items()}
    short = sorted((u.full_name, u.pk, amount - can_give[u.pk]) for u in users if can_give[u.pk] < amount)
    before, balances = ledger_snapshot(), {u.pk: selectors.balance(u, at=moment) for u in users}

    try:
        reversal = services.reverse_batch(batch, actor=admin, at=moment)
    except ReversalShortfall as refusal:
        assert [(s.name, s.employee_id, s.missing) for s in refusal.shortfalls] == short
        assert ledger_snapshot() == before
        return
    assert not short and reversal.employee_count == 3
    for user in users:
        then, now = balances[user.pk], selectors.balance(user, at=moment)
        taken_from = "active" if lots[user.pk].is_activated else "non_activated"
        assert getattr(now, taken_from) == getattr(then, taken_from) - amount
        assert now.total_accrued == then.total_accrued - amount
        unchanged = ("reserved", "spent", "expired", "written_off")
        assert [getattr(now, name) for name in unchanged] == [getattr(then, name) for name in unchanged]
        assert selectors.ledger_problems(Account.objects.get(user=user)) == []


# Under real concurrency (PostgreSQL) -----------------------------------------------------------


def new_people(count: int, prefix: str) -> list[User]:
    User.objects.bulk_create([User(email=f"{prefix}{n}@example.com", full_name=f"{prefix} {n}") for n in range(count)])
    return list(User.objects.filter(email__startswith=prefix).order_by("pk"))


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_two_reversals_of_one_batch_at_once_one_wins(bonuses, administrator):
    batches = [
        services.accrue_many(users=new_people(30, f"twice{n}-"), amount=10, actor=administrator) for n in range(10)
    ]

    def reverse(batch):
        return lambda: services.reverse_batch(Batch.objects.get(pk=batch.pk), actor=administrator, comment="race")

    outcomes = race([[reverse(batch), reverse(batch)] for batch in batches])

    for batch, results in zip(batches, outcomes, strict=True):
        assert kinds(results) == Counter(ok=1, BatchAlreadyReversed=1), (batch, results)
        winner = next(r for r in results if isinstance(r, Batch))
        loser = next(r for r in results if isinstance(r, BatchAlreadyReversed))
        assert f"Batch {batch.pk} was already reversed on " in loser.message and f"(batch {winner.pk})" in loser.message
        assert Entry.objects.filter(batch__reverses=batch).count() == 30
    assert set(Account.objects.values_list("active", "total_accrued")) == {(0, 0)}
    assert_ledger_clean()


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_a_reversal_racing_an_order_never_leaves_a_negative_balance(bonuses, administrator):
    """Each employee has exactly the batch's 100: the order of 60 or the reversal goes through, never both."""
    group = new_people(40, "spend-")
    batch = services.accrue_many(users=group, amount=100, actor=administrator)

    def reverse():
        return services.reverse_batch(Batch.objects.get(pk=batch.pk), actor=administrator, comment="race")

    def reserve(person):
        return lambda: services.reserve(user=person, amount=60, reference=f"order-{person.pk}")

    # One reversal of the whole batch against one order per employee, all released at once.
    reversed_, *orders = race([[reverse] + [reserve(person) for person in group]])[0]

    accounts = {a.user_id: a for a in Account.objects.filter(user__in=group)}
    if isinstance(reversed_, Batch):  # it locked every account first: every order found nothing to spend
        assert kinds(orders) == Counter(InsufficientBalance=40)
        assert {(a.active, a.reserved, a.total_accrued) for a in accounts.values()} == {(0, 0, 0)}
    else:  # an order came first: the reversal is refused, naming only employees whose order went through
        assert isinstance(reversed_, ReversalShortfall), reversed_
        assert kinds(orders) == Counter(ok=40)  # those that waited for the reversal went through after it
        assert reversed_.shortfalls and all(s.missing == 60 and s.active == 40 for s in reversed_.shortfalls)
        assert {(a.active, a.reserved, a.total_accrued) for a in accounts.values()} == {(40, 60, 100)}
    assert all(a.active >= 0 for a in accounts.values())
    assert_ledger_clean()
