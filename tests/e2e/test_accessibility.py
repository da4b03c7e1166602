"""axe-core (WCAG 2.1 A and AA rules) finds no violation on any page or open modal, for every role that
opens it, at desktop width and on a phone (390 px); on the phone no page is wider than the screen.

axe-core comes with axe-playwright-python. It is injected into the page, which the pages' own
Content-Security-Policy would refuse: these tests' browser context bypasses it (the other browser tests keep
it and fail on any violation of it)."""

import re

import pytest
from playwright.sync_api import expect

from bonuses import services
from bonuses.shop import services as shop
from tests.e2e.conftest import VIEWPORTS, Audit, choose_in_tom_select, open_modal
from tests.e2e.test_layout import LONG_NAME, catalog  # noqa: F401 (a fixture)

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True), pytest.mark.usefixtures("reduced_motion")]


@pytest.fixture(scope="session")
def browser_context_args(browser_context_args):
    return {**browser_context_args, "bypass_csp": True}


@pytest.fixture(autouse=True)
def console(console):
    console.expect_status(400, 403, 404)  # refused forms and the error pages are visited on purpose
    return console


@pytest.fixture
def company(administrator, manager, employee, department, make_user, currency, catalog):  # noqa: F811
    """A small company with history: accruals, a write-off, orders in several statuses."""
    colleague = make_user(department=department, full_name="Sara Seller")
    services.accrue(user=employee, amount=3_000, actor=administrator, comment="Annual award", currency=currency)
    services.accrue(user=colleague, amount=150, actor=manager, comment="Thanks", currency=currency)
    services.write_off(user=employee, amount=20, actor=administrator, comment="Correction", currency=currency)
    shop.place_order(user=employee, gift=catalog["long"], quantity=1, pickup_office="Berlin HQ")
    mugs = shop.complete_order(shop.place_order(user=employee, gift=catalog["mug"], quantity=2), actor=administrator)
    shop.return_order(mugs, quantity=1, actor=administrator)
    return {"colleague": colleague}


@pytest.fixture(params=VIEWPORTS)
def audit(request, page):
    page.set_viewport_size(VIEWPORTS[request.param])
    return Audit(page, request.param)


def test_employee_pages(page, login, live_server, employee, company, audit):
    audit.visit(f"{live_server.url}/accounts/login/", "login")
    login(employee)
    url = live_server.url
    audit("home")
    audit.visit(f"{url}/shop/", "shop")
    long_card = page.locator(".gift-card", has=page.get_by_role("heading", name=LONG_NAME))
    long_card.get_by_role("link", name="Order").click()
    expect(page.get_by_role("heading", name=f"Order: {LONG_NAME}")).to_be_visible()
    audit("order")
    page.get_by_label("Quantity").fill("0")
    page.get_by_role("button", name="Continue").click()
    expect(page.locator(".is-invalid")).not_to_have_count(0)
    audit("order-refused")
    page.get_by_label("Quantity").fill("1")
    page.get_by_role("button", name="Continue").click()
    expect(page.get_by_role("heading", name=f"Confirm your order: {LONG_NAME}")).to_be_visible()
    audit("order-confirmation")
    audit.visit(f"{url}/shop/orders/", "my-orders")
    audit.visit(f"{url}/account/balance/", "my-balance")
    audit.visit(f"{url}/bonuses/accrual/", "403", status=403)
    audit.visit(f"{url}/no-such-page/", "404", status=404)
    audit.assert_clean(10)


def test_manager_pages(page, login, live_server, manager, employee, company, audit):
    login(manager)
    url = live_server.url
    audit("home-manager")
    audit.visit(f"{url}/bonuses/accrual/", "accrual-manager")
    row = page.locator(f"tr[data-employee='{employee.pk}']")
    open_modal(page, row.get_by_role("button", name="Add bonuses"), "Add bonuses · Erik Employee")
    audit("accrual-modal-manager")
    page.keyboard.press("Escape")
    row.get_by_role("checkbox").check()
    open_modal(page, page.get_by_role("button", name="Add bonuses (1)"), "Add bonuses · 1 employee")
    audit("accrual-bulk-modal-manager")
    page.keyboard.press("Escape")
    audit.visit(f"{url}/bonuses/log/", "log-manager")
    audit.visit(f"{url}/bonuses/write-off/", "403-manager", status=403)
    audit.assert_clean(6)


def test_administrator_pages(login, live_server, administrator, employee, company, catalog, currency, audit):  # noqa: F811
    page = login(administrator)
    url = live_server.url
    audit.visit(f"{url}/bonuses/accrual/", "accrual")
    if audit.width == "phone":
        page.get_by_role("button", name="Filters").click()
        expect(page.get_by_label("Search")).to_be_visible()
        audit("accrual-filters-open")
    row = page.locator(f"tr[data-employee='{employee.pk}']")
    dialog = open_modal(page, row.get_by_role("button", name="Add bonuses"), "Add bonuses · Erik Employee")
    audit("accrual-modal")
    dialog.get_by_label("Amount").fill("0")
    dialog.get_by_role("button", name="Send").click()
    expect(dialog.get_by_label("Amount")).to_have_attribute("aria-invalid", "true")
    audit("accrual-modal-refused")
    page.keyboard.press("Escape")
    # Two rows other than one's own (nobody accrues to themselves, issue 11).
    page.locator(f"tr[data-employee='{employee.pk}'] input[data-select-row]").check()
    page.locator(f"tr[data-employee='{company['colleague'].pk}'] input[data-select-row]").check()
    open_modal(page, page.get_by_role("button", name="Add bonuses (2)"), "Add bonuses · 2 employees")
    audit("accrual-bulk-modal")
    page.keyboard.press("Escape")

    audit.visit(f"{url}/bonuses/log/", "log")
    if audit.width == "phone":
        page.get_by_role("button", name="Filters").click()
    page.get_by_role("combobox", name="Event types").click()
    expect(page.get_by_role("listbox", name="Event types")).to_be_visible()
    audit("log-event-types-open")
    page.keyboard.press("Escape")
    choose_in_tom_select(page, "id_employee", "Erik", "Erik Employee")
    page.get_by_role("button", name="Apply filters").click()
    expect(page).to_have_url(re.compile(rf"[?&]employee={employee.pk}(&|$)"))
    audit("log-filtered")
    audit.visit(f"{url}/bonuses/write-off/", "write-off")
    choose_in_tom_select(page, "id_employee", "Erik", "Erik Employee")
    expect(page.get_by_test_id("available")).to_contain_text(re.compile(r"1,?610\.00"))
    page.get_by_role("button", name="Confirm").click()
    expect(page.locator(".invalid-feedback").first).to_be_visible()
    audit("write-off-refused")
    audit.visit(f"{url}/bonuses/settings/", "settings")
    audit.visit(f"{url}/bonuses/settings/currency/{currency.pk}/", "currency-settings")
    audit.visit(f"{url}/bonuses/orders/", "orders")
    audit.visit(f"{url}/bonuses/orders/new/", "gift-desk")
    page.get_by_role("button", name="Place order").click()
    expect(page.locator(".is-invalid").first).to_be_visible()
    audit("gift-desk-refused")
    audit.visit(f"{url}/bonuses/gifts/", "gifts")
    audit.visit(f"{url}/bonuses/gifts/new/", "gift-form")
    audit.visit(f"{url}/bonuses/gifts/{catalog['long'].pk}/", "gift-form-edit")
    audit.visit(f"{url}/no-such-page/", "404-administrator", status=404)
    audit.assert_clean(19 if audit.width == "phone" else 18)
