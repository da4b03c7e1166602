"""Managers' budgets on the screens (issue 11): the budget left on the accrual table and in the bulk modal,
"My budget", the administrators' budgets table with its filters, export and top-up / reduce modals, the
policy on the currency's settings page, and the menus."""

import io
import uuid
from decimal import Decimal

import pytest
from django.utils.html import escape
from openpyxl import load_workbook

from bonuses import selectors, services
from bonuses.models import BudgetMovement, Currency
from tests.helpers import REMEMBERED_REFUSAL, message_texts
from users.models import Department

pytestmark = pytest.mark.django_db

BUDGETS = "/bonuses/budgets/"
MY_BUDGET = "/bonuses/budget/"


@pytest.fixture
def fixed(bonuses):
    services.update_currency_settings(bonuses, budget_period="month", budget_allowance=Decimal("1250"))
    return bonuses


@pytest.fixture
def team(make_user, department):
    return [make_user(department=department, full_name=f"Sales {n}") for n in range(3)]


# The accrual screens -------------------------------------------------------------------------------


def test_a_manager_sees_their_budget_left_on_the_accrual_table(as_manager, manager, team, fixed):
    services.accrue(user=team[0], amount=250, actor=manager)
    page = as_manager.get("/bonuses/accrual/").content.decode()
    assert 'data-testid="budget-left"' in page
    assert "<strong>1,000.00</strong> of 1,250.00 Bonuses left." in page


def test_the_bulk_modal_carries_what_is_left_for_the_total(as_manager, team, fixed):
    ids = ",".join(str(person.pk) for person in team)
    page = as_manager.get(f"/bonuses/accrual/bulk/?employees={ids}&currency={fixed.pk}").content.decode()
    assert 'data-budget-left="1250.00"' in page
    assert "Uses <strong data-bulk-total>0</strong> of your <strong>1,250</strong> left." in page


def test_without_a_policy_the_accrual_screens_say_managers_cannot_grant(as_manager, team, bonuses):
    Currency.objects.filter(pk=bonuses.pk).update(budget_period="", budget_allowance=None)
    page = as_manager.get("/bonuses/accrual/").content.decode()
    assert (
        "Bonuses has no budget policy: managers cannot grant it. An administrator can set one in the currency's "
        "settings." in page
    )
    ids = ",".join(str(person.pk) for person in team)
    modal = as_manager.get(f"/bonuses/accrual/bulk/?employees={ids}&currency={bonuses.pk}").content.decode()
    assert "Bonuses has no budget policy: managers cannot grant it." in modal


def test_a_manager_over_budget_is_refused_in_the_modal_with_what_is_left(as_manager, team, fixed, ledger_snapshot):
    before = ledger_snapshot(skip=REMEMBERED_REFUSAL)
    payload = {
        "employees": ",".join(str(person.pk) for person in team),
        "amount": "500",
        "idempotency_key": uuid.uuid4().hex,
        "currency": fixed.pk,
        "select_all": "",
        "filters": "",
    }
    response = as_manager.post("/bonuses/accrual/bulk/", payload)
    assert response.status_code == 400
    assert "This grant uses 1,500.00 of your 1,250.00 Bonuses left for" in response.content.decode()
    assert ledger_snapshot(skip=REMEMBERED_REFUSAL) == before


# My budget ---------------------------------------------------------------------------------------


def test_my_budget_lists_the_movements(as_manager, manager, administrator, team, fixed):
    batch = services.accrue_many(users=team, amount=100, actor=manager, comment="Goals")
    services.top_up_budget(manager=manager, amount=50, actor=administrator, comment="Extra for the fair")
    response = as_manager.get(MY_BUDGET)
    assert response.status_code == 200
    page = response.content.decode()
    assert 'data-figure="left">1,000.00<' in page
    assert 'data-figure="allowance">1,300.00<' in page
    rows = [row.record for row in response.context["table"].page.object_list]
    assert [row.kind for row in rows] == ["top_up", "grant", "opened"]
    assert "Extra for the fair" in page and f"?batch={batch.pk}" in page


def test_the_menu_shows_only_what_the_user_may_open(as_manager, client, administrator, fixed):
    page = as_manager.get("/bonuses/accrual/").content.decode()
    assert f'href="{MY_BUDGET}"' in page and f'href="{BUDGETS}"' not in page
    client.force_login(administrator)
    page = client.get("/bonuses/accrual/").content.decode()
    assert f'href="{BUDGETS}"' in page and f'href="{MY_BUDGET}"' not in page


# The budgets table -------------------------------------------------------------------------------


@pytest.fixture
def managers(make_user, manager, department):
    legal = Department.objects.create(name="Legal")
    other = make_user("lena@example.com", role="Managers", manages=[legal], full_name="Lena Legal")
    return manager, other, legal


def test_the_budgets_table_lists_every_manager_with_their_figures(as_admin, managers, team, fixed):
    manager, other, _legal = managers
    services.accrue(user=team[0], amount=250, actor=manager)
    response = as_admin.get(BUDGETS)
    rows = {row.record.full_name: row.record for row in response.context["table"].page.object_list}
    assert set(rows) == {"Maria Manager", "Lena Legal"}
    assert (rows["Maria Manager"].allowance, rows["Maria Manager"].granted, rows["Maria Manager"].left) == (
        1250,
        250,
        1000,
    )
    assert rows["Lena Legal"].budget_id is None  # not opened yet
    page = response.content.decode()
    assert 'value="20"' in page and "Not opened yet" in page  # 250 of 1,250: the usage bar at 20 %


def test_the_budgets_table_filters_by_department(as_admin, managers, fixed):
    _manager, _other, legal = managers
    response = as_admin.get(BUDGETS, {"department": legal.pk})
    assert [row.record.full_name for row in response.context["table"].page.object_list] == ["Lena Legal"]


def test_the_budgets_table_exports_to_excel(as_admin, managers, team, fixed):
    manager, _other, _legal = managers
    services.accrue(user=team[0], amount=250, actor=manager)
    response = as_admin.get(BUDGETS, {"export": "xlsx"})
    sheet = load_workbook(io.BytesIO(b"".join(response.streaming_content))).active
    values = [[cell.value for cell in row] for row in sheet.iter_rows()]
    header = next(row for row in values if row and row[0] == "Manager")
    assert header[:4] == ["Manager", "E-mail", "Departments", "First day"]
    maria = next(row for row in values if row and row[0] == "Maria Manager")
    assert maria[2] == "Sales" and maria[4:8] == [1250, 250, 0, 1000]


def test_an_administrator_tops_up_one_budget_with_a_comment(as_admin, administrator, managers, fixed):
    manager, _other, _legal = managers
    url = f"{BUDGETS}{manager.pk}/change/"
    assert as_admin.get(url, {"currency": fixed.pk}).status_code == 200
    data = {"currency": fixed.pk, "direction": "top_up", "amount": "250", "comment": "Fair"}
    response = as_admin.post(url, data)
    assert response.status_code == 302
    assert selectors.budget(manager).left == 1500
    assert BudgetMovement.objects.get(kind="top_up").comment == "Fair"
    assert "is now 1,500.00 Bonuses, 1,500.00 of it left." in message_texts(response)[0]


def test_a_reduction_below_what_was_granted_is_refused_next_to_the_form(
    as_admin, manager, team, fixed, ledger_snapshot
):
    services.accrue(user=team[0], amount=1000, actor=manager)
    before = ledger_snapshot()
    data = {"currency": fixed.pk, "direction": "reduce", "amount": "300", "comment": "Cut"}
    response = as_admin.post(f"{BUDGETS}{manager.pk}/change/", data)
    assert response.status_code == 400
    message = "Maria Manager has used 1,000.00 of 1,250.00 Bonuses: the budget can be reduced by at most 250.00."
    assert escape(message) in response.content.decode()
    assert ledger_snapshot() == before


def test_a_change_needs_a_comment(as_admin, manager, fixed, ledger_snapshot):
    before = ledger_snapshot()
    response = as_admin.post(
        f"{BUDGETS}{manager.pk}/change/", {"currency": fixed.pk, "direction": "top_up", "amount": "5"}
    )
    assert response.status_code == 400
    assert "This field is required." in response.content.decode()
    assert ledger_snapshot() == before


def test_a_bulk_top_up_of_the_selected_budgets(as_admin, managers, fixed):
    manager, other, _legal = managers
    opened = as_admin.get(f"{BUDGETS}bulk/", {"employees": f"{manager.pk},{other.pk}", "currency": fixed.pk})
    assert "2 managers" in opened.content.decode()
    data = {
        "currency": fixed.pk,
        "direction": "top_up",
        "amount": "100",
        "comment": "Season",
        "employees": f"{manager.pk},{other.pk}",
        "select_all": "",
        "filters": "",
    }
    response = as_admin.post(f"{BUDGETS}bulk/", data)
    assert response.status_code == 302
    assert (selectors.budget(manager).left, selectors.budget(other).left) == (1350, 1350)
    assert message_texts(response) == ["2 budgets changed by +100.00 Bonuses each."]


def test_a_bulk_top_up_of_every_manager_matching_the_filter(as_admin, managers, fixed):
    manager, other, legal = managers
    data = {
        "currency": fixed.pk,
        "direction": "reduce",
        "amount": "50",
        "comment": "Savings",
        "employees": "",
        "select_all": "1",
        "filters": f"department={legal.pk}",
    }
    assert as_admin.post(f"{BUDGETS}bulk/", data).status_code == 302
    assert (selectors.budget(manager).left, selectors.budget(other).left) == (1250, 1200)


# The policy on the currency's settings page ---------------------------------------------------------


def settings_data(**budget) -> dict:
    return {"name": "Bonuses", "activation_delay_days": "0", "burn_policy": "never", "lifetime_unit": "days", **budget}


def test_the_policy_is_set_on_the_currencys_settings_page(as_admin, bonuses):
    url = f"/bonuses/settings/currency/{bonuses.pk}/"
    page = as_admin.get(url).content.decode()
    assert 'name="budget_period"' in page and 'name="budget_basis"' in page
    data = settings_data(
        budget_period="quarter", budget_basis="per_employee", budget_per_employee="50", budget_allowance="999"
    )
    assert as_admin.post(url, data).status_code == 302
    stored = Currency.objects.get(pk=bonuses.pk)
    assert (stored.budget_period, stored.budget_per_employee, stored.budget_allowance) == ("quarter", 50, None)


def test_a_policy_without_its_allowance_is_refused_next_to_the_field(as_admin, bonuses):
    url = f"/bonuses/settings/currency/{bonuses.pk}/"
    response = as_admin.post(url, settings_data(budget_period="month", budget_basis="fixed"))
    assert response.status_code == 400
    assert response.context["form"].errors["budget_allowance"] == ["Give the allowance."]
    assert Currency.objects.get(pk=bonuses.pk).budget_period == ""
