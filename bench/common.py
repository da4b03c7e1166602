"""What the benchmarks in bench/ share: the scratch databases, the data generator, measuring.

`make bench` runs every other script in this folder; this one is not a benchmark.

The data generator writes a company straight into a migrated scratch database with INSERT ... SELECT
statements (100,000 employees and a million rows in seconds; the services would take hours). Every
choice is a hash of a row's number, so each run builds the same company:

- `insert_employees`: names from FIRST_NAMES and LAST_NAMES, a department by the shares of DEPARTMENTS
  (1% have none), a city, a position, 0-3 tags; the former (inactive) employees after the active ones;
- `insert_accounts`: an account per employee in one currency, empty or with spread figures;
- `insert_lots`: lots with their accrual entries and the accounts' figures summed from them, so that the
  ledger's identities hold (bench/ledger.py checks them after its measures);
- `insert_history`: batches, reservations and entries of every kind over a year, identities not kept
  (bench/screens.py only reads).
"""

import io
import os
import pstats
import shutil
import sys
import tempfile
import time
from contextlib import contextmanager
from datetime import date, datetime, timedelta
from pathlib import Path
from urllib.parse import urlsplit

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

DEVELOPER_DB = ROOT / "var" / "giftshop.sqlite3"
POSTGRES_SCHEMES = ("postgres://", "postgresql://", "pgsql://", "postgis://")


def say(text: str = "") -> None:
    print(text, flush=True)


def flag(name: str) -> bool:
    return os.environ.get(name, "") not in ("", "0")


def scale() -> float:
    value = float(os.environ.get("BENCH_SCALE", "1.0"))
    if not value > 0:
        raise SystemExit(f"bench: BENCH_SCALE must be a positive number, not {value}")
    return value


# The scratch databases --------------------------------------------------------------------


def run_bench(run, *labels: str) -> int:
    """Create one scratch database per label, set Django up on the first, return run(where, urls); clean up."""
    began = time.perf_counter()
    cleanups, places, urls = [], [], []
    try:
        for label in labels:
            where, url, cleanup = scratch_database(label)
            cleanups.append(cleanup)
            places.append(f"{label}: {where}" if label else where)
            urls.append(url)
        os.environ["DATABASE_URL"] = urls[0]
        setup_django()
        return run("; ".join(places), urls)
    finally:
        if "django.db" in sys.modules:
            from django.db import connections

            connections.close_all()
        for cleanup in reversed(cleanups):
            cleanup()
        say(f"  whole run: {time.perf_counter() - began:.1f} s")


def scratch_database(label: str = ""):
    """Create a scratch database; return (description, url, cleanup). DATABASE_URL is left alone.

    `label` tells several scratch databases of one run apart: it is added to the PostgreSQL
    database's name and to the name of a SQLite file given by BENCH_DATABASE_URL.
    """
    url = os.environ.get("BENCH_DATABASE_URL") or os.environ.get("DATABASE_URL") or ""
    if url.startswith(POSTGRES_SCHEMES):
        return _postgres_scratch(url, label)
    if os.environ.get("BENCH_DATABASE_URL"):
        import dj_database_url

        path = Path(dj_database_url.parse(url)["NAME"]).resolve()
        if label:
            path = path.with_name(f"{path.stem}-{label}{path.suffix}")
            url = f"sqlite:///{path}"
        if path == DEVELOPER_DB.resolve():
            raise SystemExit("bench: BENCH_DATABASE_URL must not name the developer's database var/giftshop.sqlite3")
        if path.exists() and path.stat().st_size:
            raise SystemExit(f"bench: {path} exists; BENCH_DATABASE_URL must name a new SQLite file")
        return f"SQLite {path} (kept)", url, lambda: None
    directory = tempfile.mkdtemp(prefix="giftshop-bench-")
    name = f"{label or 'bench'}.sqlite3"
    return (
        f"SQLite {directory}/{name} (temporary)",
        f"sqlite:///{directory}/{name}",
        lambda: shutil.rmtree(directory, ignore_errors=True),
    )


def _postgres_scratch(url: str, label: str = ""):
    import dj_database_url
    import psycopg
    from psycopg import sql

    config = dj_database_url.parse(url)
    server = {
        "host": config.get("HOST") or None,
        "port": config.get("PORT") or None,
        "user": config.get("USER") or None,
        "password": config.get("PASSWORD") or None,
        "dbname": config.get("NAME") or "postgres",
    }
    name = f"giftshop_bench_{os.getpid()}" + (f"_{label}" if label else "")
    with psycopg.connect(**server, autocommit=True) as conn:
        conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))

    def drop():
        from django.db import connections

        connections.close_all()
        with psycopg.connect(**server, autocommit=True) as conn:
            conn.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name)))

    where = f"{server['host'] or 'local socket'}:{server['port'] or 5432}"
    return (
        f"PostgreSQL scratch database {name} on {where} (dropped afterwards)",
        urlsplit(url)._replace(path=f"/{name}").geturl(),
        drop,
    )


def django_environment() -> None:
    """DEBUG off, as in production (no per-query log); a throwaway SECRET_KEY; the project's settings."""
    os.environ["DEBUG"] = "0"
    os.environ.setdefault("SECRET_KEY", "bench-only-secret-key-not-for-any-deployment-0123456789")
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "giftshop.settings")
    # The services e-mail every employee who receives points; a benchmark sends nothing.
    os.environ.setdefault("EMAIL_BACKEND", "django.core.mail.backends.dummy.EmailBackend")


def setup_django() -> None:
    """Django on DATABASE_URL, never the developer's database."""
    import django

    django_environment()
    django.setup()
    refuse_developer_database()


def refuse_developer_database() -> None:
    """Stop before touching anything when Django's default database is the developer's SQLite file."""
    from django.conf import settings
    from django.db import connection

    name = str(settings.DATABASES["default"]["NAME"])
    if connection.vendor == "sqlite" and Path(name).resolve() == DEVELOPER_DB.resolve():
        raise SystemExit("bench: refusing to run on the developer's database")


# Measuring --------------------------------------------------------------------------------


class QueryStats:
    """Every statement sent through Django's cursor: (sql, params, seconds inside execute()). An execute_wrapper."""

    def __init__(self):
        self.statements: list[tuple[str, object, float]] = []

    def __call__(self, execute, sql, params, many, context):
        start = time.perf_counter()
        try:
            return execute(sql, params, many, context)
        finally:
            self.statements.append((sql, params, time.perf_counter() - start))

    @property
    def count(self) -> int:
        return len(self.statements)

    @property
    def seconds(self) -> float:
        return sum(seconds for _sql, _params, seconds in self.statements)

    def slowest(self, limit: int = 8) -> list[str]:
        """The statements grouped by their first words, the most time first."""
        shapes: dict[str, list] = {}
        for sql, _params, seconds in self.statements:
            shape = shapes.setdefault(" ".join(sql.split())[:90], [0, 0.0])
            shape[0] += 1
            shape[1] += seconds
        ranked = sorted(shapes.items(), key=lambda item: -item[1][1])[:limit]
        return [f"{seconds:8.3f} s {count:5d}x  {shape}" for shape, (count, seconds) in ranked]


def explain(sql: str, params) -> list[str]:
    """The plan of a statement on the default database; on PostgreSQL with a SELECT's actual times (ANALYZE)."""
    from django.db import connection

    with connection.cursor() as cursor:
        if connection.vendor == "sqlite":
            cursor.execute("EXPLAIN QUERY PLAN " + sql, params)
            depth, lines = {0: 0}, []
            for node, parent, _unused, detail in cursor.fetchall():
                depth[node] = depth.get(parent, 0) + 1
                lines.append("  " * (depth[node] - 1) + detail)
            return [line for line in lines if line.strip()]
        analyze = sql.lstrip().upper().startswith("SELECT")  # ANALYZE runs the statement
        cursor.execute(("EXPLAIN (ANALYZE, BUFFERS) " if analyze else "EXPLAIN ") + sql, params)
        return [row[0] for row in cursor.fetchall()]


def report(name: str, ratio: float, goal: float, extra: str = "") -> str:
    """Print the measure's BENCH line; return "met" or "MISSED"."""
    say(f"BENCH {name} ratio={ratio:.2f} goal={goal}{extra}")
    return "met" if ratio <= goal else "MISSED"


def print_profile(profiler, sort: str, limit: int) -> None:
    out = io.StringIO()
    pstats.Stats(profiler, stream=out).sort_stats(sort).print_stats(limit)
    for line in out.getvalue().splitlines():
        say(f"    | {line}")


@contextmanager
def step(label: str):
    """Print how long the block took."""
    start = time.perf_counter()
    yield
    say(f"  {label}: {time.perf_counter() - start:.1f} s")


# The data: names as text, items separated by commas ---------------------------------------


def listed(text: str) -> list[str]:
    return [" ".join(item.split()) for item in text.split(",") if item.strip()]


def shares(text: str) -> list[tuple[str, int]]:
    """Items "<name> <share>" as (name, share): "Sales 14, Legal 2" is [("Sales", 14), ("Legal", 2)]."""
    return [(name, int(share)) for name, share in (item.rsplit(" ", 1) for item in listed(text))]


FIRST_NAMES = listed("""
    Aaliyah, Adam, Agnieszka, Ahmed, Aiko, Alejandro, Alexei, Amara, Ana, Andrea, Anna, Annika, Arjun, Astrid,
    Aylin, Beatriz, Benedikt, Björn, Camille, Carlos, Chen, Chiara, Daniel, Dmitri, Elena, Elif, Emma, Erik, Fatima,
    Felix, Francesca, Freya, Gabriel, Grace, Hana, Hannah, Hiroshi, Ibrahim, Ingrid, Isabel, Ivan, Jakob, Jana,
    Javier, Johanna, Jonas, Julia, Kai, Karin, Katarzyna, Kenji, Lars, Laura, Lea, Leon, Lina, Lucas, Luis, Lukas,
    Maja, Marco, Maria, Marta, Matteo, Mei, Mia, Mohammed, Nadia, Nils, Noah, Olga, Oscar, Paula, Pedro, Priya,
    Rafael, Sara, Sofia, Stefan, Svetlana, Tomás, Yuki, Zoe, Zofia, Mateusz, Aleksander, Ewa, Jan, Piotr
""")
LAST_NAMES = listed("""
    Abramowicz, Almeida, Andersson, Bauer, Becker, Berg, Bergström, Bianchi, Brandt, Carvalho, Castillo, Chen,
    Costa, Dąbrowski, Dahl, Dubois, Eriksson, Fernández, Fischer, Fontaine, García, Goldberg, Gómez, Greco, Gruber,
    Haas, Hansen, Hartmann, Hoffmann, Horváth, Ivanova, Jansen, Jensen, Kaiser, Kamińska, Keller, Klein, Koch,
    Kowalski, Krause, Kuznetsov, Lambert, Larsen, Lehmann, Lindqvist, Lopes, López, Lorenz, Marino, Martin,
    Martínez, Meyer, Moreau, Morozov, Müller, Nakamura, Nielsen, Nowak, Olsen, Pavlova, Pereira, Petrov, Popescu,
    Quint, Ramos, Ricci, Richter, Rossi, Sánchez, Santos, Sato, Schäfer, Schmidt, Schneider, Schulz, Silva, Smirnov,
    Sokolova, Suzuki, Svensson, Takahashi, Tanaka, Vogel, Volkov, Wagner, Weber, Weinberg, Wolf, Yamamoto,
    Zimmermann, Zielińska
""")
# The share of the employees in percent; the remaining 1% have no department.
DEPARTMENTS = shares("""
    Production 18, Sales 14, Engineering 12, Customer Support 10, Logistics 9, IT Operations 8, Marketing 7,
    Finance 6, Quality Assurance 5, Human Resources 4, Procurement 4, Legal 2
""")
CITIES = listed("""
    Amsterdam, Athens, Barcelona, Berlin, Bratislava, Brussels, Bucharest, Budapest, Copenhagen, Dublin, Frankfurt,
    Hamburg, Helsinki, Kraków, Lisbon, Ljubljana, Lyon, Madrid, Milan, Munich, Oslo, Prague, Stockholm, Vienna,
    Warsaw
""")
POSITIONS = listed("""
    Accountant, Account Manager, Assembler, Business Analyst, Buyer, Customer Service Agent, Data Analyst, Designer,
    Developer, DevOps Engineer, Driver, Electrician, Engineer, Financial Controller, Forklift Operator, HR Partner,
    Lawyer, Line Supervisor, Logistics Coordinator, Machine Operator, Maintenance Technician, Marketing Specialist,
    Office Manager, Paralegal, Payroll Specialist, Product Manager, Production Planner, Project Manager,
    QA Engineer, Quality Inspector, Recruiter, Sales Representative, Security Officer, Shift Lead, Support Engineer,
    System Administrator, Team Lead, Technical Writer, Warehouse Clerk, Welder
""")
TAGS = listed("""
    Ambassador, Apprentice, Blood donor, Board, Champion, Coach, Contractor, First aider, Hybrid, Intern, Mentor,
    New hire, Night shift, Part-time, Remote, Safety officer, Speaker, Union rep, Veteran, Volunteer
""")
# The history's entries: the share of each kind in percent, and the kinds that credit the account.
KINDS = shares("""
    manual_accrual 35, manager_accrual 10, campaign_accrual 12, import_accrual 3, manual_write_off 5,
    order_reserved 10, order_spent 8, order_released 3, order_refunded 2, activated 4, expired 5, burned 3
""")
CREDITS = listed("""
    manual_accrual, manager_accrual, campaign_accrual, import_accrual, order_released, order_refunded, activated
""")
ORDER_KINDS = listed("order_reserved, order_spent, order_released, order_refunded")
COMMENTS = {
    "manual_accrual": listed("""
        Quarterly performance award, Happy birthday!, Thank you for the Aurora release, Employee of the month,
        Referral bonus, Ten years with us
    """),
    "manager_accrual": listed("Great teamwork on the night shift, Praised by a customer, Helped onboard new hires"),
    "campaign_accrual": listed("Campaign: healthy steps challenge, Campaign: idea of the quarter"),
    "import_accrual": listed("Imported from the HR system"),
    "manual_write_off": listed("Correction of a duplicate accrual, Accrued to the wrong employee"),
}
BATCHES = 48
YEAR_SECONDS = 365 * 24 * 3600
ASCII = str.maketrans("áäåéíóöüąęłńśźżçã", "aaaeioouaelnszzca")  # for the e-mail addresses
HASH = "2654435761"  # Knuth's multiplicative hash, modulo the prime below: a spread of pseudo-random numbers
PRIME = "4294967291"


# SQL --------------------------------------------------------------------------------------


def sql_text(value: str) -> str:
    """A constant of bench/ as an SQL string literal (no user input reaches these statements)."""
    return "'" + value.replace("'", "''") + "'"


def case(expression: str, choices: list[tuple[str, str]], default: str = "NULL") -> str:
    """CASE expression WHEN a THEN b ... ELSE default END."""
    return f"CASE {expression} " + " ".join(f"WHEN {a} THEN {b}" for a, b in choices) + f" ELSE {default} END"


class Dialect:
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

    def tag_names(self) -> str:
        """Per employee, the tag names in order joined with ', ' (what the accrual export writes)."""
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


def start_of_day(day: date) -> datetime:
    """00:00 of the day in the company's time zone."""
    from django.utils import timezone

    return datetime.combine(day, datetime.min.time(), tzinfo=timezone.get_default_timezone())


def moment(value: datetime):
    """A datetime as the database driver takes it."""
    from django.db import connection

    return connection.ops.adapt_datetimefield_value(value)


# The data generator -----------------------------------------------------------------------


def migrate() -> None:
    from django.contrib.contenttypes.models import ContentType
    from django.core.management import call_command

    with step("migrate"):
        ContentType.objects.clear_cache()  # a run may build several databases, each numbering its own
        call_command("migrate", verbosity=0, interactive=False)
        ContentType.objects.clear_cache()


@contextmanager
def building():
    """One transaction for the build, with a large SQLite page cache; then fresh statistics for the planner.

    The connection is closed afterwards: the measures start on a new one, with the default settings.
    """
    from django.db import connection, transaction

    if connection.vendor == "sqlite":
        with connection.cursor() as cursor:
            cursor.execute("PRAGMA cache_size = -262144")
    with transaction.atomic():
        yield
    statement = "ANALYZE" if connection.vendor == "sqlite" else "VACUUM ANALYZE"
    with step(statement), connection.cursor() as cursor:
        cursor.execute(statement)
    connection.close()


def create_administrators(names: list[str]) -> list[int]:
    """Members of the group "Administrators", bench-admin-<n>@example.org; their ids."""
    from django.contrib.auth.models import Group

    from users.models import User

    group = Group.objects.get(name="Administrators")
    ids = []
    for number, name in enumerate(names, start=1):
        admin = User.objects.create_user(f"bench-admin-{number}@example.org", None, full_name=name)
        admin.groups.add(group)
        ids.append(admin.pk)
    return ids


def _insert_named(cursor, table: str, names: list[str]) -> list[int]:
    cursor.executemany(f"INSERT INTO {table} (name) VALUES (%s)", [(name,) for name in names])
    cursor.execute(f"SELECT id FROM {table} ORDER BY id")
    ids = [row[0] for row in cursor.fetchall()]
    if len(ids) != len(names) or ids[-1] - ids[0] != len(ids) - 1:
        raise RuntimeError(f"bench: {table} did not get {len(names)} consecutive ids")
    return ids


def insert_employees(*, active: int, former: int, joined: datetime) -> None:
    """The departments, cities, positions and tags; `active` employees numbered E1000001 on, then `former` ones."""
    from django.db import connection

    sql = Dialect(connection.vendor)
    names = [[(name, name.translate(ASCII).lower()) for name in names] for names in (FIRST_NAMES, LAST_NAMES)]
    with step("employees, tags"), connection.cursor() as cursor:
        departments = _insert_named(cursor, "users_department", [name for name, _share in DEPARTMENTS])
        cities = _insert_named(cursor, "users_city", CITIES)
        positions = _insert_named(cursor, "users_position", POSITIONS)
        tags = _insert_named(cursor, "users_tag", TAGS)
        bounds, total = [], 0
        for department_id, (_name, share) in zip(departments, DEPARTMENTS, strict=True):
            total += share
            bounds.append((f"< {total}", str(department_id)))
        department = "CASE " + " ".join(f"WHEN (x.h / 101) %% 100 {b} THEN {d}" for b, d in bounds) + " ELSE NULL END"
        first_values, last_values = (", ".join(f"({i}, %s, %s)" for i in range(len(pairs))) for pairs in names)
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
                active + former,
                *(value for pairs in names for pair in pairs for value in pair),
                False,
                "1962-01-01",
                "2000-01-01",
                active,
                False,
                moment(joined),
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


def insert_accounts(currency_id: int, *, share: int = 100, spread_at: datetime | None = None) -> None:
    """An account in this currency for `share` percent of the employees (former ones too).

    Empty, or with spread figures (5% at zero) and their last entry at `spread_at`.
    """
    from django.db import connection

    figures = (
        "CASE WHEN h %% 20 = 0 THEN 0 ELSE ((h %% 2000) * ((h / 2000) %% 2000)) / 800 END AS active,"
        " (h / 3) %% 3000 AS spent, (h / 7) %% 400 AS expired"
        if spread_at
        else "0 AS active, 0 AS spent, 0 AS expired"
    )
    with connection.cursor() as cursor:
        cursor.execute(
            "INSERT INTO bonuses_account (user_id, currency_id, state, active, reserved, non_activated, spent,"
            " written_off, expired, total_accrued, last_entry_at, streak_started_at, burned_steps)"
            " SELECT id, %s, 'active', active, 0, 0, spent, 0, expired, active + spent + expired, %s, NULL, 0"
            f" FROM (SELECT id, h, {figures} FROM (SELECT id, (id * {HASH}) %% {PRIME} AS h FROM users_user"
            " WHERE employee_number IS NOT NULL) x) b WHERE (h / 1000) %% 100 < %s ORDER BY id",
            [currency_id, moment(spread_at) if spread_at else None, share],
        )


def insert_lots(currency_id: int, *, accrued: list[datetime], expiry: dict[int, datetime], actor_id: int) -> None:
    """Lot k of every account in this currency accrued at accrued[k], with its accrual entry (by actor_id).

    The lot expires at expiry[(account id + k) % 10], never where that is missing; its amount is 10-99.
    The accounts' figures are summed from their lots.
    """
    from django.db import connection

    accrued_case = case("s.k", [(str(k), "%s") for k in range(len(accrued))])
    expiry_case = case("(a.id + s.k) %% 10", [(str(cls), "%s") for cls in expiry])
    amount = "(10 + (a.id * 7 + s.k * 13) %% 90)"
    with connection.cursor() as cursor:
        with step("lots"):
            cursor.execute(
                "INSERT INTO bonuses_lot (account_id, amount, remaining, accrued_at, activates_at, expires_at,"
                " is_activated, source)"
                f" WITH RECURSIVE slot(k) AS (SELECT 0 UNION ALL SELECT k + 1 FROM slot WHERE k < {len(accrued) - 1})"
                f" SELECT a.id, {amount}, {amount}, {accrued_case}, NULL, {expiry_case}, %s, 'manual'"
                " FROM bonuses_account a CROSS JOIN slot s WHERE a.currency_id = %s ORDER BY s.k, a.id",
                [*map(moment, accrued), *map(moment, expiry.values()), True, currency_id],
            )
        with step("accrual entries"):
            # balance_after is the account's running total in time order.
            cursor.execute(
                "INSERT INTO bonuses_entry (account_id, user_id, currency_id, kind, amount, balance_after, at,"
                " created_at, actor_id, comment, lot_id, batch_id, reservation_id)"
                " SELECT l.account_id, a.user_id, a.currency_id, 'manual_accrual', l.amount,"
                " SUM(l.amount) OVER (PARTITION BY l.account_id ORDER BY l.accrued_at, l.id), l.accrued_at,"
                " l.accrued_at, %s, 'bench', l.id, NULL, NULL"
                " FROM bonuses_lot l JOIN bonuses_account a ON a.id = l.account_id WHERE a.currency_id = %s"
                " ORDER BY l.id",
                [actor_id, currency_id],
            )
        with step("account figures"):
            cursor.execute(
                "UPDATE bonuses_account SET active = t.total, total_accrued = t.total, last_entry_at = t.last,"
                " streak_started_at = t.first"
                " FROM (SELECT account_id, SUM(amount) AS total, MAX(accrued_at) AS last, MIN(accrued_at) AS first"
                " FROM bonuses_lot GROUP BY account_id) t"
                " WHERE bonuses_account.id = t.account_id AND bonuses_account.currency_id = %s",
                [currency_id],
            )


def insert_history(currency_id: int, *, admin_ids: list[int], employees: int, end: datetime) -> None:
    """BATCHES bulk batches and about 10 entries per employee over the year before `end`, with their reservations.

    About 12 slots per account in this currency (79% kept), 2 per account in another (50% kept); the kinds by
    the shares of KINDS, the actors among the administrators, the comments from COMMENTS.
    """
    from django.db import connection

    sql = Dialect(connection.vendor)
    now = moment(end)
    with connection.cursor() as cursor:
        with step("batches"):
            cursor.executemany(
                "INSERT INTO bonuses_batch (currency_id, actor_id, amount, employee_count, comment, at, created_at)"
                " VALUES (%s, %s, %s, %s, %s, %s, %s)",
                [
                    (
                        currency_id,
                        admin_ids[n % len(admin_ids)],
                        50 + 25 * (n % 5),
                        max(1, employees // 20),
                        f"Monthly recognition, round {BATCHES - n}",
                        moment(end - timedelta(seconds=n * (YEAR_SECONDS // BATCHES) + YEAR_SECONDS // BATCHES // 2)),
                        now,
                    )
                    for n in range(BATCHES)
                ],
            )
            cursor.execute("SELECT MIN(id) FROM bonuses_batch")
            first_batch = cursor.fetchone()[0]

        bucket, kinds = 0, []
        for kind, share in KINDS:
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
        order_kinds = ", ".join(map(sql_text, ORDER_KINDS))
        with step("reservations"):
            status = case("kind", [("'order_reserved'", "'held'"), ("'order_released'", "'released'")], "'captured'")
            cursor.execute(
                "INSERT INTO bonuses_reservation (account_id, amount, refunded, status, reference, created_at,"
                f" resolved_at) {generated}"
                f" SELECT account_id, mag, 0, {status}, 'ORD-' || account_id || '-' || k, {at}, NULL"
                f" FROM kept WHERE kind IN ({order_kinds}) ORDER BY sec DESC, account_id, k",
                [currency_id, currency_id, now],
            )

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
        with step("entries"):
            cursor.execute(
                "INSERT INTO bonuses_entry (account_id, user_id, currency_id, kind, amount, balance_after, at,"
                f" created_at, actor_id, comment, lot_id, batch_id, reservation_id) {generated}"
                f" SELECT account_id, user_id, currency_id, kind,"
                f" CASE WHEN kind IN ({', '.join(map(sql_text, CREDITS))}) THEN mag ELSE -mag END,"
                f" balance, {at}, {at}, {actor}, {comment}, NULL, {batch}, {reservation}"
                " FROM kept ORDER BY sec DESC, account_id, k",
                [currency_id, currency_id, now, now],
            )


def count_rows(*tables: str) -> dict[str, int]:
    """Rows per table, by the table's name without its app."""
    from django.db import connection

    counts = {}
    with connection.cursor() as cursor:
        for table in tables:
            cursor.execute(f"SELECT COUNT(*) FROM {table}")
            counts[table.split("_", 1)[1]] = cursor.fetchone()[0]
    return counts
