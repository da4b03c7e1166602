"""The filters of the accrual table and of the log; every value lives in the URL."""

import django_filters
from django import forms
from django.contrib.auth import get_user_model
from django.db.models import Q, QuerySet
from django.urls import reverse_lazy
from django.utils.text import format_lazy
from django.utils.translation import gettext_lazy as _

from giftshop.web.filters import CompanyDayFilter, EmployeeChoiceFilter, ModelMultipleIdsFilter, PeriodForm
from giftshop.web.forms import DATE_INPUT, EmployeeAutocomplete
from users.models import City, Department, Position, Tag

from . import campaign_rules, conditions
from .models import Batch, Campaign, CampaignAward, Currency, Entry, Segment


def condition(apply):
    """A filter method applying one of bonuses/conditions.py to the value chosen."""

    def method(queryset, name, value):
        if value is None or (isinstance(value, QuerySet | list) and not value):  # nothing chosen: no condition
            return queryset
        return apply(queryset, value)

    return method


class EmployeeFilter(django_filters.FilterSet):
    q = django_filters.CharFilter(method="search", label=_("Search"))
    # Each condition as bonuses/conditions.py defines it, which the segments share.
    department = ModelMultipleIdsFilter(
        queryset=Department.objects.all(), label=_("Department"), method=condition(conditions.in_departments)
    )
    city = ModelMultipleIdsFilter(queryset=City.objects.all(), label=_("City"), method=condition(conditions.in_cities))
    position = ModelMultipleIdsFilter(
        queryset=Position.objects.all(), label=_("Position"), method=condition(conditions.in_positions)
    )
    tags = ModelMultipleIdsFilter(queryset=Tag.objects.all(), label=_("Tags"), method=condition(conditions.with_tags))
    balance_min = django_filters.NumberFilter(label=_("Balance from"), method=condition(conditions.balance_from))
    balance_max = django_filters.NumberFilter(label=_("Balance to"), method=condition(conditions.balance_to))
    hired_after = django_filters.DateFilter(
        label=_("Hired from"), widget=DATE_INPUT, method=condition(conditions.hired_from)
    )
    hired_before = django_filters.DateFilter(
        label=_("Hired until"), widget=DATE_INPUT, method=condition(conditions.hired_until)
    )
    segment = django_filters.ModelChoiceFilter(
        queryset=Segment.objects.all(), label=_("Segment"), method="in_segment", empty_label=_("Any segment")
    )

    class Meta:
        model = get_user_model()
        fields = []

    def __init__(self, *args, departments=None, **kwargs):
        super().__init__(*args, **kwargs)
        if departments is not None:  # a manager filters within the departments they manage
            self.filters["department"].queryset = departments

    def in_segment(self, queryset, name, value):
        """The members of a saved segment today (its conditions as the daily run reads them)."""
        return queryset.filter(pk__in=campaign_rules.members(value).values("pk"))

    def search(self, queryset, name, value):
        value = value.strip()
        if not value:
            return queryset
        return queryset.filter(
            Q(full_name__icontains=value) | Q(email__icontains=value) | Q(employee_number__iexact=value)
        )


class LogFilter(django_filters.FilterSet):
    employee = EmployeeChoiceFilter()
    department = ModelMultipleIdsFilter(
        field_name="user__department", queryset=Department.objects.all(), label=_("Department"), distinct=False
    )  # an entry has one employee in one department: DISTINCT would only make a million entries slow
    kind = django_filters.MultipleChoiceFilter(choices=Entry.Kind.choices, label=_("Event types"))
    currency = django_filters.ModelChoiceFilter(
        queryset=Currency.objects.all(), label=_("Currency"), empty_label=_("All currencies")
    )
    actor = django_filters.ModelChoiceFilter(
        queryset=get_user_model().objects.all(),
        label=_("Actor"),
        # The autocomplete offers who posted entries the viewer may read (a manager: to their departments).
        widget=EmployeeAutocomplete(
            attrs={"data-autocomplete": format_lazy("{}?all=1&actors=1", reverse_lazy("bonuses:employee-autocomplete"))}
        ),
    )
    period_from = CompanyDayFilter(field_name="at", label=_("From"))
    period_to = CompanyDayFilter(field_name="at", until=True, label=_("To"))
    comment = django_filters.CharFilter(lookup_expr="icontains", label=_("Comment contains"))
    batch = django_filters.ModelChoiceFilter(queryset=Batch.objects.all(), label=_("Batch"), widget=forms.HiddenInput)
    campaign = django_filters.ModelChoiceFilter(
        queryset=Campaign.objects.all(), label=_("Campaign"), method="of_campaign", empty_label=_("Any campaign")
    )

    class Meta:
        model = Entry
        fields = []
        form = PeriodForm

    def of_campaign(self, queryset, name, value):
        """The entries of the batches the campaign paid."""
        return queryset.filter(batch__in=CampaignAward.objects.filter(campaign=value).values("batch"))


class BudgetFilter(django_filters.FilterSet):
    """The budgets table's filters (its currency is the page's own choice, as on the accrual table)."""

    q = django_filters.CharFilter(method="search", label=_("Search"))
    department = ModelMultipleIdsFilter(
        field_name="managed_departments", queryset=Department.objects.all(), label=_("Department"), distinct=True
    )

    class Meta:
        model = get_user_model()
        fields = []

    def search(self, queryset, name, value):
        value = value.strip()
        return queryset.filter(Q(full_name__icontains=value) | Q(email__icontains=value)) if value else queryset


class SegmentMembersFilter(django_filters.FilterSet):
    """A segment's members "as of" a day (default today): the day decides who they are, as the daily run's."""

    on = django_filters.DateFilter(label=_("As of"), widget=DATE_INPUT, method="as_of")

    class Meta:
        model = get_user_model()
        fields = []

    def __init__(self, *args, segment=None, **kwargs):
        self.segment = segment
        super().__init__(*args, **kwargs)

    def as_of(self, queryset, name, value):
        return queryset  # filter_queryset reads the day

    @property
    def qs(self):
        """The members as of the day chosen (today when none is): unlike other filters, unbound filters too."""
        if not hasattr(self, "_qs"):
            day = self.form.cleaned_data.get("on") if self.is_bound and self.form.is_valid() else None
            self._qs = campaign_rules.members(self.segment, day).filter(pk__in=self.queryset.values("pk"))
        return self._qs
