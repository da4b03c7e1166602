import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
PRODUCTION = {
    "DEBUG": "0",
    "SECRET_KEY": "k3*9x!vq2#pz7@m4w8&r1^t6(y0)u5_e-b+n=h[c]j{d}f;g:s<a>o?l.i,QWERTY",
    "ALLOWED_HOSTS": "giftshop.example.com",
}


def run_check(extra_env: dict) -> subprocess.CompletedProcess:
    # The project's settings as a deployment reads them (not tests/settings.py, which turns DEBUG on).
    unset = {"DEBUG", "SECRET_KEY", "ALLOWED_HOSTS", "DJANGO_ALLOW_ASYNC_UNSAFE", "DJANGO_SETTINGS_MODULE"}
    env = {k: v for k, v in os.environ.items() if k not in unset}
    env.update(extra_env)
    return subprocess.run(
        [sys.executable, "manage.py", "check", "--deploy", "--fail-level", "WARNING"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_production_settings_pass_the_deploy_check():
    result = run_check(PRODUCTION)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "no issues" in result.stdout


def test_turning_the_https_redirect_off_behind_a_proxy_is_reported():
    # The variable exists for a TLS-terminating proxy; the check still names what is off.
    result = run_check({**PRODUCTION, "SECURE_SSL_REDIRECT": "0"})
    assert result.returncode != 0
    assert "security.W008" in result.stderr + result.stdout


def test_production_refuses_to_start_without_a_secret_key():
    result = run_check({"DEBUG": "0", "ALLOWED_HOSTS": "giftshop.example.com"})
    assert result.returncode != 0
    assert "SECRET_KEY must be set" in result.stderr


def test_sqlite_file_opens_in_wal_mode_with_immediate_transactions(tmp_path):
    code = (
        "from django.db import connection, transaction\n"
        "with transaction.atomic():\n"
        "    cursor = connection.cursor(); cursor.execute('PRAGMA journal_mode'); print(cursor.fetchone()[0])\n"
        "print(connection.transaction_mode)\n"
    )
    env = {**os.environ, "DATABASE_URL": f"sqlite:///{tmp_path / 'x.sqlite3'}"}
    result = subprocess.run(
        [sys.executable, "manage.py", "shell", "-v", "0", "-c", code], cwd=ROOT, env=env, capture_output=True, text=True
    )
    assert result.stdout.split() == ["wal", "IMMEDIATE"], result.stderr


def test_the_makefiles_development_targets_turn_debug_on():
    # DEBUG is off unless asked for; a newcomer's `make check-migrations` (like `make run`) must not
    # stop at "SECRET_KEY must be set".
    if not (ROOT / ".venv" / "bin" / "python").exists() or shutil.which("make") is None:
        pytest.skip("needs make and the project's .venv")
    unset = {"DEBUG", "SECRET_KEY", "DJANGO_SETTINGS_MODULE", "MAKEFLAGS", "MAKELEVEL", "MFLAGS"}
    env = {k: v for k, v in os.environ.items() if k not in unset}
    result = subprocess.run(
        ["make", "--no-print-directory", "-o", ".venv/bin/.installed-runtime", "check-migrations"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "No changes detected" in result.stdout
