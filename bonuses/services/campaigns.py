"""Segments and campaigns: saving them (validated: a refusal saves nothing) and the daily run that pays the
campaigns' awards (models/campaigns.py states the design, campaign_rules.py who is due on a day).

The run pays every day since the last run day up to `on`, each once: per campaign and day it locks the
campaign's row (a concurrent run waits, then finds the awards made), posts one bulk accrual per amount
through `accrue_many` (source "campaign", no actor: the company pays, as an administrator's accrual does)
and records the awards, whose unique constraint refuses any second payment of an occurrence.
"""

from dataclasses import dataclass, field
from datetime import date, timedelta
from decimal import Decimal

from django.db import IntegrityError, transaction
from django.db.models import Max, Q
from django.utils.translation import gettext as _

from .. import campaign_rules, exceptions, rules
from ..models import Campaign, CampaignAward, CampaignRunDay, Currency, Lot, Segment
from .accrual import accrue_many
from .core import administers
from .currency import get_currency

MAX_CATCH_UP_DAYS = 366  # a run catches up at most a year of missed days


def _require_admin(actor) -> None:
    if actor is None or not administers(actor):
        raise exceptions.NotPermitted()


def _non_negative(value, message, name: str) -> int | None:
    if value is None or value == "":
        return None
    try:
        value = int(value)
    except (TypeError, ValueError):
        raise exceptions.InvalidSegment(message, field=name) from None
    if value < 0 or value > rules.MAX_DAYS:
        raise exceptions.InvalidSegment(message, field=name)
    return value


def save_segment(
    *,
    name,
    actor,
    hired_days_min=None,
    hired_days_max=None,
    joined_days_min=None,
    joined_days_max=None,
    birth_month=None,
    departments=(),
    cities=(),
    positions=(),
    tags=(),
    balance_min=None,
    balance_max=None,
    currency=None,
    segment=None,
    tags_all: bool = False,
) -> Segment:
    """Create a segment (or change `segment`); a refusal (InvalidSegment) saves nothing."""
    _require_admin(actor)
    name = (name or "").strip()
    if not name:
        raise exceptions.InvalidSegment(_("Give the segment a name."), field="name")
    days = _("Days are whole numbers from 0 to 36,525.")
    hired_min = _non_negative(hired_days_min, days, "hired_days_min")
    hired_max = _non_negative(hired_days_max, days, "hired_days_max")
    joined_min = _non_negative(joined_days_min, days, "joined_days_min")
    joined_max = _non_negative(joined_days_max, days, "joined_days_max")
    if hired_min is not None and hired_max is not None and hired_min > hired_max:
        raise exceptions.InvalidSegment(
            _("“Days since hire, at least” is more than “at most”."), field="hired_days_max"
        )
    if joined_min is not None and joined_max is not None and joined_min > joined_max:
        raise exceptions.InvalidSegment(
            _("“Days in the program, at least” is more than “at most”."), field="joined_days_max"
        )
    if birth_month not in (None, "") and (not str(birth_month).isdigit() or not 1 <= int(birth_month) <= 12):
        raise exceptions.InvalidSegment(_("The birth month is a month from 1 to 12."), field="birth_month")
    birth_month = int(birth_month) if birth_month not in (None, "") else None
    low = None if balance_min in (None, "") else Decimal(balance_min)
    high = None if balance_max in (None, "") else Decimal(balance_max)
    if low is not None and high is not None and low > high:
        raise exceptions.InvalidSegment(
            _("The balance's lower bound is more than its upper bound."), field="balance_max"
        )
    if (low is not None or high is not None) and currency is None:
        currency = get_currency(None)
    others = Segment.objects.filter(name__iexact=name).exclude(pk=getattr(segment, "pk", None))
    if others.exists():
        raise exceptions.InvalidSegment(
            _("There is already a segment named “%(name)s”.") % {"name": name}, field="name"
        )
    with transaction.atomic():
        segment = segment or Segment(created_by=actor)
        segment.name, segment.birth_month, segment.tags_all = name, birth_month, bool(tags_all)
        segment.hired_days_min, segment.hired_days_max = hired_min, hired_max
        segment.joined_days_min, segment.joined_days_max = joined_min, joined_max
        segment.balance_min, segment.balance_max, segment.currency = low, high, currency
        segment.save()
        segment.departments.set(departments)
        segment.cities.set(cities)
        segment.positions.set(positions)
        segment.tags.set(tags)
    return segment


def _clean_tiers(tiers, currency: Currency) -> list[list]:
    cleaned, previous = [], 0
    for years, amount in tiers or ():
        try:
            years = int(years)
        except (TypeError, ValueError):
            raise exceptions.InvalidCampaign(_("A tier's years are a whole number."), field="tiers") from None
        if years <= previous:
            raise exceptions.InvalidCampaign(_("The tiers' years must increase: 1, 5, 10, …"), field="tiers")
        cleaned.append([years, str(rules.clean_amount(amount, currency))])
        previous = years
    return cleaned


def _clean_calendar(trigger, day, month) -> tuple[int | None, int | None]:
    if trigger == Campaign.Trigger.MONTHLY:
        if day == "last":
            day = 31
        if day in (None, "") or not str(day).isdigit() or not 1 <= int(day) <= 31:
            raise exceptions.InvalidCampaign(
                _("A monthly campaign needs the day of the month (1–31, or the last)."), field="day"
            )
        return int(day), None
    if trigger == Campaign.Trigger.FIXED_DATE:
        try:
            date(2024, int(month), int(day))  # a leap year: 29 February is a fixed date too
        except (TypeError, ValueError):
            raise exceptions.InvalidCampaign(
                _("A fixed-date campaign needs a valid day and month."), field="day"
            ) from None
        return int(day), int(month)
    return None, None


def save_campaign(
    *,
    name,
    actor,
    trigger,
    amount,
    currency=None,
    segment=None,
    lifetime_days=None,
    expires_on=None,
    description="",
    starts_on=None,
    ends_on=None,
    is_active=True,
    day=None,
    month=None,
    tiers=None,
    weekend_to_friday=False,
    campaign=None,
) -> Campaign:
    """Create a campaign (or change `campaign`); a refusal (a BonusError with its message) saves nothing.
    A "once" campaign pays on its start date (default: today)."""
    _require_admin(actor)
    name = (name or "").strip()
    if not name:
        raise exceptions.InvalidCampaign(_("Give the campaign a name."), field="name")
    if trigger not in Campaign.Trigger.values:
        raise exceptions.InvalidCampaign(_("Choose the campaign's trigger."), field="trigger")
    currency = get_currency(currency)
    if tiers and trigger != Campaign.Trigger.ANNIVERSARY:
        raise exceptions.InvalidCampaign(_("Only a work-anniversary campaign has tenure tiers."), field="tiers")
    tiers = _clean_tiers(tiers, currency)
    amount = Decimal(tiers[0][1]) if tiers and amount in (None, "") else rules.clean_amount(amount, currency)
    day, month = _clean_calendar(trigger, day, month)
    starts_on = starts_on or getattr(campaign, "starts_on", None) or campaign_rules.today()
    if ends_on is not None and ends_on < starts_on:
        raise exceptions.InvalidCampaign(_("The campaign ends before it starts."), field="ends_on")
    if lifetime_days not in (None, "") and expires_on is not None:
        raise exceptions.InvalidCampaign(_("Give either an expiry date or a lifetime, not both."), field="expires_on")
    if lifetime_days not in (None, ""):
        rules.check_lifetime_days(lifetime_days)
        lifetime_days = int(lifetime_days)
    else:
        lifetime_days = None
    description = rules.clean_comment(description)
    others = Campaign.objects.filter(name__iexact=name).exclude(pk=getattr(campaign, "pk", None))
    if others.exists():
        raise exceptions.InvalidCampaign(
            _("There is already a campaign named “%(name)s”.") % {"name": name}, field="name"
        )
    with transaction.atomic():
        campaign = campaign or Campaign(created_by=actor)
        if campaign.pk and campaign.awards.exists() and campaign.currency_id != currency.pk:
            raise exceptions.InvalidCampaign(
                _("The campaign has awarded points: its currency cannot change."), field="currency"
            )
        for field_name, value in {
            "name": name,
            "trigger": trigger,
            "amount": amount,
            "currency": currency,
            "segment": segment,
            "lifetime_days": lifetime_days,
            "expires_on": expires_on,
            "description": description,
            "starts_on": starts_on,
            "ends_on": ends_on,
            "is_active": bool(is_active),
            "day": day,
            "month": month,
            "tiers": tiers,
            "weekend_to_friday": bool(weekend_to_friday),
        }.items():
            setattr(campaign, field_name, value)
        campaign.save()
    return campaign


def end_campaign(campaign: Campaign, *, actor, on: date | None = None) -> Campaign:
    """End a campaign: it pays nothing after `on` (default today)."""
    _require_admin(actor)
    on = on or campaign_rules.today()
    campaign.ends_on = max(on, campaign.starts_on)
    campaign.save(update_fields=["ends_on"])
    return campaign


def set_campaign_active(campaign: Campaign, *, actor, is_active: bool) -> Campaign:
    """Pause a campaign (it pays nothing while paused, and does not catch up) or resume it."""
    _require_admin(actor)
    campaign.is_active = is_active
    campaign.save(update_fields=["is_active"])
    return campaign


def delete_campaign(campaign: Campaign, *, actor) -> None:
    """Delete a campaign that never awarded points; one that did is only ended (CampaignHasAwards)."""
    _require_admin(actor)
    with transaction.atomic():
        if campaign.awards.exists():
            raise exceptions.CampaignHasAwards()
        campaign.delete()


@dataclass
class CampaignRunResult:
    days: list[date] = field(default_factory=list)
    awards: int = 0
    points: Decimal = Decimal("0")
    batches: int = 0
    refusals: list[str] = field(default_factory=list)  # "campaign, day: message" of what could not be paid


def run_campaigns(*, on: date | None = None) -> CampaignRunResult:
    """Pay every active campaign for every day since the last run day up to `on` (default today), each once;
    the first run ever runs `on` alone (catch-up, not back-fill). Running a day again pays only what is due and
    unpaid (a campaign created since)."""
    on = on or campaign_rules.today()
    last = CampaignRunDay.objects.aggregate(last=Max("day"))["last"]
    first = on if last is None or last >= on else max(last + timedelta(days=1), on - timedelta(MAX_CATCH_UP_DAYS))
    result = CampaignRunResult()
    day = first
    while day <= on:
        campaigns = Campaign.objects.filter(is_active=True, starts_on__lte=day).filter(
            Q(ends_on__isnull=True) | Q(ends_on__gte=day)
        )
        for campaign in campaigns.order_by("pk"):
            _pay(campaign, day, result)
        CampaignRunDay.objects.bulk_create([CampaignRunDay(day=day)], ignore_conflicts=True)
        result.days.append(day)
        day += timedelta(days=1)
    return result


def _pay(campaign: Campaign, day: date, result: CampaignRunResult) -> None:
    """Pay one campaign's awards due on `day`: all of them or, refused, none (said in the result)."""
    try:
        with transaction.atomic():
            list(Campaign.objects.select_for_update().filter(pk=campaign.pk).values_list("pk"))  # a second run waits
            campaign = Campaign.objects.select_related("segment", "currency").get(pk=campaign.pk)
            if not campaign.is_active:  # paused while the run waited
                return
            by_amount: dict[Decimal, list[tuple[int, date]]] = {}
            for user_id, occurrence, amount in campaign_rules.due(campaign, day):
                by_amount.setdefault(amount, []).append((user_id, occurrence))
            for amount, due in sorted(by_amount.items()):
                batch = accrue_many(
                    users=[user_id for user_id, _occurrence in due],
                    amount=amount,
                    actor=None,
                    comment=campaign.description or campaign.name,
                    currency=campaign.currency,
                    source=Lot.Source.CAMPAIGN,
                    lifetime_days=campaign.lifetime_days,
                    expires_on=campaign.expires_on,
                )
                CampaignAward.objects.bulk_create(
                    CampaignAward(
                        campaign=campaign,
                        user_id=user_id,
                        occurrence=occurrence,
                        paid_on=day,
                        amount=amount,
                        batch=batch,
                    )
                    for user_id, occurrence in due
                )
                result.awards += len(due)
                result.points += amount * len(due)
                result.batches += 1
    except exceptions.BonusError as exc:
        result.refusals.append(f"{campaign}, {day.isoformat()}: {exc.message}")
    except IntegrityError:  # another run paid the same occurrence first (the unique constraint): nothing twice
        result.refusals.append(f"{campaign}, {day.isoformat()}: " + _("already paid by another run."))
