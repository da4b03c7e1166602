"""Segments: each condition as of a day, the accrual table's meaning of it, and every refusal."""

from datetime import date, timedelta

import pytest
from django.utils import timezone

from bonuses import selectors, services
from bonuses.exceptions import InvalidSegment, NotPermitted
from bonuses.filters import EmployeeFilter
from bonuses.models import Segment
from tests.helpers import day, local
from users.models import City, Department, Position, Tag

ON = day(6, 15)


def names(users) -> list[str]:
    return sorted(user.full_name for user in users)


@pytest.fixture
def people(make_user, department, administrator, bonuses):
    berlin, it = City.objects.create(name="Berlin"), Department.objects.create(name="IT")
    clerk = Position.objects.create(name="Clerk")
    red, blue = Tag.objects.create(name="red"), Tag.objects.create(name="blue")
    old = make_user(full_name="Old", hire_date=ON - timedelta(days=400), date_of_birth=date(1990, 3, 1))
    old.date_joined = local(1, 1, year=2025)
    old.city, old.department, old.position = berlin, it, clerk
    old.save()
    old.tags.set([red, blue])
    new = make_user(full_name="New", hire_date=ON - timedelta(days=100), date_of_birth=date(1990, 7, 4))
    new.date_joined = local(3, 1)
    new.department = department
    new.save()
    new.tags.set([red])
    make_user(full_name="Future", hire_date=ON + timedelta(days=10))  # not hired yet on ON
    make_user(full_name="Gone", hire_date=ON - timedelta(days=900), is_active=False)
    services.accrue(user=new, amount=50, actor=administrator)
    return {"old": old, "new": new, "berlin": berlin, "it": it, "clerk": clerk, "red": red, "blue": blue}


def members(administrator, **conditions) -> list[str]:
    segment = services.save_segment(name="S", actor=administrator, **conditions)
    try:
        return [n for n in names(selectors.segment_members(segment, on=ON)) if n not in ("Admin",)]
    finally:
        segment.delete()


def test_without_a_segment_every_active_employee_hired_by_that_day(people, administrator):
    everyone = names(selectors.segment_members(None, on=ON))
    assert "Old" in everyone and "New" in everyone and "Future" not in everyone and "Gone" not in everyone


def test_days_since_hire(people, administrator):
    assert "Old" in members(administrator, hired_days_min=365)
    assert "New" not in members(administrator, hired_days_min=365)
    assert members(administrator, hired_days_min=100, hired_days_max=100) == ["New"]
    assert members(administrator, hired_days_min=101, hired_days_max=399) == []
    assert members(administrator, hired_days_min=400, hired_days_max=400) == ["Old"]


def test_days_in_the_program(people, administrator):
    joined = members(administrator, joined_days_min=365)
    assert "Old" in joined and "New" not in joined
    assert "New" in members(administrator, joined_days_max=200)


def test_birth_month_department_city_position(people, administrator):
    assert members(administrator, birth_month=7) == ["New"]
    assert members(administrator, departments=[people["it"]]) == ["Old"]
    assert members(administrator, cities=[people["berlin"]]) == ["Old"]
    assert members(administrator, positions=[people["clerk"]]) == ["Old"]


def test_tags_any_of_or_all_of(people, administrator):
    assert members(administrator, tags=[people["red"], people["blue"]]) == ["New", "Old"]
    assert members(administrator, tags=[people["red"], people["blue"]], tags_all=True) == ["Old"]


def test_balance_range_in_a_currency(people, administrator, bonuses):
    assert members(administrator, balance_min=50) == ["New"]
    assert "New" not in members(administrator, balance_max=49, currency=bonuses)


def test_the_accrual_table_filters_mean_the_same(people, administrator, bonuses):
    """ "Hired until" a day in the table is "days since hire at least N" of the segment, N days before."""
    rows = selectors.accrual_table(administrator, bonuses)
    cutoff = (ON - timedelta(days=365)).isoformat()
    table = EmployeeFilter({"hired_before": cutoff, "tags": [people["red"].pk]}, queryset=rows).qs
    segment = services.save_segment(name="Veterans", actor=administrator, hired_days_min=365, tags=[people["red"]])
    assert names(table) == names(selectors.segment_members(segment, on=ON)) == ["Old"]


def test_a_segment_is_saved_and_changed(people, administrator):
    segment = services.save_segment(name="Veterans", actor=administrator, hired_days_min=365)
    segment = services.save_segment(name="Veterans!", actor=administrator, birth_month=3, segment=segment)
    assert Segment.objects.get().name == "Veterans!" and segment.hired_days_min is None and segment.birth_month == 3


@pytest.mark.parametrize(
    ("conditions", "message"),
    [
        ({"name": " "}, "Give the segment a name."),
        ({"hired_days_min": 10, "hired_days_max": 5}, "“Days since hire, at least” is more than “at most”."),
        ({"joined_days_min": 10, "joined_days_max": 5}, "“Days in the program, at least” is more than “at most”."),
        ({"hired_days_min": -1}, "Days are whole numbers from 0 to 36,525."),
        ({"birth_month": 13}, "The birth month is a month from 1 to 12."),
        ({"balance_min": 10, "balance_max": 5}, "The balance's lower bound is more than its upper bound."),
        ({"name": "taken"}, "There is already a segment named “taken”."),
    ],
)
def test_refusals_save_nothing(people, administrator, ledger_snapshot, conditions, message):
    services.save_segment(name="Taken", actor=administrator)
    before = ledger_snapshot()
    with pytest.raises(InvalidSegment) as refused:
        services.save_segment(**{"name": "S", "actor": administrator, **conditions})
    assert refused.value.message == message
    assert ledger_snapshot() == before
    assert list(Segment.objects.values_list("name", flat=True)) == ["Taken"]


def test_only_an_administrator_saves_a_segment(manager, ledger_snapshot):
    before = ledger_snapshot()
    with pytest.raises(NotPermitted):
        services.save_segment(name="S", actor=manager)
    assert ledger_snapshot() == before and not Segment.objects.exists()


def test_the_day_defaults_to_today(people, administrator):
    segment = services.save_segment(name="S", actor=administrator, hired_days_min=0)
    today = timezone.localdate()
    assert set(selectors.segment_members(segment)) == set(selectors.segment_members(segment, on=today))
