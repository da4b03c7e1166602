"""The accrual table (filters, sorting, Excel export) with its "Add bonuses" modals, one row's and the
bulk one, and the employee autocomplete of every employee field."""

from django.contrib import messages
from django.contrib.auth import get_user_model
from django.core.exceptions import PermissionDenied
from django.db.models import Min
from django.http import JsonResponse
from django.shortcuts import get_object_or_404
from django.urls import reverse
from django.utils.html import format_html
from django.utils.translation import gettext as _
from django.utils.translation import ngettext
from django.views import View
from django.views.generic import FormView
from django_filters.views import FilterView

from giftshop.templatetags.points import points
from giftshop.web.forms import parse_id
from giftshop.web.views import (
    INVALID,
    BoundedTableMixin,
    GrantorRequiredMixin,
    ServiceFormMixin,
    redirect_after_post,
)

from .. import rules, selectors, services
from ..exceptions import BonusError
from ..exports import AccrualExport
from ..filters import EmployeeFilter
from ..forms import AccrualForm, BulkAccrualForm, BulkSelectionForm
from ..models import GrantRequest
from ..tables import AccrualTable
from .approvals import requested
from .currency import BulkModalMixin, CurrencyModalMixin, CurrencyTableMixin

PAGE_SIZES = (25, 50, 100, 200)


def accrual_source(user) -> str:
    """What an accrual by this user is, in the lot: an administrator's ("manual") or a manager's."""
    return "manual" if selectors.can_manage(user) else "manager"


class AccrualListView(GrantorRequiredMixin, CurrencyTableMixin, BoundedTableMixin, FilterView):
    table_class = AccrualTable
    export_class = AccrualExport
    filterset_class = EmployeeFilter
    template_name = "bonuses/accrual_list.html"
    export_ordering = ("full_name", "pk")

    def get_queryset(self):
        rows = selectors.accrual_table(self.request.user, self.get_currency())
        # Sorting by tags needs each employee's first tag, a GROUP BY worth paying for only then.
        return rows.annotate(first_tag=Min("tags__name")) if "tags" in self.request.GET.get("sort", "") else rows

    def get_filterset_kwargs(self, filterset_class):
        departments = selectors.managed_departments(self.request.user)
        return {**super().get_filterset_kwargs(filterset_class), "departments": departments}

    def get_table_kwargs(self):
        return {**super().get_table_kwargs(), "viewer": self.request.user}

    def get_table_pagination(self, table):
        per_page = parse_id(self.request.GET.get("per_page", ""))
        return {"per_page": per_page if per_page in PAGE_SIZES else PAGE_SIZES[0]}

    def filter_keep(self, table):
        return [*super().filter_keep(table), ("per_page", table.paginator.per_page)]

    def get_context_data(self, **kwargs):
        return {
            **super().get_context_data(**kwargs),
            "page_sizes": PAGE_SIZES,
            "is_administrator": selectors.can_manage(self.request.user),
            **budget_context(self.request.user, self.get_currency()),
        }


def budget_context(viewer, currency) -> dict:
    """What the accrual screens say of budgets: a manager's budget left, or that the currency has no budgets.

    `budget`: the manager's figures (None for an administrator, or without a budget policy); `budget_left`
    the left as the bulk modal's total reads it ("1,250"); `no_budget_policy`: managers cannot grant it.
    """
    figures = selectors.budget(viewer, currency) if selectors.grants_from_budget(viewer) else None
    return {
        "budget": figures,
        "budget_left": rules.grouped(figures.left) if figures else None,
        "no_budget_policy": not currency.budget_period,
    }


def self_award_refused(form, viewer, employees: list[int]) -> None:
    """A modal opened for oneself (or a selection that includes oneself) says at once why it will be refused."""
    try:
        services.check_grant(viewer, employees, form.currency)
    except BonusError as error:
        form.cleaned_data = getattr(form, "cleaned_data", {})  # what `add_error` needs of a form not submitted
        form.add_error(None, error.message)


class AccrualFormView(GrantorRequiredMixin, CurrencyModalMixin, ServiceFormMixin, FormView):
    """What both "Add bonuses" modals share: the table's currency, where to go back, who accrues how."""

    back_to = "bonuses:accrual-list"

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        return {**context, **budget_context(self.request.user, context["currency"])}

    def accrual(self, form) -> dict:
        """The service's arguments besides whom it reaches."""
        data = form.cleaned_data
        return {
            "actor": self.request.user,
            "currency": data["currency"],
            "source": accrual_source(self.request.user),
            "idempotency_key": data["idempotency_key"],
            **form.service_options(),
        }


class AccrualCreateView(AccrualFormView):
    """The "Add bonuses" modal of one row: GET shows it, POST accrues."""

    form_class = AccrualForm
    template_name = "bonuses/partials/accrual_form.html"

    def employee_in_scope(self):
        """The row's employee: 404 if unknown, 403 outside the viewer's scope, before the form is read."""
        employee = get_object_or_404(get_user_model(), pk=self.kwargs["pk"])
        # Deactivated or not: a manager opens the modal only of the people of their departments.
        if not selectors.all_employees_in_scope(self.request.user).filter(pk=employee.pk).exists():
            raise PermissionDenied(_("You may not grant bonuses to this employee."))
        return employee

    def get(self, request, *args, **kwargs):
        self.employee = self.employee_in_scope()
        form = self.get_form()
        self_award_refused(form, request.user, [self.employee.pk])
        return self.render_to_response(self.get_context_data(form=form))

    def post(self, request, *args, **kwargs):
        self.employee = self.employee_in_scope()
        return super().post(request, *args, **kwargs)

    def get_context_data(self, **kwargs):
        return {**super().get_context_data(**kwargs), "employee": self.employee}

    def perform(self, form):
        return services.accrue(user=self.employee, **self.accrual(form))

    def done(self, form, entry):
        if isinstance(entry, GrantRequest):
            return requested(self, entry)
        currency = form.cleaned_data["currency"]
        messages.success(
            self.request,
            _("%(amount)s %(currency)s added to %(name)s. New balance: %(balance)s.")
            % {
                "amount": points(entry.amount, currency),
                "currency": currency,
                "name": self.employee.full_name,
                "balance": points(entry.balance_after, currency),
            },
        )
        return redirect_after_post(self.request, self.next_url())


class AccrualBulkView(BulkModalMixin, AccrualFormView):
    """The bulk "Add bonuses" modal: to the selected rows, or to every employee matching the filter."""

    form_class = BulkAccrualForm
    template_name = "bonuses/partials/accrual_bulk_form.html"

    def selected(self, form, currency) -> list[int]:
        """The ids of the form's selection; PermissionDenied (403) for anyone outside the viewer's scope."""
        return selectors.bulk_recipients(self.request.user, currency=currency, **form.selection())

    def get(self, request, *args, **kwargs):
        selection = BulkSelectionForm(request.GET)
        valid = selection.is_valid()
        self.recipients = self.selected(selection, self.get_currency())
        form = BulkAccrualForm(currency=self.get_currency(), initial=self.initial_selection(selection))
        if not valid:  # a forged selection: the modal opens for nobody and says why
            form.cleaned_data = {}  # what `add_error` needs of a form that was not submitted
            form.add_error(None, [error for errors in selection.errors.values() for error in errors])
        elif self.recipients:
            self_award_refused(form, request.user, self.recipients)
        return self.render_to_response(self.get_context_data(form=form), status=200 if valid else INVALID)

    def perform(self, form):
        return services.accrue_many(users=self.recipients, **self.accrual(form))

    def done(self, form, batch):
        if isinstance(batch, GrantRequest):
            return requested(self, batch)
        currency = form.cleaned_data["currency"]
        summary = ngettext(
            "%(count)d employee received %(amount)s %(currency)s, %(total)s in all.",
            "%(count)d employees received %(amount)s %(currency)s each, %(total)s in all.",
            batch.employee_count,
        ) % {
            "count": batch.employee_count,
            "amount": points(batch.amount, currency),
            "currency": currency,
            "total": points(batch.total, currency),
        }
        link = format_html(
            '{} <a href="{}?batch={}" class="alert-link">{}</a>',
            summary,
            reverse("bonuses:log-list"),
            batch.pk,
            _("See the batch in the log"),
        )
        messages.success(self.request, link)
        return redirect_after_post(self.request, self.next_url())


class EmployeeAutocompleteView(GrantorRequiredMixin, View):
    """Employees whose name, e-mail or number contains the typed text; 20 at most."""

    def get(self, request):
        query = request.GET.get("q", "").strip()
        if len(query) < 2:
            return JsonResponse({"results": []})
        employees = selectors.employees_in_scope(request.user)
        if request.GET.get("actors") == "1":  # the log's actor filter
            employees = selectors.actors_in_scope(request.user)
        elif request.GET.get("all") == "1":  # the log filters by former employees too
            employees = selectors.all_employees_in_scope(request.user)
        found = selectors.search_employees(employees, query)[:20]
        return JsonResponse({"results": [{"id": u.pk, "text": f"{u.full_name} ({u.email})"} for u in found]})
