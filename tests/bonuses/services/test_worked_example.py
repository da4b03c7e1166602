"""SPEC.md section 5, figure by figure."""

from decimal import Decimal

import pytest

from bonuses import selectors, services
from bonuses.exceptions import InsufficientBalance
from bonuses.models import Lot
from tests.helpers import day, local

pytestmark = pytest.mark.django_db


def figures(user, at):
    b = selectors.balance(user, at=at)
    return {
        name: int(getattr(b, name))
        for name in ("active", "reserved", "non_activated", "spent", "written_off", "expired", "total_accrued")
    }


def march_start(employee, administrator):
    services.accrue(user=employee, amount=200, actor=administrator, at=local(3, 1, 9))  # lot A
    services.accrue(user=employee, amount=100, actor=administrator, expires_on=day(3, 10), at=local(3, 1, 10))  # B
    order = services.reserve(user=employee, amount=120, reference="order-1", at=local(3, 2))
    lot_a, lot_b = Lot.objects.order_by("pk")
    assert (lot_a.remaining, lot_b.remaining) == (180, 0)  # B expires first, so it goes first
    services.accrue(user=employee, amount=50, actor=administrator, activates_on=day(3, 15), at=local(3, 3))  # C
    return order


def test_worked_example_with_the_order_cancelled(whole, employee, administrator):
    order = march_start(employee, administrator)
    services.release(order, at=local(3, 5))
    lot_a, lot_b, lot_c = Lot.objects.order_by("pk")
    assert (lot_a.remaining, lot_b.remaining) == (200, 100)
    services.write_off(user=employee, amount=30, actor=administrator, comment="Correction", at=local(3, 6))
    lot_b.refresh_from_db()
    assert lot_b.remaining == 70

    assert figures(employee, local(3, 10, 23, 59, 59))["active"] == 270  # B usable through the 10th
    assert figures(employee, local(3, 11, 0, 0, 0))["expired"] == 70  # gone at 00:00 on the 11th
    assert figures(employee, local(3, 11, 0, 0, 0))["active"] == 200
    assert figures(employee, local(3, 14, 23, 59, 59))["non_activated"] == 50
    assert figures(employee, local(3, 15, 0, 0, 0))["non_activated"] == 0

    services.settle(at=local(3, 16))
    expected = {
        "active": 250,
        "reserved": 0,
        "non_activated": 0,
        "spent": 0,
        "written_off": 30,
        "expired": 70,
        "total_accrued": 320,
    }
    assert figures(employee, local(3, 16)) == expected
    b = selectors.balance(employee, at=local(3, 16))
    assert b.total_accrued == b.active + b.reserved + b.non_activated + b.spent + b.expired
    assert b.next_expiry_on is None and b.next_expiry_amount == 0


def test_worked_example_with_the_order_completed(whole, employee, administrator):
    order = march_start(employee, administrator)
    services.capture(order, at=local(3, 5))
    with pytest.raises(InsufficientBalance):
        # B is empty: the 30 come from A, and B has nothing a write-off could touch.
        services.write_off(user=employee, amount=181, actor=administrator, at=local(3, 6))
    services.write_off(user=employee, amount=30, actor=administrator, at=local(3, 6))
    lot_a, lot_b, lot_c = Lot.objects.order_by("pk")
    assert (lot_a.remaining, lot_b.remaining) == (150, 0)
    services.settle(at=local(3, 16))
    assert figures(employee, local(3, 16)) == {
        "active": 200,
        "reserved": 0,
        "non_activated": 0,
        "spent": 120,
        "written_off": 30,
        "expired": 0,
        "total_accrued": 320,
    }
    assert Decimal(320) == 200 + 0 + 0 + 120 + 0
