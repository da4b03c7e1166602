"""What the three amount forms (single accrual, bulk accrual, write-off) have in common (issue 4).

Every bad input of SPEC.md section 8 that applies to them gets a message next to its field and writes
nothing; each form carries a fresh idempotency key each time it is shown.
"""

import pytest

from bonuses.models import Entry
from tests.helpers import (
    NOT_A_NUMBER,
    NOT_POSITIVE,
    WRITE_OFF,
    active,
    errors_by_field,
    post_bulk,
    post_single,
    post_write_off,
    shown_errors,
    single_url,
)

pytestmark = pytest.mark.django_db

SCREENS = {
    "single": lambda client, user, currency, **data: post_single(client, user, currency, **data),
    "bulk": lambda client, user, currency, **data: post_bulk(client, [user], currency, **data),
    "write-off": lambda client, user, currency, **data: post_write_off(client, user, currency, **data),
}


BAD_AMOUNTS = {
    "zero": ("0", NOT_POSITIVE),
    "zero with decimals": ("0.00", NOT_POSITIVE),
    "negative": ("-5", NOT_POSITIVE),
    "non-numeric": ("abc", NOT_A_NUMBER),
    "empty": ("", "This field is required."),
    "three decimal places": ("1.234", "Use at most two decimal places."),
    "not finite": ("NaN", NOT_A_NUMBER),
}


@pytest.mark.parametrize("screen", SCREENS)
@pytest.mark.parametrize(("amount", "message"), BAD_AMOUNTS.values(), ids=BAD_AMOUNTS.keys())
def test_a_bad_amount_is_refused_next_to_the_field_and_nothing_changes(
    as_admin, funded, bonuses, screen, amount, message, ledger_snapshot
):
    before = ledger_snapshot()
    response = SCREENS[screen](as_admin, funded, bonuses, amount=amount)
    assert response.status_code == 400
    assert errors_by_field(response) == {"amount": [message]}  # each shown next to its field
    assert ledger_snapshot() == before
    assert active(funded) == 100


@pytest.mark.parametrize("screen", SCREENS)
def test_a_fraction_is_refused_where_the_currency_needs_whole_numbers(as_admin, funded, whole, screen, ledger_snapshot):
    before = ledger_snapshot()
    response = SCREENS[screen](as_admin, funded, whole, amount="10.5")
    assert response.status_code == 400
    assert shown_errors(response) == ["Bonuses are whole numbers only."], response.context["form"].errors
    assert ledger_snapshot() == before
    # A whole amount written with decimals is fine.
    response = SCREENS[screen](as_admin, funded, whole, amount="10.00")
    assert response.status_code == 302
    assert active(funded) == (90 if screen == "write-off" else 110)


@pytest.mark.parametrize("screen", SCREENS)
def test_a_comment_over_1000_characters_is_refused(as_admin, funded, bonuses, screen, ledger_snapshot):
    before = ledger_snapshot()
    response = SCREENS[screen](as_admin, funded, bonuses, amount="10", comment="x" * 1001)
    assert response.status_code == 400
    assert errors_by_field(response) == {"comment": ["Ensure this value has at most 1000 characters (it has 1001)."]}
    assert ledger_snapshot() == before
    # Exactly 1,000 characters are accepted.
    response = SCREENS[screen](as_admin, funded, bonuses, amount="10", comment="y" * 1000)
    assert response.status_code == 302
    assert Entry.objects.latest("id").comment == "y" * 1000


def test_the_form_carries_a_fresh_idempotency_key_each_time_it_is_shown(as_admin, employee):
    keys = {as_admin.get(single_url(employee)).context["form"]["idempotency_key"].value() for _ in range(3)}
    keys |= {as_admin.get(WRITE_OFF).context["form"]["idempotency_key"].value() for _ in range(3)}
    assert len(keys) == 6 and all(keys)
