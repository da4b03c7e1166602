"""The write-off screen (issue 4): more than the active balance, no points, an unknown or inactive
employee are refused and write nothing; a write-off lands on the log filtered to it; the form shows the
available balance.
"""

from datetime import date
from urllib.parse import parse_qs, urlsplit

import pytest

from bonuses import services
from bonuses.models import Currency, Entry
from tests.helpers import (
    LOG,
    REMEMBERED_REFUSAL,
    active,
    key,
    message_texts,
    post_write_off,
    shown_errors,
    table_records,
)

pytestmark = pytest.mark.django_db

AVAILABLE = "/bonuses/write-off/available/"


def test_write_off_of_more_than_the_active_balance_is_refused(
    as_admin, funded, bonuses, administrator, ledger_snapshot
):
    # 50 more points that activate later do not count as available.
    services.accrue(user=funded, amount=50, actor=administrator, activates_on=date(2099, 1, 1))
    before = ledger_snapshot(skip=REMEMBERED_REFUSAL)
    response = post_write_off(as_admin, funded, bonuses, amount="100.01")
    assert response.status_code == 400
    errors = response.context["form"].errors["amount"]
    assert errors == ["Only 100.00 Bonuses are available; 100.01 were asked for."]
    assert shown_errors(response) == ["Only 100.00 Bonuses are available; 100.01 were asked for."]
    assert 'data-available="100.00"' in response.content.decode()  # the form shows what is available
    assert ledger_snapshot(skip=REMEMBERED_REFUSAL) == before
    assert active(funded) == 100


def test_write_off_with_no_points_at_all_is_refused(as_admin, employee, bonuses, ledger_snapshot):
    before = ledger_snapshot(skip=REMEMBERED_REFUSAL)
    response = post_write_off(as_admin, employee, bonuses, amount="1")
    assert response.status_code == 400
    assert shown_errors(response) == ["Erik Employee has no Bonuses."]
    assert ledger_snapshot(skip=REMEMBERED_REFUSAL) == before


def test_a_corrected_write_off_goes_through_after_a_refusal(as_admin, funded, bonuses):
    """The form shown again after a refusal carries its idempotency key; sending it corrected must work."""
    refused = post_write_off(as_admin, funded, bonuses, amount="500")
    assert refused.status_code == 400
    shown_key = refused.context["form"]["idempotency_key"].value()
    response = post_write_off(as_admin, funded, bonuses, amount="40", idempotency_key=shown_key)
    assert response.status_code == 302, response.context and response.context["form"].errors
    assert active(funded) == 60


def test_write_off_for_an_unknown_employee_is_refused(as_admin, bonuses):
    response = post_write_off(as_admin, 999_999, bonuses)
    assert response.status_code == 400
    assert response.context["form"].errors["employee"] == ["Choose an active employee from the list."]
    assert shown_errors(response) == ["Choose an active employee from the list."]


def test_write_off_from_an_inactive_employee_is_refused(as_admin, former, bonuses, ledger_snapshot):
    before = ledger_snapshot()
    response = post_write_off(as_admin, former, bonuses, amount="10")
    assert response.status_code == 400
    assert response.context["form"].errors["employee"] == ["Choose an active employee from the list."]
    assert ledger_snapshot() == before


def test_write_off_submitted_twice_writes_off_once(as_admin, funded, bonuses):
    data = {"amount": "30", "comment": "Once", "idempotency_key": key()}
    first = post_write_off(as_admin, funded, bonuses, **data)
    second = post_write_off(as_admin, funded, bonuses, **data)
    assert first.status_code == second.status_code == 302
    assert Entry.objects.filter(kind=Entry.Kind.MANUAL_WRITE_OFF).count() == 1
    assert active(funded) == 70


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
    assert [record.pk for record in table_records(log)] == [entry.pk]
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
