import pytest
from playwright.sync_api import expect

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_administrator_sees_administration_menu(login, administrator, screenshot, settings):
    administrator.is_staff = True
    administrator.save()
    page = login(administrator)
    expect(page.get_by_test_id("current-user")).to_have_text("Alex Admin")
    page.get_by_role("button", name="Administration").click()
    expect(page.get_by_role("link", name="Employees")).to_be_visible()
    screenshot("home-administrator")
    page.get_by_role("link", name="Employees").click()
    expect(page.get_by_role("heading", name="Select employee to change")).to_be_visible()


def test_employee_sees_no_administration_entries(login, employee, screenshot):
    page = login(employee)
    expect(page.get_by_test_id("current-user")).to_have_text("Erik Employee")
    expect(page.get_by_test_id("nav-employee").get_by_role("link", name="Home")).to_be_visible()
    expect(page.get_by_test_id("nav-admin")).to_have_count(0)
    expect(page.get_by_role("link", name="Employees")).to_have_count(0)
    screenshot("home-employee")
    page.get_by_role("button", name="Log out").click()
    expect(page.get_by_role("button", name="Log in")).to_be_visible()
