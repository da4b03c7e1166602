"""Confirmation codes at the gift desk (issue 9, point 8).

The seed's rule: 3 attempts per code; three wrong entries of the same code block sending and
entering codes for 12 hours. Pressing "Place order" with no code waiting (none sent, the last one
used or expired) is no attempt: it says to send a code first and counts nothing. A new code starts
with all three attempts, and the desk page shows how many are left after a wrong entry.
"""

import re
from datetime import timedelta

import pytest
from django.db.models import F
from django.utils.html import escape

from bonuses import services
from bonuses.shop import services as shop
from bonuses.shop.exceptions import CodeBlocked, CodeError
from bonuses.shop.models import Category, CodeGuard, ConfirmationCode, Gift, Order
from tests.helpers import COUNTED_CODE, REMEMBERED_REFUSAL, key, local, sent_code

pytestmark = pytest.mark.django_db

DESK = "/bonuses/orders/new/"
SEND_FIRST = "There is no code to enter: send a code to the employee first."
WRONG = "The code is wrong or has expired."
T0 = local(3, 2, 10)


def seconds(n: float):
    return T0 + timedelta(seconds=n)


def wrong_entries(user) -> int:
    guard = CodeGuard.objects.filter(user=user).first()
    return guard.wrong_entries if guard else 0


def errors(response) -> list[str]:
    """The form's errors, each of which must be shown on the page."""
    shown = [str(e) for e in response.context["form"].non_field_errors()]
    for error in shown:
        assert escape(error) in response.content.decode(), error
    return shown


def attempts_line(response) -> str | None:
    match = re.search(r'data-testid="attempts-left"[^>]*>([^<]+)<', response.content.decode())
    return match.group(1).strip() if match else None


def wrong_code(code: str) -> str:
    return f"{(int(code) + 1) % 10**6:06d}"


@pytest.fixture
def gift(bonuses, employee, administrator):
    """The default currency requires confirmation; the employee has 200 points; a gift of 50, 4 in stock."""
    services.update_currency_settings(bonuses, requires_confirmation=True)
    services.accrue(user=employee, amount=200, actor=administrator, at=local(3, 1))
    return Gift.objects.create(
        name="Backpack", category=Category.objects.create(name="Bags"), price=50, currency=bonuses, stock=4
    )


@pytest.fixture
def desk(client, administrator, employee, gift):
    """Post the gift desk's form as the browser does: a fresh key for each order it shows."""
    client.force_login(administrator)

    def post(**data):
        payload = {"employee": employee.pk, "gift": gift.pk, "quantity": "1", "idempotency_key": key()}
        return client.post(DESK, {**payload, **data})

    return post


@pytest.fixture
def send(employee, mailoutbox, django_capture_on_commit_callbacks):
    def send_at(at=None):
        with django_capture_on_commit_callbacks(execute=True):
            shop.send_code(user=employee, at=at)
        return sent_code(mailoutbox)

    return send_at


def test_place_order_before_any_code_was_sent_says_so_and_counts_nothing(desk, employee, ledger_snapshot):
    before = ledger_snapshot(skip=REMEMBERED_REFUSAL)

    for code in ("", "123456"):
        response = desk(code=code)
        assert response.status_code == 400
        assert errors(response) == [SEND_FIRST]
        assert attempts_line(response) is None

    assert wrong_entries(employee) == 0
    assert ledger_snapshot(skip=REMEMBERED_REFUSAL) == before


def test_the_service_refuses_an_order_without_a_waiting_code_and_counts_nothing(
    employee, administrator, gift, send, ledger_snapshot
):
    before = ledger_snapshot()
    with pytest.raises(CodeError) as refused:
        shop.place_order(user=employee, gift=gift, quantity=1, actor=administrator, code="123456", at=seconds(0))
    assert refused.value.message == SEND_FIRST
    assert wrong_entries(employee) == 0 and shop.code_attempts_left(user=employee) is None
    assert ledger_snapshot() == before

    code = send(seconds(1))
    order = shop.place_order(user=employee, gift=gift, quantity=1, actor=administrator, code=code, at=seconds(2))
    # The code is used: pressing "Place order" again, even with the same code, is no attempt either.
    for entry in (code, wrong_code(code)):
        with pytest.raises(CodeError) as refused:
            shop.place_order(user=employee, gift=gift, quantity=1, actor=administrator, code=entry, at=seconds(3))
        assert refused.value.message == SEND_FIRST
    assert wrong_entries(employee) == 0
    assert list(Order.objects.all()) == [order]


def test_an_expired_code_says_so_and_counts_nothing(employee, administrator, gift, send, ledger_snapshot):
    code = send(T0)
    snapshot = ledger_snapshot()
    for entry in (code, wrong_code(code), "", "abc"):
        with pytest.raises(CodeError) as refused:
            shop.place_order(user=employee, gift=gift, quantity=1, actor=administrator, code=entry, at=seconds(301))
        assert refused.value.message == "The code has expired: send a new one."
    assert wrong_entries(employee) == 0
    assert ledger_snapshot() == snapshot
    # A new code then works at once.
    new = send(seconds(302))
    shop.place_order(user=employee, gift=gift, quantity=1, actor=administrator, code=new, at=seconds(303))
    assert Order.objects.count() == 1


def test_the_desk_shows_the_attempts_left_after_each_wrong_entry_and_the_third_blocks(
    desk, send, employee, ledger_snapshot
):
    code = send()
    before = ledger_snapshot(skip=REMEMBERED_REFUSAL | COUNTED_CODE)

    response = desk(code=wrong_code(code))
    assert response.status_code == 400
    assert errors(response) == [WRONG]
    assert attempts_line(response) == "2 attempts left for this code."

    response = desk(code="abcdef")
    assert errors(response) == [WRONG]
    assert attempts_line(response) == "1 attempt left for this code."

    response = desk(code="")
    assert response.status_code == 400
    (blocked,) = errors(response)
    assert blocked == "Too many wrong codes: confirmation is blocked for 12 hours."
    assert attempts_line(response) is None
    guard = CodeGuard.objects.get(user=employee)
    assert guard.wrong_entries == 3 and guard.blocked_until is not None

    # Blocked: the right code is refused, and no new code is sent.
    response = desk(code=code)
    assert "Too many wrong codes: confirmation is blocked until" in errors(response)[0]
    response = desk(code="", send_code="1")
    assert response.status_code == 400 and "blocked until" in errors(response)[0]
    assert ConfirmationCode.objects.count() == 1
    assert ledger_snapshot(skip=REMEMBERED_REFUSAL | COUNTED_CODE) == before


def test_a_new_code_starts_with_three_attempts(employee, administrator, gift, send, ledger_snapshot):
    first = send(T0)
    for n in (1, 2):
        with pytest.raises(CodeError):
            shop.place_order(
                user=employee, gift=gift, quantity=1, actor=administrator, code=wrong_code(first), at=seconds(n)
            )
    assert shop.code_attempts_left(user=employee, at=seconds(3)) == 1

    second = send(seconds(61))

    assert wrong_entries(employee) == 0 and shop.code_attempts_left(user=employee, at=seconds(61)) == 3
    for n in (62, 63):
        with pytest.raises(CodeError) as refused:
            shop.place_order(
                user=employee, gift=gift, quantity=1, actor=administrator, code=wrong_code(second), at=seconds(n)
            )
        assert not isinstance(refused.value, CodeBlocked)  # four wrong entries in all, two of this code
    assert CodeGuard.objects.get(user=employee).blocked_until is None
    order = shop.place_order(user=employee, gift=gift, quantity=1, actor=administrator, code=second, at=seconds(64))
    assert order.points == 50


def test_one_typo_weeks_later_does_not_block(desk, send, employee, mailoutbox):
    """Two wrong entries and an order three weeks ago; today a new code and one typo leave two attempts."""
    code = send()
    for entry in (wrong_code(code), "abcdef"):
        assert desk(code=entry).status_code == 400
    assert desk(code=code).status_code == 302
    weeks = timedelta(weeks=3)
    ConfirmationCode.objects.update(sent_at=F("sent_at") - weeks, expires_at=F("expires_at") - weeks)

    # Today, "Place order" with a typo before sending the new code: no attempt.
    response = desk(code=wrong_code(code))
    assert errors(response) == [SEND_FIRST]
    assert wrong_entries(employee) == 2  # what the old code had; it no longer matters

    today = send()
    response = desk(code=wrong_code(today))
    assert response.status_code == 400
    assert errors(response) == [WRONG]
    assert attempts_line(response) == "2 attempts left for this code."
    assert CodeGuard.objects.get(user=employee).blocked_until is None

    response = desk(code=today)
    assert response.status_code == 302
    assert Order.objects.count() == 2
