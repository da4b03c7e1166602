"""A bulk accrual costs a fixed number of queries, however many employees it reaches, and is all or nothing."""

from datetime import timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from bonuses import services
from bonuses.exceptions import InactiveEmployee, OperationInPast
from bonuses.models import Account, Batch, Entry
from tests.helpers import new_employees
from users.models import User

pytestmark = pytest.mark.django_db

MANY = 1000
assert MANY <= services.BATCH_SIZE  # one batch: the count must not grow with the number of employees


def queries(call) -> list[str]:
    with CaptureQueriesContext(connection) as context:
        call()
    return [query["sql"][:200] for query in context.captured_queries]


def counts(state: dict) -> dict[str, int]:
    """How many rows the ledger's tables hold in a `ledger_snapshot`."""
    return {name: len(state[name]) for name in ("Account", "Lot", "Entry", "Allocation", "Batch")}


def test_bulk_accrual_costs_the_same_queries_for_10_and_1000_employees(bonuses, administrator):
    groups = {10: new_employees(10, "few"), MANY: new_employees(MANY, "many")}

    def accrue(people):
        return lambda: services.accrue_many(users=people, amount=5, actor=administrator, comment="Q1")

    # The first time, no employee has an account yet: they are created in the same call.
    first = {size: queries(accrue(people)) for size, people in groups.items()}
    assert len(first[10]) == len(first[MANY]), first
    # The second time, every account exists (and is locked and settled before the accrual).
    again = {size: queries(accrue(people)) for size, people in groups.items()}
    assert len(again[10]) == len(again[MANY]), again

    assert Batch.objects.count() == 4
    assert Entry.objects.count() == 2 * (10 + MANY)
    assert set(Account.objects.values_list("active", "total_accrued")) == {(10, 10)}


def test_bulk_accrual_with_one_inactive_employee_writes_nothing(bonuses, administrator, ledger_snapshot):
    people = new_employees(MANY, "staff")
    User.objects.filter(pk=people[MANY // 2].pk).update(is_active=False)
    before = ledger_snapshot()
    with pytest.raises(InactiveEmployee, match="1 of the selected employees"):
        services.accrue_many(users=people, amount=5, actor=administrator)
    assert ledger_snapshot() == before
    assert counts(before) == {"Account": 0, "Lot": 0, "Entry": 0, "Allocation": 0, "Batch": 0}


def test_bulk_accrual_refused_after_it_began_writing_leaves_nothing_behind(bonuses, administrator, ledger_snapshot):
    """The refusal comes after the call has created the missing accounts: they must go too (one transaction)."""
    people = new_employees(MANY, "staff")
    latest = services.accrue(user=people[-1], amount=7, actor=administrator).at
    before = ledger_snapshot()
    with pytest.raises(OperationInPast):
        # Dated before the last employee's latest entry: refused once all the accounts are locked.
        services.accrue_many(users=people, amount=5, actor=administrator, at=latest - timedelta(hours=1))
    assert ledger_snapshot() == before
    assert counts(before) == {"Account": 1, "Lot": 1, "Entry": 1, "Allocation": 0, "Batch": 0}
