"""Forms that trust too much (issue 9, point 6): forged ids and numbers in requests.

The accrual forms take their currency from a `currency` field and the bulk form its recipients from
the `employees` field (comma-separated ids), never from request.POST in the view: an unknown currency
is refused rather than replaced by the default one, and a 30-digit id is a message, not a server
error. Every id or number that a screen reads from a request, forged (huge, negative, not digits,
other scripts' digits, unknown), answers 4xx or is ignored, on SQLite and PostgreSQL alike.
"""

import pytest
from django.core.exceptions import PermissionDenied
from django.utils.html import escape

from bonuses import selectors, services
from bonuses.models import Currency, Entry
from bonuses.shop import services as shop
from bonuses.shop.models import Category, Gift
from tests.helpers import BULK, REMEMBERED_REFUSAL, key, post_bulk, post_single, shown_errors, single_url
from users.models import Department

pytestmark = pytest.mark.django_db

AVAILABLE = "/bonuses/write-off/available/"
BAD_CURRENCY = "The currency is not valid: open the form again."
BAD_SELECTION = "The selection is not valid."

FORGED = {
    "30 digits": "9" * 30,
    "negative": "-1",
    "not digits": "abc",
    "arabic-indic digits": "١٢٣",
    "superscript two": "²",
    "unknown": "999999",
}


# The currency of an accrual -----------------------------------------------------------------


SCREENS = {
    "single": lambda client, employee, **data: post_single(client, employee, **data),
    "bulk": lambda client, employee, **data: post_bulk(client, [employee], **data),
}


@pytest.mark.parametrize("screen", SCREENS)
@pytest.mark.parametrize("currency", FORGED.values(), ids=FORGED.keys())
def test_an_accrual_in_a_forged_currency_is_refused_and_nothing_changes(
    as_admin, employee, bonuses, ledger_snapshot, screen, currency
):
    before = ledger_snapshot()
    response = SCREENS[screen](as_admin, employee, currency=currency)
    assert response.status_code == 400
    assert shown_errors(response) == [BAD_CURRENCY]
    assert ledger_snapshot() == before


@pytest.mark.parametrize("screen", SCREENS)
def test_the_posted_currency_decides_and_its_rules_apply(as_admin, employee, bonuses, stars, screen):
    # The URL says the default currency; the form's field says Stars, which are whole numbers only.
    url_says = {"query_params": {"currency": bonuses.pk}}
    response = SCREENS[screen](as_admin, employee, currency=stars.pk, amount="2.50", **url_says)
    assert response.status_code == 400
    assert "Stars are whole numbers only." in shown_errors(response)
    assert response.context["currency"] == stars
    assert not Entry.objects.exists()

    response = SCREENS[screen](as_admin, employee, currency=stars.pk, amount="3", **url_says)
    assert response.status_code == 302
    assert selectors.balance(employee, stars).active == 3
    assert selectors.balance(employee, bonuses).active == 0


@pytest.mark.parametrize("screen", SCREENS)
def test_no_currency_posted_means_the_default_currency(as_admin, employee, bonuses, stars, screen):
    assert SCREENS[screen](as_admin, employee).status_code == 302
    assert Entry.objects.get().currency == bonuses


def test_the_modal_posts_the_currency_it_shows(as_admin, employee, stars):
    page = as_admin.get(single_url(employee), {"currency": stars.pk}).content.decode()
    assert f'<input type="hidden" name="currency" value="{stars.pk}">' in page
    # An unknown currency in the URL shows the default currency, which the modal then posts.
    page = as_admin.get(single_url(employee), {"currency": "²"})
    assert page.status_code == 200 and page.context["currency"] == Currency.objects.get(is_default=True)


# The recipients of a bulk accrual -----------------------------------------------------------


# An unknown id is well formed: the service refuses it with its message (tests/bonuses/views/test_accrual.py).
MALFORMED = {**{k: v for k, v in FORGED.items() if k != "unknown"}, "one bad part": "1,,2,x", "semicolons": "1;2"}
MALFORMED.update({"fraction": "1.5", "zero": "0"})


@pytest.mark.parametrize("selection", MALFORMED.values(), ids=MALFORMED.keys())
def test_a_forged_bulk_selection_is_refused_and_nothing_changes(as_admin, employee, ledger_snapshot, selection):
    before = ledger_snapshot()
    response = post_bulk(as_admin, [employee.pk, selection])
    assert response.status_code == 400
    assert shown_errors(response) == [BAD_SELECTION]
    assert response.context["count"] == 0
    assert ledger_snapshot() == before

    opened = as_admin.get(BULK, {"employees": f"{employee.pk},{selection}"})
    assert opened.status_code == 400
    assert opened.context["count"] == 0
    assert escape(BAD_SELECTION) in opened.content.decode()


def test_a_forged_department_in_the_select_all_filter_selects_nobody(as_admin, employee, ledger_snapshot):
    before = ledger_snapshot(skip=REMEMBERED_REFUSAL)
    for department in FORGED.values():
        response = post_bulk(as_admin, [], select_all="1", filters=f"department={department}")
        assert response.status_code == 400
        assert shown_errors(response) == ["Select at least one employee."]
    assert ledger_snapshot(skip=REMEMBERED_REFUSAL) == before


def test_a_manager_forging_a_department_in_the_select_all_filter_is_403(client, manager, employee, ledger_snapshot):
    client.force_login(manager)
    before = ledger_snapshot()
    for department in FORGED.values():
        assert post_bulk(client, [], select_all="1", filters=f"department={department}").status_code == 403
    assert ledger_snapshot() == before


def test_bulk_recipients_come_from_the_selection_within_the_viewer_scope(
    administrator, manager, employee, make_user, department, bonuses
):
    colleague = make_user(department=department)
    former = make_user(department=department, is_active=False)
    outsider = make_user(department=Department.objects.create(name="Finance"))
    chosen = sorted([employee.pk, colleague.pk])

    def recipients(viewer, **selection):
        options = {"employees": [], "select_all": False, "filters": ""}
        return selectors.bulk_recipients(viewer, currency=bonuses, **{**options, **selection})

    assert recipients(manager, employees=chosen) == chosen
    # Inactive or unknown ones stay in: the service refuses them with its message.
    assert recipients(manager, employees=[*chosen, former.pk, 999_999]) == [*chosen, former.pk, 999_999]
    with pytest.raises(PermissionDenied):
        recipients(manager, employees=[employee.pk, outsider.pk])
    assert recipients(administrator, employees=[employee.pk, outsider.pk]) == sorted([employee.pk, outsider.pk])
    # Select all: the filter, within the scope, whatever ids come with it.
    assert recipients(manager, select_all=True, employees=[outsider.pk]) == chosen
    assert recipients(administrator, select_all=True, filters=f"department={department.pk}") == chosen
    with pytest.raises(PermissionDenied):
        recipients(manager, select_all=True, filters=f"department={outsider.department_id}")


# Every id and number a screen reads from a request -------------------------------------------


@pytest.fixture
def world(as_admin, administrator, employee, bonuses):
    services.accrue(user=employee, amount=100, actor=administrator)
    gift = Gift.objects.create(
        name="Mug", category=Category.objects.create(name="Kitchen"), price=5, currency=bonuses, stock=3
    )
    order = shop.place_order(user=employee, gift=gift, quantity=1)
    return {"employee": employee, "currency": bonuses, "gift": gift, "order": order}


# (label, path, parameter): a GET of the path with the parameter forged.
QUERIES = [
    ("accrual table", "/bonuses/accrual/", "currency"),
    ("accrual table", "/bonuses/accrual/", "page"),
    ("accrual table", "/bonuses/accrual/", "per_page"),
    ("accrual table", "/bonuses/accrual/", "department"),
    ("accrual table", "/bonuses/accrual/", "city"),
    ("accrual table", "/bonuses/accrual/", "position"),
    ("accrual table", "/bonuses/accrual/", "tags"),
    ("accrual table", "/bonuses/accrual/", "balance_min"),
    ("accrual export", "/bonuses/accrual/?export=xlsx", "department"),
    ("accrual export", "/bonuses/accrual/?export=xlsx", "currency"),
    ("accrual modal", "/bonuses/accrual/{employee}/add/", "currency"),
    ("bulk modal", "/bonuses/accrual/bulk/", "employees"),
    ("bulk modal", "/bonuses/accrual/bulk/", "currency"),
    ("available", "/bonuses/write-off/available/", "employee"),
    ("available", "/bonuses/write-off/available/", "currency"),
    ("log", "/bonuses/log/", "employee"),
    ("log", "/bonuses/log/", "actor"),
    ("log", "/bonuses/log/", "department"),
    ("log", "/bonuses/log/", "currency"),
    ("log", "/bonuses/log/", "batch"),
    ("log", "/bonuses/log/", "page"),
    ("log export", "/bonuses/log/?export=xlsx", "employee"),
    ("orders", "/bonuses/orders/", "employee"),
    ("orders", "/bonuses/orders/", "department"),
    ("orders", "/bonuses/orders/", "gift"),
    ("orders", "/bonuses/orders/", "number"),
    ("orders", "/bonuses/orders/", "page"),
    ("orders export", "/bonuses/orders/?export=xlsx", "number"),
    ("desk", "/bonuses/orders/new/", "employee"),
    ("gifts", "/bonuses/gifts/", "page"),
    ("shop", "/shop/", "category"),
    ("my orders", "/shop/orders/", "page"),
    ("my balance", "/account/balance/", "page"),
]

# (label, path, parameter, the rest of a valid POST): a POST with the parameter forged.
POSTS = [
    ("accrual", "/bonuses/accrual/{employee}/add/", "currency", {"amount": "1"}),
    ("bulk", "/bonuses/accrual/bulk/", "employees", {"amount": "1"}),
    ("bulk", "/bonuses/accrual/bulk/", "currency", {"amount": "1", "employees": "{employee}"}),
    ("write-off", "/bonuses/write-off/", "employee", {"amount": "1", "currency": "{currency}"}),
    ("write-off", "/bonuses/write-off/", "currency", {"amount": "1", "employee": "{employee}"}),
    ("desk", "/bonuses/orders/new/", "employee", {"gift": "{gift}", "quantity": "1"}),
    ("desk", "/bonuses/orders/new/", "gift", {"employee": "{employee}", "quantity": "1"}),
    ("desk", "/bonuses/orders/new/", "quantity", {"employee": "{employee}", "gift": "{gift}"}),
    ("order", "/shop/gifts/{gift}/order/", "quantity", {"confirmed": "True"}),
    ("return", "/bonuses/orders/{order}/return/", "quantity", {}),
]

# Paths with a forged id in them; the URL patterns take ASCII digits only, so only huge ones reach a view.
PATHS = [
    ("GET", "/bonuses/accrual/{id}/add/"),
    ("GET", "/bonuses/settings/currency/{id}/"),
    ("GET", "/bonuses/gifts/{id}/"),
    ("GET", "/shop/gifts/{id}/order/"),
    ("POST", "/bonuses/accrual/{id}/add/"),
    ("POST", "/bonuses/orders/{id}/complete/"),
    ("POST", "/bonuses/gifts/{id}/delete/"),
    ("POST", "/shop/orders/{id}/cancel/"),
]


def fill(text: str, world) -> str:
    return text.format(**{name: getattr(value, "pk", value) for name, value in world.items()})


@pytest.mark.parametrize(("label", "path", "parameter"), QUERIES, ids=[f"{q[0]}-{q[2]}" for q in QUERIES])
def test_a_forged_query_parameter_is_a_4xx_or_ignored(as_admin, world, ledger_snapshot, label, path, parameter):
    before = ledger_snapshot()
    url = fill(path, world)
    answers = {}
    for name, value in FORGED.items():
        response = as_admin.get(f"{url}{'&' if '?' in url else '?'}{parameter}={value}")
        if response.streaming:  # an export: read it to the end, which closes its temporary file
            b"".join(response.streaming_content)
        answers[name] = response.status_code
    assert {name: status for name, status in answers.items() if status not in (200, 400, 404)} == {}
    assert ledger_snapshot() == before


@pytest.mark.parametrize(("label", "path", "parameter", "data"), POSTS, ids=[f"{p[0]}-{p[2]}" for p in POSTS])
def test_a_forged_posted_value_is_refused_and_nothing_changes(
    as_admin, world, ledger_snapshot, label, path, parameter, data
):
    # A forged but well-formed list of recipients reaches the service, which remembers its refusal.
    skip = REMEMBERED_REFUSAL if (label, parameter) == ("bulk", "employees") else ()
    before = ledger_snapshot(skip=skip)
    payload = {name: fill(text, world) for name, text in data.items()}
    # An order action answers with a message on the orders page; a form, with itself.
    refused = (302,) if path.endswith("/return/") else (400, 404)
    answers = {}
    for name, value in FORGED.items():
        response = as_admin.post(fill(path, world), {**payload, "idempotency_key": key(), parameter: value})
        answers[name] = response.status_code
    assert {name: status for name, status in answers.items() if status not in refused} == {}
    assert ledger_snapshot(skip=skip) == before


@pytest.mark.parametrize("value", ["9" * 30, "9" * 5000, "9223372036854775808"])
@pytest.mark.parametrize(("method", "path"), PATHS)
def test_a_huge_id_in_a_path_is_404(as_admin, world, ledger_snapshot, method, path, value):
    before = ledger_snapshot()
    url = path.format(id=value)
    response = as_admin.get(url) if method == "GET" else as_admin.post(url, {"amount": "1", "idempotency_key": key()})
    assert response.status_code == 404
    assert ledger_snapshot() == before


def test_a_forged_available_balance_query_shows_no_figure(as_admin, world):
    for params in ({"employee": "abc"}, {"employee": world["employee"].pk, "currency": "²"}):
        response = as_admin.get(AVAILABLE, params)
        assert response.status_code == 400
        assert "data-available" not in response.content.decode()
    response = as_admin.get(AVAILABLE, {"employee": world["employee"].pk, "currency": world["currency"].pk})
    assert response.status_code == 200 and 'data-available="95.00"' in response.content.decode()


@pytest.mark.parametrize("number", ["9" * 30, "²", "-1", "2147483648", "abc"])
def test_a_forged_page_number_shows_the_first_page(as_admin, world, number):
    for url in ("/bonuses/accrual/", "/bonuses/log/", "/bonuses/orders/", "/account/balance/"):
        response = as_admin.get(url, {"page": number})
        assert response.status_code == 200, url
        assert response.context["table"].page.number == 1, url


def test_forged_filter_values_are_shown_as_errors_and_match_nothing(as_admin, world):
    response = as_admin.get("/bonuses/log/", {"department": "9" * 30})
    assert response.status_code == 200
    assert response.context["filter"].errors["department"]
    assert list(response.context["table"].page.object_list) == []
