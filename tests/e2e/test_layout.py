"""What a user notices on a phone (390 px) and with the mouse: My orders and the catalog fit the screen, even
with a very long gift name; the filters fold away; a choice in the log's autocomplete does not swallow the
first click on "Apply filters"."""

import re

import pytest
from django.core.files.base import ContentFile
from playwright.sync_api import expect

from bonuses import services
from bonuses.shop import services as shop
from bonuses.shop.models import Category, Gift
from giftshop.demo.catalog import gift_picture
from tests.e2e.conftest import DESKTOP, PHONE, sticking_out

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True), pytest.mark.usefixtures("reduced_motion")]

# A real German compound noun has no place to break; the rest of the name wraps between words.
LONG_NAME = "Edelstahlthermoskannenreinigungsbürstenset with travel pouch, spare brushes and a very long name"


@pytest.fixture
def catalog(currency):
    """Three gifts, one with a picture and a very long name."""
    kitchen = Category.objects.create(name="Kitchen")
    mug = Gift.objects.create(category=kitchen, name="Coffee mug", price=120, currency=currency, description="A mug.")
    long = Gift(category=kitchen, name=LONG_NAME, price=1_250, currency=currency, stock=3)
    long.description = "Brushes for every flask, bottle and jug in the office kitchen."
    long.picture.save("flask.png", ContentFile(gift_picture("Flask", (25, 135, 84))), save=False)
    long.save()
    hoodie = Gift.objects.create(category=kitchen, name="Hoodie", price=200, currency=currency, stock=5)
    return {"mug": mug, "long": long, "hoodie": hoodie}


@pytest.fixture
def orders(employee, administrator, currency, catalog):
    """Erik's orders in every status: pending, completed, cancelled and partly returned."""
    services.accrue(user=employee, amount=9_000, actor=administrator, comment="Annual award", currency=currency)
    pending = shop.place_order(user=employee, gift=catalog["long"], quantity=1, pickup_office="Berlin HQ")
    completed = shop.complete_order(shop.place_order(user=employee, gift=catalog["mug"], quantity=2), actor=employee)
    cancelled = shop.cancel_order(shop.place_order(user=employee, gift=catalog["hoodie"], quantity=1), actor=employee)
    returned = shop.complete_order(shop.place_order(user=employee, gift=catalog["mug"], quantity=3), actor=employee)
    returned = shop.return_order(returned, quantity=1, actor=administrator)
    return [pending, completed, cancelled, returned]


def inside(inner: dict, outer: dict) -> bool:
    return inner["x"] >= outer["x"] - 0.5 and inner["x"] + inner["width"] <= outer["x"] + outer["width"] + 0.5


# 1 -------------------------------------------------------------------------------------------


def test_my_orders_fit_a_phone(page, login, live_server, employee, orders, screenshot):
    login(employee)
    for name, viewport in (("desktop", DESKTOP), ("phone", PHONE)):
        page.set_viewport_size(viewport)
        page.goto(f"{live_server.url}/shop/orders/")
        rows = page.get_by_test_id("my-orders").locator("tbody tr")
        expect(rows).to_have_count(4)
        assert not sticking_out(page), (name, sticking_out(page))
        card = page.locator(".card", has=page.get_by_test_id("my-orders")).bounding_box()
        assert inside(card, {"x": 0, "width": viewport["width"]}), name
        for row in rows.all():
            for cell in row.locator("td, th").all():
                if cell.is_visible():  # every figure inside the card, none cut at its edge
                    width = cell.evaluate("cell => [cell.scrollWidth, cell.clientWidth]")
                    assert inside(cell.bounding_box(), card) and width[0] <= width[1], f"{name}: {cell.inner_text()!r}"
        pending = page.locator(f"tr[data-order='{orders[0].number}']")
        expect(pending).to_contain_text(LONG_NAME)
        cancel = pending.get_by_role("button", name=f"Cancel order {orders[0].number}")
        expect(cancel).to_be_visible()
        assert inside(cancel.bounding_box(), card), name
        screenshot(f"my-orders-{name}")

    # On the phone each cell says what it is.
    returned = page.locator(f"tr[data-order='{orders[3].number}']")
    label = returned.locator("td.amount").evaluate("td => getComputedStyle(td, '::before').content")
    assert label == '"Points"'


# 2 -------------------------------------------------------------------------------------------


def test_a_very_long_gift_name_fits_the_catalog_and_the_order_page(
    page, login, live_server, employee, administrator, catalog, currency, screenshot
):
    services.accrue(user=employee, amount=5_000, actor=administrator, comment="Award", currency=currency)
    login(employee)
    for name, viewport in (("desktop", DESKTOP), ("phone", PHONE)):
        page.set_viewport_size(viewport)
        page.goto(f"{live_server.url}/shop/")
        card = page.locator(".gift-card", has=page.get_by_role("heading", name=LONG_NAME))
        expect(card).to_be_visible()
        assert not sticking_out(page), (name, sticking_out(page))
        heading = card.get_by_role("heading", name=LONG_NAME)
        assert inside(heading.bounding_box(), card.bounding_box()), f"{name}: the name runs out of its card"
        assert inside(card.bounding_box(), {"x": 0, "width": viewport["width"]}), name
        card.scroll_into_view_if_needed()
        screenshot(f"shop-long-name-{name}")

        card.get_by_role("link", name="Order").click()
        expect(page.get_by_role("heading", name=f"Order: {LONG_NAME}")).to_be_visible()
        assert not sticking_out(page), (f"{name}: order page", sticking_out(page))
        page.get_by_role("button", name="Continue").click()
        expect(page.get_by_role("heading", name=f"Confirm your order: {LONG_NAME}")).to_be_visible()
        assert not sticking_out(page), (f"{name}: confirmation", sticking_out(page))
        screenshot(f"order-confirmation-long-name-{name}")


# 3 -------------------------------------------------------------------------------------------


def test_accrual_filters_fold_away_on_a_phone(page, login, live_server, administrator, employee, screenshot):
    login(administrator)
    page.set_viewport_size(PHONE)
    page.goto(f"{live_server.url}/bonuses/accrual/")
    toggle = page.get_by_role("button", name=re.compile(r"^Filters"))
    search = page.get_by_label("Search")
    expect(toggle).to_be_visible()
    expect(toggle).to_have_attribute("aria-expanded", "false")
    expect(search).to_be_hidden()
    expect(page.get_by_role("button", name="Apply filters")).to_be_hidden()
    # The table starts within the first screen, not below eight filters.
    assert page.get_by_test_id("accrual-table").bounding_box()["y"] < PHONE["height"]
    assert not sticking_out(page), sticking_out(page)
    screenshot("accrual-filters-folded-phone")

    toggle.click()
    expect(toggle).to_have_attribute("aria-expanded", "true")
    expect(search).to_be_visible()
    screenshot("accrual-filters-open-phone")
    search.fill("Erik")
    page.get_by_role("button", name="Apply filters").click()
    expect(page).to_have_url(re.compile(r"q=Erik"))
    # Folded again, and the button says which filters are in use.
    expect(toggle).to_have_attribute("aria-expanded", "false")
    expect(toggle).to_have_accessible_name(re.compile(r"^Filters\s+Search"))
    expect(page.get_by_test_id("accrual-table").locator("tbody tr")).to_have_count(1)

    # On a wide screen the filters are simply there.
    page.set_viewport_size(DESKTOP)
    expect(toggle).to_be_hidden()
    expect(search).to_be_visible()
    expect(search).to_have_value("Erik")
    screenshot("accrual-filters-desktop")


# 4 -------------------------------------------------------------------------------------------


@pytest.mark.parametrize("field", ["employee", "actor"])
def test_a_choice_in_the_log_autocomplete_then_apply_filters_works_on_the_first_click(
    page, login, live_server, administrator, employee, currency, field
):
    services.accrue(user=employee, amount=50, actor=administrator, comment="Thanks", currency=currency)
    chosen = employee if field == "employee" else administrator
    login(administrator)
    page.set_viewport_size(DESKTOP)
    page.goto(f"{live_server.url}/bonuses/log/")
    apply = page.get_by_role("button", name="Apply filters")
    resting = apply.bounding_box()
    control = page.locator(f"#id_{field}-ts-control")
    control.click()
    control.press_sequentially(chosen.full_name[:4], delay=30)
    page.locator(f"#id_{field}-ts-dropdown .option", has_text=chosen.full_name).click()
    expect(page.locator(f"#id_{field}-ts-dropdown")).to_be_hidden()
    expect(control.locator("..")).to_contain_text(chosen.full_name)
    expect(control).to_be_focused()  # as the user left it: the next thing they do is click the button
    # The focused autocomplete keeps its height: the button does not move away under the pointer.
    assert apply.bounding_box() == resting

    apply.click()
    expect(page).to_have_url(re.compile(rf"[?&]{field}={chosen.pk}(&|$)"))
    rows = page.get_by_test_id("log-table").locator("tbody tr")
    expect(rows).to_have_count(1)
    expect(rows.first).to_contain_text("Thanks")
