"""The currency settings page (issues 4 and 9): burn-out steps as rows, read only for their policy.

The steps are the rows of a formset (`steps-N-period`, `-unit`, `-percent`, `-DELETE`); a refused
step is named on its own row; the lifetime and the steps count only when their policy is chosen,
and otherwise keep what is stored. Every refusal answers 400 and changes nothing.
"""

import json
import re
from decimal import Decimal

import pytest
from django.utils.html import escape

from bonuses import rules, services
from bonuses.models import Currency
from tests.helpers import message_texts, settings_data, shown_errors

pytestmark = pytest.mark.django_db

SUMMARY = "Correct the burn-out steps below."
HALF_THEN_ALL = [{"period": 6, "unit": "months", "percent": "50"}, {"period": 1, "unit": "years", "percent": "100"}]


def url(currency) -> str:
    return f"/bonuses/settings/currency/{currency.pk}/"


def sections(page: str) -> dict[str, bool]:
    """Each policy's fieldset: whether the server rendered it visible."""
    tags = re.findall(r'<fieldset[^>]*data-policy-section="([a-z_]+)"([^>]*)>', page)
    return {policy: " hidden" not in rest for policy, rest in tags}


def row_errors(response) -> list[list[str]]:
    """What each step row shows as its own errors, in the order of the rows."""
    rows = response.context["form"].steps.forms
    return [[*row.non_field_errors(), *(e for name in row.fields for e in row.errors.get(name, []))] for row in rows]


@pytest.fixture
def stored(bonuses):
    """Bonuses with a lifetime and steps stored, and no points yet (so the policy may still change)."""
    services.update_currency_settings(
        bonuses, burn_policy="from_crediting", lifetime_value=30, lifetime_unit="days", burn_steps=HALF_THEN_ALL
    )
    return bonuses


# Saving and refusing (issue 4) ----------------------------------------------------------------


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
    "percentage over 100": (
        [{"period": 1, "unit": "years", "percent": 150}],
        "Step 1: the percentage must be above 0 and at most 100.",
    ),
    "unknown unit": (
        [{"period": 1, "unit": "weeks", "percent": 50}],
        "Step 1: the period must be at least one day, month or year.",
    ),
    "not a number": ([{"period": "1 year", "unit": "years", "percent": 50}], "Enter a whole number."),
}


@pytest.mark.parametrize(("steps", "message"), BAD_STEPS.values(), ids=BAD_STEPS.keys())
def test_currency_settings_refuse_invalid_burn_steps(as_admin, bonuses, steps, message, ledger_snapshot):
    before = ledger_snapshot()
    response = as_admin.post(
        f"/bonuses/settings/currency/{bonuses.pk}/",
        settings_data(bonuses, burn_policy="from_last_purchase", burn_steps=steps, activation_delay_days="9"),
    )
    assert response.status_code == 400
    assert shown_errors(response) == [SUMMARY, message]
    assert ledger_snapshot() == before


def test_currency_settings_refuse_changing_the_burn_policy_once_there_are_points(
    as_admin, bonuses, employee, administrator, ledger_snapshot
):
    services.accrue(user=employee, amount=5, actor=administrator)
    before = ledger_snapshot()
    response = as_admin.post(
        f"/bonuses/settings/currency/{bonuses.pk}/",
        settings_data(bonuses, burn_policy="from_crediting", lifetime_value="30"),
    )
    assert response.status_code == 400
    assert "The burn-out policy cannot change once the currency has points." in shown_errors(response)
    assert ledger_snapshot() == before


def test_currency_settings_of_an_unknown_currency_is_404(as_admin):
    assert as_admin.get("/bonuses/settings/currency/999999/").status_code == 404


# What is shown -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("policy", "visible"),
    [
        ("never", {"from_crediting": False, "from_last_purchase": False}),
        ("from_crediting", {"from_crediting": True, "from_last_purchase": False}),
        ("from_last_purchase", {"from_crediting": False, "from_last_purchase": True}),
    ],
)
def test_the_page_shows_the_fields_of_the_stored_policy_only(as_admin, bonuses, policy, visible):
    Currency.objects.filter(pk=bonuses.pk).update(burn_policy=policy, lifetime_value=30)
    response = as_admin.get(url(bonuses))
    assert response.status_code == 200
    page = response.content.decode()
    assert sections(page) == visible
    assert 'name="burn_steps"' not in page  # the raw JSON box is gone
    assert '<script src="/static/js/currency_settings.js"></script>' in page


def test_the_steps_editor_starts_from_the_stored_steps_or_the_default(as_admin, bonuses, stored):
    rows = as_admin.get(url(stored)).context["form"].steps
    assert [row.initial for row in rows.initial_forms] == HALF_THEN_ALL
    assert len(rows.extra_forms) == 2  # room for two more steps without JavaScript

    Currency.objects.filter(pk=stored.pk).update(burn_steps=[])
    rows = as_admin.get(url(stored)).context["form"].steps
    assert [row.initial for row in rows.initial_forms] == rules.DEFAULT_BURN_STEPS


@pytest.mark.parametrize("junk", ["not a list", {"months": 12}, [12, "x"]])
def test_steps_the_admin_stored_as_other_json_do_not_break_the_page(as_admin, bonuses, junk, ledger_snapshot):
    Currency.objects.filter(pk=bonuses.pk).update(burn_steps=junk)
    response = as_admin.get(url(bonuses))
    assert response.status_code == 200
    assert [row.initial for row in response.context["form"].steps.initial_forms] == rules.DEFAULT_BURN_STEPS
    # A refused row then does not let Currency.clean judge the stored junk (under a field the form has not).
    before = ledger_snapshot()
    bad = [{"period": 1, "unit": "years", "percent": 50}, {"period": 1, "unit": "months", "percent": 100}]
    response = as_admin.post(url(bonuses), settings_data(bonuses, burn_policy="from_last_purchase", burn_steps=bad))
    assert response.status_code == 400
    assert row_errors(response) == [[], ["Step 2 must be longer than the step before it."]]
    assert ledger_snapshot() == before


def test_a_refused_post_shows_the_fields_of_the_posted_policy(as_admin, bonuses, ledger_snapshot):
    before = ledger_snapshot()
    response = as_admin.post(url(bonuses), settings_data(bonuses, burn_policy="from_crediting"))
    assert response.status_code == 400
    assert response.context["form"].errors == {"lifetime_value": ["Give the lifetime of credited points."]}
    assert shown_errors(response) == ["Give the lifetime of credited points."]
    assert sections(response.content.decode()) == {"from_crediting": True, "from_last_purchase": False}
    assert ledger_snapshot() == before


# The help text -----------------------------------------------------------------------------


def test_the_burn_steps_help_texts_own_example_is_accepted(as_admin, bonuses):
    help_text = str(Currency._meta.get_field("burn_steps").help_text)
    example = json.loads(re.search(r"\[.*\]", help_text).group())
    assert rules.clean_burn_steps(example)  # the old example, [{"months": 12, "percent": 100}], was refused
    bonuses.burn_policy, bonuses.burn_steps = "from_last_purchase", example
    bonuses.full_clean()  # what the admin's form runs

    # The same steps typed as rows on the settings page.
    response = as_admin.post(url(bonuses), settings_data(bonuses, burn_policy="from_last_purchase", burn_steps=example))
    assert response.status_code == 302
    saved = Currency.objects.get(pk=bonuses.pk).burn_steps
    assert saved == [{**step, "percent": str(step["percent"])} for step in example]


# Saving rows -------------------------------------------------------------------------------


def test_steps_are_saved_from_the_rows_in_order_without_empty_or_removed_rows(as_admin, bonuses):
    data = settings_data(bonuses, burn_policy="from_last_purchase")
    data.update(
        {
            "steps-TOTAL_FORMS": "5",
            "steps-INITIAL_FORMS": "1",
            "steps-0-period": "6",
            "steps-0-unit": "months",
            "steps-0-percent": "50",
            "steps-1-unit": "months",  # an empty row: ignored
            "steps-2-period": "soon",  # removed: ignored, though it would be refused
            "steps-2-unit": "days",
            "steps-2-percent": "10",
            "steps-2-DELETE": "on",
            "steps-3-period": "2",
            "steps-3-unit": "years",
            "steps-3-percent": "100",
            "steps-4-unit": "days",  # another empty row
        }
    )
    response = as_admin.post(url(bonuses), data)
    assert response.status_code == 302
    assert Currency.objects.get(pk=bonuses.pk).burn_steps == [
        {"period": 6, "unit": "months", "percent": "50"},
        {"period": 2, "unit": "years", "percent": "100"},
    ]


ROW_REFUSALS = {
    "not longer than the one before": (
        [("1", "years", "50"), ("12", "months", "100")],
        [[], ["Step 2 must be longer than the step before it."]],
    ),
    "percentage not rising": (
        [("6", "months", "50"), ("1", "years", "40")],
        [[], ["Step 2 must burn a higher percentage than the step before."]],
    ),
    "the third of three": (
        [("1", "months", "10"), ("2", "months", "20"), ("60", "days", "30")],
        [[], [], ["Step 3 must be longer than the step before it."]],
    ),
    "100% before the last: named on the step after it": (
        [("6", "months", "100"), ("1", "years", "100")],
        [[], ["Only the last step may burn 100%."]],
    ),
    "an empty row between steps is not counted": (
        [("6", "months", "50"), ("", "months", ""), ("3", "months", "100")],
        [[], [], ["Step 2 must be longer than the step before it."]],
    ),
    "no percentage": ([("6", "months", "")], [["Step 1 needs a period, a unit and a percentage."]]),
    "no period": ([("", "months", "50")], [["Step 1 needs a period, a unit and a percentage."]]),
    "period zero": ([("0", "months", "50")], [["Step 1: the period must be at least one day, month or year."]]),
    "unknown unit": ([("1", "weeks", "50")], [["Step 1: the period must be at least one day, month or year."]]),
    "percentage zero": ([("1", "years", "0")], [["Step 1: the percentage must be above 0 and at most 100."]]),
    "not a whole number": ([("1.5", "years", "50")], [["Enter a whole number."]]),
    "percentage not a number": ([("1", "years", "half")], [["Enter a number."]]),
}


@pytest.mark.parametrize(("rows", "errors"), ROW_REFUSALS.values(), ids=ROW_REFUSALS.keys())
def test_a_refused_step_is_named_on_its_own_row(as_admin, stored, rows, errors, ledger_snapshot):
    before = ledger_snapshot()
    steps = [{"period": period, "unit": unit, "percent": percent} for period, unit, percent in rows]
    response = as_admin.post(url(stored), settings_data(stored, burn_policy="from_last_purchase", burn_steps=steps))
    assert response.status_code == 400
    assert row_errors(response) == errors
    message = next(e for row in errors for e in row)
    assert response.context["form"].errors == {"__all__": [SUMMARY]}
    assert sorted(shown_errors(response)) == sorted([SUMMARY, message])
    # In the page, the message sits inside the row concerned, which points its fields at it.
    page = response.content.decode()
    concerned = next(n for n, row in enumerate(errors) if row)
    row_html = page.split("data-step>")[concerned + 1].split("data-step>")[0]
    assert escape(message) in row_html
    assert f'aria-describedby="steps-{concerned}-errors"' in row_html
    assert sections(page)["from_last_purchase"]
    assert ledger_snapshot() == before


def test_removing_every_step_is_refused(as_admin, stored, ledger_snapshot):
    before = ledger_snapshot()
    data = settings_data(stored, burn_policy="from_last_purchase", burn_steps=HALF_THEN_ALL)
    data.update({"steps-0-DELETE": "on", "steps-1-DELETE": "on"})
    response = as_admin.post(url(stored), data)
    assert response.status_code == 400
    assert response.context["form"].steps.non_form_errors() == ["Give at least one burn-out step."]
    assert sorted(shown_errors(response)) == sorted([SUMMARY, "Give at least one burn-out step."])
    assert ledger_snapshot() == before


def test_steps_posted_as_json_are_not_read(as_admin, stored, ledger_snapshot):
    """Programmatic callers post the rows too: a `burn_steps` JSON text alone is refused, not half-read."""
    before = ledger_snapshot()
    data = settings_data(stored, burn_policy="from_last_purchase")
    for name in ("steps-TOTAL_FORMS", "steps-INITIAL_FORMS"):
        del data[name]
    data["burn_steps"] = '[{"period": 1, "unit": "years", "percent": 100}]'
    response = as_admin.post(url(stored), data)
    assert response.status_code == 400
    [error] = response.context["form"].steps.non_form_errors()
    assert error.startswith("ManagementForm data is missing or has been tampered with.")
    assert SUMMARY in shown_errors(response)
    assert ledger_snapshot() == before


# Fields of the other policies --------------------------------------------------------------


GARBAGE_STEPS = {
    "steps-TOTAL_FORMS": "1",
    "steps-INITIAL_FORMS": "0",
    "steps-0-period": "soon",
    "steps-0-unit": "weeks",
    "steps-0-percent": "-5",
}


def test_choosing_never_ignores_and_keeps_the_lifetime_and_the_steps(as_admin, stored):
    data = {**settings_data(stored, burn_policy="never", lifetime_value="forever", lifetime_unit="weeks")}
    data.update(GARBAGE_STEPS)
    response = as_admin.post(url(stored), data)
    assert response.status_code == 302
    saved = Currency.objects.get(pk=stored.pk)
    assert (saved.burn_policy, saved.lifetime_value, saved.lifetime_unit) == ("never", 30, "days")
    assert saved.burn_steps == HALF_THEN_ALL  # there again if the administrator switches back


def test_from_crediting_ignores_and_keeps_the_steps(as_admin, stored):
    data = settings_data(stored, lifetime_value="3", lifetime_unit="months")
    data.update(GARBAGE_STEPS)
    response = as_admin.post(url(stored), data)
    assert response.status_code == 302
    saved = Currency.objects.get(pk=stored.pk)
    assert (saved.burn_policy, saved.lifetime_value, saved.lifetime_unit) == ("from_crediting", 3, "months")
    assert saved.burn_steps == HALF_THEN_ALL

    del data["steps-TOTAL_FORMS"], data["steps-INITIAL_FORMS"]  # not even the formset's own fields are needed
    assert as_admin.post(url(stored), data).status_code == 302


def test_from_last_purchase_ignores_and_keeps_the_lifetime(as_admin, stored):
    steps = [{"period": 90, "unit": "days", "percent": "100"}]
    data = settings_data(
        stored, burn_policy="from_last_purchase", lifetime_value="-1", lifetime_unit="weeks", burn_steps=steps
    )
    response = as_admin.post(url(stored), data)
    assert response.status_code == 302
    saved = Currency.objects.get(pk=stored.pk)
    assert (saved.burn_policy, saved.burn_steps) == ("from_last_purchase", steps)
    assert (saved.lifetime_value, saved.lifetime_unit) == (30, "days")


def test_a_stored_value_the_model_refuses_is_shown_with_its_error_whatever_the_policy(
    as_admin, stored, ledger_snapshot
):
    """The service could not save the currency anyway: the error goes next to the field, which is in sight."""
    Currency.objects.filter(pk=stored.pk).update(burn_policy="never", lifetime_unit="weeks")
    before = ledger_snapshot()
    response = as_admin.post(url(stored), settings_data(stored, burn_policy="never", lifetime_unit="days"))
    assert response.status_code == 400
    assert response.context["form"].errors == {
        "lifetime_unit": ["Select a valid choice. weeks is not one of the available choices."]
    }
    shown_errors(response)
    assert sections(response.content.decode()) == {"from_crediting": True, "from_last_purchase": False}
    assert ledger_snapshot() == before


def test_the_chosen_policys_lifetime_is_still_checked(as_admin, stored, ledger_snapshot):
    before = ledger_snapshot()
    response = as_admin.post(url(stored), settings_data(stored, lifetime_value="-1", lifetime_unit="weeks"))
    assert response.status_code == 400
    errors = response.context["form"].errors
    assert errors["lifetime_value"] == ["Ensure this value is greater than or equal to 0."]
    assert errors["lifetime_unit"] == ["Select a valid choice. weeks is not one of the available choices."]
    shown_errors(response)
    assert ledger_snapshot() == before
