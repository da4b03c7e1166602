"""A database of the layout before the shop and the outbox had apps of their own migrates forward with
nothing lost (issue 10, point 2).

The database is taken back to the migrations as they were then (bonuses 0010, users 0002, no shop
or outbox app), rows are written with the models of that state (the shop's and the outbox's still in
the bonuses app), and it is migrated forward again: the same tables hold the same rows, now read with
the shop's and the outbox's models, the ledger's identities hold, and the content types (with their
permissions and admin history) follow the models.
"""

from datetime import timedelta
from decimal import Decimal

import pytest
from django.contrib.admin.models import LogEntry
from django.contrib.contenttypes.models import ContentType
from django.core.management import call_command
from django.db import connection
from django.db.migrations.executor import MigrationExecutor
from django.utils import timezone

from bonuses.models import Account, Allocation, Entry, IdempotencyKey, Lot, Reservation
from bonuses.selectors import ledger_problems
from bonuses.shop.models import Category, CodeGuard, ConfirmationCode, Gift, Order
from giftshop.outbox.models import OutgoingEmail
from users.models import User

BEFORE = [("bonuses", "0010_amount_and_calendar_limits"), ("users", "0002_trigram_search")]
MOVED_APPS = ["shop", "outbox"]


def migrate(targets) -> MigrationExecutor:
    executor = MigrationExecutor(connection)
    executor.migrate(targets)
    return MigrationExecutor(connection)  # a fresh loader: what is applied now


def old_state_apps(executor: MigrationExecutor):
    admin = [node for node in executor.loader.graph.leaf_nodes() if node[0] == "admin"]
    return executor.loader.project_state([*BEFORE, *admin]).apps


def write_old_rows(apps) -> dict:
    """An employee with an account, a lot, a pending and a completed order, a code, an e-mail: as the old code
    would have written them (figures that satisfy the ledger's identities)."""
    get = apps.get_model
    User_, Currency_ = get("users", "User"), get("bonuses", "Currency")
    Account_, Lot_, Entry_, Allocation_ = (get("bonuses", name) for name in ("Account", "Lot", "Entry", "Allocation"))
    Reservation_, IdempotencyKey_ = get("bonuses", "Reservation"), get("bonuses", "IdempotencyKey")
    Category_, Gift_, Order_ = get("bonuses", "Category"), get("bonuses", "Gift"), get("bonuses", "Order")
    ConfirmationCode_, CodeGuard_ = get("bonuses", "ConfirmationCode"), get("bonuses", "CodeGuard")
    OutgoingEmail_ = get("bonuses", "OutgoingEmail")

    at = timezone.now() - timedelta(days=3)
    employee = User_.objects.create(email="old@example.com", full_name="Olga Old", password="!")
    currency = Currency_.objects.get(is_default=True)
    account = Account_.objects.create(
        user=employee,
        currency=currency,
        active=Decimal("50.00"),
        reserved=Decimal("30.00"),
        spent=Decimal("20.00"),
        total_accrued=Decimal("100.00"),
        last_entry_at=at + timedelta(hours=3),
        streak_started_at=at + timedelta(hours=2),
    )
    lot = Lot_.objects.create(account=account, amount=100, remaining=50, accrued_at=at, activates_at=at)

    def entry(kind, amount, balance_after, hours, **fields):
        return Entry_.objects.create(
            account=account,
            user=employee,
            currency=currency,
            kind=kind,
            amount=amount,
            balance_after=balance_after,
            at=at + timedelta(hours=hours),
            actor=employee,
            **fields,
        )

    entry("manual_accrual", 100, 100, 0, lot=lot, comment="Welcome")
    category = Category_.objects.create(name="Cups")
    gift = Gift_.objects.create(category=category, name="Mug", price=10, currency=currency, stock=5)
    orders = []
    for hours, quantity, status in [(1, 3, "pending"), (2, 2, "completed")]:
        moment = at + timedelta(hours=hours)
        order = Order_.objects.create(
            user=employee,
            gift=gift,
            quantity=quantity,
            unit_price=10,
            points=10 * quantity,
            currency=currency,
            status=status,
            created_at=moment,
            completed_at=moment + timedelta(hours=1) if status == "completed" else None,
        )
        reservation = Reservation_.objects.create(
            account=account,
            amount=10 * quantity,
            reference=f"Order #{order.pk:06d}",
            created_at=moment,
            status="captured" if status == "completed" else "held",
            resolved_at=moment + timedelta(hours=1) if status == "completed" else None,
        )
        order.reservation = reservation
        order.save(update_fields=["reservation"])
        held = entry(
            "order_reserved", -10 * quantity, 100 - 30 - (20 if hours == 2 else 0), hours, reservation=reservation
        )
        Allocation_.objects.create(entry=held, lot=lot, amount=-10 * quantity)
        orders.append(order)
    entry("order_spent", -20, 50, 3, reservation=orders[1].reservation)
    IdempotencyKey_.objects.create(
        actor=employee, key="k1", operation="place_order", payload_hash="0" * 64, order=orders[0]
    )
    ConfirmationCode_.objects.create(user=employee, code_hash="!", sent_at=at, expires_at=at + timedelta(minutes=5))
    CodeGuard_.objects.create(user=employee, wrong_entries=1)
    OutgoingEmail_.objects.create(recipient=employee.email, subject="Your order #000001 is placed", body="Hello\n")
    return {"employee": employee.pk, "account": account.pk, "orders": [order.pk for order in orders], "gift": gift.pk}


def counts(models) -> dict[str, int]:
    return {model.__name__: model.objects.count() for model in models}


@pytest.mark.django_db(transaction=True)
def test_a_database_of_the_old_layout_migrates_forward_with_nothing_lost(capsys):
    executor = migrate([*BEFORE, *((app, None) for app in MOVED_APPS)])
    applied = {app for app, _name in executor.loader.applied_migrations}
    assert not applied & set(MOVED_APPS)
    old = old_state_apps(executor)
    # Back then the content types were the bonuses app's (the database's own were moved back).
    OldContentType = old.get_model("contenttypes", "ContentType")
    assert not OldContentType.objects.filter(app_label__in=MOVED_APPS).exists()
    order_type = OldContentType.objects.get_or_create(app_label="bonuses", model="order")[0]
    view_order = old.get_model("auth", "Permission").objects.get_or_create(
        content_type=order_type, codename="view_order", defaults={"name": "Can view order"}
    )[0]
    ids = write_old_rows(old)
    old.get_model("users", "User").objects.get(pk=ids["employee"]).user_permissions.add(view_order)
    old.get_model("admin", "LogEntry").objects.create(
        content_type=order_type,
        object_id=str(ids["orders"][0]),
        object_repr="#1",
        action_flag=2,
        user_id=ids["employee"],
    )
    tables = ["Entry", "Lot", "Allocation", "Reservation", "Account", "IdempotencyKey"]
    shop_tables = ["Category", "Gift", "Order", "ConfirmationCode", "CodeGuard", "OutgoingEmail"]
    before = counts([old.get_model("bonuses", name) for name in tables + shop_tables])

    migrate(MigrationExecutor(connection).loader.graph.leaf_nodes())

    ContentType.objects.clear_cache()
    after = counts([Entry, Lot, Allocation, Reservation, Account, IdempotencyKey])
    after |= counts([Category, Gift, Order, ConfirmationCode, CodeGuard, OutgoingEmail])
    assert after == before
    assert before["Entry"] == 4 and before["Order"] == 2 and before["OutgoingEmail"] == 1
    pending, completed = (Order.objects.get(pk=pk) for pk in ids["orders"])
    assert (pending.status, pending.reservation.status, pending.reservation.amount) == ("pending", "held", 30)
    assert (completed.status, completed.reservation.status, completed.gift_id) == ("completed", "captured", ids["gift"])
    assert pending.number == f"#{pending.pk:06d}" and pending.gift.category.name == "Cups"
    assert IdempotencyKey.objects.get(key="k1").order == pending
    linked = [(reservation.pk, reservation.order.pk) for reservation in Reservation.objects.order_by("pk")]
    assert linked == [(pending.reservation_id, pending.pk), (completed.reservation_id, completed.pk)]
    assert ledger_problems(Account.objects.get(pk=ids["account"])) == []
    call_command("check_ledger")
    assert "The 1 account balances." in capsys.readouterr().out
    # The content types moved with the models: permissions and admin history follow.
    shop_order = ContentType.objects.get_for_model(Order)
    assert (shop_order.app_label, shop_order.model) == ("shop", "order")
    assert not ContentType.objects.filter(app_label="bonuses", model__in=["order", "gift", "outgoingemail"]).exists()
    assert User.objects.get(pk=ids["employee"]).has_perm("shop.view_order")
    assert LogEntry.objects.get().get_edited_object() == pending


def test_the_old_import_path_still_finds_the_moved_models():
    import bonuses.models as old_home

    assert (old_home.Gift, old_home.Order, old_home.CodeGuard) == (Gift, Order, CodeGuard)
    assert (old_home.Category, old_home.ConfirmationCode, old_home.OutgoingEmail) == (
        Category,
        ConfirmationCode,
        OutgoingEmail,
    )
    assert (Order._meta.db_table, OutgoingEmail._meta.db_table) == ("bonuses_order", "bonuses_outgoingemail")
    with pytest.raises(AttributeError):
        old_home.Nothing  # noqa: B018
