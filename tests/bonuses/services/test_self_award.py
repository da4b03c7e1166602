"""No self-award (issue 11): nobody accrues points to themselves, in the service and on the screens."""

import uuid

import pytest
from django.utils.html import escape

from bonuses import services
from bonuses.exceptions import SelfAward
from bonuses.models import Entry
from tests.helpers import REMEMBERED_REFUSAL

pytestmark = pytest.mark.django_db

SELF = "You cannot accrue points to yourself."


def selection_message(name: str) -> str:
    return (
        f"The selection includes you ({name}): nobody accrues points to themselves. Remove yourself from the "
        "selection; nothing was accrued."
    )


@pytest.fixture
def colleague(make_user):
    return make_user("colleague@example.com", role="Administrators", full_name="Cora Colleague")


def test_an_administrator_cannot_accrue_to_themselves(administrator, bonuses, ledger_snapshot):
    before = ledger_snapshot()
    with pytest.raises(SelfAward) as refused:
        services.accrue(user=administrator, amount=10, actor=administrator)
    assert refused.value.message == SELF
    assert ledger_snapshot() == before


def test_an_administrator_may_accrue_to_another_administrator(administrator, colleague, bonuses):
    services.accrue(user=colleague, amount=10, actor=administrator)
    assert Entry.objects.get().user == colleague


def test_a_manager_cannot_accrue_to_themselves(manager, department, bonuses, ledger_snapshot):
    manager.department = department
    manager.save()
    before = ledger_snapshot()
    with pytest.raises(SelfAward, match=SELF):
        services.accrue(user=manager, amount=10, actor=manager)
    assert ledger_snapshot() == before


def test_a_bulk_grant_that_includes_oneself_grants_nothing(administrator, employee, bonuses, ledger_snapshot):
    before = ledger_snapshot()
    with pytest.raises(SelfAward) as refused:
        services.accrue_many(users=[employee, administrator], amount=10, actor=administrator)
    assert refused.value.message == selection_message("Alex Admin")
    assert ledger_snapshot() == before


# Screens ------------------------------------------------------------------------------------------


def test_the_accrual_table_offers_no_add_bonuses_button_on_ones_own_row(as_admin, administrator, employee, bonuses):
    page = as_admin.get("/bonuses/accrual/").content.decode()
    assert f'href="/bonuses/accrual/{employee.pk}/add/' in page or f"/bonuses/accrual/{employee.pk}/add/" in page
    assert f"/bonuses/accrual/{administrator.pk}/add/" not in page


def test_the_single_modal_for_oneself_says_why_and_the_post_is_refused(
    as_admin, administrator, bonuses, ledger_snapshot
):
    url = f"/bonuses/accrual/{administrator.pk}/add/"
    assert escape(SELF) in as_admin.get(url).content.decode()
    before = ledger_snapshot(skip=REMEMBERED_REFUSAL)
    payload = {"amount": "10", "idempotency_key": uuid.uuid4().hex, "currency": bonuses.pk}
    response = as_admin.post(url, payload)
    assert response.status_code == 400
    assert escape(SELF) in response.content.decode()
    assert ledger_snapshot(skip=REMEMBERED_REFUSAL) == before


def test_a_bulk_selection_including_oneself_is_refused_as_a_whole(
    as_admin, administrator, employee, bonuses, ledger_snapshot
):
    ids = f"{employee.pk},{administrator.pk}"
    opened = as_admin.get(f"/bonuses/accrual/bulk/?employees={ids}&currency={bonuses.pk}")
    assert escape(selection_message("Alex Admin")) in opened.content.decode()
    before = ledger_snapshot(skip=REMEMBERED_REFUSAL)
    payload = {
        "employees": ids,
        "amount": "10",
        "idempotency_key": uuid.uuid4().hex,
        "currency": bonuses.pk,
        "select_all": "",
        "filters": "",
    }
    response = as_admin.post("/bonuses/accrual/bulk/", payload)
    assert response.status_code == 400
    assert escape(selection_message("Alex Admin")) in response.content.decode()
    assert ledger_snapshot(skip=REMEMBERED_REFUSAL) == before
