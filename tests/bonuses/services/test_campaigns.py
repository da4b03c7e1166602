"""Campaigns: every trigger, the tiers, the calendar rules, catch-up without back-fill, exactly once, and every
refusal (with its message, and nothing changed)."""

from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

import pytest
from django.core.management import call_command
from django.utils import timezone

from bonuses import rules, selectors, services
from bonuses.exceptions import CampaignHasAwards, InvalidAmount, InvalidCampaign, NotPermitted
from bonuses.models import Batch, Campaign, CampaignAward, CampaignRunDay, Entry, Lot
from giftshop.outbox.models import OutgoingEmail
from tests.helpers import active, day, race
from users.models import User

ON = day(6, 15)  # a Monday


def birthday(make_user, when: date, *, hired: date | None = None, name: str = "Celebrating"):
    return make_user(full_name=name, date_of_birth=when, hire_date=hired or when.replace(year=2020))


def campaign(administrator, trigger="birthday", amount=100, **options):
    options.setdefault("starts_on", day(1, 1))
    return services.save_campaign(
        name=options.pop("name", trigger), actor=administrator, trigger=trigger, amount=amount, **options
    )


def paid(campaign_) -> dict[str, Decimal]:
    awards = CampaignAward.objects.filter(campaign=campaign_).select_related("user")
    return {award.user.full_name: award.amount for award in awards}


def test_birthday_pays_the_segment_with_the_description_and_lifetime(make_user, administrator, bonuses):
    """The seed's example: everyone hired at least 365 days ago gets points on their birthday."""
    member = make_user(full_name="Member", date_of_birth=date(1990, 6, 15), hire_date=ON - timedelta(days=400))
    colleague = make_user(full_name="Colleague", date_of_birth=date(1991, 6, 15), hire_date=ON - timedelta(days=100))
    make_user(full_name="Other day", date_of_birth=date(1991, 6, 16), hire_date=ON - timedelta(days=400))
    segment = services.save_segment(name="A year or more", actor=administrator, hired_days_min=365)
    birthday_campaign = campaign(
        administrator, segment=segment, lifetime_days=30, description="Happy birthday! 100 Bonuses are yours"
    )
    assert selectors.campaign_preview(birthday_campaign, on=ON) == [(member, Decimal(100))]

    result = services.run_campaigns(on=ON)

    assert (result.awards, result.points, result.batches) == (1, Decimal(100), 1)
    assert paid(birthday_campaign) == {"Member": 100}
    assert active(member) == 100 and active(colleague) == 0
    entry = Entry.objects.get(user=member)
    assert entry.kind == Entry.Kind.CAMPAIGN_ACCRUAL and entry.comment == "Happy birthday! 100 Bonuses are yours"
    assert entry.batch == CampaignAward.objects.get().batch and entry.actor is None
    assert entry.lot.source == Lot.Source.CAMPAIGN
    assert rules.last_usable_day(entry.lot.expires_at) == timezone.localdate() + timedelta(days=30)
    mail = OutgoingEmail.objects.get(recipient=member.email)
    assert "Happy birthday! 100 Bonuses are yours" in mail.body
    assert selectors.campaign_preview(birthday_campaign, on=ON) == []  # paid: nothing more is due


def test_anniversary_pays_the_highest_tier_reached(make_user, administrator, bonuses):
    hired = {"One": 1, "Five": 5, "Seven": 7, "Ten": 10, "Twelve": 12}
    for name, years in hired.items():
        make_user(full_name=name, hire_date=ON.replace(year=ON.year - years))
    make_user(full_name="New", hire_date=ON)  # hired today: no anniversary yet
    make_user(full_name="Yesterday", hire_date=ON.replace(year=2020) - timedelta(days=1))
    tiers = campaign(administrator, "anniversary", tiers=[(1, 100), (5, 500), (10, 1000)])

    result = services.run_campaigns(on=ON)

    assert paid(tiers) == {"One": 100, "Five": 500, "Seven": 500, "Ten": 1000, "Twelve": 1000}
    assert result.batches == 3 == Batch.objects.count()  # one batch per amount


def test_anniversary_without_tiers_pays_every_year_and_below_the_first_tier_nothing(make_user, administrator, bonuses):
    make_user(full_name="Three", hire_date=ON.replace(year=2023))
    make_user(full_name="Six", hire_date=ON.replace(year=2020))
    plain = campaign(administrator, "anniversary", amount=50, name="plain")
    later = campaign(administrator, "anniversary", amount=None, tiers=[(5, 500)], name="later")
    services.run_campaigns(on=ON)
    assert paid(plain) == {"Three": 50, "Six": 50}
    assert paid(later) == {"Six": 500}


def test_fixed_date_pays_everyone_on_that_day_each_year(make_user, administrator, bonuses):
    make_user(full_name="Anyone")
    fixed = campaign(administrator, "fixed_date", day=15, month=6)
    services.run_campaigns(on=ON - timedelta(days=1))
    assert paid(fixed) == {}
    services.run_campaigns(on=ON)
    assert set(paid(fixed)) == {"Anyone", administrator.full_name}  # every active employee, without a segment


def test_monthly_on_a_day_or_the_last_day_of_shorter_months(make_user, administrator, bonuses):
    make_user(full_name="Anyone")
    monthly = campaign(administrator, "monthly", day="last")
    assert monthly.day == 31
    services.run_campaigns(on=day(4, 29))
    assert paid(monthly) == {}
    services.run_campaigns(on=day(4, 30))
    assert CampaignAward.objects.filter(occurrence=day(4, 30)).exists()
    services.run_campaigns(on=day(5, 30))
    assert not CampaignAward.objects.filter(occurrence=day(5, 30)).exists()
    services.run_campaigns(on=day(5, 31))
    assert CampaignAward.objects.filter(occurrence=day(5, 31)).exists()


def test_once_pays_on_its_date_only(make_user, administrator, bonuses):
    employee = make_user(full_name="Anyone")
    once = campaign(administrator, "once", starts_on=ON)
    services.run_campaigns(on=ON)
    services.run_campaigns(on=ON + timedelta(days=1))
    assert CampaignAward.objects.filter(campaign=once, user=employee).count() == 1


def test_29_february_is_celebrated_on_the_28th_in_other_years(make_user, administrator, bonuses):
    leapling = birthday(make_user, date(2000, 2, 29), name="Leapling")
    leap = campaign(administrator)
    services.run_campaigns(on=date(2027, 2, 28))
    assert paid(leap) == {"Leapling": 100}
    services.run_campaigns(on=date(2027, 3, 1))
    services.run_campaigns(on=date(2028, 2, 28))  # a leap year: the 29th is the day
    assert CampaignAward.objects.filter(user=leapling).count() == 1
    services.run_campaigns(on=date(2028, 2, 29))
    assert CampaignAward.objects.filter(user=leapling).count() == 2


def test_the_weekend_rule_pays_saturday_and_sunday_on_the_friday_before(make_user, administrator, bonuses):
    birthday(make_user, day(6, 13), name="Saturday")
    birthday(make_user, day(6, 14), name="Sunday")
    moved = campaign(administrator, weekend_to_friday=True, name="moved")
    kept = campaign(administrator, name="kept")
    assert "Saturday or a Sunday is paid on the Friday before" in selectors.campaign_summary(moved)

    services.run_campaigns(on=day(6, 12))
    assert paid(moved) == {"Saturday": 100, "Sunday": 100} and paid(kept) == {}
    assert set(CampaignAward.objects.filter(campaign=moved).values_list("occurrence", "paid_on")) == {
        (day(6, 13), day(6, 12)),
        (day(6, 14), day(6, 12)),
    }
    services.run_campaigns(on=day(6, 14))  # catches up Saturday and Sunday: only the campaign without the rule pays
    assert paid(kept) == {"Saturday": 100, "Sunday": 100}
    assert CampaignAward.objects.filter(campaign=moved).count() == 2


def test_catch_up_after_three_missed_days_pays_each_day_once(make_user, administrator, bonuses):
    for offset in range(5):
        birthday(make_user, ON - timedelta(days=offset), name=f"Minus {offset}")
    birthdays = campaign(administrator)
    CampaignRunDay.objects.create(day=ON - timedelta(days=4))  # the last run; then the server was down 3 days

    result = services.run_campaigns(on=ON)

    assert result.days == [ON - timedelta(days=n) for n in (3, 2, 1, 0)]
    assert paid(birthdays) == {f"Minus {n}": 100 for n in range(4)}  # "Minus 4" was the last run's day
    assert Batch.objects.count() == 4  # one per campaign and day


def test_the_first_run_ever_does_not_back_fill(make_user, administrator, bonuses):
    birthday(make_user, ON - timedelta(days=1), name="Yesterday")
    birthdays = campaign(administrator)
    assert services.run_campaigns(on=ON).days == [ON]
    assert paid(birthdays) == {}


def test_a_campaign_started_today_does_not_pay_last_week(make_user, administrator, bonuses):
    birthday(make_user, ON - timedelta(days=3), name="Last week")
    birthday(make_user, ON, name="Today")
    CampaignRunDay.objects.create(day=ON - timedelta(days=7))
    today = campaign(administrator, starts_on=ON)
    services.run_campaigns(on=ON)
    assert paid(today) == {"Today": 100}


def test_running_twice_pays_nothing(make_user, administrator, bonuses, ledger_snapshot):
    birthday(make_user, ON, name="Today")
    campaign(administrator)
    services.run_campaigns(on=ON)
    before = ledger_snapshot()
    result = services.run_campaigns(on=ON)
    assert (result.awards, result.batches) == (0, 0)
    assert ledger_snapshot() == before


def test_paused_and_ended_campaigns_pay_nothing(make_user, administrator, bonuses):
    birthday(make_user, ON, name="Today")
    birthday(make_user, ON + timedelta(days=1), name="Tomorrow")
    paused = services.set_campaign_active(campaign(administrator, name="paused"), actor=administrator, is_active=False)
    ended = services.end_campaign(campaign(administrator, name="ended"), actor=administrator, on=ON)
    services.run_campaigns(on=ON + timedelta(days=1))
    assert paid(paused) == {}
    assert paid(ended) == {}  # the first run pays its own day alone: after the end
    services.run_campaigns(on=ON)
    assert paid(ended) == {"Today": 100}


def test_a_campaign_that_awarded_points_is_not_deleted(make_user, administrator, bonuses, ledger_snapshot):
    birthday(make_user, ON)
    awarded = campaign(administrator)
    services.delete_campaign(campaign(administrator, name="unused"), actor=administrator)
    services.run_campaigns(on=ON)
    before = ledger_snapshot()
    with pytest.raises(CampaignHasAwards) as refused:
        services.delete_campaign(awarded, actor=administrator)
    assert refused.value.message == "This campaign has awarded points: it cannot be deleted, only ended."
    assert ledger_snapshot() == before
    assert list(Campaign.objects.values_list("name", flat=True)) == ["birthday"]


def test_bonuses_daily_runs_the_campaigns(make_user, administrator, bonuses, capsys):
    member = birthday(make_user, date(1990, 6, 15))
    campaign(administrator)
    call_command("bonuses_daily", "--date", ON.isoformat())
    call_command("bonuses_daily", "--date", ON.isoformat())
    assert active(member) == 100
    assert "Campaigns (2026-06-15 to 2026-06-15): 0 awards" in capsys.readouterr().out


@pytest.mark.parametrize(
    ("now", "company_day"),
    [
        (datetime(2026, 3, 28, 23, 30, tzinfo=UTC), day(3, 29)),  # 00:30 CET on the day clocks go forward
        (datetime(2026, 10, 24, 22, 30, tzinfo=UTC), day(10, 25)),  # 00:30 CEST on the day clocks go back
        (datetime(2026, 10, 25, 22, 30, tzinfo=UTC), day(10, 25)),  # 23:30 CET: still the 25th
    ],
)
def test_the_day_is_the_company_time_zones_on_dst_days(
    make_user, administrator, bonuses, monkeypatch, now, company_day
):
    birthday(make_user, company_day, name="Celebrated")
    birthday(make_user, now.date() if now.date() != company_day else company_day + timedelta(1), name="UTC's day")
    birthdays = campaign(administrator)
    monkeypatch.setattr(timezone, "now", lambda: now)
    assert services.run_campaigns().days == [company_day]
    assert paid(birthdays) == {"Celebrated": 100}


# Refusals ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("options", "error", "message"),
    [
        ({"trigger": "monthly"}, InvalidCampaign, "A monthly campaign needs the day of the month (1–31, or the last)."),
        (
            {"trigger": "monthly", "day": 32},
            InvalidCampaign,
            "A monthly campaign needs the day of the month (1–31, or the last).",
        ),
        (
            {"trigger": "fixed_date", "day": 31, "month": 2},
            InvalidCampaign,
            "A fixed-date campaign needs a valid day and month.",
        ),
        (
            {"trigger": "anniversary", "tiers": [(5, 500), (1, 100)]},
            InvalidCampaign,
            "The tiers' years must increase: 1, 5, 10, …",
        ),
        (
            {"trigger": "anniversary", "tiers": [(1, 100), (1, 200)]},
            InvalidCampaign,
            "The tiers' years must increase: 1, 5, 10, …",
        ),
        ({"tiers": [(1, 100)]}, InvalidCampaign, "Only a work-anniversary campaign has tenure tiers."),
        ({"amount": 0}, InvalidAmount, "Enter an amount greater than zero."),
        ({"starts_on": day(6, 2), "ends_on": day(6, 1)}, InvalidCampaign, "The campaign ends before it starts."),
        (
            {"lifetime_days": 30, "expires_on": day(12, 31)},
            InvalidCampaign,
            "Give either an expiry date or a lifetime, not both.",
        ),
        ({"name": ""}, InvalidCampaign, "Give the campaign a name."),
        ({"trigger": "someday"}, InvalidCampaign, "Choose the campaign's trigger."),
        ({"name": "TAKEN"}, InvalidCampaign, "There is already a campaign named “TAKEN”."),
    ],
)
def test_refusals_save_nothing(administrator, bonuses, ledger_snapshot, options, error, message):
    campaign(administrator, name="taken")
    before = ledger_snapshot()
    with pytest.raises(error) as refused:
        services.save_campaign(
            **{"name": "New", "actor": administrator, "trigger": "birthday", "amount": 100, **options}
        )
    assert refused.value.message == message
    assert ledger_snapshot() == before


def test_a_refused_change_keeps_the_campaign(administrator, bonuses, ledger_snapshot):
    saved = campaign(administrator, "monthly", day=5)
    before = ledger_snapshot()
    with pytest.raises(InvalidCampaign):
        services.save_campaign(name="monthly", actor=administrator, trigger="monthly", amount=5, campaign=saved)
    assert ledger_snapshot() == before


def test_only_an_administrator_saves_a_campaign(manager, bonuses, ledger_snapshot):
    before = ledger_snapshot()
    with pytest.raises(NotPermitted):
        services.save_campaign(name="x", actor=manager, trigger="birthday", amount=1)
    assert ledger_snapshot() == before


# Concurrency -----------------------------------------------------------------------------------


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_two_concurrent_runs_pay_each_occurrence_once(make_user, administrator, bonuses):
    people = [birthday(make_user, ON, name=f"Today {n}") for n in range(20)]
    birthdays = campaign(administrator)
    campaign(administrator, "fixed_date", day=15, month=6, name="fixed")

    outcomes = race([[lambda: services.run_campaigns(on=ON)] * 2 for _ in range(3)])

    assert all(not isinstance(outcome, Exception) for round_ in outcomes for outcome in round_), outcomes
    assert sum(outcome.awards for round_ in outcomes for outcome in round_) == 20 + User.objects.count()
    assert CampaignAward.objects.filter(campaign=birthdays).count() == 20
    for person in people:
        assert active(person) == 200  # the birthday and the fixed date, each once
    call_command("check_ledger")
