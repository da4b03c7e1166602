"""Four-eyes approval on the screens (issue 11): a grant above the threshold becomes a request where it was
made, the administrators' queue with approve / reject (with a reason), and the requester's own list."""

import re
import uuid
from decimal import Decimal

import pytest

from bonuses import services
from bonuses.models import Entry, GrantRequest
from tests.helpers import message_texts

pytestmark = pytest.mark.django_db

QUEUE = "/bonuses/approvals/"


@pytest.fixture
def policy(bonuses):
    services.update_currency_settings(
        bonuses,
        budget_period="month",
        budget_allowance=Decimal("1000"),
        approval_required=True,
        approval_per_employee=Decimal("100"),
    )
    return bonuses


@pytest.fixture
def team(make_user, department):
    return [make_user(department=department, full_name=f"Sales {n}") for n in range(3)]


def test_a_grant_above_the_threshold_is_requested_from_the_modal(client, manager, team, policy):
    client.force_login(manager)
    payload = {
        "employees": ",".join(str(person.pk) for person in team),
        "amount": "150",
        "idempotency_key": uuid.uuid4().hex,
        "currency": policy.pk,
        "select_all": "",
        "filters": "",
        "comment": "Launch",
    }
    response = client.post("/bonuses/accrual/bulk/", payload)
    assert response.status_code == 302
    assert message_texts(response) == [
        "Your grant of 450.00 Bonuses to 3 employees waits for an administrator's approval."
    ]
    assert Entry.objects.count() == 0
    page = client.get("/bonuses/requests/").content.decode()
    assert "Waiting for approval" in page and "Sales 0, Sales 1, Sales 2" in page


def test_the_queue_lists_requests_and_an_administrator_approves(client, manager, administrator, team, policy):
    request = services.accrue_many(users=team, amount=150, actor=manager, comment="Launch")
    client.force_login(administrator)
    response = client.get(QUEUE)
    row = response.context["table"].page.object_list[0].record
    assert row == request
    page = response.content.decode()
    assert "Maria Manager" in page and "Launch" in page and "<time" in page
    response = client.post(f"{QUEUE}{request.pk}/approve/")
    assert response.status_code == 302
    assert message_texts(response) == [f"Request {request.pk} approved: 450.00 Bonuses granted as Maria Manager's."]
    assert GrantRequest.objects.get().status == "approved" and Entry.objects.count() == 3


def test_the_queue_offers_no_decision_on_ones_own_request(client, administrator, team, policy, ledger_snapshot):
    services.update_currency_settings(policy, approval_admin_total=Decimal("100"))
    request = services.accrue_many(users=team, amount=50, actor=administrator)
    client.force_login(administrator)
    page = client.get(QUEUE).content.decode()
    assert "Your request: another administrator decides." in page and 'data-testid="approve"' not in page
    before = ledger_snapshot()
    response = client.post(f"{QUEUE}{request.pk}/approve/")
    assert message_texts(response) == ["You cannot decide your own request: another administrator must."]
    assert ledger_snapshot() == before


def test_a_rejection_needs_a_reason_next_to_the_field(client, manager, administrator, team, policy, ledger_snapshot):
    request = services.accrue(user=team[0], amount=150, actor=manager)
    client.force_login(administrator)
    before = ledger_snapshot()
    response = client.post(f"{QUEUE}{request.pk}/reject/", {"reason": ""})
    assert response.status_code == 400
    assert response.context["form"].errors["reason"] == ["This field is required."]
    assert ledger_snapshot() == before
    response = client.post(f"{QUEUE}{request.pk}/reject/", {"reason": "Not this month"})
    assert response.status_code == 302
    assert GrantRequest.objects.get().status == "rejected"
    client.force_login(manager)
    page = client.get("/bonuses/requests/").content.decode()
    assert "Rejected" in page and "Not this month" in page


def test_the_approval_policy_is_set_on_the_currencys_settings_page(client, administrator, bonuses):
    client.force_login(administrator)
    data = {
        "name": "Bonuses",
        "activation_delay_days": "0",
        "burn_policy": "never",
        "lifetime_unit": "days",
        "approval_required": "on",
        "approval_total": "1,000",
    }
    assert client.post(f"/bonuses/settings/currency/{bonuses.pk}/", data).status_code == 302
    bonuses.refresh_from_db()
    assert bonuses.approval_required and bonuses.approval_total == 1000
    response = client.post(f"/bonuses/settings/currency/{bonuses.pk}/", {**data, "approval_total": ""})
    assert response.status_code == 400
    assert response.context["form"].errors["approval_per_employee"] == ["Give at least one threshold."]


def test_menus_offer_approvals_to_administrators_only(client, manager, administrator, policy):
    client.force_login(manager)
    page = client.get("/bonuses/accrual/").content.decode()
    assert f'href="{QUEUE}"' not in page and 'href="/bonuses/requests/"' in page
    client.force_login(administrator)
    assert f'href="{QUEUE}"' in client.get("/bonuses/accrual/").content.decode()


def pending_notice(response) -> str | None:
    """The text of "My budget"'s notice of the requests waiting for approval, None without one."""
    found = re.search(r'<div [^>]*data-testid="pending-requests">(.*?)</div>', response.content.decode(), re.S)
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", "", found.group(1))).strip() if found else None


def test_my_budget_shows_the_requests_waiting_and_what_they_hold(client, manager, administrator, team, policy):
    first = services.accrue_many(users=team, amount=150, actor=manager, comment="Launch")
    services.accrue(user=team[0], amount=200, actor=manager, comment="Deal")
    client.force_login(manager)
    response = client.get("/bonuses/budget/")
    assert pending_notice(response) == (
        "2 grant requests wait for an administrator's approval; they hold 650.00 Bonuses of your budget. "
        "See your requests"
    )
    assert 'href="/bonuses/requests/" class="alert-link"' in response.content.decode()
    assert response.context["figures"].held == Decimal("650")
    services.reject_request(first, actor=administrator, reason="Not this quarter")
    assert pending_notice(client.get("/bonuses/budget/")) == (
        "1 grant request waits for an administrator's approval; it holds 200.00 Bonuses of your budget. "
        "See your requests"
    )


def test_my_budget_shows_no_notice_without_requests_waiting(client, manager, team, policy):
    services.accrue(user=team[0], amount=50, actor=manager)  # under the threshold: posted, not requested
    client.force_login(manager)
    response = client.get("/bonuses/budget/")
    assert response.status_code == 200 and pending_notice(response) is None


def test_the_budgets_table_shows_what_requests_hold(client, manager, administrator, team, policy):
    services.accrue(user=team[0], amount=50, actor=manager, comment="Thanks")
    services.accrue(user=team[1], amount=150, actor=manager, comment="Launch")  # above the threshold: a request
    client.force_login(administrator)
    response = client.get("/bonuses/budgets/")
    row = re.search(r'<tr[^>]*data-name="Maria Manager"[^>]*>(.*?)</tr>', response.content.decode(), re.S).group(1)
    cells = [re.sub(r"<[^>]+>|\s+", " ", cell).strip() for cell in re.findall(r"<td[^>]*>(.*?)</td>", row, re.S)]
    assert cells[4:8] == ["1,000.00", "50.00", "150.00", "800.00"]  # allowance, granted, held, left
    assert 'value="20"' in row  # 200 of 1,000 used or held
