"""Issue 9, points 1 to 5: what the product can store and mean.

Amounts beyond the business maxima (per operation, per account) are refused with a message that
names the limit, in the forms, in the services and by the database; the smallest amount, 0.01, is
accepted everywhere; an amount is read as a person types it and nothing looser; dates, lifetimes,
delays and burn-out steps are bounded to 100 years; and every period is counted in calendar days of
the company time zone, also across a day of 23 hours.
"""

from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal
from io import StringIO
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from django.core.management import CommandError, call_command
from django.db import IntegrityError, connection, transaction
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from bonuses import rules, selectors, services
from bonuses.exceptions import (
    AmountAboveMaximum,
    BalanceAboveMaximum,
    InvalidAmount,
    InvalidDates,
    InvalidSettings,
)
from bonuses.models import Account, Allocation, Batch, Currency, Entry, Lot, Reservation
from bonuses.shop import services as shop
from bonuses.shop.models import Category, Gift, Order
from giftshop.outbox.models import OutgoingEmail
from tests.helpers import (
    BULK,
    LOOSE,
    NOT_POSITIVE,
    READ_AS,
    REMEMBERED_REFUSAL,
    WRITE_OFF,
    errors_by_field,
    local,
    post_bulk,
    post_single,
    post_write_off,
    settings_data,
    single_url,
)

pytestmark = pytest.mark.django_db
FIGURES = Account.FIGURES

GIFT_NEW = "/bonuses/gifts/new/"

ABOVE_OPERATION = "The amount is more than 10,000,000, the maximum for one operation."
LIFETIME = "The lifetime must be a whole number of days from 1 to 36,525 (100 years)."
PERIOD = "can be at most 100 years (36,525 days or 1,200 months)."


def post_gift(client, category, currency, **data):
    payload = {"name": "Water bottle", "category": category.pk, "price": "35", "currency": currency.pk, "stock": "1"}
    return client.post(GIFT_NEW, {**payload, "is_active": "on", **data})


@pytest.fixture
def gadgets(db):
    """The category the gift form needs."""
    return Category.objects.create(name="Gadgets")


@pytest.fixture
def colleague(make_user, department):
    return make_user("colleague@example.com", department=department, full_name="Carla Colleague")


# 1. Overflow ---------------------------------------------------------------------------------


def test_the_limits_are_named_once_far_below_the_columns_and_stated_in_the_readme():
    limits = (rules.MAX_OPERATION, rules.MAX_BALANCE, rules.MAX_DAYS)
    assert limits == (Decimal("10000000.00"), Decimal("1000000000.00"), 36_525)
    column = Account._meta.get_field("active")
    capacity = Decimal(10) ** (column.max_digits - column.decimal_places)
    assert capacity > 100 * limits[1]  # sums of many figures stay readable
    readme = (Path(__file__).resolve().parents[2] / "README.md").read_text()
    assert "10,000,000" in readme and "1,000,000,000" in readme and "100 years" in readme


@pytest.mark.parametrize("amount", ["999999999999.99", "999,999,999,999.99", "999 999 999 999.99"])
def test_a_bulk_accrual_of_999_999_999_999_99_is_refused_and_changes_nothing(
    as_admin, employee, colleague, bonuses, ledger_snapshot, amount
):
    before = ledger_snapshot()
    response = post_bulk(as_admin, [employee, colleague], bonuses, amount=amount)
    assert response.status_code == 400
    assert errors_by_field(response) == {"amount": [ABOVE_OPERATION]}
    assert ledger_snapshot() == before


def test_the_services_refuse_an_amount_above_the_maximum_per_operation(
    bonuses, employee, colleague, administrator, ledger_snapshot
):
    services.accrue(user=employee, amount=500, actor=administrator)
    before = ledger_snapshot()
    for call in (
        lambda: services.accrue_many(users=[employee, colleague], amount=Decimal("999999999999.99"), actor=None),
        lambda: services.accrue(user=employee, amount="10000000.01", actor=administrator),
        lambda: services.accrue(user=employee, amount=10**20, actor=administrator),
        lambda: services.accrue(user=employee, amount=Decimal("1E+999999"), actor=administrator),
        lambda: services.write_off(user=employee, amount="10,000,000.01", actor=administrator),
    ):
        with pytest.raises(AmountAboveMaximum) as refused:
            call()
        assert refused.value.message == ABOVE_OPERATION
        assert isinstance(refused.value, InvalidAmount)  # the forms show it next to the amount
    assert ledger_snapshot() == before
    # The maximum itself is allowed.
    services.accrue(user=employee, amount="10,000,000", actor=administrator)
    assert selectors.balance(employee).active == Decimal("10000500.00")


@pytest.mark.parametrize("screen", ["single", "bulk", "write-off", "gift"])
def test_every_amount_field_refuses_more_than_the_maximum_per_operation(
    as_admin, funded, bonuses, gadgets, ledger_snapshot, screen
):
    post = {
        "single": lambda amount: post_single(as_admin, funded, bonuses, amount=amount),
        "bulk": lambda amount: post_bulk(as_admin, [funded], bonuses, amount=amount),
        "write-off": lambda amount: post_write_off(as_admin, funded, bonuses, amount=amount),
        "gift": lambda amount: post_gift(as_admin, gadgets, bonuses, price=amount),
    }[screen]
    before = ledger_snapshot()
    response = post("10,000,000.01")
    assert response.status_code == 400
    assert errors_by_field(response) == {"price" if screen == "gift" else "amount": [ABOVE_OPERATION]}
    assert ledger_snapshot() == before


def credit_up_to(user, total: Decimal, actor) -> None:
    """Accruals of at most the maximum per operation, adding up to `total`."""
    while total > 0:
        part = min(total, rules.MAX_OPERATION)
        services.accrue(user=user, amount=part, actor=actor)
        total -= part


def test_a_single_accrual_past_the_maximum_balance_is_refused_and_changes_nothing(
    as_admin, employee, administrator, bonuses, ledger_snapshot
):
    credit_up_to(employee, Decimal("999999990.00"), administrator)
    before = ledger_snapshot(skip=REMEMBERED_REFUSAL)
    message = (
        "Erik Employee can be credited at most 10.00 more Bonuses: one account may be credited 1,000,000,000 in all."
    )
    with pytest.raises(BalanceAboveMaximum) as refused:
        services.accrue(user=employee, amount="10.01", actor=administrator)
    assert refused.value.message == message
    with pytest.raises(BalanceAboveMaximum):
        services.accrue_many(users=[employee], amount="10.01", actor=administrator)
    response = post_single(as_admin, employee, bonuses, amount="10.01")
    assert response.status_code == 400
    assert errors_by_field(response) == {"__all__": [message]}
    assert ledger_snapshot(skip=REMEMBERED_REFUSAL) == before

    # Up to the maximum exactly is fine, and every figure reads back.
    response = post_single(as_admin, employee, bonuses, amount="10")
    assert response.status_code == 302
    account = Account.objects.get(user=employee)
    assert account.active == account.total_accrued == rules.MAX_BALANCE
    assert selectors.balance(employee).active == rules.MAX_BALANCE
    assert selectors.ledger_problems(account) == []
    call_command("check_ledger", stdout=StringIO())
    assert as_admin.get("/bonuses/accrual/?sort=-balance").status_code == 200
    assert as_admin.get("/bonuses/log/").status_code == 200
    for url in ("/bonuses/log/?export=xlsx", "/bonuses/accrual/?export=xlsx"):
        export = as_admin.get(url)
        assert export.status_code == 200 and b"".join(export.streaming_content)  # read through: closes it
    as_admin.force_login(employee)
    for url in ("/shop/", "/account/balance/"):
        response = as_admin.get(url)
        assert response.status_code == 200 and "1,000,000,000.00" in response.content.decode(), url


def test_a_bulk_accrual_that_would_take_some_accounts_past_the_maximum_is_refused_as_a_whole(
    monkeypatch, as_admin, employee, colleague, make_user, administrator, bonuses, ledger_snapshot
):
    """The check is made for the whole batch at once; the message says how many and who."""
    monkeypatch.setattr(rules, "MAX_BALANCE", Decimal("1000.00"))
    third = make_user(full_name="Thea Third")
    services.accrue(user=employee, amount=900, actor=administrator)
    services.accrue(user=third, amount=801, actor=administrator)
    services.accrue(user=colleague, amount=800, actor=administrator)
    before = ledger_snapshot(skip=REMEMBERED_REFUSAL)
    message = (
        "2 employees would pass the 1,000 Bonuses one account may be credited in all (Erik Employee, Thea Third); "
        "nothing was accrued."
    )
    with pytest.raises(BalanceAboveMaximum) as refused:
        services.accrue_many(users=[employee, colleague, third], amount=200, actor=administrator)
    assert refused.value.message == message
    response = post_bulk(as_admin, [employee, colleague, third], bonuses, amount="200")
    assert response.status_code == 400
    assert errors_by_field(response) == {"__all__": [message]}
    assert ledger_snapshot(skip=REMEMBERED_REFUSAL) == before
    services.accrue_many(users=[employee, colleague, third], amount=100, actor=administrator)
    assert selectors.balance(employee).total_accrued == Decimal("1000.00")


def test_the_maximum_balance_counts_every_point_ever_credited_written_off_ones_too(
    monkeypatch, employee, administrator, bonuses, ledger_snapshot
):
    """`written off` is not part of `total accrued`: only the credits in all bound both."""
    monkeypatch.setattr(rules, "MAX_BALANCE", Decimal("1000.00"))
    services.accrue(user=employee, amount=600, actor=administrator)
    services.write_off(user=employee, amount=600, actor=administrator)
    before = ledger_snapshot()
    with pytest.raises(BalanceAboveMaximum, match="at most 400.00 more"):
        services.accrue(user=employee, amount="400.01", actor=administrator)
    assert ledger_snapshot() == before


def test_the_balance_check_of_a_bulk_accrual_costs_the_same_queries_for_few_and_many(bonuses, make_user, administrator):
    few = [make_user(full_name=f"Few {n}") for n in range(3)]
    many = [make_user(full_name=f"Many {n}") for n in range(40)]
    counts = []
    for people in (few, many, few, many):
        with CaptureQueriesContext(connection) as queries:
            services.accrue_many(users=people, amount=5, actor=administrator)
        counts.append(len(queries))
    assert counts[0] == counts[1] and counts[2] == counts[3], counts


def ledger_rows(bonuses, employee, administrator):
    """One row of each table with a stored figure."""
    services.accrue_many(users=[employee], amount=300, actor=administrator)
    category = Category.objects.create(name="Gadgets")
    gift = Gift.objects.create(name="Mug", category=category, price=10, currency=bonuses)
    order = shop.place_order(user=employee, gift=gift, quantity=2)
    return gift, order


UPDATES = [
    *((Account, name) for name in FIGURES),
    (Lot, "amount"),
    (Lot, "remaining"),
    (Batch, "amount"),
    (Gift, "price"),
    (Order, "unit_price"),
    (Order, "points"),
]


@pytest.mark.parametrize(("model", "name"), UPDATES, ids=[f"{m.__name__}.{n}" for m, n in UPDATES])
def test_the_database_refuses_a_stored_figure_beyond_the_maximum(bonuses, employee, administrator, model, name):
    ledger_rows(bonuses, employee, administrator)
    with pytest.raises(IntegrityError), transaction.atomic():
        model.objects.update(**{name: rules.MAX_BALANCE + Decimal("0.01")})
    if model is not Lot:  # a lot's remaining stays within its amount
        model.objects.update(**{name: rules.MAX_BALANCE})  # the maximum itself fits


def test_the_database_refuses_a_reservation_beyond_the_maximum(bonuses, employee, administrator):
    _gift, order = ledger_rows(bonuses, employee, administrator)
    reservation = Reservation.objects.filter(pk=order.reservation_id)
    with pytest.raises(IntegrityError), transaction.atomic():
        reservation.update(amount=rules.MAX_BALANCE + Decimal("0.01"))


@pytest.mark.parametrize(
    ("column", "value"),
    [("amount", "1000000000.01"), ("amount", "-1000000000.01"), ("balance_after", "1000000000.01")],
)
def test_the_database_refuses_a_log_entry_beyond_the_maximum_even_inserted_raw(
    bonuses, employee, administrator, column, value
):
    ledger_rows(bonuses, employee, administrator)
    entry = Entry.objects.earliest("pk")
    values = {"amount": Decimal("5.00"), "balance_after": Decimal("5.00"), column: Decimal(value)}
    with pytest.raises(IntegrityError), transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(
            f"INSERT INTO {Entry._meta.db_table} (account_id, user_id, currency_id, kind, amount, balance_after,"
            " at, created_at, comment) VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s)",
            [entry.account_id, entry.user_id, entry.currency_id, "manual_accrual", values["amount"]]
            + [values["balance_after"], entry.at, entry.created_at, ""],
        )


@pytest.mark.parametrize("value", ["1000000000.01", "-1000000000.01"])
def test_the_database_refuses_an_allocation_beyond_the_maximum_even_inserted_raw(
    bonuses, employee, administrator, value
):
    ledger_rows(bonuses, employee, administrator)
    allocation = Allocation.objects.earliest("pk")
    with pytest.raises(IntegrityError), transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(
            f"INSERT INTO {Allocation._meta.db_table} (entry_id, lot_id, amount) VALUES (%s, %s, %s)",
            [allocation.entry_id, allocation.lot_id, Decimal(value)],
        )


def test_an_order_beyond_the_maximum_balance_is_refused_with_a_message(bonuses, employee, administrator):
    services.accrue(user=employee, amount=500, actor=administrator)
    category = Category.objects.create(name="Gadgets")
    gift = Gift.objects.create(name="Yacht", category=category, price=rules.MAX_OPERATION, currency=bonuses)
    with pytest.raises(InvalidAmount, match="1,000,000,000"):
        shop.place_order(user=employee, gift=gift, quantity=101)
    assert not Order.objects.exists()
    assert selectors.balance(employee).active == 500


def write_unchecked(table: str, column: str, value: str, pk: int) -> None:
    """Store what the constraints refuse, as a database made before them (or edited by hand) may hold."""
    with connection.cursor() as cursor:
        if connection.vendor == "sqlite":
            cursor.execute("PRAGMA ignore_check_constraints = ON")
            cursor.execute(f"UPDATE {table} SET {column} = {value} WHERE id = %s", [pk])
            cursor.execute("PRAGMA ignore_check_constraints = OFF")
        else:  # the column itself holds at most 999,999,999,999.99; the test's transaction restores the checks
            cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")  # no pending foreign key checks before ALTER TABLE
            cursor.execute(f"SELECT conname FROM pg_constraint WHERE conrelid = '{table}'::regclass AND contype = 'c'")
            for (name,) in cursor.fetchall():
                cursor.execute(f'ALTER TABLE {table} DROP CONSTRAINT "{name}"')
            cursor.execute(f"ALTER TABLE {table} DISABLE TRIGGER USER")  # the log's rows are immutable
            cursor.execute(f"UPDATE {table} SET {column} = 999999999999.99 WHERE id = %s", [pk])


ODD_ROWS = {
    "account active": (Account, "active", lambda user: Account.objects.get(user=user).pk),
    "account total accrued": (Account, "total_accrued", lambda user: Account.objects.get(user=user).pk),
    "lot remaining": (Lot, "remaining", lambda user: Lot.objects.get(account__user=user).pk),
    "entry balance after": (Entry, "balance_after", lambda user: Entry.objects.get(user=user).pk),
}


@pytest.mark.parametrize(("model", "column", "row"), ODD_ROWS.values(), ids=ODD_ROWS.keys())
def test_check_ledger_reports_figures_it_cannot_read_and_never_crashes(
    bonuses, employee, colleague, administrator, model, column, row
):
    services.accrue(user=employee, amount=10, actor=administrator)
    services.accrue(user=colleague, amount=10, actor=administrator)
    write_unchecked(model._meta.db_table, column, "1999999999999.98", row(employee))
    out = StringIO()
    with pytest.raises(CommandError, match="1 of 2 accounts fail the ledger identities."):
        call_command("check_ledger", stdout=out)
    report = out.getvalue()
    assert "employee@example.com [Bonuses]" in report
    assert "colleague@example.com" not in report
    stored = "1999999999999.98" if connection.vendor == "sqlite" else "999999999999.99"
    assert stored in report  # the figure as stored


# 2. The smallest amount -------------------------------------------------------------------


def test_the_smallest_amount_is_accepted_in_every_amount_field(as_admin, employee, colleague, bonuses, gadgets):
    response = post_single(as_admin, employee, bonuses, amount="0.01")
    assert response.status_code == 302
    assert selectors.balance(employee).active == Decimal("0.01")

    response = post_bulk(as_admin, [employee, colleague], bonuses, amount="0.01")
    assert response.status_code == 302
    assert Batch.objects.get().amount == Decimal("0.01")
    assert selectors.balance(colleague).active == Decimal("0.01")

    post_single(as_admin, employee, bonuses, amount="10")
    response = post_write_off(as_admin, employee, bonuses, amount="10.01")  # leaves 0.01
    assert response.status_code == 302
    assert selectors.balance(employee).active == Decimal("0.01")
    response = post_write_off(as_admin, employee, bonuses, amount="0.01")  # the leftover
    assert response.status_code == 302
    assert selectors.balance(employee).active == 0

    response = post_gift(as_admin, gadgets, bonuses, price="0.01")
    assert response.status_code == 302
    assert Gift.objects.get().price == Decimal("0.01")


def test_the_services_accept_the_smallest_amount_in_every_form(bonuses, employee, administrator):
    for amount in (Decimal("0.01"), "0.01", 0.01, "0,01"):
        services.accrue(user=employee, amount=amount, actor=administrator)
    services.write_off(user=employee, amount="0.04", actor=administrator)
    assert selectors.balance(employee).written_off == Decimal("0.04")


# 3. Loose numbers -------------------------------------------------------------------------


@pytest.mark.parametrize("screen", ["single", "bulk", "write-off", "gift"])
@pytest.mark.parametrize(("text", "message"), [*LOOSE.values(), ("-5", NOT_POSITIVE), ("0", NOT_POSITIVE)])
def test_every_amount_field_refuses_loose_numbers_next_to_the_field(
    as_admin, funded, bonuses, gadgets, ledger_snapshot, screen, text, message
):
    before = ledger_snapshot()
    response = {
        "single": lambda: post_single(as_admin, funded, bonuses, amount=text),
        "bulk": lambda: post_bulk(as_admin, [funded], bonuses, amount=text),
        "write-off": lambda: post_write_off(as_admin, funded, bonuses, amount=text),
        "gift": lambda: post_gift(as_admin, gadgets, bonuses, price=text),
    }[screen]()
    assert response.status_code == 400
    assert errors_by_field(response) == {"price" if screen == "gift" else "amount": [message]}
    assert ledger_snapshot() == before


@pytest.mark.parametrize(("text", "value"), [(t, v) for t, v in READ_AS.items() if not v.startswith("-")])
def test_the_accrual_form_accepts_what_a_person_types(as_admin, employee, bonuses, text, value):
    response = post_single(as_admin, employee, bonuses, amount=text)
    assert response.status_code == 302
    assert Entry.objects.get().amount == Decimal(value)


def test_every_screen_reads_thousands_separators(as_admin, employee, colleague, bonuses, gadgets):
    assert post_single(as_admin, employee, bonuses, amount="1 000").status_code == 302
    assert post_bulk(as_admin, [employee, colleague], bonuses, amount="2,000.50").status_code == 302
    assert post_write_off(as_admin, employee, bonuses, amount="1\u202f500,5").status_code == 400  # unclear
    assert post_write_off(as_admin, employee, bonuses, amount="1\u202f500.5").status_code == 302
    assert post_gift(as_admin, gadgets, bonuses, price="1,250").status_code == 302
    assert selectors.balance(employee).active == Decimal("1500.00")
    assert Gift.objects.get().price == Decimal("1250.00")


def test_the_services_refuse_loose_text_as_the_forms_do(bonuses, employee, administrator, ledger_snapshot):
    services.accrue(user=employee, amount=5000, actor=administrator)
    before = ledger_snapshot()
    for text, message in LOOSE.values():
        for call in (
            lambda text=text: services.accrue(user=employee, amount=text, actor=administrator),
            lambda text=text: services.accrue_many(users=[employee], amount=text, actor=administrator),
            lambda text=text: services.write_off(user=employee, amount=text, actor=administrator),
        ):
            with pytest.raises(InvalidAmount) as refused:
                call()
            assert refused.value.message == message, text
    for amount in (True, float("nan"), float("inf"), Decimal("NaN"), Decimal("-Infinity"), None, [1]):
        with pytest.raises(InvalidAmount):
            services.accrue(user=employee, amount=amount, actor=administrator)
    assert ledger_snapshot() == before
    services.accrue(user=employee, amount="1 000", actor=administrator)
    services.write_off(user=employee, amount="1,000.00", actor=administrator)
    assert selectors.balance(employee).active == 5000


def test_every_amount_input_is_a_text_input_for_decimals(as_admin, employee, bonuses):
    pages = [
        as_admin.get(single_url(employee), {"currency": bonuses.pk}),
        as_admin.get(BULK, {"employees": employee.pk, "currency": bonuses.pk}),
        as_admin.get(WRITE_OFF),
        as_admin.get(GIFT_NEW),
    ]
    for response, name in zip(pages, ["amount", "amount", "amount", "price"], strict=True):
        assert response.status_code == 200
        field = response.context["form"][name]
        html = str(field)
        assert 'type="text"' in html and 'inputmode="decimal"' in html and f'name="{name}"' in html, html
        assert 'data-max-amount="10000000.00"' in html


def test_a_whole_number_currency_asks_for_digits_only(as_admin, employee, whole):
    html = str(as_admin.get(single_url(employee), {"currency": whole.pk}).context["form"]["amount"])
    assert 'inputmode="numeric"' in html and 'data-whole-numbers="1"' in html


# 4. Calendar limits ------------------------------------------------------------------------

FAR = date(9999, 12, 31)


def today() -> date:
    return rules.local_date(timezone.now())


def in_100_years() -> date:
    return rules.add_period(today(), 100, "years")


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("expires_on", "9999-12-31", "The expiry date can be at most 100 years ahead: {last} at the latest."),
        ("expires_on", "+1", "The expiry date can be at most 100 years ahead: {last} at the latest."),
        ("activates_on", "9999-12-31", "The activation date can be at most 100 years ahead: {last} at the latest."),
        ("activates_on", "+1", "The activation date can be at most 100 years ahead: {last} at the latest."),
        ("lifetime_days", "99999999", LIFETIME),
        ("lifetime_days", "36526", LIFETIME),
        ("lifetime_days", "0", LIFETIME),
        ("lifetime_days", "99999999999999999999999", LIFETIME),
    ],
)
@pytest.mark.parametrize("screen", ["single", "bulk"])
def test_the_accrual_forms_bound_dates_and_lifetimes_to_100_years(
    as_admin, employee, bonuses, ledger_snapshot, screen, field, value, message
):
    last = in_100_years()
    if value == "+1":
        value = (last + timedelta(days=1)).isoformat()
    post = post_single if screen == "single" else lambda c, u, cur, **d: post_bulk(c, [u], cur, **d)
    before = ledger_snapshot()
    response = post(as_admin, employee, bonuses, **{field: value})
    assert response.status_code == 400
    assert errors_by_field(response) == {field: [message.format(last=last.isoformat())]}
    assert ledger_snapshot() == before


def test_the_accrual_form_accepts_dates_and_lifetimes_up_to_100_years(as_admin, employee, bonuses):
    last = in_100_years()
    assert post_single(as_admin, employee, bonuses, expires_on=last.isoformat()).status_code == 302
    assert post_single(as_admin, employee, bonuses, lifetime_days="36525").status_code == 302
    assert post_single(as_admin, employee, bonuses, activates_on=last.isoformat()).status_code == 302
    lots = Lot.objects.order_by("pk")
    assert rules.last_usable_day(lots[0].expires_at) == last
    assert rules.last_usable_day(lots[1].expires_at) == today() + timedelta(days=36525)
    assert rules.local_date(lots[2].activates_at) == last


def test_the_services_bound_dates_and_lifetimes_to_100_years(bonuses, employee, administrator, ledger_snapshot):
    at = local(3, 1)
    last = rules.add_period(rules.local_date(at), 100, "years")
    before = ledger_snapshot()
    refusals = {
        "expires_on": (FAR, f"The expiry date can be at most 100 years ahead: {last} at the latest."),
        "activates_on": (FAR, f"The activation date can be at most 100 years ahead: {last} at the latest."),
        "lifetime_days": (99_999_999, LIFETIME),
    }
    for name, (value, message) in refusals.items():
        for call in (services.accrue, lambda **kw: services.accrue_many(users=[kw.pop("user")], **kw)):
            with pytest.raises(InvalidDates) as refused:
                call(user=employee, amount=10, actor=administrator, at=at, **{name: value})
            assert refused.value.message == message
    for lifetime in (0, 36_526, True, "5"):
        with pytest.raises(InvalidDates, match="from 1 to 36,525"):
            services.accrue(user=employee, amount=10, actor=administrator, at=at, lifetime_days=lifetime)
    assert ledger_snapshot() == before
    services.accrue(user=employee, amount=10, actor=administrator, at=at, expires_on=last, activates_on=last)
    services.accrue(user=employee, amount=10, actor=administrator, at=at, lifetime_days=36_525)


SETTINGS_REFUSALS = {
    "activation delay": (
        {"activation_delay_days": "99999999999"},
        "activation_delay_days",
        "The activation delay can be at most 36,525 days (100 years).",
    ),
    "activation delay just over": (
        {"activation_delay_days": "36526"},
        "activation_delay_days",
        "The activation delay can be at most 36,525 days (100 years).",
    ),
    "lifetime of 100,000 years": (
        {"burn_policy": "from_crediting", "lifetime_value": "100000", "lifetime_unit": "years"},
        "lifetime_value",
        f"A lifetime {PERIOD}",
    ),
    "lifetime of 101 years": (
        {"burn_policy": "from_crediting", "lifetime_value": "101", "lifetime_unit": "years"},
        "lifetime_value",
        f"A lifetime {PERIOD}",
    ),
    "lifetime of 1,201 months": (
        {"burn_policy": "from_crediting", "lifetime_value": "1201", "lifetime_unit": "months"},
        "lifetime_value",
        f"A lifetime {PERIOD}",
    ),
    "lifetime of 36,526 days": (
        {"burn_policy": "from_crediting", "lifetime_value": "36526", "lifetime_unit": "days"},
        "lifetime_value",
        f"A lifetime {PERIOD}",
    ),
    "expiry reminder": (
        {"expiry_reminder_days": "99999999"},
        "expiry_reminder_days",
        "The reminder can be at most 36,525 days (100 years) before.",
    ),
}


@pytest.mark.parametrize(("changes", "field", "message"), SETTINGS_REFUSALS.values(), ids=SETTINGS_REFUSALS.keys())
def test_the_currency_settings_screen_bounds_delays_lifetimes_and_reminders(
    as_admin, bonuses, ledger_snapshot, changes, field, message
):
    before = ledger_snapshot()
    response = as_admin.post(f"/bonuses/settings/currency/{bonuses.pk}/", settings_data(bonuses, **changes))
    assert response.status_code == 400
    assert errors_by_field(response) == {field: [message]}
    assert ledger_snapshot() == before


def test_the_currency_settings_service_bounds_every_period(bonuses, ledger_snapshot):
    before = ledger_snapshot()
    refusals = [
        ({"activation_delay_days": 99_999_999_999}, "The activation delay can be at most 36,525 days (100 years)."),
        (
            {"burn_policy": "from_crediting", "lifetime_value": 100_000, "lifetime_unit": "years"},
            f"A lifetime {PERIOD}",
        ),
        ({"burn_policy": "from_crediting", "lifetime_value": 1_201, "lifetime_unit": "months"}, f"A lifetime {PERIOD}"),
        ({"expiry_reminder_days": 36_526}, "The reminder can be at most 36,525 days (100 years) before."),
        (
            {"burn_policy": "from_last_purchase", "burn_steps": [{"period": 100_000, "unit": "years", "percent": 100}]},
            f"Step 1: the period {PERIOD}",
        ),
        (
            {
                "burn_policy": "from_last_purchase",
                "burn_steps": [
                    {"period": 6, "unit": "months", "percent": 50},
                    {"period": 36_526, "unit": "days", "percent": 100},
                ],
            },
            f"Step 2: the period {PERIOD}",
        ),
        (
            {"burn_policy": "from_last_purchase", "burn_steps": [{"period": 10**30, "unit": "days", "percent": 100}]},
            f"Step 1: the period {PERIOD}",
        ),
    ]
    for changes, message in refusals:
        with pytest.raises(InvalidSettings) as refused:
            services.update_currency_settings(bonuses, **changes)
        assert refused.value.message == message
    assert ledger_snapshot() == before
    # 100 years in each unit is allowed.
    services.update_currency_settings(bonuses, activation_delay_days=36_525, expiry_reminder_days=36_525)
    for value, unit in ((36_525, "days"), (1_200, "months"), (100, "years")):
        services.update_currency_settings(
            bonuses, burn_policy="from_crediting", lifetime_value=value, lifetime_unit=unit
        )
    other = Currency.objects.create(name="Stars")
    steps = [{"period": 99, "unit": "years", "percent": 50}, {"period": 36_525, "unit": "days", "percent": 100}]
    services.update_currency_settings(other, burn_policy="from_last_purchase", burn_steps=steps)


@pytest.mark.parametrize(
    ("stored", "message"),
    [
        ({"activation_delay_days": 99_999_999}, "The activation delay of Bonuses is more than 100 years"),
        (
            {"burn_policy": "from_crediting", "lifetime_value": 100_000, "lifetime_unit": "years"},
            "The lifetime of Bonuses is more than 100 years",
        ),
        (
            {"burn_policy": "from_crediting", "lifetime_value": 1_201, "lifetime_unit": "months"},
            "The lifetime of Bonuses is more than 100 years",
        ),
    ],
)
def test_a_setting_stored_out_of_range_refuses_accruals_with_a_pointer_to_the_settings(
    as_admin, bonuses, employee, administrator, ledger_snapshot, stored, message
):
    """An older version accepted these: every accrual in the currency was a 500 until corrected."""
    Currency.objects.filter(pk=bonuses.pk).update(**stored)
    message += ": correct it in the currency's settings."
    before = ledger_snapshot(skip=REMEMBERED_REFUSAL)
    with pytest.raises(InvalidSettings) as refused:
        services.accrue(user=employee, amount=10, actor=administrator)
    assert refused.value.message == message
    for response in (post_single(as_admin, employee, bonuses), post_bulk(as_admin, [employee], bonuses)):
        assert response.status_code == 400
        assert errors_by_field(response) == {"__all__": [message]}
    assert ledger_snapshot(skip=REMEMBERED_REFUSAL) == before


def test_burn_steps_stored_out_of_range_never_break_an_operation_a_page_or_the_daily_run(
    client, bonuses, employee, administrator
):
    """A step of 100,000 years (stored by an older version) ends beyond the calendar: it is never due."""
    services.accrue(user=employee, amount=10, actor=administrator, at=local(3, 1))
    Currency.objects.filter(pk=bonuses.pk).update(
        burn_policy="from_last_purchase", burn_steps=[{"period": 100_000, "unit": "years", "percent": 100}]
    )
    services.accrue(user=employee, amount=5, actor=administrator, at=local(3, 2))
    services.accrue_many(users=[employee], amount=5, actor=administrator, at=local(3, 2))
    assert selectors.balance(employee, at=local(3, 3)).active == 20
    services.settle(at=local(3, 3))
    call_command("bonuses_daily", stdout=StringIO())
    assert not Entry.objects.filter(kind=Entry.Kind.BURNED).exists()
    client.force_login(employee)
    assert client.get("/account/balance/").status_code == 200


def test_a_reminder_setting_beyond_the_calendar_reminds_of_every_expiring_lot(bonuses, employee, administrator):
    services.accrue(user=employee, amount=10, actor=administrator, at=local(3, 1), expires_on=date(2100, 1, 1))
    Currency.objects.filter(pk=bonuses.pk).update(expiry_reminder_days=99_999_999)
    assert services.queue_expiry_reminders(at=local(3, 2)) == (1, 1)
    assert OutgoingEmail.objects.filter(recipient=employee.email).count() == 2  # points received, reminder


# 5. A day that has 23 hours -----------------------------------------------------------------

ZONES = ["Europe/Berlin", "America/New_York"]
# The last day before each zone's spring clock change in 2025 (the change is early the next morning).
SPRING = {"Europe/Berlin": date(2025, 3, 29), "America/New_York": date(2025, 3, 8)}


def at_local(zone: str, day: date, hour: int, minute: int = 0) -> datetime:
    return datetime.combine(day, time(hour, minute), tzinfo=ZoneInfo(zone))


def figures(account) -> dict:
    return {name: getattr(account, name) for name in FIGURES}


@pytest.mark.parametrize("zone", ZONES)
def test_a_burn_out_due_after_the_spring_clock_change_is_posted_by_the_daily_run(
    settings, zone, bonuses, employee, administrator
):
    """The issue's example: 5 days from 29 March 23:30 in Berlin are due at 4 April 00:00, 22:00 UTC."""
    settings.TIME_ZONE = zone
    steps = [{"period": 5, "unit": "days", "percent": 50}]
    services.update_currency_settings(bonuses, burn_policy="from_last_purchase", burn_steps=steps)
    first = SPRING[zone]
    services.accrue(user=employee, amount=100, actor=administrator, at=at_local(zone, first, 23, 30))
    due = at_local(zone, first + timedelta(days=6), 0, 0)
    if zone == "Europe/Berlin":
        assert due == datetime(2025, 4, 3, 22, 0, tzinfo=UTC)

    services.settle(at=(due - timedelta(minutes=10)).astimezone(UTC))
    assert not Entry.objects.filter(kind=Entry.Kind.BURNED).exists()
    moment = (due + timedelta(minutes=10)).astimezone(UTC)  # what bonuses_daily passes without --date
    result = services.settle(at=moment)

    burn = Entry.objects.get(kind=Entry.Kind.BURNED)
    assert (burn.amount, burn.at, burn.balance_after) == (-50, due, 50)
    assert result.counts[Entry.Kind.BURNED] == 1
    account = Account.objects.get(user=employee)
    balance = selectors.balance(employee, at=moment)
    assert figures(account) == {name: getattr(balance, name) for name in FIGURES}
    assert selectors.ledger_problems(account) == []


@pytest.mark.parametrize("zone", ZONES)
def test_a_bulk_accrual_after_the_spring_clock_change_burns_first(
    settings, zone, bonuses, employee, colleague, administrator
):
    settings.TIME_ZONE = zone
    steps = [{"period": 5, "unit": "days", "percent": 50}]
    services.update_currency_settings(bonuses, burn_policy="from_last_purchase", burn_steps=steps)
    first = SPRING[zone]
    services.accrue(user=employee, amount=100, actor=administrator, at=at_local(zone, first, 23, 30))
    moment = (at_local(zone, first + timedelta(days=6), 0, 10)).astimezone(UTC)
    services.accrue_many(users=[employee, colleague], amount=100, actor=administrator, at=moment)
    assert Entry.objects.get(kind=Entry.Kind.BURNED).amount == -50  # half of the 100 held before the accrual
    assert Account.objects.get(user=employee).active == 150
    assert selectors.balance(employee, at=moment).active == 150


STEPS = [
    {"period": 1, "unit": "days", "percent": 10},
    {"period": 5, "unit": "days", "percent": 10},
    {"period": 1, "unit": "months", "percent": 10},
    {"period": 3, "unit": "months", "percent": 10},
    {"period": 1, "unit": "years", "percent": 10},
]


@pytest.mark.parametrize("zone", ZONES)
def test_the_burn_candidate_cutoff_says_exactly_what_burn_due_at_says(settings, zone):
    """Over a year of moments (both clock changes, month ends, a leap day), with streaks around each cutoff."""
    settings.TIME_ZONE = zone
    tz = ZoneInfo(zone)
    checked = 0
    for offset in range(430):
        day = date(2024, 2, 20) + timedelta(days=offset)
        for hour, minute in ((0, 0), (0, 10), (1, 30), (23, 59)):
            at = datetime.combine(day, time(hour, minute), tzinfo=tz).astimezone(UTC)
            for step in STEPS:
                cutoff = rules.burn_cutoff(step, at).astimezone(UTC)
                starts = [cutoff, cutoff - timedelta(microseconds=1)]
                starts += [cutoff + timedelta(hours=hours) for hours in (-49, -25, -24, -23, -1, 1, 23, 24, 25, 49)]
                for start in starts:
                    assert (rules.burn_due_at(start, step) <= at) == (start < cutoff), (at, step, start)
                    checked += 1
    assert checked == 430 * 4 * len(STEPS) * 12


@pytest.mark.parametrize("zone", ZONES)
def test_every_period_across_the_spring_clock_change_is_counted_in_calendar_days(
    settings, zone, bonuses, employee, administrator
):
    """A lifetime, an activation delay and an expiry date that span the change end at 00:00 local."""
    settings.TIME_ZONE = zone
    first = SPRING[zone]
    accrued = at_local(zone, first, 23, 30)
    services.accrue(user=employee, amount=10, actor=administrator, at=accrued, lifetime_days=5)
    services.accrue(user=employee, amount=20, actor=administrator, at=accrued, expires_on=first + timedelta(days=5))
    services.update_currency_settings(bonuses, activation_delay_days=6)
    services.accrue(user=employee, amount=40, actor=administrator, at=accrued)
    midnight = at_local(zone, first + timedelta(days=6), 0, 0)
    assert selectors.balance(employee, at=midnight - timedelta(seconds=1)).active == 30
    services.settle(at=(midnight + timedelta(minutes=10)).astimezone(UTC))
    assert sorted(Entry.objects.filter(at=midnight).values_list("kind", "amount")) == [
        ("activated", 40),
        ("expired", -20),
        ("expired", -10),
    ]
    assert Account.objects.get(user=employee).active == 40


@pytest.mark.parametrize("zone", ZONES)
def test_expiry_reminders_across_the_clock_change_start_at_00_00_local(
    settings, zone, bonuses, employee, administrator
):
    settings.TIME_ZONE = zone
    first = SPRING[zone]
    services.update_currency_settings(bonuses, expiry_reminder_days=4)
    last_day = first + timedelta(days=4)  # due from 00:00 of `first`, the day before the change
    services.accrue(
        user=employee,
        amount=10,
        actor=administrator,
        at=at_local(zone, first - timedelta(days=7), 9),
        expires_on=last_day,
    )
    due = at_local(zone, first, 0, 0)
    assert services.queue_expiry_reminders(at=(due - timedelta(minutes=30)).astimezone(UTC)) == (0, 0)
    assert services.queue_expiry_reminders(at=(due + timedelta(minutes=10)).astimezone(UTC)) == (1, 1)


def test_a_period_filter_up_to_the_last_day_of_the_calendar_is_not_a_server_error(
    as_admin, employee, administrator, bonuses
):
    services.accrue(user=employee, amount=10, actor=administrator)
    for query in ("period_to=9999-12-31", "period_from=0001-01-01&period_to=9999-12-31"):
        response = as_admin.get(f"/bonuses/log/?{query}")
        assert response.status_code == 200
        assert [row.record.amount for row in response.context["table"].page.object_list] == [10]
    assert as_admin.get("/bonuses/orders/?period_to=9999-12-31").status_code == 200


def test_the_daily_run_refuses_a_date_before_anything_could_be_due(bonuses):
    for day in ("0001-01-01", (today() - timedelta(days=36_600)).isoformat()):
        with pytest.raises(CommandError, match="more than 100 years ago"):
            call_command("bonuses_daily", date=day, stdout=StringIO())
    call_command("bonuses_daily", date=(today() - timedelta(days=36_000)).isoformat(), stdout=StringIO())
