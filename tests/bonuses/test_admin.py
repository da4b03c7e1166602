"""The ledger and the outbox in the Django admin: every list opens for a superuser; administrators read the
ledger and the outbox without changing them and set an account's state; managers do not open them."""

import pytest
from django.contrib import admin
from django.urls import reverse

from bonuses import services
from bonuses.exceptions import AccountBlocked
from bonuses.models import Account, Batch, Entry, Lot, Reservation
from bonuses.shop import services as shop
from bonuses.shop.models import Category, Gift, Order
from giftshop.outbox.models import OutgoingEmail


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


# The read-only ledger and the outbox, for administrators (issue 9, "Small things") ---------------

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
    bonuses = services.get_currency()
    services.accrue(user=employee, amount=50, actor=administrator, comment="Welcome")
    services.accrue_many(users=[employee.pk], amount=5, actor=administrator, comment="Everyone")
    gift = Gift.objects.create(name="Mug", category=Category.objects.create(name="Cups"), price=10, currency=bonuses)
    shop.place_order(user=employee, gift=gift, quantity=1)


def ledger_objects():
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
