"""The ledger under real concurrency: threads with their own connections, released together by a barrier.

Only PostgreSQL has row locks (`select_for_update` does nothing on SQLite), so these run there only:
`scripts/with-postgres .venv/bin/python -m pytest tests/bonuses/services/test_concurrency.py`.
"""

from collections import Counter
from datetime import timedelta
from decimal import Decimal

import pytest
from django.core.management import call_command
from django.utils import timezone

from bonuses import selectors, services
from bonuses.exceptions import InsufficientBalance
from bonuses.models import Account, Batch, Entry, IdempotencyKey, Reservation
from tests.helpers import kinds, new_employees, race

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]


def account_of(user) -> Account:
    return Account.objects.get(user=user, currency__is_default=True)


def assert_ledger_balances(*users) -> None:
    for user in users:
        assert selectors.ledger_problems(account_of(user)) == [], user
    call_command("check_ledger")  # raises CommandError when any account fails


def test_services_open_their_own_transaction(bonuses, employee, administrator):
    """Called outside any transaction (a management command, a thread), each service still runs in one."""
    services.accrue(user=employee, amount=100, actor=administrator)
    services.accrue_many(users=[employee], amount=10, actor=administrator)
    services.write_off(user=employee, amount=10, actor=administrator)
    order = services.reserve(user=employee, amount=30, reference="order-1")
    services.capture(order)
    services.refund(order, amount=5)
    services.release(services.reserve(user=employee, amount=5, reference="order-2"))
    assert account_of(employee).active == 75
    assert_ledger_balances(employee)


def test_concurrent_write_offs_never_overdraw(bonuses, administrator):
    """20 write-offs of 10 against 100 at the same moment: exactly 10 go through, 50 times over."""
    people = new_employees(50, "writeoff")
    for person in people:
        services.accrue(user=person, amount=100, actor=administrator)

    def write_off(person):
        return lambda: services.write_off(user=person, amount=10, actor=administrator, comment="race")

    outcomes = race([[write_off(person)] * 20 for person in people])

    for person, results in zip(people, outcomes, strict=True):
        assert kinds(results) == Counter(ok=10, InsufficientBalance=10), (person, kinds(results))
        assert all(isinstance(r, Entry | InsufficientBalance) for r in results)
        account = account_of(person)
        assert (account.active, account.written_off, account.total_accrued) == (0, 100, 0)
        write_offs = Entry.objects.filter(account=account, kind=Entry.Kind.MANUAL_WRITE_OFF)
        assert write_offs.count() == 10
        assert sorted(write_offs.values_list("balance_after", flat=True)) == list(range(0, 100, 10))
    assert_ledger_balances(*people)


def test_concurrent_operations_that_fit_all_go_through(bonuses, administrator):
    """10 write-offs and 10 orders of 5 against 100 at the same moment: none of them is refused."""
    people = new_employees(5, "fit")
    for person in people:
        services.accrue(user=person, amount=100, actor=administrator)

    def write_off(person):
        return lambda: services.write_off(user=person, amount=5, actor=administrator)

    def reserve(person, n):
        return lambda: services.reserve(user=person, amount=5, reference=f"order-{person.pk}-{n}")

    outcomes = race([[write_off(person)] * 10 + [reserve(person, n) for n in range(10)] for person in people])

    for person, results in zip(people, outcomes, strict=True):
        assert kinds(results) == Counter(ok=20), (person, kinds(results))
        account = account_of(person)
        assert (account.active, account.written_off, account.reserved) == (0, 50, 50)
    assert_ledger_balances(*people)


def test_concurrent_reservations_never_overdraw(bonuses, administrator):
    """Two orders of 60 against 100 at once: one is placed, the other refused."""
    people = new_employees(10, "reserve")
    for person in people:
        services.accrue(user=person, amount=100, actor=administrator)

    def reserve(person, n):
        return lambda: services.reserve(user=person, amount=60, reference=f"order-{person.pk}-{n}")

    outcomes = race([[reserve(person, 1), reserve(person, 2)] for person in people])

    for person, results in zip(people, outcomes, strict=True):
        assert kinds(results) == Counter(ok=1, InsufficientBalance=1), (person, kinds(results))
        account = account_of(person)
        assert (account.active, account.reserved) == (40, 60)
        assert Reservation.objects.filter(account=account).count() == 1
    assert_ledger_balances(*people)


def test_capture_and_release_of_one_reservation_race_and_one_wins(bonuses, employee, administrator):
    """Completing and cancelling the same order at once, 100 times: one wins, the other is told it is resolved."""
    services.accrue(user=employee, amount=300, actor=administrator)
    orders = [services.reserve(user=employee, amount=3, reference=f"order-{n}") for n in range(100)]

    def capture(order):
        return lambda: services.capture(Reservation.objects.get(pk=order.pk), actor=administrator)

    def release(order):
        return lambda: services.release(Reservation.objects.get(pk=order.pk), actor=administrator)

    # Alternate which thread captures, so neither side has a head start.
    rounds = [[capture(o), release(o)] if n % 2 == 0 else [release(o), capture(o)] for n, o in enumerate(orders)]
    outcomes = race(rounds)

    captured = 0
    for order, results in zip(orders, outcomes, strict=True):
        assert kinds(results) == Counter(ok=1, ReservationResolved=1), (order.reference, kinds(results))
        winner = next(r for r in results if isinstance(r, Entry))
        order.refresh_from_db()
        expected = Reservation.Status.CAPTURED if winner.kind == Entry.Kind.ORDER_SPENT else Reservation.Status.RELEASED
        assert order.status == expected
        assert list(order.entries.exclude(kind=Entry.Kind.ORDER_RESERVED).values_list("kind", flat=True)) == [
            winner.kind
        ]
        captured += order.status == Reservation.Status.CAPTURED
    account = account_of(employee)
    assert (account.spent, account.active, account.reserved) == (3 * captured, 3 * (100 - captured), 0)
    assert_ledger_balances(employee)


def test_overlapping_bulk_accruals_neither_deadlock_nor_lose_points(bonuses, administrator):
    """Two bulk accruals over overlapping employees in opposite orders, creating accounts at the same time."""
    first, second = new_employees(300, "bulk-a"), new_employees(300, "bulk-b")
    # Each group twice: the first time no employee has an account yet, the second time all of them do.
    groups = [first, first, second, second]

    def accrue_many(people, amount):
        return lambda: services.accrue_many(users=people, amount=amount, actor=administrator, comment="race")

    outcomes = race([[accrue_many(g[:200], 3), accrue_many(list(reversed(g[100:])), 5)] for g in groups])

    for results in outcomes:
        assert kinds(results) == Counter(ok=2), results
        assert all(isinstance(r, Batch) and r.employee_count == 200 for r in results)
    expected, accruals = Counter(), Counter()
    for group in groups:
        for people, amount in ((group[:200], 3), (group[100:], 5)):
            expected.update({person.pk: Decimal(amount) for person in people})
            accruals.update(person.pk for person in people)
    accounts = {a.user_id: a for a in Account.objects.filter(user__in=first + second)}
    assert len(accounts) == 600
    assert {uid: a.total_accrued for uid, a in accounts.items()} == expected
    assert {uid: a.active for uid, a in accounts.items()} == expected
    assert Counter(Entry.objects.filter(kind=Entry.Kind.MANUAL_ACCRUAL).values_list("user_id", flat=True)) == accruals
    assert Batch.objects.count() == 8
    assert_ledger_balances()


def test_the_same_idempotency_key_at_the_same_time_posts_once(bonuses, administrator):
    """A form submitted twice at once (two requests with one key): one accrual, and both get it back."""
    people = new_employees(10, "twice")

    def accrue(person):
        key = f"accrual-form-{person.pk}"
        return lambda: services.accrue(user=person, amount=25, actor=administrator, idempotency_key=key)

    outcomes = race([[accrue(person)] * 2 for person in people])

    for person, results in zip(people, outcomes, strict=True):
        assert kinds(results) == Counter(ok=2), (person, results)
        first, second = results
        assert isinstance(first, Entry) and first.pk == second.pk
        assert Entry.objects.filter(user=person).count() == 1
        assert account_of(person).active == 25
    assert IdempotencyKey.objects.count() == 10
    assert_ledger_balances(*people)


def test_two_daily_runs_and_a_bulk_accrual_at_once_post_each_event_once(bonuses, administrator):
    """bonuses_daily started twice at once (cron and a person), while a manager accrues to the same people."""
    people = new_employees(300, "daily")
    start = timezone.now() - timedelta(days=10)
    today = timezone.localdate()
    services.accrue_many(users=people, amount=10, actor=administrator, expires_on=today - timedelta(days=3), at=start)
    services.accrue_many(users=people, amount=20, actor=administrator, activates_on=today - timedelta(days=2), at=start)
    moment = timezone.now()

    def daily():
        return services.settle(at=moment)

    def accrual():
        return services.accrue_many(users=people, amount=1, actor=administrator, comment="during the run")

    outcomes = race([[daily, daily, accrual]])

    assert kinds(outcomes[0]) == Counter(ok=3), outcomes
    posted = Counter(Entry.objects.filter(kind__in=["activated", "expired"]).values_list("kind", "lot_id"))
    assert len(posted) == 600 and set(posted.values()) == {1}  # every lot once, whoever posted it
    accounts = Account.objects.filter(user__in=people)
    assert {(a.active, a.expired, a.non_activated, a.total_accrued) for a in accounts} == {(21, 10, 0, 31)}
    assert_ledger_balances()
