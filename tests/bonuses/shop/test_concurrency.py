"""The shop under real concurrency: threads with their own connections, released together by a barrier.

Only PostgreSQL has row locks (`select_for_update` does nothing on SQLite), so these run there only:
`scripts/with-postgres .venv/bin/python -m pytest tests/bonuses/shop/test_concurrency.py`.
"""

from collections import Counter
from functools import partial

import pytest
from django.core.management import call_command

from bonuses import selectors, services
from bonuses.exceptions import InsufficientBalance
from bonuses.models import Account, Entry, Reservation
from bonuses.shop import services as shop
from bonuses.shop.exceptions import OrderStateError, OutOfStock
from bonuses.shop.models import Category, Gift, Order
from tests.helpers import kinds, new_employees, race, sent_code

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def category(db):
    return Category.objects.create(name="Gadgets")


def make_gifts(category, currency, count: int, *, prefix: str, price=10, stock=1) -> list[Gift]:
    Gift.objects.bulk_create(
        [
            Gift(name=f"{prefix} {n}", category=category, price=price, currency=currency, stock=stock)
            for n in range(count)
        ]
    )
    return list(Gift.objects.filter(name__startswith=prefix).order_by("pk"))


def assert_identities_hold() -> None:
    for account in Account.objects.all():
        assert selectors.ledger_problems(account) == [], account
    assert not Gift.objects.filter(stock__lt=0).exists()
    call_command("check_ledger")  # raises CommandError when any account fails
    # Every order holds exactly what its status says.
    for order in Order.objects.select_related("reservation"):
        expected = {
            Order.Status.PENDING: Reservation.Status.HELD,
            Order.Status.COMPLETED: Reservation.Status.CAPTURED,
            Order.Status.CANCELLED: Reservation.Status.RELEASED,
            Order.Status.PARTIALLY_RETURNED: Reservation.Status.CAPTURED,
            Order.Status.RETURNED: Reservation.Status.CAPTURED,
        }[order.status]
        assert order.reservation.status == expected, order


def place(user, gift, quantity=1):
    return lambda: shop.place_order(user=user, gift=gift, quantity=quantity)


def test_two_employees_race_for_the_last_item_and_exactly_one_gets_it(bonuses, administrator, category):
    """20 gifts with one item left, two employees ordering each at the same moment."""
    first, second = new_employees(2, "racer")
    for person in (first, second):
        services.accrue(user=person, amount=1000, actor=administrator)
    gifts = make_gifts(category, bonuses, 20, prefix="Last one", stock=1)

    # Alternate who starts first, so neither has a head start.
    rounds = [
        [place(first, gift), place(second, gift)] if n % 2 else [place(second, gift), place(first, gift)]
        for n, gift in enumerate(gifts)
    ]
    outcomes = race(rounds)

    for gift, results in zip(gifts, outcomes, strict=True):
        assert kinds(results) == Counter(ok=1, OutOfStock=1), (gift.name, results)
        refusal = next(r for r in results if isinstance(r, OutOfStock))
        assert refusal.message == f"{gift.name} is out of stock."
        winner = next(r for r in results if isinstance(r, Order))
        assert Order.objects.filter(gift=gift).get() == winner
        assert Gift.objects.get(pk=gift.pk).stock == 0
    for person in (first, second):
        account = Account.objects.get(user=person)
        won = Order.objects.filter(user=person).count()
        assert (account.active, account.reserved) == (1000 - 10 * won, 10 * won)
    assert Order.objects.count() == 20
    assert_identities_hold()


def test_many_employees_race_for_a_few_items(bonuses, administrator, category):
    """Six employees, three items of each gift: three orders go through, three are told it is gone."""
    people = new_employees(6, "crowd")
    for person in people:
        services.accrue(user=person, amount=100, actor=administrator)
    gifts = make_gifts(category, bonuses, 5, prefix="Few", stock=3)

    outcomes = race([[place(person, gift) for person in people] for gift in gifts])

    for gift, results in zip(gifts, outcomes, strict=True):
        assert kinds(results) == Counter(ok=3, OutOfStock=3), (gift.name, results)
        assert Gift.objects.get(pk=gift.pk).stock == 0
        assert Order.objects.filter(gift=gift).count() == 3
    assert_identities_hold()


def test_two_orders_at_once_that_together_exceed_the_balance_one_succeeds(bonuses, administrator, category):
    """100 points, two orders of 60 at once (different gifts, and the same gift): one is placed."""
    people = new_employees(10, "spender")
    for person in people:
        services.accrue(user=person, amount=100, actor=administrator)
    one, other = make_gifts(category, bonuses, 2, prefix="Pricey", price=60, stock=None)

    rounds = [
        [place(person, one), place(person, other)] if n % 2 else [place(person, one), place(person, one)]
        for n, person in enumerate(people)
    ]
    outcomes = race(rounds)

    for person, results in zip(people, outcomes, strict=True):
        assert kinds(results) == Counter(ok=1, InsufficientBalance=1), (person, results)
        refusal = next(r for r in results if isinstance(r, InsufficientBalance))
        assert refusal.message == "Only 40.00 Bonuses are available; 60.00 were asked for."
        account = Account.objects.get(user=person)
        assert (account.active, account.reserved) == (40, 60)
        assert Order.objects.filter(user=person).count() == 1  # the refused order left no row
        assert Reservation.objects.filter(account=account).count() == 1
    assert_identities_hold()


def test_the_last_item_and_the_last_points_at_once(bonuses, administrator, category):
    """Stock and points both short: whatever the order of the locks, nothing is oversold or overdrawn."""
    people = new_employees(4, "short")
    for person in people:
        services.accrue(user=person, amount=50, actor=administrator)
    gifts = make_gifts(category, bonuses, 3, prefix="Scarce", price=30, stock=2)

    # Every employee orders every gift, all at the same moment; each can pay for one, each gift has two.
    (results,) = race([[place(person, gift) for person in people for gift in gifts]])

    assert set(kinds(results)) <= {"ok", "InsufficientBalance", "OutOfStock"}, results
    placed = Counter()
    for n, person in enumerate(people):
        theirs = results[n * len(gifts) : (n + 1) * len(gifts)]
        assert kinds(theirs)["ok"] <= 1, (person, theirs)  # 50 points pay for one order of 30
        placed.update(r.gift_id for r in theirs if isinstance(r, Order))
    assert sum(placed.values()) == min(len(people), 2 * len(gifts))
    assert all(count <= 2 for count in placed.values())
    for gift in gifts:
        assert Gift.objects.get(pk=gift.pk).stock == 2 - placed[gift.pk]
    assert_identities_hold()


def test_a_concurrent_complete_and_cancel_of_one_order_exactly_one_wins(bonuses, employee, administrator, category):
    services.accrue(user=employee, amount=1000, actor=administrator)
    gifts = make_gifts(category, bonuses, 30, prefix="Contested", price=3, stock=5)
    orders = [shop.place_order(user=employee, gift=gift, quantity=2) for gift in gifts]

    def complete(order):
        return lambda: shop.complete_order(Order.objects.get(pk=order.pk), actor=administrator)

    def cancel(order):
        return lambda: shop.cancel_order(Order.objects.get(pk=order.pk), actor=employee)

    rounds = [[complete(o), cancel(o)] if n % 2 else [cancel(o), complete(o)] for n, o in enumerate(orders)]
    outcomes = race(rounds)

    completed = 0
    for order, results in zip(orders, outcomes, strict=True):
        assert kinds(results) == Counter(ok=1, OrderStateError=1), (order.number, results)
        winner = next(r for r in results if isinstance(r, Order))
        loser = next(r for r in results if isinstance(r, OrderStateError))
        order.refresh_from_db()
        assert order.status == winner.status
        assert loser.message == f"Order {order.number} is {order.get_status_display()}."
        steps = list(Entry.objects.filter(reservation=order.reservation).order_by("id").values_list("kind", flat=True))
        expected_step = Entry.Kind.ORDER_SPENT if order.status == Order.Status.COMPLETED else Entry.Kind.ORDER_RELEASED
        assert steps == [Entry.Kind.ORDER_RESERVED, expected_step]
        assert Gift.objects.get(pk=order.gift_id).stock == (3 if order.status == Order.Status.COMPLETED else 5)
        completed += order.status == Order.Status.COMPLETED
    account = Account.objects.get(user=employee)
    assert (account.spent, account.reserved, account.active) == (6 * completed, 0, 1000 - 6 * completed)
    assert_identities_hold()


def test_placing_an_order_while_another_is_completed_does_not_deadlock(bonuses, employee, administrator, category):
    """A new order locks the gift, then the account; completing one locks the order, then the account.

    Neither may lock a row the other already holds (such as the currency's) on the way.
    """
    services.accrue(user=employee, amount=1000, actor=administrator)
    gifts = make_gifts(category, bonuses, 20, prefix="Steady", price=5, stock=10)
    orders = [shop.place_order(user=employee, gift=gift, quantity=1) for gift in gifts]

    def complete(order):
        return lambda: shop.complete_order(order, actor=administrator)

    outcomes = race([[place(employee, gift), complete(order)] for gift, order in zip(gifts, orders, strict=True)])

    for results in outcomes:
        assert kinds(results) == Counter(ok=2), results
    account = Account.objects.get(user=employee)
    assert (account.reserved, account.spent, account.active) == (100, 100, 800)
    assert_identities_hold()


def test_returns_orders_and_cancellations_of_one_employee_at_once_neither_deadlock_nor_drift(
    bonuses, employee, administrator, category
):
    """Placing, cancelling, completing and returning on one account and one gift at the same moment."""
    services.accrue(user=employee, amount=1000, actor=administrator)
    (gift,) = make_gifts(category, bonuses, 1, prefix="Busy", price=5, stock=100)
    rounds = []
    for _round in range(10):
        pending = shop.place_order(user=employee, gift=gift, quantity=1)
        to_complete = shop.place_order(user=employee, gift=gift, quantity=1)
        to_return = shop.complete_order(shop.place_order(user=employee, gift=gift, quantity=2), actor=administrator)
        rounds.append(
            [
                place(employee, gift, 3),
                lambda o=pending: shop.cancel_order(o, actor=employee),
                lambda o=to_complete: shop.complete_order(o, actor=administrator),
                lambda o=to_return: shop.return_order(o, quantity=1, actor=administrator),
            ]
        )

    outcomes = race(rounds)

    for results in outcomes:
        assert kinds(results) == Counter(ok=4), results
    # Per round: 3 + 1 + 1 + 2 taken, 1 cancelled back, 1 returned back: 5 left the stock.
    assert Gift.objects.get(pk=gift.pk).stock == 100 - 10 * 5
    account = Account.objects.get(user=employee)
    # Per round: 15 reserved (new order), 5 spent (completed), 10 - 5 spent (returned in part).
    assert (account.reserved, account.spent, account.active) == (150, 100, 1000 - 250)
    assert_identities_hold()


def test_one_desk_code_used_by_two_orders_at_once_places_one(bonuses, administrator, category, mailoutbox):
    """Two desk clerks type the code the employee read out, at the same moment: one order, one refusal."""
    bonuses = services.update_currency_settings(bonuses, requires_confirmation=True)
    people = new_employees(10, "desk")
    (gift,) = make_gifts(category, bonuses, 1, prefix="Mug", price=10, stock=None)
    rounds = []
    for person in people:
        services.accrue(user=person, amount=100, actor=administrator)
        shop.send_code(user=person)
        code = sent_code(mailoutbox)
        order = partial(shop.place_order, user=person, gift=gift, quantity=1, actor=administrator, code=code)
        rounds.append([order, order])

    outcomes = race(rounds)

    for person, results in zip(people, outcomes, strict=True):
        assert kinds(results) == Counter(ok=1, CodeError=1), (person, results)
        assert Order.objects.filter(user=person).count() == 1
        assert Account.objects.get(user=person).reserved == 10
    assert_identities_hold()
