"""The employee autocomplete of the accrual, write-off and log screens (issue 4)."""

import pytest

from users.models import User

pytestmark = pytest.mark.django_db

AUTOCOMPLETE = "/bonuses/employees/autocomplete/"


def autocomplete(client, q, **params):
    response = client.get(AUTOCOMPLETE, {"q": q, **params})
    assert response.status_code == 200
    return [item["id"] for item in response.json()["results"]]


def test_autocomplete_finds_active_employees_by_part_of_the_name(as_admin, make_user, employee, former):
    other = make_user("someone@example.com", full_name="Erika Mustermann")
    assert autocomplete(as_admin, "rik") == [employee.pk, other.pk]  # by name
    assert autocomplete(as_admin, "ERIK EMP") == [employee.pk]  # any case
    assert autocomplete(as_admin, "someone@") == [other.pk]  # by e-mail
    assert autocomplete(as_admin, "Fiona") == []  # deactivated: not offered for a write-off
    result = as_admin.get(AUTOCOMPLETE, {"q": "rik"}).json()["results"][0]
    assert result == {"id": employee.pk, "text": "Erik Employee (employee@example.com)"}


def test_autocomplete_finds_by_employee_number(as_admin, make_user):
    user = make_user(employee_number="E-4711")
    assert autocomplete(as_admin, "e-4711") == [user.pk]


def test_autocomplete_needs_two_characters(as_admin, employee):
    assert autocomplete(as_admin, "E") == []
    assert autocomplete(as_admin, " E ") == []
    assert autocomplete(as_admin, "") == []
    assert autocomplete(as_admin, "Er") == [employee.pk]


def test_autocomplete_returns_at_most_20(as_admin, make_user):
    for n in range(25):
        make_user(full_name=f"Zed {n:02}")
    found = autocomplete(as_admin, "Zed")
    assert len(found) == 20
    names = list(User.objects.filter(pk__in=found).order_by("full_name").values_list("full_name", flat=True))
    assert names == [f"Zed {n:02}" for n in range(20)]


def test_autocomplete_for_a_manager_is_limited_to_their_departments(as_manager, employee, outsider, make_user):
    make_user(full_name="Erin Elsewhere", department=outsider.department)
    assert autocomplete(as_manager, "Er") == [employee.pk]
    assert autocomplete(as_manager, "Otto") == []
    assert autocomplete(as_manager, "Otto", all="1") == []  # "all" is for administrators only


def test_autocomplete_of_the_log_includes_former_employees_for_administrators(as_admin, former):
    assert autocomplete(as_admin, "Fiona") == []
    assert autocomplete(as_admin, "Fiona", all="1") == [former.pk]
