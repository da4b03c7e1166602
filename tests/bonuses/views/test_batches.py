"""The batch page (/bonuses/batches/<pk>/, issue 11 "Reversing a batch"): reached from the log, it lists the
batch and its entries and offers "Reverse this batch" to administrators; a refusal is a 400 with its message
(and the list of what is missing), and changes nothing; others get 403, a batch outside a manager's
departments 404."""

import re
import uuid
from io import BytesIO

import pytest
from django.utils.html import escape
from openpyxl import load_workbook

from bonuses import services
from bonuses.models import Batch, Entry
from tests.helpers import REMEMBERED_REFUSAL, message_texts
from users.models import Department

pytestmark = pytest.mark.django_db

LOG = "/bonuses/log/"


def page_of(batch) -> str:
    return f"/bonuses/batches/{batch.pk}/"


def reverse(client, batch, comment="Sent to the wrong team", **data):
    return client.post(page_of(batch), {"comment": comment, "idempotency_key": uuid.uuid4().hex, **data})


def entry_names(response) -> list[str]:
    return [row.record.user.full_name for row in response.context["table"].page.object_list]


@pytest.fixture
def team(department, make_user):
    """Three people of Sales (the manager's department) and one of Finance."""
    finance = Department.objects.create(name="Finance")
    sales = [make_user(department=department, full_name=name) for name in ("Anna Able", "Boris Brown", "Clara Cole")]
    return {"sales": sales, "outsider": make_user(department=finance, full_name="Oscar Outsider")}


@pytest.fixture
def batch(team, administrator, bonuses):
    return services.accrue_many(
        users=[*team["sales"], team["outsider"]], amount=100, actor=administrator, comment="Q3 goals"
    )


# Reaching the page ---------------------------------------------------------------------------


def test_the_log_links_each_batch_entry_and_the_batch_badge_to_the_batch_page(as_admin, batch):
    page = as_admin.get(LOG).content.decode()
    assert page.count(f'<a href="{page_of(batch)}">Batch {batch.pk}</a>') == 4
    filtered = as_admin.get(LOG, {"batch": batch.pk}).content.decode()
    badge = re.search(r'data-testid="batch-filter">(.*?)</div>', filtered, re.S).group(1)
    assert f'href="{page_of(batch)}" data-testid="batch-page"' in badge
    # An unknown batch keeps its badge, with no link to a page that does not exist.
    assert 'data-testid="batch-page"' not in as_admin.get(LOG, {"batch": 999999}).content.decode()


def test_the_page_lists_the_batch_and_its_entries(as_admin, batch, administrator):
    response = as_admin.get(page_of(batch))
    assert response.status_code == 200
    page = response.content.decode()
    details = re.search(r'data-testid="batch-details">(.*?)</dl>', page, re.S).group(1)
    assert all(text in details for text in ("Alex Admin", "Bonuses", "100.00", "400.00", "Q3 goals"))
    assert re.search(r'data-testid="batch-count">4<', page)
    assert "Posted; not reversed." in details
    assert entry_names(response) == ["Anna Able", "Boris Brown", "Clara Cole", "Oscar Outsider"]
    assert 'data-testid="reversal-form"' in page and "Reverse this batch" in page
    assert f'href="{LOG}?batch={batch.pk}"' in page  # the log filtered by the batch
    assert f'href="{LOG}?batch={batch.pk}&amp;export=xlsx"' in page


def test_the_entries_are_paginated(as_admin, administrator, bonuses, make_user):
    people = [make_user(full_name=f"Person {n:02}") for n in range(60)]
    batch = services.accrue_many(users=people, amount=1, actor=administrator)
    first = as_admin.get(page_of(batch))
    assert len(entry_names(first)) == 50 and entry_names(first)[0] == "Person 00"
    assert entry_names(as_admin.get(page_of(batch), {"page": 2})) == [f"Person {n}" for n in range(50, 60)]


def test_the_export_of_the_batch_has_its_entries_and_the_reversal_kind(as_admin, batch, administrator):
    reversal = services.reverse_batch(batch, actor=administrator, comment="Wrong team")
    response = as_admin.get(LOG, {"batch": reversal.pk, "export": "xlsx"})
    sheet = load_workbook(BytesIO(b"".join(response.streaming_content))).active
    rows = [[cell.value for cell in row] for row in sheet.iter_rows(min_row=3)]
    assert {(row[4], row[6], row[8], row[10]) for row in rows} == {
        ("Reversed (a batch taken back)", -100, "Wrong team", reversal.pk)
    }
    assert len(rows) == 4


# Reversing -----------------------------------------------------------------------------------


def test_an_administrator_reverses_the_batch(as_admin, batch, team, administrator):
    response = reverse(as_admin, batch)
    assert response.status_code == 302 and response["Location"] == page_of(batch)
    reversal = Batch.objects.get(reverses=batch)
    assert message_texts(response) == [
        f"Batch {batch.pk} reversed: 100.00 Bonuses taken back from each of 4 employees, 400.00 in all "
        f"(batch {reversal.pk})."
    ]
    assert set(Entry.objects.filter(batch=reversal).values_list("kind", "amount", "comment", "actor")) == {
        (Entry.Kind.REVERSED, -100, "Sent to the wrong team", administrator.pk)
    }
    page = as_admin.get(page_of(batch)).content.decode()
    status = re.search(r'data-testid="batch-status">(.*?)</dd>', page, re.S).group(1)
    assert "Reversed" in status and "Alex Admin" in status and f'href="{page_of(reversal)}"' in status
    assert "Sent to the wrong team" in status
    assert 'data-testid="reversal-form"' not in page  # once only
    # The compensating batch's page says what it reverses, and offers no reversal of its own.
    compensating = as_admin.get(page_of(reversal)).content.decode()
    assert f'Reverses <a href="{page_of(batch)}">batch {batch.pk}</a>.' in compensating
    assert "Taken back per employee" in compensating and 'data-testid="reversal-form"' not in compensating
    # The log shows the reversed entries with a link to the batch they reverse.
    log = as_admin.get(LOG, {"kind": Entry.Kind.REVERSED}).content.decode()
    assert log.count(f'<a href="{page_of(batch)}">Reverses batch {batch.pk}</a>') == 4
    assert log.count("Reversed (a batch taken back)") >= 4


def test_a_double_submission_reverses_once(as_admin, batch):
    data = {"comment": "Twice", "idempotency_key": uuid.uuid4().hex}
    first, second = as_admin.post(page_of(batch), data), as_admin.post(page_of(batch), data)
    assert first.status_code == second.status_code == 302
    assert Batch.objects.filter(reverses=batch).count() == 1
    assert Entry.objects.filter(kind=Entry.Kind.REVERSED).count() == 4


def test_a_shortfall_is_refused_with_400_the_list_of_what_is_missing_and_nothing_changed(
    as_admin, batch, team, administrator, ledger_snapshot
):
    anna, boris, _clara = team["sales"]
    services.write_off(user=anna, amount=30, actor=administrator)
    order = services.reserve(user=boris, amount="99.50", reference="mug")
    services.capture(order)
    before = ledger_snapshot(skip=REMEMBERED_REFUSAL)
    response = reverse(as_admin, batch)
    assert response.status_code == 400
    page = response.content.decode()
    assert "2 employees have already spent or lost part of the points of this batch; nothing was reversed." in page
    table = re.search(r'data-testid="shortfalls">.*?<tbody>(.*?)</tbody>', page, re.S).group(1)
    rows = [re.findall(r"<td[^>]*>([^<]*)</td>", row) for row in re.findall(r"<tr>(.*?)</tr>", table, re.S)]
    assert rows == [["Anna Able", "100.00", "70.00", "30.00"], ["Boris Brown", "100.00", "0.50", "99.50"]]
    assert ledger_snapshot(skip=REMEMBERED_REFUSAL) == before
    assert 'data-testid="reversal-form"' in page  # corrected, it can be tried again
    assert response.context["form"]["idempotency_key"].value() != response.wsgi_request.POST["idempotency_key"]


def test_the_comment_is_required(as_admin, batch, ledger_snapshot):
    before = ledger_snapshot()
    response = reverse(as_admin, batch, comment="   ")
    assert response.status_code == 400
    assert response.context["form"].errors == {"comment": ["Say why the batch is reversed."]}
    assert ledger_snapshot() == before
    response = reverse(as_admin, batch, comment="x" * 1001)
    assert response.status_code == 400 and "comment" in response.context["form"].errors
    assert ledger_snapshot() == before


def test_a_second_reversal_is_refused_with_its_message(as_admin, batch, administrator, ledger_snapshot):
    reversal = services.reverse_batch(batch, actor=administrator, comment="First")
    before = ledger_snapshot(skip=REMEMBERED_REFUSAL)
    response = reverse(as_admin, batch)
    assert response.status_code == 400
    page = response.content.decode()
    assert f"Batch {batch.pk} was already reversed on " in page and f"by Alex Admin (batch {reversal.pk})." in page
    assert 'data-testid="reversal-form"' not in page  # the page shows the batch as it is now
    assert ledger_snapshot(skip=REMEMBERED_REFUSAL) == before
    response = reverse(as_admin, reversal)
    assert response.status_code == 400
    assert escape(f"Batch {reversal.pk} is the reversal of batch {batch.pk}: it cannot be reversed itself.") in (
        response.content.decode()
    )
    assert ledger_snapshot(skip=REMEMBERED_REFUSAL) == before


# Who may --------------------------------------------------------------------------------------


def test_an_employee_gets_403_and_a_visitor_the_login_page(client, batch, employee, ledger_snapshot):
    response = client.get(page_of(batch))
    assert response.status_code == 302 and response["Location"].startswith("/accounts/login/")
    client.force_login(employee)
    before = ledger_snapshot()
    assert client.get(page_of(batch)).status_code == 403
    assert reverse(client, batch).status_code == 403
    assert ledger_snapshot() == before


def test_a_manager_sees_the_batch_within_their_departments_and_may_not_reverse_it(as_manager, batch, ledger_snapshot):
    response = as_manager.get(page_of(batch))
    assert response.status_code == 200
    page = response.content.decode()
    assert entry_names(response) == ["Anna Able", "Boris Brown", "Clara Cole"]  # not Finance's employee
    assert "Oscar Outsider" not in page
    assert re.search(r'data-testid="batch-count">3<', page) and "Employees in your departments" in page
    assert 'data-testid="batch-total">300.00<' in page
    assert 'data-testid="reversal-form"' not in page
    before = ledger_snapshot()
    assert reverse(as_manager, batch).status_code == 403
    assert ledger_snapshot() == before


def test_a_batch_outside_a_managers_departments_is_not_found(as_manager, team, administrator, bonuses):
    theirs = services.accrue_many(users=[team["outsider"]], amount=5, actor=administrator)
    assert as_manager.get(page_of(theirs)).status_code == 404


@pytest.mark.parametrize("pk", ["999999", "99999999999999999999999999999"])
def test_an_unknown_batch_is_not_found(as_admin, batch, pk):
    assert as_admin.get(f"/bonuses/batches/{pk}/").status_code == 404


@pytest.mark.parametrize("pk", ["999999", "99999999999999999999999999999"])
def test_reversing_an_unknown_batch_is_not_found_and_changes_nothing(as_admin, batch, pk, ledger_snapshot):
    before = ledger_snapshot()
    response = as_admin.post(f"/bonuses/batches/{pk}/", {"comment": "Forged", "idempotency_key": uuid.uuid4().hex})
    assert response.status_code == 404
    assert ledger_snapshot() == before and not Batch.objects.filter(reverses__isnull=False).exists()


def test_a_too_long_comment_is_refused_next_to_the_field(as_admin, batch, ledger_snapshot):
    before = ledger_snapshot()
    response = reverse(as_admin, batch, comment="x" * 1001)
    assert response.status_code == 400
    assert response.context["form"].errors == {
        "comment": ["Ensure this value has at most 1000 characters (it has 1001)."]
    }
    assert ledger_snapshot() == before


def test_a_forged_post_by_a_manager_outside_their_departments_is_refused(
    as_manager, team, administrator, bonuses, ledger_snapshot
):
    theirs = services.accrue_many(users=[team["outsider"]], amount=5, actor=administrator)
    before = ledger_snapshot()
    assert reverse(as_manager, theirs).status_code == 403
    assert ledger_snapshot() == before and not Batch.objects.filter(reverses=theirs).exists()
