"""Small things a user notices (issue 9): whole numbers without ".00", one way of writing amounts in
messages and tables, the log's count and its removable batch filter, plurals, and periods (a start
after the end, a day at the edge of the calendar) that get a message, never a 500.
"""

import re
from io import BytesIO

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from openpyxl import load_workbook

from bonuses import services
from bonuses.exceptions import InactiveEmployee
from bonuses.models import Batch, Entry
from bonuses.shop import services as shop
from bonuses.shop.exceptions import OrderError
from bonuses.shop.models import Category, Gift, Order
from giftshop.templatetags.points import points
from tests.helpers import ACCRUAL_LIST, LOG, local, message_texts, post_bulk, post_single, post_write_off

pytestmark = pytest.mark.django_db

ORDERS = "/bonuses/orders/"
PERIOD_ERROR = "The end of the period is before its start."


def amounts(html: str) -> list[str]:
    """The figures the tables show, in order (`<span class="amount ...">…</span>`)."""
    return re.findall(r'<span class="amount[^"]*">([^<]*)</span>', html)


def xlsx(response):
    assert response.status_code == 200, response
    # Reading the whole stream closes the response (as a WSGI server would).
    return load_workbook(BytesIO(b"".join(response.streaming_content))).active


# The points filter ---------------------------------------------------------------------------


def test_points_drop_the_places_only_for_whole_amounts_of_a_whole_number_currency(bonuses, stars):
    assert points("1200.00", stars) == "1,200"
    assert points("-1200.00", stars, signed=True) == "-1,200"
    assert points("1200", stars, signed=True) == "+1,200"
    assert points("1200.50", stars) == "1,200.50"  # a fraction is never hidden
    assert points("1200.00", bonuses) == "1,200.00"
    assert points("1200.00") == "1,200.00"
    assert points(None, stars) == ""


# Whole numbers on every screen -----------------------------------------------------------------


@pytest.fixture
def rich(employee, administrator, bonuses, stars):
    """The employee with 1,200 Stars and 1,234.50 Bonuses."""
    services.accrue(user=employee, amount=1200, actor=administrator, currency=stars, at=local(3, 1))
    services.accrue(user=employee, amount="1234.50", actor=administrator, currency=bonuses, at=local(3, 1))
    return employee


def test_the_accrual_table_shows_a_whole_number_balance_without_places(as_admin, rich, bonuses, stars):
    # Alex Admin, then Erik Employee
    assert amounts(as_admin.get(ACCRUAL_LIST, {"currency": stars.pk}).content.decode()) == ["0", "1,200"]
    assert amounts(as_admin.get(ACCRUAL_LIST, {"currency": bonuses.pk}).content.decode()) == ["0.00", "1,234.50"]


def test_the_log_shows_each_entry_in_its_own_currency(as_admin, rich):
    # Newest first: the Bonuses accrual, then the Stars one; amount, then active balance after.
    assert amounts(as_admin.get(LOG).content.decode()) == ["+1,234.50", "1,234.50", "+1,200", "1,200"]


def test_my_balance_and_my_history_show_whole_numbers_without_places(client, rich, stars):
    client.force_login(rich)
    page = client.get("/account/balance/").content.decode()
    stars_card = page[page.index('data-testid="balance-Stars"') :]
    assert re.search(r'data-figure="active">1,200<', stars_card)
    assert re.search(r'data-figure="spent">0<', stars_card)
    assert re.search(r'data-figure="active">1,234.50<', page)  # the Bonuses card comes first
    assert amounts(page) == ["+1,234.50", "1,234.50", "+1,200", "1,200"]


@pytest.fixture
def mug(stars) -> Gift:
    return Gift.objects.create(
        name="Mug", category=Category.objects.create(name="Kitchen"), price=1000, stock=5, currency=stars
    )


def test_shop_prices_order_pages_and_orders_show_whole_numbers_without_places(client, rich, mug, administrator):
    client.force_login(rich)
    catalog = client.get("/shop/").content.decode()
    assert "1,000 Stars" in catalog and "1,200 Stars" in catalog and "1,234.50 Bonuses" in catalog
    assert "1,000.00" not in catalog and "1,200.00" not in catalog

    confirming = client.post(f"/shop/gifts/{mug.pk}/order/", {"quantity": "1"})
    confirm = confirming.content.decode()
    assert re.findall(r'amount[^"]*">([^<]*)<', confirm) == ["1,000", "1,000", "1,200", "200 Stars"]

    key = confirming.context["form"]["idempotency_key"].value()  # the confirmation posts it back
    response = client.post(f"/shop/gifts/{mug.pk}/order/", {"quantity": "1", "confirmed": "1", "idempotency_key": key})
    order = Order.objects.get()
    assert message_texts(response) == [f"Order {order.number} is placed: 1,000 Stars are reserved."]
    mine = client.get("/shop/orders/").content.decode()
    assert "1,000 Stars" in mine and "1,000.00" not in mine

    client.force_login(administrator)
    assert amounts(client.get(ORDERS).content.decode()) == ["1,000"]
    gifts = client.get("/bonuses/gifts/").content.decode()
    assert "1,000 Stars" in gifts and "1,000.00" not in gifts


def test_the_write_off_form_shows_the_available_whole_number_balance(as_admin, rich, stars):
    response = as_admin.get("/bonuses/write-off/available/", {"employee": rich.pk, "currency": stars.pk})
    assert ">1,200</strong> Stars" in response.content.decode()


# Success messages: the tables' way of writing amounts --------------------------------------------


def test_the_accrual_message_writes_amounts_like_the_table(as_admin, rich, bonuses, stars):
    response = post_single(as_admin, rich, stars, amount="3000")
    assert message_texts(response) == [f"3,000 Stars added to {rich.full_name}. New balance: 4,200."]
    response = post_single(as_admin, rich, bonuses, amount="1000")
    assert message_texts(response)[1:] == [f"1,000.00 Bonuses added to {rich.full_name}. New balance: 2,234.50."]


def test_the_bulk_message_writes_amounts_like_the_table_and_counts_in_the_singular_too(
    as_admin, rich, make_user, stars
):
    other = make_user(full_name="Other")
    response = post_bulk(as_admin, [rich, other], stars, amount="1500")
    assert "2 employees received 1,500 Stars each, 3,000 in all." in message_texts(response)[0]
    response = post_bulk(as_admin, [other], stars, amount="1500")
    _first, message = message_texts(response)
    assert "1 employee received 1,500 Stars, 1,500 in all." in message
    assert f'?batch={Batch.objects.latest("pk").pk}"' in message


def test_the_write_off_message_writes_amounts_like_the_table(as_admin, rich, bonuses, stars):
    response = post_write_off(as_admin, rich, stars, amount="1100")
    assert message_texts(response) == [f"1,100 Stars written off from {rich.full_name}. New balance: 100."]
    response = post_write_off(as_admin, rich, bonuses, amount="1000")
    assert message_texts(response)[1:] == [f"1,000.00 Bonuses written off from {rich.full_name}. New balance: 234.50."]


# Exports: '#,##0' for a whole-number currency, '#,##0.00' otherwise, row by row -------------------


def test_the_accrual_export_formats_the_balance_by_the_currency(as_admin, rich, bonuses, stars):
    sheet = xlsx(as_admin.get(ACCRUAL_LIST, {"currency": stars.pk, "export": "xlsx"}))
    balance = {row[0].value: row[8] for row in sheet.iter_rows(min_row=3)}[rich.full_name]
    assert (balance.value, balance.number_format) == (1200, "#,##0")
    sheet = xlsx(as_admin.get(ACCRUAL_LIST, {"currency": bonuses.pk, "export": "xlsx"}))
    balance = {row[0].value: row[8] for row in sheet.iter_rows(min_row=3)}[rich.full_name]
    assert (balance.value, balance.number_format) == (1234.5, "#,##0.00")


def test_the_log_export_formats_each_row_by_its_currency(as_admin, rich):
    sheet = xlsx(as_admin.get(LOG, {"export": "xlsx"}))
    rows = [(r[5].value, r[6].value, r[6].number_format, r[7].value, r[7].number_format) for r in sheet.iter_rows(3)]
    assert rows == [
        ("Bonuses", 1234.5, "#,##0.00", 1234.5, "#,##0.00"),
        ("Stars", 1200, "#,##0", 1200, "#,##0"),
    ]


def test_the_orders_export_formats_the_points_by_the_currency(as_admin, rich, mug, bonuses):
    cake = Gift.objects.create(name="Cake", category=mug.category, price="12.50", currency=bonuses)
    shop.place_order(user=rich, gift=mug, quantity=1)
    shop.place_order(user=rich, gift=cake, quantity=2)
    sheet = xlsx(as_admin.get(ORDERS, {"export": "xlsx"}))
    rows = [(r[5].value, r[8].value, r[8].number_format, r[9].value) for r in sheet.iter_rows(min_row=3)]
    assert sorted(rows) == [("Cake", 25, "#,##0.00", "Bonuses"), ("Mug", 1000, "#,##0", "Stars")]


# The log: how many entries match; the batch filter is visible and removable ---------------------


def test_the_log_says_how_many_entries_match(as_admin, rich, stars):
    page = as_admin.get(LOG).content.decode()
    assert "2 entries match the filter" in page
    assert "1 entry matches the filter" in as_admin.get(LOG, {"currency": stars.pk}).content.decode()
    assert "0 entries match the filter" in as_admin.get(LOG, {"comment": "nothing like it"}).content.decode()


def counted(client, query: dict) -> tuple[str, int]:
    """The page's "… match the filter" line, and how many COUNT queries it took."""
    with CaptureQueriesContext(connection) as queries:
        page = client.get(LOG, query).content.decode()
    line = re.search(r'data-testid="log-matching">([^<]*)<', page).group(1)
    return line, len([q for q in queries.captured_queries if "COUNT(" in q["sql"].upper()])


def test_the_log_counts_every_page_with_one_query(as_admin, administrator, make_user, stars):
    people = [make_user(full_name=f"P {n:02}") for n in range(55)]
    services.accrue_many(users=people, amount=1, actor=administrator, currency=stars)
    assert counted(as_admin, {}) == ("55 entries match the filter", 1)
    assert counted(as_admin, {"page": "2"}) == ("55 entries match the filter", 1)  # 50 on page 1, 5 here
    assert counted(as_admin, {"comment": "none"}) == ("0 entries match the filter", 1)
    assert counted(as_admin, {"employee": people[3].pk}) == ("1 entry matches the filter", 1)
    assert counted(as_admin, {"page": "999"}) == ("55 entries match the filter", 1)  # no such page: the first


def test_an_active_batch_filter_is_a_badge_whose_link_removes_only_it(
    as_admin, administrator, rich, make_user, stars, bonuses
):
    other = make_user(full_name="Other")
    batch = services.accrue_many(users=[rich, other], amount=10, actor=administrator, currency=stars)
    page = as_admin.get(LOG, {"batch": batch.pk, "currency": stars.pk, "page": "1"}).content.decode()
    assert "2 entries match the filter" in page
    badge = re.search(r'data-testid="batch-filter">(.*?)</div>', page, re.S).group(1)
    assert f"Batch {batch.pk}" in badge
    link = re.search(r'href="\?([^"]*)" data-testid="remove-batch"', badge).group(1)
    assert link == f"currency={stars.pk}"  # the other filters stay; the batch and the page go
    assert "batch-filter" not in as_admin.get(f"{LOG}?{link}").content.decode()
    assert "3 entries match the filter" in as_admin.get(f"{LOG}?{link}").content.decode()
    assert 'data-testid="batch-filter"' not in as_admin.get(LOG).content.decode()


def test_an_unknown_batch_shows_its_badge_with_the_reason_and_an_empty_log(as_admin, rich):
    response = as_admin.get(LOG, {"batch": "999999"})
    assert response.status_code == 200
    page = response.content.decode()
    badge = re.search(r'data-testid="batch-filter">(.*?)</div>', page, re.S).group(1)
    assert "Batch 999999" in badge and "Select a valid choice" in badge
    assert "Correct the filter to see the entries." in page and "entries match" not in page
    assert list(response.context["table"].page.object_list) == []


# Plurals ------------------------------------------------------------------------------------------


def test_unknown_or_inactive_employees_are_counted_in_the_singular_and_the_plural(
    administrator, employee, make_user, ledger_snapshot
):
    gone = make_user(is_active=False)
    before = ledger_snapshot()
    with pytest.raises(InactiveEmployee) as one:
        services.accrue_many(users=[employee.pk, gone.pk], amount=5, actor=administrator)
    assert one.value.message == "1 of the selected employees is unknown or not active; nothing was accrued."
    with pytest.raises(InactiveEmployee) as two:
        services.accrue_many(users=[employee.pk, gone.pk, 999_999], amount=5, actor=administrator)
    assert two.value.message == "2 of the selected employees are unknown or not active; nothing was accrued."
    assert ledger_snapshot() == before


# Periods: a start after the end, and the edges of the calendar -----------------------------------


def test_a_log_period_that_ends_before_it_starts_gets_a_message_and_an_empty_table(as_admin, rich, ledger_snapshot):
    before = ledger_snapshot()
    response = as_admin.get(LOG, {"period_from": "2026-03-10", "period_to": "2026-03-01"})
    assert response.status_code == 200
    assert response.context["filter"].form.errors == {"period_to": [PERIOD_ERROR]}
    page = response.content.decode()
    assert PERIOD_ERROR in page
    # The message sits with the "To" field (crispy's wrapper of it), and the table says why it is empty.
    to_field = page[page.index('id="div_id_period_to"') : page.index('id="div_id_comment"')]
    assert PERIOD_ERROR in to_field and page.count(PERIOD_ERROR) == 1
    assert "Correct the filter to see the entries." in page
    assert list(response.context["table"].page.object_list) == []
    assert "match the filter" not in page
    assert ledger_snapshot() == before


def test_the_same_day_as_start_and_end_is_a_valid_period(as_admin, rich):
    response = as_admin.get(LOG, {"period_from": "2026-03-01", "period_to": "2026-03-01"})
    assert response.context["filter"].form.errors == {}
    assert "2 entries match the filter" in response.content.decode()


def test_the_export_of_a_period_that_ends_before_it_starts_exports_nothing_and_says_why(as_admin, rich):
    sheet = xlsx(as_admin.get(LOG, {"period_from": "2026-03-10", "period_to": "2026-03-01", "export": "xlsx"}))
    assert list(sheet.iter_rows(min_row=3)) == []
    heading = f"Bonus accrual and spending log — Invalid filter, nothing exported: To: {PERIOD_ERROR} (exported "
    assert sheet["A1"].value.startswith(heading)
    assert "all rows" not in sheet["A1"].value


def test_an_orders_period_that_ends_before_it_starts_gets_a_message(as_admin, rich, mug):
    shop.place_order(user=rich, gift=mug, quantity=1)
    response = as_admin.get(ORDERS, {"period_from": "2099-01-02", "period_to": "2099-01-01"})
    assert response.status_code == 200
    assert response.context["filter"].form.errors == {"period_to": [PERIOD_ERROR]}
    page = response.content.decode()
    assert PERIOD_ERROR in page and "Correct the filter to see the orders." in page
    assert list(response.context["table"].page.object_list) == []
    sheet = xlsx(as_admin.get(ORDERS, {"period_from": "2099-01-02", "period_to": "2099-01-01", "export": "xlsx"}))
    assert list(sheet.iter_rows(min_row=3)) == [] and "Invalid filter, nothing exported" in sheet["A1"].value


EDGES = [
    ({"period_from": "0001-01-01"}, True),
    ({"period_to": "9999-12-31"}, True),
    ({"period_from": "0001-01-01", "period_to": "9999-12-31"}, True),
    ({"period_from": "9999-12-31"}, False),
    ({"period_to": "0001-01-01"}, False),
    ({"period_from": "9999-12-31", "period_to": "9999-12-31"}, False),
    ({"period_from": "0001-01-01", "period_to": "0001-01-01"}, False),
]


@pytest.mark.parametrize(("query", "finds"), EDGES, ids=[str(q) for q, _f in EDGES])
def test_a_log_period_at_the_edge_of_the_calendar_is_no_server_error(as_admin, rich, query, finds):
    response = as_admin.get(LOG, query)
    assert response.status_code == 200
    assert response.context["filter"].form.errors == {}
    found = [row.record.pk for row in response.context["table"].page.object_list]
    assert found == (list(Entry.objects.order_by("-at", "-id").values_list("pk", flat=True)) if finds else [])
    sheet = xlsx(as_admin.get(LOG, {**query, "export": "xlsx"}))
    assert len(list(sheet.iter_rows(min_row=3))) == len(found)


@pytest.mark.parametrize(("query", "finds"), EDGES, ids=[str(q) for q, _f in EDGES])
def test_an_orders_period_at_the_edge_of_the_calendar_is_no_server_error(as_admin, rich, mug, query, finds):
    order = shop.place_order(user=rich, gift=mug, quantity=1)
    response = as_admin.get(ORDERS, query)
    assert response.status_code == 200
    assert [row.record.pk for row in response.context["table"].page.object_list] == ([order.pk] if finds else [])
    sheet = xlsx(as_admin.get(ORDERS, {**query, "export": "xlsx"}))
    assert len(list(sheet.iter_rows(min_row=3))) == (1 if finds else 0)


HIRE_EDGES = [
    {"hired_after": "0001-01-01"},
    {"hired_before": "9999-12-31"},
    {"hired_after": "0001-01-01", "hired_before": "9999-12-31"},
    {"hired_after": "9999-12-31"},
    {"hired_before": "0001-01-01"},
]


@pytest.mark.parametrize("query", HIRE_EDGES, ids=[str(q) for q in HIRE_EDGES])
def test_hire_dates_at_the_edge_of_the_calendar_are_no_server_error(as_admin, rich, query):
    rich.hire_date = local(3, 1).date()
    rich.save()
    response = as_admin.get(ACCRUAL_LIST, query)
    assert response.status_code == 200
    xlsx(as_admin.get(ACCRUAL_LIST, {**query, "export": "xlsx"}))


def test_a_date_past_the_calendar_gets_a_message(as_admin, rich):
    response = as_admin.get(LOG, {"period_to": "10000-01-01"})
    assert response.status_code == 200
    assert response.context["filter"].form.errors == {"period_to": ["Enter a valid date."]}
    assert list(response.context["table"].page.object_list) == []


def test_returning_more_than_the_one_item_left_says_so_in_the_singular(rich, mug, administrator, ledger_snapshot):
    order = shop.place_order(user=rich, gift=mug, quantity=1)
    shop.complete_order(order, actor=administrator)
    before = ledger_snapshot()
    with pytest.raises(OrderError) as refused:
        shop.return_order(order, quantity=2, actor=administrator)
    assert refused.value.message == "Only 1 item of this order can be returned."
    assert ledger_snapshot() == before
