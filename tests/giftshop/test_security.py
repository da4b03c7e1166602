"""Who may log in how often, how long a login lasts, what may be kept in a cache, and how files are served
(issue 9, points 10, 13 and 14)."""

import io
import os
import runpy
from datetime import timedelta
from pathlib import Path
from unittest import mock

import pytest
from axes.models import AccessAttempt
from django.contrib.sessions.models import Session
from django.core.exceptions import ImproperlyConfigured
from django.test import Client
from django.urls import reverse
from django.utils import timezone
from PIL import Image

from bonuses import services
from tests.helpers import PASSWORD

pytestmark = pytest.mark.django_db

SETTINGS_FILE = Path(__file__).resolve().parents[2] / "giftshop" / "settings.py"
PROXY = "127.0.0.1"  # the one TLS-terminating proxy in front, on the same machine
WORKING_DAY = 10 * 60 * 60


def settings_from(**environment) -> dict:
    """giftshop/settings.py as it reads with these environment variables (a value None removes one)."""
    base = {key: value for key, value in os.environ.items() if key not in environment}
    base.update({key: value for key, value in environment.items() if value is not None})
    with mock.patch.dict(os.environ, base, clear=True):
        return runpy.run_path(str(SETTINGS_FILE))


def login(client, username, password="wrong", **headers):
    return client.post(reverse("login"), {"username": username, "password": password}, **headers)


# Login throttling -----------------------------------------------------------------------------


def test_failures_in_any_letter_case_count_for_one_account(employee, settings):
    assert settings.AXES_FAILURE_LIMIT == 5
    spellings = [
        "employee@example.com",
        "EMPLOYEE@EXAMPLE.COM",
        "Employee@Example.com",
        "eMpLoYeE@example.com",
        "employee@EXAMPLE.com",
    ]
    client = Client()
    statuses = [login(client, spelling).status_code for spelling in spellings]
    assert statuses == [200, 200, 200, 200, 429]
    # The sixth attempt, with the right password and yet another spelling, is refused too.
    response = login(client, "EMPLOYEE@example.COM", PASSWORD)
    assert response.status_code == 429
    assert "Too many failed logins" in response.text
    assert "_auth_user_id" not in client.session
    assert list(AccessAttempt.objects.values_list("username", flat=True)) == ["employee@example.com"]


@pytest.fixture
def behind_proxy(settings):
    """The client-address settings that BEHIND_PROXY=1 gives, read from giftshop/settings.py itself."""
    proxied = settings_from(BEHIND_PROXY="1")
    changed = {
        name: value
        for name, value in proxied.items()
        if name.startswith(("AXES_IPWARE_", "IPWARE_")) and getattr(settings, name, None) != value
    }
    assert changed, "BEHIND_PROXY=1 changes nothing in how axes reads the client's address"
    for name, value in changed.items():
        setattr(settings, name, value)
    return changed


def test_without_a_proxy_the_forwarded_header_is_ignored(employee):
    # Anybody can send X-Forwarded-For: without BEHIND_PROXY it must not change the address.
    client = Client()
    for n in range(5):
        login(client, employee.email, REMOTE_ADDR="192.0.2.10", HTTP_X_FORWARDED_FOR=f"198.51.100.{n}")
    assert list(AccessAttempt.objects.values_list("ip_address", flat=True)) == ["192.0.2.10"]
    assert login(client, employee.email, PASSWORD, REMOTE_ADDR="192.0.2.10").status_code == 429


def test_behind_the_proxy_each_client_is_throttled_on_its_own_address(employee, behind_proxy):
    intruder, colleague = Client(), Client()
    statuses = [
        login(intruder, employee.email, REMOTE_ADDR=PROXY, HTTP_X_FORWARDED_FOR="203.0.113.5").status_code
        for _ in range(5)
    ]
    assert statuses == [200, 200, 200, 200, 429]
    assert list(AccessAttempt.objects.values_list("ip_address", flat=True)) == ["203.0.113.5"]
    # The same account from another client behind the same proxy still logs in.
    response = login(colleague, employee.email, PASSWORD, REMOTE_ADDR=PROXY, HTTP_X_FORWARDED_FOR="198.51.100.7")
    assert response.status_code == 302
    assert colleague.session["_auth_user_id"] == str(employee.pk)
    # And the intruder stays locked out, right password or not.
    response = login(intruder, employee.email, PASSWORD, REMOTE_ADDR=PROXY, HTTP_X_FORWARDED_FOR="203.0.113.5")
    assert response.status_code == 429


def test_a_forged_forwarded_entry_does_not_change_the_address(employee, behind_proxy):
    # The proxy appends the address it saw; whatever the client wrote itself stands before it.
    intruder = Client()
    statuses = [
        login(intruder, employee.email, REMOTE_ADDR=PROXY, HTTP_X_FORWARDED_FOR=f"8.8.{n}.{n}, 203.0.113.5").status_code
        for n in range(4)
    ]
    statuses.append(
        login(
            intruder, employee.email, REMOTE_ADDR=PROXY, HTTP_X_FORWARDED_FOR="not an address, 203.0.113.5"
        ).status_code
    )
    assert statuses == [200, 200, 200, 200, 429]
    assert list(AccessAttempt.objects.values_list("ip_address", flat=True)) == ["203.0.113.5"]
    # Nor can the intruder lock a colleague out by writing the colleague's address first.
    response = login(Client(), employee.email, PASSWORD, REMOTE_ADDR=PROXY, HTTP_X_FORWARDED_FOR="198.51.100.7")
    assert response.status_code == 302


# Sessions -------------------------------------------------------------------------------------


def test_a_login_lasts_a_working_day_and_ends_with_the_browser(employee):
    client = Client()
    before = timezone.now()
    assert login(client, employee.email, PASSWORD).status_code == 302
    cookie = client.cookies["sessionid"]
    assert cookie["max-age"] == "" and cookie["expires"] == ""  # a browser-session cookie
    expires = Session.objects.get().expire_date
    assert before + timedelta(seconds=WORKING_DAY) <= expires <= timezone.now() + timedelta(seconds=WORKING_DAY)
    # After the working day the same cookie opens nothing.
    Session.objects.update(expire_date=timezone.now() - timedelta(seconds=1))
    assert client.get("/").status_code == 302


def test_the_session_length_comes_from_the_environment():
    assert settings_from(SESSION_COOKIE_AGE=None)["SESSION_COOKIE_AGE"] == WORKING_DAY
    configured = settings_from(SESSION_COOKIE_AGE="3600")
    assert configured["SESSION_COOKIE_AGE"] == 3600
    assert configured["SESSION_EXPIRE_AT_BROWSER_CLOSE"] is True


# DEBUG ----------------------------------------------------------------------------------------


def test_debug_is_off_unless_asked_for():
    production = settings_from(DEBUG=None, SECRET_KEY="x" * 60, ALLOWED_HOSTS="giftshop.example.com")
    assert production["DEBUG"] is False
    assert production["SECURE_SSL_REDIRECT"] is True
    assert production["STORAGES"]["staticfiles"]["BACKEND"] == "whitenoise.storage.CompressedManifestStaticFilesStorage"
    with pytest.raises(ImproperlyConfigured, match="SECRET_KEY must be set"):
        settings_from(DEBUG=None, SECRET_KEY=None)
    assert settings_from(DEBUG="1", SECRET_KEY=None)["DEBUG"] is True


def test_the_tests_run_with_the_development_settings(settings):
    # tests/settings.py turns DEBUG on, whatever the shell says (pytest-django then runs views with
    # DEBUG off, as always); without it these would be production's settings.
    assert os.environ["DEBUG"] == "1"
    assert settings.SECURE_SSL_REDIRECT is False
    assert settings.STORAGES["staticfiles"]["BACKEND"] == "django.contrib.staticfiles.storage.StaticFilesStorage"


# Caching --------------------------------------------------------------------------------------

NO_STORE = "private, no-store"


def test_pages_behind_login_and_exports_are_never_stored(client, administrator, employee):
    services.accrue(user=employee, amount=5, actor=administrator, comment="Welcome")
    client.force_login(administrator)
    for url in [
        "/",
        "/shop/",
        "/account/balance/",
        "/bonuses/accrual/",
        "/bonuses/log/",
        f"/bonuses/accrual/{employee.pk}/add/",
        "/bonuses/employees/autocomplete/?q=Erik",
    ]:
        response = client.get(url)
        assert response.status_code == 200, url
        assert response["Cache-Control"] == NO_STORE, url
    for url in ["/bonuses/accrual/?export=xlsx", "/bonuses/log/?export=xlsx", "/bonuses/orders/?export=xlsx"]:
        response = client.get(url)
        assert response.streaming and response.status_code == 200, url
        assert response["Cache-Control"] == NO_STORE, url
        assert b"".join(response.streaming_content).startswith(b"PK")
    # Refused and redirected answers to a logged-in user too.
    client.force_login(employee)
    assert client.get("/bonuses/log/")["Cache-Control"] == NO_STORE


def test_an_explicit_cache_header_is_kept(client, make_user):
    client.force_login(make_user("root@example.com", is_staff=True, is_superuser=True))
    response = client.get("/admin/")
    assert response.status_code == 200
    assert response["Cache-Control"] == "max-age=0, no-cache, no-store, must-revalidate, private"


# Media ----------------------------------------------------------------------------------------


def picture_bytes(kind: str) -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (8, 8), (200, 30, 30)).save(out, kind)
    return out.getvalue()


@pytest.fixture
def media_files(settings):
    folder = Path(settings.MEDIA_ROOT) / "gifts"
    folder.mkdir(parents=True)
    files = {
        "mug.png": picture_bytes("PNG"),
        "mug.jpg": picture_bytes("JPEG"),
        "mug.webp": picture_bytes("WEBP"),
        "page.html": b"<html><script>alert(document.cookie)</script></html>",
        "drawing.svg": b'<svg xmlns="http://www.w3.org/2000/svg"><script>alert(1)</script></svg>',
        "page.png.html": b"<script>alert(2)</script>",
        "notes.txt": b"hello",
    }
    for name, content in files.items():
        (folder / name).write_bytes(content)
    return files


@pytest.mark.parametrize(
    ("name", "content_type"), [("mug.png", "image/png"), ("mug.jpg", "image/jpeg"), ("mug.webp", "image/webp")]
)
def test_pictures_are_served_inline_with_nosniff(client, media_files, name, content_type):
    response = client.get(f"/media/gifts/{name}")
    assert response.status_code == 200
    assert response["Content-Type"] == content_type
    assert response["X-Content-Type-Options"] == "nosniff"
    assert response["Content-Disposition"] == f'inline; filename="{name}"'
    assert b"".join(response.streaming_content) == media_files[name]


@pytest.mark.parametrize("name", ["page.html", "drawing.svg", "page.png.html", "notes.txt"])
def test_anything_else_in_media_is_a_download_never_a_page(client, media_files, name):
    response = client.get(f"/media/gifts/{name}")
    assert response.status_code == 200
    assert response["Content-Type"] == "application/octet-stream"
    assert response["Content-Disposition"] == f'attachment; filename="{name}"'
    assert response["X-Content-Type-Options"] == "nosniff"
    assert b"".join(response.streaming_content) == media_files[name]


def test_media_keeps_its_own_cache_header_for_a_logged_in_user(client, media_files, employee):
    client.force_login(employee)
    response = client.get("/media/gifts/mug.png")
    assert response.status_code == 200
    assert response["Cache-Control"] == "max-age=86400"
    assert b"".join(response.streaming_content) == media_files["mug.png"]  # read to the end: closes the file
    assert client.get("/media/gifts/missing.png").status_code == 404
    assert client.get("/media/gifts/").status_code == 404  # no folder listing
