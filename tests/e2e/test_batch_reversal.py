"""Reversing a batch in the browser (issue 11): an administrator opens the log, follows a batch's link to its
page, is told when the comment is missing, reverses the batch with a comment and reaches the compensating
batch; a reversal that some recipient can no longer cover is refused, and the page lists who and how much is
missing. axe-core (WCAG 2.1 A and AA, as in test_accessibility.py) finds nothing on the batch page in each of
these states, at 1280 px and on a phone (390 px), where nothing is wider than the screen."""

import pytest
from playwright.sync_api import expect

from bonuses import services
from bonuses.models import Batch, Entry
from tests.e2e.conftest import VIEWPORTS, Audit

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True), pytest.mark.usefixtures("reduced_motion")]


@pytest.fixture(scope="session")
def browser_context_args(browser_context_args):
    return {**browser_context_args, "bypass_csp": True}  # axe is injected into the page


@pytest.fixture(autouse=True)
def console(console):
    console.expect_status(400)  # the refused forms
    return console


@pytest.fixture
def batches(administrator, employee, department, make_user):
    """A batch sent to the wrong team, and one that Pavel has partly spent already."""
    sara = make_user(department=department, full_name="Sara Seller")
    pavel = make_user(department=department, full_name="Pavel Spender")
    wrong = services.accrue_many(users=[employee, sara], amount=100, actor=administrator, comment="Q3 goals")
    spent = services.accrue_many(users=[employee, pavel], amount=200, actor=administrator, comment="Summer party")
    services.write_off(user=pavel, amount=150, actor=administrator, comment="Correction")
    return {"wrong": wrong, "spent": spent}


@pytest.mark.parametrize("width", VIEWPORTS)
def test_an_administrator_reverses_a_batch_from_the_log(page, login, live_server, administrator, batches, width):
    page.set_viewport_size(VIEWPORTS[width])
    audit = Audit(page, width)
    wrong, spent = batches["wrong"], batches["spent"]
    login(administrator)

    page.goto(f"{live_server.url}/bonuses/log/")
    page.get_by_test_id("log-table").get_by_role("link", name=f"Batch {wrong.pk}", exact=True).first.click()
    expect(page.get_by_role("heading", name=f"Batch {wrong.pk}", exact=True)).to_be_visible()
    expect(page.get_by_test_id("batch-status")).to_have_text("Posted; not reversed.")
    expect(page.get_by_test_id("batch-entries").get_by_role("row")).to_have_count(3)  # a header and two employees
    audit("batch")

    form = page.get_by_test_id("reversal-form")
    form.get_by_role("button", name="Reverse this batch").click()
    expect(form.get_by_text("Say why the batch is reversed.")).to_be_visible()
    expect(form.get_by_label("Comment")).to_have_attribute("aria-invalid", "true")
    assert not Batch.objects.filter(reverses=wrong).exists()
    audit("batch-comment-missing")

    form.get_by_label("Comment").fill("Sent to the wrong team")
    form.get_by_role("button", name="Reverse this batch").click()
    reversal = Batch.objects.get(reverses=wrong)
    expect(page.get_by_role("alert").filter(has_text=f"Batch {wrong.pk} reversed")).to_contain_text(
        f"100.00 Bonuses taken back from each of 2 employees, 200.00 in all (batch {reversal.pk})."
    )
    expect(page.get_by_test_id("batch-status")).to_contain_text("Reversed")
    expect(page.get_by_test_id("batch-status")).to_contain_text("Sent to the wrong team")
    expect(page.get_by_test_id("reversal-form")).to_have_count(0)
    audit("batch-reversed")

    page.get_by_test_id("batch-status").get_by_role("link", name=f"batch {reversal.pk}").click()
    expect(page.get_by_role("heading", name=f"Batch {reversal.pk}", exact=True)).to_be_visible()
    expect(page.get_by_test_id("batch-status")).to_have_text(f"Reverses batch {wrong.pk}.")
    expect(page.get_by_test_id("batch-entries")).to_contain_text("Reversed")
    expect(page.get_by_test_id("batch-total")).to_have_text("200.00")
    audit("compensating-batch")

    page.goto(f"{live_server.url}/bonuses/log/")
    page.get_by_test_id("log-table").get_by_role("link", name=f"Batch {spent.pk}", exact=True).first.click()
    form = page.get_by_test_id("reversal-form")
    form.get_by_label("Comment").fill("Cancelled party")
    form.get_by_role("button", name="Reverse this batch").click()
    refused = page.get_by_test_id("reversal-refused")
    expect(refused).to_contain_text("1 employee has already spent or lost part of the points of this batch")
    rows = refused.get_by_test_id("shortfalls").locator("tbody tr")
    expect(rows).to_have_count(1)
    expect(rows.first.locator("td")).to_have_text(["Pavel Spender", "200.00", "50.00", "150.00"])
    assert not Batch.objects.filter(reverses=spent).exists()
    assert Entry.objects.filter(kind=Entry.Kind.REVERSED).count() == 2
    audit("batch-refused")

    audit.assert_clean(5)
