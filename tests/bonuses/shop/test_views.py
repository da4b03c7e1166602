"""The shop, the employee's own pages and the administrators' shop screens through Django's test client (issue 5).

The catalog filters as asked and shows my balances; an order goes form → confirmation (balance after
the purchase) → placed, and a refusal is a 400 with the reason and nothing reserved; my orders and my
balance show only my data, whatever id is put in a URL; administrators filter and export the orders,
complete, cancel and return them, order at the gift desk with a code, and manage the catalog, which
employees and managers cannot open.
"""

import re
from datetime import datetime, timedelta
from decimal import Decimal
from io import BytesIO

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import timezone
from django.utils.html import escape
from openpyxl import load_workbook
from PIL import Image

from bonuses import selectors, services
from bonuses.models import Account, Currency, Entry, Reservation
from bonuses.shop import services as shop
from bonuses.shop.models import Category, CodeGuard, Gift, Order
from tests.helpers import COUNTED_CODE, REMEMBERED_REFUSAL, active, key, local, message_texts, page_text
from users.models import Department

pytestmark = pytest.mark.django_db

SHOP = "/shop/"
MY_ORDERS = "/shop/orders/"
MY_BALANCE = "/account/balance/"
ORDERS = "/bonuses/orders/"
DESK = "/bonuses/orders/new/"
GIFTS = "/bonuses/gifts/"
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
ORDER_HEADER = [
    "Order",
    "Placed",
    "Employee",
    "E-mail",
    "Department",
    "Gift",
    "Quantity",
    "Returned",
    "Points",
    "Currency",
    "Status",
    "Completed",
    "Pick-up office",
    "Delivery comment",
]


def order_url(gift) -> str:
    return f"/shop/gifts/{gift.pk}/order/"


def cancel_url(order) -> str:
    return f"/shop/orders/{order.pk}/cancel/"


def action_url(order, action: str) -> str:
    return f"/bonuses/orders/{order.pk}/{action}/"


def page(response) -> str:
    return response.content.decode()


def gift_names(response) -> list[str]:
    return [gift.name for gift in response.context["gifts"]]


def table_ids(response) -> list[int]:
    return [row.record.pk for row in response.context["table"].page.object_list]


# The catalog ---------------------------------------------------------------------------------


def test_the_shop_lists_active_gifts_with_price_and_stock_and_my_balances(client, shopper, catalog):
    response = client.get(SHOP)

    assert response.status_code == 200
    assert gift_names(response) == ["Headphones", "Hoodie", "Mug", "Novel", "Star badge", "Star cap"]
    assert [c.name for c in response.context["categories"]] == ["Books", "Clothes", "Gadgets"]
    shown = page_text(response)
    for phrase in ["100.00 Bonuses", "3 Stars", "40.00 Bonuses", "5 left", "in stock", "out of stock", "4 Stars"]:
        assert phrase in shown, phrase
    assert "Old pen" not in shown
    html = page(response)
    assert f'href="{order_url(catalog["Hoodie"])}"' in html
    assert f'href="{order_url(catalog["Novel"])}"' not in html  # nothing to order when out of stock


def test_large_amounts_have_thousands_separators_on_every_employee_page(client, shopper, catalog, administrator):
    services.accrue(user=shopper, amount=Decimal("12345.50"), actor=administrator)
    big = Gift.objects.create(
        name="E-bike", category=catalog["Hoodie"].category, price=2500, currency=Currency.objects.get(is_default=True)
    )
    shop.place_order(user=shopper, gift=big, quantity=1)

    shown = page_text(client.get(SHOP))  # my active balance, and the price
    assert "9,945.50 Bonuses" in shown and "2,500.00 Bonuses" in shown
    assert 'data-figure="reserved">2,500.00<' in page(client.get(MY_BALANCE))
    assert "2,500.00 Bonuses" in page_text(client.get(MY_ORDERS))
    ordering = page_text(client.get(order_url(big)))
    assert "2,500.00" in ordering and "9,945.50" in ordering


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ({"category": "Gadgets"}, ["Headphones", "Mug"]),
        ({"category": "Clothes", "sort": "price"}, ["Star badge", "Star cap", "Hoodie"]),
        ({"q": "HOOD"}, ["Hoodie"]),
        ({"q": "coffee"}, ["Mug"]),  # the description too
        ({"q": "nothing like it"}, []),
        ({"sort": "price"}, ["Star badge", "Star cap", "Mug", "Novel", "Hoodie", "Headphones"]),
        ({"sort": "-price"}, ["Headphones", "Hoodie", "Novel", "Mug", "Star cap", "Star badge"]),
        ({"category": "Gadgets", "q": "noise", "sort": "-price"}, ["Headphones"]),
        ({"sort": "; drop table"}, ["Headphones", "Hoodie", "Mug", "Novel", "Star badge", "Star cap"]),
        ({"category": "999999"}, ["Headphones", "Hoodie", "Mug", "Novel", "Star badge", "Star cap"]),
        ({"category": "Archive"}, []),  # only inactive gifts there
    ],
)
def test_browse_by_category_search_and_sort_by_price(client, shopper, catalog, query, expected):
    if "category" in query and not query["category"].isdigit():
        query = {**query, "category": Category.objects.get(name=query["category"]).pk}
    response = client.get(SHOP, query)
    assert response.status_code == 200
    assert gift_names(response) == expected


def test_a_malformed_category_is_ignored_not_a_server_error(client, shopper):
    for category in ("-1", "abc", "1.5"):
        response = client.get(SHOP, {"category": category})
        assert response.status_code == 200, category
        assert len(gift_names(response)) == 6


def test_what_i_can_afford_now_goes_by_my_active_balance_in_each_currency(client, shopper, catalog, administrator):
    # 100 Bonuses: Hoodie (40), Mug (10); not Novel (out of stock), not Headphones (150).
    # 3 Stars: Star badge (3), not Star cap (4), although 4 is far below 100 Bonuses.
    assert gift_names(client.get(SHOP, {"affordable": "1"})) == ["Hoodie", "Mug", "Star badge"]
    assert gift_names(client.get(SHOP, {"affordable": "1", "sort": "-price"})) == ["Hoodie", "Mug", "Star badge"]

    # Points that are not active yet do not count; reserved points no longer count.
    services.accrue(
        user=shopper, amount=500, actor=administrator, activates_on=timezone.localdate() + timedelta(days=3)
    )
    shop.place_order(user=shopper, gift=catalog["Hoodie"], quantity=2)  # 80 of 100 reserved

    response = client.get(SHOP, {"affordable": "1"})
    assert gift_names(response) == ["Mug", "Star badge"]
    assert "20.00 Bonuses" in page_text(response)
    assert gift_names(client.get(SHOP, {"affordable": "1", "category": catalog["Mug"].category_id})) == ["Mug"]


def test_an_employee_without_points_can_afford_nothing(client, make_user, catalog):
    client.force_login(make_user("newcomer@example.com"))
    response = client.get(SHOP, {"affordable": "1"})
    assert gift_names(response) == []
    assert "You have no points yet." in page_text(response)
    assert len(gift_names(client.get(SHOP))) == 6


def test_the_employee_pages_need_a_login(client, catalog):
    for url in (SHOP, MY_ORDERS, MY_BALANCE, order_url(catalog["Mug"])):
        response = client.get(url)
        assert response.status_code == 302 and response["Location"].startswith("/accounts/login/"), url


# Ordering ------------------------------------------------------------------------------------


def test_an_order_goes_form_then_confirmation_with_the_balance_after_then_placed(client, shopper, catalog):
    hoodie = catalog["Hoodie"]
    response = client.get(order_url(hoodie))
    assert response.status_code == 200
    assert not response.context.get("confirming")
    assert response.context["active"] == 100

    data = {"quantity": "2", "pickup_office": "Munich office", "delivery_comment": "Size M"}
    response = client.post(order_url(hoodie), data)

    assert response.status_code == 200
    assert response.context["confirming"] is True
    assert (response.context["total"], response.context["active"], response.context["after"]) == (80, 100, 20)
    shown = page_text(response)
    assert "Confirm your order" in shown and "Balance after the purchase 20.00 Bonuses" in shown
    assert "Munich office" in shown and "Size M" in shown
    assert not Order.objects.exists() and not Reservation.objects.exists()  # nothing reserved yet
    shown_key = response.context["form"]["idempotency_key"].value()  # the confirmation posts it back

    response = client.post(order_url(hoodie), {**data, "confirmed": "True", "idempotency_key": shown_key})

    assert response.status_code == 302 and response["Location"] == MY_ORDERS
    order = Order.objects.get()
    assert (order.user, order.gift, order.quantity, order.points, order.status) == (
        shopper,
        hoodie,
        2,
        80,
        Order.Status.PENDING,
    )
    assert (order.pickup_office, order.delivery_comment, order.placed_by) == ("Munich office", "Size M", shopper)
    assert message_texts(response) == [f"Order {order.number} is placed: 80.00 Bonuses are reserved."]
    assert Gift.objects.get(pk=hoodie.pk).stock == 3
    b = selectors.balance(shopper)
    assert (b.active, b.reserved) == (20, 80)


def test_change_on_the_confirmation_goes_back_to_the_form_as_i_filled_it_in(client, shopper, catalog):
    data = {"quantity": "2", "pickup_office": "Munich office", "delivery_comment": "Size M"}
    confirmation = client.post(order_url(catalog["Hoodie"]), data)
    assert 'name="change"' in page(confirmation)

    response = client.post(order_url(catalog["Hoodie"]), {**data, "confirmed": "True", "change": "1"})

    assert response.status_code == 200 and not response.context.get("confirming")
    form = response.context["form"]
    assert (form["quantity"].value(), form["pickup_office"].value(), form["delivery_comment"].value()) == (
        "2",
        "Munich office",
        "Size M",
    )
    html = page(response)
    assert re.search(r'<option value="Munich office"\s+selected', html) and re.search(r">\s*Size M</textarea>", html)
    assert not Order.objects.exists()


@pytest.mark.parametrize(
    ("gift", "quantity", "message"),
    [
        ("Hoodie", 3, "Only 100.00 Bonuses are available; 120.00 were asked for."),
        ("Novel", 1, "Novel is out of stock."),
        ("Headphones", 3, "Only 2 of Headphones left in stock."),
        ("Star cap", 1, "Only 3 Stars are available; 4 were asked for."),
    ],
)
def test_an_order_over_my_balance_or_the_stock_is_refused_with_the_reason(
    client, shopper, catalog, gift, quantity, message, ledger_snapshot
):
    before = ledger_snapshot(skip=REMEMBERED_REFUSAL)
    response = client.post(
        order_url(catalog[gift]), {"quantity": quantity, "confirmed": "True", "idempotency_key": key()}
    )

    assert response.status_code == 400
    assert message in response.context["form"].non_field_errors()
    assert escape(message) in page(response)
    assert ledger_snapshot(skip=REMEMBERED_REFUSAL) == before


def test_the_confirmation_step_warns_when_my_balance_is_not_enough(client, shopper, catalog):
    response = client.post(order_url(catalog["Hoodie"]), {"quantity": "3"})

    assert response.status_code == 200 and response.context["confirming"] is True
    assert response.context["after"] == -20
    assert "Your active balance is not enough for this order." in page_text(response)
    assert re.search(r'<button type="submit" class="btn btn-primary" disabled>', page(response))
    assert not Order.objects.exists() and not Reservation.objects.exists()


@pytest.mark.parametrize("quantity", ["0", "-1", "abc", "", "101"])
def test_a_bad_quantity_is_refused_next_to_the_field(client, shopper, catalog, quantity, ledger_snapshot):
    before = ledger_snapshot()
    response = client.post(order_url(catalog["Mug"]), {"quantity": quantity, "confirmed": "True"})
    assert response.status_code == 400
    assert response.context["form"].errors["quantity"]
    assert ledger_snapshot() == before


def test_a_delivery_comment_over_1000_characters_is_refused(client, shopper, catalog, ledger_snapshot):
    before = ledger_snapshot()
    data = {"quantity": "1", "delivery_comment": "x" * 1001, "confirmed": "True"}
    response = client.post(order_url(catalog["Mug"]), data)
    assert response.status_code == 400
    assert response.context["form"].errors["delivery_comment"]
    assert ledger_snapshot() == before


def test_inactive_or_unknown_gifts_cannot_be_ordered(client, shopper, catalog, ledger_snapshot):
    before = ledger_snapshot()
    assert client.get(order_url(catalog["Old pen"])).status_code == 404
    assert client.post(order_url(catalog["Old pen"]), {"quantity": 1, "confirmed": "True"}).status_code == 404
    assert client.get("/shop/gifts/999999/order/").status_code == 404
    assert ledger_snapshot() == before


# My orders -----------------------------------------------------------------------------------


@pytest.fixture
def colleague(make_user, administrator):
    person = make_user("colleague@example.com", full_name="Clara Colleague")
    services.accrue(user=person, amount=500, actor=administrator, comment="Secret bonus for Clara")
    return person


def test_my_orders_show_only_mine_with_status_points_and_dates(client, shopper, colleague, catalog):
    mine = shop.place_order(user=shopper, gift=catalog["Mug"], quantity=2)
    theirs = shop.place_order(user=colleague, gift=catalog["Hoodie"], quantity=1)

    response = client.get(MY_ORDERS)

    assert response.status_code == 200
    assert list(response.context["object_list"]) == [mine]
    html = page(response)
    assert f'data-order="{mine.number}"' in html and f'data-order="{theirs.number}"' not in html
    assert "20.00 Bonuses" in html and "Pending" in html
    assert timezone.localtime(mine.created_at).strftime("%Y-%m-%d %H:%M") in html
    assert f'action="{cancel_url(mine)}"' in html


def test_i_can_cancel_my_pending_order_and_the_points_come_back(client, shopper, catalog):
    order = shop.place_order(user=shopper, gift=catalog["Hoodie"], quantity=2)
    assert active(shopper) == 20

    response = client.post(cancel_url(order))

    assert response.status_code == 302 and response["Location"] == MY_ORDERS
    assert message_texts(response) == [f"Order {order.number} is cancelled; the points are back."]
    order.refresh_from_db()
    assert order.status == Order.Status.CANCELLED
    assert active(shopper) == 100
    assert Gift.objects.get(pk=catalog["Hoodie"].pk).stock == 5
    assert Entry.objects.filter(reservation=order.reservation, kind=Entry.Kind.ORDER_RELEASED, actor=shopper).exists()


def test_cancelling_someone_elses_order_is_a_404_and_changes_nothing(
    client, shopper, colleague, catalog, ledger_snapshot
):
    theirs = shop.place_order(user=colleague, gift=catalog["Hoodie"], quantity=1)
    before = ledger_snapshot()

    assert client.post(cancel_url(theirs)).status_code == 404
    assert client.post("/shop/orders/999999/cancel/").status_code == 404

    assert ledger_snapshot() == before


def test_an_order_that_is_no_longer_pending_cannot_be_cancelled_by_me(
    client, shopper, catalog, administrator, ledger_snapshot
):
    order = shop.complete_order(shop.place_order(user=shopper, gift=catalog["Mug"], quantity=1), actor=administrator)
    before = ledger_snapshot()

    response = client.post(cancel_url(order))

    assert response.status_code == 302
    assert message_texts(response) == [f"Order {order.number} is Completed."]
    assert ledger_snapshot() == before
    assert f'action="{cancel_url(order)}"' not in page(client.get(MY_ORDERS))


def test_cancelling_needs_a_post(client, shopper, catalog):
    order = shop.place_order(user=shopper, gift=catalog["Mug"], quantity=1)
    assert client.get(cancel_url(order)).status_code == 405
    assert Order.objects.get(pk=order.pk).status == Order.Status.PENDING


def test_nobody_opens_another_employees_pages_by_changing_an_id(client, shopper, colleague, catalog, ledger_snapshot):
    theirs = shop.place_order(user=colleague, gift=catalog["Mug"], quantity=1)
    before = ledger_snapshot()
    for url in (MY_BALANCE, MY_ORDERS):
        for query in ({"user": colleague.pk}, {"user_id": colleague.pk}, {"employee": colleague.pk}):
            response = client.get(url, query)
            assert response.status_code == 200
            assert "Secret bonus for Clara" not in page(response)
            assert f'data-order="{theirs.number}"' not in page(response)
    balance = client.get(MY_BALANCE, {"user": colleague.pk}).context["accounts"][0]["balance"]
    assert balance.active == 100  # mine, not theirs (499)
    # The administrators' screens by id are closed to employees.
    assert client.post(action_url(theirs, "cancel")).status_code == 403
    assert client.post(action_url(theirs, "complete")).status_code == 403
    assert client.get(f"/bonuses/log/?employee={colleague.pk}").status_code == 403
    assert ledger_snapshot() == before


# The administrators' orders table ------------------------------------------------------------


@pytest.fixture
def orders(administrator, employee, make_user, catalog, department):
    """Five orders of two employees in two departments, placed 2 to 6 March, in every status."""
    finance = Department.objects.create(name="Finance")
    outsider = make_user("outsider@example.com", department=finance, full_name="Olga Outsider")
    for person in (employee, outsider):
        services.accrue(user=person, amount=500, actor=administrator, at=local(3, 1))
    hoodie, mug = catalog["Hoodie"], catalog["Mug"]
    shop.place_order(user=employee, gift=hoodie, quantity=1, at=local(3, 2))
    completed = shop.place_order(user=employee, gift=mug, quantity=1, pickup_office="Berlin HQ", at=local(3, 3))
    shop.complete_order(completed, actor=administrator, at=local(3, 4))
    cancelled = shop.place_order(user=outsider, gift=hoodie, quantity=1, at=local(3, 4))
    shop.cancel_order(cancelled, actor=administrator, at=local(3, 5))
    returned = shop.place_order(
        user=outsider, gift=mug, quantity=2, delivery_comment="=HYPERLINK()", at=local(3, 5, 12)
    )
    shop.complete_order(returned, actor=administrator, at=local(3, 5, 13))
    shop.return_order(returned, actor=administrator, at=local(3, 6))
    partial = shop.place_order(user=employee, gift=mug, quantity=3, at=local(3, 6))
    shop.complete_order(partial, actor=administrator, at=local(3, 6, 13))
    shop.return_order(partial, quantity=1, actor=administrator, at=local(3, 6, 14))
    found = {o.status: o for o in Order.objects.all()}
    return {
        "pending": found["pending"],
        "completed": found["completed"],
        "cancelled": found["cancelled"],
        "returned": found["returned"],
        "partial": found["partially_returned"],
        "employee": employee,
        "outsider": outsider,
        "sales": department,
        "finance": finance,
        "hoodie": hoodie,
        "mug": mug,
    }


FILTERS = [
    ("everything", lambda w: {}, ["partial", "returned", "cancelled", "completed", "pending"]),
    ("pending", lambda w: {"status": "pending"}, ["pending"]),
    ("two statuses", lambda w: {"status": ["completed", "returned"]}, ["returned", "completed"]),
    ("employee", lambda w: {"employee": w["outsider"].pk}, ["returned", "cancelled"]),
    ("department", lambda w: {"department": w["sales"].pk}, ["partial", "completed", "pending"]),
    ("gift", lambda w: {"gift": w["hoodie"].pk}, ["cancelled", "pending"]),
    ("period", lambda w: {"period_from": "2026-03-03", "period_to": "2026-03-04"}, ["cancelled", "completed"]),
    ("from a day", lambda w: {"period_from": "2026-03-06"}, ["partial"]),
    ("combined", lambda w: {"department": w["sales"].pk, "gift": w["mug"].pk}, ["partial", "completed"]),
    ("number", lambda w: {"number": w["returned"].pk}, ["returned"]),
    ("no match", lambda w: {"department": w["finance"].pk, "status": "pending"}, []),
]


@pytest.mark.parametrize(("label", "query", "expected"), FILTERS, ids=[f[0] for f in FILTERS])
def test_the_orders_table_filters_by_status_employee_department_gift_and_period(
    as_admin, orders, label, query, expected
):
    response = as_admin.get(ORDERS, query(orders))
    assert response.status_code == 200
    assert table_ids(response) == [orders[name].pk for name in expected]


def download(client, query) -> tuple:
    response = client.get(ORDERS, {**query, "export": "xlsx"})
    assert response.status_code == 200
    assert response["Content-Type"] == XLSX
    sheet = load_workbook(BytesIO(b"".join(response.streaming_content))).active
    return response, sheet


@pytest.mark.parametrize(("label", "query", "expected"), FILTERS, ids=[f[0] for f in FILTERS])
def test_the_excel_export_holds_exactly_the_filtered_orders(as_admin, orders, label, query, expected):
    _response, sheet = download(as_admin, query(orders))
    rows = list(sheet.iter_rows(min_row=3, values_only=True))
    assert [row[0] for row in rows] == [orders[name].number for name in expected]


def test_the_excel_export_has_typed_cells_and_names_its_filters(as_admin, orders):
    response, sheet = download(as_admin, {"status": ["partially_returned", "returned"]})

    assert "orders_" in response["Content-Disposition"] and ".xlsx" in response["Content-Disposition"]
    assert "Partially returned, Returned" in sheet["A1"].value
    assert [cell.value for cell in sheet[2]] == ORDER_HEADER
    assert all(cell.font.b for cell in sheet[2])
    assert sheet.freeze_panes == "A3"
    rows = list(sheet.iter_rows(min_row=3))
    assert len(rows) == 2
    partial, returned = ([cell.value for cell in row] for row in rows)
    assert partial == [
        orders["partial"].number,
        datetime(2026, 3, 6, 12, 0),
        "Erik Employee",
        "employee@example.com",
        "Sales",
        "Mug",
        3,
        1,
        30,
        "Bonuses",
        "Partially returned",
        datetime(2026, 3, 6, 13, 0),
        None,
        None,
    ]
    assert returned[2:4] == ["Olga Outsider", "outsider@example.com"]
    assert returned[13] == "'=HYPERLINK()"  # text that a spreadsheet would run stays text
    placed, quantity, points = rows[0][1], rows[0][6], rows[0][8]
    assert isinstance(placed.value, datetime) and placed.is_date
    assert isinstance(quantity.value, int)
    assert isinstance(points.value, int | float) and points.number_format == "#,##0.00"


def test_the_log_shows_each_order_step_with_its_order(as_admin, orders):
    employee, partial = orders["employee"], orders["partial"]
    response = as_admin.get("/bonuses/log/", {"employee": employee.pk})
    records = [row.record for row in response.context["table"].page.object_list]
    steps = [(e.kind, e.amount) for e in records if e.reservation_id == partial.reservation_id]
    assert sorted(steps) == sorted(
        [(Entry.Kind.ORDER_RESERVED, -30), (Entry.Kind.ORDER_SPENT, -30), (Entry.Kind.ORDER_REFUNDED, 10)]
    )
    assert f'<a href="{ORDERS}?number={partial.pk}">Order {partial.number}</a>' in page(response)
    assert f"Order Order {partial.number}" not in page_text(response)
    assert table_ids(as_admin.get(ORDERS, {"number": partial.pk})) == [partial.pk]  # where the link leads


# Actions -------------------------------------------------------------------------------------


def test_complete_cancel_and_return_by_post(as_admin, orders):
    pending, completed, partial = orders["pending"], orders["completed"], orders["partial"]
    employee = orders["employee"]
    before_active = active(employee)

    response = as_admin.post(action_url(pending, "complete"))
    assert response.status_code == 302 and response["Location"] == ORDERS
    assert message_texts(response) == [f"Order {pending.number} is completed: the points are spent."]
    assert Order.objects.get(pk=pending.pk).status == Order.Status.COMPLETED

    response = as_admin.post(action_url(completed, "return"), {"quantity": "1"})
    assert response.status_code == 302
    assert Order.objects.get(pk=completed.pk).status == Order.Status.RETURNED
    assert active(employee) == before_active + 10

    response = as_admin.post(action_url(partial, "return"), {"quantity": "2", "next": f"{ORDERS}?status=returned"})
    assert response.status_code == 302 and response["Location"] == f"{ORDERS}?status=returned"
    assert Order.objects.get(pk=partial.pk).status == Order.Status.RETURNED
    assert Gift.objects.get(pk=orders["mug"].pk).stock is None
    for account in Account.objects.all():
        assert selectors.ledger_problems(account) == []


def test_an_administrator_cancels_a_pending_order_and_the_stock_comes_back(as_admin, orders, administrator):
    pending = orders["pending"]
    stock = Gift.objects.get(pk=orders["hoodie"].pk).stock

    response = as_admin.post(action_url(pending, "cancel"))

    assert response.status_code == 302
    assert Order.objects.get(pk=pending.pk).status == Order.Status.CANCELLED
    assert Gift.objects.get(pk=orders["hoodie"].pk).stock == stock + 1
    released = Entry.objects.get(reservation=pending.reservation, kind=Entry.Kind.ORDER_RELEASED)
    assert released.actor == administrator


@pytest.mark.parametrize(
    ("name", "action", "data", "message"),
    [
        ("partial", "return", {"quantity": "3"}, "Between 1 and 2 items of this order can be returned."),
        ("partial", "return", {"quantity": "0"}, "Ensure this value is greater than or equal to 1."),
        ("partial", "return", {}, "This field is required."),
        ("partial", "return", {"quantity": "two"}, "Enter a whole number."),
        ("completed", "complete", {}, "is Completed."),
        ("completed", "cancel", {}, "is Completed."),
        ("cancelled", "return", {"quantity": "1"}, "is Cancelled."),
        ("pending", "return", {"quantity": "1"}, "is Pending."),
        ("returned", "return", {"quantity": "1"}, "is Returned."),
    ],
)
def test_a_refused_action_says_why_and_changes_nothing(as_admin, orders, name, action, data, message, ledger_snapshot):
    before = ledger_snapshot()
    response = as_admin.post(action_url(orders[name], action), data)
    assert response.status_code == 302
    messages = message_texts(response)
    assert len(messages) == 1 and messages[0].endswith(message), messages
    assert ledger_snapshot() == before


def test_unknown_actions_and_orders_are_404_and_actions_need_a_post(as_admin, orders, ledger_snapshot):
    before = ledger_snapshot()
    assert as_admin.post(action_url(orders["pending"], "delete")).status_code == 404
    assert as_admin.post("/bonuses/orders/999999/complete/").status_code == 404
    assert as_admin.get(action_url(orders["pending"], "complete")).status_code == 405
    assert ledger_snapshot() == before


def test_an_action_never_redirects_to_another_site(as_admin, orders):
    response = as_admin.post(action_url(orders["pending"], "complete"), {"next": "https://evil.example/phish"})
    assert response.status_code == 302
    assert not response["Location"].startswith(("http://", "https://", "//")), response["Location"]


# The gift desk -------------------------------------------------------------------------------


@pytest.fixture
def desk(as_admin, employee, administrator, bonuses, catalog):
    services.update_currency_settings(bonuses, requires_confirmation=True)
    services.accrue(user=employee, amount=100, actor=administrator)
    return {"employee": employee.pk, "gift": catalog["Hoodie"].pk, "quantity": "2", "pickup_office": "Berlin HQ"}


def test_the_desk_order_sends_a_code_then_places_the_order_with_it(
    as_admin, desk, employee, administrator, mailoutbox, django_capture_on_commit_callbacks, ledger_snapshot
):
    assert as_admin.get(DESK).status_code == 200

    with django_capture_on_commit_callbacks(execute=True):
        response = as_admin.post(DESK, {**desk, "send_code": "1"})

    assert response.status_code == 200
    assert message_texts(response) == [f"A code was sent to {employee.email}."]
    assert [m.to for m in mailoutbox] == [[employee.email]]
    code = re.search(r"\b(\d{6})\b", mailoutbox[0].body).group(1)
    assert not Order.objects.exists()

    before = ledger_snapshot(skip=REMEMBERED_REFUSAL | COUNTED_CODE)
    response = as_admin.post(DESK, {**desk, "send_code": "1"})  # again at once: too early
    assert response.status_code == 400
    assert "A new code can be sent in" in " ".join(response.context["form"].non_field_errors())
    response = as_admin.post(DESK, {**desk, "idempotency_key": key()})  # without the code
    assert response.status_code == 400
    assert "The code is wrong or has expired." in response.context["form"].non_field_errors()
    assert ledger_snapshot(skip=REMEMBERED_REFUSAL | COUNTED_CODE) == before
    assert CodeGuard.objects.get(user=employee).wrong_entries == 1

    response = as_admin.post(DESK, {**desk, "code": code, "idempotency_key": key()})

    assert response.status_code == 302 and response["Location"] == ORDERS
    order = Order.objects.get()
    assert (order.user, order.placed_by, order.quantity, order.points) == (employee, administrator, 2, 80)
    assert message_texts(response) == [f"Order {order.number} is placed for {employee.full_name}."]
    assert active(employee) == 20


def test_a_wrong_desk_code_reserves_nothing_and_three_block(as_admin, desk, employee, ledger_snapshot):
    shop.send_code(user=employee)
    before = ledger_snapshot(skip=REMEMBERED_REFUSAL | COUNTED_CODE)
    for attempt in (1, 2):
        response = as_admin.post(DESK, {**desk, "code": "abcdef", "idempotency_key": key()})
        assert response.status_code == 400
        assert response.context["form"].non_field_errors() == ["The code is wrong or has expired."]
        assert CodeGuard.objects.get(user=employee).wrong_entries == attempt
    response = as_admin.post(DESK, {**desk, "code": "12345", "idempotency_key": key()})
    assert response.status_code == 400
    assert "Too many wrong codes" in " ".join(response.context["form"].non_field_errors())
    response = as_admin.post(DESK, {**desk, "send_code": "1"})
    assert response.status_code == 400
    assert "blocked" in " ".join(response.context["form"].non_field_errors())
    assert ledger_snapshot(skip=REMEMBERED_REFUSAL | COUNTED_CODE) == before


def test_a_desk_order_over_the_balance_is_refused(as_admin, desk, ledger_snapshot):
    before = ledger_snapshot()
    response = as_admin.post(DESK, {**desk, "quantity": "3", "code": "123456"})
    assert response.status_code == 400
    assert ledger_snapshot() == before


# The catalog screens -------------------------------------------------------------------------


def gift_data(catalog, **changes) -> dict:
    data = {
        "name": "Water bottle",
        "category": catalog["Mug"].category_id,
        "description": "Steel, 0.5 l",
        "price": "35",
        "currency": Currency.objects.get(is_default=True).pk,
        "stock": "12",
        "is_active": "on",
    }
    return {k: v for k, v in {**data, **changes}.items() if v is not None}


def png() -> SimpleUploadedFile:
    buffer = BytesIO()
    Image.new("RGB", (8, 8), (200, 30, 30)).save(buffer, "PNG")
    return SimpleUploadedFile("bottle.png", buffer.getvalue(), content_type="image/png")


def test_an_administrator_creates_a_gift_with_a_picture_and_edits_it(as_admin, catalog, settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path
    assert as_admin.get(f"{GIFTS}new/").status_code == 200

    response = as_admin.post(f"{GIFTS}new/", {**gift_data(catalog), "picture": png()})

    assert response.status_code == 302 and response["Location"] == GIFTS
    gift = Gift.objects.get(name="Water bottle")
    assert (gift.price, gift.stock, gift.is_active, gift.description) == (35, 12, True, "Steel, 0.5 l")
    assert gift.picture.name.startswith("gifts/") and (tmp_path / gift.picture.name).exists()
    assert "Water bottle" in page(as_admin.get(GIFTS))

    response = as_admin.post(f"{GIFTS}{gift.pk}/", gift_data(catalog, price="39.50", stock=None, is_active=None))

    assert response.status_code == 302
    gift.refresh_from_db()
    assert (gift.price, gift.stock, gift.is_active) == (Decimal("39.50"), None, False)  # empty stock: unlimited
    assert "Water bottle" not in gift_names(as_admin.get(SHOP))


@pytest.mark.parametrize("price", ["0", "-5", "abc", "1.234"])
def test_a_gift_with_a_bad_price_is_refused(as_admin, catalog, price, ledger_snapshot):
    before = ledger_snapshot()
    response = as_admin.post(f"{GIFTS}new/", gift_data(catalog, price=price))
    assert response.context["form"].errors["price"]
    assert escape(response.context["form"].errors["price"][0]) in page(response)
    assert ledger_snapshot() == before


def test_a_refused_gift_form_answers_400_like_every_other_form(as_admin, catalog):
    """SPEC.md section 8: bad input gets a message next to the field and an HTTP 4xx for programmatic calls."""
    gift = catalog["Mug"]
    for url in (f"{GIFTS}new/", f"{GIFTS}{gift.pk}/"):
        response = as_admin.post(url, gift_data(catalog, price="0"))
        assert response.context["form"].errors["price"]
        assert response.status_code == 400, url


def test_a_fractional_price_is_refused_in_a_whole_number_currency(as_admin, catalog, stars, ledger_snapshot):
    before = ledger_snapshot()
    response = as_admin.post(f"{GIFTS}new/", gift_data(catalog, price="2.50", currency=stars.pk))
    assert response.context["form"].errors["price"] == ["Stars are whole numbers only."]
    assert ledger_snapshot() == before


def test_deleting_a_gift_deletes_it_unless_it_was_ordered_then_it_is_deactivated(as_admin, catalog, orders):
    never = catalog["Headphones"]
    ordered = catalog["Hoodie"]

    response = as_admin.post(f"{GIFTS}{never.pk}/delete/")
    assert response.status_code == 302
    assert message_texts(response) == ["Headphones is deleted."]
    assert not Gift.objects.filter(pk=never.pk).exists()

    response = as_admin.post(f"{GIFTS}{ordered.pk}/delete/")
    assert response.status_code == 302
    assert message_texts(response)[-1] == "Hoodie was ordered before, so it is deactivated, not deleted."
    assert Gift.objects.filter(pk=ordered.pk, is_active=False).exists()
    assert Order.objects.filter(gift=ordered).count() == 2
    assert "Hoodie" not in gift_names(as_admin.get(SHOP))
    assert as_admin.get(order_url(ordered)).status_code == 404


# Who may open the administrators' shop screens -----------------------------------------------


ADMIN_SCREENS = [
    ("GET", lambda w: ORDERS),
    ("GET", lambda w: f"{ORDERS}?export=xlsx"),
    ("GET", lambda w: DESK),
    ("POST", lambda w: DESK),
    ("POST", lambda w: action_url(w["pending"], "complete")),
    ("POST", lambda w: action_url(w["pending"], "cancel")),
    ("POST", lambda w: action_url(w["completed"], "return")),
    ("GET", lambda w: GIFTS),
    ("GET", lambda w: f"{GIFTS}new/"),
    ("POST", lambda w: f"{GIFTS}new/"),
    ("GET", lambda w: f"{GIFTS}{w['hoodie'].pk}/"),
    ("POST", lambda w: f"{GIFTS}{w['hoodie'].pk}/"),
    ("POST", lambda w: f"{GIFTS}{w['hoodie'].pk}/delete/"),
]


@pytest.mark.parametrize("role", ["employee", "manager"])
def test_employees_and_managers_get_403_on_the_administrators_shop_screens(
    client, orders, catalog, role, request, manager, ledger_snapshot
):
    client.force_login(request.getfixturevalue(role))
    before = ledger_snapshot()
    for method, path in ADMIN_SCREENS:
        url = path(orders)
        if method == "GET":
            response = client.get(url)
        else:
            response = client.post(url, {**gift_data(catalog), "employee": orders["employee"].pk, "quantity": "1"})
        assert response.status_code == 403, (role, method, url)
    assert ledger_snapshot() == before


def test_logged_out_visitors_are_sent_to_the_login_page(client, orders):
    for _method, path in ADMIN_SCREENS[:3]:
        response = client.get(path(orders))
        assert response.status_code == 302 and response["Location"].startswith("/accounts/login/")


def test_the_balance_after_the_purchase_is_in_the_currency_of_the_gift(client, shopper, catalog):
    response = client.post(order_url(catalog["Star badge"]), {"quantity": "1"})
    assert response.context["after"] == 0
    assert "Balance after the purchase 0 Stars" in page_text(response)
