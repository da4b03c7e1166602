"""The employee's own balance page, /account/balance/ (issue 5): every figure of each currency, the
upcoming expiries and activations, and only the employee's own history, each order step naming its order.
"""

from datetime import timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from bonuses import rules, services
from bonuses.models import Entry, Lot
from bonuses.shop import services as shop
from bonuses.shop.models import Order
from tests.helpers import page_text

pytestmark = pytest.mark.django_db

MY_BALANCE = "/account/balance/"


def test_my_balance_shows_the_figures_expiries_activations_and_only_my_history(
    client, employee, administrator, make_user, catalog, stars
):
    colleague = make_user("colleague@example.com", full_name="Clara Colleague")
    services.accrue(user=colleague, amount=500, actor=administrator, comment="Secret bonus for Clara")
    today = timezone.localdate()
    soon, later, activation = today + timedelta(days=10), today + timedelta(days=20), today + timedelta(days=5)
    # 30 points credited ten days ago with a 3-day lifetime: expired by now.
    services.accrue(user=employee, amount=30, actor=administrator, lifetime_days=3, at=timezone.now() - timedelta(10))
    services.accrue(user=employee, amount=200, actor=administrator, comment="Annual bonus")
    services.write_off(user=employee, amount=15, actor=administrator, comment="Correction")
    hoodie = shop.place_order(user=employee, gift=catalog["Hoodie"], quantity=1)
    shop.complete_order(hoodie, actor=administrator)
    mugs = shop.place_order(user=employee, gift=catalog["Mug"], quantity=2)  # 20 reserved
    services.accrue(user=employee, amount=40, actor=administrator, expires_on=soon)
    services.accrue(user=employee, amount=25, actor=administrator, expires_on=soon)  # the same day: grouped
    services.accrue(user=employee, amount=10, actor=administrator, expires_on=later)
    services.accrue(user=employee, amount=50, actor=administrator, activates_on=activation)
    services.accrue(user=employee, amount=7, actor=administrator, currency=stars)
    client.force_login(employee)

    response = client.get(MY_BALANCE)

    assert response.status_code == 200
    accounts = {a["currency"].name: a for a in response.context["accounts"]}
    assert list(accounts) == ["Bonuses", "Stars"]
    b = accounts["Bonuses"]["balance"]
    assert (b.active, b.reserved, b.non_activated, b.spent, b.written_off, b.expired, b.total_accrued) == (
        200,
        20,
        50,
        40,
        15,
        30,
        340,
    )
    assert b.total_accrued == b.active + b.reserved + b.non_activated + b.spent + b.expired
    assert accounts["Bonuses"]["expiries"] == [(soon, 65), (later, 10)]
    assert accounts["Bonuses"]["activations"] == [(activation, 50)]
    assert accounts["Stars"]["balance"].active == 7
    html = response.content.decode()
    for figure, value in [("active", "200.00"), ("reserved", "20.00"), ("non_activated", "50.00"), ("spent", "40.00")]:
        assert f'data-figure="{figure}">{value}<' in html, figure
    for figure, value in [("written_off", "15.00"), ("expired", "30.00"), ("total_accrued", "340.00")]:
        assert f'data-figure="{figure}">{value}<' in html, figure
    shown = page_text(response)
    assert f"65.00 Bonuses expire on {soon.day} {soon:%B %Y}" in shown
    assert f"10.00 Bonuses expire on {later.day} {later:%B %Y}" in shown
    assert f"50.00 Bonuses become active on {activation.day} {activation:%B %Y}" in shown

    history = [row.record for row in response.context["table"].page.object_list]
    assert len(history) == 12 and all(entry.user_id == employee.pk for entry in history)
    kinds = {entry.kind for entry in history}
    assert kinds == {
        Entry.Kind.MANUAL_ACCRUAL,
        Entry.Kind.ORDER_RESERVED,
        Entry.Kind.ORDER_SPENT,
        Entry.Kind.EXPIRED,
        Entry.Kind.MANUAL_WRITE_OFF,
    }
    assert "Annual bonus" in shown and "Correction" in shown
    assert "Secret bonus for Clara" not in shown and colleague.full_name not in shown
    # Each order step names its order (reserved and spent for the hoodie, reserved for the mugs).
    assert shown.count(f"Order {hoodie.number}: Hoodie") == 2 and shown.count(f"Order {mugs.number}: Mug") == 1


def test_my_history_reads_its_orders_without_a_query_per_row(client, shopper, catalog):
    def queries_with(orders: int) -> int:
        while Order.objects.count() < orders:
            shop.place_order(user=shopper, gift=catalog["Mug"], quantity=1)
        with CaptureQueriesContext(connection) as context:
            assert client.get(MY_BALANCE).status_code == 200
        return len(context.captured_queries)

    assert queries_with(1) == queries_with(6)


def test_the_upcoming_expiry_is_the_last_usable_day(client, employee, administrator):
    """An accrual's expiry date is shown as is: the last day the points can be used."""
    last_day = timezone.localdate() + timedelta(days=30)
    services.accrue(user=employee, amount=65, actor=administrator, expires_on=last_day)
    assert rules.last_usable_day(Lot.objects.get().expires_at) == last_day
    client.force_login(employee)
    assert f"65.00 Bonuses expire on {last_day.day} {last_day:%B %Y}" in page_text(client.get(MY_BALANCE))
