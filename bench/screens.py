"""Benchmark of the administrator screens on a large company against the same screens on a small one.

Run from the repository root: `make bench` or `.venv/bin/python bench/screens.py`.

It builds two scratch databases in one run, with the same generator:

- small: 1,000 active employees and about 10,000 log entries;
- large: 100,000 active employees and about 1,000,000 log entries, scaled by BENCH_SCALE
  (default 1.0; 0.1 builds a tenth).

Each has 12 departments of uneven size, 25 cities, 40 positions, 20 tags (0-3 per employee),
names from 89 first names and 91 surnames, 2% former (inactive) employees on top, an account
per employee in "Bonuses" with a spread balance (and in "Stars" for about 30%), 48 bulk
batches and entries of every kind (accruals, write-offs, order reservations with their
reservation rows, activations, expiries, burn-outs) spread over the year before 2026-03-01,
about 10 per employee. The rows are written with INSERT ... SELECT statements; the ledger's
identities are not kept (the screens only read).

Then, logged in (django.test.Client, force_login) as a member of the group "Administrators",
with DEBUG off as in production, it times the server side of each request in this process
(the whole Django request: middleware, session and permission queries, view, template, and
reading the streamed body) and prints one `BENCH <name> ratio=<value> goal=<value>` line per
measure:

- screens_accrual_page: /bonuses/accrual/?department=<id>&sort=-balance (the department of
  median size), large / small;
- screens_log_by_employee: /bonuses/log/?employee=<id> (an employee with a median history);
- screens_log_by_period: /bonuses/log/?period_from=2025-11-01&period_to=2025-11-30;
- screens_autocomplete: /bonuses/employees/autocomplete/?q=kowa (part of a surname: about 1% of
  the employees match);
- screens_export_100k: /bonuses/accrual/?export=xlsx (every active employee, large database
  only) against a bare openpyxl write-only dump of the same rows read with one SQL query,
  written to a temporary file and read back; `peak_mb=` is the process's peak resident memory
  (RSS: VmHWM after resetting it through /proc/self/clear_refs, or RSS sampled every 2 ms
  where that is not possible) above its RSS just before the export. BENCH_TRACEMALLOC=1 adds
  tracemalloc's peak during one more export (Python allocations only, but not hidden by heap
  the process had already freed; the traced export runs several times slower).

The page goals are 2 (a page on 100 times the data may take at most twice as long), the
export's 1.5 and under 150 MB. Each page time is the median of BENCH_REPEATS (default 11)
requests after BENCH_WARMUP (default 2) untimed ones; small and large requests alternate, so
that load from other processes on the machine hits both alike. The export and the bare dump
alternate BENCH_EXPORT_REPEATS times (default 5) after one warm-up of each; the exported file is
opened with openpyxl (read-only) and its data rows counted. When a page misses its goal, its
statements on both databases are listed with their times and the slowest ones explained
(EXPLAIN QUERY PLAN on SQLite, EXPLAIN ANALYZE on PostgreSQL), and a missed export gets its
statements and the plan of its slowest; BENCH_EXPLAIN=1 does so for every measure. BENCH_PROFILE=1
adds cProfile's view of one more export. An informational line (not a goal) times the
autocomplete typed out as a full name, which matches about one employee in 10,000.

The databases: two fresh SQLite files in temporary directories, deleted afterwards; when
BENCH_DATABASE_URL, or else DATABASE_URL, names a PostgreSQL server (scripts/with-postgres sets
DATABASE_URL), two scratch databases created on that server and dropped afterwards (the role
needs CREATEDB). A SQLite BENCH_DATABASE_URL names a file; `-small` and `-large` are added to
its name, and the new files are kept. The developer's database is never opened. Informational
lines do not start with BENCH; the script exits 0 when a goal is missed and non-zero on an error.
"""

import copy
import cProfile
import gc
import io
import json
import os
import pstats
import re
import statistics
import sys
import tempfile
import threading
import time
import tracemalloc
import warnings
from dataclasses import dataclass, field
from datetime import date, timedelta

from common import django_environment, refuse_developer_database, say, scratch_database

SCALE = float(os.environ.get("BENCH_SCALE", "1.0"))
EMPLOYEES = max(100, round(100_000 * SCALE))  # active employees, the administrators among them
SMALL_EMPLOYEES = 1_000
FORMER_SHARE = 0.02  # former (inactive) employees, on top of the active ones
REPEATS = int(os.environ.get("BENCH_REPEATS", "11"))
WARMUP = int(os.environ.get("BENCH_WARMUP", "2"))
EXPORT_REPEATS = int(os.environ.get("BENCH_EXPORT_REPEATS", "5"))
EXPLAIN_ALL = os.environ.get("BENCH_EXPLAIN", "") not in ("", "0")
PROFILE = os.environ.get("BENCH_PROFILE", "") not in ("", "0")
TRACEMALLOC = os.environ.get("BENCH_TRACEMALLOC", "") not in ("", "0")
PAGE_GOAL = 2
EXPORT_GOAL = 1.5
MEMORY_GOAL_MB = 150

# The history covers the year before this day (company time); the log page asks for one month of it.
END_DAY = date(2026, 3, 1)
PERIOD = (date(2025, 11, 1), date(2025, 11, 30))
YEAR_SECONDS = 365 * 24 * 3600
BATCHES = 48
ADMINISTRATORS = ("Alex Admin", "Berit Boss", "Chen Controller")  # the first one logs in
AUTOCOMPLETE_QUERY = "kowa"

# (name, the ASCII spelling used in e-mail addresses)
FIRST_NAMES = [
    (name, name.translate(str.maketrans("áäåéíóöüąęłńśźżçã", "aaaeioouaelnszzca")).lower())
    for name in [
        "Aaliyah",
        "Adam",
        "Agnieszka",
        "Ahmed",
        "Aiko",
        "Alejandro",
        "Alexei",
        "Amara",
        "Ana",
        "Andrea",
        "Anna",
        "Annika",
        "Arjun",
        "Astrid",
        "Aylin",
        "Beatriz",
        "Benedikt",
        "Björn",
        "Camille",
        "Carlos",
        "Chen",
        "Chiara",
        "Daniel",
        "Dmitri",
        "Elena",
        "Elif",
        "Emma",
        "Erik",
        "Fatima",
        "Felix",
        "Francesca",
        "Freya",
        "Gabriel",
        "Grace",
        "Hana",
        "Hannah",
        "Hiroshi",
        "Ibrahim",
        "Ingrid",
        "Isabel",
        "Ivan",
        "Jakob",
        "Jana",
        "Javier",
        "Johanna",
        "Jonas",
        "Julia",
        "Kai",
        "Karin",
        "Katarzyna",
        "Kenji",
        "Lars",
        "Laura",
        "Lea",
        "Leon",
        "Lina",
        "Lucas",
        "Luis",
        "Lukas",
        "Maja",
        "Marco",
        "Maria",
        "Marta",
        "Matteo",
        "Mei",
        "Mia",
        "Mohammed",
        "Nadia",
        "Nils",
        "Noah",
        "Olga",
        "Oscar",
        "Paula",
        "Pedro",
        "Priya",
        "Rafael",
        "Sara",
        "Sofia",
        "Stefan",
        "Svetlana",
        "Tomás",
        "Yuki",
        "Zoe",
        "Zofia",
        "Mateusz",
        "Aleksander",
        "Ewa",
        "Jan",
        "Piotr",
    ]
]
LAST_NAMES = [
    (name, name.translate(str.maketrans("áäåéíóöüąęłńśźżçã", "aaaeioouaelnszzca")).lower())
    for name in [
        "Abramowicz",
        "Almeida",
        "Andersson",
        "Bauer",
        "Becker",
        "Berg",
        "Bergström",
        "Bianchi",
        "Brandt",
        "Carvalho",
        "Castillo",
        "Chen",
        "Costa",
        "Dąbrowski",
        "Dahl",
        "Dubois",
        "Eriksson",
        "Fernández",
        "Fischer",
        "Fontaine",
        "García",
        "Goldberg",
        "Gómez",
        "Greco",
        "Gruber",
        "Haas",
        "Hansen",
        "Hartmann",
        "Hoffmann",
        "Horváth",
        "Ivanova",
        "Jansen",
        "Jensen",
        "Kaiser",
        "Kamińska",
        "Keller",
        "Klein",
        "Koch",
        "Kowalski",
        "Krause",
        "Kuznetsov",
        "Lambert",
        "Larsen",
        "Lehmann",
        "Lindqvist",
        "Lopes",
        "López",
        "Lorenz",
        "Marino",
        "Martin",
        "Martínez",
        "Meyer",
        "Moreau",
        "Morozov",
        "Müller",
        "Nakamura",
        "Nielsen",
        "Nowak",
        "Olsen",
        "Pavlova",
        "Pereira",
        "Petrov",
        "Popescu",
        "Quint",
        "Ramos",
        "Ricci",
        "Richter",
        "Rossi",
        "Sánchez",
        "Santos",
        "Sato",
        "Schäfer",
        "Schmidt",
        "Schneider",
        "Schulz",
        "Silva",
        "Smirnov",
        "Sokolova",
        "Suzuki",
        "Svensson",
        "Takahashi",
        "Tanaka",
        "Vogel",
        "Volkov",
        "Wagner",
        "Weber",
        "Weinberg",
        "Wolf",
        "Yamamoto",
        "Zimmermann",
        "Zielińska",
    ]
]
# (name, share of the employees in percent); the remaining 1% have no department.
DEPARTMENTS = (
    ("Production", 18),
    ("Sales", 14),
    ("Engineering", 12),
    ("Customer Support", 10),
    ("Logistics", 9),
    ("IT Operations", 8),
    ("Marketing", 7),
    ("Finance", 6),
    ("Quality Assurance", 5),
    ("Human Resources", 4),
    ("Procurement", 4),
    ("Legal", 2),
)
CITIES = [
    "Amsterdam",
    "Athens",
    "Barcelona",
    "Berlin",
    "Bratislava",
    "Brussels",
    "Bucharest",
    "Budapest",
    "Copenhagen",
    "Dublin",
    "Frankfurt",
    "Hamburg",
    "Helsinki",
    "Kraków",
    "Lisbon",
    "Ljubljana",
    "Lyon",
    "Madrid",
    "Milan",
    "Munich",
    "Oslo",
    "Prague",
    "Stockholm",
    "Vienna",
    "Warsaw",
]
POSITIONS = [
    "Accountant",
    "Account Manager",
    "Assembler",
    "Business Analyst",
    "Buyer",
    "Customer Service Agent",
    "Data Analyst",
    "Designer",
    "Developer",
    "DevOps Engineer",
    "Driver",
    "Electrician",
    "Engineer",
    "Financial Controller",
    "Forklift Operator",
    "HR Partner",
    "Lawyer",
    "Line Supervisor",
    "Logistics Coordinator",
    "Machine Operator",
    "Maintenance Technician",
    "Marketing Specialist",
    "Office Manager",
    "Paralegal",
    "Payroll Specialist",
    "Product Manager",
    "Production Planner",
    "Project Manager",
    "QA Engineer",
    "Quality Inspector",
    "Recruiter",
    "Sales Representative",
    "Security Officer",
    "Shift Lead",
    "Support Engineer",
    "System Administrator",
    "Team Lead",
    "Technical Writer",
    "Warehouse Clerk",
    "Welder",
]
TAGS = [
    "Ambassador",
    "Apprentice",
    "Blood donor",
    "Board",
    "Champion",
    "Coach",
    "Contractor",
    "First aider",
    "Hybrid",
    "Intern",
    "Mentor",
    "New hire",
    "Night shift",
    "Part-time",
    "Remote",
    "Safety officer",
    "Speaker",
    "Union rep",
    "Veteran",
    "Volunteer",
]
# (kind, share of the entries in percent, sign of the amount)
KINDS = (
    ("manual_accrual", 35, 1),
    ("manager_accrual", 10, 1),
    ("campaign_accrual", 12, 1),
    ("import_accrual", 3, 1),
    ("manual_write_off", 5, -1),
    ("order_reserved", 10, -1),
    ("order_spent", 8, -1),
    ("order_released", 3, 1),
    ("order_refunded", 2, 1),
    ("activated", 4, 1),
    ("expired", 5, -1),
    ("burned", 3, -1),
)
ORDER_KINDS = ("order_reserved", "order_spent", "order_released", "order_refunded")
COMMENTS = {
    "manual_accrual": (
        "Quarterly performance award",
        "Happy birthday!",
        "Thank you for the Aurora release",
        "Employee of the month",
        "Referral bonus",
        "Ten years with us",
    ),
    "manager_accrual": ("Great teamwork on the night shift", "Praised by a customer", "Helped onboard new hires"),
    "campaign_accrual": ("Campaign: healthy steps challenge", "Campaign: idea of the quarter"),
    "import_accrual": ("Imported from the HR system",),
    "manual_write_off": ("Correction of a duplicate accrual", "Accrued to the wrong employee"),
}
HASH = "2654435761"  # Knuth's multiplicative hash, modulo the prime below: a spread of pseudo-random numbers
PRIME = "4294967291"


def sql_text(value: str) -> str:
    """A constant of this file as an SQL string literal (no user input reaches these statements)."""
    return "'" + value.replace("'", "''") + "'"


def case(expression: str, choices: list[tuple[str, str]], default: str = "NULL") -> str:
    """CASE expression WHEN a THEN b ... ELSE default END."""
    return f"CASE {expression} " + " ".join(f"WHEN {a} THEN {b}" for a, b in choices) + f" ELSE {default} END"


# The databases ----------------------------------------------------------------------------


class Databases:
    """The two scratch databases, each with its own open connection; `use` makes one Django's default."""

    def __init__(self, small_url: str):
        import dj_database_url
        from django.db import connections

        large = connections["default"]
        settings_dict = copy.deepcopy(large.settings_dict)
        settings_dict["NAME"] = dj_database_url.parse(small_url)["NAME"]
        self.wrappers = {"large": large, "small": type(large)(settings_dict, "default")}
        self.current = "large"

    def use(self, name: str):
        from django.db import connections

        connections["default"] = self.wrappers[name]
        self.current = name
        return self.wrappers[name]

    def close(self) -> None:
        for wrapper in self.wrappers.values():
            wrapper.close()
        self.use("large")


class Vendor:
    """The few SQL expressions that SQLite and PostgreSQL spell differently."""

    def __init__(self, vendor: str):
        self.sqlite = vendor == "sqlite"

    def plus_days(self, day_sql: str, days_sql: str) -> str:
        if self.sqlite:
            return f"date({day_sql}, '+' || ({days_sql}) || ' days')"
        return f"(CAST({day_sql} AS date) + CAST({days_sql} AS integer))"

    def minus_seconds(self, moment_sql: str, seconds_sql: str) -> str:
        if self.sqlite:
            return f"datetime({moment_sql}, '-' || ({seconds_sql}) || ' seconds')"
        return f"(CAST({moment_sql} AS timestamptz) - ({seconds_sql}) * INTERVAL '1 second')"

    def sorted_names(self) -> str:
        """Per employee, the tag names in order joined with ', ' (what the export writes)."""
        if self.sqlite:
            return (
                "SELECT user_id, group_concat(name, ', ') AS tags FROM (SELECT ut.user_id, t.name"
                " FROM users_user_tags ut JOIN users_tag t ON t.id = ut.tag_id ORDER BY ut.user_id, t.name) o"
                " GROUP BY user_id"
            )
        return (
            "SELECT ut.user_id, string_agg(t.name, ', ' ORDER BY t.name) AS tags"
            " FROM users_user_tags ut JOIN users_tag t ON t.id = ut.tag_id GROUP BY ut.user_id"
        )


# Building the data ------------------------------------------------------------------------


@dataclass
class Company:
    """What the measures need to know about one database."""

    label: str
    employees: int
    admin_id: int = 0
    currency_id: int = 0
    department_id: int = 0
    department_name: str = ""
    department_size: int = 0
    employee_id: int = 0
    employee_entries: int = 0
    full_name_query: str = ""
    counts: dict = field(default_factory=dict)
    matches: dict = field(default_factory=dict)


def insert_named(cursor, table: str, names) -> list[int]:
    cursor.executemany(f"INSERT INTO {table} (name) VALUES (%s)", [(name,) for name in names])
    cursor.execute(f"SELECT id FROM {table} ORDER BY id")
    ids = [row[0] for row in cursor.fetchall()]
    if len(ids) != len(names) or ids[-1] - ids[0] != len(ids) - 1:
        raise RuntimeError(f"bench: {table} did not get {len(names)} consecutive ids")
    return ids


def build(company: Company) -> None:
    """Migrate the current default database and fill it; print the time of each step."""
    from django.contrib.auth.models import Group
    from django.contrib.contenttypes.models import ContentType
    from django.core.management import call_command
    from django.db import connection, transaction

    from bonuses.models import Currency
    from users.models import User

    began = time.perf_counter()
    ContentType.objects.clear_cache()
    call_command("migrate", verbosity=0, interactive=False)
    ContentType.objects.clear_cache()
    say(f"  migrate: {time.perf_counter() - began:.1f} s")
    sql = Vendor(connection.vendor)
    if sql.sqlite:
        with connection.cursor() as cursor:  # a large page cache for the build only (the connection is reopened)
            cursor.execute("PRAGMA cache_size = -262144")

    administrators = Group.objects.get(name="Administrators")
    admin_ids = []
    for number, name in enumerate(ADMINISTRATORS, start=1):
        admin = User.objects.create_user(f"bench-admin-{number}@example.org", None, full_name=name)
        admin.groups.add(administrators)
        admin_ids.append(admin.pk)
    company.admin_id = admin_ids[0]
    currency = Currency.objects.get(is_default=True)
    company.currency_id = currency.pk
    stars = Currency.objects.create(name="Stars", whole_numbers=True)

    dt = connection.ops.adapt_datetimefield_value
    from bonuses.rules import start_of_day

    end = start_of_day(END_DAY)
    now = dt(end)
    bulk = company.employees - len(ADMINISTRATORS)
    formers = round(company.employees * FORMER_SHARE)
    with connection.cursor() as cursor, transaction.atomic():
        start = time.perf_counter()
        departments = insert_named(cursor, "users_department", [name for name, _ in DEPARTMENTS])
        cities = insert_named(cursor, "users_city", CITIES)
        positions = insert_named(cursor, "users_position", POSITIONS)
        tags = insert_named(cursor, "users_tag", TAGS)
        bounds, total = [], 0
        for department_id, (_name, share) in zip(departments, DEPARTMENTS, strict=True):
            total += share
            bounds.append((f"< {total}", str(department_id)))
        department = "CASE " + " ".join(f"WHEN (x.h / 101) %% 100 {b} THEN {d}" for b, d in bounds) + " ELSE NULL END"
        first_values = ", ".join(f"({i}, %s, %s)" for i in range(len(FIRST_NAMES)))
        last_values = ", ".join(f"({i}, %s, %s)" for i in range(len(LAST_NAMES)))
        cursor.execute(
            "INSERT INTO users_user (password, last_login, is_superuser, email, full_name, employee_number,"
            " date_of_birth, hire_date, is_active, is_staff, date_joined, city_id, department_id, position_id)"
            " WITH RECURSIVE seq(n) AS (SELECT 1 UNION ALL SELECT n + 1 FROM seq WHERE n < %s),"
            f" hashed AS (SELECT n, (n * {HASH}) %% {PRIME} AS h FROM seq),"
            f" first_names(i, name, ascii) AS (VALUES {first_values}),"
            f" last_names(i, name, ascii) AS (VALUES {last_values})"
            " SELECT '!', NULL, %s, f.ascii || '.' || l.ascii || '.' || x.n || '@staff.example.com',"
            " f.name || ' ' || l.name, 'E' || (1000000 + x.n),"
            f" {sql.plus_days('%s', '(x.h / 13) %% 15000')}, {sql.plus_days('%s', '(x.h / 17) %% 9400')},"
            f" x.n <= %s, %s, %s, {cities[0]} + (x.h / 7) %% {len(cities)}, {department},"
            f" {positions[0]} + (x.h / 11) %% {len(positions)}"
            f" FROM hashed x JOIN first_names f ON f.i = x.h %% {len(FIRST_NAMES)}"
            f" JOIN last_names l ON l.i = (x.h / {len(FIRST_NAMES)}) %% {len(LAST_NAMES)} ORDER BY x.n",
            [
                bulk + formers,
                *(value for pair in FIRST_NAMES for value in pair),
                *(value for pair in LAST_NAMES for value in pair),
                False,
                "1962-01-01",
                "2000-01-01",
                bulk,
                False,
                now,
            ],
        )
        cursor.execute(
            "INSERT INTO users_user_tags (user_id, tag_id)"
            " WITH RECURSIVE slot(k) AS (SELECT 0 UNION ALL SELECT k + 1 FROM slot WHERE k < 2)"
            f" SELECT u.id, {tags[0]} + (u.id * 31 + s.k * 7) %% {len(tags)}"
            " FROM users_user u CROSS JOIN slot s WHERE u.employee_number IS NOT NULL"
            f" AND ((u.id * {HASH} + s.k * 40503) %% {PRIME}) %% 10 < 4 ORDER BY u.id, s.k",
            [],
        )
        say(f"  employees, tags: {time.perf_counter() - start:.1f} s")

        start = time.perf_counter()
        balances = (
            f"SELECT id, h, CASE WHEN h %% 20 = 0 THEN 0 ELSE ((h %% 2000) * ((h / 2000) %% 2000)) / 800 END AS active,"
            " (h / 3) %% 3000 AS spent, (h / 7) %% 400 AS expired"
            f" FROM (SELECT id, (id * {HASH}) %% {PRIME} AS h FROM users_user) x"
        )
        for currency_id, where in ((currency.pk, "1 = 1"), (stars.pk, "(h / 1000) %% 10 < 3")):
            cursor.execute(
                "INSERT INTO bonuses_account (user_id, currency_id, state, active, reserved, non_activated, spent,"
                " written_off, expired, total_accrued, last_entry_at, streak_started_at, burned_steps)"
                f" SELECT id, %s, 'active', active, 0, 0, spent, 0, expired, active + spent + expired, %s, NULL, 0"
                f" FROM ({balances}) b WHERE {where} ORDER BY id",
                [currency_id, now],
            )
        cursor.executemany(
            "INSERT INTO bonuses_batch (currency_id, actor_id, amount, employee_count, comment, at, created_at)"
            " VALUES (%s, %s, %s, %s, %s, %s, %s)",
            [
                (
                    currency.pk,
                    admin_ids[n % len(admin_ids)],
                    50 + 25 * (n % 5),
                    max(1, company.employees // 20),
                    f"Monthly recognition, round {BATCHES - n}",
                    dt(end - timedelta(seconds=n * (YEAR_SECONDS // BATCHES) + YEAR_SECONDS // BATCHES // 2)),
                    now,
                )
                for n in range(BATCHES)
            ],
        )
        cursor.execute("SELECT MIN(id) FROM bonuses_batch")
        first_batch = cursor.fetchone()[0]
        say(f"  accounts, batches: {time.perf_counter() - start:.1f} s")

        # The entries: about 12 slots per "Bonuses" account (79% kept), 2 per "Stars" account (50% kept).
        bucket, kinds = 0, []
        for kind, share, _sign in KINDS:
            bucket += share
            kinds.append((f"< {bucket}", sql_text(kind)))
        kind_case = "CASE " + " ".join(f"WHEN g %% 100 {b} THEN {k}" for b, k in kinds) + " END"
        at = sql.minus_seconds("%s", "sec")
        generated = (
            "WITH RECURSIVE slot(k) AS (SELECT 0 UNION ALL SELECT k + 1 FROM slot WHERE k < 11),"
            " gen AS (SELECT a.id AS account_id, a.user_id, a.currency_id, s.k,"
            f" (a.id * {HASH} + s.k * 2246822519) %% {PRIME} AS g, (a.id * 40503 + s.k * {HASH}) %% 4294967279 AS g2"
            " FROM bonuses_account a CROSS JOIN slot s WHERE s.k < CASE WHEN a.currency_id = %s THEN 12 ELSE 2 END),"
            f" kept AS (SELECT account_id, user_id, currency_id, k, g, g2, {kind_case} AS kind,"
            " 5 * (1 + (g / 100000) %% 100) AS mag,"
            f" (account_id * 7919 + k * 2629800 + (g2 / 1000) %% 86400) %% {YEAR_SECONDS} AS sec,"
            " (g2 / 7) %% 3000 AS balance"
            " FROM gen WHERE (g / 100) %% 1000 < CASE WHEN currency_id = %s THEN 790 ELSE 500 END)"
        )
        order_kinds = ", ".join(sql_text(kind) for kind in ORDER_KINDS)
        start = time.perf_counter()
        status = case("kind", [("'order_reserved'", "'held'"), ("'order_released'", "'released'")], "'captured'")
        cursor.execute(
            "INSERT INTO bonuses_reservation (account_id, amount, refunded, status, reference, created_at,"
            f" resolved_at) {generated}"
            f" SELECT account_id, mag, 0, {status}, 'ORD-' || account_id || '-' || k, {at}, NULL"
            f" FROM kept WHERE kind IN ({order_kinds}) ORDER BY sec DESC, account_id, k",
            [currency.pk, currency.pk, now],
        )
        say(f"  reservations: {time.perf_counter() - start:.1f} s")

        start = time.perf_counter()
        positive = ", ".join(sql_text(kind) for kind, _share, sign in KINDS if sign > 0)
        actor = case(
            "kind",
            [
                (sql_text(kind), case("g2 %% 3", [(str(i), str(pk)) for i, pk in enumerate(admin_ids)]))
                for kind in ("manual_accrual", "manager_accrual", "import_accrual", "manual_write_off")
            ],
        )
        comment = case(
            "kind",
            [
                (
                    sql_text(kind),
                    case(f"(g2 / 7) %% {len(texts)}", [(str(i), sql_text(t)) for i, t in enumerate(texts)]),
                )
                for kind, texts in COMMENTS.items()
            ],
            "''",
        )
        batch = (
            f"CASE WHEN kind = 'manual_accrual' AND (g2 / 19) %% 3 = 0"
            f" THEN {first_batch} + (sec / {YEAR_SECONDS // BATCHES}) %% {BATCHES} END"
        )
        reservation = (
            f"CASE WHEN kind IN ({order_kinds}) THEN (SELECT r.id FROM bonuses_reservation r"
            " WHERE r.account_id = kept.account_id AND r.reference = 'ORD-' || kept.account_id || '-' || kept.k) END"
        )
        cursor.execute(
            "INSERT INTO bonuses_entry (account_id, user_id, currency_id, kind, amount, balance_after, at,"
            f" created_at, actor_id, comment, lot_id, batch_id, reservation_id) {generated}"
            f" SELECT account_id, user_id, currency_id, kind, CASE WHEN kind IN ({positive}) THEN mag ELSE -mag END,"
            f" balance, {at}, {at}, {actor}, {comment}, NULL, {batch}, {reservation}"
            " FROM kept ORDER BY sec DESC, account_id, k",
            [currency.pk, currency.pk, now, now],
        )
        say(f"  entries: {time.perf_counter() - start:.1f} s")
    start = time.perf_counter()
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE" if sql.sqlite else "VACUUM ANALYZE")
    say(f"  {'ANALYZE' if sql.sqlite else 'VACUUM ANALYZE'}: {time.perf_counter() - start:.1f} s")
    connection.close()  # the measures start on a fresh connection with the default settings
    describe(company)
    say(f"  built in {time.perf_counter() - began:.1f} s: {company.counts}")


def describe(company: Company) -> None:
    """Count the rows; pick the department (of median size) and the employee (median history) the pages ask for."""
    from django.db import connection
    from django.db.models import Count, Q

    from bonuses import selectors
    from bonuses.models import Entry
    from users.models import Department, User

    with connection.cursor() as cursor:
        for table in ("users_user", "users_user_tags", "bonuses_account", "bonuses_reservation", "bonuses_entry"):
            cursor.execute(f"SELECT COUNT(*) FROM {table}")
            company.counts[table.split("_", 1)[1]] = cursor.fetchone()[0]
    company.counts["active employees"] = User.objects.filter(is_active=True).count()
    sizes = sorted(
        Department.objects.annotate(size=Count("employees", filter=Q(employees__is_active=True))).values_list(
            "size", "pk", "name"
        )
    )
    company.department_size, company.department_id, company.department_name = sizes[len(sizes) // 2]
    middle = User.objects.filter(employee_number__isnull=False, is_active=True).order_by("pk")
    candidates = list(middle.values_list("pk", flat=True)[company.employees // 2 : company.employees // 2 + 201])
    histories = sorted(
        (n, user_id)
        for user_id, n in Entry.objects.filter(user_id__in=candidates)
        .order_by()
        .values("user_id")
        .annotate(n=Count("id"))
        .values_list("user_id", "n")
    )
    company.employee_entries, company.employee_id = histories[len(histories) // 2]
    admin = User.objects.get(pk=company.admin_id)
    for label, query in (("autocomplete", AUTOCOMPLETE_QUERY), ("full name", None)):
        if query is None:
            query = User.objects.get(pk=company.employee_id).full_name
            company.full_name_query = query
        matches = selectors.search_employees(selectors.employees_in_scope(admin), query).count()
        company.matches[label] = matches


# Measuring --------------------------------------------------------------------------------


def fetch(client, url: str):
    """One request, timed from the call to the last byte of the body: (seconds, CPU seconds, response, body)."""
    start, cpu = time.perf_counter(), time.process_time()
    response = client.get(url, secure=True)
    if response.streaming:
        body = b"".join(response.streaming_content)
        response.close()
    else:
        body = response.content
    return time.perf_counter() - start, time.process_time() - cpu, response, body


@dataclass
class Page:
    name: str
    urls: dict
    check: object  # (company, body) -> problem or ""
    seconds: dict = field(default_factory=lambda: {"small": [], "large": []})
    cpu: dict = field(default_factory=lambda: {"small": [], "large": []})

    def median(self, label: str) -> float:
        return statistics.median(self.seconds[label])

    @property
    def ratio(self) -> float:
        return self.median("large") / max(self.median("small"), 1e-9)


def rows_in(body: bytes) -> int:
    """Rows of a django-tables2 table: every row has one `<tr` in the body, the header one more."""
    return body.count(b"<tr") - 1


def check_accrual(company: Company, body: bytes) -> str:
    expected = f"{company.department_size} employee".encode()
    if expected not in body:
        return f"the page does not say {company.department_size} employees match"
    return "" if rows_in(body) == min(25, company.department_size) else f"{rows_in(body)} rows, not 25"


def check_log_by_employee(company: Company, body: bytes) -> str:
    expected = min(50, company.employee_entries)
    return "" if rows_in(body) == expected else f"{rows_in(body)} rows, not {expected}"


def check_log_by_period(company: Company, body: bytes) -> str:
    return "" if rows_in(body) == 50 else f"{rows_in(body)} rows, not 50"


def check_autocomplete(company: Company, body: bytes) -> str:
    found = len(json.loads(body)["results"])
    expected = min(20, company.matches["autocomplete"])
    return "" if found == expected else f"{found} results, not {expected}"


def measure_pages(databases: Databases, clients: dict, companies: dict, pages: list[Page]) -> None:
    """WARMUP + REPEATS rounds; in each, every page on both databases, small and large alternating first."""
    for round_number in range(WARMUP + REPEATS):
        order = ("small", "large") if round_number % 2 == 0 else ("large", "small")
        for page in pages:
            for label in order:
                databases.use(label)
                seconds, cpu, response, body = fetch(clients[label], page.urls[label])
                if response.status_code != 200:
                    raise RuntimeError(f"bench: {page.urls[label]} on {label}: HTTP {response.status_code}")
                if round_number == 0:
                    problem = page.check(companies[label], body)
                    if problem:
                        raise RuntimeError(f"bench: {page.urls[label]} on {label}: {problem}")
                if round_number >= WARMUP:
                    page.seconds[label].append(seconds)
                    page.cpu[label].append(cpu)


def report_page(page: Page) -> None:
    say(f"BENCH {page.name} ratio={page.ratio:.2f} goal={PAGE_GOAL}")
    verdict = "met" if page.ratio <= PAGE_GOAL else "MISSED"
    small, large = page.seconds["small"], page.seconds["large"]
    say(
        f"  {page.name}: small {page.median('small') * 1000:.1f} ms, large {page.median('large') * 1000:.1f} ms"
        f" (medians of {len(large)}; large min {min(large) * 1000:.1f} / max {max(large) * 1000:.1f} ms,"
        f" small min {min(small) * 1000:.1f} / max {max(small) * 1000:.1f} ms;"
        f" CPU in this process {statistics.median(page.cpu['small']) * 1000:.1f} /"
        f" {statistics.median(page.cpu['large']) * 1000:.1f} ms) = {page.ratio:.2f} (goal {PAGE_GOAL}: {verdict})"
    )
    say(f"    {page.urls['large']}")


class Recorder:
    """Every statement of a request with its parameters and its time inside execute() (an execute_wrapper)."""

    def __init__(self):
        self.statements = []

    def __call__(self, execute, sql, params, many, context):
        start = time.perf_counter()
        try:
            return execute(sql, params, many, context)
        finally:
            self.statements.append((sql, params, time.perf_counter() - start))


def explain(sql: str, params) -> list[str]:
    from django.db import connection

    with connection.cursor() as cursor:
        if connection.vendor == "sqlite":
            cursor.execute("EXPLAIN QUERY PLAN " + sql, params)
            depth, lines = {0: 0}, []
            for node, parent, _unused, detail in cursor.fetchall():
                depth[node] = depth.get(parent, 0) + 1
                lines.append("  " * (depth[node] - 1) + detail)
            return lines
        cursor.execute("EXPLAIN (ANALYZE, BUFFERS) " + sql, params)
        return [row[0] for row in cursor.fetchall()]


def diagnose(databases: Databases, clients: dict, page: Page) -> None:
    """The page's statements on both databases, with their times; the plans of the slowest on the large one."""
    recorded = {}
    for label in ("small", "large"):
        wrapper = databases.use(label)
        fetch(clients[label], page.urls[label])  # warm
        recorder = Recorder()
        with wrapper.execute_wrapper(recorder):
            seconds, _cpu, _response, _body = fetch(clients[label], page.urls[label])
        recorded[label] = recorder.statements
        inside = sum(s for _sql, _params, s in recorder.statements)
        say(
            f"  {page.name} on {label}: {seconds * 1000:.1f} ms, {len(recorder.statements)} statements,"
            f" {inside * 1000:.1f} ms inside execute()"
        )
    small, large = recorded["small"], recorded["large"]
    say(f"  {page.name}: statements, small → large time:")
    for number, (sql, _params, seconds) in enumerate(large, start=1):
        before = f"{small[number - 1][2] * 1000:7.2f}" if number <= len(small) else "      -"
        say(f"    #{number:<2} {before} → {seconds * 1000:7.2f} ms  {' '.join(sql.split())[:300]}")
    slowest = sorted(range(len(large)), key=lambda i: large[i][2], reverse=True)[:2]
    for index in slowest:
        sql, params, seconds = large[index]
        say(f"  plan of #{index + 1} on large ({seconds * 1000:.1f} ms):")
        for line in explain(sql, params):
            say(f"    | {line}")


# Memory -----------------------------------------------------------------------------------


def _status_kb(name: str) -> int:
    with open("/proc/self/status") as status:
        return int(re.search(rf"^{name}:\s+(\d+) kB", status.read(), re.MULTILINE).group(1))


def _can_reset_peak() -> bool:
    try:
        before = _status_kb("VmHWM")
        with open("/proc/self/clear_refs", "w") as refs:
            refs.write("5")
        return _status_kb("VmHWM") <= before
    except (OSError, AttributeError):
        return False


class PeakMemory:
    """The peak of this process's memory while the block runs, above what it held when the block began."""

    def __init__(self):
        if _can_reset_peak():
            self.mode = "hwm"
            self.description = "peak RSS (VmHWM, reset through /proc/self/clear_refs) above the RSS before"
        elif os.path.exists("/proc/self/statm"):
            self.mode = "sample"
            self.description = "peak RSS sampled every 2 ms by a thread, above the RSS before"
        else:
            self.mode = "tracemalloc"
            self.description = "tracemalloc's peak of Python allocations (not C memory; slows the run down)"
        self.peak_mb = 0.0

    def _rss_kb(self) -> int:
        with open("/proc/self/statm") as statm:
            return int(statm.read().split()[1]) * os.sysconf("SC_PAGE_SIZE") // 1024

    def _sample(self) -> None:
        while not self._stop.is_set():
            self._peak = max(self._peak, self._rss_kb())
            time.sleep(0.002)

    def __enter__(self):
        gc.collect()
        if self.mode == "tracemalloc":
            tracemalloc.start()
            return self
        self.base = self._rss_kb()
        if self.mode == "hwm":
            with open("/proc/self/clear_refs", "w") as refs:
                refs.write("5")
        else:
            self._peak, self._stop = self.base, threading.Event()
            self._thread = threading.Thread(target=self._sample, daemon=True)
            self._thread.start()
        return self

    def __exit__(self, *exc):
        if self.mode == "tracemalloc":
            self.peak_mb = tracemalloc.get_traced_memory()[1] / 2**20
            tracemalloc.stop()
        elif self.mode == "hwm":
            self.peak_mb = max(0, _status_kb("VmHWM") - self.base) / 1024
        else:
            self._stop.set()
            self._thread.join()
            self.peak_mb = max(0, max(self._peak, self._rss_kb()) - self.base) / 1024
        return False


# The export -------------------------------------------------------------------------------


def bare_dump(currency_id: int) -> tuple[float, bytes]:
    """The same rows as the export, read with one query and written by a plain write-only workbook."""
    from django.db import connection
    from openpyxl import Workbook

    from bonuses.exports import ACCRUAL_COLUMNS

    sql = Vendor(connection.vendor)
    start = time.perf_counter()
    workbook = Workbook(write_only=True)
    sheet = workbook.create_sheet("Accrual")
    sheet.append([column.header for column in ACCRUAL_COLUMNS])
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT u.full_name, u.email, u.employee_number, p.name, c.name, d.name, COALESCE(tg.tags, ''),"
            " u.hire_date, COALESCE(a.active, 0)"
            " FROM users_user u LEFT JOIN bonuses_account a ON a.user_id = u.id AND a.currency_id = %s"
            " LEFT JOIN users_position p ON p.id = u.position_id LEFT JOIN users_city c ON c.id = u.city_id"
            f" LEFT JOIN users_department d ON d.id = u.department_id LEFT JOIN ({sql.sorted_names()}) tg"
            " ON tg.user_id = u.id WHERE u.is_active ORDER BY u.full_name, u.id",
            [currency_id],
        )
        while rows := cursor.fetchmany(2000):
            for row in rows:
                if isinstance(row[7], str):  # a date as text, should the driver not convert it
                    row = (*row[:7], date.fromisoformat(row[7]), row[8])
                sheet.append(row)
    with tempfile.TemporaryFile() as output:
        workbook.save(output)
        output.seek(0)
        body = output.read()
    return time.perf_counter() - start, body


def read_xlsx(body: bytes, skip: int) -> tuple[int, list[tuple]]:
    """(data rows, the first three) of a workbook's first sheet, the first `skip` rows being headings."""
    from openpyxl import load_workbook

    workbook = load_workbook(io.BytesIO(body), read_only=True)
    rows = workbook.worksheets[0].iter_rows(values_only=True)
    for _ in range(skip):
        next(rows)
    first, count = [], 0
    for row in rows:
        if len(first) < 3:
            first.append(row)
        count += 1
    workbook.close()
    return count, first


def measure_export(databases: Databases, clients: dict, company: Company) -> None:
    databases.use("large")
    client, url = clients["large"], "/bonuses/accrual/?export=xlsx"
    expected = company.counts["active employees"]
    memory = PeakMemory()
    service, bare, peaks, bare_peaks, service_cpu, bare_cpu = [], [], [], [], [], []
    say(f"export: {url} ({expected} active employees), memory: {memory.description}")
    for round_number in range(1 + EXPORT_REPEATS):
        with memory:
            seconds, cpu, response, body = fetch(client, url)
        if response.status_code != 200:
            raise RuntimeError(f"bench: {url}: HTTP {response.status_code}")
        peaks.append(memory.peak_mb)
        with memory:
            cpu_before = time.process_time()
            bare_seconds, bare_body = bare_dump(company.currency_id)
            bare_cpu_seconds = time.process_time() - cpu_before
        bare_peaks.append(memory.peak_mb)
        if round_number == 0:
            rows, first = read_xlsx(body, skip=2)
            bare_rows, bare_first = read_xlsx(bare_body, skip=1)
            say(
                f"  warm-up: export {seconds:.2f} s, {len(body) / 2**20:.1f} MB, {rows} data rows;"
                f" bare dump {bare_seconds:.2f} s, {len(bare_body) / 2**20:.1f} MB, {bare_rows} data rows"
            )
            if rows != expected or bare_rows != expected:
                raise RuntimeError(f"bench: the export has {rows} rows and the bare dump {bare_rows}, not {expected}")
            if [row[:2] for row in first] != [row[:2] for row in bare_first]:
                raise RuntimeError(f"bench: the export and the bare dump begin differently: {first} / {bare_first}")
            continue
        service.append(seconds)
        service_cpu.append(cpu)
        bare.append(bare_seconds)
        bare_cpu.append(bare_cpu_seconds)
    ratio = statistics.median(service) / statistics.median(bare)
    peak = max(peaks)
    say(f"BENCH screens_export_100k ratio={ratio:.2f} goal={EXPORT_GOAL} peak_mb={peak:.1f}")
    time_verdict = "met" if ratio <= EXPORT_GOAL else "MISSED"
    memory_verdict = "met" if peak < MEMORY_GOAL_MB else "MISSED"
    say(
        f"  screens_export_100k: export {statistics.median(service):.2f} s (CPU in this process"
        f" {statistics.median(service_cpu):.2f} s) / bare dump {statistics.median(bare):.2f} s (CPU"
        f" {statistics.median(bare_cpu):.2f} s) = {ratio:.2f}"
        f" (medians of {len(service)}; goal {EXPORT_GOAL}: {time_verdict})"
    )
    say(f"    export runs: {', '.join(f'{s:.2f}' for s in service)} s; bare: {', '.join(f'{s:.2f}' for s in bare)} s")
    paired = statistics.median(s / b for s, b in zip(service, bare, strict=True))
    cpu_ratio = statistics.median(service_cpu) / statistics.median(bare_cpu)
    say(
        f"    (not the measure) median of the per-round ratios {paired:.2f}; ratio of the CPU times in this"
        f" process {cpu_ratio:.2f} (less sensitive to other load, but on PostgreSQL it leaves out the server)"
    )
    say(
        f"  peak memory of the export: {peak:.1f} MB (largest of {len(peaks)} runs, warm-up included:"
        f" {', '.join(f'{p:.1f}' for p in peaks)}; goal under {MEMORY_GOAL_MB} MB: {memory_verdict});"
        f" bare dump {max(bare_peaks):.1f} MB"
    )
    # A second view of the memory: tracemalloc sees only Python's allocations, but is not hidden by
    # memory the process had already taken from the system and freed (the RSS above starts from that).
    if EXPLAIN_ALL or ratio > EXPORT_GOAL:
        diagnose_export(databases.wrappers["large"], client, url)
    if TRACEMALLOC:
        gc.collect()
        tracemalloc.start()
        seconds, _cpu, _response, _body = fetch(client, url)
        traced = tracemalloc.get_traced_memory()[1] / 2**20
        tracemalloc.stop()
        say(
            f"  tracemalloc's peak of Python allocations during one more export: {traced:.1f} MB"
            f" ({seconds:.2f} s traced)"
        )
    if PROFILE:
        profiler = cProfile.Profile()
        profiler.enable()
        fetch(client, url)
        profiler.disable()
        out = io.StringIO()
        pstats.Stats(profiler, stream=out).sort_stats("tottime").print_stats(25)
        for line in out.getvalue().splitlines():
            say(f"    | {line}")


def diagnose_export(wrapper, client, url: str) -> None:
    """The export's statements with their times inside execute(); the plan of the one reading the rows."""
    recorder = Recorder()
    with wrapper.execute_wrapper(recorder):
        seconds, _cpu, _response, _body = fetch(client, url)
    statements = recorder.statements
    inside = sum(s for _sql, _params, s in statements)
    say(
        f"  export once more: {seconds:.2f} s, {len(statements)} statements, {inside:.2f} s inside execute()"
        " (rows read later by fetchmany are not in that figure)"
    )
    for number, (sql, _params, spent) in enumerate(statements[:8], start=1):
        say(f"    #{number:<2} {spent * 1000:8.2f} ms  {' '.join(sql.split())[:300]}")
    if len(statements) > 8:
        say(f"    ... {len(statements) - 8} more, {sum(s for _q, _p, s in statements[8:]) * 1000:.1f} ms in all")
    sql, params, spent = max(statements, key=lambda statement: statement[2])
    say(f"  the slowest statement ({spent * 1000:.1f} ms inside execute()), in full: {' '.join(sql.split())}")
    say("  its plan:")
    for line in explain(sql, params):
        say(f"    | {line}")


# The run ----------------------------------------------------------------------------------

RUN = {}


def main() -> int:
    began = time.perf_counter()
    if not SCALE > 0:
        raise SystemExit(f"bench: BENCH_SCALE must be a positive number, not {SCALE}")
    cleanups = []
    try:
        large_where, large_url, cleanup = scratch_database("large")
        cleanups.append(cleanup)
        small_where, small_url, cleanup = scratch_database("small")
        cleanups.append(cleanup)
        os.environ["DATABASE_URL"] = large_url
        os.environ["ALLOWED_HOSTS"] = "testserver"  # django.test.Client's host; DEBUG is off
        django_environment()
        return run(f"small: {small_where}; large: {large_where}", small_url)
    finally:
        if "databases" in RUN:
            RUN["databases"].close()
        for cleanup in reversed(cleanups):
            cleanup()
        say(f"  whole run: {time.perf_counter() - began:.1f} s")


def run(where: str, small_url: str) -> int:
    import django

    django.setup()
    from django.conf import settings
    from django.contrib.contenttypes.models import ContentType
    from django.test import Client
    from django.test.utils import override_settings

    from users.models import User

    warnings.filterwarnings("ignore", message="No directory at")  # no STATIC_ROOT needed
    # No collectstatic here: static URLs without the manifest's hashes (a dictionary lookup less per URL).
    override_settings(
        STORAGES={
            **settings.STORAGES,
            "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
        }
    ).enable()
    refuse_developer_database()
    databases = RUN["databases"] = Databases(small_url)
    databases.use("small")
    refuse_developer_database()
    say(f"screens bench: BENCH_SCALE={SCALE:g}, {where}, Django DEBUG={settings.DEBUG}")

    companies = {"small": Company("small", SMALL_EMPLOYEES), "large": Company("large", EMPLOYEES)}
    content_types = {}
    for label, company in companies.items():
        databases.use(label)
        say(f"build {label}: {company.employees} active employees")
        build(company)
        content_types[label] = sorted(ContentType.objects.values_list("pk", "app_label", "model"))
    if content_types["small"] != content_types["large"]:
        raise RuntimeError("bench: the two databases number their content types differently")
    for label, company in companies.items():
        say(
            f"  {label}: department {company.department_name!r} ({company.department_size} active employees),"
            f" employee {company.employee_id} ({company.employee_entries} entries),"
            f" {company.matches['autocomplete']} employees match {AUTOCOMPLETE_QUERY!r}"
            f" ({100 * company.matches['autocomplete'] / company.counts['active employees']:.1f}%)"
        )

    clients = {}
    for label, company in companies.items():
        databases.use(label)
        clients[label] = Client()
        clients[label].force_login(
            User.objects.get(pk=company.admin_id), backend="django.contrib.auth.backends.ModelBackend"
        )

    def urls(make) -> dict:
        return {label: make(company) for label, company in companies.items()}

    period = f"period_from={PERIOD[0].isoformat()}&period_to={PERIOD[1].isoformat()}"
    pages = [
        Page(
            "screens_accrual_page",
            urls(lambda c: f"/bonuses/accrual/?department={c.department_id}&sort=-balance"),
            check_accrual,
        ),
        Page(
            "screens_log_by_employee", urls(lambda c: f"/bonuses/log/?employee={c.employee_id}"), check_log_by_employee
        ),
        Page("screens_log_by_period", urls(lambda c: f"/bonuses/log/?{period}"), check_log_by_period),
        Page(
            "screens_autocomplete",
            urls(lambda c: f"/bonuses/employees/autocomplete/?q={AUTOCOMPLETE_QUERY}"),
            check_autocomplete,
        ),
    ]
    say(f"pages: {WARMUP} warm-up and {REPEATS} timed requests of each page on each database, alternating")
    start = time.perf_counter()
    measure_pages(databases, clients, companies, pages)
    say(f"  measured in {time.perf_counter() - start:.1f} s")
    for page in pages:
        report_page(page)

    # Not a goal: the autocomplete typed out in full, matching one employee in 10,000 on the large database.
    rare = Page(
        "autocomplete_full_name",
        {
            label: f"/bonuses/employees/autocomplete/?q={quote(companies['large'].full_name_query)}"
            for label in companies
        },
        lambda company, body: "",
    )
    measure_pages(databases, clients, companies, [rare])
    say(
        f"  (not a goal) autocomplete of a full name, {companies['large'].full_name_query!r}"
        f" ({companies['small'].matches['full name']} / {companies['large'].matches['full name']} matches):"
        f" small {rare.median('small') * 1000:.1f} ms, large {rare.median('large') * 1000:.1f} ms,"
        f" ratio {rare.ratio:.2f}"
    )
    for page in [*pages, rare] if EXPLAIN_ALL else pages:
        if EXPLAIN_ALL or page.ratio > PAGE_GOAL:
            diagnose(databases, clients, page)

    measure_export(databases, clients, companies["large"])
    return 0


def quote(text: str) -> str:
    from urllib.parse import quote_plus

    return quote_plus(text)


if __name__ == "__main__":
    sys.exit(main())
