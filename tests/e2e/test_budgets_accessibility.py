"""axe-core (WCAG 2.1 A and AA) on the pages and modals of issue 11's budgets and approvals, at 1280 and
390 px, as tests/e2e/test_accessibility.py runs it (the browser context bypasses the CSP to inject axe)."""

from decimal import Decimal

import pytest
from playwright.sync_api import expect

from bonuses import services
from tests.e2e.conftest import VIEWPORTS, Audit
from tests.e2e.test_budgets_browser import bonuses, team  # noqa: F401 (fixtures)

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True), pytest.mark.usefixtures("reduced_motion")]


@pytest.fixture(scope="session")
def browser_context_args(browser_context_args):
    return {**browser_context_args, "bypass_csp": True}  # axe is injected into the page


@pytest.mark.parametrize("width", VIEWPORTS)
def test_the_new_pages_pass_axe(page, login, live_server, manager, administrator, team, bonuses, width):  # noqa: F811
    page.set_viewport_size(VIEWPORTS[width])
    services.update_currency_settings(bonuses, approval_required=True, approval_per_employee=Decimal("100"))
    services.accrue(user=team[0], amount=50, actor=manager, comment="Thanks")
    request = services.accrue(user=team[1], amount=150, actor=manager, comment="Launch")
    services.top_up_budget(manager=manager, amount=100, actor=administrator, comment="Fair")
    audit = Audit(page, width)
    url = live_server.url
    login(manager)
    for path, name in (("/bonuses/budget/", "my-budget"), ("/bonuses/requests/", "my-requests")):
        page.goto(f"{url}{path}")
        audit(name)
    page.goto(f"{url}/bonuses/accrual/")
    audit("accrual-with-budget")
    login(administrator)
    page.goto(f"{url}/bonuses/budgets/")
    audit("budgets")
    page.locator(f"tr[data-employee='{manager.pk}']").get_by_role("button", name="Top up / reduce").click()
    expect(page.get_by_role("dialog", name="Budget · Maria Manager").get_by_label("Amount")).to_be_focused()
    audit("budget-change-modal")
    page.keyboard.press("Escape")
    page.locator(f"tr[data-employee='{manager.pk}']").get_by_role("checkbox").check()
    page.get_by_role("button", name="Top up / reduce (1)").click()
    expect(page.get_by_role("dialog", name="Budgets · 1 manager").get_by_label("Amount")).to_be_focused()
    audit("budget-bulk-modal")
    for path, name in (
        ("/bonuses/approvals/", "approvals"),
        (f"/bonuses/approvals/{request.pk}/reject/", "reject"),
        (f"/bonuses/settings/currency/{bonuses.pk}/", "currency-settings"),
    ):
        page.goto(f"{url}{path}")
        audit(name)
    audit.assert_clean(9)
