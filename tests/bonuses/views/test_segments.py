"""The segments' screens: the list, the form (refusals next to their field, HTTP 400, nothing saved), a segment's
members "as of" a day with their count, and the Excel export."""

import io
from datetime import date, timedelta

import pytest
from django.utils import timezone
from openpyxl import load_workbook

from bonuses import services
from bonuses.models import Segment
from tests.helpers import errors_by_field, page_text, table_records

ON = date(2026, 6, 15)


@pytest.fixture
def veterans(administrator, make_user):
    make_user(full_name="Vera Veteran", hire_date=ON - timedelta(days=400))
    make_user(full_name="Nina Newcomer", hire_date=ON - timedelta(days=100))
    return services.save_segment(name="A year or more", actor=administrator, hired_days_min=365)


def test_the_list_links_each_segment(as_admin, veterans):
    response = as_admin.get("/bonuses/segments/")
    assert response.status_code == 200
    assert "A year or more" in page_text(response)
    assert f"/bonuses/segments/{veterans.pk}/" in response.content.decode()


def test_creating_a_segment(as_admin, administrator):
    response = as_admin.post("/bonuses/segments/new/", {"name": "Veterans", "hired_days_min": "365"})
    segment = Segment.objects.get()
    assert response.status_code == 302 and response["Location"] == f"/bonuses/segments/{segment.pk}/"
    assert segment.hired_days_min == 365 and segment.created_by == administrator


def test_editing_a_segment_shows_what_it_holds(as_admin, veterans):
    response = as_admin.get(f"/bonuses/segments/{veterans.pk}/edit/")
    assert response.context["form"].initial["hired_days_min"] == 365
    as_admin.post(f"/bonuses/segments/{veterans.pk}/edit/", {"name": "Veterans", "hired_days_min": "300"})
    veterans.refresh_from_db()
    assert (veterans.name, veterans.hired_days_min) == ("Veterans", 300)


def test_a_refusal_is_shown_next_to_its_field(as_admin, ledger_snapshot):
    before = ledger_snapshot()
    response = as_admin.post("/bonuses/segments/new/", {"name": "Odd", "hired_days_min": "10", "hired_days_max": "5"})
    assert response.status_code == 400
    assert errors_by_field(response)["hired_days_max"] == ["“Days since hire, at least” is more than “at most”."]
    assert ledger_snapshot() == before


def test_the_members_as_of_a_day_and_their_count(as_admin, veterans):
    response = as_admin.get(f"/bonuses/segments/{veterans.pk}/?on={ON.isoformat()}")
    assert [row.full_name for row in table_records(response)] == ["Vera Veteran"]
    assert response.context["count"] == 1
    response = as_admin.get(f"/bonuses/segments/{veterans.pk}/?on={(ON + timedelta(days=300)).isoformat()}")
    assert {row.full_name for row in table_records(response)} == {"Vera Veteran", "Nina Newcomer"}


def test_the_export_lists_the_members_of_that_day(as_admin, veterans):
    response = as_admin.get(f"/bonuses/segments/{veterans.pk}/?on={ON.isoformat()}&export=xlsx")
    sheet = load_workbook(io.BytesIO(b"".join(response.streaming_content))).active
    names = [row[0] for row in sheet.iter_rows(values_only=True)]
    assert "Vera Veteran" in names and "Nina Newcomer" not in names


def test_save_as_segment_takes_the_accrual_tables_filter(as_admin, department, bonuses):
    table = as_admin.get(f"/bonuses/accrual/?department={department.pk}&balance_min=5").content.decode()
    assert "Save as segment" in table
    hired_before = timezone.localdate() - timedelta(days=365)
    response = as_admin.get(f"/bonuses/segments/new/?department={department.pk}&hired_before={hired_before}")
    initial = response.context["form"].initial
    assert initial["departments"] == [department] and initial["hired_days_min"] == 365


def test_the_accrual_table_selects_a_saved_segment(as_admin, administrator, make_user):
    today = timezone.localdate()
    make_user(full_name="Long Ago", hire_date=today - timedelta(days=366))
    make_user(full_name="Recently", hire_date=today - timedelta(days=10))
    segment = services.save_segment(name="Veterans", actor=administrator, hired_days_min=365)
    response = as_admin.get(f"/bonuses/accrual/?segment={segment.pk}")
    assert [row.full_name for row in table_records(response)] == ["Long Ago"]
