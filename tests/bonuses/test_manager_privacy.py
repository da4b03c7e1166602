"""A manager sees only their departments (issue 9, point 12): every choice of the log's filters and of
the employee autocomplete, and the accrual modal. An id from elsewhere names nobody."""

import uuid
from io import BytesIO

import openpyxl
import pytest
from django.utils.html import escape

from bonuses import services
from bonuses.forms import WriteOffForm
from tests.helpers import REMEMBERED_REFUSAL
from users.models import Department

pytestmark = pytest.mark.django_db

NOT_VALID = "Select a valid choice. That choice is not one of the available choices."
LOG = "/bonuses/log/"
AUTOCOMPLETE = "/bonuses/employees/autocomplete/"


@pytest.fixture
def world(bonuses, manager, department, employee, administrator, make_user):
    """Sales (the manager's) and Finance, each with an active and a deactivated employee; one
    administrator posts to both departments, another only to Finance."""
    finance = Department.objects.create(name="Finance")
    former = make_user("former@example.com", department=department, full_name="Fiona Former")
    outsider = make_user("outsider@example.com", department=finance, full_name="Oscar Outsider")
    gone = make_user("gone@example.com", department=finance, full_name="Gustav Gone")
    finance_admin = make_user("fin-admin@example.com", role="Administrators", full_name="Frida Finance")
    for user in (employee, former):
        services.accrue(user=user, amount=10, actor=administrator, comment="Sales entry")
    for user in (outsider, gone):
        services.accrue(user=user, amount=20, actor=finance_admin, comment="Finance entry")
    services.accrue(user=outsider, amount=5, actor=administrator, comment="Finance entry too")
    for user in (former, gone):
        user.is_active = False
        user.save()
    return {
        "sales": department,
        "finance": finance,
        "employee": employee,
        "former": former,
        "outsider": outsider,
        "gone": gone,
        "administrator": administrator,
        "finance_admin": finance_admin,
    }


def who(user) -> list[str]:
    return [user.full_name, user.email]


def assert_names_nobody(response, *users):
    text = response.content.decode()
    for user in users:
        for secret in who(user):
            assert escape(secret) not in text, secret


# The log's filters --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("field", "person"),
    [("employee", "outsider"), ("employee", "gone"), ("actor", "finance_admin"), ("actor", "gone")],
)
def test_an_id_from_another_department_is_not_a_valid_choice_and_names_nobody(as_manager, world, field, person):
    target = world[person]
    response = as_manager.get(LOG, {field: target.pk})
    assert response.status_code == 200
    form = response.context["filter"].form
    assert form.errors == {field: [NOT_VALID]}
    assert escape(NOT_VALID) in response.content.decode()
    assert_names_nobody(response, target)
    assert list(response.context["table"].data) == []  # and no entries


def test_the_export_with_such_an_id_names_nobody_and_holds_nothing(as_manager, world):
    response = as_manager.get(LOG, {"employee": world["outsider"].pk, "export": "xlsx"})
    assert response.status_code == 200
    sheet = openpyxl.load_workbook(BytesIO(b"".join(response.streaming_content)), read_only=True).active
    cells = [str(cell) for row in sheet.iter_rows(values_only=True) for cell in row if cell is not None]
    assert not [cell for cell in cells if "Oscar" in cell or "outsider@" in cell or "Finance" in cell]
    assert "Outsider" not in response["Content-Disposition"]


def test_a_department_of_someone_else_is_not_a_valid_choice(as_manager, world):
    response = as_manager.get(LOG, {"department": world["finance"].pk})
    assert response.context["filter"].form.errors["department"]
    assert list(response.context["table"].data) == []


@pytest.mark.parametrize(
    ("field", "person", "comments"),
    [
        ("employee", "employee", ["Sales entry"]),
        ("employee", "former", ["Sales entry"]),  # deactivated: still in the log
        ("actor", "administrator", ["Sales entry", "Sales entry"]),  # posted to Sales
    ],
)
def test_the_managers_own_people_and_their_actors_are_valid_choices(as_manager, world, field, person, comments):
    target = world[person]
    response = as_manager.get(LOG, {field: target.pk})
    assert response.context["filter"].form.errors == {}
    assert f"{escape(target.full_name)} ({escape(target.email)})" in response.content.decode()
    assert sorted(entry.comment for entry in response.context["table"].data) == comments


def test_an_administrator_still_chooses_anyone(client, world):
    client.force_login(world["administrator"])
    for field, person in [("employee", "gone"), ("actor", "finance_admin")]:
        response = client.get(LOG, {field: world[person].pk})
        assert response.context["filter"].form.errors == {}
        assert escape(world[person].full_name) in response.content.decode()


@pytest.mark.parametrize("value", ["abc", "-1", "²", "99999999999999999999999999999"])
def test_a_bad_id_in_a_filter_is_a_message_not_a_500(as_manager, world, value):
    for field in ("employee", "actor"):
        response = as_manager.get(LOG, {field: value})
        assert response.status_code == 200
        assert response.context["filter"].form.errors[field]


# The autocomplete -----------------------------------------------------------------------------------


def names(response) -> list[str]:
    assert response.status_code == 200
    return [result["text"] for result in response.json()["results"]]


def test_the_autocomplete_offers_a_manager_only_their_people(as_manager, world):
    everyone = "@example.com"  # every test address
    assert names(as_manager.get(AUTOCOMPLETE, {"q": everyone})) == ["Erik Employee (employee@example.com)"]
    # The log's employee filter: former employees of their departments too, nobody else's.
    assert names(as_manager.get(AUTOCOMPLETE, {"q": everyone, "all": "1"})) == [
        "Erik Employee (employee@example.com)",
        "Fiona Former (former@example.com)",
    ]
    # The log's actor filter: who posted entries to their departments.
    assert names(as_manager.get(AUTOCOMPLETE, {"q": everyone, "all": "1", "actors": "1"})) == [
        "Alex Admin (admin@example.com)"
    ]


def test_the_autocomplete_offers_an_administrator_everyone(client, world):
    client.force_login(world["administrator"])
    assert len(names(client.get(AUTOCOMPLETE, {"q": "@example.com", "all": "1"}))) == 7
    assert len(names(client.get(AUTOCOMPLETE, {"q": "@example.com", "all": "1", "actors": "1"}))) == 7
    assert len(names(client.get(AUTOCOMPLETE, {"q": "@example.com"}))) == 5  # active employees


def test_the_log_asks_the_autocomplete_for_actors_in_the_actor_filter(as_manager, world):
    page = as_manager.get(LOG).content.decode()
    assert 'data-autocomplete="/bonuses/employees/autocomplete/?all=1&amp;actors=1"' in page
    assert 'data-autocomplete="/bonuses/employees/autocomplete/?all=1"' in page


def test_the_autocomplete_widget_names_only_someone_it_may_choose(world):
    # The write-off form chooses among active employees: a deactivated one's id shows no name.
    form = WriteOffForm(data={"employee": world["gone"].pk, "amount": "1", "idempotency_key": "k"})
    assert not form.is_valid()
    assert "Gustav" not in str(form["employee"])
    form = WriteOffForm(data={"employee": world["outsider"].pk, "amount": "1", "idempotency_key": "k"})
    assert "Oscar Outsider (outsider@example.com)" in str(form["employee"])


# The accrual modal ----------------------------------------------------------------------------------


@pytest.mark.parametrize("person", ["outsider", "gone"])
def test_a_manager_cannot_open_the_accrual_modal_of_another_department(as_manager, world, person, ledger_snapshot):
    url = f"/bonuses/accrual/{world[person].pk}/add/"
    before = ledger_snapshot()
    response = as_manager.get(url)
    assert response.status_code == 403
    assert_names_nobody(response, world[person])
    response = as_manager.post(url, {"amount": "10", "idempotency_key": uuid.uuid4().hex})
    assert response.status_code == 403
    assert ledger_snapshot() == before


def test_a_deactivated_employee_of_the_managers_department_gets_a_message(as_manager, world, ledger_snapshot):
    url = f"/bonuses/accrual/{world['former'].pk}/add/"
    assert as_manager.get(url).status_code == 200
    before = ledger_snapshot(skip=REMEMBERED_REFUSAL)
    response = as_manager.post(url, {"amount": "10", "idempotency_key": uuid.uuid4().hex})
    assert response.status_code == 400
    assert response.context["form"].non_field_errors()
    assert ledger_snapshot(skip=REMEMBERED_REFUSAL) == before


def test_a_batch_of_another_department_is_not_a_valid_choice(as_manager, world):
    theirs = services.accrue_many(users=[world["outsider"].pk], amount=3, actor=world["finance_admin"], comment="Q4")
    ours = services.accrue_many(users=[world["employee"].pk], amount=4, actor=world["administrator"], comment="Q4")
    response = as_manager.get(LOG, {"batch": theirs.pk})
    assert response.context["filter"].form.errors == {"batch": [NOT_VALID]}
    assert list(response.context["table"].data) == []
    response = as_manager.get(LOG, {"batch": ours.pk})
    assert response.context["filter"].form.errors == {}
    assert [entry.user for entry in response.context["table"].data] == [world["employee"]]
