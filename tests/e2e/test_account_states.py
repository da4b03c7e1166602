"""Account states and a new currency in the browser (issue 11): an administrator blocks an employee from the
accrual table's row with a reason, sees the badge; the employee reads the notice on their balance and in
the shop; the administrator reactivates the account; and adds a currency on the settings page. At desktop
width and on a phone (390 px), where the row's action stays usable; axe-core finds no violation on these
pages (in a browser context of its own that bypasses the Content-Security-Policy, as in test_accessibility)."""

import re

import pytest
from playwright.sync_api import expect

from bonuses import services
from bonuses.models import Account, AccountStateChange, Currency
from bonuses.shop.models import Category, Gift
from tests.e2e.conftest import VIEWPORTS, Audit, Console, log_in, save_screenshot, sticking_out

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True), pytest.mark.usefixtures("reduced_motion")]

REASON = "Audit of the March orders"


@pytest.fixture(autouse=True)
def console(console):
    console.expect_status(400)  # a refused form is sent on purpose
    return console


@pytest.fixture(params=VIEWPORTS)
def width(request, page):
    page.set_viewport_size(VIEWPORTS[request.param])
    return request.param


@pytest.fixture
def funded(employee, administrator, currency):
    """The employee with 300 Bonuses, and a mug in the shop they could buy."""
    services.accrue(user=employee, amount=300, actor=administrator, comment="Welcome")
    Gift.objects.create(name="Mug", category=Category.objects.create(name="Kitchen"), price=50, currency=currency)
    return employee


def open_state_modal(page, employee):
    row = page.locator(f"tr[data-employee='{employee.pk}']")
    opener = row.get_by_role("link", name=f"Account state of {employee.full_name}")
    opener.scroll_into_view_if_needed()
    box, window = opener.bounding_box(), page.viewport_size
    assert box["x"] >= 0 and box["x"] + box["width"] <= window["width"], "the row's action is off the screen"
    opener.click()
    dialog = page.get_by_role("dialog", name=f"Account state · {employee.full_name}")
    expect(dialog).to_be_visible()
    expect(dialog.get_by_label("Currency")).to_be_focused()
    return dialog


def change_state(page, employee, state: str, reason: str, *, screenshot: str | None = None):
    dialog = open_state_modal(page, employee)
    dialog.get_by_label(state, exact=True).check()
    if screenshot:
        save_screenshot(page, screenshot)
    dialog.get_by_label("Reason").fill(reason)
    dialog.get_by_role("button", name="Save").click()
    expect(page.get_by_role("dialog")).to_have_count(0)


def test_an_administrator_blocks_and_reactivates_an_employee_who_reads_the_notice(
    page, live_server, width, administrator, funded
):
    url, employee = live_server.url, funded
    log_in(page, live_server.url, administrator)
    page.goto(f"{url}/bonuses/accrual/")
    row = page.locator(f"tr[data-employee='{employee.pk}']")
    assert not sticking_out(page), sticking_out(page)

    # A reason is required: the modal says so next to the field and stays open.
    dialog = open_state_modal(page, employee)
    dialog.get_by_label("Blocked", exact=True).check()
    dialog.get_by_role("button", name="Save").click()
    expect(dialog.get_by_label("Reason")).to_have_attribute("aria-invalid", "true")
    expect(dialog.get_by_text("Give the reason for the change.")).to_be_visible()
    expect(dialog.get_by_label("Reason")).to_be_focused()
    save_screenshot(page, f"account-state-refused-{width}")
    assert not AccountStateChange.objects.exists()

    dialog.get_by_label("Reason").fill(REASON)
    dialog.get_by_role("button", name="Save").click()
    expect(page.get_by_text("The Bonuses account of Erik Employee is now “Blocked”.")).to_be_visible()
    expect(row.locator("[data-account-state='blocked']")).to_have_text("Blocked")
    expect(row.get_by_role("link", name="Account state of Erik Employee")).to_be_focused()  # back where it was
    assert not sticking_out(page), sticking_out(page)
    save_screenshot(page, f"account-state-blocked-row-{width}")
    assert Account.objects.get(user=employee, currency__is_default=True).state == Account.State.BLOCKED

    log_in(page, live_server.url, employee)
    page.goto(f"{url}/account/balance/")
    notice = page.get_by_test_id("account-notice")
    expect(notice).to_contain_text("Your Bonuses account was blocked by the administrator on")
    expect(notice).to_contain_text(f"Reason: {REASON}")
    assert not sticking_out(page), sticking_out(page)
    save_screenshot(page, f"account-state-notice-balance-{width}")
    page.goto(f"{url}/shop/")
    expect(page.get_by_test_id("account-notice")).to_contain_text("you cannot order gifts in Bonuses for now")
    expect(page.get_by_text("Not available: your Bonuses account cannot spend.")).to_be_visible()
    expect(page.get_by_role("link", name="Order", exact=True)).to_have_count(0)
    save_screenshot(page, f"account-state-notice-shop-{width}")

    log_in(page, live_server.url, administrator)
    page.goto(f"{url}/bonuses/accrual/")
    change_state(page, employee, "Active", "The audit is over", screenshot=f"account-state-modal-{width}")
    expect(page.get_by_text("The Bonuses account of Erik Employee is now “Active”.")).to_be_visible()
    expect(row.locator("[data-account-state]")).to_have_count(0)
    assert list(AccountStateChange.objects.order_by("pk").values_list("to_state", "reason")) == [
        ("blocked", REASON),
        ("active", "The audit is over"),
    ]

    log_in(page, live_server.url, employee)
    page.goto(f"{url}/account/balance/")
    expect(page.get_by_role("heading", level=1)).to_be_visible()
    expect(page.get_by_test_id("account-notice")).to_have_count(0)


def test_an_administrator_adds_a_currency_on_the_settings_page(page, live_server, width, administrator, currency):
    url = live_server.url
    log_in(page, live_server.url, administrator)
    page.goto(f"{url}/bonuses/settings/")
    page.get_by_role("link", name="New currency").click()
    expect(page.get_by_role("heading", name="New currency")).to_be_visible()

    page.get_by_label("Name").fill("bonuses")
    page.get_by_role("button", name="Save").click()
    expect(page.get_by_label("Name")).to_have_attribute("aria-invalid", "true")
    expect(page.get_by_text("A currency named “Bonuses” already exists.")).to_be_visible()
    save_screenshot(page, f"currency-new-refused-{width}")

    page.get_by_label("Name").fill("Kudos")
    page.get_by_label("Whole numbers").check()
    page.get_by_label("Burn-out policy").select_option(label="Never")
    page.get_by_role("button", name="Save").click()
    expect(page.get_by_text("Kudos is added.")).to_be_visible()
    expect(page.get_by_test_id("currencies")).to_contain_text("Kudos")
    assert not sticking_out(page), sticking_out(page)
    save_screenshot(page, f"currency-new-added-{width}")
    kudos = Currency.objects.get(name="Kudos")
    assert (kudos.whole_numbers, kudos.burn_policy, kudos.is_default) == (True, "never", False)


@pytest.mark.parametrize("viewport", VIEWPORTS)
def test_the_pages_pass_axe(new_context, live_server, viewport, administrator, funded):
    context = new_context(bypass_csp=True, viewport=VIEWPORTS[viewport], reduced_motion="reduce")
    page = context.new_page()
    page.set_default_timeout(10_000)
    console = Console(page)
    console.expect_status(400)
    audit = Audit(page, viewport)
    url, employee = live_server.url, funded
    log_in(page, live_server.url, administrator)
    audit.visit(f"{url}/bonuses/accrual/", "states-accrual")
    dialog = open_state_modal(page, employee)
    audit("states-modal")
    dialog.get_by_label("Blocked", exact=True).check()
    dialog.get_by_role("button", name="Save").click()
    expect(dialog.get_by_label("Reason")).to_have_attribute("aria-invalid", "true")
    audit("states-modal-refused")
    dialog.get_by_label("Reason").fill(REASON)
    dialog.get_by_role("button", name="Save").click()
    expect(page.locator(f"tr[data-employee='{employee.pk}'] [data-account-state='blocked']")).to_be_visible()
    audit("states-accrual-badge")
    audit.visit(f"{url}/bonuses/accrual/{employee.pk}/state/", "states-page")
    audit.visit(f"{url}/bonuses/settings/currency/new/", "states-currency-new")
    page.get_by_role("button", name="Save").click()
    expect(page.get_by_label("Name")).to_have_attribute("aria-invalid", "true")
    audit("states-currency-new-refused")
    log_in(page, live_server.url, employee)
    audit.visit(f"{url}/account/balance/", "states-balance-notice")
    audit.visit(f"{url}/shop/", "states-shop-notice")
    expect(page.get_by_test_id("account-notice")).to_be_visible()
    audit.assert_clean(9)
    page.wait_for_load_state("networkidle")
    console.assert_clean()


def test_the_reason_is_shown_as_text(page, live_server, administrator, funded):
    """A reason is the administrator's words: markup in it is shown, never run."""
    services.set_account_state(user=funded, state="blocked", actor=administrator, reason="<b>late</b> & <i>x</i>")
    log_in(page, live_server.url, funded)
    page.goto(f"{live_server.url}/account/balance/")
    expect(page.get_by_test_id("account-notice")).to_contain_text("Reason: <b>late</b> & <i>x</i>")
    assert re.search(r"<b>", page.get_by_test_id("account-notice").inner_html()) is None
