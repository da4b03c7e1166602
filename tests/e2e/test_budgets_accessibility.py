"""axe-core (WCAG 2.1 A and AA) on the pages and modals of issue 11's budgets and approvals, at 1280 and
390 px, as tests/e2e/test_accessibility.py runs it (the browser context bypasses the CSP to inject axe)."""

from decimal import Decimal

import pytest
from playwright.sync_api import expect

from bonuses import services
from tests.e2e.test_accessibility import AXE, AXE_OPTIONS, VIEWPORTS
from tests.e2e.test_budgets_browser import bonuses, shot, switch_to, team  # noqa: F401 (fixtures)
from tests.e2e.test_layout import sticking_out

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture(autouse=True)
def _reduced_motion(page):
    page.emulate_media(reduced_motion="reduce")


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
    problems: list[str] = []

    def audit(name: str) -> None:
        result = AXE.run(page, options=AXE_OPTIONS)
        for violation in result.response["violations"]:
            targets = "; ".join(" > ".join(map(str, node["target"])) for node in violation["nodes"])
            problems.append(f"{name} @ {width}: {violation['id']}: {violation['help']} [{targets}]")
        if width == "phone":
            problems.extend(f"{name} @ phone: wider than the screen: {e}" for e in sticking_out(page))
        shot(page, f"a11y-{name}-{VIEWPORTS[width]['width']}")

    url = live_server.url
    login(manager)
    for path, name in (("/bonuses/budget/", "my-budget"), ("/bonuses/requests/", "my-requests")):
        page.goto(f"{url}{path}")
        audit(name)
    page.goto(f"{url}/bonuses/accrual/")
    audit("accrual-with-budget")
    switch_to(page, login, administrator)
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
    assert not problems, "\n".join(problems)
