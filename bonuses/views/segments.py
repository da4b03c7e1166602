"""Segments on screens (administrators): the list, a segment's page (its live count and members "as of" a day,
with the Excel export), and the form that creates or changes one (services.save_segment decides)."""

from functools import cached_property

from django.contrib import messages
from django.shortcuts import get_object_or_404, redirect
from django.utils.translation import gettext as _
from django.views.generic import FormView, ListView
from django_filters.views import FilterView

from giftshop.web.views import AdministratorRequiredMixin, BoundedTableMixin, ExportMixin, ServiceFormMixin
from users.models import User

from .. import campaign_rules, services
from ..campaign_forms import SegmentForm, initial_from_accrual_filter
from ..exports import SegmentMembersExport
from ..filters import SegmentMembersFilter
from ..models import Segment
from ..tables import SegmentMemberTable


class SegmentListView(AdministratorRequiredMixin, ListView):
    template_name = "bonuses/segment_list.html"
    paginate_by = 50

    def get_queryset(self):
        return Segment.objects.all()


class SegmentCreateView(AdministratorRequiredMixin, ServiceFormMixin, FormView):
    form_class = SegmentForm
    template_name = "bonuses/segment_form.html"
    segment = None

    def get_initial(self):
        if self.segment:
            return SegmentForm.initial_of(self.segment)
        # "Save as segment" on the accrual table: its current filter.
        return initial_from_accrual_filter(self.request.GET, campaign_rules.today()) if self.request.GET else {}

    def get_context_data(self, **kwargs):
        return {**super().get_context_data(**kwargs), "segment": self.segment}

    def refusal_field_for(self, error):
        return getattr(error, "field", None)

    def perform(self, form):
        return services.save_segment(actor=self.request.user, segment=self.segment, **form.cleaned_data)

    def done(self, form, result):
        messages.success(self.request, _("The segment “%(name)s” is saved.") % {"name": result.name})
        return redirect("bonuses:segment-detail", pk=result.pk)


class SegmentUpdateView(SegmentCreateView):
    def dispatch(self, request, *args, **kwargs):
        self.segment = get_object_or_404(Segment, pk=kwargs["pk"])
        return super().dispatch(request, *args, **kwargs)


class SegmentDetailView(AdministratorRequiredMixin, ExportMixin, BoundedTableMixin, FilterView):
    """The segment's members as of a day (default today) and how many they are."""

    template_name = "bonuses/segment_detail.html"
    filterset_class = SegmentMembersFilter
    table_class = SegmentMemberTable
    table_pagination = {"per_page": 50}
    export_class = SegmentMembersExport
    export_ordering = ("full_name", "pk")

    @cached_property
    def segment(self):
        return get_object_or_404(Segment, pk=self.kwargs["pk"])

    def get_queryset(self):
        return User.objects.select_related("department")

    def get_filterset_kwargs(self, filterset_class):
        return {**super().get_filterset_kwargs(filterset_class), "segment": self.segment}

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        filterset = context["filter"]
        context["segment"] = self.segment
        context["count"] = filterset.qs.count() if not filterset.is_bound or filterset.is_valid() else None
        return context
