"""Orders posted twice (issue 9, point 7; SPEC.md section 8: the second is a no-op).

The shop's order form and the gift desk carry an idempotency key made when the form is shown and
kept through the confirmation step; `shop.place_order(idempotency_key=...)` returns the first order
for a repeat of the key (and the first refusal again after a refusal), as the accrual forms do.
"""

import re
import uuid
from collections import Counter

import pytest
from django.test import Client

from bonuses import selectors, services
from bonuses.models import Account, Entry, IdempotencyKey, Reservation
from bonuses.shop import services as shop
from bonuses.shop.models import Category, Gift, Order
from tests.helpers import COUNTED_CODE, REMEMBERED_REFUSAL, kinds, message_texts, new_employees, race, sent_code

DESK = "/bonuses/orders/new/"
MY_ORDERS = "/shop/orders/"


def order_url(gift) -> str:
    return f"/shop/gifts/{gift.pk}/order/"


def hidden_key(response) -> str:
    """The idempotency key the page's form posts back."""
    match = re.search(r'<input type="hidden" name="idempotency_key" value="([0-9a-f]+)"', response.content.decode())
    assert match, "the form carries no idempotency key"
    return match.group(1)


@pytest.fixture
def hoodie(bonuses):
    return Gift.objects.create(
        name="Hoodie", category=Category.objects.create(name="Clothes"), price=40, currency=bonuses, stock=5
    )


@pytest.fixture
def shopper(client, employee, administrator, bonuses):
    """The employee, logged in, with 100 points."""
    services.accrue(user=employee, amount=100, actor=administrator)
    client.force_login(employee)
    return employee


def held(user) -> tuple:
    account = Account.objects.get(user=user)
    return account.active, account.reserved


@pytest.mark.django_db
def test_the_order_confirmation_posted_twice_places_one_order(client, shopper, hoodie):
    form = client.get(order_url(hoodie))
    key = hidden_key(form)
    data = {"quantity": "2", "pickup_office": "Berlin HQ", "delivery_comment": "", "idempotency_key": key}
    confirmation = client.post(order_url(hoodie), data)
    assert confirmation.context["confirming"] is True
    assert hidden_key(confirmation) == key  # the key made when the form was shown goes through the step

    first = client.post(order_url(hoodie), {**data, "confirmed": "True"})
    client.get(first["Location"])  # My orders shows the message; then the same confirmation again (Back, Place order)
    second = client.post(order_url(hoodie), {**data, "confirmed": "True"})

    order = Order.objects.get()
    assert first.status_code == second.status_code == 302
    assert first["Location"] == second["Location"] == MY_ORDERS
    placed = f"Order {order.number} is placed: 80.00 Bonuses are reserved."
    assert message_texts(first) == [placed]
    assert message_texts(second) == [placed]  # the repeat shows the first order
    assert Reservation.objects.count() == 1
    assert Entry.objects.filter(kind=Entry.Kind.ORDER_RESERVED).count() == 1
    assert held(shopper) == (20, 80)
    assert Gift.objects.get(pk=hoodie.pk).stock == 3
    assert IdempotencyKey.objects.get(key=key).order == order


@pytest.mark.django_db
def test_a_new_order_form_is_a_new_order(client, shopper, hoodie):
    for _round in range(2):
        key = hidden_key(client.get(order_url(hoodie)))
        data = {"quantity": "1", "confirmed": "True", "idempotency_key": key}
        assert client.post(order_url(hoodie), data).status_code == 302
    assert Order.objects.count() == 2
    assert held(shopper) == (20, 80)


@pytest.mark.django_db
def test_a_repeat_after_a_refusal_gives_the_refusal_again(client, shopper, hoodie, administrator, ledger_snapshot):
    data = {"quantity": "3", "confirmed": "True", "idempotency_key": uuid.uuid4().hex}
    refusal = "Only 100.00 Bonuses are available; 120.00 were asked for."
    first = client.post(order_url(hoodie), data)
    assert first.status_code == 400 and refusal in first.context["form"].non_field_errors()
    assert hidden_key(first) != data["idempotency_key"]  # the corrected order will be a new request

    services.accrue(user=shopper, amount=100, actor=administrator)  # enough now, but the key was refused
    before = ledger_snapshot()
    second = client.post(order_url(hoodie), data)

    assert second.status_code == 400
    assert second.context["form"].non_field_errors() == [refusal]
    assert ledger_snapshot() == before
    # The form shown with the refusal carries a new key: with it, the order goes through.
    third = client.post(order_url(hoodie), {**data, "idempotency_key": hidden_key(second)})
    assert third.status_code == 302 and Order.objects.count() == 1


@pytest.mark.django_db
def test_the_same_key_with_other_data_is_refused(client, shopper, hoodie, ledger_snapshot):
    key = uuid.uuid4().hex
    assert client.post(order_url(hoodie), {"quantity": "1", "confirmed": "True", "idempotency_key": key}).status_code
    before = ledger_snapshot()
    response = client.post(order_url(hoodie), {"quantity": "2", "confirmed": "True", "idempotency_key": key})
    assert response.status_code == 400
    assert response.context["form"].non_field_errors() == ["This request was already submitted with different data."]
    assert ledger_snapshot() == before


@pytest.mark.django_db
def test_a_confirmed_order_without_a_key_is_refused(client, shopper, hoodie, ledger_snapshot):
    before = ledger_snapshot()
    response = client.post(order_url(hoodie), {"quantity": "1", "confirmed": "True"})
    assert response.status_code == 400
    assert response.context["form"].errors["idempotency_key"] == ["This field is required."]
    assert "This field is required." in response.content.decode()
    assert ledger_snapshot() == before


@pytest.fixture
def desk(client, administrator, employee, bonuses, hoodie, mailoutbox, django_capture_on_commit_callbacks):
    """The currency requires confirmation, the employee has 100 points and a code was sent to them."""
    services.update_currency_settings(bonuses, requires_confirmation=True)
    services.accrue(user=employee, amount=100, actor=administrator)
    client.force_login(administrator)
    page = client.get(DESK)
    with django_capture_on_commit_callbacks(execute=True):
        sent = client.post(
            DESK, {"employee": employee.pk, "gift": hoodie.pk, "quantity": "1", "send_code": "1", **key_of(page)}
        )
    assert sent.status_code == 200
    return {"employee": employee.pk, "gift": hoodie.pk, "quantity": "1", "code": sent_code(mailoutbox), **key_of(sent)}


def key_of(response) -> dict:
    return {"idempotency_key": hidden_key(response)}


@pytest.mark.django_db
def test_the_gift_desk_posted_twice_places_one_order(client, desk, employee, hoodie):
    first = client.post(DESK, desk)
    client.get(first["Location"])
    second = client.post(DESK, desk)

    order = Order.objects.get()
    assert first.status_code == second.status_code == 302
    assert first["Location"] == second["Location"] == "/bonuses/orders/"
    assert message_texts(second) == [f"Order {order.number} is placed for {employee.full_name}."]
    assert held(employee) == (60, 40)
    assert Gift.objects.get(pk=hoodie.pk).stock == 4


@pytest.mark.django_db
def test_a_wrong_code_posted_twice_counts_once(client, desk, employee, ledger_snapshot):
    before = ledger_snapshot(skip=REMEMBERED_REFUSAL | COUNTED_CODE)
    wrong = {**desk, "code": f"{(int(desk['code']) + 1) % 10**6:06d}"}
    first = client.post(DESK, wrong)
    second = client.post(DESK, wrong)

    assert first.status_code == second.status_code == 400
    assert second.context["form"].non_field_errors() == ["The code is wrong or has expired."]
    assert shop.code_attempts_left(user=employee) == 2
    assert ledger_snapshot(skip=REMEMBERED_REFUSAL | COUNTED_CODE) == before
    # The form shown after the refusal has a new key; the right code with it places the order.
    assert client.post(DESK, {**desk, **key_of(second)}).status_code == 302
    assert Order.objects.count() == 1


@pytest.mark.django_db
def test_place_order_with_the_same_key_returns_the_first_order(employee, administrator, hoodie):
    services.accrue(user=employee, amount=100, actor=administrator)
    first = shop.place_order(user=employee, gift=hoodie, quantity=1, idempotency_key="k1")
    again = shop.place_order(user=employee, gift=hoodie, quantity=1, idempotency_key="k1")
    other = shop.place_order(user=employee, gift=hoodie, quantity=1, idempotency_key="k2")
    assert again == first != other
    assert Order.objects.count() == 2 and held(employee) == (20, 80)


# In parallel (PostgreSQL) --------------------------------------------------------------------


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_the_same_order_posted_twice_at_once_places_one(bonuses, administrator):
    """Ten employees each press "Place order" twice at the same moment (two requests with one key)."""
    people = new_employees(10, "double")
    gift = Gift.objects.create(
        name="Mug", category=Category.objects.create(name="Kitchen"), price=10, currency=bonuses, stock=100
    )
    rounds = []
    for person in people:
        services.accrue(user=person, amount=100, actor=administrator)
        data = {"quantity": "3", "confirmed": "True", "idempotency_key": uuid.uuid4().hex}

        def post(person=person, data=data):
            client = Client()
            client.force_login(person)
            response = client.post(order_url(gift), data)
            return response.status_code, message_texts(response)

        rounds.append([post, post])

    outcomes = race(rounds)

    for person, results in zip(people, outcomes, strict=True):
        assert kinds(results) == Counter(ok=2), (person, results)
        order = Order.objects.get(user=person)
        assert results == [(302, [f"Order {order.number} is placed: 30.00 Bonuses are reserved."])] * 2
        assert held(person) == (70, 30)
        assert Entry.objects.filter(user=person, kind=Entry.Kind.ORDER_RESERVED).count() == 1
    assert Gift.objects.get(pk=gift.pk).stock == 100 - 3 * len(people)
    for account in Account.objects.all():
        assert selectors.ledger_problems(account) == [], account


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_the_same_desk_order_posted_twice_at_once_places_one(bonuses, administrator, mailoutbox):
    bonuses = services.update_currency_settings(bonuses, requires_confirmation=True)
    people = new_employees(6, "desk-double")
    gift = Gift.objects.create(
        name="Pen", category=Category.objects.create(name="Office"), price=5, currency=bonuses, stock=None
    )
    rounds = []
    for person in people:
        services.accrue(user=person, amount=50, actor=administrator)
        shop.send_code(user=person)
        place = {"user": person, "gift": gift, "quantity": 2, "actor": administrator, "code": sent_code(mailoutbox)}
        key = uuid.uuid4().hex
        rounds.append([lambda place=place, key=key: shop.place_order(**place, idempotency_key=key)] * 2)

    outcomes = race(rounds)

    for person, results in zip(people, outcomes, strict=True):
        assert kinds(results) == Counter(ok=2), (person, results)
        first, second = results
        assert first.pk == second.pk == Order.objects.get(user=person).pk
        assert held(person) == (40, 10)
