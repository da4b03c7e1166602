"""The filter of the administrators' order list; every value lives in the URL."""

import django_filters
from django.utils.translation import gettext_lazy as _

from giftshop.web.filters import CompanyDayFilter, EmployeeChoiceFilter, ModelMultipleIdsFilter, PeriodForm
from users.models import Department

from .models import Gift, Order


class OrderFilter(django_filters.FilterSet):
    number = django_filters.NumberFilter(field_name="pk", label=_("Order number"))
    status = django_filters.MultipleChoiceFilter(choices=Order.Status.choices, label=_("Status"))
    employee = EmployeeChoiceFilter()
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
