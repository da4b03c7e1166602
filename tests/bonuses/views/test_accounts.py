"""Account states on the screens (issue 11): the administrators' "Account state" of an accrual table row (a
modal, or a page without JavaScript), the badge in the table, and the notice on the employee's own pages,
where an account that cannot spend cannot order either."""

import uuid
from html import unescape

import pytest
from django.urls import reverse
from django.utils.html import escape

from bonuses import exceptions, services
from bonuses.models import Account, AccountStateChange, Currency
from bonuses.shop.models import Category, Gift, Order
from tests.helpers import REMEMBERED_REFUSAL, local, message_texts

pytestmark = pytest.mark.django_db

ACCRUAL_LIST = "/bonuses/accrual/"
BALANCE = "/account/balance/"
SHOP = "/shop/"
ACTIVE, ACCUMULATE_ONLY, BLOCKED = Account.State.ACTIVE, Account.State.ACCUMULATE_ONLY, Account.State.BLOCKED


def state_url(user) -> str:
    return f"/bonuses/accrual/{user.pk}/state/"


@pytest.fixture
def stars(db):
    return Currency.objects.create(name="Stars", whole_numbers=True)


@pytest.fixture
def funded(employee, administrator, bonuses, stars):
    """The employee with 500 Bonuses and 40 Stars."""
    services.accrue(user=employee, amount=500, actor=administrator, at=local(3, 1))
    services.accrue(user=employee, amount=40, actor=administrator, currency=stars, at=local(3, 1))
    return employee


@pytest.fixture
def gifts(bonuses, stars):
    bags = Category.objects.create(name="Bags")
    return {
        "backpack": Gift.objects.create(name="Backpack", category=bags, price=50, currency=bonuses),
        "pin": Gift.objects.create(name="Star pin", category=bags, price=10, currency=stars),
    }


def block(user, *, by, state=BLOCKED, reason="Audit of March", currency=None, at=None):
    return services.set_account_state(user=user, state=state, actor=by, reason=reason, currency=currency, at=at)


def page(response) -> str:
    return unescape(response.content.decode())


def post_state(client, user, *, htmx=False, **data):
    payload = {"currency": Currency.objects.get(is_default=True).pk, "state": BLOCKED, "reason": "Audit", **data}
    headers = {"HTTP_HX_REQUEST": "true"} if htmx else {}
    return client.post(state_url(user), payload, **headers)


def field_errors(response) -> dict[str, list[str]]:
    """The form's errors, each of which the page shows."""
    errors = {name: list(messages) for name, messages in response.context["form"].errors.items()}
    for messages in errors.values():
        for message in messages:
            assert escape(message) in response.content.decode(), message
    return errors


# Who opens it ---------------------------------------------------------------------------------------


@pytest.mark.parametrize("who", ["manager", "employee"])
def test_managers_and_employees_get_403_and_change_nothing(who, client, manager, funded, ledger_snapshot):
    client.force_login({"manager": manager, "employee": funded}[who])
    before = ledger_snapshot()
    assert client.get(state_url(funded)).status_code == 403
    assert post_state(client, funded).status_code == 403
    assert post_state(client, funded, htmx=True).status_code == 403
    assert ledger_snapshot() == before


def test_a_logged_out_visitor_is_sent_to_the_login_page(client, funded):
    response = client.get(state_url(funded))
    assert response.status_code == 302 and response["Location"].startswith(reverse("login"))


def test_an_unknown_employee_is_404(as_admin):
    assert as_admin.get("/bonuses/accrual/999999/state/").status_code == 404
    assert as_admin.post("/bonuses/accrual/999999/state/", {"state": BLOCKED, "reason": "x"}).status_code == 404


def test_to_a_manager_an_unknown_employee_is_403_too(client, manager):
    client.force_login(manager)
    assert client.get("/bonuses/accrual/999999/state/").status_code == 403


def test_a_forged_next_is_not_followed(as_admin, funded):
    response = post_state(as_admin, funded, next="https://evil.example/")
    assert response.status_code == 302 and response["Location"] == ACCRUAL_LIST
    assert Account.objects.get(user=funded, currency__is_default=True).state == BLOCKED


# The modal and its page ----------------------------------------------------------------------------------


def test_the_modal_shows_the_state_in_every_currency(as_admin, funded, administrator, stars):
    block(funded, by=administrator, currency=stars, reason="Stars are paused", at=local(3, 4))
    response = as_admin.get(state_url(funded) + f"?currency={stars.pk}", HTTP_HX_REQUEST="true")
    assert response.status_code == 200
    assert [t.name for t in response.templates][0] == "bonuses/partials/account_state_form.html"
    html = page(response)
    assert "Account state · Erik Employee" in html
    rows = [(s.currency.name, s.state, s.reason) for s in response.context["states"]]
    assert rows == [("Bonuses", ACTIVE, ""), ("Stars", BLOCKED, "Stars are paused")]
    assert "4 Mar 2026" in html and "Stars are paused" in html
    assert response.context["form"]["currency"].value() == stars.pk  # the table's currency is chosen


def test_without_javascript_it_is_a_page_of_its_own(as_admin, funded):
    response = as_admin.get(state_url(funded) + "?next=/bonuses/accrual/%3Fq%3DErik")
    assert response.status_code == 200
    assert [t.name for t in response.templates][0] == "bonuses/account_state.html"
    assert 'name="next" value="/bonuses/accrual/?q=Erik"' in response.content.decode()
    response = post_state(as_admin, funded, next="/bonuses/accrual/?q=Erik")
    assert response.status_code == 302 and response["Location"] == "/bonuses/accrual/?q=Erik"


def test_saving_changes_the_state_logs_it_and_says_so(as_admin, funded, administrator, stars):
    response = post_state(as_admin, funded, htmx=True, currency=stars.pk, state=ACCUMULATE_ONLY, reason=" Probation ")
    assert response.status_code == 204 and response["HX-Redirect"] == ACCRUAL_LIST
    assert message_texts(response) == ["The Stars account of Erik Employee is now “Accumulate only”."]
    assert Account.objects.get(user=funded, currency=stars).state == ACCUMULATE_ONLY
    assert Account.objects.get(user=funded, currency__is_default=True).state == ACTIVE
    row = AccountStateChange.objects.get()
    assert (row.from_state, row.to_state, row.reason, row.actor) == (
        ACTIVE,
        ACCUMULATE_ONLY,
        "Probation",
        administrator,
    )

    response = post_state(as_admin, funded, currency=stars.pk, state=ACTIVE, reason="Probation over")
    assert response.status_code == 302
    assert Account.objects.get(user=funded, currency=stars).state == ACTIVE
    assert AccountStateChange.objects.count() == 2


@pytest.mark.parametrize(
    ("data", "field", "message"),
    [
        ({"reason": ""}, "reason", "Give the reason for the change."),
        ({"reason": "   "}, "reason", "Give the reason for the change."),
        ({"reason": "x" * 1001}, "reason", "Ensure this value has at most 1000 characters (it has 1001)."),
        ({"state": "frozen"}, "state", "Select a valid choice. frozen is not one of the available choices."),
        ({"state": ""}, "state", "This field is required."),
        ({"currency": "999999"}, "currency", "Select a valid choice. That choice is not one of the available choices."),
        ({"currency": "x"}, "currency", "Select a valid choice. That choice is not one of the available choices."),
        ({"state": ACTIVE}, "state", "The Bonuses account is already “Active”: choose another state."),
    ],
)
def test_refused_input_is_shown_next_to_the_field_with_400_and_changes_nothing(
    data, field, message, as_admin, funded, ledger_snapshot
):
    before = ledger_snapshot()
    response = post_state(as_admin, funded, htmx=True, **data)
    assert response.status_code == 400
    assert field_errors(response) == {field: [message]}
    assert ledger_snapshot() == before


def test_the_same_state_is_refused_in_any_currency(as_admin, funded, administrator, stars, ledger_snapshot):
    block(funded, by=administrator, currency=stars)
    before = ledger_snapshot()
    response = post_state(as_admin, funded, currency=stars.pk, state=BLOCKED)
    assert response.status_code == 400
    assert field_errors(response) == {"state": ["The Stars account is already “Blocked”: choose another state."]}
    assert ledger_snapshot() == before


def test_an_administrator_cannot_change_their_own_account(as_admin, administrator, ledger_snapshot):
    before = ledger_snapshot()
    response = post_state(as_admin, administrator)
    assert response.status_code == 400
    assert field_errors(response) == {"__all__": ["You cannot change the state of your own account."]}
    assert ledger_snapshot() == before


# The accrual table -----------------------------------------------------------------------------------


def row_of(response, user) -> str:
    html = response.content.decode()
    start = html.index(f'data-employee="{user.pk}"')
    return html[start : html.index("</tr>", start)]


def test_the_table_shows_a_badge_for_an_account_that_cannot_spend_in_the_chosen_currency(
    as_admin, funded, administrator, make_user, department, stars
):
    colleague = make_user(department=department, full_name="Sara Seller")
    block(funded, by=administrator, currency=stars)
    block(colleague, by=administrator, state=ACCUMULATE_ONLY)
    in_bonuses = as_admin.get(ACCRUAL_LIST)
    assert "data-account-state" not in row_of(in_bonuses, funded)
    assert 'data-account-state="accumulate_only"' in row_of(in_bonuses, colleague)
    assert "Accumulate only" in row_of(in_bonuses, colleague)
    in_stars = as_admin.get(f"{ACCRUAL_LIST}?currency={stars.pk}")
    assert 'data-account-state="blocked"' in row_of(in_stars, funded) and "Blocked" in row_of(in_stars, funded)
    assert "data-account-state" not in row_of(in_stars, colleague)


def test_the_row_offers_account_state_to_administrators_only_and_not_for_oneself(
    client, as_admin, funded, administrator, manager, stars
):
    html = row_of(as_admin.get(f"{ACCRUAL_LIST}?currency={stars.pk}"), funded)
    assert f'hx-get="{state_url(funded)}?currency={stars.pk}"' in html
    assert 'Account state<span class="visually-hidden"> of Erik Employee</span>' in html
    assert "/state/" not in row_of(as_admin.get(ACCRUAL_LIST), administrator)

    block(funded, by=administrator)
    client.force_login(manager)
    html = row_of(client.get(ACCRUAL_LIST), funded)
    assert "/state/" not in html and "Account state" not in html
    assert 'data-account-state="blocked"' in html  # a manager sees the badge


def test_a_managers_grant_to_a_blocked_employee_is_refused_in_the_modal(
    client, manager, funded, administrator, ledger_snapshot
):
    block(funded, by=administrator)
    client.force_login(manager)
    before = ledger_snapshot(skip=REMEMBERED_REFUSAL)
    data = {"amount": "5", "currency": Currency.objects.get(is_default=True).pk, "idempotency_key": uuid.uuid4().hex}
    response = client.post(f"/bonuses/accrual/{funded.pk}/add/", data, HTTP_HX_REQUEST="true")
    assert response.status_code == 400
    message = "Erik Employee's Bonuses account is blocked: only an administrator can add points to it."
    assert escape(message) in response.content.decode()
    assert ledger_snapshot(skip=REMEMBERED_REFUSAL) == before


# The employee's own pages ----------------------------------------------------------------------------


def test_my_balance_shows_the_notice_with_the_date_and_the_reason(client, funded, administrator, stars):
    block(funded, by=administrator, currency=stars, reason="Stars are paused for the audit", at=local(3, 4))
    client.force_login(funded)
    response = client.get(BALANCE)
    html = page(response)
    assert "Your Stars account was blocked by the administrator on 4 March 2026." in html
    assert "Its points cannot be spent or reserved: you cannot order gifts in Stars for now." in html
    assert "Reason: Stars are paused for the audit" in html
    assert html.count('data-testid="account-notice"') == 1  # Bonuses is active


def test_an_accumulate_only_notice_says_points_still_come(client, funded, administrator):
    block(funded, by=administrator, state=ACCUMULATE_ONLY, reason="Probation", at=local(3, 6))
    client.force_login(funded)
    html = page(client.get(BALANCE))
    assert "Your Bonuses account was made accumulate-only by the administrator on 6 March 2026." in html
    assert "It keeps receiving points, but they cannot be spent: you cannot order gifts in Bonuses for now." in html


def test_the_shop_says_it_and_offers_no_order_in_that_currency(client, funded, administrator, stars, gifts):
    block(funded, by=administrator, currency=stars, reason="Audit")
    client.force_login(funded)
    response = client.get(SHOP)
    html = page(response)
    assert "Your Stars account was blocked by the administrator on" in html
    assert f'href="/shop/gifts/{gifts["backpack"].pk}/order/"' in html
    assert f'href="/shop/gifts/{gifts["pin"].pk}/order/"' not in html
    assert f'disabled aria-describedby="account-notice-{stars.pk}"' in html
    assert "Not available: your Stars account cannot spend." in html
    # "What I can afford now" leaves out what cannot be bought now.
    affordable = [gift.name for gift in client.get(SHOP + "?affordable=1").context["gifts"]]
    assert affordable == ["Backpack"]


def test_the_order_page_shows_the_notice_with_the_form_disabled(client, funded, administrator, gifts):
    block(funded, by=administrator, reason="Audit")
    client.force_login(funded)
    response = client.get(f"/shop/gifts/{gifts['backpack'].pk}/order/")
    assert response.status_code == 200
    html = page(response)
    assert "Your Bonuses account was blocked by the administrator on" in html
    assert f'disabled aria-describedby="account-notice-{gifts["backpack"].currency_id}"' in html
    # The pin is in Stars, which can still spend.
    assert '<fieldset class="border-0 p-0 m-0">' in page(client.get(f"/shop/gifts/{gifts['pin'].pk}/order/"))


@pytest.mark.parametrize("confirmed", [False, True])
def test_an_order_in_that_currency_is_refused_at_once(confirmed, client, funded, administrator, gifts, ledger_snapshot):
    block(funded, by=administrator, state=ACCUMULATE_ONLY, reason="Probation")
    client.force_login(funded)
    before = ledger_snapshot()
    data = {"quantity": "1", "idempotency_key": uuid.uuid4().hex, "confirmed": "True" if confirmed else ""}
    response = client.post(f"/shop/gifts/{gifts['backpack'].pk}/order/", data)
    assert response.status_code == 400
    assert field_errors(response) == {"__all__": ["This account only accumulates points: they cannot be spent yet."]}
    assert ledger_snapshot() == before
    assert not Order.objects.exists()


def test_an_active_account_shows_no_notice(client, funded, gifts):
    client.force_login(funded)
    for url in (BALANCE, SHOP, f"/shop/gifts/{gifts['backpack'].pk}/order/"):
        assert 'data-testid="account-notice"' not in client.get(url).content.decode(), url


# The Django admin's actions ----------------------------------------------------------------------------


@pytest.fixture
def staff(administrator):
    administrator.is_staff = True
    administrator.save(update_fields=["is_staff"])
    return administrator


def test_the_admin_action_logs_who_changed_the_state(staff, as_admin, funded, administrator):
    account = Account.objects.get(user=funded, currency__is_default=True)
    url = reverse("admin:bonuses_account_changelist")
    as_admin.post(url, {"action": "make_blocked", "_selected_action": [account.pk]})
    assert list(AccountStateChange.objects.values_list("account", "to_state", "actor", "reason")) == [
        (account.pk, BLOCKED, administrator.pk, "")
    ]
    assert as_admin.get(reverse("admin:bonuses_accountstatechange_changelist")).status_code == 200


def test_the_admin_action_on_ones_own_account_is_refused_as_a_whole(
    staff, as_admin, funded, administrator, ledger_snapshot
):
    services.accrue(user=administrator, amount=1, actor=None)
    accounts = list(Account.objects.filter(currency__is_default=True).values_list("pk", flat=True))
    before = ledger_snapshot()
    url = reverse("admin:bonuses_account_changelist")
    response = as_admin.post(url, {"action": "make_blocked", "_selected_action": accounts}, follow=True)
    assert "You cannot change the state of your own account." in page(response)
    assert ledger_snapshot() == before


# A new currency on the settings page -------------------------------------------------------------------

NEW_CURRENCY = "/bonuses/settings/currency/new/"


def currency_data(**changes) -> dict:
    """What the settings form posts for a new currency: its name, whole numbers and the burn-out policy."""
    data = {
        "name": "Kudos",
        "whole_numbers": "on",
        "activation_delay_days": "0",
        "burn_policy": "from_crediting",
        "lifetime_value": "12",
        "lifetime_unit": "months",
        "steps-TOTAL_FORMS": "0",
        "steps-INITIAL_FORMS": "0",
        **changes,
    }
    return {name: value for name, value in data.items() if value is not None}


def currencies() -> list[tuple]:
    return list(Currency.objects.order_by("pk").values_list("name", "is_default", "whole_numbers", "burn_policy"))


def test_the_settings_page_offers_a_new_currency(as_admin, bonuses):
    html = as_admin.get("/bonuses/settings/").content.decode()
    assert f'href="{NEW_CURRENCY}"' in html and "New currency" in html
    response = as_admin.get(NEW_CURRENCY)
    assert response.status_code == 200
    assert '<h2 class="h5 mb-3">New currency</h2>' in response.content.decode()
    assert response.context["form"]["name"].value() in (None, "")


def test_adding_a_currency_saves_its_name_whole_numbers_and_policy(as_admin, bonuses, ledger_snapshot):
    response = as_admin.post(NEW_CURRENCY, currency_data(name="  Kudos "))
    assert response.status_code == 302 and response["Location"] == "/bonuses/settings/"
    assert message_texts(response) == ["Kudos is added."]
    kudos = Currency.objects.get(name="Kudos")
    assert (kudos.is_default, kudos.whole_numbers, kudos.burn_policy, kudos.lifetime_value, kudos.lifetime_unit) == (
        False,
        True,
        "from_crediting",
        12,
        "months",
    )
    assert "Kudos" in page(as_admin.get("/bonuses/settings/"))
    assert Currency.objects.get(is_default=True) == bonuses  # the default stays


def test_a_forged_is_default_does_not_make_the_new_currency_the_default(as_admin, bonuses):
    as_admin.post(NEW_CURRENCY, currency_data(is_default="on"))
    assert list(Currency.objects.filter(is_default=True)) == [bonuses]


@pytest.mark.parametrize(
    ("name", "message"),
    [
        ("", "This field is required."),
        ("   ", "This field is required."),
        (None, "This field is required."),
        ("K" * 101, "Ensure this value has at most 100 characters (it has 101)."),
        ("Bonuses", "A currency named “Bonuses” already exists."),
        ("bonuses", "A currency named “Bonuses” already exists."),
        (" BONUSES ", "A currency named “Bonuses” already exists."),
    ],
)
def test_a_blank_over_long_or_taken_name_is_refused_next_to_the_field(name, message, as_admin, bonuses):
    before = currencies()
    response = as_admin.post(NEW_CURRENCY, currency_data(name=name))
    assert response.status_code == 400
    assert field_errors(response) == {"name": [message]}
    assert currencies() == before


def test_renaming_a_currency_to_a_taken_name_is_refused_next_to_the_name(as_admin, bonuses, stars):
    before = currencies()
    response = as_admin.post(f"/bonuses/settings/currency/{stars.pk}/", currency_data(name="BONUSES"))
    assert response.status_code == 400
    assert field_errors(response) == {"name": ["A currency named “Bonuses” already exists."]}
    assert currencies() == before


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"burn_policy": "sometimes"}, "burn_policy"),
        ({"activation_delay_days": "-1"}, "activation_delay_days"),
        ({"activation_delay_days": "x"}, "activation_delay_days"),
        ({"lifetime_unit": "aeons"}, "lifetime_unit"),
    ],
)
def test_forged_settings_are_refused_next_to_the_field(changes, field, as_admin, bonuses):
    before = currencies()
    response = as_admin.post(NEW_CURRENCY, currency_data(**changes))
    assert response.status_code == 400
    assert field in field_errors(response)
    assert currencies() == before


@pytest.mark.parametrize("who", ["manager", "employee"])
def test_managers_and_employees_cannot_add_a_currency(who, client, manager, employee, bonuses):
    client.force_login({"manager": manager, "employee": employee}[who])
    before = currencies()
    assert client.get(NEW_CURRENCY).status_code == 403
    assert client.post(NEW_CURRENCY, currency_data()).status_code == 403
    assert client.get("/bonuses/settings/").status_code == 403
    assert currencies() == before


def test_the_service_refuses_a_non_administrator(manager, bonuses):
    before = currencies()
    with pytest.raises(exceptions.NotPermitted) as error:
        services.create_currency(actor=manager, name="Kudos")
    assert str(error.value.message) == "Only an administrator can add a currency."
    assert currencies() == before
