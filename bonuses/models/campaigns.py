"""Segments and campaigns (issue 12): points awarded automatically to the right people on the right day.

A **segment** is a named set of conditions on employees, evaluated on the day it is used
(`selectors.segment_members`); each condition means what the accrual table's filter of the same name means
(bonuses/conditions.py holds both). A **campaign** awards an amount to the members of a segment (or every
active employee) on the occurrences of its trigger: a birthday, a work anniversary (optionally by tenure
tiers), a fixed date every year, a day every month, or once.

An **award** is one employee paid for one occurrence of one campaign: the unique constraint on
(campaign, employee, occurrence) is what makes running twice, running concurrently or catching up pay once.
The occurrence is the calendar day the trigger names (29 February is the 28th in other years), even when the
weekend rule pays it on the Friday before. A **run day** records that the daily run processed a day, so that
the next run catches up on every day since, and never before a campaign's start date.
"""

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from users.models import City, Department, Position, Tag

from .base import AMOUNT
from .ledger import Batch, Currency


class Segment(models.Model):
    name = models.CharField(_("name"), max_length=150, unique=True)
    hired_days_min = models.PositiveIntegerField(_("days since hire, at least"), null=True, blank=True)
    hired_days_max = models.PositiveIntegerField(_("days since hire, at most"), null=True, blank=True)
    joined_days_min = models.PositiveIntegerField(_("days in the program, at least"), null=True, blank=True)
    joined_days_max = models.PositiveIntegerField(_("days in the program, at most"), null=True, blank=True)
    birth_month = models.PositiveSmallIntegerField(_("birth month"), null=True, blank=True)
    departments = models.ManyToManyField(Department, blank=True, related_name="+", verbose_name=_("departments"))
    cities = models.ManyToManyField(City, blank=True, related_name="+", verbose_name=_("cities"))
    positions = models.ManyToManyField(Position, blank=True, related_name="+", verbose_name=_("positions"))
    tags = models.ManyToManyField(Tag, blank=True, related_name="+", verbose_name=_("tags"))
    tags_all = models.BooleanField(_("all of the tags"), default=False)
    balance_min = models.DecimalField(_("balance from"), **AMOUNT, null=True, blank=True)
    balance_max = models.DecimalField(_("balance to"), **AMOUNT, null=True, blank=True)
    currency = models.ForeignKey(
        Currency, models.PROTECT, null=True, blank=True, related_name="+", verbose_name=_("currency")
    )
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, models.SET_NULL, null=True, blank=True, related_name="+")
    created_at = models.DateTimeField(_("created"), auto_now_add=True)

    class Meta:
        verbose_name = _("segment")
        verbose_name_plural = _("segments")
        ordering = ["name"]
        constraints = [
            models.CheckConstraint(
                condition=Q(birth_month__isnull=True) | Q(birth_month__range=(1, 12)), name="segment_birth_month"
            ),
        ]

    def __str__(self) -> str:
        return self.name


class Campaign(models.Model):
    class Trigger(models.TextChoices):
        BIRTHDAY = "birthday", _("Birthday")
        ANNIVERSARY = "anniversary", _("Work anniversary")
        FIXED_DATE = "fixed_date", _("Fixed date every year")
        MONTHLY = "monthly", _("Every month")
        ONCE = "once", _("Once")

    name = models.CharField(_("name"), max_length=150, unique=True)
    trigger = models.CharField(_("trigger"), max_length=20, choices=Trigger)
    amount = models.DecimalField(_("amount"), **AMOUNT)
    currency = models.ForeignKey(Currency, models.PROTECT, related_name="+", verbose_name=_("currency"))
    segment = models.ForeignKey(
        Segment, models.PROTECT, null=True, blank=True, related_name="campaigns", verbose_name=_("segment")
    )
    lifetime_days = models.PositiveIntegerField(_("lifetime (days)"), null=True, blank=True)
    expires_on = models.DateField(_("expires on"), null=True, blank=True)
    description = models.CharField(_("description"), max_length=500, blank=True)
    starts_on = models.DateField(_("starts on"))
    ends_on = models.DateField(_("ends on"), null=True, blank=True)
    is_active = models.BooleanField(_("active"), default=True)
    day = models.PositiveSmallIntegerField(_("day"), null=True, blank=True)
    month = models.PositiveSmallIntegerField(_("month"), null=True, blank=True)
    tiers = models.JSONField(_("tenure tiers"), default=list, blank=True)  # [[years, "amount"], ...], increasing
    weekend_to_friday = models.BooleanField(_("a Saturday or Sunday moves to the Friday before"), default=False)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, models.SET_NULL, null=True, blank=True, related_name="+")
    created_at = models.DateTimeField(_("created"), auto_now_add=True)

    class Meta:
        verbose_name = _("campaign")
        verbose_name_plural = _("campaigns")
        ordering = ["name"]
        constraints = [
            models.CheckConstraint(condition=Q(amount__gt=0), name="campaign_amount_positive"),
            models.CheckConstraint(
                condition=Q(ends_on__isnull=True) | Q(ends_on__gte=models.F("starts_on")), name="campaign_window"
            ),
        ]

    def __str__(self) -> str:
        return self.name


class CampaignAward(models.Model):
    """One employee paid for one occurrence of one campaign, in the batch that paid it."""

    campaign = models.ForeignKey(Campaign, models.PROTECT, related_name="awards")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, models.PROTECT, related_name="campaign_awards")
    occurrence = models.DateField(_("occurrence"))
    paid_on = models.DateField(_("paid on"))
    amount = models.DecimalField(_("amount"), **AMOUNT)
    batch = models.ForeignKey(Batch, models.PROTECT, related_name="campaign_awards")

    class Meta:
        verbose_name = _("campaign award")
        verbose_name_plural = _("campaign awards")
        constraints = [
            models.UniqueConstraint(fields=["campaign", "user", "occurrence"], name="one_award_per_occurrence"),
        ]

    def __str__(self) -> str:
        return f"{self.campaign} · {self.user} · {self.occurrence}"


class CampaignRunDay(models.Model):
    """A day the campaigns were run for; the latest is where the next run catches up from."""

    day = models.DateField(unique=True)
    ran_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("campaign run day")
        verbose_name_plural = _("campaign run days")

    def __str__(self) -> str:
        return str(self.day)
