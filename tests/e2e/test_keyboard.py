"""The keyboard and screen-reader path through the accrual table and the write-off form (WCAG 2.1 AA):
a skip link, a modal that takes focus and gives it back, errors that take focus, live regions, buttons that
name their row, and focus rings that can be seen (3:1 against what surrounds them)."""

import re
from decimal import Decimal

import pytest
from playwright.sync_api import expect

from bonuses import selectors, services
from bonuses.models import Currency, Entry
from tests.e2e.conftest import choose_in_tom_select, row_of, save_screenshot
from tests.helpers import REMEMBERED_REFUSAL

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True), pytest.mark.usefixtures("reduced_motion")]


@pytest.fixture
def team(administrator, employee, department, make_user):
    """The administrator, Erik Employee and two colleagues: the table's rows in name order."""
    return [
        administrator,
        make_user(department=department, full_name="Bea Buyer"),
        employee,
        make_user(department=department, full_name="Sara Seller"),
    ]


def focused(page) -> str:
    """What has the focus, for assertion messages: tag, id and accessible text."""
    return page.evaluate(
        "() => { const e = document.activeElement;"
        " return `${e.tagName.toLowerCase()}#${e.id} ${(e.getAttribute('aria-label') || e.textContent).trim()}`; }"
    )


def tab_until(page, locator, *, limit: int = 80) -> int:
    """Press Tab until `locator` has the focus; the number of presses it took."""
    for presses in range(1, limit + 1):
        page.keyboard.press("Tab")
        if locator.evaluate("element => element === document.activeElement"):
            return presses
    raise AssertionError(f"{limit} Tab presses never reached {locator}; the focus is on {focused(page)}")


# 1 -------------------------------------------------------------------------------------------


def test_skip_link_is_the_first_tab_stop_and_leads_to_the_main_content(login, live_server, administrator, team):
    page = login(administrator)
    page.goto(f"{live_server.url}/bonuses/accrual/")
    skip = page.get_by_role("link", name="Skip to main content")
    assert skip.bounding_box()["width"] <= 1  # visually hidden until it has the focus

    page.keyboard.press("Tab")
    expect(skip).to_be_focused()
    expect(skip).to_be_in_viewport()
    box = skip.bounding_box()
    assert box["width"] > 50 and box["height"] > 20, box  # shown, not a 1-pixel clip
    save_screenshot(page, "keyboard-skip-link", full_page=False)

    page.keyboard.press("Enter")
    expect(page.locator("main#main")).to_be_focused()
    # The next stop is the first control of the page's content, not the navigation.
    page.keyboard.press("Tab")
    expect(page.get_by_label("Currency")).to_be_focused()

    # Without the skip link the row's button lies behind the whole navigation as well.
    page.goto(f"{live_server.url}/bonuses/accrual/")
    first_button = row_of(page, team[1]).get_by_role("button", name="Add bonuses")  # the first not one's own
    from_the_top = tab_until(page, first_button)
    page.goto(f"{live_server.url}/bonuses/accrual/")
    page.keyboard.press("Tab")
    page.keyboard.press("Enter")
    from_main = tab_until(page, first_button)
    assert from_main < from_the_top - 5, (from_main, from_the_top)


# 2 -------------------------------------------------------------------------------------------


def test_add_bonuses_with_the_keyboard_only(
    login, live_server, administrator, employee, team, currency, console, ledger_snapshot
):
    page = login(administrator)
    page.goto(f"{live_server.url}/bonuses/accrual/")
    page.keyboard.press("Tab")
    page.keyboard.press("Enter")  # the skip link
    opener = row_of(page, employee).get_by_role("button", name="Add bonuses to Erik Employee", exact=True)
    tab_until(page, opener)
    dialog = page.get_by_role("dialog", name="Add bonuses · Erik Employee")
    amount = dialog.get_by_label("Amount")

    # Enter opens the modal, which is named by its heading and puts the focus on the amount.
    page.keyboard.press("Enter")
    expect(dialog).to_be_visible()
    expect(amount).to_be_focused()
    # Escape closes it and gives the focus back to the button that opened it.
    page.keyboard.press("Escape")
    expect(dialog).to_be_hidden()
    expect(opener).to_be_focused()

    # Cancel does the same.
    page.keyboard.press("Enter")
    expect(amount).to_be_focused()
    dialog.get_by_role("button", name="Cancel").focus()
    page.keyboard.press("Enter")
    expect(dialog).to_be_hidden()
    expect(opener).to_be_focused()

    # A refused send: the focus goes to the field in error, which is marked invalid and described by the error.
    before = ledger_snapshot()
    console.expect_status(400)
    page.keyboard.press("Enter")
    expect(amount).to_be_focused()
    page.keyboard.type("0")
    page.keyboard.press("Enter")  # submits the form
    expect(dialog.locator(".invalid-feedback")).to_be_visible()
    expect(amount).to_be_focused()
    expect(amount).to_have_attribute("aria-invalid", "true")
    expect(amount).to_have_accessible_description(dialog.locator(".invalid-feedback").inner_text().strip())
    assert ledger_snapshot() == before
    save_screenshot(page, "keyboard-modal-refused", full_page=False)

    # A successful send reloads the table: the focus is back on the same row's button, which the message describes.
    page.keyboard.press("Control+A")
    page.keyboard.type("100")
    page.keyboard.press("Enter")
    expect(page.get_by_role("alert")).to_contain_text("100.00 Bonuses added to Erik Employee.")
    opener = row_of(page, employee).get_by_role("button", name="Add bonuses to Erik Employee", exact=True)
    expect(opener).to_be_focused()
    expect(opener).to_have_accessible_description(re.compile(r"100\.00 Bonuses added to Erik Employee\."))
    assert selectors.balance(employee, currency).active == Decimal("100.00")
    assert Entry.objects.count() == 1

    # The keyboard goes on from there through the same row.
    page.keyboard.press("Tab")
    expect(page.locator(":focus")).to_have_accessible_name("Log of Erik Employee")


# 3 -------------------------------------------------------------------------------------------


def test_bulk_accrual_with_the_keyboard_and_the_selection_is_announced(
    login, live_server, administrator, employee, team, currency
):
    page = login(administrator)
    page.goto(f"{live_server.url}/bonuses/accrual/")
    bar = page.get_by_test_id("selection-bar")
    status = bar.get_by_role("status")
    expect(status).to_have_text("Select employees to add bonuses to several at once.")

    # Space ticks a row's box; the live region says what is selected.
    row_of(page, employee).get_by_role("checkbox", name="Select Erik Employee").focus()
    page.keyboard.press("Space")
    expect(status).to_have_text("1 selected")
    row_of(page, team[3]).get_by_role("checkbox", name="Select Sara Seller").focus()
    page.keyboard.press("Space")
    expect(status).to_have_text("2 selected")

    opener = bar.get_by_role("button", name="Add bonuses (2)")
    opener.focus()
    page.keyboard.press("Enter")
    dialog = page.get_by_role("dialog", name="Add bonuses · 2 employees")
    expect(dialog).to_be_visible()
    expect(dialog.get_by_label("Amount")).to_be_focused()
    page.keyboard.press("Escape")
    expect(dialog).to_be_hidden()
    expect(opener).to_be_focused()

    page.keyboard.press("Enter")
    expect(dialog.get_by_label("Amount")).to_be_focused()
    page.keyboard.type("25")
    page.keyboard.press("Enter")
    # The selection is gone after the reload: the focus goes to the message, which is read out.
    message = page.get_by_role("alert")
    expect(message).to_contain_text("2 employees received 25.00 Bonuses each, 50.00 in all.")
    expect(message).to_be_focused()
    assert selectors.balance(employee, currency).active == Decimal("25.00")
    assert selectors.balance(team[3], currency).active == Decimal("25.00")


# 4 -------------------------------------------------------------------------------------------


def test_row_controls_name_their_employee_and_the_actions_column_is_named(login, live_server, administrator, team):
    page = login(administrator)
    page.goto(f"{live_server.url}/bonuses/accrual/")
    table = page.get_by_test_id("accrual-table")
    buttons = table.get_by_role("button", name="Add bonuses")
    others = team[1:]  # nobody is offered "Add bonuses" on their own row (issue 11)
    expect(buttons).to_have_count(len(others))
    expect(row_of(page, administrator).get_by_role("button")).to_have_count(0)
    names = [f"Add bonuses to {user.full_name}" for user in others]
    visible_label = (
        "b => { const c = b.cloneNode(true); c.querySelectorAll('.visually-hidden').forEach(e => e.remove());"
        " return c.textContent.trim(); }"
    )
    assert [button.evaluate(visible_label) for button in buttons.all()] == ["Add bonuses"] * len(others)
    for user, name in zip(others, names, strict=True):
        expect(row_of(page, user).get_by_role("button")).to_have_accessible_name(name)
        expect(row_of(page, user).get_by_role("link", name="Log")).to_have_accessible_name(f"Log of {user.full_name}")
        expect(row_of(page, user).get_by_role("checkbox")).to_have_accessible_name(f"Select {user.full_name}")
    expect(table.get_by_role("columnheader", name="Actions")).to_have_count(1)
    for header in table.get_by_role("columnheader").all():  # each names its column (the first holds a checkbox)
        assert header.evaluate("th => th.textContent.trim()") or header.get_by_role("checkbox").count(), header


# 5 -------------------------------------------------------------------------------------------


def test_write_off_names_the_employee_field_and_announces_the_available_balance(
    login, live_server, administrator, employee, currency
):
    services.accrue(user=employee, amount=200, actor=administrator, comment="Welcome", currency=currency)
    page = login(administrator)
    page.goto(f"{live_server.url}/bonuses/write-off/")
    # One named combobox for the employee; tom-select's original select is out of the accessibility tree.
    expect(page.get_by_role("combobox", name="Employee")).to_have_count(1)
    expect(page.locator("select#id_employee")).to_have_attribute("aria-hidden", "true")
    available = page.locator("#available")
    expect(available).to_have_attribute("aria-live", "polite")
    expect(available).to_contain_text("choose an employee")

    choose_in_tom_select(page, "id_employee", "rik Emp", "Erik Employee")
    # The figure changes inside the live region (swapped into it, not replacing it).
    expect(available).to_have_text(re.compile(r"Available bonuses:\s+200\.00\s+Bonuses"))
    expect(page.locator("#available[aria-live=polite]")).to_have_count(1)


# 6 -------------------------------------------------------------------------------------------


def test_a_refused_form_starts_the_keyboard_at_the_first_field_in_error(
    login, live_server, administrator, employee, currency, console, ledger_snapshot
):
    services.accrue(user=employee, amount=200, actor=administrator, comment="Welcome", currency=currency)
    before = ledger_snapshot(skip=REMEMBERED_REFUSAL)
    console.expect_status(400)
    page = login(administrator)

    # The gift desk sent without an employee: the autocomplete takes the focus, marked and described.
    page.goto(f"{live_server.url}/bonuses/orders/new/")
    page.get_by_role("button", name="Place order").click()
    combobox = page.get_by_role("combobox", name="Employee")
    expect(combobox).to_be_focused()
    expect(combobox).to_have_attribute("aria-invalid", "true")
    expect(combobox).to_have_accessible_description(page.locator("#id_employee_error").inner_text().strip())

    # A write-off of more than is available: the amount takes the focus, described by the refusal.
    page.goto(f"{live_server.url}/bonuses/write-off/")
    choose_in_tom_select(page, "id_employee", "rik Emp", "Erik Employee")
    page.get_by_label("Subtract bonuses").fill("500")
    page.get_by_role("button", name="Confirm").click()
    amount = page.get_by_label("Subtract bonuses")
    expect(amount).to_be_focused()
    expect(amount).to_have_attribute("aria-invalid", "true")
    expect(amount).to_have_accessible_description(re.compile(r"Only 200\.00 Bonuses are available"))
    assert ledger_snapshot(skip=REMEMBERED_REFUSAL) == before


# 7 -------------------------------------------------------------------------------------------


def test_the_arrow_keys_move_through_the_currency_choice_without_reloading(
    login, live_server, administrator, team, currency
):
    """WCAG 3.2.2: the currency select applies a mouse choice at once, a keyboard choice on Enter or on leaving."""
    stars = Currency.objects.create(name="Stars", whole_numbers=True)
    stones = Currency.objects.create(name="Stones")
    page = login(administrator)
    page.goto(f"{live_server.url}/bonuses/accrual/")
    choice = page.get_by_label("Currency")
    choice.focus()
    page.keyboard.press("ArrowDown")
    page.keyboard.press("ArrowDown")
    expect(choice).to_have_value(str(stones.pk))
    page.wait_for_timeout(300)  # time for a reload that must not come
    assert "currency=" not in page.url
    page.keyboard.press("ArrowUp")
    with page.expect_navigation():
        page.keyboard.press("Enter")
    expect(page).to_have_url(re.compile(rf"currency={stars.pk}"))
    expect(page.get_by_label("Currency")).to_have_value(str(stars.pk))

    # Leaving the field applies the choice too.
    page.get_by_label("Currency").focus()
    page.keyboard.press("ArrowUp")
    with page.expect_navigation():
        page.keyboard.press("Tab")
    expect(page).to_have_url(re.compile(rf"currency={currency.pk}"))

    # With the mouse a choice applies at once.
    with page.expect_navigation():
        page.get_by_label("Rows per page").select_option("50")
    expect(page).to_have_url(re.compile(r"per_page=50"))


# 8 -------------------------------------------------------------------------------------------

# Where the focus ring is, and the colours it is seen against: the element's own outline against the
# background just outside it (the outline is drawn 2 px outside the element). A tom-select draws it on its box.
FOCUS_RING = """
() => {
  const focused = document.activeElement;
  const ringed = focused.closest(".ts-control") || focused;
  const style = getComputedStyle(ringed);
  let node = ringed.parentElement, background = "rgb(255, 255, 255)";
  for (; node; node = node.parentElement) {
    const colour = getComputedStyle(node).backgroundColor;
    if (colour !== "transparent" && !/rgba\\(.*, 0\\)$/.test(colour)) { background = colour; break; }
  }
  const label = (focused.getAttribute("aria-label") || focused.innerText || focused.name || focused.id || "").trim();
  return {
    element: `${focused.tagName.toLowerCase()} ${label.slice(0, 40)}`,
    outlineStyle: style.outlineStyle, outlineWidth: parseFloat(style.outlineWidth),
    outlineColor: style.outlineColor, background: background,
  };
}
"""


def luminance(colour: str) -> float:
    red, green, blue = (int(part) / 255 for part in re.findall(r"[\d.]+", colour)[:3])

    def linear(c: float) -> float:
        return c / 12.92 if c <= 0.03928 else ((c + 0.055) / 1.055) ** 2.4

    return 0.2126 * linear(red) + 0.7152 * linear(green) + 0.0722 * linear(blue)


def contrast(one: str, other: str) -> float:
    light, dark = sorted((luminance(one), luminance(other)), reverse=True)
    return (light + 0.05) / (dark + 0.05)


def weak_focus_rings(page, stops: int) -> list[str]:
    problems, seen = [], set()
    for _ in range(stops):
        page.keyboard.press("Tab")
        ring = page.evaluate(FOCUS_RING)
        if ring["element"] in seen or ring["element"].startswith(("main", "body")):  # not controls
            continue
        seen.add(ring["element"])
        ratio = contrast(ring["outlineColor"], ring["background"])
        if ring["outlineStyle"] == "none" or ring["outlineWidth"] < 2 or ratio < 3:
            problems.append(
                f"{ring['element']!r}: outline {ring['outlineStyle']} {ring['outlineWidth']}px {ring['outlineColor']}"
                f" on {ring['background']} = {ratio:.2f}:1"
            )
    return problems


def test_focus_rings_have_three_to_one_contrast(login, live_server, administrator, employee, team, currency):
    page = login(administrator)
    problems = []
    page.goto(f"{live_server.url}/bonuses/accrual/")
    problems += weak_focus_rings(page, 45)  # skip link, navigation, header buttons, filters, table, rows
    row_of(page, employee).get_by_role("button", name="Add bonuses").click()
    expect(page.get_by_role("dialog")).to_be_visible()
    problems += weak_focus_rings(page, 10)  # the modal's fields and buttons
    page.keyboard.press("Escape")
    page.goto(f"{live_server.url}/bonuses/write-off/")
    problems += weak_focus_rings(page, 20)  # tabs, tom-select, inputs
    page.goto(f"{live_server.url}/shop/")
    problems += weak_focus_rings(page, 20)
    assert not problems, "focus rings below 3:1 or missing:\n" + "\n".join(problems)


# The edge of each visible field and check box, and the background behind it.
FIELD_EDGES = """
() => Array.from(document.querySelectorAll(".form-control, .form-select, .form-check-input, .ts-control"))
  .filter((field) => field.offsetParent !== null && !field.matches(".ts-wrapper, .tomselected"))
  .map((field) => {
    let node = field.parentElement, background = "rgb(255, 255, 255)";
    for (; node; node = node.parentElement) {
      const colour = getComputedStyle(node).backgroundColor;
      if (colour !== "transparent" && !/rgba\\(.*, 0\\)$/.test(colour)) { background = colour; break; }
    }
    return { field: `${field.tagName.toLowerCase()}#${field.id}.${field.className}`.slice(0, 80),
             border: getComputedStyle(field).borderTopColor, background: background };
  })
"""


def test_fields_and_check_boxes_have_a_visible_edge(login, live_server, administrator, employee, team):
    """WCAG 1.4.11: what shows that a field is a field (its border) has 3:1 against its background."""
    page = login(administrator)
    problems = []
    for url in ("/bonuses/accrual/", "/bonuses/write-off/", "/shop/", "/bonuses/orders/new/"):
        page.goto(f"{live_server.url}{url}")
        edges = page.evaluate(FIELD_EDGES)
        assert edges, url
        problems += [
            f"{url} {edge['field']}: {edge['border']} on {edge['background']}"
            f" = {contrast(edge['border'], edge['background']):.2f}:1"
            for edge in edges
            if contrast(edge["border"], edge["background"]) < 3
        ]
    assert not problems, "field edges below 3:1:\n" + "\n".join(problems)
