"""The Django admin: every list opens for a superuser, the ledger and the outbox among them."""

import pytest
from django.contrib import admin
from django.contrib.auth.models import Group, Permission
from django.urls import reverse

from bonuses import services


@pytest.mark.django_db
def test_every_admin_list_and_the_outbox_filters_open(client, make_user, employee, administrator):
    services.accrue(user=employee, amount=5, actor=administrator, comment="Welcome")  # rows in the lists
    client.force_login(make_user("root@example.com", is_staff=True, is_superuser=True))

    for model in admin.site._registry:
        url = reverse(f"admin:{model._meta.app_label}_{model._meta.model_name}_changelist")
        assert client.get(url).status_code == 200, url

    outbox = reverse("admin:outbox_outgoingemail_changelist")
    response = client.get(outbox, {"sent_at__isempty": "1", "q": employee.email})
    assert response.status_code == 200 and "You received 5.00 Bonuses" in response.content.decode()


# Escalation: only superusers grant privileges or touch a superuser (issue 9, point 11). ----------

PRIVILEGES = ("is_superuser", "is_staff")


@pytest.fixture
def hr_admin(make_user):
    """Like the demo administrator: staff, in the group Administrators, not a superuser."""
    return make_user("hr@example.com", role="Administrators", is_staff=True, full_name="Hanna HR")


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
    assert privileges(employee)[:3] == (True, True, ["Administrators", "Managers"])
    new_password = {"password1": "n3w-Passw0rd!x", "password2": "n3w-Passw0rd!x", "usable_password": "true"}
    assert client.post(password_url(hr_admin), new_password).status_code == 302


# The read-only ledger and the outbox, for administrators (issue 9, "Small things"). -------------

LEDGER_ADMINS = [
    "bonuses_account",
    "bonuses_lot",
    "bonuses_entry",
    "bonuses_reservation",
    "bonuses_batch",
    "shop_order",
    "outbox_outgoingemail",
]


@pytest.fixture
def ledger_rows(employee, administrator):
    from bonuses.shop import services as shop
    from bonuses.shop.models import Category, Gift

    bonuses = services.get_currency()
    services.accrue(user=employee, amount=50, actor=administrator, comment="Welcome")
    services.accrue_many(users=[employee.pk], amount=5, actor=administrator, comment="Everyone")
    gift = Gift.objects.create(name="Mug", category=Category.objects.create(name="Cups"), price=10, currency=bonuses)
    shop.place_order(user=employee, gift=gift, quantity=1)


def ledger_objects():
    from bonuses.models import Account, Batch, Entry, Lot, Reservation
    from bonuses.shop.models import Order
    from giftshop.outbox.models import OutgoingEmail

    models = [Account, Lot, Entry, Reservation, Batch, Order, OutgoingEmail]
    return {f"{m._meta.app_label}_{m._meta.model_name}": m.objects.order_by("pk").first() for m in models}


@pytest.mark.django_db
def test_an_administrator_reads_the_ledger_and_the_outbox_in_the_admin(client, hr_admin, ledger_rows, ledger_snapshot):
    client.force_login(hr_admin)
    index = client.get(reverse("admin:index")).content.decode()
    for name in LEDGER_ADMINS:
        assert reverse(f"admin:{name}_changelist") in index, name
    before = ledger_snapshot()
    for name, obj in ledger_objects().items():
        assert obj is not None, name
        assert client.get(reverse(f"admin:{name}_changelist")).status_code == 200, name
        detail = client.get(reverse(f"admin:{name}_change", args=[obj.pk]))
        assert detail.status_code == 200, name
        assert 'name="_save"' not in detail.content.decode(), name  # read-only
        assert client.get(reverse(f"admin:{name}_add")).status_code == 403, name
        assert client.post(reverse(f"admin:{name}_change", args=[obj.pk]), {}).status_code == 403, name
        assert client.post(reverse(f"admin:{name}_delete", args=[obj.pk]), {"post": "yes"}).status_code == 403
    assert ledger_snapshot() == before


@pytest.mark.django_db
@pytest.mark.parametrize("staff", [False, True], ids=["manager", "staff-manager"])
def test_a_manager_cannot_open_the_ledger_in_the_admin(client, make_user, department, ledger_rows, staff):
    client.force_login(make_user("boss@example.com", role="Managers", manages=[department], is_staff=staff))
    for name in LEDGER_ADMINS:
        response = client.get(reverse(f"admin:{name}_changelist"))
        if staff:
            assert response.status_code == 403, name
        else:  # not staff: the admin's own login page
            assert response.status_code == 302 and response["Location"].startswith(reverse("admin:login")), name


@pytest.mark.django_db
def test_an_administrator_sets_an_accounts_state_by_an_admin_action(client, hr_admin, employee, ledger_rows):
    from bonuses.exceptions import AccountBlocked
    from bonuses.models import Account, Entry

    account = Account.objects.get(user=employee)
    figures = Account.objects.filter(pk=account.pk).values(*Account.FIGURES).get()
    entries = Entry.objects.count()
    url = reverse("admin:bonuses_account_changelist")
    client.force_login(hr_admin)
    assert 'value="make_blocked"' in client.get(url).content.decode()

    response = client.post(url, {"action": "make_blocked", "_selected_action": [account.pk]}, follow=True)
    assert "1 account set to “Blocked”." in response.content.decode()
    account.refresh_from_db()
    assert account.state == Account.State.BLOCKED
    with pytest.raises(AccountBlocked):
        services.reserve(user=employee, amount=1, reference="after the block")

    client.post(url, {"action": "make_accumulate_only", "_selected_action": [account.pk]})
    account.refresh_from_db()
    assert account.state == Account.State.ACCUMULATE_ONLY
    client.post(url, {"action": "make_active", "_selected_action": [account.pk]})
    account.refresh_from_db()
    assert account.state == Account.State.ACTIVE
    # Only the state changed: no entry, no figure.
    assert Account.objects.filter(pk=account.pk).values(*Account.FIGURES).get() == figures
    assert Entry.objects.count() == entries
