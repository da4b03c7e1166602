"""The administrator screens in a real browser: accrual table, single and bulk accrual, write-off, log, exports, roles.

Every test also fails on a Content-Security-Policy violation or a JavaScript error in the page.
"""

import re
from decimal import Decimal

import pytest
from openpyxl import load_workbook
from playwright.sync_api import expect

from bonuses import selectors, services
from bonuses.models import Batch, Entry
from tests.e2e.conftest import choose_in_tom_select, row_of, save_screenshot
from tests.helpers import ACCRUAL_HEADER
from users.models import City, Department, Position, Tag

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True), pytest.mark.usefixtures("reduced_motion")]

ADMIN_URLS = ["/bonuses/accrual/", "/bonuses/write-off/", "/bonuses/log/", "/bonuses/settings/"]


@pytest.fixture
def support(db):
    return Department.objects.create(name="Support")


def table_rows(page):
    return page.get_by_test_id("accrual-table").locator("tbody tr")


def accrual_count(**filters) -> int:
    return Entry.objects.filter(kind__in=Entry.ACCRUALS, **filters).count()


def resize_comment_box(page, modal) -> None:
    """Drag the comment box's resize handle, as someone about to write a long comment does."""
    box = modal.get_by_label("Comment").bounding_box()
    right, bottom = box["x"] + box["width"] - 3, box["y"] + box["height"] - 3
    page.mouse.move(right, bottom)
    page.mouse.down()
    page.mouse.move(right, bottom + 60, steps=4)
    page.mouse.up()
    assert "height" in (modal.get_by_label("Comment").get_attribute("style") or "")  # the browser wrote it inline


# 1 -------------------------------------------------------------------------------------------


def test_filter_by_department_and_add_bonuses_to_one_employee(
    login, live_server, administrator, employee, department, support, make_user, currency, screenshot
):
    colleague = make_user(department=department, full_name="Sara Seller")
    outsider = make_user(department=support, full_name="Sven Support")
    page = login(administrator)
    page.goto(f"{live_server.url}/bonuses/accrual/")
    expect(page.get_by_role("heading", name="Accrual of bonuses to users")).to_be_visible()
    expect(table_rows(page)).to_have_count(4)  # the administrator is an employee too

    choose_in_tom_select(page, "id_department", "Sal", "Sales")
    page.get_by_role("button", name="Apply filters").click()
    expect(page).to_have_url(re.compile(rf"department={department.pk}"))
    expect(table_rows(page)).to_have_count(2)
    expect(row_of(page, employee)).to_be_visible()
    expect(row_of(page, colleague)).to_be_visible()
    expect(row_of(page, outsider)).to_have_count(0)
    expect(page.get_by_text("2 employees match the filter")).to_be_visible()

    row_of(page, employee).get_by_role("button", name="Add bonuses").click()
    modal = page.locator("#modal")
    expect(modal).to_be_visible()
    expect(modal.get_by_role("heading", name="Add bonuses · Erik Employee")).to_be_visible()
    modal.get_by_label("Amount").fill("100")
    modal.get_by_label("Comment").fill("Thanks for the <b>Q3</b> launch")
    save_screenshot(page, "accrual-modal-single", full_page=False)
    modal.get_by_role("button", name="Send").click()

    expect(page.get_by_role("alert")).to_contain_text("100.00 Bonuses added to Erik Employee. New balance: 100.00.")
    expect(page).to_have_url(re.compile(rf"department={department.pk}"))  # back to the filtered table
    expect(row_of(page, employee).locator("td.text-end").first).to_have_text("100.00")
    expect(row_of(page, colleague).locator("td.text-end").first).to_have_text("0.00")
    assert selectors.balance(employee, currency).active == Decimal("100.00")
    assert accrual_count() == 1
    screenshot("accrual-table")

    row_of(page, employee).get_by_role("link", name="Log").click()
    expect(page).to_have_url(re.compile(rf"/bonuses/log/\?employee={employee.pk}$"))
    log_rows = page.get_by_test_id("log-table").locator("tbody tr")
    expect(log_rows).to_have_count(1)
    expect(log_rows.first).to_contain_text("Erik Employee")
    expect(log_rows.first).to_contain_text("Accrued by the administrator")
    expect(log_rows.first).to_contain_text("+100.00")
    expect(log_rows.first).to_contain_text("Thanks for the <b>Q3</b> launch")  # escaped, shown as typed
    expect(log_rows.first).to_contain_text("Alex Admin")
    screenshot("log")


# 2 -------------------------------------------------------------------------------------------


def test_bulk_accrual_to_selected_rows_and_to_all_matching(
    login, live_server, administrator, department, support, make_user, currency
):
    sales = [make_user(department=department, full_name=f"Sales Person {n:02d}") for n in range(1, 31)]
    others = [make_user(department=support, full_name=f"Support Person {n}") for n in range(1, 4)]
    everyone = [administrator, *sales, *others]
    page = login(administrator)
    page.goto(f"{live_server.url}/bonuses/accrual/")
    expect(table_rows(page)).to_have_count(25)
    modal = page.locator("#modal")

    # One row's modal first, its comment box enlarged, then cancelled. The bulk form below replaces it, and
    # htmx copies the "style" of same-id elements while settling: a CSP violation unless configured not to.
    table_rows(page).nth(5).get_by_role("button", name="Add bonuses").click()
    expect(modal).to_be_visible()
    resize_comment_box(page, modal)
    modal.get_by_role("button", name="Cancel").click()
    expect(modal).to_be_hidden()

    chosen = []
    for index in range(1, 4):  # the first row is the administrator's own: nobody accrues to themselves (issue 11)
        row = table_rows(page).nth(index)
        row.locator("input[data-select-row]").check()
        chosen.append(int(row.get_attribute("data-employee")))
    bar = page.get_by_test_id("selection-bar")
    expect(bar.locator("[data-selection-count]")).to_have_text("3 selected")
    expect(bar.locator("[data-bulk-open]")).to_have_text("Add bonuses (3)")
    bar.locator("[data-bulk-open]").click()
    expect(modal.get_by_role("heading")).to_have_text("Add bonuses · 3 employees")
    modal.get_by_label("Amount").fill("50")
    modal.get_by_label("Comment").fill("Team award")
    expect(modal.locator("[data-bulk-total]")).to_have_text("150")
    save_screenshot(page, "accrual-modal-bulk", full_page=False)
    modal.get_by_role("button", name="Send").click()
    expect(page.get_by_role("alert")).to_contain_text("3 employees received 50.00 Bonuses each, 150.00 in all.")
    for user in everyone:
        expected = Decimal("50.00") if user.pk in chosen else Decimal("0.00")
        assert selectors.balance(user, currency).active == expected, user.full_name
    assert set(Entry.objects.values_list("user_id", flat=True)) == set(chosen)
    assert set(Entry.objects.values_list("comment", flat=True)) == {"Team award"}

    # A filter that spans two pages: 30 employees of Sales, 25 rows per page.
    page.goto(f"{live_server.url}/bonuses/accrual/?department={department.pk}")
    expect(page.get_by_text("30 employees match the filter")).to_be_visible()
    expect(table_rows(page)).to_have_count(25)
    page.locator("input[data-select-page]").check()
    expect(bar.locator("[data-selection-count]")).to_have_text("25 selected")
    bar.get_by_role("button", name="Select all 30 employees matching the filter").click()
    expect(bar.locator("[data-selection-count]")).to_have_text("All 30 matching employees selected")
    bar.locator("[data-bulk-open]").click()
    expect(modal.get_by_role("heading")).to_have_text("Add bonuses · 30 employees")
    modal.get_by_label("Amount").fill("10")
    expect(modal.locator("[data-bulk-total]")).to_have_text("300")
    modal.get_by_role("button", name="Send").click()
    alert = page.get_by_role("alert")
    expect(alert).to_contain_text("30 employees received 10.00 Bonuses each, 300.00 in all.")

    batch = Batch.objects.latest("pk")
    entries = Entry.objects.filter(batch=batch)
    assert sorted(entries.values_list("user_id", flat=True)) == sorted(u.pk for u in sales)
    assert set(entries.values_list("amount", flat=True)) == {Decimal("10.00")}
    for user in everyone:
        expected = (Decimal("50.00") if user.pk in chosen else 0) + (Decimal("10.00") if user in sales else 0)
        assert selectors.balance(user, currency).active == expected, user.full_name

    alert.get_by_role("link", name="See the batch in the log").click()
    expect(page).to_have_url(re.compile(rf"/bonuses/log/\?batch={batch.pk}$"))
    log_rows = page.get_by_test_id("log-table").locator("tbody tr")
    expect(log_rows).to_have_count(30)
    expect(log_rows.filter(has_text="+10.00")).to_have_count(30)


# 3 -------------------------------------------------------------------------------------------


def test_write_off_with_autocomplete(
    login, live_server, administrator, employee, support, make_user, currency, console, screenshot
):
    make_user(department=support, full_name="Erin Other")
    services.accrue(user=employee, amount=200, actor=administrator, comment="Welcome", currency=currency)
    page = login(administrator)
    page.goto(f"{live_server.url}/bonuses/write-off/")
    expect(page.get_by_role("heading", name="Write-offs")).to_be_visible()
    expect(page.get_by_test_id("available")).to_contain_text("choose an employee")

    choose_in_tom_select(page, "id_employee", "rik Emp", "Erik Employee")
    expect(page.get_by_test_id("available")).to_have_text(re.compile(r"Available bonuses:\s+200\.00\s+Bonuses"))
    screenshot("write-off-form")

    console.expect_status(400)  # a refused form comes back with 400
    page.get_by_label("Subtract bonuses").fill("200.01")
    page.get_by_role("button", name="Confirm").click()
    expect(page.get_by_test_id("write-off-form")).to_contain_text(
        "Only 200.00 Bonuses are available; 200.01 were asked for."
    )
    assert not Entry.objects.filter(kind=Entry.Kind.MANUAL_WRITE_OFF).exists()
    assert selectors.balance(employee, currency).active == Decimal("200.00")
    expect(page.locator("#id_employee-ts-control").locator("..")).to_contain_text("Erik Employee")
    expect(page.get_by_test_id("available")).to_contain_text("200.00")
    screenshot("write-off-refused")

    # The corrected form carries the idempotency key of the refused attempt: that must not block it.
    page.get_by_label("Subtract bonuses").fill("75")
    page.get_by_label("Comment").fill("Gift card returned")
    page.get_by_role("button", name="Confirm").click()
    expect(page).to_have_url(re.compile(r"/bonuses/log/\?"))
    assert f"employee={employee.pk}" in page.url
    assert "kind=manual_write_off" in page.url
    expect(page.get_by_role("alert")).to_contain_text(
        "75.00 Bonuses written off from Erik Employee. New balance: 125.00."
    )
    expect(page.get_by_test_id("filters")).to_contain_text("Written off by the administrator")
    log_rows = page.get_by_test_id("log-table").locator("tbody tr")
    expect(log_rows).to_have_count(1)
    expect(log_rows.first).to_contain_text("-75.00")
    expect(log_rows.first).to_contain_text("Gift card returned")
    assert selectors.balance(employee, currency).active == Decimal("125.00")
    screenshot("log-after-write-off")


# 4 -------------------------------------------------------------------------------------------


def test_exports_hold_exactly_the_filtered_rows(
    login, live_server, administrator, employee, department, support, make_user, currency, tmp_path
):
    employee.position = Position.objects.create(name="Engineer")
    employee.city = City.objects.create(name="Oslo")
    employee.save()
    employee.tags.set([Tag.objects.create(name="mentor")])
    colleague = make_user(department=department, full_name="=Sara Seller")  # looks like a formula
    outsider = make_user(department=support, full_name="Sven Support")
    services.accrue(user=employee, amount=120, actor=administrator, comment="Bonus", currency=currency)
    services.accrue(user=colleague, amount=30, actor=administrator, comment="-minus first", currency=currency)
    services.accrue(user=outsider, amount=999, actor=administrator, comment="Elsewhere", currency=currency)
    services.write_off(user=employee, amount=20, actor=administrator, comment="Correction", currency=currency)
    page = login(administrator)

    page.goto(f"{live_server.url}/bonuses/accrual/?department={department.pk}")
    expect(table_rows(page)).to_have_count(2)
    with page.expect_download() as info:
        page.get_by_role("link", name="Export to Excel").click()
    download = info.value
    assert download.suggested_filename.startswith("bonus-balances_")
    assert download.suggested_filename.endswith(".xlsx")
    path = tmp_path / download.suggested_filename
    download.save_as(path)
    sheet = load_workbook(path).active
    rows = list(sheet.iter_rows(min_row=2, values_only=True))
    assert rows[0][:9] == tuple(ACCRUAL_HEADER)
    assert rows[1:] == [
        ("'=Sara Seller", colleague.email, None, None, None, "Sales", None, None, 30),  # no tags: an empty cell
        ("Erik Employee", employee.email, None, "Engineer", "Oslo", "Sales", "mentor", None, 100),
    ]

    page.goto(f"{live_server.url}/bonuses/log/?department={department.pk}")
    expect(page.get_by_test_id("log-table").locator("tbody tr")).to_have_count(3)
    with page.expect_download() as info:
        page.get_by_role("link", name="Export to Excel").click()
    download = info.value
    assert download.suggested_filename.startswith("bonus-log_")
    path = tmp_path / download.suggested_filename
    download.save_as(path)
    sheet = load_workbook(path).active
    rows = list(sheet.iter_rows(min_row=3, values_only=True))
    # Newest first: employee, event type, amount, balance after, comment, actor.
    assert [(r[1], r[4], r[6], r[7], r[8], r[9]) for r in rows] == [
        ("Erik Employee", "Written off by the administrator", -20, 100, "Correction", "Alex Admin"),
        ("'=Sara Seller", "Accrued by the administrator", 30, 30, "'-minus first", "Alex Admin"),
        ("Erik Employee", "Accrued by the administrator", 120, 120, "Bonus", "Alex Admin"),
    ]


# 5 -------------------------------------------------------------------------------------------


def test_employee_is_refused_and_manager_sees_only_their_department(
    login, live_server, employee, manager, department, support, make_user, console, screenshot
):
    colleague = make_user(department=department, full_name="Sara Seller")
    outsider = make_user(department=support, full_name="Sven Support")

    console.expect_status(403)
    page = login(employee)
    for url in ADMIN_URLS:
        response = page.goto(f"{live_server.url}{url}")
        assert response.status == 403, url
    screenshot("forbidden")

    page.context.clear_cookies()
    login(manager)
    page.goto(f"{live_server.url}/bonuses/accrual/")
    expect(table_rows(page)).to_have_count(2)
    expect(row_of(page, employee)).to_be_visible()
    expect(row_of(page, colleague)).to_be_visible()
    expect(row_of(page, outsider)).to_have_count(0)
    expect(page.get_by_role("link", name="Settings for working with bonuses")).to_have_count(0)
    page.get_by_role("button", name="Administration").click()
    menu = page.get_by_test_id("nav-admin")
    expect(menu.get_by_role("link", name="Accrual of bonuses")).to_be_visible()
    expect(menu.get_by_role("link", name="Log")).to_be_visible()
    expect(menu.get_by_role("link", name="Write-offs")).to_have_count(0)
    expect(menu.get_by_role("link", name="Settings")).to_have_count(0)
    screenshot("accrual-table-manager")
    for url in ("/bonuses/write-off/", "/bonuses/settings/"):
        assert page.goto(f"{live_server.url}{url}").status == 403, url
