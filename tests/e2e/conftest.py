"""Browser tests: Playwright drives Debian's Chromium against pytest-django's live_server.

Shared here: the `console` every browser test fails on (a Content-Security-Policy violation, a JavaScript
error, an unexpected HTTP error status), `reduced_motion` (for the files that list it in their `pytestmark`),
the default `currency`, logging in (`log_in`, the `login` fixture), screenshots (`save_screenshot`, the
`screenshot` fixture) and the page helpers `row_of`, `open_modal` and `choose_in_tom_select`.
"""

import os
import re
from pathlib import Path

import pytest
from axe_playwright_python.sync_playwright import Axe
from playwright.sync_api import expect

from bonuses.models import Currency
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


# Reports a CSP violation to the console with where it came from: the browser's own message names no script.
REPORT_CSP = """
document.addEventListener("securitypolicyviolation", (e) => {
  console.error(`CSP violation: ${e.violatedDirective} blocked ${e.blockedURI || "inline"}`
    + ` at ${e.sourceFile || "?"}:${e.lineNumber}:${e.columnNumber} sample=${JSON.stringify(e.sample)}`);
});
"""


class Console:
    """Console errors and uncaught exceptions of the page; some HTTP error statuses may be expected."""

    def __init__(self, page):
        self.problems: list[str] = []
        self.expected_statuses: set[int] = set()
        page.add_init_script(REPORT_CSP)
        page.on("console", self._on_console)
        page.on("pageerror", lambda error: self.problems.append(f"JavaScript error: {error}"))

    def _on_console(self, message):
        if message.type != "error":
            return
        status = re.search(r"Failed to load resource: the server responded with a status of (\d+)", message.text)
        location = message.location
        if status and int(status.group(1)) in self.expected_statuses:
            return
        if status and location.get("url", "").endswith("/favicon.ico"):
            return  # the browser asks for it on its own; the site has none
        self.problems.append(f"{message.text} [{location.get('url')}:{location.get('lineNumber')}]")

    def expect_status(self, *statuses: int) -> None:
        self.expected_statuses.update(statuses)

    def assert_clean(self) -> None:
        assert not self.problems, "browser console:\n" + "\n".join(self.problems)


@pytest.fixture(autouse=True)
def console(page):
    console = Console(page)
    yield console
    console.assert_clean()


@pytest.fixture
def reduced_motion(page):
    """Bootstrap then skips its fade transitions: a modal can be closed as soon as it is shown."""
    page.emulate_media(reduced_motion="reduce")


@pytest.fixture
def currency(db):
    """The default currency, as its data migration made it."""
    return Currency.objects.get(is_default=True)


def log_in(page, base_url: str, user, password: str = PASSWORD):
    """Log `user` in on the login page, in `page` (after logging out whoever was), and land on the home page."""
    page.context.clear_cookies()
    page.goto(f"{base_url}/accounts/login/")
    page.get_by_label("E-mail").fill(user.email)
    page.get_by_label("Password").fill(password)
    page.get_by_role("button", name="Log in").click()
    page.wait_for_url(f"{base_url}/")
    return page


@pytest.fixture
def login(page, live_server):
    """`login(user)`: the test's page, with `user` logged in."""

    def do_login(user, password=PASSWORD):
        return log_in(page, live_server.url, user, password)

    return do_login


def save_screenshot(page, name: str, *, full_page: bool | None = None) -> None:
    """test-artifacts/screenshots/<name>.png, of the whole page; an open modal is taken as it is seen (a
    full-page capture would cut its backdrop at the viewport's height)."""
    if full_page is None:
        full_page = page.locator(".modal.show").count() == 0
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=SCREENSHOTS / f"{name}.png", full_page=full_page)


@pytest.fixture
def screenshot(page):
    """`screenshot(name)`: `save_screenshot` of the test's page."""

    def take(name, *, full_page=None):
        save_screenshot(page, name, full_page=full_page)

    return take


def row_of(page, user):
    """The employee's row in the accrual table."""
    return page.locator(f"tr[data-employee='{user.pk}']")


def open_modal(page, opener, heading: str):
    """Click `opener` and wait until the modal named `heading` has settled (its Amount field has the focus)."""
    opener.click()
    dialog = page.get_by_role("dialog", name=heading)
    expect(dialog).to_be_visible()
    expect(dialog.get_by_label("Amount")).to_be_focused()
    return dialog


def choose_in_tom_select(page, field_id: str, typed: str, option: str) -> None:
    """Type into a tom-select like a user and click the offered option."""
    control = page.locator(f"#{field_id}-ts-control")
    control.click()
    control.press_sequentially(typed, delay=30)
    page.locator(f"#{field_id}-ts-dropdown .option", has_text=option).click()
    if page.locator(f"#{field_id}-ts-dropdown").is_visible():  # a multiple choice stays open for more
        page.keyboard.press("Escape")


PHONE = {"width": 390, "height": 844}
DESKTOP = {"width": 1280, "height": 900}
WCAG_21_AA = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"]
AXE = Axe()
AXE_OPTIONS = {"runOnly": {"type": "tag", "values": WCAG_21_AA}, "resultTypes": ["violations"]}

VIEWPORTS = {"desktop": DESKTOP, "phone": PHONE}

# What sticks out of the window on the right (none: nothing scrolls sideways): elements whose box ends past
# it, else elements whose content (a line that may not wrap) runs out of their box.
STICKING_OUT = """
() => {
  const width = document.documentElement.clientWidth;
  if (document.documentElement.scrollWidth <= width) { return []; }
  const describe = (e) => `<${e.tagName.toLowerCase()} class="${e.className}"> ${e.textContent.trim().slice(0, 40)}`;
  const all = Array.from(document.querySelectorAll("body *"));
  const past = all.filter((e) => e.getBoundingClientRect().right > width + 0.5)
    .map((e) => `${describe(e)} ends at ${e.getBoundingClientRect().right} px`);
  const spills = all.filter((e) => getComputedStyle(e).overflowX === "visible" && e.scrollWidth > e.clientWidth + 1);
  const spilling = spills.filter((e) => !spills.some((inner) => inner !== e && e.contains(inner)))  // innermost
    .map((e) => `${describe(e)} holds ${e.scrollWidth} px in ${e.clientWidth} px`);
  const wide = `the page is ${document.documentElement.scrollWidth} px wide in ${width} px`;
  return [wide, ...past.concat(spilling).slice(0, 5)];
}
"""


def sticking_out(page) -> list[str]:
    """What makes the page wider than the window; empty when nothing scrolls sideways."""
    return page.evaluate(STICKING_OUT)


class Audit:
    """Runs axe on each state of a page and collects every violation, so that one failure lists them all."""

    def __init__(self, page, width: str):
        self.page, self.width = page, width
        self.problems: list[str] = []
        self.audited = 0

    def __call__(self, name: str) -> None:
        self.audited += 1
        result = AXE.run(self.page, options=AXE_OPTIONS)
        for violation in result.response["violations"]:
            self.problems.append(
                f"{name} @ {self.width}: {violation['id']} ({violation['impact']}): {violation['help']}\n"
                + "\n".join(
                    f"    {' > '.join(map(str, node['target']))}: {node['failureSummary'].replace(chr(10), ' ')}"
                    for node in violation["nodes"]
                )
            )
        if self.width == "phone":
            for element in sticking_out(self.page):
                self.problems.append(f"{name} @ phone: wider than the screen: {element}")
        save_screenshot(self.page, f"a11y-{name}-{self.width}")

    def visit(self, url: str, name: str, *, status: int = 200) -> None:
        response = self.page.goto(url)
        assert response.status == status, (url, response.status)
        self(name)

    def assert_clean(self, expected: int) -> None:
        assert self.audited == expected, f"{self.audited} states audited, {expected} expected"
        assert not self.problems, f"{len(self.problems)} accessibility problems:\n" + "\n".join(self.problems)
