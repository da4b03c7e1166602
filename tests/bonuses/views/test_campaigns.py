"""The campaigns' screens: the list, the form (refusals next to their field, HTTP 400, nothing saved), a campaign's
page (summary with the weekend rule, the preview for a day or the next 30 days with the total cost, the report,
the log link), pause / resume / end, and delete only without awards; the log filtered by campaign; the menu."""

import io
from datetime import date, timedelta

import pytest
from openpyxl import load_workbook

from bonuses import services
from bonuses.models import Campaign, Entry
from tests.helpers import errors_by_field, message_texts, page_text, table_records

ON = date(2026, 6, 15)


@pytest.fixture
def birthdays(administrator, make_user, bonuses):
    make_user(full_name="Bea Birthday", date_of_birth=date(1990, 6, 15), hire_date=date(2020, 1, 1))
    make_user(full_name="Tom Tomorrow", date_of_birth=date(1990, 6, 16), hire_date=date(2020, 1, 1))
    return services.save_campaign(
        name="Birthdays",
        actor=administrator,
        trigger="birthday",
        amount=100,
        lifetime_days=30,
        description="Happy birthday!",
        starts_on=date(2026, 1, 1),
        weekend_to_friday=True,
    )


def form_data(**changes):
    return {
        "name": "Anniversaries",
        "trigger": "anniversary",
        "amount": "",
        "currency": changes.pop("currency"),
        "tiers": "1: 100, 5: 500, 10: 1000",
        "description": "Thank you",
        "is_active": "on",
        **changes,
    }


def test_creating_a_campaign_with_tiers(as_admin, bonuses):
    response = as_admin.post("/bonuses/campaigns/new/", form_data(currency=bonuses.pk))
    campaign = Campaign.objects.get()
    assert response.status_code == 302 and response["Location"] == f"/bonuses/campaigns/{campaign.pk}/"
    assert campaign.tiers == [[1, "100.00"], [5, "500.00"], [10, "1000.00"]]


@pytest.mark.parametrize(
    ("changes", "field", "message"),
    [
        ({"tiers": "5: 500, 1: 100"}, "tiers", "The tiers' years must increase: 1, 5, 10, …"),
        ({"tiers": "five hundred"}, "tiers", "Write each tier as years: amount, e.g. “5: 500”."),
        (
            {"trigger": "monthly", "tiers": "", "amount": "10"},
            "day",
            "A monthly campaign needs the day of the month (1–31, or the last).",
        ),
        ({"trigger": "birthday", "tiers": "", "amount": "0"}, "amount", "Enter an amount greater than zero."),
        ({"starts_on": "2026-06-02", "ends_on": "2026-06-01"}, "ends_on", "The campaign ends before it starts."),
    ],
)
def test_a_refusal_is_shown_next_to_its_field(as_admin, bonuses, ledger_snapshot, changes, field, message):
    before = ledger_snapshot()
    response = as_admin.post("/bonuses/campaigns/new/", form_data(currency=bonuses.pk, **changes))
    assert response.status_code == 400
    assert errors_by_field(response)[field] == [message]
    assert ledger_snapshot() == before


def test_the_page_says_what_it_does_and_previews_a_day(as_admin, birthdays):
    response = as_admin.get(f"/bonuses/campaigns/{birthdays.pk}/?on={ON.isoformat()}&days=1")
    text = page_text(response)
    assert "An occurrence on a Saturday or a Sunday is paid on the Friday before." in text
    assert [(row[1].full_name, row[2]) for row in response.context["rows"]] == [("Bea Birthday", 100)]
    assert "1 employee, 100.00 Bonuses in all." in text


def test_the_preview_of_the_next_30_days_with_the_total_cost(as_admin, birthdays):
    response = as_admin.get(f"/bonuses/campaigns/{birthdays.pk}/?on={ON.isoformat()}&days=30")
    assert [(row[0], row[1].full_name) for row in response.context["rows"]] == [
        (ON, "Bea Birthday"),
        (ON + timedelta(days=1), "Tom Tomorrow"),
    ]
    assert "2 employees, 200.00 Bonuses in all." in page_text(response)


def test_the_report_and_the_log_filtered_by_the_campaign(as_admin, administrator, birthdays, employee):
    services.accrue(user=employee, amount=5, actor=administrator, comment="Not a campaign")
    services.run_campaigns(on=ON)
    response = as_admin.get(f"/bonuses/campaigns/{birthdays.pk}/")
    assert [(row["awards"], row["people"], row["points"]) for row in response.context["report"]] == [(1, 1, 100)]
    log = as_admin.get(f"/bonuses/log/?campaign={birthdays.pk}")
    entries = table_records(log)
    assert [(entry.user.full_name, entry.kind, entry.comment) for entry in entries] == [
        ("Bea Birthday", Entry.Kind.CAMPAIGN_ACCRUAL, "Happy birthday!")
    ]
    batch = entries[0].batch
    assert f"/bonuses/campaigns/{birthdays.pk}/" in as_admin.get(f"/bonuses/batches/{batch.pk}/").content.decode()


def test_pause_resume_and_end(as_admin, birthdays):
    as_admin.post(f"/bonuses/campaigns/{birthdays.pk}/pause/")
    birthdays.refresh_from_db()
    assert not birthdays.is_active
    as_admin.post(f"/bonuses/campaigns/{birthdays.pk}/resume/")
    as_admin.post(f"/bonuses/campaigns/{birthdays.pk}/end/")
    birthdays.refresh_from_db()
    assert birthdays.is_active and birthdays.ends_on is not None


def test_a_campaign_that_awarded_points_is_not_deleted(as_admin, birthdays, ledger_snapshot):
    services.run_campaigns(on=ON)
    before = ledger_snapshot()
    response = as_admin.post(f"/bonuses/campaigns/{birthdays.pk}/delete/", follow=True)
    assert message_texts(response) == ["This campaign has awarded points: it cannot be deleted, only ended."]
    assert ledger_snapshot() == before


def test_a_campaign_without_awards_is_deleted(as_admin, birthdays):
    response = as_admin.post(f"/bonuses/campaigns/{birthdays.pk}/delete/")
    assert response["Location"] == "/bonuses/campaigns/" and not Campaign.objects.exists()


def test_an_unknown_action_is_404(as_admin, birthdays):
    assert as_admin.post(f"/bonuses/campaigns/{birthdays.pk}/explode/").status_code == 404
    assert Campaign.objects.exists()


def test_the_list_and_the_menu_for_administrators_only(as_admin, birthdays, client, manager):
    response = as_admin.get("/bonuses/campaigns/")
    assert "Birthdays" in page_text(response)
    assert "/bonuses/campaigns/" in response.content.decode() and "/bonuses/segments/" in response.content.decode()
    client.force_login(manager)
    page = client.get("/bonuses/accrual/").content.decode()
    assert "/bonuses/campaigns/" not in page and "/bonuses/segments/" not in page


def test_the_report_exports_every_award(as_admin, birthdays):
    services.run_campaigns(on=ON)
    response = as_admin.get(f"/bonuses/campaigns/{birthdays.pk}/?export=xlsx")
    sheet = load_workbook(io.BytesIO(b"".join(response.streaming_content))).active
    rows = [row for row in sheet.iter_rows(values_only=True) if row and row[2] == "Bea Birthday"]
    assert len(rows) == 1 and rows[0][5] == 100
