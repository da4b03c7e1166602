"""Reads of segments and campaigns (named in `selectors` too): who a segment holds on a day, what a campaign would
pay (the preview reads campaign_rules, as the daily run does), and what it paid (its report)."""

from datetime import date, timedelta
from decimal import Decimal

from django.contrib.auth import get_user_model
from django.db.models import Count, Sum
from django.db.models.functions import TruncMonth

from . import bulk, campaign_rules
from .models import Campaign, CampaignAward


def segment_members(segment, *, on: date | None = None):
    """The active employees in `segment` as of `on` (default today, in the company time zone)."""
    return campaign_rules.members(segment, on)


def campaign_preview(campaign, *, on: date) -> list[tuple]:
    """Who the campaign would pay on `on` and how much, by name: what the daily run would pay that day (the
    occurrences not paid yet), whether or not the campaign is paused."""
    due = {user_id: amount for user_id, _occurrence, amount in campaign_rules.due(campaign, on)}
    users = get_user_model().objects.filter(pk__in=bulk.ids_in(list(due))).select_related("department")
    return [(user, due[user.pk]) for user in users.order_by("full_name", "pk")]


def campaign_summary(campaign) -> str:
    return campaign_rules.summary(campaign)


def campaign_days(campaign, *, on: date, days: int = 1) -> list[tuple[date, object, Decimal]]:
    """The preview of `days` days from `on`: (day, employee, amount) the daily run would pay, day by day."""
    rows = []
    for offset in range(days):
        day = on + timedelta(days=offset)
        rows.extend((day, user, amount) for user, amount in campaign_preview(campaign, on=day))
    return rows


def campaign_report(campaign) -> list[dict]:
    """A campaign's awards per month: the month, how many awards, how many people, how many points."""
    return list(
        CampaignAward.objects.filter(campaign=campaign)
        .annotate(month=TruncMonth("paid_on"))
        .values("month")
        .annotate(awards=Count("pk"), people=Count("user", distinct=True), points=Sum("amount"))
        .order_by("-month")
    )


def campaign_of_batch(batch):
    """The campaign that paid a batch, or None."""
    award = CampaignAward.objects.filter(batch=batch).select_related("campaign").first()
    return award.campaign if award else None


def campaign_list():
    return Campaign.objects.select_related("segment", "currency").annotate(award_count=Count("awards")).order_by("name")


def campaign_awards(campaign):
    """A campaign's awards, the latest first (the report's Excel export)."""
    return CampaignAward.objects.filter(campaign=campaign).order_by("-paid_on", "user__full_name", "pk")
