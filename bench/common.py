"""What the benchmarks in bench/ share: the scratch databases, the Django environment, statement counting.

Not a benchmark itself (`make bench` runs it too; run directly, it does nothing).
"""

import os
import shutil
import sys
import tempfile
import time
from pathlib import Path
from urllib.parse import urlsplit

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

DEVELOPER_DB = ROOT / "var" / "giftshop.sqlite3"
POSTGRES_SCHEMES = ("postgres://", "postgresql://", "pgsql://", "postgis://")


def say(text: str = "") -> None:
    print(text, flush=True)


# The scratch database ---------------------------------------------------------------------


def use_scratch_database():
    """Point DATABASE_URL at a scratch database; return (description, cleanup)."""
    description, url, cleanup = scratch_database()
    os.environ["DATABASE_URL"] = url
    return description, cleanup


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


def refuse_developer_database() -> None:
    """Stop before touching anything when Django's default database is the developer's SQLite file."""
    from django.conf import settings
    from django.db import connection

    name = str(settings.DATABASES["default"]["NAME"])
    if connection.vendor == "sqlite" and Path(name).resolve() == DEVELOPER_DB.resolve():
        raise SystemExit("bench: refusing to run on the developer's database")


# Measuring --------------------------------------------------------------------------------


class QueryStats:
    """Counts the statements sent and the time spent inside cursor.execute (an execute_wrapper)."""

    def __init__(self):
        self.count = 0
        self.seconds = 0.0
        self.by_statement: dict[str, list] = {}  # the statement's first words -> [count, seconds]

    def __call__(self, execute, sql, params, many, context):
        start = time.perf_counter()
        try:
            return execute(sql, params, many, context)
        finally:
            seconds = time.perf_counter() - start
            self.count += 1
            self.seconds += seconds
            shape = self.by_statement.setdefault(" ".join(sql.split())[:90], [0, 0.0])
            shape[0] += 1
            shape[1] += seconds

    def slowest(self, limit: int = 8) -> list[str]:
        ranked = sorted(self.by_statement.items(), key=lambda item: -item[1][1])[:limit]
        return [f"{seconds:8.3f} s {count:5d}x  {shape}" for shape, (count, seconds) in ranked]
