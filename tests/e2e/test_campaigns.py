"""The seed's example in a browser (issue 12): an administrator creates the segment "days since hire at least
365", the birthday campaign (amount, lifetime, description), previews it, and `bonuses_daily --date` on a
member's birthday pays the member (with the right expiry; the log shows "Accrued by campaign" with the
description) but not a colleague hired 100 days ago; running again pays nothing. axe-core (WCAG 2.1 A and AA,
as in test_accessibility.py) finds nothing on the segments' and campaigns' pages, at 1280 px and 390 px."""

from datetime import timedelta

import pytest
from django.core.management import call_command
from django.utils import timezone
from playwright.sync_api import expect

from bonuses import rules, services
from bonuses.models import CampaignAward, Entry
from tests.e2e.conftest import VIEWPORTS, Audit
from tests.helpers import active

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True), pytest.mark.usefixtures("reduced_motion")]


@pytest.fixture(scope="session")
def browser_context_args(browser_context_args):
    return {**browser_context_args, "bypass_csp": True}  # axe is injected into the page


@pytest.fixture
def people(make_user, department):
    today = timezone.localdate()
    born = today.replace(year=1990) if (today.month, today.day) != (2, 29) else today.replace(year=1992)
    member = make_user(
        full_name="Mona Member", department=department, date_of_birth=born, hire_date=today - timedelta(days=500)
    )
    colleague = make_user(
        full_name="Carl Colleague", department=department, date_of_birth=born, hire_date=today - timedelta(days=100)
    )
    return member, colleague


@pytest.mark.parametrize("width", VIEWPORTS)
def test_the_seeds_birthday_campaign(page, login, live_server, administrator, people, currency, width):
    page.set_viewport_size(VIEWPORTS[width])
    member, colleague = people
    today = timezone.localdate()
    audit = Audit(page, width)
    url = live_server.url
    login(administrator)

    page.goto(f"{url}/bonuses/segments/")
    audit("segment-list")
    page.get_by_role("link", name="New segment").click()
    audit("segment-form")
    page.get_by_label("Name").fill("A year or more")
    page.get_by_label("Days since hire, at least").fill("365")
    page.get_by_role("button", name="Save").click()
    expect(page.get_by_test_id("member-count")).to_have_text("1 member on that day")
    expect(page.get_by_test_id("member-table")).to_contain_text("Mona Member")
    expect(page.get_by_test_id("member-table")).not_to_contain_text("Carl Colleague")
    audit("segment-detail")

    page.goto(f"{url}/bonuses/campaigns/")
    audit("campaign-list")
    page.get_by_role("link", name="New campaign").click()
    page.get_by_label("Name").fill("Birthdays")
    page.get_by_label("Trigger").select_option("birthday")
    page.get_by_label("Amount", exact=True).fill("100")
    page.get_by_label("Segment").select_option(label="A year or more")
    page.get_by_label("Lifetime (days)").fill("30")
    page.get_by_label("Description").fill("Happy birthday!")
    audit("campaign-form")
    page.get_by_role("button", name="Save").click()
    expect(page.get_by_test_id("campaign-summary")).to_contain_text("on each employee's birthday")
    expect(page.get_by_test_id("preview-table")).to_contain_text("Mona Member")
    expect(page.get_by_test_id("preview-table")).not_to_contain_text("Carl Colleague")
    expect(page.get_by_test_id("preview-total")).to_have_text("1 employee, 100.00 Bonuses in all.")
    audit("campaign-detail")

    call_command("bonuses_daily", "--date", today.isoformat())
    call_command("bonuses_daily", "--date", today.isoformat())  # again: pays nothing
    assert active(member) == 100 and active(colleague) == 0
    entry = Entry.objects.get(user=member)
    assert rules.last_usable_day(entry.lot.expires_at) == today + timedelta(days=30)
    assert CampaignAward.objects.count() == 1

    page.reload()
    page.get_by_role("link", name="See its entries in the log").click()
    expect(page.get_by_role("table").last).to_contain_text("Accrued by campaign")
    expect(page.get_by_role("table").last).to_contain_text("Happy birthday!")
    audit("log-by-campaign")
    audit.assert_clean(7)
    assert services.run_campaigns(on=today).awards == 0
