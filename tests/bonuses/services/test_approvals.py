"""Four-eyes approval of grants (issue 11): the currency's policy (off by default), requests holding their
points on the manager's budget, approval by another administrator through the services, rejection with a
reason returning the hold, the requester's e-mail, and administrators' bulk grants above a threshold."""

from decimal import Decimal

import pytest
from django.core import mail

from bonuses import selectors, services
from bonuses.exceptions import (
    BudgetExceeded,
    InvalidSettings,
    NotAnApprover,
    ReasonRequired,
    RequestDecided,
    SelfApproval,
)
from bonuses.models import Batch, BudgetMovement, Entry, GrantRequest
from giftshop.outbox.models import OutgoingEmail

pytestmark = pytest.mark.django_db


@pytest.fixture
def policy(bonuses):
    services.update_currency_settings(
        bonuses,
        budget_period="month",
        budget_allowance=Decimal("1000"),
        approval_required=True,
        approval_per_employee=Decimal("100"),
        approval_total=Decimal("250"),
        approval_admin_total=Decimal("500"),
    )
    return bonuses


@pytest.fixture
def team(make_user, department):
    return [make_user(department=department, full_name=f"Sales {n}") for n in range(4)]


@pytest.fixture
def second(make_user):
    return make_user("second@example.com", role="Administrators", full_name="Sam Second")


def test_approval_is_off_by_default(manager, team, bonuses):
    assert not bonuses.approval_required
    assert isinstance(services.accrue(user=team[0], amount=5000, actor=manager), Entry)


def test_approval_needs_a_threshold(bonuses, ledger_snapshot):
    before = ledger_snapshot()
    with pytest.raises(InvalidSettings, match="Give at least one threshold."):
        services.update_currency_settings(bonuses, approval_required=True)
    assert ledger_snapshot() == before


def test_a_grant_within_the_thresholds_is_posted_at_once(manager, team, policy):
    assert isinstance(services.accrue(user=team[0], amount=100, actor=manager), Entry)
    assert isinstance(services.accrue_many(users=team[1:3], amount=100, actor=manager), Batch)
    assert GrantRequest.objects.count() == 0


def test_a_grant_above_the_threshold_becomes_a_request_holding_its_points(manager, team, policy):
    request = services.accrue_many(users=team[:3], amount=150, actor=manager, comment="Launch")
    assert isinstance(request, GrantRequest)
    assert (request.status, request.total, request.employee_count, request.comment) == ("pending", 450, 3, "Launch")
    assert Entry.objects.count() == 0
    figures = selectors.budget(manager)
    assert (figures.held, figures.left, figures.granted) == (450, 550, 0)
    held = BudgetMovement.objects.get(kind="held")
    assert (held.amount, held.actor) == (-450, manager)


def test_a_request_over_budget_is_refused_as_a_whole(manager, team, policy, ledger_snapshot):
    before = ledger_snapshot()
    with pytest.raises(BudgetExceeded, match="This grant uses 1,200.00 of your 1,000.00 Bonuses left"):
        services.accrue_many(users=team[:4], amount=300, actor=manager)
    assert ledger_snapshot() == before


def test_another_administrator_approves_and_the_grant_is_the_requesters(manager, administrator, team, policy):
    request = services.accrue_many(users=team[:3], amount=150, actor=manager, comment="Launch")
    mail.outbox.clear()
    approved = services.approve_request(request, actor=administrator)
    assert approved.status == "approved" and approved.decided_by == administrator
    batch = approved.batch
    assert batch.actor == manager and batch.approval.decided_by == administrator
    assert set(Entry.objects.values_list("actor", "kind")) == {(manager.pk, Entry.Kind.MANAGER_ACCRUAL)}
    figures = selectors.budget(manager)
    assert (figures.held, figures.granted, figures.left) == (0, 450, 550)
    budget = BudgetMovement.objects.get(kind="grant").budget
    assert selectors.budget_problems(budget) == []
    decided = OutgoingEmail.objects.get(recipient=manager.email)
    assert "approved" in decided.subject.lower()


def test_a_single_grant_above_the_per_employee_threshold_is_approved_as_an_entry(manager, administrator, team, policy):
    request = services.accrue(user=team[0], amount=101, actor=manager)
    approved = services.approve_request(request, actor=administrator)
    assert approved.entry.user == team[0] and approved.entry.approval == approved


def test_the_requester_cannot_decide_their_own_request(administrator, second, team, policy, ledger_snapshot):
    request = services.accrue_many(users=team, amount=200, actor=administrator)  # 800 > 500: a second administrator
    assert isinstance(request, GrantRequest) and request.budget is None
    before = ledger_snapshot()
    with pytest.raises(SelfApproval) as refused:
        services.approve_request(request, actor=administrator)
    assert refused.value.message == "You cannot decide your own request: another administrator must."
    with pytest.raises(SelfApproval):
        services.reject_request(request, actor=administrator, reason="No")
    assert ledger_snapshot() == before
    assert services.approve_request(request, actor=second).batch.actor == administrator


def test_an_administrators_single_grant_or_small_bulk_needs_no_second(administrator, team, policy):
    assert isinstance(services.accrue(user=team[0], amount=5000, actor=administrator), Entry)
    assert isinstance(services.accrue_many(users=team[:2], amount=250, actor=administrator), Batch)


def test_a_manager_cannot_decide_a_request(manager, make_user, department, team, policy, ledger_snapshot):
    other = make_user("other@example.com", role="Managers", manages=[department])
    request = services.accrue(user=team[0], amount=150, actor=manager)
    before = ledger_snapshot()
    with pytest.raises(NotAnApprover):
        services.approve_request(request, actor=other)
    assert ledger_snapshot() == before


def test_rejection_needs_a_reason_and_returns_the_held_budget(manager, administrator, team, policy, ledger_snapshot):
    request = services.accrue_many(users=team[:3], amount=150, actor=manager)
    before = ledger_snapshot()
    with pytest.raises(ReasonRequired):
        services.reject_request(request, actor=administrator, reason="  ")
    assert ledger_snapshot() == before
    rejected = services.reject_request(request, actor=administrator, reason="Not this quarter")
    assert (rejected.status, rejected.reason, rejected.decided_by) == ("rejected", "Not this quarter", administrator)
    figures = selectors.budget(manager)
    assert (figures.held, figures.left) == (0, 1000)
    assert Entry.objects.count() == 0
    decided = OutgoingEmail.objects.get(recipient=manager.email)
    assert "Not this quarter" in decided.body


def test_a_request_is_decided_once(manager, administrator, second, team, policy, ledger_snapshot):
    request = services.accrue(user=team[0], amount=150, actor=manager)
    services.approve_request(request, actor=administrator)
    before = ledger_snapshot()
    with pytest.raises(RequestDecided, match="was already approved"):
        services.approve_request(request, actor=second)
    with pytest.raises(RequestDecided):
        services.reject_request(request, actor=second, reason="Late")
    assert ledger_snapshot() == before
