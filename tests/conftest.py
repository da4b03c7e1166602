import os

# pytest-playwright starts an event loop for the session; without this every later Django
# database call in the same process raises SynchronousOnlyOperation.
os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")

from importlib import import_module

import pytest
from django.apps import apps
from django.contrib.auth.models import Group
from django.contrib.contenttypes.models import ContentType
from django.db import connection

from bonuses import rules
from bonuses.models import Currency
from tests.helpers import PASSWORD, ledger_state
from users.models import Department, User


@pytest.fixture(autouse=True)
def _fast_password_hasher(settings):
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture(autouse=True)
def _media_root(settings, tmp_path):
    """Uploaded and generated pictures go to a folder of the test's own."""
    settings.MEDIA_ROOT = tmp_path / "media"


DATA_MIGRATIONS = [
    ("bonuses.migrations.0002_roles", "create_roles"),
    ("bonuses.migrations.0003_default_currency_immutable_log", "create_default_currency"),
]


@pytest.fixture(autouse=True)
def _migrated_data(request):
    """Transactional tests end with a flush, which also empties what the data migrations wrote
    (the roles, the default currency); such a test gets it back first. Tests in a transaction run
    before every transactional one, so they always see the migrated database."""
    marker = request.node.get_closest_marker("django_db")
    if marker is None or not marker.kwargs.get("transaction"):
        return
    request.getfixturevalue("transactional_db")
    ContentType.objects.clear_cache()
    for module, function in DATA_MIGRATIONS:
        getattr(import_module(module), function)(apps, None)


@pytest.fixture
def ledger_snapshot(db):
    """`ledger_state`: every row of every ledger, shop and outbox table (and the users' flags and passwords),
    so that "nothing changed" means the same in every test: `assert ledger_snapshot() == before`. A test that
    allows a table to change says so: `ledger_snapshot(skip={"IdempotencyKey"})`."""
    return ledger_state


@pytest.fixture
def make_user(db):
    """Create an employee; `role` is None, "Administrators" or "Managers"."""
    counter = iter(range(1, 1_000_000))

    def make(email=None, *, role=None, manages=(), password=PASSWORD, **fields):
        n = next(counter)
        fields.setdefault("full_name", f"Employee {n}")
        user = User.objects.create_user(email or f"user{n}@example.com", password, **fields)
        if role:
            user.groups.add(Group.objects.get(name=role))
        for department in manages:
            department.managers.add(user)
        return user

    return make


@pytest.fixture
def department(db):
    return Department.objects.create(name="Sales")


@pytest.fixture
def administrator(make_user):
    return make_user("admin@example.com", role="Administrators", full_name="Alex Admin")


@pytest.fixture
def manager(make_user, department):
    """The manager of Sales. Managers grant within budgets: the default currency gets a monthly budget policy
    of 10,000,000 per manager (tests/bonuses/test_budgets.py tests the budgets themselves)."""
    Currency.objects.filter(is_default=True).update(budget_period="month", budget_allowance=rules.MAX_OPERATION)
    return make_user("manager@example.com", role="Managers", manages=[department], full_name="Maria Manager")


@pytest.fixture
def employee(make_user, department):
    return make_user("employee@example.com", department=department, full_name="Erik Employee")


@pytest.fixture
def hr_admin(make_user):
    """Like the demo administrator: staff, in the group Administrators, not a superuser."""
    return make_user("hr@example.com", role="Administrators", is_staff=True, full_name="Hanna HR")


# Logged-in test clients. All three are the one `client`: a test that needs two users logged in at once
# makes a second `django.test.Client`.


@pytest.fixture
def as_admin(client, administrator):
    client.force_login(administrator)
    return client


@pytest.fixture
def as_manager(client, manager):
    client.force_login(manager)
    return client


@pytest.fixture
def as_employee(client, employee):
    client.force_login(employee)
    return client


def pytest_collection_modifyitems(config, items):
    """Tests marked `postgres` skip on other databases, with the reason."""
    if connection.vendor == "postgresql":
        return
    skip = pytest.mark.skip(reason="needs PostgreSQL: run `make test-postgres` (CI runs it)")
    for item in items:
        if "postgres" in item.keywords:
            item.add_marker(skip)
