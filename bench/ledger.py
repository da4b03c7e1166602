"""Benchmark of the bonus ledger's bulk paths against hand-written SQL doing the same work.

Run from the repository root: `make bench` or `.venv/bin/python bench/ledger.py`.

It builds, in a scratch database, 100,000 employees (bench/common.py's generator) with one account
each and 1,000,000 lots (10 per account, every one with its accrual entry; the stored figures match
the lots), scaled by BENCH_SCALE (default 1.0; 0.1 builds a tenth). One lot in ten expires at the
settle moment.
Then it measures, each time against raw SQL doing the same writes in the same run:

- ledger_accrue_many_10k: `services.accrue_many` to 10,000 employees (at most a fifth of the
  employees at a smaller scale), against INSERT ... SELECT of the lots and entries plus an UPDATE
  of the accounts on a second, identical set of employees;
- ledger_daily_expiry: `manage.py bonuses_daily` expiring those 10% of the lots, against the
  UPDATE / INSERT ... SELECT statements doing the same (run first, in a transaction that is
  rolled back, so the service then starts from the same state);
- ledger_manager_grant_10k: the same `services.accrue_many` by a manager, with the budget check
  (scope, the budget's lock and movement), against the same grant by an administrator on alike
  employees (goal 1.2).

It prints one `BENCH <name> ratio=<service time / raw time> goal=3` line per measure (goal=1.2 for the
manager's grant) and
informational lines that do not start with BENCH; it exits 0 when a goal is missed and non-zero
on an error, including a ledger identity that fails (`check_ledger`'s test, run on a random
sample of accounts after the service runs).

The database: a fresh SQLite file in a temporary directory, deleted afterwards. When
BENCH_DATABASE_URL, or else DATABASE_URL, names a PostgreSQL server (scripts/with-postgres sets
DATABASE_URL), a scratch database is created on that server and dropped afterwards (the role
needs CREATEDB). A SQLite BENCH_DATABASE_URL names a new file to build, which is kept. The
developer's database is never opened. DEBUG is off, as in production (no per-query log).
Set BENCH_PROFILE=1 to print cProfile's view of each service call and the plan of its slowest
statement (the times then include the profiler's overhead).
"""

import cProfile
import io
import random
import sys
import time
from datetime import date, timedelta
from decimal import Decimal

import common
from common import say

SCALE = common.scale()
EMPLOYEES = max(100, round(100_000 * SCALE))
LOTS_PER_EMPLOYEE = 10
ACCRUE_COUNT = min(10_000, EMPLOYEES // 5)
WARMUP_COUNT = max(1, min(100, ACCRUE_COUNT // 10))
ACCRUE_AMOUNT = Decimal("25.00")
LEDGER_SAMPLE = 150
GOAL = 3
MANAGER_GOAL = 1.2  # a manager's grant with the budget check, to the same grant by an administrator
PROFILE = common.flag("BENCH_PROFILE")
TABLES = ("users_user", "bonuses_account", "bonuses_lot", "bonuses_entry", "bonuses_allocation")

# The daily run settles up to 00:00 of this day; one lot in ten expires exactly then.
SETTLE_DAY = date(2026, 3, 1)


# Measuring --------------------------------------------------------------------------------


def measured(label: str, function, *, profile: bool = False):
    """Run function(); print its time and statements; return (seconds, result)."""
    from django.db import connection

    stats = common.QueryStats()
    profiler = cProfile.Profile() if profile else None
    with connection.execute_wrapper(stats):
        start, cpu = time.perf_counter(), time.process_time()
        if profiler:
            profiler.enable()
        result = function()
        if profiler:
            profiler.disable()
        seconds, cpu = time.perf_counter() - start, time.process_time() - cpu
    say(
        f"  {label}: {seconds:.3f} s ({cpu:.3f} s CPU in this process), "
        f"{stats.count} statements through Django's cursor, {stats.seconds:.3f} s inside execute()"
    )
    if profiler:
        for line in stats.slowest():
            say(f"    | {line}")
        sql, params, slowest = max(stats.statements, key=lambda statement: statement[2])
        say(f"    plan of the slowest statement ({slowest:.3f} s):")
        for line in common.explain(sql, params):
            say(f"    | {line}")
        common.print_profile(profiler, "cumulative", 30)
    return seconds, result


def compare(name: str, service_seconds: float, raw_seconds: float) -> None:
    ratio = service_seconds / max(raw_seconds, 1e-9)
    verdict = common.report(name, ratio, GOAL)
    say(
        f"  {name}: service {service_seconds:.3f} s / raw SQL {raw_seconds:.3f} s = {ratio:.2f}"
        f" (goal {GOAL}: {verdict})"
    )


# Building the data ------------------------------------------------------------------------


class Timeline:
    def __init__(self):
        self.settle_at = common.start_of_day(SETTLE_DAY)
        self.accrue_at = common.start_of_day(SETTLE_DAY - timedelta(days=1)) + timedelta(hours=12)
        # Lot k of every account was credited at 10:00, 400 - 36k days before the settle day.
        self.accrued = [
            common.start_of_day(SETTLE_DAY - timedelta(days=400 - 36 * k)) + timedelta(hours=10)
            for k in range(LOTS_PER_EMPLOYEE)
        ]
        # Expiry class (account id + k) % 10: 0 expires at the settle moment, 1-4 never,
        # 5-9 some months later.
        self.expiry = {0: self.settle_at}
        for cls in range(5, 10):
            self.expiry[cls] = common.start_of_day(SETTLE_DAY + timedelta(days=30 * (cls - 4)))


def build(timeline: Timeline):
    """Migrate, then the employees, their accounts and lots; return (the currency, the administrator)."""
    from bonuses.models import Currency
    from users.models import User

    common.migrate()
    currency = Currency.objects.get(is_default=True)  # made by a migration
    actor_id = common.create_administrators(["Bench Administrator"])[0]
    with common.building():
        common.insert_employees(active=EMPLOYEES, former=0, joined=timeline.settle_at + timedelta(days=1))
        with common.step("accounts"):
            common.insert_accounts(currency.pk)
        common.insert_lots(currency.pk, accrued=timeline.accrued, expiry=timeline.expiry, actor_id=actor_id)
    return currency, User.objects.get(pk=actor_id)


def check_sample(label: str, account_ids: list[int], size: int, rng: random.Random) -> int:
    """Run check_ledger's test on a random sample of these accounts; print and return the failures."""
    from bonuses.models import Account
    from bonuses.selectors import ledger_problems

    sample = sorted(rng.sample(account_ids, min(size, len(account_ids))))
    failed = 0
    for account in Account.objects.filter(pk__in=sample).order_by("pk"):
        problems = ledger_problems(account)
        if problems:
            failed += 1
            if failed <= 5:
                say(f"  account {account.pk}: " + "; ".join(problems))
    say(f"  ledger check ({label}): {len(sample)} random accounts, {failed} failing")
    return failed


# Measure 1: accrue_many -------------------------------------------------------------------


def raw_accrue(user_ids: list[int], timeline: Timeline, currency, actor) -> int:
    """What accrue_many writes, in four statements: the batch, the lots, the entries, the accounts."""
    from django.db import connection, transaction

    at = common.moment(timeline.accrue_at)
    marks = ", ".join(["%s"] * len(user_ids))
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(
            "INSERT INTO bonuses_batch (currency_id, actor_id, amount, employee_count, comment, at, created_at)"
            " VALUES (%s, %s, %s, %s, %s, %s, %s) RETURNING id",
            [currency.pk, actor.pk, ACCRUE_AMOUNT, len(user_ids), "bench accrual", at, at],
        )
        batch_id = cursor.fetchone()[0]
        cursor.execute("SELECT COALESCE(MAX(id), 0) FROM bonuses_lot")
        last_lot = cursor.fetchone()[0]
        cursor.execute(
            "INSERT INTO bonuses_lot (account_id, amount, remaining, accrued_at, activates_at, expires_at,"
            " is_activated, source)"
            " SELECT id, %s, %s, %s, NULL, NULL, %s, 'bulk' FROM bonuses_account"
            f" WHERE currency_id = %s AND user_id IN ({marks}) ORDER BY id",
            [ACCRUE_AMOUNT, ACCRUE_AMOUNT, at, True, currency.pk, *user_ids],
        )
        cursor.execute(
            "INSERT INTO bonuses_entry (account_id, user_id, currency_id, kind, amount, balance_after, at,"
            " created_at, actor_id, comment, lot_id, batch_id, reservation_id)"
            " SELECT l.account_id, a.user_id, a.currency_id, 'manual_accrual', l.amount, a.active + l.amount,"
            " l.accrued_at, %s, %s, 'bench accrual', l.id, %s, NULL"
            " FROM bonuses_lot l JOIN bonuses_account a ON a.id = l.account_id WHERE l.id > %s ORDER BY l.id",
            [at, actor.pk, batch_id, last_lot],
        )
        written = cursor.rowcount
        cursor.execute(
            "UPDATE bonuses_account SET active = active + %s, total_accrued = total_accrued + %s,"
            " last_entry_at = %s, streak_started_at = COALESCE(streak_started_at, %s)"
            f" WHERE currency_id = %s AND user_id IN ({marks})",
            [ACCRUE_AMOUNT, ACCRUE_AMOUNT, at, at, currency.pk, *user_ids],
        )
    return written


def service_accrue(user_ids: list[int], timeline: Timeline, currency, actor):
    from bonuses import services

    return services.accrue_many(
        users=user_ids,
        amount=ACCRUE_AMOUNT,
        actor=actor,
        comment="bench accrual",
        currency=currency,
        at=timeline.accrue_at,
    )


def manager_grant(unused: list[int], timeline: Timeline, currency, administrator) -> int:
    """Measure 3: a manager's bulk grant with the budget check (the scope, the budget's lock, its movement) as
    a ratio to the same grant by an administrator, on alike employees nobody granted to yet. Returns the
    failed checks."""
    from django.contrib.auth.models import Group

    from bonuses import selectors, services
    from bonuses.models import Budget
    from users.models import Department, User

    say(f"manager's accrue_many: {ACCRUE_COUNT} employees per run, within a budget")
    services.update_currency_settings(currency, budget_period="month", budget_allowance=Decimal("10000000"))
    manager = User.objects.create_user("bench-manager@example.org", None, full_name="Bench Manager")
    manager.groups.add(Group.objects.get(name="Managers"))
    manager.managed_departments.set(Department.objects.all())
    staffed = set(User.objects.filter(pk__in=unused, department__isnull=False).values_list("pk", flat=True))
    people = [pk for pk in unused if pk in staffed]
    count = min(ACCRUE_COUNT, (len(people) - 2 * WARMUP_COUNT) // 2)
    warm, admin_set, manager_set = people[: 2 * WARMUP_COUNT], people[-2 * count : -count], people[-count:]
    measured("warm-up administrator", lambda: service_accrue(warm[:WARMUP_COUNT], timeline, currency, administrator))
    measured("warm-up manager", lambda: service_accrue(warm[WARMUP_COUNT:], timeline, currency, manager))
    admin_seconds, _batch = measured(
        "accrue_many by an administrator", lambda: service_accrue(admin_set, timeline, currency, administrator)
    )
    manager_seconds, batch = measured(
        "accrue_many by a manager", lambda: service_accrue(manager_set, timeline, currency, manager), profile=PROFILE
    )
    ratio = manager_seconds / max(admin_seconds, 1e-9)
    verdict = common.report("ledger_manager_grant_10k", ratio, MANAGER_GOAL)
    say(
        f"  ledger_manager_grant_10k: manager {manager_seconds:.3f} s / administrator {admin_seconds:.3f} s"
        f" = {ratio:.2f} (goal {MANAGER_GOAL}: {verdict})"
    )
    budget = Budget.objects.get(manager=manager)
    expected = ACCRUE_AMOUNT * (count + WARMUP_COUNT)
    problems = selectors.budget_problems(budget)
    if batch_entries(batch.pk) != count or budget.granted != expected or problems:
        say(f"  ERROR: the manager's grant or budget is wrong: granted {budget.granted}, not {expected}; {problems}")
        return 1
    say(f"  budget: granted {budget.granted}, left {budget.left}; its movements sum to its figures")
    return 0


def batch_entries(batch_id: int) -> int:
    from bonuses.models import Entry

    return Entry.objects.filter(batch_id=batch_id).count()


# Measure 2: the daily expiry --------------------------------------------------------------


def fingerprint() -> tuple:
    """What an expiry run changes, summed over the whole ledger."""
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("SELECT SUM(active), SUM(expired), MAX(last_entry_at) FROM bonuses_account")
        active, expired, last = cursor.fetchone()
        cursor.execute("SELECT COUNT(*), SUM(remaining) FROM bonuses_lot WHERE remaining > 0")
        open_lots, remaining = cursor.fetchone()
        cursor.execute("SELECT kind, COUNT(*), SUM(amount) FROM bonuses_entry GROUP BY kind ORDER BY kind")
        kinds = tuple((kind, n, Decimal(str(total))) for kind, n, total in cursor.fetchall())
        cursor.execute("SELECT COUNT(*), SUM(amount) FROM bonuses_allocation")
        allocations, allocated = cursor.fetchone()
    return (
        Decimal(str(active)),
        Decimal(str(expired)),
        str(last),
        open_lots,
        Decimal(str(remaining)),
        kinds,
        allocations,
        Decimal(str(allocated or 0)),
    )


def raw_expiry(timeline: Timeline, currency) -> int:
    """What the daily run writes for expiring lots: entries, allocations, account figures, lots."""
    from django.db import connection

    at = common.moment(timeline.settle_at)
    with connection.cursor() as cursor:
        cursor.execute("SELECT COALESCE(MAX(id), 0) FROM bonuses_entry")
        last_entry = cursor.fetchone()[0]
        # One "expired" entry per due lot, in time order per account, dated no earlier than the
        # account's latest entry; balance_after is the active balance after it.
        cursor.execute(
            "INSERT INTO bonuses_entry (account_id, user_id, currency_id, kind, amount, balance_after, at,"
            " created_at, actor_id, comment, lot_id, batch_id, reservation_id)"
            " SELECT l.account_id, a.user_id, a.currency_id, 'expired', -l.remaining,"
            " a.active - SUM(l.remaining) OVER (PARTITION BY l.account_id ORDER BY l.expires_at, l.id),"
            " CASE WHEN a.last_entry_at > l.expires_at THEN a.last_entry_at ELSE l.expires_at END,"
            " %s, NULL, '', l.id, NULL, NULL"
            " FROM bonuses_lot l JOIN bonuses_account a ON a.id = l.account_id"
            " WHERE l.remaining > 0 AND l.expires_at <= %s AND l.is_activated AND a.currency_id = %s"
            " ORDER BY l.account_id, l.expires_at, l.id",
            [at, at, currency.pk],
        )
        written = cursor.rowcount
        cursor.execute(
            "INSERT INTO bonuses_allocation (entry_id, lot_id, amount)"
            " SELECT id, lot_id, amount FROM bonuses_entry WHERE id > %s ORDER BY id",
            [last_entry],
        )
        cursor.execute(
            "UPDATE bonuses_account SET active = active + t.total, expired = expired - t.total, last_entry_at = t.last"
            " FROM (SELECT account_id, SUM(amount) AS total, MAX(at) AS last FROM bonuses_entry"
            " WHERE id > %s GROUP BY account_id) t"
            " WHERE bonuses_account.id = t.account_id",
            [last_entry],
        )
        cursor.execute(
            "UPDATE bonuses_lot SET remaining = 0"
            " WHERE remaining > 0 AND expires_at <= %s AND is_activated"
            " AND account_id IN (SELECT id FROM bonuses_account WHERE currency_id = %s)",
            [at, currency.pk],
        )
    return written


def service_expiry():
    from django.core.management import call_command

    out = io.StringIO()
    call_command("bonuses_daily", date=SETTLE_DAY.isoformat(), stdout=out, stderr=io.StringIO())
    return out.getvalue()


# The run ----------------------------------------------------------------------------------


def run(where: str, _urls: list[str]) -> int:
    from django.conf import settings
    from django.db import transaction

    from bonuses.models import Account, Lot
    from users.models import User

    say(f"ledger bench: BENCH_SCALE={SCALE:g}, {where}, Django DEBUG={settings.DEBUG}")
    timeline = Timeline()
    rng = random.Random(20260301)

    say(f"build: {EMPLOYEES} employees, {EMPLOYEES * LOTS_PER_EMPLOYEE} lots")
    start = time.perf_counter()
    currency, actor = build(timeline)
    say(f"  build: {time.perf_counter() - start:.1f} s; rows: {common.count_rows(*TABLES)}")
    account_ids = list(Account.objects.order_by("pk").values_list("pk", flat=True))
    failed = check_sample("as built", account_ids, 30, rng)

    # Measure 1: disjoint sets of employees whose accounts are alike (same number of lots, same history).
    say(f"accrue_many: {ACCRUE_COUNT} employees per run (after a warm-up of {WARMUP_COUNT})")
    employees = list(User.objects.filter(employee_number__isnull=False).order_by("pk").values_list("pk", flat=True))
    sets = [employees[i * ACCRUE_COUNT : (i + 1) * ACCRUE_COUNT] for i in range(2)]
    warm = employees[2 * ACCRUE_COUNT : 2 * ACCRUE_COUNT + 2 * WARMUP_COUNT]
    service_set, raw_set = sets
    measured("warm-up raw SQL", lambda: raw_accrue(warm[:WARMUP_COUNT], timeline, currency, actor))
    measured("warm-up service", lambda: service_accrue(warm[WARMUP_COUNT:], timeline, currency, actor))
    raw_seconds, written = measured("raw SQL", lambda: raw_accrue(raw_set, timeline, currency, actor))
    service_seconds, batch = measured(
        "services.accrue_many", lambda: service_accrue(service_set, timeline, currency, actor), profile=PROFILE
    )
    service_written = batch_entries(batch.pk)
    say(f"  accrual entries written: raw SQL {written}, service {service_written}")
    if written != len(raw_set) or service_written != len(service_set):
        say("  ERROR: an accrual did not write one entry per employee")
        failed += 1
    compare("ledger_accrue_many_10k", service_seconds, raw_seconds)
    for label, user_ids in (("service accrual", service_set), ("raw SQL accrual", raw_set)):
        ids = list(Account.objects.filter(user_id__in=user_ids).values_list("pk", flat=True))
        failed += check_sample(label, ids, 25, rng)
    failed += manager_grant(employees[2 * ACCRUE_COUNT + 2 * WARMUP_COUNT :], timeline, currency, actor)

    # Measure 2: the raw variant runs in a transaction that is rolled back, then the service
    # runs on the same state; both must leave the same sums.
    due = Lot.objects.filter(remaining__gt=0, expires_at__lte=timeline.settle_at)
    due_lots, due_accounts = due.count(), due.values("account_id").distinct().count()
    total_lots = common.count_rows("bonuses_lot")["lot"]
    say(
        f"bonuses_daily --date {SETTLE_DAY}: {due_lots} of {total_lots} lots due to expire "
        f"({100 * due_lots / (EMPLOYEES * LOTS_PER_EMPLOYEE):.1f}% of the lots built), on {due_accounts} accounts"
    )
    with transaction.atomic():
        raw_seconds, written = measured("raw SQL (rolled back)", lambda: raw_expiry(timeline, currency))
        raw_state = fingerprint()
        transaction.set_rollback(True)
    service_seconds, output = measured("manage.py bonuses_daily", service_expiry, profile=PROFILE)
    for line in output.strip().splitlines():
        say(f"  | {line.strip()}")
    service_state = fingerprint()
    service_written = {kind: n for kind, n, _total in service_state[5]}.get("expired", 0)
    say(f"  expired entries written: raw SQL {written}, service {service_written}")
    if raw_state != service_state:
        say(f"  ERROR: the raw SQL and the service disagree:\n    raw     {raw_state}\n    service {service_state}")
        failed += 1
    else:
        say("  raw SQL and service leave identical sums (figures, open lots, entries by kind, allocations)")
    compare("ledger_daily_expiry", service_seconds, raw_seconds)
    failed += check_sample("after bonuses_daily", account_ids, LEDGER_SAMPLE, rng)
    say(f"  rows: {common.count_rows(*TABLES)}")
    if failed:
        say(f"ERROR: {failed} ledger check(s) failed")
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(common.run_bench(run, ""))
