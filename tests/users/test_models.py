import pytest
from django.contrib.auth import authenticate
from django.contrib.auth.models import Group
from django.db import IntegrityError
from django.test import RequestFactory

from users.models import City, Department, Position, Tag, User

pytestmark = pytest.mark.django_db


def test_create_user_logs_in_with_email_and_keeps_attributes():
    sales = Department.objects.create(name="Sales")
    tag = Tag.objects.create(name="Mentor")
    user = User.objects.create_user(
        "Anna.Mueller@EXAMPLE.com",
        "s3cret-pass",
        full_name="Anna Müller",
        employee_number="E1",
        department=sales,
        position=Position.objects.create(name="Engineer"),
        city=City.objects.create(name="Berlin"),
        tags=[tag],
    )
    assert user.email == "Anna.Mueller@example.com"  # the domain is normalised, as in Django
    assert user.check_password("s3cret-pass")
    assert not user.is_staff and not user.is_superuser and user.is_active
    assert list(user.tags.all()) == [tag]
    assert list(sales.employees.all()) == [user]
    request = RequestFactory().post("/accounts/login/")
    assert authenticate(request, username="anna.mueller@example.com", password="s3cret-pass") == user


def test_create_user_without_password_is_unusable_and_email_is_required():
    user = User.objects.create_user("nopass@example.com", full_name="No Pass")
    assert not user.has_usable_password()
    with pytest.raises(ValueError):
        User.objects.create_user("", "x", full_name="Nobody")


def test_create_superuser_sets_flags_and_refuses_contradictions():
    root = User.objects.create_superuser("root@example.com", "pw-pw-pw-pw", full_name="Root")
    assert root.is_staff and root.is_superuser
    assert root.is_giftshop_admin and root.is_bonus_manager
    with pytest.raises(ValueError):
        User.objects.create_superuser("x@example.com", "pw", full_name="X", is_superuser=False)


def test_email_is_unique_without_regard_to_case():
    User.objects.create_user("same@example.com", full_name="One")
    with pytest.raises(IntegrityError):
        User.objects.bulk_create([User(email="SAME@example.com", full_name="Two")])


def test_roles_come_from_the_data_migration(make_user, department):
    admin = make_user(role="Administrators")
    manager = make_user(role="Managers", manages=[department])
    plain = make_user()
    assert set(Group.objects.values_list("name", flat=True)) == {"Administrators", "Managers"}
    assert admin.is_giftshop_admin and admin.is_bonus_manager
    assert manager.is_bonus_manager and not manager.is_giftshop_admin
    assert list(manager.managed_departments.all()) == [department]
    assert not plain.is_giftshop_admin and not plain.is_bonus_manager


def test_deactivated_user_has_no_role(make_user):
    admin = make_user(role="Administrators", is_active=False)
    assert not admin.is_giftshop_admin
