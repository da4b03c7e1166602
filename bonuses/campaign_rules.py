"""Who a segment holds on a day, and who a campaign pays on a day (models/campaigns.py states the design).

Both the daily run (services/campaigns.py) and the preview (selectors) read these, so the preview shows
exactly what the run would pay. A day is a day of the company's calendar. A birthday, an anniversary or a
fixed date on 29 February falls on 28 February in other years. With the weekend rule, an occurrence on a
Saturday or a Sunday is paid on the Friday before: the Friday pays three days' occurrences, the weekend none.
"""

import calendar
from collections.abc import Iterator
from datetime import date, timedelta
from decimal import Decimal

from django.contrib.auth import get_user_model
from django.db.models import Exists, OuterRef, Q
from django.utils import timezone
from django.utils.dates import MONTHS
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from . import conditions, rules
from .models import Campaign, CampaignAward, Currency, Segment


def today() -> date:
    """Today in the company time zone."""
    return rules.local_date(timezone.now())


def members(segment: Segment | None, on: date | None = None):
    """The active employees in `segment` as of `on` (default today); every active employee without one."""
    on = on or today()
    users = get_user_model().objects.filter(is_active=True).exclude(hire_date__gt=on)  # not hired yet on that day
    if segment is None:
        return users
    if segment.hired_days_min is not None:
        users = conditions.hired_until(users, conditions.days_before(on, segment.hired_days_min))
    if segment.hired_days_max is not None:
        users = conditions.hired_from(users, conditions.days_before(on, segment.hired_days_max))
    if segment.joined_days_min is not None:  # joined on that day or before: before the next day's 00:00
        day = conditions.days_before(on, segment.joined_days_min) + timedelta(days=1)
        users = users.filter(date_joined__lt=rules.start_of_day(day))
    if segment.joined_days_max is not None:
        users = users.filter(date_joined__gte=rules.start_of_day(conditions.days_before(on, segment.joined_days_max)))
    if segment.birth_month:
        users = users.filter(date_of_birth__month=segment.birth_month)
    if segment.pk:
        departments, cities = list(segment.departments.all()), list(segment.cities.all())
        positions, tags = list(segment.positions.all()), list(segment.tags.all())
        if departments:
            users = conditions.in_departments(users, departments)
        if cities:
            users = conditions.in_cities(users, cities)
        if positions:
            users = conditions.in_positions(users, positions)
        if tags:
            users = conditions.with_tags(users, tags, every=segment.tags_all)
    if segment.balance_min is not None or segment.balance_max is not None:
        users = conditions.with_balance(users, segment.currency or Currency.objects.get(is_default=True))
        if segment.balance_min is not None:
            users = conditions.balance_from(users, segment.balance_min)
        if segment.balance_max is not None:
            users = conditions.balance_to(users, segment.balance_max)
    return users


# The calendar of a campaign ---------------------------------------------------------------------


def celebrated(year: int, month: int, day: int) -> date:
    """The day of `year` on which a date of `month` and `day` is celebrated: 29 February is the 28th in other years."""
    if month == 2 and day == 29 and not calendar.isleap(year):
        return date(year, 2, 28)
    return date(year, month, day)


def occurrences_paid_on(campaign: Campaign, on: date) -> list[date]:
    """The days whose occurrences the campaign pays on `on`: that day, or with the weekend rule on a Friday that
    Friday and the weekend after it (none on a Saturday or a Sunday); only within the campaign's window."""
    if on < campaign.starts_on or (campaign.ends_on and on > campaign.ends_on):
        return []
    if not campaign.weekend_to_friday:
        return [on]
    weekday = on.weekday()
    if weekday >= 5:
        return []
    if weekday == 4:
        return [on, on + timedelta(days=1), on + timedelta(days=2)]
    return [on]


def _on_day(field: str, occurrence: date) -> Q:
    """Whose date in `field` is celebrated on `occurrence` (29 February ones on 28 February of other years)."""
    same = Q(**{f"{field}__month": occurrence.month, f"{field}__day": occurrence.day})
    if occurrence.month == 2 and occurrence.day == 28 and not calendar.isleap(occurrence.year):
        same |= Q(**{f"{field}__month": 2, f"{field}__day": 29})
    return same


def _is_occurrence(campaign: Campaign, occurrence: date) -> bool:
    """For the triggers that pay everyone on a day of the calendar: whether `occurrence` is such a day."""
    trigger = campaign.trigger
    if trigger == Campaign.Trigger.ONCE:
        return occurrence == campaign.starts_on
    if trigger == Campaign.Trigger.MONTHLY:
        last = calendar.monthrange(occurrence.year, occurrence.month)[1]
        return occurrence.day == min(campaign.day, last)
    return occurrence == celebrated(occurrence.year, campaign.month, campaign.day)  # fixed date


def tier_amount(campaign: Campaign, years: int) -> Decimal | None:
    """An anniversary's amount after `years` years: the highest tier reached, the campaign's amount without
    tiers; None when no tier is reached."""
    if years < 1:
        return None
    if not campaign.tiers:
        return campaign.amount
    reached = [Decimal(amount) for tier_years, amount in campaign.tiers if tier_years <= years]
    return reached[-1] if reached else None


def due(campaign: Campaign, on: date) -> Iterator[tuple[int, date, Decimal]]:
    """(employee id, occurrence, amount) of everyone the campaign pays on `on` and has not paid for it yet."""
    for occurrence in occurrences_paid_on(campaign, on):
        users = members(campaign.segment, on)
        trigger = campaign.trigger
        if trigger == Campaign.Trigger.BIRTHDAY:
            users = users.filter(_on_day("date_of_birth", occurrence))
        elif trigger == Campaign.Trigger.ANNIVERSARY:
            users = users.filter(_on_day("hire_date", occurrence), hire_date__lt=occurrence)
        elif not _is_occurrence(campaign, occurrence):
            continue
        paid = CampaignAward.objects.filter(campaign=campaign, user=OuterRef("pk"), occurrence=occurrence)
        rows = users.filter(~Exists(paid)).order_by("pk").values_list("pk", "hire_date")
        for pk, hired in rows.iterator(chunk_size=5000):
            if trigger == Campaign.Trigger.ANNIVERSARY:
                amount = tier_amount(campaign, occurrence.year - hired.year)
                if amount is None:
                    continue
            else:
                amount = campaign.amount
            yield pk, occurrence, amount


# What a campaign says of itself -------------------------------------------------------------------


def summary(campaign: Campaign) -> str:
    """The campaign in one sentence, the weekend rule included."""
    trigger = campaign.trigger
    if trigger == Campaign.Trigger.BIRTHDAY:
        when = _("on each employee's birthday (29 February: on the 28th in other years)")
    elif trigger == Campaign.Trigger.ANNIVERSARY:
        when = _("on each employee's work anniversary")
        if campaign.tiers:
            tiers = ", ".join(
                ngettext("%(years)d year: %(amount)s", "%(years)d years: %(amount)s", years)
                % {"years": years, "amount": rules.grouped(Decimal(amount))}
                for years, amount in campaign.tiers
            )
            when += " " + _("(the highest tier reached: %(tiers)s)") % {"tiers": tiers}
    elif trigger == Campaign.Trigger.FIXED_DATE:
        when = _("every year on %(day)s") % {"day": _date_label(campaign.month, campaign.day)}
    elif trigger == Campaign.Trigger.MONTHLY:
        when = _("every month on day %(day)d (in shorter months, their last day)") % {"day": campaign.day}
    else:
        when = _("once, on %(day)s") % {"day": campaign.starts_on.isoformat()}
    amount = _("%(amount)s %(currency)s") % {"amount": rules.grouped(campaign.amount), "currency": campaign.currency}
    if trigger == Campaign.Trigger.ANNIVERSARY and campaign.tiers:
        text = _("Awards the tier's %(currency)s %(when)s") % {"currency": campaign.currency, "when": when}
    else:
        text = _("Awards %(amount)s %(when)s") % {"amount": amount, "when": when}
    text += " " + (
        _("to the members of the segment “%(segment)s”.") % {"segment": campaign.segment}
        if campaign.segment
        else _("to every active employee.")
    )
    if campaign.weekend_to_friday:
        text += " " + _("An occurrence on a Saturday or a Sunday is paid on the Friday before.")
    return text


def _date_label(month: int, day: int) -> str:
    return f"{day} {MONTHS[month]}"
