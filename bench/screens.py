"""Benchmark of the administrator screens on a large company against the same screens on a small one.

Run from the repository root: `make bench` or `.venv/bin/python bench/screens.py`; bench/README.md says what
it builds (bench/common.py's generator: 1,000 and 100,000 active employees, the latter scaled by BENCH_SCALE),
what it measures and the settings. It prints one `BENCH <name> ratio=<value> goal=<value>` line per measure:
four pages, the large company's time over the small one's (goal 2), and the accrual export of every active
employee over a bare openpyxl dump of the same rows (goal 1.5), with `peak_mb=`, the growth of a fresh
process's peak RSS during one export (goal under 150 MB). Every response is checked; a measure that misses
its goal gets its statements listed and the slowest explained. It exits 0 when a goal is missed, non-zero on
an error.
"""

import copy
import cProfile
import io
import json
import os
import re
import statistics
import subprocess
import sys
import tempfile
import time
import warnings
from collections import Counter
from dataclasses import dataclass, field
from datetime import date
from urllib.parse import quote_plus

import common
from common import say

SCALE = common.scale()
EMPLOYEES = max(100, round(100_000 * SCALE))  # active employees, the administrators among them
SMALL_EMPLOYEES = 1_000
FORMER_SHARE = 0.02  # former (inactive) employees, on top of the active ones
REPEATS = int(os.environ.get("BENCH_REPEATS", "11"))
WARMUP = int(os.environ.get("BENCH_WARMUP", "2"))
EXPORT_REPEATS = int(os.environ.get("BENCH_EXPORT_REPEATS", "5"))
EXPLAIN_ALL = common.flag("BENCH_EXPLAIN")
PROFILE = common.flag("BENCH_PROFILE")
PAGE_GOAL = 2
EXPORT_GOAL = 1.5
MEMORY_GOAL_MB = 150

# The history covers the year before this day (company time); the log page asks for one month of it.
END_DAY = date(2026, 3, 1)
PERIOD = (date(2025, 11, 1), date(2025, 11, 30))
ADMINISTRATORS = ["Alex Admin", "Berit Boss", "Chen Controller"]  # the first one logs in
AUTOCOMPLETE_QUERY = "kowa"  # part of a surname: about 1% of the employees match
AUTOCOMPLETE_URL = "/bonuses/employees/autocomplete/?q="
EXPORT_URL = "/bonuses/accrual/?export=xlsx"
TABLES = ("users_user", "users_user_tags", "bonuses_account", "bonuses_reservation", "bonuses_entry")


class Databases:
    """The two scratch databases, each with its own open connection; `use` makes one Django's default."""

    def __init__(self, small_url: str):
        import dj_database_url
        from django.db import connections

        large = connections["default"]
        settings_dict = copy.deepcopy(large.settings_dict)
        settings_dict["NAME"] = dj_database_url.parse(small_url)["NAME"]
        self.wrappers = {"large": large, "small": type(large)(settings_dict, "default")}

    def use(self, name: str):
        from django.db import connections

        connections["default"] = self.wrappers[name]
        return self.wrappers[name]

    def __enter__(self):
        return self

    def __exit__(self, *exc) -> None:
        for wrapper in self.wrappers.values():
            wrapper.close()
        self.use("large")


# Building the data ------------------------------------------------------------------------


@dataclass
class Company:
    """What the measures need to know about one database."""

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
    matches: int = 0  # of AUTOCOMPLETE_QUERY


def build(company: Company) -> None:
    """Migrate the current default database and fill it; print the time of each step."""
    from bonuses.models import Currency

    began = time.perf_counter()
    common.migrate()
    admin_ids = common.create_administrators(ADMINISTRATORS)
    company.admin_id = admin_ids[0]
    company.currency_id = Currency.objects.get(is_default=True).pk  # made by a migration
    stars = Currency.objects.create(name="Stars", whole_numbers=True)
    end = common.start_of_day(END_DAY)
    with common.building():
        active = company.employees - len(ADMINISTRATORS)
        common.insert_employees(active=active, former=round(company.employees * FORMER_SHARE), joined=end)
        with common.step("accounts"):
            common.insert_accounts(company.currency_id, spread_at=end)
            common.insert_accounts(stars.pk, share=30, spread_at=end)
        common.insert_history(company.currency_id, admin_ids=admin_ids, employees=company.employees, end=end)
    describe(company)
    say(f"  built in {time.perf_counter() - began:.1f} s: {company.counts}")


def describe(company: Company) -> None:
    """Count the rows; pick the department (of median size) and the employee (median history) the pages ask for."""
    from django.db.models import Count, Q

    from bonuses.models import Entry
    from users.models import Department, User

    company.counts = common.count_rows(*TABLES)
    company.counts["active employees"] = User.objects.filter(is_active=True).count()
    active = Count("employees", filter=Q(employees__is_active=True))
    sizes = sorted(Department.objects.annotate(size=active).values_list("size", "pk", "name"))
    company.department_size, company.department_id, company.department_name = sizes[len(sizes) // 2]
    middle = User.objects.filter(employee_number__isnull=False, is_active=True).order_by("pk")
    candidates = list(middle.values_list("pk", flat=True)[company.employees // 2 : company.employees // 2 + 201])
    entries = Counter(Entry.objects.filter(user_id__in=candidates).values_list("user_id", flat=True))
    histories = sorted((n, user_id) for user_id, n in entries.items())
    company.employee_entries, company.employee_id = histories[len(histories) // 2]
    company.full_name_query = User.objects.get(pk=company.employee_id).full_name
    company.matches = matching(company, AUTOCOMPLETE_QUERY)


def matching(company: Company, query: str) -> int:
    """How many employees the autocomplete finds for the administrator on the current default database."""
    from bonuses import selectors
    from users.models import User

    in_scope = selectors.employees_in_scope(User.objects.get(pk=company.admin_id))
    return selectors.search_employees(in_scope, query).count()


# The pages --------------------------------------------------------------------------------


def fetch(client, url: str):
    """One request (status 200), timed from the call to the last byte of the body: (seconds, CPU seconds, body)."""
    start, cpu = time.perf_counter(), time.process_time()
    response = client.get(url, secure=True)
    if response.streaming:
        body = b"".join(response.streaming_content)
        response.close()
    else:
        body = response.content
    if response.status_code != 200:
        raise RuntimeError(f"bench: {url}: HTTP {response.status_code}")
    return time.perf_counter() - start, time.process_time() - cpu, body


@dataclass
class Page:
    name: str
    url: str  # with {c.<field>} of the Company
    shows: object = None  # (company) -> the rows of its table or the results of the autocomplete; None: unchecked
    says: str = ""  # a text the page must show, with {c.<field>}
    seconds: dict = field(default_factory=lambda: {"small": [], "large": []})
    cpu: dict = field(default_factory=lambda: {"small": [], "large": []})

    def urls(self, companies: dict) -> dict:
        return {label: self.url.format(c=company) for label, company in companies.items()}

    def median(self, label: str) -> float:
        return statistics.median(self.seconds[label])

    @property
    def ratio(self) -> float:
        return self.median("large") / max(self.median("small"), 1e-9)


def check(page: Page, company: Company, body: bytes, where: str) -> None:
    if page.shows is None:
        return
    # A django-tables2 table has a `<tr` per row and one for its header.
    found = len(json.loads(body)["results"]) if body.startswith(b"{") else body.count(b"<tr") - 1
    if found != page.shows(company):
        raise RuntimeError(f"bench: {where}: {found} rows or results, not {page.shows(company)}")
    if page.says.format(c=company).encode() not in body:
        raise RuntimeError(f"bench: {where}: the page does not say {page.says.format(c=company)!r}")


def measure_pages(databases: Databases, clients: dict, companies: dict, pages: list[Page]) -> None:
    """WARMUP + REPEATS rounds; in each, every page on both databases, small and large alternating first."""
    for round_number in range(WARMUP + REPEATS):
        order = ("small", "large") if round_number % 2 == 0 else ("large", "small")
        for page in pages:
            urls = page.urls(companies)
            for label in order:
                databases.use(label)
                seconds, cpu, body = fetch(clients[label], urls[label])
                if round_number == 0:
                    check(page, companies[label], body, f"{urls[label]} on {label}")
                if round_number >= WARMUP:
                    page.seconds[label].append(seconds)
                    page.cpu[label].append(cpu)


def report_page(page: Page, companies: dict) -> None:
    verdict = common.report(page.name, page.ratio, PAGE_GOAL)
    small, large = page.seconds["small"], page.seconds["large"]
    say(
        f"  {page.name}: small {page.median('small') * 1000:.1f} ms, large {page.median('large') * 1000:.1f} ms"
        f" (medians of {len(large)}; large min {min(large) * 1000:.1f} / max {max(large) * 1000:.1f} ms,"
        f" small min {min(small) * 1000:.1f} / max {max(small) * 1000:.1f} ms;"
        f" CPU in this process {statistics.median(page.cpu['small']) * 1000:.1f} /"
        f" {statistics.median(page.cpu['large']) * 1000:.1f} ms) = {page.ratio:.2f} (goal {PAGE_GOAL}: {verdict})"
    )
    say(f"    {page.urls(companies)['large']}")


def diagnose(databases: Databases, clients: dict, name: str, urls: dict) -> None:
    """The request's statements on each database with their times; the plans of the slowest two on the large one.

    The times are inside execute(): rows a statement's cursor hands over later (fetchmany) are not in them.
    """
    recorded = {}
    for label, url in urls.items():
        wrapper = databases.use(label)
        stats = recorded[label] = common.QueryStats()
        with wrapper.execute_wrapper(stats):
            seconds, _cpu, _body = fetch(clients[label], url)
        say(
            f"  {name} on {label}: {seconds * 1000:.1f} ms, {stats.count} statements,"
            f" {stats.seconds * 1000:.1f} ms inside execute()"
        )
    small, large = recorded.get("small", common.QueryStats()).statements, recorded["large"].statements
    say(f"  {name}: statements, small → large time:")
    for number, (sql, _params, seconds) in enumerate(large, start=1):
        before = f"{small[number - 1][2] * 1000:7.2f}" if number <= len(small) else "      -"
        say(f"    #{number:<2} {before} → {seconds * 1000:7.2f} ms  {' '.join(sql.split())[:300]}")
    for index in sorted(range(len(large)), key=lambda i: large[i][2], reverse=True)[:2]:
        sql, params, seconds = large[index]
        say(f"  plan of #{index + 1} on large ({seconds * 1000:.1f} ms):")
        for line in common.explain(sql, params):
            say(f"    | {line}")


# The export -------------------------------------------------------------------------------


def read_xlsx(body: bytes, headings: int) -> tuple[list[tuple], int, list[tuple]]:
    """(the heading rows, the number of data rows, the first three) of a workbook's first sheet."""
    from openpyxl import load_workbook

    workbook = load_workbook(io.BytesIO(body), read_only=True)
    rows = workbook.worksheets[0].iter_rows(values_only=True)
    top = [next(rows) for _ in range(headings)]
    first, count = [], 0
    for row in rows:
        if len(first) < 3:
            first.append(row)
        count += 1
    workbook.close()
    return top, count, first


def bare_dump(currency_id: int, header: tuple) -> tuple[float, bytes]:
    """The export's rows read with one query and written by a plain write-only workbook: (seconds, file)."""
    from django.db import connection
    from openpyxl import Workbook

    tags = common.Dialect(connection.vendor).tag_names()
    start = time.perf_counter()
    workbook = Workbook(write_only=True)
    sheet = workbook.create_sheet("Accrual")
    sheet.append(header)
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT u.full_name, u.email, u.employee_number, p.name, c.name, d.name, COALESCE(tg.tags, ''),"
            " u.hire_date, COALESCE(a.active, 0)"
            " FROM users_user u LEFT JOIN bonuses_account a ON a.user_id = u.id AND a.currency_id = %s"
            " LEFT JOIN users_position p ON p.id = u.position_id LEFT JOIN users_city c ON c.id = u.city_id"
            f" LEFT JOIN users_department d ON d.id = u.department_id LEFT JOIN ({tags}) tg"
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


def export_memory(admin_id: int) -> float:
    """How far a fresh process's peak RSS (Linux's VmHWM) rises above its RSS during one export, in MB; else nan.

    A fresh process, because this one holds heap freed after the build, which an export would reuse unseen.
    """
    if not os.path.exists("/proc/self/clear_refs"):
        say("  memory not measured: the peak RSS is read from Linux's /proc/self")
        return float("nan")
    child = [sys.executable, __file__, "--export-memory", str(admin_id)]
    done = subprocess.run(child, capture_output=True, text=True)
    if done.returncode:
        raise RuntimeError(f"bench: the export's memory could not be measured:\n{done.stderr}")
    return float(done.stdout.split()[-1])


def export_memory_child(admin_id: int) -> int:
    """screens.py --export-memory <admin id>: print how far the peak RSS rose above the RSS during one export."""
    common.setup_django()
    from django.test import Client

    from users.models import User

    def status_kb(name: str) -> int:
        with open("/proc/self/status") as status:
            return int(re.search(rf"^{name}:\s+(\d+) kB", status.read(), re.MULTILINE).group(1))

    with static_without_manifest():
        client = Client()
        client.force_login(User.objects.get(pk=admin_id), backend="django.contrib.auth.backends.ModelBackend")
        fetch(client, EXPORT_URL + "&balance_min=1000000")  # no rows: the code and its imports are loaded
        with open("/proc/self/clear_refs", "w") as refs:
            refs.write("5")  # the peak (VmHWM) starts again from the RSS now
        before = status_kb("VmRSS")
        response = client.get(EXPORT_URL, secure=True)
        for _chunk in response.streaming_content:  # read, not kept
            pass
        response.close()
    say(f"{(status_kb('VmHWM') - before) / 1024:.1f}")  # MB
    return 0


def measure_export(databases: Databases, client, company: Company) -> None:
    databases.use("large")
    expected = company.counts["active employees"]
    say(f"export: {EXPORT_URL} ({expected} active employees)")
    seconds, _cpu, body = fetch(client, EXPORT_URL)
    (_title, header), rows, first = read_xlsx(body, headings=2)
    bare_seconds, bare_body = bare_dump(company.currency_id, header)
    _top, bare_rows, bare_first = read_xlsx(bare_body, headings=1)
    say(
        f"  warm-up: export {seconds:.2f} s, {len(body) / 2**20:.1f} MB, {rows} data rows;"
        f" bare dump {bare_seconds:.2f} s, {len(bare_body) / 2**20:.1f} MB, {bare_rows} data rows"
    )
    if rows != expected or bare_rows != expected:
        raise RuntimeError(f"bench: the export has {rows} rows and the bare dump {bare_rows}, not {expected}")
    if [row[:2] for row in first] != [row[:2] for row in bare_first]:
        raise RuntimeError(f"bench: the export and the bare dump begin differently: {first} / {bare_first}")

    service, bare, service_cpu, bare_cpu = [], [], [], []
    for _round in range(EXPORT_REPEATS):
        seconds, cpu, _body = fetch(client, EXPORT_URL)
        service.append(seconds)
        service_cpu.append(cpu)
        before = time.process_time()
        bare.append(bare_dump(company.currency_id, header)[0])
        bare_cpu.append(time.process_time() - before)
    ratio = statistics.median(service) / statistics.median(bare)
    peak = export_memory(company.admin_id)
    verdict = common.report("screens_export_100k", ratio, EXPORT_GOAL, f" peak_mb={peak:.1f}")
    say(
        f"  screens_export_100k: export {statistics.median(service):.2f} s (CPU in this process"
        f" {statistics.median(service_cpu):.2f} s) / bare dump {statistics.median(bare):.2f} s (CPU"
        f" {statistics.median(bare_cpu):.2f} s) = {ratio:.2f} (medians of {len(service)};"
        f" goal {EXPORT_GOAL}: {verdict})"
    )
    paired = statistics.median(s / b for s, b in zip(service, bare, strict=True))
    say(
        f"    export runs: {', '.join(f'{s:.2f}' for s in service)} s; bare: {', '.join(f'{s:.2f}' for s in bare)} s;"
        f" (not the measure) median of the per-round ratios {paired:.2f}, ratio of the CPU times in this process"
        f" {statistics.median(service_cpu) / statistics.median(bare_cpu):.2f} (less sensitive to other load,"
        " but on PostgreSQL it leaves out the server)"
    )
    memory_verdict = "met" if peak < MEMORY_GOAL_MB else "MISSED"
    say(
        f"  peak memory of the export: {peak:.1f} MB above the RSS before it, in a fresh process that only exports"
        f" (goal under {MEMORY_GOAL_MB} MB: {memory_verdict})"
    )
    if EXPLAIN_ALL or ratio > EXPORT_GOAL:
        diagnose(databases, {"large": client}, "screens_export_100k", {"large": EXPORT_URL})
    if PROFILE:
        profiler = cProfile.Profile()
        profiler.enable()
        fetch(client, EXPORT_URL)
        profiler.disable()
        common.print_profile(profiler, "tottime", 25)


# The run ----------------------------------------------------------------------------------


def static_without_manifest():
    """Static URLs without the manifest's hashes: no collectstatic (and a dictionary lookup less per URL)."""
    from django.conf import settings
    from django.test.utils import override_settings

    warnings.filterwarnings("ignore", message="No directory at")  # no STATIC_ROOT needed
    backend = "django.contrib.staticfiles.storage.StaticFilesStorage"
    return override_settings(STORAGES={**settings.STORAGES, "staticfiles": {"BACKEND": backend}})


def run(where: str, urls: list[str]) -> int:
    from django.conf import settings

    say(f"screens bench: BENCH_SCALE={SCALE:g}, {where}, Django DEBUG={settings.DEBUG}")
    with Databases(urls[1]) as databases, static_without_manifest():
        return measure(databases)


def measure(databases: Databases) -> int:
    from django.contrib.contenttypes.models import ContentType
    from django.test import Client

    from users.models import User

    companies = {"small": Company(SMALL_EMPLOYEES), "large": Company(EMPLOYEES)}
    content_types, clients = {}, {}
    for label, company in companies.items():
        databases.use(label)
        say(f"build {label}: {company.employees} active employees")
        build(company)
        content_types[label] = sorted(ContentType.objects.values_list("pk", "app_label", "model"))
        clients[label] = Client()
        admin = User.objects.get(pk=company.admin_id)
        clients[label].force_login(admin, backend="django.contrib.auth.backends.ModelBackend")
    if content_types["small"] != content_types["large"]:
        raise RuntimeError("bench: the two databases number their content types differently")
    for label, company in companies.items():
        say(
            f"  {label}: department {company.department_name!r} ({company.department_size} active employees),"
            f" employee {company.employee_id} ({company.employee_entries} entries),"
            f" {company.matches} employees match {AUTOCOMPLETE_QUERY!r}"
            f" ({100 * company.matches / company.counts['active employees']:.1f}%)"
        )

    period = f"period_from={PERIOD[0]}&period_to={PERIOD[1]}"
    pages = [
        Page(
            "screens_accrual_page",
            "/bonuses/accrual/?department={c.department_id}&sort=-balance",
            lambda c: min(25, c.department_size),
            says="{c.department_size} employee",
        ),
        Page(
            "screens_log_by_employee", "/bonuses/log/?employee={c.employee_id}", lambda c: min(50, c.employee_entries)
        ),
        Page("screens_log_by_period", f"/bonuses/log/?{period}", lambda c: 50),
        Page("screens_autocomplete", AUTOCOMPLETE_URL + AUTOCOMPLETE_QUERY, lambda c: min(20, c.matches)),
    ]
    say(f"pages: {WARMUP} warm-up and {REPEATS} timed requests of each page on each database, alternating")
    start = time.perf_counter()
    measure_pages(databases, clients, companies, pages)
    say(f"  measured in {time.perf_counter() - start:.1f} s")
    for page in pages:
        report_page(page, companies)

    # Not a goal: the autocomplete typed out in full, matching one employee in 10,000 on the large database.
    full_name = companies["large"].full_name_query
    rare = Page("autocomplete_full_name", AUTOCOMPLETE_URL + quote_plus(full_name))
    measure_pages(databases, clients, companies, [rare])
    found = {}
    for label, company in companies.items():
        databases.use(label)
        found[label] = matching(company, full_name)
    say(
        f"  (not a goal) autocomplete of a full name, {full_name!r} ({found['small']} / {found['large']} matches):"
        f" small {rare.median('small') * 1000:.1f} ms, large {rare.median('large') * 1000:.1f} ms,"
        f" ratio {rare.ratio:.2f}"
    )
    for page in [*pages, rare] if EXPLAIN_ALL else [page for page in pages if page.ratio > PAGE_GOAL]:
        diagnose(databases, clients, page.name, page.urls(companies))

    measure_export(databases, clients["large"], companies["large"])
    return 0


if __name__ == "__main__":
    os.environ["ALLOWED_HOSTS"] = "testserver"  # django.test.Client's host; DEBUG is off
    if sys.argv[1:2] == ["--export-memory"]:
        sys.exit(export_memory_child(int(sys.argv[2])))
    sys.exit(common.run_bench(run, "large", "small"))
