import pytest

from bonuses import services

pytestmark = pytest.mark.django_db


def test_snapshot_sees_an_accrual(ledger_snapshot, employee, administrator):
    before = ledger_snapshot()
    assert before == ledger_snapshot()
    services.accrue(user=employee, amount="1", actor=administrator)
    after = ledger_snapshot()
    assert after != before and len(after["Entry"]) == len(before["Entry"]) + 1
