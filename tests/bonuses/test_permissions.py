"""Who may open what (SPEC.md section 1, issue 4): a matrix over every URL under /bonuses/ (bonuses/urls.py,
and the administrators' part of bonuses/shop/urls.py).

Anonymous visitors go to the login page; an employee without a role gets 403 everywhere; a
manager opens the accrual table, the accrual forms for their own departments, the employee
autocomplete, the log and a batch's page (not its reversal), and nothing else; administrators (the
group, or a superuser) open everything. POSTs without a CSRF token are refused and write nothing.
"""

import uuid
from collections.abc import Callable
from dataclasses import dataclass
from urllib.parse import parse_qs, urlsplit

import pytest
from django.test import Client
from django.urls import get_resolver

from bonuses import services
from bonuses.models import Currency
from bonuses.shop import services as shop
from bonuses.shop.models import Category, Gift
from tests.helpers import key
from users.models import Department

pytestmark = pytest.mark.django_db

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


@dataclass(frozen=True)
class Case:
    label: str  # the test id
    name: str  # the URL name in bonuses/urls.py or bonuses/shop/urls.py
    method: str
    path: Callable[[dict], str]
    data: Callable[[dict], dict] | None = None
    manager_may: bool = False

    @property
    def is_export(self) -> bool:
        return "export" in self.label


def accrual_data(world):
    return {"amount": "10", "idempotency_key": key(), "currency": world["currency"].pk}


def bulk_data(world):
    return {**accrual_data(world), "employees": str(world["employee"].pk)}


def budget_data(world):
    return {"currency": world["currency"].pk, "direction": "top_up", "amount": "10", "comment": "More"}


def write_off_data(world):
    return {
        "employee": world["employee"].pk,
        "currency": world["currency"].pk,
        "amount": "1",
        "idempotency_key": key(),
    }


def currency_data(world):
    return {
        "name": "Bonuses",
        "activation_delay_days": "2",
        "burn_policy": "never",
        "lifetime_unit": "days",
    }


def reversal_data(world):
    return {"comment": "Wrong team", "idempotency_key": uuid.uuid4().hex}


def own(world) -> str:
    return f"/bonuses/accrual/{world['employee'].pk}/add/"


def foreign(world) -> str:
    return f"/bonuses/accrual/{world['outsider'].pk}/add/"


def currency_settings(world) -> str:
    return f"/bonuses/settings/currency/{world['currency'].pk}/"


def account_state(world) -> str:
    return f"/bonuses/accrual/{world['employee'].pk}/state/"


def account_state_data(world):
    return {"currency": world["currency"].pk, "state": "blocked", "reason": "Audit"}


def new_currency_data(world):
    return {**currency_data(world), "name": "Kudos"}


def desk_data(world):
    return {
        "employee": world["employee"].pk,
        "gift": world["gift"].pk,
        "quantity": "1",
        "pickup_office": "",
        "code": "",
        "idempotency_key": key(),
    }


def gift_data(world):
    return {
        "name": "Mug",
        "category": world["gift"].category_id,
        "price": "5",
        "currency": world["currency"].pk,
        "stock": "3",
        "is_active": "on",
        "description": "",
    }


def segment_data(world):
    return {"name": "Veterans", "hired_days_min": "365"}


def campaign_data(world):
    return {"name": "Birthdays", "trigger": "birthday", "amount": "10", "currency": world["currency"].pk}


CASES = [
    Case("accrual-list", "accrual-list", "GET", lambda w: "/bonuses/accrual/", manager_may=True),
    Case("accrual-list-export", "accrual-list", "GET", lambda w: "/bonuses/accrual/?export=xlsx", manager_may=True),
    Case("accrual-create-own-GET", "accrual-create", "GET", own, manager_may=True),
    Case("accrual-create-own-POST", "accrual-create", "POST", own, accrual_data, manager_may=True),
    Case("accrual-create-foreign-GET", "accrual-create", "GET", foreign),
    Case("accrual-create-foreign-POST", "accrual-create", "POST", foreign, accrual_data),
    Case(
        "accrual-bulk-GET",
        "accrual-bulk",
        "GET",
        lambda w: f"/bonuses/accrual/bulk/?employees={w['employee'].pk}",
        manager_may=True,
    ),
    Case("accrual-bulk-POST", "accrual-bulk", "POST", lambda w: "/bonuses/accrual/bulk/", bulk_data, manager_may=True),
    Case("account-state-GET", "account-state", "GET", account_state),
    Case("account-state-POST", "account-state", "POST", account_state, account_state_data),
    Case("write-off-GET", "write-off", "GET", lambda w: "/bonuses/write-off/"),
    Case("write-off-POST", "write-off", "POST", lambda w: "/bonuses/write-off/", write_off_data),
    Case(
        "write-off-available",
        "write-off-available",
        "GET",
        lambda w: f"/bonuses/write-off/available/?employee={w['employee'].pk}",
    ),
    Case(
        "employee-autocomplete",
        "employee-autocomplete",
        "GET",
        lambda w: "/bonuses/employees/autocomplete/?q=Erik",
        manager_may=True,
    ),
    Case("log-list", "log-list", "GET", lambda w: "/bonuses/log/", manager_may=True),
    Case("log-list-export", "log-list", "GET", lambda w: "/bonuses/log/?export=xlsx", manager_may=True),
    Case("batch-detail-GET", "batch-detail", "GET", lambda w: f"/bonuses/batches/{w['batch'].pk}/", manager_may=True),
    Case("batch-detail-POST", "batch-detail", "POST", lambda w: f"/bonuses/batches/{w['batch'].pk}/", reversal_data),
    Case("settings", "settings", "GET", lambda w: "/bonuses/settings/"),
    Case("currency-create-GET", "currency-create", "GET", lambda w: "/bonuses/settings/currency/new/"),
    Case(
        "currency-create-POST",
        "currency-create",
        "POST",
        lambda w: "/bonuses/settings/currency/new/",
        new_currency_data,
    ),
    Case("currency-settings-GET", "currency-settings", "GET", currency_settings),
    Case("currency-settings-POST", "currency-settings", "POST", currency_settings, currency_data),
    Case("order-list", "order-list", "GET", lambda w: "/bonuses/orders/"),
    Case("order-list-export", "order-list", "GET", lambda w: "/bonuses/orders/?export=xlsx"),
    Case("order-desk-GET", "order-desk", "GET", lambda w: "/bonuses/orders/new/"),
    Case("order-desk-POST", "order-desk", "POST", lambda w: "/bonuses/orders/new/", desk_data),
    Case("order-action-POST", "order-action", "POST", lambda w: f"/bonuses/orders/{w['order'].pk}/complete/", dict),
    Case("gift-list", "gift-list", "GET", lambda w: "/bonuses/gifts/"),
    Case("gift-create-GET", "gift-create", "GET", lambda w: "/bonuses/gifts/new/"),
    Case("gift-create-POST", "gift-create", "POST", lambda w: "/bonuses/gifts/new/", gift_data),
    Case("gift-update-GET", "gift-update", "GET", lambda w: f"/bonuses/gifts/{w['gift'].pk}/"),
    Case("gift-update-POST", "gift-update", "POST", lambda w: f"/bonuses/gifts/{w['gift'].pk}/", gift_data),
    Case("gift-delete-POST", "gift-delete", "POST", lambda w: f"/bonuses/gifts/{w['gift'].pk}/delete/", dict),
    Case("my-budget", "my-budget", "GET", lambda w: "/bonuses/budget/", manager_may=True),
    Case("my-requests", "my-requests", "GET", lambda w: "/bonuses/requests/", manager_may=True),
    Case("approval-list", "approval-list", "GET", lambda w: "/bonuses/approvals/"),
    Case(
        "approval-approve-POST",
        "approval-approve",
        "POST",
        lambda w: f"/bonuses/approvals/{w['request'].pk}/approve/",
        dict,
    ),
    Case("approval-reject-GET", "approval-reject", "GET", lambda w: f"/bonuses/approvals/{w['request'].pk}/reject/"),
    Case(
        "approval-reject-POST",
        "approval-reject",
        "POST",
        lambda w: f"/bonuses/approvals/{w['request'].pk}/reject/",
        lambda w: {"reason": "Not now"},
    ),
    Case("budget-list", "budget-list", "GET", lambda w: "/bonuses/budgets/"),
    Case("budget-list-export", "budget-list", "GET", lambda w: "/bonuses/budgets/?export=xlsx"),
    Case("budget-change-GET", "budget-change", "GET", lambda w: f"/bonuses/budgets/{w['boss'].pk}/change/"),
    Case(
        "budget-change-POST", "budget-change", "POST", lambda w: f"/bonuses/budgets/{w['boss'].pk}/change/", budget_data
    ),
    Case("budget-bulk-GET", "budget-bulk", "GET", lambda w: f"/bonuses/budgets/bulk/?employees={w['boss'].pk}"),
    Case(
        "budget-bulk-POST",
        "budget-bulk",
        "POST",
        lambda w: "/bonuses/budgets/bulk/",
        lambda w: {**budget_data(w), "employees": str(w["boss"].pk)},
    ),
    Case("segment-list", "segment-list", "GET", lambda w: "/bonuses/segments/"),
    Case("segment-create-GET", "segment-create", "GET", lambda w: "/bonuses/segments/new/"),
    Case("segment-create-POST", "segment-create", "POST", lambda w: "/bonuses/segments/new/", segment_data),
    Case("segment-detail", "segment-detail", "GET", lambda w: f"/bonuses/segments/{w['segment'].pk}/"),
    Case(
        "segment-detail-export",
        "segment-detail",
        "GET",
        lambda w: f"/bonuses/segments/{w['segment'].pk}/?on=&export=xlsx",
    ),
    Case("segment-update-GET", "segment-update", "GET", lambda w: f"/bonuses/segments/{w['segment'].pk}/edit/"),
    Case(
        "segment-update-POST",
        "segment-update",
        "POST",
        lambda w: f"/bonuses/segments/{w['segment'].pk}/edit/",
        segment_data,
    ),
    Case("campaign-list", "campaign-list", "GET", lambda w: "/bonuses/campaigns/"),
    Case("campaign-create-GET", "campaign-create", "GET", lambda w: "/bonuses/campaigns/new/"),
    Case("campaign-create-POST", "campaign-create", "POST", lambda w: "/bonuses/campaigns/new/", campaign_data),
    Case("campaign-detail", "campaign-detail", "GET", lambda w: f"/bonuses/campaigns/{w['campaign'].pk}/"),
    Case(
        "campaign-detail-export",
        "campaign-detail",
        "GET",
        lambda w: f"/bonuses/campaigns/{w['campaign'].pk}/?export=xlsx",
    ),
    Case("campaign-update-GET", "campaign-update", "GET", lambda w: f"/bonuses/campaigns/{w['campaign'].pk}/edit/"),
    Case(
        "campaign-update-POST",
        "campaign-update",
        "POST",
        lambda w: f"/bonuses/campaigns/{w['campaign'].pk}/edit/",
        campaign_data,
    ),
    Case(
        "campaign-action-POST",
        "campaign-action",
        "POST",
        lambda w: f"/bonuses/campaigns/{w['campaign'].pk}/pause/",
        dict,
    ),
]
POST_CASES = [case for case in CASES if case.method == "POST"]
IDS = [case.label for case in CASES]
POST_IDS = [case.label for case in POST_CASES]


def test_the_matrix_covers_every_url_of_the_app():
    shop = [p for p in get_resolver("bonuses.shop.urls").url_patterns if str(p.pattern).startswith("bonuses/")]
    patterns = [*get_resolver("bonuses.urls").url_patterns, *shop]
    assert {case.name for case in CASES} == {pattern.name for pattern in patterns}
    # Every view that accepts POST is in the matrix with POST too.
    posting = {pattern.name for pattern in patterns if hasattr(pattern.callback.view_class, "post")}
    assert {case.name for case in POST_CASES} == posting


@pytest.fixture
def world(bonuses, employee, make_user, administrator):
    outsider = make_user("outsider@example.com", department=Department.objects.create(name="Finance"))
    services.accrue(user=employee, amount=50, actor=administrator, comment="Sales entry")
    services.accrue(user=outsider, amount=70, actor=administrator, comment="Finance entry")
    gift = Gift.objects.create(
        name="Hoodie", category=Category.objects.create(name="Clothes"), price=10, currency=bonuses, stock=5
    )
    order = shop.place_order(user=employee, gift=gift, quantity=1)
    batch = services.accrue_many(users=[employee, outsider], amount=5, actor=administrator, comment="Both teams")
    # A manager with a budget, for the budgets screens (issue 11).
    Currency.objects.filter(pk=bonuses.pk).update(budget_period="month", budget_allowance=100)
    boss = make_user("boss@example.com", role="Managers", manages=[outsider.department], full_name="Bo Boss")
    world = {"employee": employee, "outsider": outsider, "currency": bonuses, "gift": gift, "order": order}
    # A grant request of the boss's waiting for approval, for the approvals screens.
    Currency.objects.filter(pk=bonuses.pk).update(approval_required=True, approval_per_employee=50)
    request = services.accrue(user=outsider, amount=60, actor=boss)
    segment = services.save_segment(name="Everyone", actor=administrator)
    campaign = services.save_campaign(
        name="Anniversaries", actor=administrator, trigger="anniversary", amount=5, is_active=True
    )
    return {**world, "batch": batch, "boss": boss, "request": request, "segment": segment, "campaign": campaign}


# What an operation writes besides itself: a test that it happened looks past these.
ALONG_WITH_IT = {"IdempotencyKey", "OutgoingEmail"}


def request(client, case: Case, world):
    path = case.path(world)
    if case.method == "GET":
        return path, client.get(path)
    return path, client.post(path, case.data(world))


def assert_allowed(case: Case, response, before, ledger_snapshot):
    """Allowed: a page, an export, or a POST that did what it was for (`before` is the state without
    ALONG_WITH_IT); and a GET changed nothing."""
    if case.method == "GET":
        assert response.status_code == 200, response
        if case.is_export:
            assert response["Content-Type"] == XLSX
            assert b"".join(response.streaming_content).startswith(b"PK")  # a zip: an .xlsx file
        assert ledger_snapshot(skip=ALONG_WITH_IT) == before
    else:
        assert response.status_code == 302, getattr(response, "context", None) and response.context.get("form")
        assert ledger_snapshot(skip=ALONG_WITH_IT) != before


@pytest.mark.parametrize("case", CASES, ids=IDS)
def test_anonymous_is_sent_to_the_login_page(client, world, case, ledger_snapshot):
    before = ledger_snapshot()
    path, response = request(client, case, world)
    assert response.status_code == 302
    location = urlsplit(response["Location"])
    assert location.path == "/accounts/login/"
    assert parse_qs(location.query)["next"] == [path]
    assert ledger_snapshot() == before


@pytest.mark.parametrize("case", CASES, ids=IDS)
def test_an_employee_without_a_role_gets_403(client, world, case, ledger_snapshot):
    client.force_login(world["employee"])
    before = ledger_snapshot()
    _path, response = request(client, case, world)
    assert response.status_code == 403
    assert ledger_snapshot() == before


@pytest.mark.parametrize("case", CASES, ids=IDS)
def test_a_manager_opens_only_their_scope(client, manager, world, case, ledger_snapshot):
    client.force_login(manager)
    before = ledger_snapshot(skip=ALONG_WITH_IT if case.manager_may else ())
    _path, response = request(client, case, world)
    if case.manager_may:
        assert_allowed(case, response, before, ledger_snapshot)
    else:
        assert response.status_code == 403
        assert ledger_snapshot() == before


@pytest.mark.parametrize("case", CASES, ids=IDS)
def test_an_administrator_opens_everything(client, administrator, world, case, ledger_snapshot):
    client.force_login(administrator)
    before = ledger_snapshot(skip=ALONG_WITH_IT)
    _path, response = request(client, case, world)
    assert_allowed(case, response, before, ledger_snapshot)


@pytest.mark.parametrize("case", CASES, ids=IDS)
def test_a_superuser_opens_everything(client, make_user, world, case, ledger_snapshot):
    client.force_login(make_user("root@example.com", is_superuser=True, is_staff=True))
    before = ledger_snapshot(skip=ALONG_WITH_IT)
    _path, response = request(client, case, world)
    assert_allowed(case, response, before, ledger_snapshot)


@pytest.mark.parametrize("case", CASES, ids=IDS)
def test_a_deactivated_administrator_gets_nothing(client, make_user, world, case, ledger_snapshot):
    """force_login skips the backend's active check; the views must still refuse a deactivated account."""
    former = make_user("former-admin@example.com", role="Administrators", is_active=False)
    client.force_login(former)
    before = ledger_snapshot()
    _path, response = request(client, case, world)
    assert response.status_code == 302
    assert urlsplit(response["Location"]).path == "/accounts/login/"
    assert ledger_snapshot() == before


def test_a_manager_sees_only_their_departments_in_the_log(client, manager, world):
    client.force_login(manager)
    response = client.get("/bonuses/log/")
    rows = [row.record for row in response.context["table"].page.object_list]
    assert {(entry.user, entry.kind, entry.comment) for entry in rows} == {
        (world["employee"], "order_reserved", ""),
        (world["employee"], "manual_accrual", "Sales entry"),
        (world["employee"], "manual_accrual", "Both teams"),  # the batch's entry for the outsider is not shown
    }
    assert "Finance entry" not in response.content.decode()


def test_a_manager_sees_only_their_departments_in_the_table(client, manager, world):
    client.force_login(manager)
    response = client.get("/bonuses/accrual/")
    assert [row.record for row in response.context["table"].page.object_list] == [world["employee"]]


def test_menus_show_only_what_the_user_may_open(client, manager, administrator, world):
    client.force_login(administrator)
    page = client.get("/bonuses/accrual/").content.decode()
    for url in ("/bonuses/accrual/", "/bonuses/log/", "/bonuses/write-off/", "/bonuses/settings/"):
        assert f'href="{url}"' in page
    client.force_login(manager)
    page = client.get("/bonuses/accrual/").content.decode()
    assert 'href="/bonuses/accrual/"' in page and 'href="/bonuses/log/"' in page
    assert 'href="/bonuses/settings/"' not in page
    assert 'href="/bonuses/write-off/"' not in page
    client.force_login(world["employee"])
    page = client.get("/").content.decode()
    assert 'href="/bonuses/' not in page


# CSRF ----------------------------------------------------------------------------------------


@pytest.fixture
def csrf_client(administrator):
    client = Client(enforce_csrf_checks=True)
    client.force_login(administrator)
    return client


@pytest.mark.parametrize("case", POST_CASES, ids=POST_IDS)
def test_a_post_without_a_csrf_token_is_refused_and_writes_nothing(csrf_client, world, case, ledger_snapshot):
    before = ledger_snapshot()
    response = csrf_client.post(case.path(world), case.data(world))
    assert response.status_code == 403
    assert ledger_snapshot() == before


@pytest.mark.parametrize("case", POST_CASES, ids=POST_IDS)
def test_the_same_post_with_the_csrf_token_goes_through(csrf_client, world, case, ledger_snapshot):
    """So that the refusal above is the CSRF check's, not some other."""
    csrf_client.get("/bonuses/write-off/")  # a page with a form sets the cookie
    token = csrf_client.cookies["csrftoken"].value
    before = ledger_snapshot(skip=ALONG_WITH_IT)
    response = csrf_client.post(case.path(world), {**case.data(world), "csrfmiddlewaretoken": token})
    assert response.status_code == 302
    assert ledger_snapshot(skip=ALONG_WITH_IT) != before


def test_an_htmx_post_with_the_header_token_goes_through(csrf_client, world):
    csrf_client.get("/bonuses/accrual/")
    token = csrf_client.cookies["csrftoken"].value
    data = accrual_data(world)
    path = f"/bonuses/accrual/{world['employee'].pk}/add/"
    refused = csrf_client.post(path, data, HTTP_HX_REQUEST="true")
    assert refused.status_code == 403
    response = csrf_client.post(path, data, HTTP_HX_REQUEST="true", HTTP_X_CSRFTOKEN=token)
    assert response.status_code == 204
