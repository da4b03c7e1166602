from datetime import timedelta

import pytest
from django.contrib.auth import authenticate
from django.core.management import call_command
from django.test import RequestFactory
from django.utils import timezone

from bonuses.models import Currency, Entry, Lot
from bonuses.shop.models import Category, Gift, Order
from giftshop.demo.catalog import CATALOG
from giftshop.demo.employees import CITIES, DEMO_LOGINS, DEPARTMENTS, EMPLOYEE_COUNT, POSITIONS, TAGS, seed_employees
from giftshop.outbox.models import OutgoingEmail
from users.models import City, Department, Position, Tag, User

pytestmark = pytest.mark.django_db


def test_seed_demo_builds_a_believable_company_once(capsys):
    call_command("seed_demo")
    first = capsys.readouterr().out
    counts = (
        User.objects.count(),
        Department.objects.count(),
        City.objects.count(),
        Position.objects.count(),
        Tag.objects.count(),
        User.tags.through.objects.count(),
    )
    # The generated employees and the demo logins; 307 tags drawn (none to two each) from the seeded draw.
    assert counts == (EMPLOYEE_COUNT + len(DEMO_LOGINS), len(DEPARTMENTS), len(CITIES), len(POSITIONS), len(TAGS), 307)
    assert counts[:5] == (323, 7, 6, 10, 7)
    # Birth and hire dates are drawn back from today: how many calendar years they span depends on the day.
    assert User.objects.values("date_of_birth__year").distinct().count() > 20
    assert User.objects.values("hire_date__year").distinct().count() > 10
    for login in DEMO_LOGINS:
        assert f"{login.email} / {login.password}" in first

    # A year of bonus history in two currencies, with expiries, pending activations and write-offs.
    assert Currency.objects.count() == 2
    kinds = set(Entry.objects.values_list("kind", flat=True))
    assert {"manual_accrual", "manager_accrual", "manual_write_off", "expired"} <= kinds
    assert Lot.objects.filter(is_activated=False).exists()
    assert Entry.objects.filter(at__lt=timezone.now() - timedelta(days=330)).exists()
    # A gift catalog with pictures, and orders in every status.
    assert (
        (Gift.objects.count(), Category.objects.count()) == (sum(map(len, CATALOG.values())), len(CATALOG)) == (20, 5)
    )
    assert all(gift.picture for gift in Gift.objects.all())
    assert set(Order.objects.values_list("status", flat=True)) == set(Order.Status.values)
    assert not OutgoingEmail.objects.exists()  # the demo history's e-mails are not left to send
    call_command("check_ledger")
    entries = Entry.objects.count()

    call_command("seed_demo")
    assert "already there" in capsys.readouterr().out
    assert Entry.objects.count() == entries
    assert counts == (
        User.objects.count(),
        Department.objects.count(),
        City.objects.count(),
        Position.objects.count(),
        Tag.objects.count(),
        User.tags.through.objects.count(),
    )


def test_demo_logins_work_and_have_their_roles():
    seed_employees()
    request = RequestFactory().post("/accounts/login/")
    admin, manager, employee = (
        authenticate(request, username=login.email, password=login.password) for login in DEMO_LOGINS
    )
    assert admin.is_giftshop_admin and admin.is_staff
    assert manager.is_bonus_manager and not manager.is_giftshop_admin
    assert [d.name for d in manager.managed_departments.all()] == ["Sales"]
    assert not employee.is_giftshop_admin and not employee.is_bonus_manager
