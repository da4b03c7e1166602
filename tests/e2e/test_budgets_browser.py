"""Managers' budgets and four-eyes approval in a real browser (issue 11), with the pages' strict CSP: a
manager with a budget of 1,000 grants 300 to each of three people, sees 100 left, is refused 200, an
administrator tops the budget up, the grant goes through; an administrator's bulk grant above the threshold
is approved by a second administrator. (axe on the new pages: test_budgets_accessibility.py.)"""

from decimal import Decimal

import pytest
from playwright.sync_api import expect

from bonuses import services
from bonuses.models import Currency, Entry, GrantRequest
from tests.e2e.conftest import VIEWPORTS, open_modal, save_screenshot

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True), pytest.mark.usefixtures("reduced_motion")]


@pytest.fixture
def bonuses(db):
    currency = Currency.objects.get(is_default=True)
    services.update_currency_settings(currency, budget_period="month", budget_allowance=Decimal("1000"))
    return currency


@pytest.fixture(params=VIEWPORTS)
def width(request, page):
    page.set_viewport_size(VIEWPORTS[request.param])
    return request.param


@pytest.fixture
def team(make_user, department):
    return [make_user(department=department, full_name=name) for name in ("Ada Sales", "Ben Sales", "Cleo Sales")]


def test_a_manager_grants_within_the_budget_and_an_administrator_tops_it_up(
    page, console, login, live_server, manager, administrator, team, bonuses, width
):
    console.expect_status(400)  # the refused grant
    url = live_server.url
    login(manager)
    page.goto(f"{url}/bonuses/accrual/")
    expect(page.get_by_test_id("budget-left")).to_contain_text("1,000.00 of 1,000.00 Bonuses left")
    for person in team:
        page.locator(f"tr[data-employee='{person.pk}']").get_by_role("checkbox").check()
    dialog = open_modal(page, page.get_by_role("button", name="Add bonuses (3)"), "Add bonuses · 3 employees")
    dialog.get_by_label("Amount").fill("300")
    expect(dialog.get_by_test_id("budget-use")).to_contain_text("Uses 900 of your 1,000 left.")
    save_screenshot(page, f"budgets-bulk-modal-{width}")
    dialog.get_by_role("button", name="Send").click()
    expect(page.get_by_test_id("budget-left")).to_contain_text("100.00 of 1,000.00 Bonuses left")
    save_screenshot(page, f"budgets-accrual-after-grant-{width}")

    row = page.locator(f"tr[data-employee='{team[0].pk}']")
    dialog = open_modal(page, row.get_by_role("button", name="Add bonuses"), "Add bonuses · Ada Sales")
    dialog.get_by_label("Amount").fill("200")
    dialog.get_by_role("button", name="Send").click()
    expect(dialog.get_by_test_id("form-error")).to_contain_text("This grant uses 200.00 of your 100.00 Bonuses left")
    save_screenshot(page, f"budgets-refused-{width}")
    assert Entry.objects.count() == 3

    login(administrator)
    page.goto(f"{url}/bonuses/budgets/")
    budget_row = page.locator(f"tr[data-employee='{manager.pk}']")
    expect(budget_row).to_contain_text("900.00")
    dialog = open_modal(page, budget_row.get_by_role("button", name="Top up / reduce"), "Budget · Maria Manager")
    dialog.get_by_label("Amount").fill("500")
    dialog.get_by_label("Comment").fill("Trade fair")
    save_screenshot(page, f"budgets-top-up-modal-{width}")
    dialog.get_by_role("button", name="Save").click()
    expect(page.get_by_role("alert").filter(has_text="is now 1,500.00 Bonuses, 600.00 of it left.")).to_be_visible()
    save_screenshot(page, f"budgets-budgets-table-{width}")

    login(manager)
    page.goto(f"{url}/bonuses/accrual/")
    row = page.locator(f"tr[data-employee='{team[0].pk}']")
    dialog = open_modal(page, row.get_by_role("button", name="Add bonuses"), "Add bonuses · Ada Sales")
    dialog.get_by_label("Amount").fill("200")
    dialog.get_by_role("button", name="Send").click()
    expect(page.get_by_test_id("budget-left")).to_contain_text("400.00 of 1,500.00 Bonuses left")
    assert Entry.objects.count() == 4
    page.goto(f"{url}/bonuses/budget/")
    expect(page.get_by_test_id("budget-movements")).to_contain_text("Trade fair")
    save_screenshot(page, f"budgets-my-budget-{width}")


def test_an_administrators_bulk_grant_above_the_threshold_is_approved_by_a_second(
    page, login, live_server, administrator, make_user, team, bonuses, width
):
    services.update_currency_settings(bonuses, approval_required=True, approval_admin_total=Decimal("500"))
    second = make_user("second@example.com", role="Administrators", full_name="Sam Second")
    url = live_server.url
    login(administrator)
    page.goto(f"{url}/bonuses/accrual/")
    for person in team:
        page.locator(f"tr[data-employee='{person.pk}']").get_by_role("checkbox").check()
    dialog = open_modal(page, page.get_by_role("button", name="Add bonuses (3)"), "Add bonuses · 3 employees")
    dialog.get_by_label("Amount").fill("250")
    dialog.get_by_role("button", name="Send").click()
    expect(page.get_by_text("waits for an administrator's approval")).to_be_visible()
    assert Entry.objects.count() == 0
    page.goto(f"{url}/bonuses/approvals/")
    expect(page.get_by_test_id("approval-table")).to_contain_text("Your request: another administrator decides.")

    login(second)
    page.goto(f"{url}/bonuses/approvals/")
    expect(page.get_by_test_id("approval-table")).to_contain_text("Alex Admin")
    save_screenshot(page, f"budgets-approvals-{width}")
    page.get_by_role("button", name="Approve").click()
    expect(page.get_by_text("approved: 750.00 Bonuses granted as Alex Admin's.")).to_be_visible()
    request = GrantRequest.objects.get()
    assert request.status == "approved" and request.decided_by == second
    assert set(Entry.objects.values_list("actor", flat=True)) == {administrator.pk}
