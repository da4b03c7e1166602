import pytest
from django.test import Client
from django.urls import reverse

from tests.helpers import PASSWORD

pytestmark = pytest.mark.django_db


def test_anonymous_visitor_is_sent_to_login():
    response = Client().get("/")
    assert response.status_code == 302
    assert response["Location"] == "/accounts/login/?next=/"


def test_login_page_carries_a_csp_without_inline_script():
    response = Client().get(reverse("login"))
    assert response.status_code == 200
    policy = response["Content-Security-Policy"]
    assert "script-src 'self'" in policy
    assert "unsafe-inline" not in policy
    assert b"<script>" not in response.content  # every script has a src


def test_login_with_email_then_logout(employee):
    client = Client()
    response = client.post(reverse("login"), {"username": "EMPLOYEE@example.com", "password": PASSWORD})
    assert response.status_code == 302 and response["Location"] == "/"
    assert "Erik Employee" in client.get("/").text
    assert client.post(reverse("logout")).status_code == 302
    assert client.get("/").status_code == 302


def test_repeated_failures_lock_the_login_out(employee, settings):
    client = Client()
    statuses = [
        client.post(reverse("login"), {"username": employee.email, "password": "wrong"}).status_code
        for _ in range(settings.AXES_FAILURE_LIMIT)
    ]
    assert statuses == [200] * (settings.AXES_FAILURE_LIMIT - 1) + [429]
    # Locked: even the right password is refused now.
    response = client.post(reverse("login"), {"username": employee.email, "password": PASSWORD})
    assert response.status_code == 429
    assert "Too many failed logins" in response.text
    assert "_auth_user_id" not in client.session


def test_lockout_expires_after_the_cool_off(employee, settings):
    from datetime import timedelta

    from axes.models import AccessAttempt

    client = Client()
    for _ in range(settings.AXES_FAILURE_LIMIT):
        client.post(reverse("login"), {"username": employee.email, "password": "wrong"})
    AccessAttempt.objects.update(attempt_time=AccessAttempt.objects.get().attempt_time - timedelta(hours=1))
    response = client.post(reverse("login"), {"username": employee.email, "password": PASSWORD})
    assert response.status_code == 302


ADMIN_LINKS = {
    "admin:users_user_changelist": "Employees",
    "bonuses:accrual-list": "Accrual of bonuses",
    "bonuses:log-list": "Log",
    "bonuses:write-off": "Write-offs",
    "bonuses:settings": "Settings",
}


@pytest.mark.parametrize(
    ("who", "links"),
    [
        ("administrator", set(ADMIN_LINKS)),
        ("manager", {"bonuses:accrual-list", "bonuses:log-list"}),
        ("employee", set()),
    ],
)
def test_navigation_shows_only_what_the_user_may_open(request, who, links):
    user = request.getfixturevalue(who)
    user.is_staff = who == "administrator"
    user.save()
    client = Client()
    client.force_login(user)
    page = client.get("/").text
    assert ("Administration" in page) is bool(links)
    for name, label in ADMIN_LINKS.items():
        shown = f'href="{reverse(name)}"' in page
        assert shown is (name in links), (name, label)
        status = client.get(reverse(name)).status_code
        assert (status == 200) is (name in links), (name, status)
