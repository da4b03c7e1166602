"""The administrator screens through Django's test client (issue 4).

Every bad input of SPEC.md section 8 that applies to the accrual, bulk accrual and write-off
screens gets a message and writes nothing; the happy paths redirect (or answer htmx with
HX-Redirect) with a message naming the amount and the new balance; the accrual table and the
log filter and sort as asked; their pages cost the same number of queries for few and many rows.
"""

import uuid
from datetime import date
from decimal import Decimal
from urllib.parse import parse_qs, urlsplit

import pytest
from django.contrib.messages import get_messages
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils.html import escape

from bonuses import rules, selectors, services
from bonuses.exceptions import AccountBlocked
from bonuses.models import Account, Allocation, Batch, Currency, Entry, Lot
from tests.bonuses.conftest import local
from users.models import City, Department, Position, Tag, User

pytestmark = pytest.mark.django_db

ACCRUAL_LIST = "/bonuses/accrual/"
BULK = "/bonuses/accrual/bulk/"
WRITE_OFF = "/bonuses/write-off/"
AVAILABLE = "/bonuses/write-off/available/"
AUTOCOMPLETE = "/bonuses/employees/autocomplete/"
LOG = "/bonuses/log/"


def single_url(user) -> str:
    return f"/bonuses/accrual/{getattr(user, 'pk', user)}/add/"


def key() -> str:
    return uuid.uuid4().hex


# Helpers -----------------------------------------------------------------------------------


def ledger() -> dict:
    """Everything a refused operation must leave as it was."""
    return {
        "entries": Entry.objects.count(),
        "lots": Lot.objects.count(),
        "batches": Batch.objects.count(),
        "allocations": Allocation.objects.count(),
        "accounts": sorted(
            Account.objects.values_list("user_id", "currency_id", "active", "non_activated", "total_accrued")
        ),
    }


def active(user, currency=None) -> Decimal:
    return selectors.balance(user, currency).active


def message_texts(response) -> list[str]:
    return [str(m.message) for m in get_messages(response.wsgi_request)]


def shown_errors(response) -> list[str]:
    """The errors of the form the response rendered (and of its burn-out step rows, when read), each of which
    must appear in the page."""
    form = response.context["form"]
    errors = [e for field_errors in form.errors.values() for e in field_errors]
    if getattr(form, "policy", None) == Currency.BurnPolicy.FROM_LAST_PURCHASE:
        rows = [e for row in form.steps.errors for field_errors in row.values() for e in field_errors]
        errors += [*form.steps.non_form_errors(), *rows]
    page = response.content.decode()
    for error in errors:
        assert escape(error) in page, f"error {error!r} is not shown"
    return errors


def post_single(client, user, currency, **data):
    payload = {"amount": "100", "comment": "", "idempotency_key": key(), "currency": currency.pk, **data}
    return client.post(single_url(user), payload)


def post_bulk(client, users, currency, **data):
    ids = ",".join(str(getattr(u, "pk", u)) for u in users)
    payload = {
        "employees": ids,
        "select_all": "",
        "filters": "",
        "amount": "100",
        "comment": "",
        "idempotency_key": key(),
        "currency": currency.pk,
        **data,
    }
    return client.post(BULK, payload)


def post_write_off(client, user, currency, **data):
    payload = {
        "employee": getattr(user, "pk", user),
        "currency": currency.pk,
        "amount": "30",
        "comment": "",
        "idempotency_key": key(),
        **data,
    }
    return client.post(WRITE_OFF, payload)


def table_names(response) -> list[str]:
    return [row.record.full_name for row in response.context["table"].page.object_list]


def log_ids(response) -> list[int]:
    return [row.record.pk for row in response.context["table"].page.object_list]


@pytest.fixture
def as_admin(client, administrator):
    client.force_login(administrator)
    return client


@pytest.fixture
def as_manager(client, manager):
    client.force_login(manager)
    return client


@pytest.fixture
def funded(employee, administrator, bonuses):
    """The employee with 100 active points, so that a valid write-off would go through."""
    services.accrue(user=employee, amount=100, actor=administrator)
    return employee


# The three screens as one parameter: the same bad input must be refused by each ------------

SCREENS = {
    "single": lambda client, user, currency, **data: post_single(client, user, currency, **data),
    "bulk": lambda client, user, currency, **data: post_bulk(client, [user], currency, **data),
    "write-off": lambda client, user, currency, **data: post_write_off(client, user, currency, **data),
}

BAD_AMOUNTS = {
    "zero": "0",
    "zero with decimals": "0.00",
    "negative": "-5",
    "non-numeric": "abc",
    "empty": "",
    "three decimal places": "1.234",
    "not finite": "NaN",
}


@pytest.mark.parametrize("screen", SCREENS)
@pytest.mark.parametrize("amount", BAD_AMOUNTS.values(), ids=BAD_AMOUNTS.keys())
def test_a_bad_amount_is_refused_next_to_the_field_and_nothing_changes(as_admin, funded, bonuses, screen, amount):
    before = ledger()
    response = SCREENS[screen](as_admin, funded, bonuses, amount=amount)
    assert response.status_code == 400
    assert response.context["form"].errors.get("amount"), response.context["form"].errors
    assert shown_errors(response)
    assert ledger() == before
    assert active(funded) == 100


@pytest.mark.parametrize("screen", SCREENS)
def test_a_fraction_is_refused_where_the_currency_needs_whole_numbers(as_admin, funded, whole, screen):
    before = ledger()
    response = SCREENS[screen](as_admin, funded, whole, amount="10.5")
    assert response.status_code == 400
    assert any("whole" in error for error in shown_errors(response)), response.context["form"].errors
    assert ledger() == before
    # A whole amount written with decimals is fine.
    response = SCREENS[screen](as_admin, funded, whole, amount="10.00")
    assert response.status_code == 302
    assert active(funded) == (90 if screen == "write-off" else 110)


@pytest.mark.parametrize("screen", SCREENS)
def test_a_comment_over_1000_characters_is_refused(as_admin, funded, bonuses, screen):
    before = ledger()
    response = SCREENS[screen](as_admin, funded, bonuses, amount="10", comment="x" * 1001)
    assert response.status_code == 400
    assert response.context["form"].errors.get("comment")
    assert shown_errors(response)
    assert ledger() == before
    # Exactly 1,000 characters are accepted.
    response = SCREENS[screen](as_admin, funded, bonuses, amount="10", comment="y" * 1000)
    assert response.status_code == 302
    assert Entry.objects.latest("id").comment == "y" * 1000


def test_write_off_of_more_than_the_active_balance_is_refused(as_admin, funded, bonuses, administrator):
    # 50 more points that activate later do not count as available.
    services.accrue(user=funded, amount=50, actor=administrator, activates_on=date(2099, 1, 1))
    before = ledger()
    response = post_write_off(as_admin, funded, bonuses, amount="100.01")
    assert response.status_code == 400
    errors = response.context["form"].errors["amount"]
    assert errors == ["Only 100.00 points are available; 100.01 were asked for."]
    assert shown_errors(response)
    assert 'data-available="100.00"' in response.content.decode()  # the form shows what is available
    assert ledger() == before
    assert active(funded) == 100


def test_write_off_with_no_points_at_all_is_refused(as_admin, employee, bonuses):
    response = post_write_off(as_admin, employee, bonuses, amount="1")
    assert response.status_code == 400
    assert shown_errors(response)
    assert ledger() == {"entries": 0, "lots": 0, "batches": 0, "allocations": 0, "accounts": []}


def test_a_corrected_write_off_goes_through_after_a_refusal(as_admin, funded, bonuses):
    """The form shown again after a refusal carries its idempotency key; sending it corrected must work."""
    refused = post_write_off(as_admin, funded, bonuses, amount="500")
    assert refused.status_code == 400
    shown_key = refused.context["form"]["idempotency_key"].value()
    response = post_write_off(as_admin, funded, bonuses, amount="40", idempotency_key=shown_key)
    assert response.status_code == 302, response.context and response.context["form"].errors
    assert active(funded) == 60


def test_a_corrected_accrual_goes_through_after_a_refusal(as_admin, employee, whole):
    refused = post_single(as_admin, employee, whole, amount="10.5")
    assert refused.status_code == 400
    shown_key = refused.context["form"]["idempotency_key"].value()
    response = post_single(as_admin, employee, whole, amount="10", idempotency_key=shown_key)
    assert response.status_code == 302, response.context and response.context["form"].errors
    assert active(employee) == 10


# Unknown, inactive and foreign employees -----------------------------------------------------


def test_single_accrual_to_an_unknown_employee_is_404(as_admin, bonuses):
    response = post_single(as_admin, 999_999, bonuses)
    assert response.status_code == 404
    assert as_admin.get(single_url(999_999)).status_code == 404
    assert ledger()["entries"] == 0


def test_bulk_accrual_to_an_unknown_employee_is_refused(as_admin, employee, bonuses):
    response = post_bulk(as_admin, [employee, 999_999], bonuses)
    assert response.status_code == 400
    assert "1 of the selected employees is unknown or not active; nothing was accrued." in shown_errors(response)
    assert ledger() == {"entries": 0, "lots": 0, "batches": 0, "allocations": 0, "accounts": []}


def test_write_off_for_an_unknown_employee_is_refused(as_admin, bonuses):
    response = post_write_off(as_admin, 999_999, bonuses)
    assert response.status_code == 400
    assert response.context["form"].errors["employee"] == ["Choose an active employee from the list."]
    assert shown_errors(response)


@pytest.fixture
def former(make_user, department, administrator, bonuses):
    """A deactivated employee who keeps 100 points."""
    user = make_user("former@example.com", department=department, full_name="Fiona Former")
    services.accrue(user=user, amount=100, actor=administrator)
    user.is_active = False
    user.save()
    return user


def test_single_accrual_to_an_inactive_employee_is_refused(as_admin, former, bonuses):
    before = ledger()
    response = post_single(as_admin, former, bonuses)
    assert response.status_code == 400
    assert "The employee is not active." in shown_errors(response)
    assert ledger() == before


def test_bulk_accrual_with_an_inactive_employee_accrues_to_nobody(as_admin, former, employee, bonuses):
    before = ledger()
    response = post_bulk(as_admin, [employee, former], bonuses)
    assert response.status_code == 400
    assert "1 of the selected employees is unknown or not active; nothing was accrued." in shown_errors(response)
    assert ledger() == before
    assert active(employee) == 0


def test_write_off_from_an_inactive_employee_is_refused(as_admin, former, bonuses):
    before = ledger()
    response = post_write_off(as_admin, former, bonuses, amount="10")
    assert response.status_code == 400
    assert response.context["form"].errors["employee"] == ["Choose an active employee from the list."]
    assert ledger() == before


@pytest.fixture
def outsider(make_user):
    """An active employee of a department the manager does not manage."""
    return make_user("outsider@example.com", department=Department.objects.create(name="Finance"), full_name="Otto")


def test_manager_single_accrual_to_a_foreign_employee_is_403(as_manager, outsider, bonuses):
    response = post_single(as_manager, outsider, bonuses)
    assert response.status_code == 403
    assert ledger() == {"entries": 0, "lots": 0, "batches": 0, "allocations": 0, "accounts": []}


def test_manager_forged_bulk_post_with_a_foreign_employee_is_403(as_manager, outsider, employee, bonuses):
    response = post_bulk(as_manager, [employee, outsider], bonuses)
    assert response.status_code == 403
    assert ledger() == {"entries": 0, "lots": 0, "batches": 0, "allocations": 0, "accounts": []}


def test_manager_cannot_even_open_the_bulk_form_for_a_foreign_employee(as_manager, outsider, employee, bonuses):
    assert as_manager.get(BULK, {"employees": f"{employee.pk},{outsider.pk}"}).status_code == 403
    assert as_manager.get(BULK, {"employees": str(employee.pk)}).context["count"] == 1


def test_manager_forged_select_all_on_a_foreign_department_is_403(as_manager, outsider, employee, bonuses):
    response = post_bulk(as_manager, [], bonuses, select_all="1", filters=f"department={outsider.department_id}")
    assert response.status_code == 403
    assert ledger() == {"entries": 0, "lots": 0, "batches": 0, "allocations": 0, "accounts": []}


def test_manager_select_all_reaches_only_their_departments(as_manager, outsider, employee, manager, bonuses):
    # The ids listed beside select_all are ignored: select_all goes by the filter, within the scope.
    response = post_bulk(as_manager, [outsider], bonuses, select_all="1", filters="", amount="5")
    assert response.status_code == 302
    assert active(employee) == 5 and active(outsider) == 0
    entry = Entry.objects.get()
    assert (entry.user, entry.kind, entry.actor) == (employee, Entry.Kind.MANAGER_ACCRUAL, manager)


def test_administrator_accrues_to_and_writes_off_from_a_blocked_account(as_admin, funded, bonuses):
    """Blocked: nothing can be spent or reserved, but an administrator can still accrue and write off."""
    services.set_account_state(user=funded, state=Account.State.BLOCKED)
    assert post_single(as_admin, funded, bonuses, amount="10").status_code == 302
    assert post_bulk(as_admin, [funded], bonuses, amount="5").status_code == 302
    assert post_write_off(as_admin, funded, bonuses, amount="15").status_code == 302
    assert active(funded) == 100
    assert Account.objects.get(user=funded).state == Account.State.BLOCKED


def test_a_blocked_account_cannot_reserve(funded, bonuses):
    """The blocked state is real: the same account refuses an order (so the test above means something)."""
    services.set_account_state(user=funded, state=Account.State.BLOCKED)
    with pytest.raises(AccountBlocked):
        services.reserve(user=funded, amount=10, reference="ORDER-1")


# Bulk with nobody selected ------------------------------------------------------------------


def test_bulk_accrual_with_no_employee_selected_is_refused(as_admin, employee, bonuses):
    response = post_bulk(as_admin, [], bonuses)
    assert response.status_code == 400
    assert "Select at least one employee." in shown_errors(response)
    assert response.context["count"] == 0
    assert ledger()["batches"] == 0


def test_bulk_select_all_matching_nobody_is_refused(as_admin, employee, bonuses):
    response = post_bulk(as_admin, [], bonuses, select_all="1", filters="q=nobody-has-this-name")
    assert response.status_code == 400
    assert "Select at least one employee." in shown_errors(response)
    assert ledger()["batches"] == 0


def test_bulk_with_a_malformed_selection_accrues_nothing(as_admin, employee, bonuses):
    response = post_bulk(as_admin, [], bonuses, employees=f"{employee.pk},abc")
    assert response.status_code == 400
    assert shown_errors(response)
    assert ledger()["entries"] == 0


# Submitted twice ------------------------------------------------------------------------------


def test_single_accrual_submitted_twice_accrues_once(as_admin, employee, bonuses):
    data = {"amount": "100", "comment": "Once", "idempotency_key": key()}
    first = post_single(as_admin, employee, bonuses, **data)
    second = post_single(as_admin, employee, bonuses, **data)
    assert first.status_code == second.status_code == 302
    assert Entry.objects.filter(user=employee).count() == 1
    assert Lot.objects.count() == 1
    assert active(employee) == 100


def test_bulk_accrual_submitted_twice_accrues_once(as_admin, employee, make_user, bonuses):
    other = make_user()
    data = {"amount": "50", "idempotency_key": key()}
    first = post_bulk(as_admin, [employee, other], bonuses, **data)
    second = post_bulk(as_admin, [employee, other], bonuses, **data)
    assert first.status_code == second.status_code == 302
    assert Batch.objects.count() == 1
    assert Entry.objects.count() == 2
    assert active(employee) == active(other) == 50


def test_bulk_select_all_submitted_twice_accrues_once(as_admin, employee, department, bonuses):
    data = {"amount": "50", "idempotency_key": key(), "select_all": "1", "filters": f"department={department.pk}"}
    assert post_bulk(as_admin, [], bonuses, **data).status_code == 302
    assert post_bulk(as_admin, [], bonuses, **data).status_code == 302
    assert Batch.objects.count() == 1
    assert active(employee) == 50


def test_write_off_submitted_twice_writes_off_once(as_admin, funded, bonuses):
    data = {"amount": "30", "comment": "Once", "idempotency_key": key()}
    first = post_write_off(as_admin, funded, bonuses, **data)
    second = post_write_off(as_admin, funded, bonuses, **data)
    assert first.status_code == second.status_code == 302
    assert Entry.objects.filter(kind=Entry.Kind.MANUAL_WRITE_OFF).count() == 1
    assert active(funded) == 70


def test_the_form_carries_a_fresh_idempotency_key_each_time_it_is_shown(as_admin, employee):
    keys = {as_admin.get(single_url(employee)).context["form"]["idempotency_key"].value() for _ in range(3)}
    keys |= {as_admin.get(WRITE_OFF).context["form"]["idempotency_key"].value() for _ in range(3)}
    assert len(keys) == 6 and all(keys)


# Happy paths --------------------------------------------------------------------------------


def test_single_accrual_redirects_with_a_message_naming_amount_and_new_balance(
    as_admin, funded, bonuses, administrator
):
    response = post_single(as_admin, funded, bonuses, amount="25.50", comment="Well done")
    assert response.status_code == 302
    assert response["Location"] == ACCRUAL_LIST
    assert message_texts(response) == ["25.50 Bonuses added to Erik Employee. New balance: 125.50."]
    entry = Entry.objects.latest("id")
    assert (entry.user, entry.kind, entry.amount, entry.comment, entry.actor) == (
        funded,
        Entry.Kind.MANUAL_ACCRUAL,
        Decimal("25.50"),
        "Well done",
        administrator,
    )
    # The table then shows the new balance in the employee's row.
    page = as_admin.get(response["Location"])
    assert "25.50 Bonuses added to Erik Employee. New balance: 125.50." in page.content.decode()
    row = next(r for r in page.context["table"].page.object_list if r.record.pk == funded.pk)
    assert row.record.balance == Decimal("125.50")


def test_single_accrual_over_htmx_answers_204_with_hx_redirect(as_admin, employee, bonuses):
    next_url = f"{ACCRUAL_LIST}?department={employee.department_id}&page=1"
    response = as_admin.post(
        single_url(employee),
        {"amount": "10", "idempotency_key": key(), "currency": bonuses.pk, "next": next_url},
        HTTP_HX_REQUEST="true",
    )
    assert response.status_code == 204
    assert response["HX-Redirect"] == next_url
    assert message_texts(response) == ["10.00 Bonuses added to Erik Employee. New balance: 10.00."]


def test_single_accrual_errors_over_htmx_come_back_in_the_modal(as_admin, employee, bonuses):
    response = as_admin.post(single_url(employee), {"amount": "0", "idempotency_key": key()}, HTTP_HX_REQUEST="true")
    assert response.status_code == 400
    assert "HX-Redirect" not in response
    assert 'data-testid="accrual-form"' in response.content.decode()
    assert "<html" not in response.content.decode()  # a fragment for the modal, not a page


def test_single_accrual_never_redirects_off_site(as_admin, employee, bonuses):
    response = post_single(as_admin, employee, bonuses, next="https://evil.example/")
    assert response.status_code == 302
    assert response["Location"] == ACCRUAL_LIST


def test_single_accrual_with_expiry_and_activation(as_admin, employee, bonuses):
    response = post_single(as_admin, employee, bonuses, amount="10", expires_on="2099-12-31", activates_on="2099-01-01")
    assert response.status_code == 302
    lot = Lot.objects.get()
    assert lot.activates_at == rules.start_of_day(date(2099, 1, 1))
    assert lot.expires_at == rules.expiry_instant(date(2099, 12, 31))
    assert active(employee) == 0
    assert selectors.balance(employee).non_activated == 10


def test_single_accrual_refuses_both_expiry_date_and_lifetime(as_admin, employee, bonuses):
    response = post_single(as_admin, employee, bonuses, expires_on="2099-12-31", lifetime_days="30")
    assert response.status_code == 400
    assert response.context["form"].errors["lifetime_days"]
    assert shown_errors(response)
    assert ledger()["lots"] == 0


def test_single_accrual_refuses_an_expiry_date_in_the_past(as_admin, employee, bonuses):
    response = post_single(as_admin, employee, bonuses, expires_on="2001-01-01")
    assert response.status_code == 400
    assert "The expiry date is in the past." in shown_errors(response)
    assert ledger()["lots"] == 0


def test_single_accrual_in_another_currency(as_admin, employee):
    stars = Currency.objects.create(name="Stars")
    assert post_single(as_admin, employee, stars, amount="7").status_code == 302
    assert active(employee, stars) == 7
    assert active(employee) == 0


def test_manager_accrual_is_logged_as_a_manager_accrual(as_manager, employee, manager, bonuses):
    response = post_single(as_manager, employee, bonuses, amount="15")
    assert response.status_code == 302
    entry = Entry.objects.get()
    assert (entry.kind, entry.actor, entry.amount) == (Entry.Kind.MANAGER_ACCRUAL, manager, 15)


@pytest.fixture
def teams(make_user, department):
    """30 active employees in Sales (more than a page of 25), 5 in Support, and a former one in Sales."""
    support = Department.objects.create(name="Support")
    sales = [make_user(f"sales{n}@example.com", department=department, full_name=f"Sales {n:02}") for n in range(30)]
    others = [make_user(f"support{n}@example.com", department=support, full_name=f"Support {n}") for n in range(5)]
    gone = make_user("gone@example.com", department=department, full_name="Sales Gone", is_active=False)
    return sales, others, gone


def test_bulk_accrual_to_the_selected_employees(as_admin, teams, bonuses):
    sales, others, _gone = teams
    chosen = [sales[0], sales[7], others[2]]
    response = post_bulk(as_admin, chosen, bonuses, amount="50", comment="Q3 goals")
    assert response.status_code == 302
    batch = Batch.objects.get()
    assert {e.user_id for e in Entry.objects.all()} == {u.pk for u in chosen}
    assert set(Entry.objects.values_list("comment", "amount", "batch")) == {("Q3 goals", 50, batch.pk)}
    (message,) = message_texts(response)
    assert "3 employees received 50.00 Bonuses each, 150.00 in all." in message
    assert f'href="{LOG}?batch={batch.pk}"' in message
    # The link opens the log filtered by the batch: exactly its three entries.
    log = as_admin.get(f"{LOG}?batch={batch.pk}")
    assert sorted(r.record.user_id for r in log.context["table"].page.object_list) == sorted(u.pk for u in chosen)


def test_bulk_accrual_to_every_employee_matching_the_filter(as_admin, teams, department, bonuses):
    sales, others, gone = teams
    # The filters are the table's query string: currency, page size and sorting come with them.
    filters = f"currency={bonuses.pk}&per_page=25&sort=-balance&department={department.pk}"
    matching = as_admin.get(f"{ACCRUAL_LIST}?{filters}").context["matching"]
    assert matching == 30
    form = as_admin.get(BULK, {"select_all": "1", "filters": filters, "currency": bonuses.pk})
    assert form.status_code == 200 and form.context["count"] == 30
    response = post_bulk(as_admin, [], bonuses, amount="10", select_all="1", filters=filters)
    assert response.status_code == 302
    assert sorted(Entry.objects.values_list("user_id", flat=True)) == sorted(u.pk for u in sales)
    assert {active(u) for u in sales} == {10}
    assert {active(u) for u in others} | {active(gone)} == {0}
    batch = Batch.objects.get()
    assert (batch.employee_count, batch.total) == (30, 300)
    (message,) = message_texts(response)
    assert "30 employees received 10.00 Bonuses each, 300.00 in all." in message
    assert f"?batch={batch.pk}" in message


def test_bulk_accrual_over_htmx_answers_204(as_admin, employee, bonuses):
    response = as_admin.post(
        BULK,
        {"employees": str(employee.pk), "amount": "5", "idempotency_key": key(), "currency": bonuses.pk},
        HTTP_HX_REQUEST="true",
    )
    assert response.status_code == 204
    assert response["HX-Redirect"] == ACCRUAL_LIST
    assert active(employee) == 5


def test_write_off_lands_on_the_log_filtered_to_the_employee_and_kind(as_admin, funded, bonuses, administrator):
    response = post_write_off(as_admin, funded, bonuses, amount="30", comment="Returned gift card")
    assert response.status_code == 302
    url = urlsplit(response["Location"])
    query = parse_qs(url.query)
    assert url.path == LOG
    assert query["employee"] == [str(funded.pk)]
    assert query["kind"] == [Entry.Kind.MANUAL_WRITE_OFF]
    assert message_texts(response) == ["30.00 Bonuses written off from Erik Employee. New balance: 70.00."]
    entry = Entry.objects.get(kind=Entry.Kind.MANUAL_WRITE_OFF)
    assert (entry.amount, entry.balance_after, entry.actor, entry.comment) == (
        -30,
        70,
        administrator,
        "Returned gift card",
    )
    log = as_admin.get(response["Location"])
    assert log.status_code == 200
    assert log_ids(log) == [entry.pk]
    assert "30.00 Bonuses written off from Erik Employee. New balance: 70.00." in log.content.decode()


def test_write_off_in_another_currency_touches_only_that_currency(as_admin, funded, administrator):
    stars = Currency.objects.create(name="Stars")
    services.accrue(user=funded, amount=20, actor=administrator, currency=stars)
    response = post_write_off(as_admin, funded, stars, amount="20")
    assert response.status_code == 302
    assert parse_qs(urlsplit(response["Location"]).query)["currency"] == [str(stars.pk)]
    assert (active(funded, stars), active(funded)) == (0, 100)


def test_available_partial_shows_the_active_balance(as_admin, funded, administrator, bonuses):
    services.accrue(user=funded, amount=50, actor=administrator, activates_on=date(2099, 1, 1))
    stars = Currency.objects.create(name="Stars")
    services.accrue(user=funded, amount=7, actor=administrator, currency=stars)
    response = as_admin.get(AVAILABLE, {"employee": funded.pk, "currency": bonuses.pk})
    assert response.status_code == 200
    assert 'data-available="100.00"' in response.content.decode()
    assert "Available bonuses" in response.content.decode()
    response = as_admin.get(AVAILABLE, {"employee": funded.pk, "currency": stars.pk})
    assert 'data-available="7.00"' in response.content.decode()
    # No employee chosen yet: no figure.
    assert "data-available" not in as_admin.get(AVAILABLE).content.decode()


# Employee autocomplete ------------------------------------------------------------------------


def autocomplete(client, q, **params):
    response = client.get(AUTOCOMPLETE, {"q": q, **params})
    assert response.status_code == 200
    return [item["id"] for item in response.json()["results"]]


def test_autocomplete_finds_active_employees_by_part_of_the_name(as_admin, make_user, employee, former):
    other = make_user("someone@example.com", full_name="Erika Mustermann")
    assert autocomplete(as_admin, "rik") == [employee.pk, other.pk]  # by name
    assert autocomplete(as_admin, "ERIK EMP") == [employee.pk]  # any case
    assert autocomplete(as_admin, "someone@") == [other.pk]  # by e-mail
    assert autocomplete(as_admin, "Fiona") == []  # deactivated: not offered for a write-off
    result = as_admin.get(AUTOCOMPLETE, {"q": "rik"}).json()["results"][0]
    assert result == {"id": employee.pk, "text": "Erik Employee (employee@example.com)"}


def test_autocomplete_finds_by_employee_number(as_admin, make_user):
    user = make_user(employee_number="E-4711")
    assert autocomplete(as_admin, "e-4711") == [user.pk]


def test_autocomplete_needs_two_characters(as_admin, employee):
    assert autocomplete(as_admin, "E") == []
    assert autocomplete(as_admin, " E ") == []
    assert autocomplete(as_admin, "") == []
    assert autocomplete(as_admin, "Er") == [employee.pk]


def test_autocomplete_returns_at_most_20(as_admin, make_user):
    for n in range(25):
        make_user(full_name=f"Zed {n:02}")
    found = autocomplete(as_admin, "Zed")
    assert len(found) == 20
    names = list(User.objects.filter(pk__in=found).order_by("full_name").values_list("full_name", flat=True))
    assert names == [f"Zed {n:02}" for n in range(20)]


def test_autocomplete_for_a_manager_is_limited_to_their_departments(as_manager, employee, outsider, make_user):
    make_user(full_name="Erin Elsewhere", department=outsider.department)
    assert autocomplete(as_manager, "Er") == [employee.pk]
    assert autocomplete(as_manager, "Otto") == []
    assert autocomplete(as_manager, "Otto", all="1") == []  # "all" is for administrators only


def test_autocomplete_of_the_log_includes_former_employees_for_administrators(as_admin, former):
    assert autocomplete(as_admin, "Fiona") == []
    assert autocomplete(as_admin, "Fiona", all="1") == [former.pk]


# The accrual table: filters and sorting --------------------------------------------------------


@pytest.fixture
def staff(make_user, administrator, bonuses, department):
    """Four employees whose every column sorts in a different order than their names."""
    tags = {name: Tag.objects.create(name=name) for name in ("alpha", "beta", "delta", "gamma", "zeta")}
    rows = [
        # name, e-mail, number, position, city, department, tags, hired, balance
        ("Anna", "m.anna", "N-04", "Analyst", "Cologne", "Marketing", ["delta"], date(2020, 1, 10), 25),
        ("Boris", "k.boris", "N-01", "Engineer", "Munich", "Sales", ["zeta", "alpha"], date(2021, 5, 1), 5),
        ("Clara", "z.clara", "N-03", "Clerk", "Berlin", "Finance", ["gamma"], date(2019, 3, 15), 15),
        ("Dmitri", "b.dmitri", "N-02", "Designer", "Hamburg", "Support", ["beta"], date(2022, 7, 1), 35),
    ]
    people = {}
    for name, local_part, number, position, city, department, tag_names, hired, balance in rows:
        user = make_user(
            f"{local_part}@staff.example",
            full_name=name,
            employee_number=number,
            position=Position.objects.create(name=position),
            city=City.objects.create(name=city),
            department=Department.objects.get_or_create(name=department)[0],  # Sales: the manager's
            hire_date=hired,
            tags=[tags[t] for t in tag_names],
        )
        services.accrue(user=user, amount=balance, actor=administrator)
        people[name] = user
    # A deactivated employee matching every filter never appears.
    make_user(
        "x.former@staff.example",
        full_name="Anna Former",
        department=people["Anna"].department,
        tags=[tags["alpha"]],
        is_active=False,
    )
    return people


def table(client, query: str) -> list[str]:
    response = client.get(f"{ACCRUAL_LIST}?q=staff.example&{query}")
    assert response.status_code == 200
    return table_names(response)


SORTS = {
    "full_name": ["Anna", "Boris", "Clara", "Dmitri"],
    "email": ["Dmitri", "Boris", "Anna", "Clara"],
    "employee_number": ["Boris", "Dmitri", "Clara", "Anna"],
    "position": ["Anna", "Clara", "Dmitri", "Boris"],
    "city": ["Clara", "Anna", "Dmitri", "Boris"],
    "department": ["Clara", "Anna", "Boris", "Dmitri"],
    "tags": ["Boris", "Dmitri", "Anna", "Clara"],  # by the first tag: alpha, beta, delta, gamma
    "balance": ["Boris", "Clara", "Anna", "Dmitri"],
}


@pytest.mark.parametrize("column", SORTS)
def test_accrual_table_sorts_by_every_column(as_admin, staff, column):
    assert table(as_admin, f"sort={column}") == SORTS[column]
    assert table(as_admin, f"sort=-{column}") == SORTS[column][::-1]


def test_accrual_table_default_order_is_by_name(as_admin, staff):
    assert table(as_admin, "") == ["Anna", "Boris", "Clara", "Dmitri"]


def test_accrual_table_lists_only_active_employees(as_admin, staff):
    names = table_names(as_admin.get(ACCRUAL_LIST))
    assert "Anna Former" not in names
    assert set(names) == {"Alex Admin", "Anna", "Boris", "Clara", "Dmitri"}


def test_accrual_table_search_by_name_email_or_number(as_admin, staff):
    assert len(table_names(as_admin.get(f"{ACCRUAL_LIST}?q="))) == 5  # empty: everyone, the administrator too
    assert table_names(as_admin.get(f"{ACCRUAL_LIST}?q=clara")) == ["Clara"]
    assert table_names(as_admin.get(f"{ACCRUAL_LIST}?q=k.boris@")) == ["Boris"]
    assert table_names(as_admin.get(f"{ACCRUAL_LIST}?q=n-03")) == ["Clara"]
    assert table_names(as_admin.get(f"{ACCRUAL_LIST}?q=nobody")) == []


def test_accrual_table_filters_by_department_city_position_and_tags(as_admin, staff):
    anna, boris, clara, dmitri = (staff[n] for n in ("Anna", "Boris", "Clara", "Dmitri"))
    assert table(as_admin, f"department={anna.department_id}") == ["Anna"]
    assert table(as_admin, f"department={anna.department_id}&department={dmitri.department_id}") == ["Anna", "Dmitri"]
    assert table(as_admin, f"city={boris.city_id}") == ["Boris"]
    assert table(as_admin, f"position={clara.position_id}") == ["Clara"]
    alpha, beta = Tag.objects.get(name="alpha"), Tag.objects.get(name="beta")
    assert table(as_admin, f"tags={alpha.pk}") == ["Boris"]
    # Several tags: employees with any of them, each once.
    assert table(as_admin, f"tags={alpha.pk}&tags={beta.pk}") == ["Boris", "Dmitri"]
    assert table(as_admin, f"tags={alpha.pk}&tags={beta.pk}&sort=-tags") == ["Dmitri", "Boris"]
    assert table(as_admin, f"department={boris.department_id}&city={clara.city_id}") == []


def test_accrual_table_filters_by_balance_and_hire_date_ranges(as_admin, staff):
    assert table(as_admin, "balance_min=15&balance_max=25") == ["Anna", "Clara"]  # inclusive
    assert table(as_admin, "balance_min=15.01") == ["Anna", "Dmitri"]
    assert table(as_admin, "balance_max=5") == ["Boris"]
    assert table(as_admin, "hired_after=2020-01-10&hired_before=2021-05-01") == ["Anna", "Boris"]  # inclusive
    assert table(as_admin, "hired_before=2019-12-31") == ["Clara"]


def test_accrual_table_refuses_a_bad_filter_value_without_an_error_page(as_admin, staff):
    response = as_admin.get(f"{ACCRUAL_LIST}?balance_min=lots&hired_after=yesterday")
    assert response.status_code == 200
    assert response.context["filter"].errors


def test_accrual_table_shows_the_balance_in_the_chosen_currency(as_admin, staff, administrator):
    stars = Currency.objects.create(name="Stars")
    services.accrue(user=staff["Clara"], amount=7, actor=administrator, currency=stars)
    response = as_admin.get(f"{ACCRUAL_LIST}?q=staff.example&currency={stars.pk}")
    balances = [(r.record.full_name, r.record.balance) for r in response.context["table"].page.object_list]
    assert balances == [("Anna", 0), ("Boris", 0), ("Clara", 7), ("Dmitri", 0)]
    assert table(as_admin, f"currency={stars.pk}&balance_min=1") == ["Clara"]


def test_accrual_table_paginates_with_a_page_size_choice(as_admin, teams):
    response = as_admin.get(ACCRUAL_LIST)
    assert len(table_names(response)) == 25
    assert response.context["matching"] == 36  # 35 and the administrator
    assert len(table_names(as_admin.get(f"{ACCRUAL_LIST}?page=2"))) == 11
    assert len(table_names(as_admin.get(f"{ACCRUAL_LIST}?per_page=50"))) == 36


@pytest.mark.parametrize("per_page", ["7", "1000", "0", "-5", "many"])
def test_accrual_table_page_size_is_one_of_the_choices(as_admin, teams, per_page):
    """Only 25, 50, 100 or 200 rows a page: a hand-made ?per_page=1000 must not render the whole company."""
    response = as_admin.get(f"{ACCRUAL_LIST}?per_page={per_page}")
    assert response.status_code == 200
    assert len(table_names(response)) == 25


@pytest.mark.parametrize("per_page", ["1000", "-5"])
def test_log_page_size_stays_50(as_admin, administrator, bonuses, per_page):
    User.objects.bulk_create([User(email=f"p{n}@example.com", full_name=f"P {n}") for n in range(55)])
    services.accrue_many(users=User.objects.filter(email__startswith="p"), amount=1, actor=administrator)
    assert len(log_ids(as_admin.get(LOG))) == 50
    assert len(log_ids(as_admin.get(f"{LOG}?page=2"))) == 5
    response = as_admin.get(f"{LOG}?per_page={per_page}")
    assert response.status_code == 200
    assert len(log_ids(response)) == 50


def test_accrual_table_for_a_manager_shows_only_their_departments(as_manager, staff, employee):
    response = as_manager.get(ACCRUAL_LIST)
    assert sorted(table_names(response)) == ["Boris", "Erik Employee"]  # Boris works in Sales
    assert response.context["matching"] == 2


# The log: order, filters, escaping ------------------------------------------------------------


@pytest.fixture
def history(staff, administrator, manager, bonuses):
    """Entries on several company days; 23:30 on 1 March and 00:30 on 2 March are one UTC day."""
    anna, boris, clara, dmitri = (staff[n] for n in ("Anna", "Boris", "Clara", "Dmitri"))
    stars = Currency.objects.create(name="Stars", budget_period="month", budget_allowance=1000)  # managers may grant
    e = {}
    # The staff fixture accrued earlier today; these dated entries go to fresh employees' ledgers in
    # another currency and to new people, so every account's entries stay in time order.
    e["spring"] = services.accrue(
        user=anna, amount=100, actor=administrator, comment="Spring bonus", currency=stars, at=local(3, 1, 23, 30)
    )
    e["manager"] = services.accrue(
        user=boris, amount=50, actor=manager, source="manager", currency=stars, at=local(3, 2, 0, 30)
    )
    e["write_off"] = services.write_off(
        user=anna, amount=30, actor=administrator, comment="Correction", currency=stars, at=local(3, 3, 10)
    )
    batch = services.accrue_many(
        users=[clara, dmitri], amount=20, actor=administrator, comment="Team event", currency=stars, at=local(3, 4, 10)
    )
    e["batch_clara"], e["batch_dmitri"] = Entry.objects.filter(batch=batch).order_by("user__full_name")
    return {"entries": e, "batch": batch, "stars": stars}


def log(client, query: str) -> list[int]:
    response = client.get(f"{LOG}?{query}")
    assert response.status_code == 200
    return log_ids(response)


def test_log_shows_newest_first(as_admin, history):
    ids = log(as_admin, "")
    assert len(ids) == 9
    assert ids == list(Entry.objects.order_by("-at", "-id").values_list("pk", flat=True))
    e = history["entries"]
    stars_ids = [i for i in ids if i in {x.pk for x in e.values()}]
    assert stars_ids == [
        e["batch_dmitri"].pk,
        e["batch_clara"].pk,
        e["write_off"].pk,
        e["manager"].pk,
        e["spring"].pk,
    ]


def test_log_sorts_by_amount(as_admin, history):
    stars = history["stars"].pk
    amounts = [Entry.objects.get(pk=i).amount for i in log(as_admin, f"currency={stars}&sort=amount")]
    assert amounts == [-30, 20, 20, 50, 100]
    amounts = [Entry.objects.get(pk=i).amount for i in log(as_admin, f"currency={stars}&sort=-amount")]
    assert amounts == [100, 50, 20, 20, -30]


def test_log_filters(as_admin, history, staff, administrator, manager):
    e, batch, stars = history["entries"], history["batch"], history["stars"].pk
    anna, boris = staff["Anna"], staff["Boris"]
    s = f"currency={stars}"
    assert log(as_admin, f"{s}&employee={anna.pk}") == [e["write_off"].pk, e["spring"].pk]
    assert log(as_admin, f"{s}&department={boris.department_id}") == [e["manager"].pk]
    assert log(as_admin, f"{s}&department={boris.department_id}&department={anna.department_id}") == [
        e["write_off"].pk,
        e["manager"].pk,
        e["spring"].pk,
    ]
    assert log(as_admin, f"{s}&kind=manual_write_off") == [e["write_off"].pk]
    assert log(as_admin, f"{s}&kind=manual_write_off&kind=manager_accrual") == [e["write_off"].pk, e["manager"].pk]
    assert log(as_admin, f"{s}&actor={manager.pk}") == [e["manager"].pk]
    assert log(as_admin, f"{s}&comment=CORRECT") == [e["write_off"].pk]
    assert log(as_admin, f"batch={batch.pk}") == [e["batch_dmitri"].pk, e["batch_clara"].pk]
    # The currency filter: the default currency's entries are the staff fixture's four accruals.
    default = Currency.objects.get(is_default=True).pk
    assert len(log(as_admin, f"currency={default}")) == 4
    assert set(
        Entry.objects.filter(pk__in=log(as_admin, f"currency={default}")).values_list("currency", flat=True)
    ) == {default}
    assert log(as_admin, f"{s}&employee={anna.pk}&kind=manual_accrual") == [e["spring"].pk]


def test_log_period_is_in_company_days(as_admin, history):
    e, s = history["entries"], f"currency={history['stars'].pk}"
    # 23:30 on 1 March and 00:30 on 2 March (company time) fall on the same UTC day.
    assert log(as_admin, f"{s}&period_from=2026-03-01&period_to=2026-03-01") == [e["spring"].pk]
    assert log(as_admin, f"{s}&period_from=2026-03-02&period_to=2026-03-02") == [e["manager"].pk]
    assert log(as_admin, f"{s}&period_from=2026-03-03") == [
        e["batch_dmitri"].pk,
        e["batch_clara"].pk,
        e["write_off"].pk,
    ]
    assert log(as_admin, f"{s}&period_to=2026-03-02") == [e["manager"].pk, e["spring"].pk]


def test_log_for_a_manager_shows_only_their_departments(client, manager, history, staff):
    client.force_login(manager)
    ids = log(client, "")
    assert ids and set(Entry.objects.filter(pk__in=ids).values_list("user", flat=True)) == {staff["Boris"].pk}
    # Filtering by someone else's department finds nothing (the choice is not theirs to make).
    assert log(client, f"department={staff['Anna'].department_id}") == []
    assert log(client, f"employee={staff['Anna'].pk}") == []


def test_comments_and_names_are_escaped_when_shown(as_admin, make_user, bonuses):
    person = make_user(full_name="<b>Bold</b> Person")
    script = "<script>alert(1)</script>"
    assert post_single(as_admin, person, bonuses, amount="5", comment=script).status_code == 302
    assert Entry.objects.get().comment == script  # stored as typed
    page = as_admin.get(LOG).content.decode()
    assert escape(script) in page
    assert script not in page
    assert escape("<b>Bold</b> Person") in page and "<b>Bold</b>" not in page
    # The success message names the employee; it is escaped too.
    table_page = as_admin.get(ACCRUAL_LIST).content.decode()
    assert "<b>Bold</b>" not in table_page
    # A bulk accrual's message carries a working link (escaping must not break it).
    response = post_bulk(as_admin, [person], bonuses, amount="5", comment=script)
    assert response.status_code == 302
    page = as_admin.get(response["Location"]).content.decode()
    assert f'<a href="{LOG}?batch={Batch.objects.get().pk}"' in page


# Currency settings ---------------------------------------------------------------------------


def settings_data(currency, *, burn_steps=(), **changes) -> dict:
    data = {
        "name": currency.name,
        "whole_numbers": "on" if currency.whole_numbers else "",
        "activation_delay_days": currency.activation_delay_days,
        "burn_policy": currency.burn_policy,
        "lifetime_value": currency.lifetime_value or "",
        "lifetime_unit": currency.lifetime_unit,
        "expiry_reminder_days": currency.expiry_reminder_days or "",
        "requires_confirmation": "on" if currency.requires_confirmation else "",
    }
    data.update(changes)
    return {**{k: v for k, v in data.items() if v != ""}, **step_rows(burn_steps)}


def step_rows(steps) -> dict:
    """Burn-out steps as the settings page posts them: the rows of the formset `steps`."""
    rows = {"steps-TOTAL_FORMS": str(len(steps)), "steps-INITIAL_FORMS": "0"}
    for n, step in enumerate(steps):
        rows.update({f"steps-{n}-{name}": str(value) for name, value in step.items()})
    return rows


def currency_row(currency) -> dict:
    return Currency.objects.filter(pk=currency.pk).values().get()


def test_currency_settings_save_valid_settings(as_admin, bonuses):
    url = f"/bonuses/settings/currency/{bonuses.pk}/"
    assert as_admin.get(url).status_code == 200
    steps = [{"period": 6, "unit": "months", "percent": 50}, {"period": 1, "unit": "years", "percent": 100}]
    response = as_admin.post(
        url,
        settings_data(
            bonuses,
            whole_numbers="on",
            activation_delay_days="3",
            burn_policy="from_last_purchase",
            burn_steps=steps,
            expiry_reminder_days="14",
        ),
    )
    assert response.status_code == 302
    assert response["Location"] == "/bonuses/settings/"
    assert message_texts(response) == ["The settings of Bonuses are saved."]
    saved = Currency.objects.get(pk=bonuses.pk)
    assert (saved.whole_numbers, saved.activation_delay_days, saved.burn_policy, saved.expiry_reminder_days) == (
        True,
        3,
        "from_last_purchase",
        14,
    )
    assert [(s["period"], s["unit"], Decimal(s["percent"])) for s in saved.burn_steps] == [
        (6, "months", 50),
        (1, "years", 100),
    ]


BAD_STEPS = {
    "not longer than the step before": (
        [{"period": 1, "unit": "years", "percent": 50}, {"period": 12, "unit": "months", "percent": 100}],
        "Step 2 must be longer than the step before it.",
    ),
    "percentage not rising": (
        [{"period": 6, "unit": "months", "percent": 50}, {"period": 1, "unit": "years", "percent": 40}],
        "Step 2 must burn a higher percentage than the step before.",
    ),
    "100% before the last step": (
        [{"period": 6, "unit": "months", "percent": 100}, {"period": 1, "unit": "years", "percent": 100}],
        "Only the last step may burn 100%.",
    ),
    "percentage over 100": ([{"period": 1, "unit": "years", "percent": 150}], "the percentage must be above 0"),
    "unknown unit": ([{"period": 1, "unit": "weeks", "percent": 50}], "the period must be at least one day"),
    "not a number": ([{"period": "1 year", "unit": "years", "percent": 50}], "Enter a whole number."),
}


@pytest.mark.parametrize(("steps", "message"), BAD_STEPS.values(), ids=BAD_STEPS.keys())
def test_currency_settings_refuse_invalid_burn_steps(as_admin, bonuses, steps, message):
    before = currency_row(bonuses)
    response = as_admin.post(
        f"/bonuses/settings/currency/{bonuses.pk}/",
        settings_data(bonuses, burn_policy="from_last_purchase", burn_steps=steps, activation_delay_days="9"),
    )
    assert response.status_code == 400
    errors = shown_errors(response)
    assert errors
    if message:
        assert any(message in error for error in errors), errors
    assert currency_row(bonuses) == before


def test_currency_settings_refuse_changing_the_burn_policy_once_there_are_points(
    as_admin, bonuses, employee, administrator
):
    services.accrue(user=employee, amount=5, actor=administrator)
    before = currency_row(bonuses)
    response = as_admin.post(
        f"/bonuses/settings/currency/{bonuses.pk}/",
        settings_data(bonuses, burn_policy="from_crediting", lifetime_value="30"),
    )
    assert response.status_code == 400
    assert "The burn-out policy cannot change once the currency has points." in shown_errors(response)
    assert currency_row(bonuses) == before


def test_currency_settings_of_an_unknown_currency_is_404(as_admin):
    assert as_admin.get("/bonuses/settings/currency/999999/").status_code == 404


# Query counts -------------------------------------------------------------------------------


def count_queries(client, url: str) -> int:
    with CaptureQueriesContext(connection) as context:
        response = client.get(url)
    assert response.status_code == 200
    return len(context.captured_queries)


def test_accrual_table_page_costs_the_same_queries_for_25_and_100_rows(
    as_admin, administrator, bonuses, django_assert_max_num_queries
):
    departments = [Department.objects.create(name=f"Dept {n}") for n in range(3)]
    cities = [City.objects.create(name=f"City {n}") for n in range(3)]
    positions = [Position.objects.create(name=f"Position {n}") for n in range(3)]
    tags = [Tag.objects.create(name=f"tag-{n}") for n in range(4)]
    User.objects.bulk_create(
        [
            User(
                email=f"bulk{n}@example.com",
                full_name=f"Bulk {n:03}",
                department=departments[n % 3],
                city=cities[n % 3],
                position=positions[n % 3],
            )
            for n in range(120)
        ]
    )
    people = list(User.objects.filter(email__startswith="bulk"))
    Through = User.tags.through
    Through.objects.bulk_create(
        [Through(user_id=u.pk, tag_id=t.pk) for i, u in enumerate(people) for t in tags[: 1 + i % 3]]
    )
    services.accrue_many(users=people, amount=10, actor=administrator)

    few = count_queries(as_admin, f"{ACCRUAL_LIST}?per_page=25&sort=balance")
    response = as_admin.get(f"{ACCRUAL_LIST}?per_page=100&sort=balance")
    assert len(response.context["table"].page.object_list) == 100
    with django_assert_max_num_queries(few):
        many = count_queries(as_admin, f"{ACCRUAL_LIST}?per_page=100&sort=balance")
    assert many == few
    # Sorted by tags, and filtered, the same holds.
    assert count_queries(as_admin, f"{ACCRUAL_LIST}?per_page=25&sort=tags&tags={tags[0].pk}") == count_queries(
        as_admin, f"{ACCRUAL_LIST}?per_page=100&sort=tags&tags={tags[0].pk}"
    )


def test_log_page_costs_the_same_queries_for_10_and_50_entries(
    as_admin, administrator, manager, bonuses, make_user, django_assert_max_num_queries
):
    def post_history(people: int):
        """Five entries per employee, of every shape the log shows: accruals, batches, orders, write-offs."""
        people = [make_user(department=manager.managed_departments.get()) for _ in range(people)]  # the manager's
        for person in people:
            services.accrue(user=person, amount=100, actor=administrator, comment="Hello")
        services.accrue_many(users=people, amount=5, actor=manager, source="manager")
        for n, person in enumerate(people):
            reservation = services.reserve(user=person, amount=10, reference=f"ORDER-{person.pk}")
            services.capture(reservation) if n % 2 else services.release(reservation)
        for person in people:
            services.write_off(user=person, amount=1, actor=administrator, comment="Fix")

    filtered = f"{LOG}?kind=manual_write_off&kind=order_reserved&period_from=2000-01-01&currency={bonuses.pk}"
    post_history(2)
    assert Entry.objects.count() == 10
    few = count_queries(as_admin, LOG)
    few_filtered = count_queries(as_admin, filtered)
    post_history(12)
    response = as_admin.get(LOG)
    assert len(response.context["table"].page.object_list) == 50
    assert {row.record.kind for row in response.context["table"].page.object_list} >= {
        "manual_accrual",
        "manager_accrual",
        "order_reserved",
        "order_spent",
        "order_released",
        "manual_write_off",
    }
    with django_assert_max_num_queries(few):
        many = count_queries(as_admin, LOG)
    assert many == few
    assert len(as_admin.get(filtered).context["table"].page.object_list) == 28
    assert count_queries(as_admin, filtered) == few_filtered
