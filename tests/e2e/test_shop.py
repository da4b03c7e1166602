"""The gift shop in a real browser: an employee orders, an administrator completes, cancels and takes returns.

Every figure is checked twice: on My balance (its data-figure attributes) and through selectors.balance.
Every test also fails on a Content-Security-Policy violation or a JavaScript error in either browser.
"""

import re
from decimal import Decimal

import pytest
from django.core.files.base import ContentFile
from playwright.sync_api import expect

from bonuses import selectors, services
from bonuses.models import Entry
from bonuses.shop import services as shop
from bonuses.shop.models import Category, Gift, Order
from giftshop.demo.catalog import gift_picture
from tests.e2e.conftest import Console, log_in, save_screenshot

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

FIGURES = ("active", "reserved", "spent", "total_accrued")


@pytest.fixture
def catalog(currency):
    kitchen = Category.objects.create(name="Kitchen")
    apparel = Category.objects.create(name="Apparel")
    mug = Gift.objects.create(
        category=kitchen, name="Coffee mug", price=120, currency=currency, description="A big mug."
    )
    espresso = Gift.objects.create(category=kitchen, name="Espresso machine", price=1500, currency=currency, stock=2)
    hoodie = Gift(category=apparel, name="Hoodie", price=200, currency=currency, stock=5)
    hoodie.description = "Warm grey hoodie with the company logo, organic cotton, sizes S to XXL."
    hoodie.picture.save("hoodie.png", ContentFile(gift_picture("Hoodie", (13, 110, 253))), save=False)
    hoodie.save()
    return {"mug": mug, "espresso": espresso, "hoodie": hoodie}


@pytest.fixture
def rich_employee(employee, administrator, currency):
    services.accrue(user=employee, amount=500, actor=administrator, comment="Annual award", currency=currency)
    return employee


@pytest.fixture
def admin_page(new_context, page, live_server, administrator):
    """The administrator, logged in in a browser context of their own while the employee stays logged in."""
    other = new_context().new_page()
    other.set_default_timeout(10_000)
    other_console = Console(other)
    log_in(other, live_server.url, administrator)
    yield other
    other.wait_for_load_state("networkidle")  # as the `page` fixture does: no request left before the flush
    other.close()
    other_console.assert_clean()


def gift_cards(page):
    return page.get_by_test_id("gifts").locator(".gift-card")


def expect_balance(page, live_server, user, currency, **figures: str) -> None:
    """My balance shows these figures, and the ledger agrees; figures not named must be zero."""
    expected = {name: Decimal(figures.get(name, "0.00")) for name in FIGURES}
    page.goto(f"{live_server.url}/account/balance/")
    card = page.get_by_test_id(f"balance-{currency.name}")
    for name, value in expected.items():
        expect(card.locator(f"[data-figure='{name}']"), name).to_have_text(f"{value:,.2f}")
    balance = selectors.balance(user, currency)
    assert {name: getattr(balance, name) for name in FIGURES} == expected


def order_in_shop(page, live_server, gift_name: str, *, quantity: int, office: str = "", comment: str = ""):
    """Fill the order form and continue to the confirmation step (which reserves nothing yet)."""
    page.goto(f"{live_server.url}/shop/")
    page.locator(f".gift-card[data-gift='{gift_name}']").get_by_role("link", name="Order").click()
    expect(page.get_by_role("heading", name=f"Order: {gift_name}")).to_be_visible()
    page.get_by_label("Quantity").fill(str(quantity))
    page.get_by_label("Pick-up office").select_option(office)
    if comment:
        page.get_by_label("Delivery comment").fill(comment)
    page.get_by_role("button", name="Continue").click()
    expect(page.get_by_role("heading", name=f"Confirm your order: {gift_name}")).to_be_visible()


def balance_after(page):
    return page.get_by_test_id("order-balance").locator("dt:has-text('Balance after the purchase') + dd")


def order_row(page, order: Order):
    return page.get_by_test_id("order-table").locator("tbody tr", has_text=order.number)


def my_order_row(page, order: Order):
    return page.locator(f"tr[data-order='{order.number}']")


# 1 -------------------------------------------------------------------------------------------


def test_order_is_reserved_completed_and_returned(
    page, login, live_server, rich_employee, catalog, currency, admin_page, screenshot
):
    employee = rich_employee
    login(employee)

    # The shop: every gift, then only what 500 points buy now.
    page.get_by_test_id("nav-employee").get_by_role("link", name="Shop").click()
    expect(page.get_by_test_id("shop-balances")).to_contain_text("500.00 Bonuses")
    expect(gift_cards(page)).to_have_count(3)
    screenshot("shop-all")
    page.get_by_label("What I can afford now").check()
    page.get_by_role("button", name="Show").click()
    expect(page).to_have_url(re.compile(r"affordable=1"))
    expect(page.get_by_label("What I can afford now")).to_be_checked()
    expect(gift_cards(page)).to_have_count(2)
    expect(page.locator(".gift-card[data-gift='Espresso machine']")).to_have_count(0)
    hoodie_card = page.locator(".gift-card[data-gift='Hoodie']")
    expect(hoodie_card).to_contain_text("200.00 Bonuses")
    expect(hoodie_card).to_contain_text("5 left")
    expect(hoodie_card.locator("img.gift-picture")).to_have_js_property("complete", True)
    assert hoodie_card.locator("img.gift-picture").evaluate("img => img.naturalWidth") > 0  # the picture loads
    expect(page.locator(".gift-card[data-gift='Coffee mug']")).to_contain_text("in stock")
    screenshot("shop")

    # Two mugs picked up in Munich: the confirmation shows what is left afterwards.
    order_in_shop(page, live_server, "Coffee mug", quantity=2, office="Munich office")
    summary = page.get_by_test_id("order-summary")
    expect(summary).to_contain_text("Munich office")
    expect(summary.locator("dt:has-text('Quantity') + dd")).to_have_text("2")
    expect(page.get_by_test_id("order-balance").locator("dt:has-text('Total') + dd")).to_have_text("240.00")
    expect(balance_after(page)).to_have_text("260.00 Bonuses")
    assert not Order.objects.exists()  # confirming reserves nothing yet
    screenshot("order-confirmation")
    page.get_by_role("button", name="Place order").click()

    expect(page).to_have_url(f"{live_server.url}/shop/orders/")
    mugs = Order.objects.get()
    assert (mugs.quantity, mugs.points, mugs.status) == (2, Decimal("240.00"), Order.Status.PENDING)
    assert (mugs.pickup_office, mugs.delivery_comment) == ("Munich office", "")
    expect(page.get_by_role("alert")).to_contain_text(f"Order {mugs.number} is placed: 240.00 Bonuses are reserved.")
    row = my_order_row(page, mugs)
    expect(row).to_contain_text("Coffee mug")
    expect(row).to_contain_text("240.00 Bonuses")
    expect(row.locator(".badge")).to_have_text("Pending")
    expect(row.get_by_role("button", name="Cancel")).to_be_visible()

    page.get_by_test_id("nav-employee").get_by_role("link", name="My balance").click()
    expect_balance(page, live_server, employee, currency, active="260.00", reserved="240.00", total_accrued="500.00")
    history = page.get_by_test_id("my-history").locator("tbody tr")
    expect(history.first).to_contain_text("Reserved for an order")
    expect(history.first).to_contain_text("-240.00")
    screenshot("my-balance-reserved")

    # The administrator hands the mugs over.
    admin = admin_page
    admin.goto(f"{live_server.url}/bonuses/orders/")
    expect(order_row(admin, mugs)).to_contain_text("Erik Employee")
    expect(order_row(admin, mugs).locator(".badge")).to_have_text("Pending")
    order_row(admin, mugs).get_by_role("button", name="Complete").click()
    expect(admin.get_by_role("alert")).to_contain_text(f"Order {mugs.number} is completed: the points are spent.")
    expect(order_row(admin, mugs).locator(".badge")).to_have_text("Completed")
    mugs.refresh_from_db()
    assert mugs.status == Order.Status.COMPLETED and mugs.completed_at

    expect_balance(page, live_server, employee, currency, active="260.00", spent="240.00", total_accrued="500.00")
    expect(page.get_by_test_id("my-history").locator("tbody tr").first).to_contain_text("Spent on an order")

    # One mug comes back, then the other: the points are refunded into the employee's active balance.
    return_form = order_row(admin, mugs).locator("form", has=admin.get_by_role("button", name="Return"))
    expect(return_form.get_by_label("Items returned")).to_have_value("2")
    return_form.get_by_label("Items returned").fill("1")
    return_form.get_by_role("button", name="Return").click()
    expect(admin.get_by_role("alert")).to_contain_text(f"Order {mugs.number}: the returned items are back in stock")
    expect(order_row(admin, mugs).locator(".badge")).to_have_text("Partially returned")
    expect(order_row(admin, mugs).get_by_label("Items returned")).to_have_value("1")
    save_screenshot(admin, "orders-table")
    expect_balance(page, live_server, employee, currency, active="380.00", spent="120.00", total_accrued="500.00")

    order_row(admin, mugs).get_by_role("button", name="Return").click()
    expect(order_row(admin, mugs).locator(".badge")).to_have_text("Returned")
    expect(order_row(admin, mugs).get_by_role("button", name="Return")).to_have_count(0)
    mugs.refresh_from_db()
    assert (mugs.status, mugs.returned_quantity) == (Order.Status.RETURNED, 2)
    refunds = Entry.objects.filter(user=employee, kind=Entry.Kind.ORDER_REFUNDED)
    assert sorted(refunds.values_list("amount", flat=True)) == [Decimal("120.00"), Decimal("120.00")]

    expect_balance(page, live_server, employee, currency, active="500.00", total_accrued="500.00")
    refunded = page.get_by_test_id("my-history").locator("tbody tr", has_text="Refunded (order returned)")
    expect(refunded).to_have_count(2)
    expect(refunded.first).to_contain_text("+120.00")
    screenshot("my-balance-refunded")

    page.get_by_test_id("nav-employee").get_by_role("link", name="My orders").click()
    row = my_order_row(page, mugs)
    expect(row.locator(".badge")).to_have_text("Returned")
    expect(row).to_contain_text("2 returned")
    expect(row.get_by_role("button", name="Cancel")).to_have_count(0)


# 2 -------------------------------------------------------------------------------------------


def test_employee_cancels_a_pending_order_and_the_points_come_back(
    page, login, live_server, rich_employee, catalog, currency, console, admin_page, screenshot
):
    employee = rich_employee
    hoodie = catalog["hoodie"]
    login(employee)

    order_in_shop(page, live_server, "Hoodie", quantity=2, comment="Desk 4.12, third floor")
    summary = page.get_by_test_id("order-summary")
    expect(summary.locator("dt:has-text('Pick-up office') + dd")).to_have_text("Delivery")
    expect(summary).to_contain_text("Desk 4.12, third floor")
    expect(balance_after(page)).to_have_text("100.00 Bonuses")
    page.get_by_role("button", name="Place order").click()
    expect(page).to_have_url(f"{live_server.url}/shop/orders/")
    hoodies = Order.objects.get()
    assert (hoodies.quantity, hoodies.pickup_office, hoodies.delivery_comment) == (2, "", "Desk 4.12, third floor")
    hoodie.refresh_from_db()
    assert hoodie.stock == 3
    expect_balance(page, live_server, employee, currency, active="100.00", reserved="400.00", total_accrued="500.00")

    # More than is left: the confirmation shows the shortfall and does not let the order go out.
    order_in_shop(page, live_server, "Coffee mug", quantity=1)
    expect(balance_after(page)).to_have_text("-20.00 Bonuses")
    expect(balance_after(page)).to_have_class(re.compile(r"\btext-danger\b"))
    expect(page.get_by_test_id("order-form").get_by_role("alert")).to_contain_text("not enough for this order")
    expect(page.get_by_role("button", name="Place order")).to_be_disabled()
    screenshot("order-refused")
    assert Order.objects.count() == 1

    # My orders: the pending order is cancelled, the points and the stock come back.
    page.get_by_test_id("nav-employee").get_by_role("link", name="My orders").click()
    row = my_order_row(page, hoodies)
    expect(row.locator(".badge")).to_have_text("Pending")
    screenshot("my-orders")
    row.get_by_role("button", name="Cancel").click()
    expect(page.get_by_role("alert")).to_contain_text(f"Order {hoodies.number} is cancelled; the points are back.")
    expect(row.locator(".badge")).to_have_text("Cancelled")
    expect(row.get_by_role("button", name="Cancel")).to_have_count(0)
    hoodies.refresh_from_db()
    hoodie.refresh_from_db()
    assert (hoodies.status, hoodie.stock) == (Order.Status.CANCELLED, 5)

    expect_balance(page, live_server, employee, currency, active="500.00", total_accrued="500.00")
    released = page.get_by_test_id("my-history").locator("tbody tr").first
    expect(released).to_contain_text("Reservation released (order cancelled)")
    expect(released).to_contain_text("+400.00")
    screenshot("my-balance-cancelled")

    # The administrator sees it cancelled, with nothing left to do but read the log.
    admin_page.goto(f"{live_server.url}/bonuses/orders/")
    expect(order_row(admin_page, hoodies).locator(".badge")).to_have_text("Cancelled")
    expect(order_row(admin_page, hoodies).get_by_role("button")).to_have_count(0)


# 3 -------------------------------------------------------------------------------------------


def test_the_log_names_the_order_of_each_step(login, live_server, rich_employee, catalog, administrator, screenshot):
    employee = rich_employee
    mugs = shop.complete_order(
        shop.place_order(user=employee, gift=catalog["mug"], quantity=2, pickup_office="Berlin HQ"), actor=administrator
    )
    shop.return_order(mugs, quantity=1, actor=administrator)
    page = login(administrator)
    page.goto(f"{live_server.url}/bonuses/orders/")
    order_row(page, mugs).get_by_role("link", name="Log").click()
    expect(page).to_have_url(re.compile(rf"/bonuses/log/\?employee={employee.pk}$"))
    rows = page.get_by_test_id("log-table").locator("tbody tr")
    expect(rows).to_have_count(4)
    screenshot("log-order")
    order_cells = rows.locator("td:last-child")
    expect(order_cells).to_have_text(
        [f"Order {mugs.number}", f"Order {mugs.number}", f"Order {mugs.number}", "—"]  # not "Order Order #000001"
    )
