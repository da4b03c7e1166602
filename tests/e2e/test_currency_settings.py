"""Currency settings in a real browser: the burn-out steps editor, the chosen policy's fields, 390 px wide.

Screenshots: currency-settings-steps-1280, -refused-1280, -390, currency-list-390 and
currency-settings-no-js (under test-artifacts/screenshots/).
"""

import re

import pytest
from playwright.sync_api import expect

from bonuses.models import Currency
from tests.e2e.conftest import log_in, save_screenshot

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def steps(page):
    return page.locator("[data-steps] [data-step]:visible")


def fill_step(row, period: str, unit: str, percent: str) -> None:
    row.get_by_label("Period").fill(period)
    row.get_by_label("Unit").select_option(unit)
    row.get_by_label("Percentage").fill(percent)


def assert_fits(page, width: int) -> None:
    assert page.evaluate("document.documentElement.scrollWidth") <= width


def test_burn_out_steps_are_edited_as_rows_for_their_policy_only(
    login, live_server, administrator, currency, screenshot, console, ledger_snapshot
):
    page = login(administrator)
    page.set_viewport_size({"width": 1280, "height": 900})
    page.goto(f"{live_server.url}/bonuses/settings/currency/{currency.pk}/")
    policy = page.get_by_label("Burn-out policy")
    lifetime = page.get_by_label("Lifetime", exact=True)
    steps_box = page.get_by_role("group", name="Burn-out steps")
    add = page.get_by_role("button", name="Add a step")

    # "Never": neither the lifetime nor the steps.
    expect(policy).to_have_value("never")
    expect(lifetime).to_be_hidden()
    expect(steps_box).to_be_hidden()
    policy.select_option(label="From the date of crediting")
    expect(lifetime).to_be_visible()
    expect(steps_box).to_be_hidden()
    policy.select_option(label="From the date of the last purchase")
    expect(lifetime).to_be_hidden()
    expect(steps_box).to_be_visible()
    # The default step, and no empty rows: "Add a step" makes them.
    expect(steps(page)).to_have_count(1)
    expect(steps(page).first.get_by_label("Period")).to_have_value("1")
    expect(steps(page).first.get_by_label("Unit")).to_have_value("years")
    expect(steps(page).first.get_by_label("Percentage")).to_have_value("100")

    fill_step(steps(page).first, "1", "years", "50")
    add.click()
    expect(steps(page)).to_have_count(2)
    expect(steps(page).nth(1).get_by_label("Period")).to_be_focused()
    fill_step(steps(page).nth(1), "12", "months", "100")
    add.click()
    fill_step(steps(page).nth(2), "2", "years", "100")
    screenshot("currency-settings-steps-1280")
    steps(page).nth(2).get_by_title("Remove step").click()
    expect(steps(page)).to_have_count(2)
    expect(add).to_be_focused()

    before = ledger_snapshot()
    console.expect_status(400)
    page.get_by_role("button", name="Save").click()
    expect(page.get_by_text("Correct the burn-out steps below.")).to_be_visible()
    message = "Step 2 must be longer than the step before it."
    expect(steps(page).nth(1)).to_contain_text(message)
    expect(steps(page).nth(0)).not_to_contain_text(message)
    expect(steps(page).nth(1).get_by_label("Period")).to_have_attribute("aria-describedby", "steps-1-errors")
    expect(steps(page)).to_have_count(2)  # the removed row stays removed
    screenshot("currency-settings-refused-1280")
    assert ledger_snapshot() == before

    steps(page).nth(1).get_by_label("Period").fill("18")
    page.get_by_role("button", name="Save").click()
    expect(page).to_have_url(f"{live_server.url}/bonuses/settings/")
    expect(page.get_by_role("alert")).to_contain_text("The settings of Bonuses are saved.")
    currency.refresh_from_db()
    assert (currency.burn_policy, currency.burn_steps) == (
        "from_last_purchase",
        [{"period": 1, "unit": "years", "percent": "50"}, {"period": 18, "unit": "months", "percent": "100"}],
    )

    # At 390 px the settings list and the editor fit the screen.
    Currency.objects.create(name="Stars", whole_numbers=True, burn_policy="from_crediting", lifetime_value=12)
    page.set_viewport_size({"width": 390, "height": 844})
    page.reload()
    expect(page.get_by_role("link", name="Edit").first).to_be_visible()
    assert_fits(page, 390)
    screenshot("currency-list-390")
    page.goto(f"{live_server.url}/bonuses/settings/currency/{currency.pk}/")
    expect(steps(page)).to_have_count(2)
    add.click()
    expect(steps(page)).to_have_count(3)
    assert_fits(page, 390)
    screenshot("currency-settings-390")


def test_without_javascript_the_page_works_too(browser, live_server, administrator, currency):
    context = browser.new_context(java_script_enabled=False, viewport={"width": 390, "height": 844})
    page = context.new_page()
    try:
        log_in(page, live_server.url, administrator)
        page.goto(f"{live_server.url}/bonuses/settings/currency/{currency.pk}/")
        # Every policy's fields are there, and two empty rows for more steps; no "Add a step".
        expect(page.get_by_label("Lifetime", exact=True)).to_be_visible()
        rows = page.locator("[data-steps] [data-step]")
        expect(rows).to_have_count(3)
        expect(page.get_by_role("button", name="Add a step")).to_be_hidden()
        assert_fits(page, 390)
        save_screenshot(page, "currency-settings-no-js")

        page.get_by_label("Burn-out policy").select_option("from_last_purchase")
        page.get_by_label("Lifetime", exact=True).fill("7")  # another policy's field: ignored
        fill_step(rows.nth(0), "30", "days", "10")
        fill_step(rows.nth(1), "6", "months", "50")
        rows.nth(2).get_by_label("Unit").select_option("years")  # a row with no numbers: ignored
        page.get_by_role("button", name="Save").click()
        expect(page).to_have_url(re.compile(r"/bonuses/settings/$"))
        currency.refresh_from_db()
        assert (currency.burn_policy, currency.lifetime_value, currency.burn_steps) == (
            "from_last_purchase",
            None,
            [{"period": 30, "unit": "days", "percent": "10"}, {"period": 6, "unit": "months", "percent": "50"}],
        )
    finally:
        context.close()
