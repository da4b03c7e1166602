"""The forms of the segments' and campaigns' screens: they turn request data into the values the services
take (services.save_segment, services.save_campaign), which decide."""

from django import forms
from django.contrib.auth import get_user_model
from django.utils.dates import MONTHS
from django.utils.translation import gettext_lazy as _

from giftshop.web.forms import DATE_INPUT
from users.models import City, Department, Position, Tag

from .filters import EmployeeFilter
from .models import Campaign, Currency, Segment

MONTH_CHOICES = [("", _("Any month")), *((str(number), name) for number, name in MONTHS.items())]
SEGMENT_FIELDS = (
    "name",
    "hired_days_min",
    "hired_days_max",
    "joined_days_min",
    "joined_days_max",
    "birth_month",
    "departments",
    "cities",
    "positions",
    "tags",
    "tags_all",
    "balance_min",
    "balance_max",
    "currency",
)


def days_field(label):
    return forms.IntegerField(label=label, required=False, min_value=0, max_value=36525)


class SegmentForm(forms.Form):
    name = forms.CharField(label=_("Name"), max_length=150)
    hired_days_min = days_field(_("Days since hire, at least"))
    hired_days_max = days_field(_("Days since hire, at most"))
    joined_days_min = days_field(_("Days in the program, at least"))
    joined_days_max = days_field(_("Days in the program, at most"))
    birth_month = forms.TypedChoiceField(
        label=_("Birth month"), choices=MONTH_CHOICES, required=False, coerce=int, empty_value=None
    )
    departments = forms.ModelMultipleChoiceField(Department.objects.all(), label=_("Departments"), required=False)
    cities = forms.ModelMultipleChoiceField(City.objects.all(), label=_("Cities"), required=False)
    positions = forms.ModelMultipleChoiceField(Position.objects.all(), label=_("Positions"), required=False)
    tags = forms.ModelMultipleChoiceField(Tag.objects.all(), label=_("Tags"), required=False)
    tags_all = forms.BooleanField(label=_("Every one of the tags (not any of them)"), required=False)
    balance_min = forms.DecimalField(label=_("Active balance from"), required=False, min_value=0, decimal_places=2)
    balance_max = forms.DecimalField(label=_("Active balance to"), required=False, min_value=0, decimal_places=2)
    currency = forms.ModelChoiceField(
        Currency.objects.all(), label=_("Balance in"), required=False, empty_label=_("The default currency")
    )

    @classmethod
    def initial_of(cls, segment: Segment) -> dict:
        initial = {name: getattr(segment, name) for name in SEGMENT_FIELDS if name not in cls.MANY}
        return {**initial, **{name: list(getattr(segment, name).all()) for name in cls.MANY}}

    MANY = ("departments", "cities", "positions", "tags")


class CampaignForm(forms.Form):
    name = forms.CharField(label=_("Name"), max_length=150)
    trigger = forms.ChoiceField(label=_("Trigger"), choices=Campaign.Trigger.choices)
    amount = forms.DecimalField(
        label=_("Amount"), required=False, decimal_places=2, help_text=_("Per employee (with tiers: leave empty).")
    )
    currency = forms.ModelChoiceField(Currency.objects.all(), label=_("Currency"), empty_label=None)
    segment = forms.ModelChoiceField(
        Segment.objects.all(), label=_("Segment"), required=False, empty_label=_("Every active employee")
    )
    day = forms.IntegerField(
        label=_("Day"),
        required=False,
        min_value=1,
        max_value=31,
        help_text=_("Monthly: the day of the month (31: the last day); fixed date: the day."),
    )
    month = forms.TypedChoiceField(
        label=_("Month"), choices=[("", "—"), *MONTH_CHOICES[1:]], required=False, coerce=int, empty_value=None
    )
    tiers = forms.CharField(
        label=_("Tenure tiers"),
        required=False,
        help_text=_("Work anniversary only: years and amount, e.g. “1: 100, 5: 500, 10: 1000”."),
    )
    lifetime_days = forms.IntegerField(label=_("Lifetime (days)"), required=False, min_value=1)
    expires_on = forms.DateField(label=_("Or an expiry date"), required=False, widget=DATE_INPUT)
    description = forms.CharField(
        label=_("Description"),
        required=False,
        max_length=500,
        help_text=_("The entries' comment and the e-mail's text, e.g. “Happy birthday!”."),
    )
    starts_on = forms.DateField(
        label=_("Starts on"), required=False, widget=DATE_INPUT, help_text=_("Once: the day it pays. Empty: today.")
    )
    ends_on = forms.DateField(label=_("Ends on"), required=False, widget=DATE_INPUT)
    weekend_to_friday = forms.BooleanField(
        label=_("Pay an occurrence on a Saturday or a Sunday on the Friday before"), required=False
    )
    is_active = forms.BooleanField(label=_("Active"), required=False, initial=True)

    def clean_tiers(self):
        text = self.cleaned_data["tiers"].strip()
        tiers = []
        for part in filter(None, (piece.strip() for piece in text.split(","))):
            years, sep, amount = part.partition(":")
            if not sep or not years.strip().isdigit():
                raise forms.ValidationError(_("Write each tier as years: amount, e.g. “5: 500”."))
            tiers.append((int(years), amount.strip()))
        return tiers

    @classmethod
    def initial_of(cls, campaign: Campaign) -> dict:
        names = [name for name in cls.base_fields if name != "tiers"]
        initial = {name: getattr(campaign, name) for name in names}
        initial["tiers"] = ", ".join(f"{years}: {amount}" for years, amount in campaign.tiers)
        return initial


class DayForm(forms.Form):
    """The day a preview is "as of" (default today), and for a campaign: that day alone or the 30 days from it."""

    on = forms.DateField(label=_("As of"), required=False, widget=DATE_INPUT)
    days = forms.TypedChoiceField(
        label=_("Period"),
        choices=[("1", _("That day")), ("30", _("The 30 days from it"))],
        coerce=int,
        required=False,
        empty_value=1,
    )


def initial_from_accrual_filter(data, today) -> dict:
    """A new segment's conditions from the accrual table's filter in `data` (its query string): the same
    departments, cities, positions, tags and balance range, and its hire dates as days since hire on `today`
    (a segment counts days, so that it keeps meaning the same as time passes). The search text has no condition."""
    form = EmployeeFilter(data, queryset=get_user_model().objects.none()).form  # the table's own reading
    if not form.is_valid():
        return {}
    values = form.cleaned_data
    initial = {
        "departments": list(values.get("department") or []),
        "cities": list(values.get("city") or []),
        "positions": list(values.get("position") or []),
        "tags": list(values.get("tags") or []),
        "balance_min": values.get("balance_min"),
        "balance_max": values.get("balance_max"),
    }
    if values.get("hired_before"):
        initial["hired_days_min"] = max((today - values["hired_before"]).days, 0)
    if values.get("hired_after"):
        initial["hired_days_max"] = max((today - values["hired_after"]).days, 0)
    currency = data.get("currency")
    if currency and str(currency).isdigit():
        initial["currency"] = Currency.objects.filter(pk=currency).first()
    return {name: value for name, value in initial.items() if value not in (None, [])}
