"""Benchmark of the campaigns (issue 12): the daily run's awards against raw SQL doing the same writes in the same
run, and the 30-day preview at 100,000 employees against the same preview at 1,000.

- `campaigns_birthday`: a birthday campaign on a day when 1% of the employees (and those the generator's dates
  give) have their birthday: `services.run_campaigns` against hand-written SQL (the members, the batch, lots,
  entries, the accounts' figures, the awards), the raw variant first in a transaction rolled back;
- `campaigns_anniversary_tiers`: a work-anniversary campaign with tiers (1, 5, 10 years), 1% of the employees
  hired on that day in earlier years, the same way (one batch per tier);
- `campaigns_preview_30_days`: `selectors.campaign_days` over 30 days on the large company to the small one.

Each prints `BENCH <name> ratio=<value> goal=2`; the goal is at most 2. BENCH_SCALE scales the large company.
"""

import sys
import time
from datetime import date, timedelta
from decimal import Decimal

import common
from common import say
from screens import Databases

SCALE = common.scale()
EMPLOYEES = max(1000, round(100_000 * SCALE))
SMALL_EMPLOYEES = 1000
GOAL = 2
DAY = date(2026, 6, 15)
TIERS = [(1, Decimal("100")), (5, Decimal("500")), (10, Decimal("1000"))]


def measured(label: str, function):
    start = time.perf_counter()
    result = function()
    seconds = time.perf_counter() - start
    say(f"  {label}: {seconds:.3f} s")
    return seconds, result


def build(employees: int):
    """Migrate, the employees with an empty account each; 1% born on DAY, 1% hired on DAY 1 to 12 years ago."""
    from django.db import connection

    from bonuses.models import Currency
    from users.models import User

    common.migrate()
    currency = Currency.objects.get(is_default=True)
    admin_id = common.create_administrators(["Bench Administrator"])[0]
    with common.building():
        common.insert_employees(active=employees, former=0, joined=common.start_of_day(DAY - timedelta(days=3000)))
        with common.step("accounts"):
            common.insert_accounts(currency.pk)
        with common.step("birthdays and anniversaries"), connection.cursor() as cursor:
            ids = list(User.objects.filter(employee_number__isnull=False).order_by("pk").values_list("pk", flat=True))
            cursor.executemany(
                "UPDATE users_user SET date_of_birth = %s WHERE id = %s",
                [(DAY.replace(year=1980 + pk % 20), pk) for pk in ids[::100]],
            )
            cursor.executemany(
                "UPDATE users_user SET hire_date = %s WHERE id = %s",
                [(DAY.replace(year=DAY.year - 1 - (pk // 100) % 12), pk) for pk in ids[1::100]],
            )
    return currency, User.objects.get(pk=admin_id)


def on_day_sql(column: str) -> str:
    from django.db import connection

    if connection.vendor == "sqlite":
        return f"strftime('%%m-%%d', {column}) = %s"
    return f"to_char({column}, 'MM-DD') = %s"


def raw_award(campaign, groups: dict[Decimal, list[int]]) -> int:
    """What run_campaigns writes for one day, per amount: the batch, lots, entries, figures, awards."""
    from django.db import connection
    from django.utils import timezone

    from bonuses import rules

    now = timezone.now()
    at = common.moment(now)
    expires = common.moment(rules.expiry_instant(rules.local_date(now) + timedelta(days=campaign.lifetime_days)))
    written = 0
    with connection.cursor() as cursor:
        for amount, ids in sorted(groups.items()):
            marks = ", ".join(["%s"] * len(ids))
            cursor.execute(
                "INSERT INTO bonuses_batch (currency_id, actor_id, amount, employee_count, comment, at, created_at)"
                " VALUES (%s, NULL, %s, %s, %s, %s, %s) RETURNING id",
                [campaign.currency_id, amount, len(ids), campaign.description, at, at],
            )
            batch_id = cursor.fetchone()[0]
            cursor.execute("SELECT COALESCE(MAX(id), 0) FROM bonuses_lot")
            last_lot = cursor.fetchone()[0]
            cursor.execute(
                "INSERT INTO bonuses_lot (account_id, amount, remaining, accrued_at, activates_at, expires_at,"
                " is_activated, source) SELECT id, %s, %s, %s, NULL, %s, %s, 'campaign' FROM bonuses_account"
                f" WHERE currency_id = %s AND user_id IN ({marks}) ORDER BY id",
                [amount, amount, at, expires, True, campaign.currency_id, *ids],
            )
            cursor.execute(
                "INSERT INTO bonuses_entry (account_id, user_id, currency_id, kind, amount, balance_after, at,"
                " created_at, actor_id, comment, lot_id, batch_id, reservation_id)"
                " SELECT l.account_id, a.user_id, a.currency_id, 'campaign_accrual', l.amount, a.active + l.amount,"
                " l.accrued_at, %s, NULL, %s, l.id, %s, NULL"
                " FROM bonuses_lot l JOIN bonuses_account a ON a.id = l.account_id WHERE l.id > %s ORDER BY l.id",
                [at, campaign.description, batch_id, last_lot],
            )
            written += cursor.rowcount
            cursor.execute(
                "UPDATE bonuses_account SET active = active + %s, total_accrued = total_accrued + %s,"
                " last_entry_at = %s, streak_started_at = COALESCE(streak_started_at, %s)"
                f" WHERE currency_id = %s AND user_id IN ({marks})",
                [amount, amount, at, at, campaign.currency_id, *ids],
            )
            cursor.execute(
                "INSERT INTO bonuses_campaignaward (campaign_id, user_id, occurrence, paid_on, amount, batch_id)"
                f" SELECT %s, id, %s, %s, %s, %s FROM users_user WHERE id IN ({marks}) ORDER BY id",
                [campaign.pk, DAY, DAY, amount, batch_id, *ids],
            )
    return written


def raw_birthdays(campaign) -> int:
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT id FROM users_user WHERE is_active AND (hire_date IS NULL OR hire_date <= %s)"
            f" AND {on_day_sql('date_of_birth')} ORDER BY id",
            [DAY, DAY.strftime("%m-%d")],
        )
        ids = [row[0] for row in cursor.fetchall()]
    return raw_award(campaign, {campaign.amount: ids})


def raw_anniversaries(campaign) -> int:
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT id, hire_date FROM users_user WHERE is_active AND hire_date < %s AND {on_day_sql('hire_date')}"
            " ORDER BY id",
            [DAY, DAY.strftime("%m-%d")],
        )
        rows = cursor.fetchall()
    groups: dict[Decimal, list[int]] = {}
    for pk, hired in rows:
        hired = hired if isinstance(hired, date) else date.fromisoformat(hired)
        reached = [amount for years, amount in TIERS if years <= DAY.year - hired.year]
        if reached:
            groups.setdefault(reached[-1], []).append(pk)
    return raw_award(campaign, groups)


def compare(name: str, service_seconds: float, raw_seconds: float, extra: str = "") -> None:
    ratio = service_seconds / max(raw_seconds, 1e-9)
    verdict = common.report(name, ratio, GOAL, extra)
    say(f"  {name}: {service_seconds:.3f} s / {raw_seconds:.3f} s = {ratio:.2f} (goal {GOAL}: {verdict})")


def pay(campaign, raw, label: str) -> int:
    """Raw SQL (rolled back), then the service on the same state; returns the failed checks."""
    from django.db import transaction

    from bonuses import services
    from bonuses.models import CampaignAward

    with transaction.atomic():
        raw_seconds, raw_written = measured("raw SQL (rolled back)", lambda: raw(campaign))
        transaction.set_rollback(True)
    service_seconds, result = measured("services.run_campaigns", lambda: services.run_campaigns(on=DAY))
    awards = CampaignAward.objects.filter(campaign=campaign).count()
    say(f"  awards: raw SQL {raw_written}, service {result.awards} in {result.batches} batches")
    compare(label, service_seconds, raw_seconds, f" awards={awards}")
    return 0 if awards == raw_written == result.awards and not result.refusals else 1


def run(where: str, urls: list[str]) -> int:
    from django.conf import settings

    from bonuses import selectors, services

    say(f"campaigns bench: BENCH_SCALE={SCALE:g}, {where}, Django DEBUG={settings.DEBUG}")
    failed, previews = 0, {}
    with Databases(urls[1]) as databases:
        for label, employees in (("small", SMALL_EMPLOYEES), ("large", EMPLOYEES)):
            databases.use(label)
            say(f"build {label}: {employees} employees")
            currency, admin = build(employees)
            birthdays = services.save_campaign(
                name="Birthdays",
                actor=admin,
                trigger="birthday",
                amount=100,
                currency=currency,
                lifetime_days=30,
                description="Happy birthday!",
                starts_on=DAY - timedelta(days=30),
            )
            selectors.campaign_days(birthdays, on=DAY, days=30)  # warm-up
            seconds, rows = measured(
                "preview of 30 days", lambda c=birthdays: selectors.campaign_days(c, on=DAY, days=30)
            )
            previews[label] = seconds
            say(f"  preview rows: {len(rows)}")
            if label == "small":
                continue
            failed += pay(birthdays, raw_birthdays, "campaigns_birthday")
            services.set_campaign_active(birthdays, actor=admin, is_active=False)
            anniversaries = services.save_campaign(
                name="Anniversaries",
                actor=admin,
                trigger="anniversary",
                amount=None,
                currency=currency,
                tiers=[(years, amount) for years, amount in TIERS],
                lifetime_days=365,
                description="Thank you!",
                starts_on=DAY - timedelta(days=30),
            )
            failed += pay(anniversaries, raw_anniversaries, "campaigns_anniversary_tiers")
    compare("campaigns_preview_30_days", previews["large"], previews["small"])
    if failed:
        say(f"ERROR: {failed} check(s) failed")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(common.run_bench(run, "", "small"))
