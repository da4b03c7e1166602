"""Filter pieces every list shares: days of the company's calendar, a period, choices of rows by id."""

from datetime import UTC

import django_filters
from django import forms
from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _

from bonuses import rules

from .forms import DATE_INPUT, EmployeeAutocomplete, parse_id


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
        moment = midnight(rules.day_after(value, 1) if self.until else value)
        if moment is None:
            return queryset
        return queryset.filter(**{f"{self.field_name}__{'lt' if self.until else 'gte'}": moment})


def midnight(day):
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


class EmployeeChoiceFilter(django_filters.ModelChoiceFilter):
    """The rows of one employee (`user`), former employees too, chosen with the autocomplete."""

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("field_name", "user")
        kwargs.setdefault("label", _("Employee"))
        kwargs.setdefault("widget", EmployeeAutocomplete(former_too=True))
        super().__init__(*args, queryset=get_user_model().objects.all(), **kwargs)
