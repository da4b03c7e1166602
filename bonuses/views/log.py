"""The accrual and spending log: filters, a lazy paginator, the Excel export."""

from django.utils.translation import gettext as _
from django_filters.views import FilterView
from django_tables2 import LazyPaginator

from giftshop.web.views import BoundedTableMixin, ExportMixin, GrantorRequiredMixin

from .. import selectors
from ..exports import LogExport
from ..filters import LogFilter
from ..tables import LogTable


class LogListView(GrantorRequiredMixin, ExportMixin, BoundedTableMixin, FilterView):
    table_class = LogTable
    filterset_class = LogFilter
    template_name = "bonuses/log_list.html"
    table_pagination = {"per_page": 50, "paginator_class": LazyPaginator}
    export_class = LogExport
    export_ordering = ("-at", "-id")

    def get_queryset(self):
        return selectors.log_entries(self.request.user)

    def get_filterset(self, filterset_class):
        filterset = super().get_filterset(filterset_class)
        user = self.request.user
        departments = selectors.managed_departments(user)
        if departments is not None:  # a manager chooses only among their departments' people
            choices = {
                "department": departments,
                "employee": selectors.all_employees_in_scope(user),
                "actor": selectors.actors_in_scope(user),
                "batch": selectors.batches_in_scope(user),
            }
            for name, queryset in choices.items():
                filterset.filters[name].queryset = queryset
                filterset.form.fields[name].queryset = queryset
        return filterset

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        context["wide_filters"] = ["employee", "kind", "actor", "comment"]
        filterset = context["filter"]
        valid = not filterset.is_bound or filterset.is_valid()
        # The pages are lazy (they count nothing); one count of what matches costs a few per cent of
        # the page on a million entries (a comment search, which reads every entry, about a third more).
        context["matching"] = filterset.qs.count() if valid else None
        if not valid:
            context["table"].empty_text = _("Correct the filter to see the entries.")
        context["batch_filter"] = filterset.form["batch"].value() or None
        context["batch_page"] = getattr(filterset.form, "cleaned_data", {}).get("batch") if valid else None
        return context
