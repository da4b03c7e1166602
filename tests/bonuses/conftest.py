import pytest

from bonuses import services
from bonuses.models import Currency


@pytest.fixture
def bonuses(db) -> Currency:
    """The default currency, as its data migration made it."""
    return Currency.objects.get(is_default=True)


@pytest.fixture
def whole(bonuses) -> Currency:
    """The default currency in whole numbers only."""
    bonuses.whole_numbers = True
    bonuses.save()
    return bonuses


@pytest.fixture
def stars(db) -> Currency:
    """A second currency, in whole numbers only."""
    return Currency.objects.create(name="Stars", whole_numbers=True)


@pytest.fixture
def funded(employee, administrator, bonuses):
    """The employee with 100 active points, so that a valid write-off would go through."""
    services.accrue(user=employee, amount=100, actor=administrator)
    return employee
