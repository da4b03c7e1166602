"""The bulk modal's total reads the amount exactly as the server does (issue 9, point 3).

For every text, the total shown before Send is the server's amount times the employees, or a dash
where the server would refuse the amount: never a total for an amount that cannot be sent.
"""

from decimal import Decimal

import pytest
from playwright.sync_api import expect

from bonuses import rules
from bonuses.exceptions import InvalidAmount
from tests.helpers import LOOSE, READ_AS

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

TEXTS = [*READ_AS, *(text for text, _message in LOOSE.values()), "0", "0.01", "1.234", "10,000,000", "10,000,000.01"]


def expected_total(text: str, currency, count: int) -> str:
    """What the modal must show: the server's amount times `count`, as the browser formats it, or a dash."""
    if not text.strip():
        return "0"
    try:
        amount = rules.clean_amount(text, currency)
    except InvalidAmount:
        return "\u2014"
    total = f"{amount * count:,.2f}"
    return total.rstrip("0").rstrip(".") if "." in total else total


@pytest.mark.parametrize("whole", [False, True], ids=["decimals", "whole numbers"])
def test_the_bulk_total_parses_amounts_as_the_server_does(
    login, live_server, administrator, make_user, currency, whole
):
    currency.whole_numbers = whole
    currency.save()
    for n in range(3):
        make_user(full_name=f"Person {n}")
    page = login(administrator)
    page.goto(f"{live_server.url}/bonuses/accrual/?currency={currency.pk}")
    rows = page.get_by_test_id("accrual-table").locator("tbody tr")
    for index in range(3):
        rows.nth(index).locator("input[data-select-row]").check()
    page.get_by_test_id("selection-bar").locator("[data-bulk-open]").click()
    modal = page.locator("#modal")
    expect(modal.get_by_role("heading")).to_have_text("Add bonuses · 3 employees")
    total = modal.locator("[data-bulk-total]")
    expect(total).to_have_text("0")
    for text in [*TEXTS, "10.5", ""]:
        modal.get_by_label("Amount").fill(text)
        expect(total).to_have_text(expected_total(text, currency, 3))
    assert expected_total("1 000", currency, 3) == "3,000"
    assert expected_total("0.01", currency, 3) == ("\u2014" if whole else "0.03")
    assert rules.parse_amount("12,5") == Decimal("12.5")
