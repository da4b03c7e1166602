"""The filters of the accrual table and of the log; every value lives in the URL."""

from datetime import UTC

import django_filters
from django import forms
from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError
from django.db.models import Q
from django.urls import reverse_lazy
from django.utils.text import format_lazy
from django.utils.translation import gettext_lazy as _

from users.models import City, Department, Position, Tag

from . import rules
from .forms import EmployeeAutocomplete, parse_id
from .models import Batch, Currency, Entry, Gift, Order

DATE_INPUT = forms.DateInput(attrs={"type": "date"})


class CompanyDayFilter(django_filters.DateFilter):
    """From 00:00 of a day, or until its end, in the company's calendar; comparing instants keeps
    the time index usable (a date cast of the column would not)."""

    def __init__(self, *args, until: bool = False, **kwargs):
        self.until = until
        super().__init__(*args, widget=DATE_INPUT, **kwargs)

    def filter(self, queryset, value):
        if not value:
            return queryset
        # A bound at the calendar's very ends (0001-01-01, 9999-12-31) bounds nothing.
        moment = _midnight(rules.day_after(value, 1) if self.until else value)
        if moment is None:
            return queryset
        return queryset.filter(**{f"{self.field_name}__{'lt' if self.until else 'gte'}": moment})


def _midnight(day):
    """00:00 of `day` in the company time zone; None where there is no such day or instant (in UTC)."""
    if day is None:
        return None
    moment = rules.start_of_day(day)
    try:
        moment.astimezone(UTC)
    except OverflowError:
        return None
    return moment


class PeriodForm(forms.Form):
    """A filter form with a period (`period_from`, `period_to`): the start may not be after the end."""

    def clean(self):
        cleaned = super().clean()
        start, end = cleaned.get("period_from"), cleaned.get("period_to")
        if start and end and start > end:
            self.add_error("period_to", _("The end of the period is before its start."))
        return cleaned


class ModelMultipleIdsField(django_filters.fields.ModelMultipleChoiceField):
    def _check_values(self, value):
        # Before any query: SQLite cannot bind a 30-digit integer, and "²" passes str.isdigit.
        for pk in value:
            if parse_id(pk) is None:
                error = self.error_messages["invalid_pk_value"]
                raise ValidationError(error, code="invalid_pk_value", params={"pk": pk})
        return super()._check_values(value)


class ModelMultipleIdsFilter(django_filters.ModelMultipleChoiceFilter):
    """A choice of several rows by id, refusing whatever is not an id."""

    field_class = ModelMultipleIdsField


class EmployeeFilter(django_filters.FilterSet):
    q = django_filters.CharFilter(method="search", label=_("Search"))
    department = ModelMultipleIdsFilter(queryset=Department.objects.all(), label=_("Department"), distinct=False)
    city = ModelMultipleIdsFilter(queryset=City.objects.all(), label=_("City"), distinct=False)
    position = ModelMultipleIdsFilter(queryset=Position.objects.all(), label=_("Position"), distinct=False)
    tags = ModelMultipleIdsFilter(queryset=Tag.objects.all(), label=_("Tags"), distinct=True)
    balance_min = django_filters.NumberFilter(field_name="balance", lookup_expr="gte", label=_("Balance from"))
    balance_max = django_filters.NumberFilter(field_name="balance", lookup_expr="lte", label=_("Balance to"))
    hired_after = django_filters.DateFilter(
        field_name="hire_date", lookup_expr="gte", label=_("Hired from"), widget=DATE_INPUT
    )
    hired_before = django_filters.DateFilter(
        field_name="hire_date", lookup_expr="lte", label=_("Hired until"), widget=DATE_INPUT
    )

    class Meta:
        model = get_user_model()
        fields = []

    def __init__(self, *args, departments=None, **kwargs):
        super().__init__(*args, **kwargs)
        if departments is not None:  # a manager filters within the departments they manage
            self.filters["department"].queryset = departments

    def search(self, queryset, name, value):
        value = value.strip()
        if not value:
            return queryset
        return queryset.filter(
            Q(full_name__icontains=value) | Q(email__icontains=value) | Q(employee_number__iexact=value)
        )


class LogFilter(django_filters.FilterSet):
    employee = django_filters.ModelChoiceFilter(
        field_name="user",
        queryset=get_user_model().objects.all(),
        label=_("Employee"),
        widget=EmployeeAutocomplete(former_too=True),
    )
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

    class Meta:
        model = Entry
        fields = []
        form = PeriodForm


class OrderFilter(django_filters.FilterSet):
    number = django_filters.NumberFilter(field_name="pk", label=_("Order number"))
    status = django_filters.MultipleChoiceFilter(choices=Order.Status.choices, label=_("Status"))
    employee = django_filters.ModelChoiceFilter(
        field_name="user",
        queryset=get_user_model().objects.all(),
        label=_("Employee"),
        widget=EmployeeAutocomplete(former_too=True),
    )
    department = ModelMultipleIdsFilter(
        field_name="user__department", queryset=Department.objects.all(), label=_("Department")
    )
    gift = django_filters.ModelChoiceFilter(queryset=Gift.objects.all(), label=_("Gift"), empty_label=_("All gifts"))
    period_from = CompanyDayFilter(field_name="created_at", label=_("From"))
    period_to = CompanyDayFilter(field_name="created_at", until=True, label=_("To"))

    class Meta:
        model = Order
        fields = []
        form = PeriodForm
