"""The single and bulk accrual screens (issue 4).

An unknown, inactive or (for a manager) foreign employee, an empty selection and a malformed one are
refused and write nothing; a form posted twice accrues once; the happy paths redirect (or answer htmx
with HX-Redirect) with a message naming the amount and the new balance.
"""

from datetime import date
from decimal import Decimal

import pytest

from bonuses import rules, selectors, services
from bonuses.exceptions import AccountBlocked
from bonuses.models import Account, Batch, Currency, Entry, Lot
from tests.helpers import (
    ACCRUAL_LIST,
    BULK,
    LOG,
    REMEMBERED_REFUSAL,
    active,
    errors_by_field,
    key,
    message_texts,
    post_bulk,
    post_single,
    post_write_off,
    shown_errors,
    single_url,
)

pytestmark = pytest.mark.django_db


def test_a_corrected_accrual_goes_through_after_a_refusal(as_admin, employee, whole):
    refused = post_single(as_admin, employee, whole, amount="10.5")
    assert refused.status_code == 400
    shown_key = refused.context["form"]["idempotency_key"].value()
    response = post_single(as_admin, employee, whole, amount="10", idempotency_key=shown_key)
    assert response.status_code == 302, response.context and response.context["form"].errors
    assert active(employee) == 10


# Unknown, inactive and foreign employees ----------------------------------------------------------


def test_single_accrual_to_an_unknown_employee_is_404(as_admin, bonuses, ledger_snapshot):
    before = ledger_snapshot()
    response = post_single(as_admin, 999_999, bonuses)
    assert response.status_code == 404
    assert as_admin.get(single_url(999_999)).status_code == 404
    assert ledger_snapshot() == before


def test_bulk_accrual_to_an_unknown_employee_is_refused(as_admin, employee, bonuses, ledger_snapshot):
    before = ledger_snapshot(skip=REMEMBERED_REFUSAL)
    response = post_bulk(as_admin, [employee, 999_999], bonuses)
    assert response.status_code == 400
    assert "1 of the selected employees is unknown or not active; nothing was accrued." in shown_errors(response)
    assert ledger_snapshot(skip=REMEMBERED_REFUSAL) == before


def test_single_accrual_to_an_inactive_employee_is_refused(as_admin, former, bonuses, ledger_snapshot):
    before = ledger_snapshot(skip=REMEMBERED_REFUSAL)
    response = post_single(as_admin, former, bonuses)
    assert response.status_code == 400
    assert "The employee is not active." in shown_errors(response)
    assert ledger_snapshot(skip=REMEMBERED_REFUSAL) == before


def test_bulk_accrual_with_an_inactive_employee_accrues_to_nobody(as_admin, former, employee, bonuses, ledger_snapshot):
    before = ledger_snapshot(skip=REMEMBERED_REFUSAL)
    response = post_bulk(as_admin, [employee, former], bonuses)
    assert response.status_code == 400
    assert "1 of the selected employees is unknown or not active; nothing was accrued." in shown_errors(response)
    assert ledger_snapshot(skip=REMEMBERED_REFUSAL) == before
    assert active(employee) == 0


def test_manager_single_accrual_to_a_foreign_employee_is_403(as_manager, outsider, bonuses, ledger_snapshot):
    before = ledger_snapshot()
    response = post_single(as_manager, outsider, bonuses)
    assert response.status_code == 403
    assert ledger_snapshot() == before


def test_manager_forged_bulk_post_with_a_foreign_employee_is_403(
    as_manager, outsider, employee, bonuses, ledger_snapshot
):
    before = ledger_snapshot()
    response = post_bulk(as_manager, [employee, outsider], bonuses)
    assert response.status_code == 403
    assert ledger_snapshot() == before


def test_manager_cannot_even_open_the_bulk_form_for_a_foreign_employee(as_manager, outsider, employee, bonuses):
    assert as_manager.get(BULK, {"employees": f"{employee.pk},{outsider.pk}"}).status_code == 403
    assert as_manager.get(BULK, {"employees": str(employee.pk)}).context["count"] == 1


def test_manager_forged_select_all_on_a_foreign_department_is_403(
    as_manager, outsider, employee, bonuses, ledger_snapshot
):
    before = ledger_snapshot()
    response = post_bulk(as_manager, [], bonuses, select_all="1", filters=f"department={outsider.department_id}")
    assert response.status_code == 403
    assert ledger_snapshot() == before


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


# Bulk with nobody selected ------------------------------------------------------------------------


def test_bulk_accrual_with_no_employee_selected_is_refused(as_admin, employee, bonuses, ledger_snapshot):
    before = ledger_snapshot(skip=REMEMBERED_REFUSAL)
    response = post_bulk(as_admin, [], bonuses)
    assert response.status_code == 400
    assert "Select at least one employee." in shown_errors(response)
    assert response.context["count"] == 0
    assert ledger_snapshot(skip=REMEMBERED_REFUSAL) == before


def test_bulk_select_all_matching_nobody_is_refused(as_admin, employee, bonuses, ledger_snapshot):
    before = ledger_snapshot(skip=REMEMBERED_REFUSAL)
    response = post_bulk(as_admin, [], bonuses, select_all="1", filters="q=nobody-has-this-name")
    assert response.status_code == 400
    assert "Select at least one employee." in shown_errors(response)
    assert ledger_snapshot(skip=REMEMBERED_REFUSAL) == before


def test_bulk_with_a_malformed_selection_accrues_nothing(as_admin, employee, bonuses, ledger_snapshot):
    before = ledger_snapshot()
    response = post_bulk(as_admin, [], bonuses, employees=f"{employee.pk},abc")
    assert response.status_code == 400
    assert shown_errors(response) == ["The selection is not valid."]
    assert ledger_snapshot() == before


# Submitted twice ----------------------------------------------------------------------------------


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


# Happy paths --------------------------------------------------------------------------------------


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


def test_single_accrual_refuses_both_expiry_date_and_lifetime(as_admin, employee, bonuses, ledger_snapshot):
    before = ledger_snapshot()
    response = post_single(as_admin, employee, bonuses, expires_on="2099-12-31", lifetime_days="30")
    assert response.status_code == 400
    assert errors_by_field(response) == {"lifetime_days": ["Give either an expiry date or a lifetime, not both."]}
    assert ledger_snapshot() == before


def test_single_accrual_refuses_an_expiry_date_in_the_past(as_admin, employee, bonuses, ledger_snapshot):
    before = ledger_snapshot()
    response = post_single(as_admin, employee, bonuses, expires_on="2001-01-01")
    assert response.status_code == 400
    assert "The expiry date is in the past." in shown_errors(response)
    assert ledger_snapshot() == before


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
