"""The employees in the Django admin: only a superuser grants privileges or touches a superuser (issue 9,
point 11); an administrator edits employees and resets their passwords."""

import pytest
from django.contrib.auth.models import Group, Permission
from django.urls import reverse


@pytest.fixture
def root(make_user):
    return make_user("root@example.com", is_staff=True, is_superuser=True, full_name="Rita Root")


def change_url(user):
    return reverse("admin:users_user_change", args=[user.pk])


def password_url(user):
    return reverse("admin:auth_user_password_change", args=[user.pk])


def escalating_post(user, **extra):
    """A complete, valid change form for `user` that also ticks every privilege."""
    return {
        "email": user.email,
        "full_name": extra.pop("full_name", user.full_name),
        "employee_number": user.employee_number or "",
        "is_active": "on",
        "is_staff": "on",
        "is_superuser": "on",
        "groups": [Group.objects.get(name="Administrators").pk, Group.objects.get(name="Managers").pk],
        "user_permissions": list(Permission.objects.values_list("pk", flat=True)[:5]),
        **extra,
    }


def privileges(user):
    user.refresh_from_db()
    return (
        user.is_superuser,
        user.is_staff,
        sorted(user.groups.values_list("name", flat=True)),
        sorted(user.user_permissions.values_list("codename", flat=True)),
    )


@pytest.mark.django_db
def test_an_administrator_edits_an_employee_but_not_their_privileges(client, hr_admin, employee):
    client.force_login(hr_admin)
    before = privileges(employee)
    page = client.get(change_url(employee)).content.decode()
    assert 'name="full_name"' in page
    assert 'name="is_superuser"' not in page and 'name="groups"' not in page  # shown, not editable
    assert 'name="user_permissions"' not in page and 'name="is_staff"' not in page

    response = client.post(change_url(employee), escalating_post(employee, full_name="Erik Renamed"))
    assert response.status_code == 302  # the form was valid: the forged fields were ignored
    employee.refresh_from_db()
    assert employee.full_name == "Erik Renamed"
    assert privileges(employee) == before == (False, False, [], [])


@pytest.mark.django_db
def test_an_administrator_cannot_raise_their_own_privileges(client, hr_admin):
    client.force_login(hr_admin)
    before = privileges(hr_admin)
    response = client.post(change_url(hr_admin), escalating_post(hr_admin))
    assert response.status_code == 302
    assert privileges(hr_admin) == before == (False, True, ["Administrators"], [])


@pytest.mark.django_db
def test_an_administrator_cannot_change_a_superuser_or_their_password(client, hr_admin, root, ledger_snapshot):
    client.force_login(hr_admin)
    before, password = privileges(root), root.password
    snapshot = ledger_snapshot()
    page = client.get(change_url(root))
    assert page.status_code == 200  # may look (view permission), with nothing to save
    assert 'name="full_name"' not in page.content.decode() and 'name="_save"' not in page.content.decode()
    refused = client.post(change_url(root), escalating_post(root, full_name="Taken over", is_superuser=""))
    assert refused.status_code == 403
    assert client.get(password_url(root)).status_code == 403
    new_password = {"password1": "n3w-Passw0rd!x", "password2": "n3w-Passw0rd!x", "usable_password": "true"}
    assert client.post(password_url(root), new_password).status_code == 403
    root.refresh_from_db()
    assert (root.full_name, root.password, privileges(root)) == ("Rita Root", password, before)
    assert ledger_snapshot() == snapshot


@pytest.mark.django_db
def test_an_administrator_resets_an_employees_password_but_not_a_fellow_administrators(
    client, hr_admin, make_user, employee
):
    colleague = make_user("colleague@example.com", role="Administrators", is_staff=True)
    client.force_login(hr_admin)
    new_password = {"password1": "n3w-Passw0rd!x", "password2": "n3w-Passw0rd!x", "usable_password": "true"}
    # A fellow administrator's login is theirs: taking it over would bypass every "another administrator" rule.
    kept = colleague.password
    assert client.get(password_url(colleague)).status_code == 403
    assert client.post(password_url(colleague), new_password).status_code == 403
    colleague.refresh_from_db()
    assert colleague.password == kept
    # An employee's forgotten password is HR's daily work.
    assert client.post(password_url(employee), new_password).status_code == 302
    employee.refresh_from_db()
    assert employee.check_password("n3w-Passw0rd!x")


@pytest.mark.django_db
def test_a_superuser_still_grants_privileges(client, root, employee, hr_admin):
    client.force_login(root)
    response = client.post(change_url(employee), escalating_post(employee))
    assert response.status_code == 302
    granted = sorted(Permission.objects.values_list("codename", flat=True)[:5])  # what escalating_post ticks
    assert privileges(employee) == (True, True, ["Administrators", "Managers"], granted)
    new_password = {"password1": "n3w-Passw0rd!x", "password2": "n3w-Passw0rd!x", "usable_password": "true"}
    assert client.post(password_url(hr_admin), new_password).status_code == 302
