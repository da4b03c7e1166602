"""Browser tests: Playwright drives Debian's Chromium against pytest-django's live_server."""

import os
from pathlib import Path

import pytest

from tests.helpers import PASSWORD

CHROMIUM = os.environ.get("CHROMIUM_PATH", "/usr/bin/chromium")
SCREENSHOTS = Path(__file__).resolve().parents[2] / "test-artifacts" / "screenshots"
QUIET_FLAGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


@pytest.fixture(scope="session")
def browser_type_launch_args(browser_type_launch_args):
    if not Path(CHROMIUM).exists():
        message = f"Chromium not found at {CHROMIUM} (apt-get install chromium)"
        if os.environ.get("CI", "").lower() == "true":
            pytest.fail(f"{message}: under CI=true the browser tests may not skip")
        pytest.skip(message)
    return {**browser_type_launch_args, "executable_path": CHROMIUM, "args": QUIET_FLAGS}


@pytest.fixture
def page(page, settings):
    # live_server speaks plain HTTP: secure cookies would never come back.
    settings.SESSION_COOKIE_SECURE = settings.CSRF_COOKIE_SECURE = False
    page.set_default_timeout(10_000)
    yield page
    # Let the live server finish every request before the database is flushed: a request still
    # reading while PostgreSQL's TRUNCATE takes its locks deadlocks the flush.
    page.wait_for_load_state("networkidle")
    page.close()


@pytest.fixture
def login(page, live_server):
    def do_login(user, password=PASSWORD):
        page.goto(f"{live_server.url}/accounts/login/")
        page.get_by_label("E-mail").fill(user.email)
        page.get_by_label("Password").fill(password)
        page.get_by_role("button", name="Log in").click()
        page.wait_for_url(f"{live_server.url}/")
        return page

    return do_login


@pytest.fixture
def screenshot(page):
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)

    def take(name):
        page.screenshot(path=SCREENSHOTS / f"{name}.png", full_page=True)

    return take
