from datetime import date, datetime

import pytest
from django.utils import timezone

from bonuses.models import Currency


def local(month: int, day: int, hour: int = 12, minute: int = 0, second: int = 0, year: int = 2026) -> datetime:
    """An instant in the company time zone."""
    return datetime(year, month, day, hour, minute, second, tzinfo=timezone.get_default_timezone())


def day(month: int, d: int, year: int = 2026) -> date:
    return date(year, month, d)


@pytest.fixture
def bonuses(db) -> Currency:
    return Currency.objects.get(is_default=True)


@pytest.fixture
def whole(bonuses) -> Currency:
    bonuses.whole_numbers = True
    bonuses.save()
    return bonuses
