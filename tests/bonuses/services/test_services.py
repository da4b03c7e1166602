from decimal import Decimal

import pytest
from django.core.management import CommandError, call_command
from django.db import IntegrityError, connection, transaction
from django.db.models import Sum

from bonuses import rules, selectors, services
from bonuses.exceptions import (
    AccountBlocked,
    CommentTooLong,
    IdempotencyConflict,
    InactiveEmployee,
    InsufficientBalance,
    InvalidAmount,
    InvalidDates,
    InvalidSettings,
    NoAccount,
    NoEmployees,
    OperationInPast,
    ReservationResolved,
)
from bonuses.models import Account, Allocation, Batch, Currency, Entry, IdempotencyKey, Lot, Reservation
from tests.helpers import day, local

pytestmark = pytest.mark.django_db


def active(user, at, currency=None):
    return selectors.balance(user, currency, at=at).active


# Day boundaries ----------------------------------------------------------------------------


@pytest.mark.parametrize("zone", ["America/New_York", "Asia/Tokyo"])
def test_lifetime_counts_calendar_days_in_the_company_time_zone(settings, zone, bonuses, employee, administrator):
    settings.TIME_ZONE = zone
    services.accrue(user=employee, amount=100, actor=administrator, lifetime_days=3, at=local(3, 1, 8))
    lot = Lot.objects.get()
    assert rules.local_date(lot.expires_at) == day(3, 5) and rules.local_date(
        lot.expires_at - lot.expires_at.resolution
    ) == day(3, 4)
    assert active(employee, local(3, 4, 23, 59, 59)) == 100  # usable through the 4th
    assert active(employee, local(3, 5, 0, 0, 0)) == 0  # gone on the 5th
    services.write_off(user=employee, amount=1, actor=administrator, at=local(3, 4, 23, 59, 59))
    with pytest.raises(InsufficientBalance):
        services.write_off(user=employee, amount=1, actor=administrator, at=local(3, 5, 0, 0, 0))
    assert not Entry.objects.filter(kind=Entry.Kind.EXPIRED).exists()  # the refusal left nothing, not even that
    services.settle(at=local(3, 5, 0, 0, 0))
    entry = Entry.objects.get(kind=Entry.Kind.EXPIRED)
    assert entry.amount == -99 and entry.at == local(3, 5, 0, 0, 0)


def test_activation_date_and_delay_start_at_midnight(settings, bonuses, employee, administrator):
    settings.TIME_ZONE = "America/New_York"
    services.accrue(user=employee, amount=50, actor=administrator, activates_on=day(3, 15), at=local(3, 3))
    services.update_currency_settings(bonuses, activation_delay_days=2)
    services.accrue(user=employee, amount=7, actor=administrator, at=local(3, 3, 23, 30))
    b = selectors.balance(employee, at=local(3, 4, 23, 59, 59))
    assert (b.active, b.non_activated) == (0, 57)
    assert selectors.balance(employee, at=local(3, 5)).active == 7  # D+2 from 00:00
    assert active(employee, local(3, 14, 23, 59, 59)) == 7
    assert active(employee, local(3, 15, 0, 0, 0)) == 57
    services.settle(at=local(3, 15))
    assert [(e.kind, e.amount, e.at) for e in Entry.objects.filter(kind="activated").order_by("at")] == [
        ("activated", 7, local(3, 5, 0, 0, 0)),
        ("activated", 50, local(3, 15, 0, 0, 0)),
    ]


def test_expiry_date_means_usable_through_that_day(bonuses, employee, administrator):
    services.accrue(user=employee, amount=30, actor=administrator, expires_on=day(3, 10), at=local(3, 1))
    services.accrue(user=employee, amount=20, actor=administrator, expires_on=day(3, 12), at=local(3, 1))
    b = selectors.balance(employee, at=local(3, 2))
    assert (b.next_expiry_on, b.next_expiry_amount) == (day(3, 10), 30)
    b = selectors.balance(employee, at=local(3, 11))
    assert (b.active, b.expired, b.next_expiry_on, b.next_expiry_amount) == (20, 30, day(3, 12), 20)


def test_lifetime_from_the_date_of_crediting_applies_to_later_lots_only(bonuses, employee, administrator):
    services.update_currency_settings(bonuses, burn_policy="from_crediting", lifetime_value=1, lifetime_unit="months")
    services.accrue(user=employee, amount=10, actor=administrator, at=local(1, 31))
    services.update_currency_settings(bonuses, lifetime_value=2)
    services.accrue(user=employee, amount=5, actor=administrator, at=local(1, 31))
    first, second = Lot.objects.order_by("pk")
    assert rules.last_usable_day(first.expires_at) == day(2, 28)  # a month from 31 January
    assert rules.last_usable_day(second.expires_at) == day(3, 31)
    with pytest.raises(InvalidSettings, match="cannot change"):
        services.update_currency_settings(bonuses, burn_policy="never")  # the type is fixed once there are lots
    bonuses.refresh_from_db()
    assert bonuses.burn_policy == "from_crediting"


def test_invalid_dates_are_refused_and_change_nothing(bonuses, employee, administrator, ledger_snapshot):
    before = ledger_snapshot()
    for options in (
        {"expires_on": day(2, 28)},
        {"expires_on": day(3, 20), "lifetime_days": 5},
        {"lifetime_days": 0},
        {"activates_on": day(3, 10), "expires_on": day(3, 9)},
    ):
        with pytest.raises(InvalidDates):
            services.accrue(user=employee, amount=10, actor=administrator, at=local(3, 1), **options)
    assert ledger_snapshot() == before


# Amounts and comments ----------------------------------------------------------------------


@pytest.mark.parametrize("amount", [0, -5, "abc", "1.001", "NaN", "Infinity", "10000000000000"])
def test_bad_amounts_are_refused(bonuses, employee, administrator, amount, ledger_snapshot):
    before = ledger_snapshot()
    with pytest.raises(InvalidAmount):
        services.accrue(user=employee, amount=amount, actor=administrator)
    assert ledger_snapshot() == before


def test_whole_number_currencies_refuse_fractions(whole, employee, administrator, ledger_snapshot):
    before = ledger_snapshot()
    with pytest.raises(InvalidAmount, match="whole numbers"):
        services.accrue(user=employee, amount="10.5", actor=administrator)
    assert ledger_snapshot() == before


def test_a_comment_over_1000_characters_is_refused(bonuses, employee, administrator, ledger_snapshot):
    services.accrue(user=employee, amount=1, actor=administrator, comment="x" * 1000)
    before = ledger_snapshot()
    with pytest.raises(CommentTooLong, match="1000"):
        services.accrue(user=employee, amount=1, actor=administrator, comment="x" * 1001)
    assert ledger_snapshot() == before
    assert Entry.objects.count() == 1


def test_inactive_employees_and_empty_selections_are_refused(bonuses, make_user, administrator, ledger_snapshot):
    gone = make_user(is_active=False)
    here = make_user()
    before = ledger_snapshot()
    with pytest.raises(InactiveEmployee):
        services.accrue(user=gone, amount=1, actor=administrator)
    with pytest.raises(InactiveEmployee):
        services.accrue_many(users=[here, gone], amount=1, actor=administrator)  # all or nothing
    with pytest.raises(NoEmployees):
        services.accrue_many(users=[], amount=1, actor=administrator)
    assert ledger_snapshot() == before
    assert not Entry.objects.exists() and not Batch.objects.exists()


def test_accrue_many_posts_one_batch_with_the_comment_on_each_entry(bonuses, make_user, administrator):
    people = [make_user() for _ in range(3)]
    batch = services.accrue_many(users=people, amount=50, actor=administrator, comment="Q1 bonus")
    assert (batch.employee_count, batch.total) == (3, 150)
    assert sorted(e.user_id for e in batch.entries.all()) == sorted(p.pk for p in people)
    assert set(batch.entries.values_list("comment", "kind", "actor")) == {
        ("Q1 bonus", "manual_accrual", administrator.pk)
    }
    assert all(selectors.balance(p).active == 50 for p in people)


# Deductions ----------------------------------------------------------------------------------


def test_a_deduction_larger_than_the_active_balance_is_refused_whole(bonuses, employee, administrator, ledger_snapshot):
    services.accrue(user=employee, amount=100, actor=administrator, at=local(3, 1))
    services.accrue(user=employee, amount=100, actor=administrator, activates_on=day(4, 1), at=local(3, 1))
    before = ledger_snapshot()
    with pytest.raises(InsufficientBalance, match="100"):
        services.write_off(user=employee, amount="100.01", actor=administrator, at=local(3, 2))
    with pytest.raises(InsufficientBalance):
        services.reserve(user=employee, amount=150, reference="o-1", at=local(3, 2))
    assert ledger_snapshot() == before


def test_write_off_takes_first_expiring_lots_first_and_records_them(bonuses, employee, administrator):
    services.accrue(user=employee, amount=10, actor=administrator, at=local(3, 1))  # no expiry: last
    services.accrue(user=employee, amount=10, actor=administrator, expires_on=day(5, 1), at=local(3, 1))
    services.accrue(user=employee, amount=10, actor=administrator, expires_on=day(4, 1), at=local(3, 1))
    services.accrue(user=employee, amount=10, actor=administrator, expires_on=day(4, 1), at=local(3, 1, 13))
    entry = services.write_off(user=employee, amount=25, actor=administrator, comment="Mistake", at=local(3, 2))
    no_expiry, may, april_old, april_new = Lot.objects.order_by("pk")
    assert list(entry.allocations.order_by("pk").values_list("lot_id", "amount")) == [
        (april_old.pk, -10),
        (april_new.pk, -10),
        (may.pk, -5),
    ]
    assert (entry.kind, entry.amount, entry.balance_after, entry.comment) == ("manual_write_off", -25, 15, "Mistake")
    b = selectors.balance(employee, at=local(3, 2))
    assert (b.active, b.written_off, b.total_accrued) == (15, 25, 15)


def test_an_operation_dated_before_the_latest_entry_is_refused(bonuses, employee, administrator, ledger_snapshot):
    services.accrue(user=employee, amount=10, actor=administrator, at=local(3, 2))
    before = ledger_snapshot()
    with pytest.raises(OperationInPast):
        services.write_off(user=employee, amount=1, actor=administrator, at=local(3, 1))
    with pytest.raises(OperationInPast):
        services.accrue(user=employee, amount=1, actor=administrator, at=local(3, 1))
    assert ledger_snapshot() == before
    assert Entry.objects.count() == 1


# Account states ----------------------------------------------------------------------------


def test_blocked_account_cannot_spend_but_administrators_can_accrue_and_write_off(
    bonuses, employee, administrator, ledger_snapshot
):
    services.accrue(user=employee, amount=100, actor=administrator)
    held = services.reserve(user=employee, amount=10, reference="o-1")
    services.set_account_state(user=employee, state="blocked")
    before = ledger_snapshot()
    with pytest.raises(AccountBlocked):
        services.reserve(user=employee, amount=10, reference="o-2")
    with pytest.raises(AccountBlocked):
        services.capture(held)
    assert ledger_snapshot() == before
    services.accrue(user=employee, amount=5, actor=administrator)
    services.write_off(user=employee, amount=15, actor=administrator)
    services.release(held)  # points held for an order can still go back
    assert selectors.balance(employee).active == 90


def test_accumulate_only_account_accrues_but_cannot_spend(bonuses, employee, administrator):
    services.set_account_state(user=employee, state="accumulate_only")
    services.accrue(user=employee, amount=100, actor=administrator)
    with pytest.raises(AccountBlocked, match="only accumulates"):
        services.reserve(user=employee, amount=10, reference="o-1")
    assert selectors.balance(employee).active == 100 and not Reservation.objects.exists()


# Reservations ------------------------------------------------------------------------------


def test_reservation_resolves_once(bonuses, employee, administrator):
    services.accrue(user=employee, amount=100, actor=administrator)
    held = services.reserve(user=employee, amount=40, reference="o-1")
    services.capture(held)
    with pytest.raises(ReservationResolved):
        services.capture(held)
    with pytest.raises(ReservationResolved):
        services.release(held)
    other = services.reserve(user=employee, amount=10, reference="o-2")
    services.release(other)
    with pytest.raises(ReservationResolved):
        services.release(other)
    with pytest.raises(ReservationResolved):
        services.refund(other)  # only a captured reservation can be refunded
    b = selectors.balance(employee)
    assert (b.active, b.reserved, b.spent) == (60, 0, 40)


def test_partial_refunds_return_points_into_the_same_lots(bonuses, employee, administrator):
    services.accrue(user=employee, amount=50, actor=administrator, at=local(3, 1))
    services.accrue(user=employee, amount=50, actor=administrator, expires_on=day(6, 1), at=local(3, 1))
    held = services.reserve(user=employee, amount=80, reference="o-1", at=local(3, 2))
    services.capture(held, at=local(3, 3))
    services.refund(held, amount=20, at=local(3, 4))
    with pytest.raises(InvalidAmount, match="60"):
        services.refund(held, amount=61, at=local(3, 5))
    services.refund(held, at=local(3, 5))
    no_expiry, june = Lot.objects.order_by("pk")
    assert (no_expiry.remaining, june.remaining) == (50, 50)
    held.refresh_from_db()
    assert held.refunded == 80
    b = selectors.balance(employee, at=local(3, 5))
    assert (b.active, b.spent, b.total_accrued) == (100, 0, 100)
    with pytest.raises(InvalidAmount):
        services.refund(held, at=local(3, 6))


def test_refusals_show_amounts_as_the_tables_do(bonuses, stars, employee, administrator, ledger_snapshot):
    """Thousands separators, no ".00" in a whole-number currency, and the currency's name."""
    services.accrue(user=employee, amount=1200, actor=administrator, at=local(3, 1))
    services.accrue(user=employee, amount=2500, currency=stars, actor=administrator, at=local(3, 1))
    held = services.reserve(user=employee, amount=1100, reference="o-1", at=local(3, 2))
    services.capture(held, at=local(3, 3))
    before = ledger_snapshot()
    with pytest.raises(InsufficientBalance) as refused:
        services.write_off(user=employee, amount=1500, actor=administrator, comment="x", at=local(3, 4))
    assert refused.value.message == "Only 100.00 Bonuses are available; 1,500.00 were asked for."
    with pytest.raises(InsufficientBalance) as refused:
        services.reserve(user=employee, amount=3000, currency=stars, reference="o-2", at=local(3, 4))
    assert refused.value.message == "Only 2,500 Stars are available; 3,000 were asked for."
    with pytest.raises(InvalidAmount) as refused:
        services.refund(held, amount=1100.5, at=local(3, 4))
    assert refused.value.message == "At most 1,100.00 Bonuses of this order can be refunded."
    assert ledger_snapshot() == before


def test_sums_of_cents_are_exact(bonuses, employee, administrator):
    """SQLite adds decimals as binary floats (-0.02 - 0.01 + 0.02 + 0.01 = 1.7e-18): sums must come back exact."""
    services.accrue(user=employee, amount=1, actor=administrator, at=local(3, 1))
    first = services.reserve(user=employee, amount=Decimal("0.02"), reference="o-1", at=local(3, 2))
    second = services.reserve(user=employee, amount=Decimal("0.01"), reference="o-2", at=local(3, 3))
    services.capture(first, at=local(3, 4))
    services.refund(first, at=local(3, 5))
    services.release(second, at=local(3, 6))
    moved = Allocation.objects.aggregate(total=Sum("amount"))["total"]
    assert (moved, str(moved)) == (0, "0.00")
    assert selectors.ledger_problems(Account.objects.get(user=employee)) == []
    b = selectors.balance(employee, at=local(3, 6))
    assert (b.active, b.reserved, b.spent, b.total_accrued) == (1, 0, 0, 1)


def test_points_returned_into_an_expired_lot_expire_again(bonuses, employee, administrator):
    services.accrue(user=employee, amount=100, actor=administrator, expires_on=day(3, 10), at=local(3, 1))
    held = services.reserve(user=employee, amount=60, reference="o-1", at=local(3, 2))
    services.capture(held, at=local(3, 3))
    services.refund(held, at=local(3, 20))  # the lot expired on the 11th
    kinds = list(Entry.objects.order_by("at", "pk").values_list("kind", "amount", "at"))
    assert kinds[-3:] == [
        ("expired", Decimal("-40.00"), local(3, 11, 0, 0, 0)),
        ("order_refunded", Decimal("60.00"), local(3, 20)),
        ("expired", Decimal("-60.00"), local(3, 20)),
    ]
    b = selectors.balance(employee, at=local(3, 20))
    assert (b.active, b.spent, b.expired, b.total_accrued) == (0, 0, 100, 100)


# Burn-out from the last purchase -----------------------------------------------------------

STEPS = [
    {"period": 1, "unit": "months", "percent": 25},
    {"period": 2, "unit": "months", "percent": 50},
    {"period": 3, "unit": "months", "percent": 100},
]


def test_burn_out_steps_burn_once_each(bonuses, employee, administrator):
    services.update_currency_settings(bonuses, burn_policy="from_last_purchase", burn_steps=STEPS)
    services.accrue(user=employee, amount=1000, actor=administrator, at=local(1, 10))
    assert active(employee, local(2, 10, 23, 59, 59)) == 1000
    assert active(employee, local(2, 11)) == 750
    services.settle(at=local(2, 20))
    services.settle(at=local(2, 21))  # once per step
    assert active(employee, local(2, 21)) == 750
    assert active(employee, local(3, 11)) == 375
    assert active(employee, local(4, 11)) == 0
    services.settle(at=local(5, 1))
    burned = list(Entry.objects.filter(kind="burned").order_by("at").values_list("amount", "at"))
    assert burned == [(-250, local(2, 11, 0)), (-375, local(3, 11, 0)), (-375, local(4, 11, 0))]
    b = selectors.balance(employee, at=local(5, 1))
    assert (b.expired, b.total_accrued) == (1000, 1000)


def test_an_order_resets_the_inactivity_streak(bonuses, employee, administrator):
    services.update_currency_settings(bonuses, burn_policy="from_last_purchase", burn_steps=STEPS)
    services.accrue(user=employee, amount=1000, actor=administrator, at=local(1, 10))
    services.settle(at=local(2, 12))  # step 1 burned 250
    order = services.reserve(user=employee, amount=100, reference="o-1", at=local(2, 20))
    services.capture(order, at=local(2, 21))
    assert active(employee, local(3, 20, 23, 59)) == 650  # a month after the order has not passed
    assert active(employee, local(3, 21)) == Decimal("487.50")  # step 1 again: 25% of 650


def test_invalid_burn_steps_are_refused(bonuses):
    for steps, message in (
        ([{"period": 2, "unit": "months", "percent": 25}, {"period": 1, "unit": "months", "percent": 50}], "longer"),
        ([{"period": 1, "unit": "months", "percent": 100}, {"period": 2, "unit": "months", "percent": 100}], "last"),
        ([{"period": 1, "unit": "months", "percent": 50}, {"period": 2, "unit": "months", "percent": 25}], "higher"),
        ([{"period": 1, "unit": "weeks", "percent": 50}], "period"),
    ):
        with pytest.raises(InvalidSettings, match=message):
            services.update_currency_settings(bonuses, burn_policy="from_last_purchase", burn_steps=steps)
    bonuses.refresh_from_db()
    assert bonuses.burn_policy == "never"
    default = services.update_currency_settings(bonuses, burn_policy="from_last_purchase", burn_steps=[])
    assert default.burn_steps == [{"period": 1, "unit": "years", "percent": "100"}]
    assert (bonuses.burn_policy, bonuses.burn_steps) == ("from_last_purchase", default.burn_steps)  # in hand too


# Idempotency -------------------------------------------------------------------------------


def test_the_same_key_posts_once_and_a_different_payload_is_refused(bonuses, employee, administrator):
    first = services.accrue(user=employee, amount=100, actor=administrator, idempotency_key="k1")
    again = services.accrue(user=employee, amount="100.00", actor=administrator, idempotency_key="k1")
    assert first.pk == again.pk and Entry.objects.count() == 1
    with pytest.raises(IdempotencyConflict):
        services.accrue(user=employee, amount=101, actor=administrator, idempotency_key="k1")
    batch = services.accrue_many(users=[employee], amount=5, actor=administrator, idempotency_key="k2")
    assert services.accrue_many(users=[employee], amount=5, actor=administrator, idempotency_key="k2").pk == batch.pk
    assert selectors.balance(employee).active == 105


def test_a_refused_key_stays_refused(bonuses, employee, administrator):
    with pytest.raises(NoAccount):  # nothing was ever credited: there is no account yet
        services.write_off(user=employee, amount=10, actor=administrator, idempotency_key="w1")
    services.accrue(user=employee, amount=100, actor=administrator)
    with pytest.raises(NoAccount):
        services.write_off(user=employee, amount=10, actor=administrator, idempotency_key="w1")
    assert selectors.balance(employee).active == 100
    assert IdempotencyKey.objects.get(key="w1").error_class == "NoAccount"


# The database keeps the invariants ---------------------------------------------------------


def test_entries_and_allocations_cannot_be_changed_through_the_orm(bonuses, employee, administrator):
    entry = services.accrue(user=employee, amount=10, actor=administrator)
    services.write_off(user=employee, amount=5, actor=administrator)
    entry.comment = "edited"
    for attempt in (
        entry.save,
        entry.delete,
        lambda: Entry.objects.update(comment="x"),
        Entry.objects.all().delete,
        Allocation.objects.all().delete,
        lambda: Allocation.objects.update(amount=1),
    ):
        with pytest.raises(TypeError, match="immutable"):
            attempt()
    assert Entry.objects.get(pk=entry.pk).comment == ""


@pytest.mark.postgres
def test_postgres_trigger_refuses_update_and_delete_on_the_log(bonuses, employee, administrator):
    services.accrue(user=employee, amount=10, actor=administrator)
    services.write_off(user=employee, amount=5, actor=administrator)  # an allocation row
    for sql in (
        "UPDATE bonuses_entry SET comment = 'x'",
        "DELETE FROM bonuses_entry",
        "UPDATE bonuses_allocation SET amount = 1",
    ):
        with pytest.raises(IntegrityError, match="immutable"), transaction.atomic(), connection.cursor() as cursor:
            cursor.execute(sql)
    assert set(Entry.objects.values_list("comment", flat=True)) == {""}


def test_constraints_refuse_bad_rows_even_past_the_orm(bonuses, employee, administrator):
    services.accrue(user=employee, amount=10, actor=administrator)
    lot = Lot.objects.get()
    entry = Entry.objects.get()
    for change in (
        lambda: Lot.objects.filter(pk=lot.pk).update(remaining=-1),
        lambda: Lot.objects.filter(pk=lot.pk).update(remaining=11),
        lambda: Account.objects.update(active=-1),
        lambda: Entry.objects.bulk_create(
            [
                Entry(
                    account=entry.account,
                    user=employee,
                    currency=bonuses,
                    kind="manual_accrual",
                    amount=0,
                    balance_after=0,
                    at=entry.at,
                )
            ]
        ),
    ):
        with pytest.raises(IntegrityError), transaction.atomic():
            change()
    lot.refresh_from_db()
    assert lot.remaining == 10


# Commands ----------------------------------------------------------------------------------


def test_bonuses_daily_catches_up_and_is_idempotent(bonuses, make_user, administrator, capsys, settings):
    people = [make_user() for _ in range(3)]
    services.accrue_many(users=people, amount=10, actor=administrator, expires_on=day(3, 5), at=local(3, 1))
    services.accrue_many(users=people, amount=4, actor=administrator, activates_on=day(3, 3), at=local(3, 1))
    call_command("bonuses_daily", "--date", "2026-03-08")
    out = capsys.readouterr().out
    assert "Activated: 3 entries, 12.00 points" in out and "Expired: 3 entries, 30.00 points" in out
    call_command("bonuses_daily", "--date", "2026-03-08")
    assert "Expired: 0 entries" in capsys.readouterr().out
    assert Entry.objects.filter(kind="expired").count() == 3
    call_command("check_ledger")
    with pytest.raises(CommandError, match="future"):
        call_command("bonuses_daily", "--date", "2999-01-01")


def test_the_daily_run_posts_what_the_balance_foresaw(bonuses, make_user, administrator):
    """The daily run writes set-based SQL (and the planner where a burn-out is due); a balance read
    replays the rules in Python without writing. Over two currencies whose accounts interleave, one
    burning out for inactivity, both must come to the same figures, entry by entry."""
    stars = Currency.objects.create(name="Stars")
    burning = services.update_currency_settings(stars, burn_policy="from_last_purchase", burn_steps=STEPS)
    people = [make_user() for _ in range(6)]
    for n, person in enumerate(people):
        for currency in (bonuses, burning):  # accounts created alternately: their ids interleave
            services.accrue(user=person, amount=100 + n, actor=administrator, currency=currency, at=local(1, 5))
            services.accrue(
                user=person, amount=7, actor=administrator, currency=currency, expires_on=day(2, n + 1), at=local(1, 6)
            )
            services.accrue(
                user=person, amount=30, actor=administrator, currency=currency, activates_on=day(2, 2), at=local(1, 7)
            )
            if n % 3 == 0:  # some spend a little: partly used lots, and a fresh streak
                services.write_off(
                    user=person, amount=Decimal("5.50"), actor=administrator, currency=currency, at=local(1, 8)
                )
            if n % 3 == 1:
                services.reserve(user=person, amount=3, reference=f"o-{n}", currency=currency, at=local(1, 20))
    moment = local(3, 1, 0, 0, 0)
    foreseen = {
        (person.pk, currency.pk): selectors.balance(person, currency, at=moment)
        for person in people
        for currency in (bonuses, burning)
    }

    result = services.settle(at=moment)

    # Every 30-point lot activates (12). Every 7-point lot expires (from 00:00 of 2 to 7 February) unless a
    # burn-out emptied it first: in Stars the first step burns each account once (6), a month after its streak
    # began (from 00:00 of 6 February, or of 21 February after the reservation of 20 January), taking the
    # first-expiring lot first, so person 5's lot (expiring from 7 February) burns instead: 6 + 5 expire.
    assert result.counts == {Entry.Kind.ACTIVATED: 12, Entry.Kind.EXPIRED: 6 + 5, Entry.Kind.BURNED: 6}
    burned_on = Entry.objects.filter(kind=Entry.Kind.BURNED).order_by("user_id").values_list("at", flat=True)
    assert list(burned_on) == [local(2, 6, 0) if n % 3 != 1 else local(2, 21, 0) for n in range(6)]
    for account in Account.objects.filter(user__in=people):
        expected = foreseen[(account.user_id, account.currency_id)]
        assert selectors.ledger_problems(account) == [], account
        assert (account.active, account.non_activated, account.expired, account.reserved) == (
            expected.active,
            expected.non_activated,
            expected.expired,
            expected.reserved,
        ), account
    # Each lot activated and expired at most once; every entry dated in time order per account.
    lots = Entry.objects.filter(kind__in=["activated", "expired"]).values_list("kind", "lot_id")
    assert len(lots) == len(set(lots)) == result.counts[Entry.Kind.ACTIVATED] + result.counts[Entry.Kind.EXPIRED]
    for account in Account.objects.filter(user__in=people):
        entries = list(account.entries.order_by("id").values_list("kind", "amount", "balance_after", "at"))
        assert [e[3] for e in entries] == sorted(e[3] for e in entries), account
        # Each settlement entry moves the active balance by its amount, from the entry before it.
        for (_kind, _amount, before, _at), (kind, amount, after, _at2) in zip(entries, entries[1:], strict=False):
            if kind in ("activated", "expired", "burned"):
                assert after == before + amount, (account, kind)
        assert entries[-1][2] == account.active
    assert services.settle(at=moment).counts == {}


def test_check_ledger_names_an_account_that_does_not_balance(bonuses, employee, administrator, capsys):
    services.accrue(user=employee, amount=10, actor=administrator)
    call_command("check_ledger")
    Account.objects.update(active=11, total_accrued=11)  # a stored figure off by one
    with pytest.raises(CommandError, match="1 of 1"):
        call_command("check_ledger")
    assert employee.email in capsys.readouterr().out


def test_the_default_currency_comes_from_a_migration():
    assert Currency.objects.get(is_default=True).name == "Bonuses"
