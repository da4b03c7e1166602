"""Administrator and manager screens: thin views over the services and selectors."""

from django.contrib import messages
from django.contrib.auth import get_user_model
from django.contrib.auth.mixins import LoginRequiredMixin, UserPassesTestMixin
from django.core.exceptions import PermissionDenied
from django.core.paginator import EmptyPage, PageNotAnInteger
from django.db.models import Min
from django.http import HttpResponse, JsonResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.html import format_html
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.utils.translation import ngettext
from django.views import View
from django.views.generic import FormView, TemplateView
from django_filters.views import FilterView
from django_tables2 import LazyPaginator, RequestConfig, SingleTableMixin

from . import exports, selectors, services
from .exceptions import BonusError
from .filters import EmployeeFilter, LogFilter
from .forms import (
    AccrualForm,
    AvailableBalanceForm,
    BulkAccrualForm,
    BulkSelectionForm,
    CurrencySettingsForm,
    WriteOffForm,
    parse_id,
)
from .models import Currency, Entry
from .tables import AccrualTable, LogTable
from .templatetags.points import points

PAGE_SIZES = (25, 50, 100, 200)
INVALID = 400  # a form with errors: shown again, with this status for programmatic callers


class AdministratorRequiredMixin(LoginRequiredMixin, UserPassesTestMixin):
    """Administrators only; others get 403, logged-out visitors the login page."""

    def test_func(self):
        return selectors.can_manage(self.request.user)


class GrantorRequiredMixin(AdministratorRequiredMixin):
    """Administrators and managers (who see only the departments they manage)."""

    def test_func(self):
        return selectors.can_grant(self.request.user)


class CurrencyMixin:
    """The currency a screen shows, from its URL; an unknown one shows the default currency.

    A POST never goes by this: its currency is the form's cleaned `currency` field.
    """

    def get_currency(self) -> Currency:
        if not hasattr(self, "_currency"):
            pk = parse_id(self.request.GET.get("currency", ""))
            currency = Currency.objects.filter(pk=pk).first() if pk else None
            self._currency = currency or services.get_currency()
        return self._currency


def manager_departments(user):
    """None for administrators (every department), else the departments the manager manages."""
    return selectors.managed_departments(user)


def safe_next(request, fallback: str) -> str:
    target = request.POST.get("next") or request.GET.get("next") or ""
    if url_has_allowed_host_and_scheme(target, {request.get_host()}, require_https=request.is_secure()):
        return target
    return fallback


def finish(request, url: str):
    """After a successful POST: htmx follows HX-Redirect, a plain form a redirect."""
    if request.htmx:
        return HttpResponse(status=204, headers={"HX-Redirect": url})
    return redirect(url)


def params_without(request, *names) -> list[tuple[str, str]]:
    """The query parameters, less `names`, as pairs (a key may repeat) for hidden inputs."""
    return [(key, value) for key, values in request.GET.lists() if key not in names for value in values]


def query_without(request, *names) -> str:
    params = request.GET.copy()
    for name in names:
        params.pop(name, None)
    return params.urlencode()


class BoundedTableMixin(SingleTableMixin):
    """Ordering from the URL, but the page size only from `get_table_pagination`: django-tables2
    would take any `per_page` from the URL, however large or negative."""

    def get_table(self, **kwargs):
        table = RequestConfig(self.request, paginate=False).configure(
            self.get_table_class()(data=self.get_table_data(), **kwargs)
        )
        page = parse_id(self.request.GET.get("page", ""))
        pagination = self.get_table_pagination(table)
        try:
            # Beyond 2**31 pages the offset would not fit the database's integers; no table is that long.
            table.paginate(page=page if page and page < 2**31 else 1, **pagination)
        except (EmptyPage, PageNotAnInteger):
            table.paginate(page=1, **pagination)
        return table


class AccrualTableView(GrantorRequiredMixin, CurrencyMixin, BoundedTableMixin, FilterView):
    table_class = AccrualTable
    filterset_class = EmployeeFilter
    template_name = "bonuses/accrual_list.html"

    def get_queryset(self):
        rows = selectors.accrual_table(self.request.user, self.get_currency())
        # Sorting by tags needs each employee's first tag, a GROUP BY worth paying for only then.
        return rows.annotate(first_tag=Min("tags__name")) if "tags" in self.request.GET.get("sort", "") else rows

    def get_filterset_kwargs(self, filterset_class):
        return {**super().get_filterset_kwargs(filterset_class), "departments": manager_departments(self.request.user)}

    def get_table_kwargs(self):
        return {"currency": self.get_currency()}

    def get_table_pagination(self, table):
        per_page = parse_id(self.request.GET.get("per_page", ""))
        return {"per_page": per_page if per_page in PAGE_SIZES else PAGE_SIZES[0]}

    def get(self, request, *args, **kwargs):
        if request.GET.get("export") == "xlsx":
            filterset = self.get_filterset(self.get_filterset_class())
            rows = filterset.qs.order_by("full_name", "pk") if filterset.is_valid() else self.get_queryset().none()
            return exports.xlsx_response(
                name="bonus-balances",
                title=_("Accrual of bonuses to users"),
                filters={_("Currency"): str(self.get_currency()), **exports.describe_filters(filterset.form)},
                columns=exports.ACCRUAL_COLUMNS,
                rows=exports.accrual_rows(rows, currency=self.get_currency()),
            )
        return super().get(request, *args, **kwargs)

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        currency = self.get_currency()
        keep = [("currency", currency.pk), ("per_page", context["table"].paginator.per_page)]
        context.update(
            currency=currency,
            currencies=Currency.objects.all(),
            page_sizes=PAGE_SIZES,
            matching=context["table"].paginator.count,
            filter_query=query_without(self.request, "page", "export"),
            params_but_currency=params_without(self.request, "currency", "page", "export"),
            params_but_per_page=params_without(self.request, "per_page", "page", "export"),
            filter_keep=keep,
            reset_query=f"currency={currency.pk}",
            wide_filters=["q"],
            is_administrator=selectors.can_manage(self.request.user),
        )
        return context


class AccrualCreateView(GrantorRequiredMixin, CurrencyMixin, View):
    """The "Add bonuses" modal of one row: GET shows it, POST accrues."""

    template_name = "bonuses/partials/accrual_form.html"

    def employee(self):
        employee = get_object_or_404(get_user_model(), pk=self.kwargs["pk"])
        # Deactivated or not: a manager opens the modal only of the people of their departments.
        if not selectors.all_employees_in_scope(self.request.user).filter(pk=employee.pk).exists():
            raise PermissionDenied(_("You may not grant bonuses to this employee."))
        return employee

    def render_form(self, employee, form, status=200):
        if status == INVALID:
            form.renew_key()
        context = {
            "employee": employee,
            "form": form,
            "currency": form.currency,
            "next": safe_next(self.request, reverse("bonuses:accrual-list")),
        }
        return render(self.request, self.template_name, context, status=status)

    def get(self, request, pk):
        return self.render_form(self.employee(), AccrualForm(currency=self.get_currency()))

    def post(self, request, pk):
        employee = self.employee()
        form = AccrualForm(request.POST, currency=self.get_currency())
        if form.is_valid():
            currency = form.cleaned_data["currency"]
            try:
                entry = services.accrue(
                    user=employee,
                    actor=request.user,
                    currency=currency,
                    source=source_for(request.user),
                    idempotency_key=form.cleaned_data["idempotency_key"],
                    **form.service_options(),
                )
            except BonusError as error:
                form.add_error(None, error.message)
            else:
                messages.success(
                    request,
                    _("%(amount)s %(currency)s added to %(name)s. New balance: %(balance)s.")
                    % {
                        "amount": points(entry.amount, currency),
                        "currency": currency,
                        "name": employee.full_name,
                        "balance": points(entry.balance_after, currency),
                    },
                )
                return finish(request, safe_next(request, reverse("bonuses:accrual-list")))
        return self.render_form(employee, form, status=INVALID)


def source_for(user) -> str:
    return "manual" if selectors.can_manage(user) else "manager"


class AccrualBulkView(GrantorRequiredMixin, CurrencyMixin, View):
    """The bulk "Add bonuses" modal: to the selected rows, or to every employee matching the filter."""

    template_name = "bonuses/partials/accrual_bulk_form.html"

    def recipients(self, form, currency) -> list[int]:
        """The ids of the form's selection; PermissionDenied (403) for anyone outside the viewer's scope."""
        return selectors.bulk_recipients(self.request.user, currency=currency, **form.selection())

    def render_form(self, form, ids, status=200):
        if status == INVALID:
            form.renew_key()
        context = {
            "form": form,
            "count": len(ids),
            "currency": form.currency,
            "next": safe_next(self.request, reverse("bonuses:accrual-list")),
        }
        return render(self.request, self.template_name, context, status=status)

    def get(self, request):
        selection = BulkSelectionForm(request.GET)
        valid = selection.is_valid()
        ids = self.recipients(selection, self.get_currency())
        data = selection.selection()
        initial = {
            "employees": "" if data["select_all"] else ",".join(map(str, ids)),
            "select_all": data["select_all"],
            "filters": data["filters"],
        }
        form = BulkAccrualForm(currency=self.get_currency(), initial=initial)
        if not valid:  # a forged selection: the modal opens for nobody and says why
            form.cleaned_data = {}  # what `add_error` needs of a form that was not submitted
            form.add_error(None, [error for errors in selection.errors.values() for error in errors])
        return self.render_form(form, ids, status=200 if valid else INVALID)

    def post(self, request):
        form = BulkAccrualForm(request.POST, currency=self.get_currency())
        valid = form.is_valid()
        ids = self.recipients(form, form.currency)  # the scope is checked even when the rest is refused
        if valid:
            currency = form.cleaned_data["currency"]
            try:
                batch = services.accrue_many(
                    users=ids,
                    actor=request.user,
                    currency=currency,
                    source=source_for(request.user),
                    idempotency_key=form.cleaned_data["idempotency_key"],
                    **form.service_options(),
                )
            except BonusError as error:
                form.add_error(None, error.message)
            else:
                messages.success(
                    request,
                    format_html(
                        '{} <a href="{}?batch={}" class="alert-link">{}</a>',
                        ngettext(
                            "%(count)d employee received %(amount)s %(currency)s, %(total)s in all.",
                            "%(count)d employees received %(amount)s %(currency)s each, %(total)s in all.",
                            batch.employee_count,
                        )
                        % {
                            "count": batch.employee_count,
                            "amount": points(batch.amount, currency),
                            "currency": currency,
                            "total": points(batch.total, currency),
                        },
                        reverse("bonuses:log-list"),
                        batch.pk,
                        _("See the batch in the log"),
                    ),
                )
                return finish(request, safe_next(request, reverse("bonuses:accrual-list")))
        return self.render_form(form, ids, status=INVALID)


class WriteOffCreateView(AdministratorRequiredMixin, FormView):
    form_class = WriteOffForm
    template_name = "bonuses/write_off.html"

    def get_initial(self):
        return {"currency": services.get_currency()}

    def form_valid(self, form):
        data = form.cleaned_data
        try:
            entry = services.write_off(
                user=data["employee"],
                amount=data["amount"],
                comment=data["comment"],
                currency=data["currency"],
                actor=self.request.user,
                idempotency_key=data["idempotency_key"],
            )
        except BonusError as error:
            form.add_error("amount", error.message)
            return self.form_invalid(form)
        messages.success(
            self.request,
            _("%(amount)s %(currency)s written off from %(name)s. New balance: %(balance)s.")
            % {
                "amount": points(-entry.amount, data["currency"]),
                "currency": data["currency"],
                "name": data["employee"].full_name,
                "balance": points(entry.balance_after, data["currency"]),
            },
        )
        query = f"?employee={data['employee'].pk}&kind={Entry.Kind.MANUAL_WRITE_OFF}&currency={data['currency'].pk}"
        return redirect(reverse("bonuses:log-list") + query)

    def form_invalid(self, form):
        form.renew_key()
        response = super().form_invalid(form)
        response.status_code = INVALID
        return response

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        form = context["form"]
        employee = form.cleaned_data.get("employee") if form.is_bound and hasattr(form, "cleaned_data") else None
        currency = (form.cleaned_data.get("currency") if employee else None) or services.get_currency()
        context.update(
            available=selectors.balance(employee, currency).active if employee else None,
            currency=currency,
            tab="write-off",
        )
        return context


class AvailableBalanceView(AdministratorRequiredMixin, View):
    """The "Available bonuses" figure of the write-off form, for the chosen employee and currency."""

    def get(self, request):
        form = AvailableBalanceForm(request.GET)
        valid = form.is_valid()
        employee = form.cleaned_data.get("employee") if valid else None
        currency = (form.cleaned_data.get("currency") if valid else None) or services.get_currency()
        available = selectors.balance(employee, currency).active if employee else None
        context = {"available": available, "currency": currency}
        return render(request, "bonuses/partials/available.html", context, status=200 if valid else INVALID)


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


class LogListView(GrantorRequiredMixin, BoundedTableMixin, FilterView):
    table_class = LogTable
    filterset_class = LogFilter
    template_name = "bonuses/log_list.html"
    table_pagination = {"per_page": 50, "paginator_class": LazyPaginator}

    def get_queryset(self):
        return selectors.log_entries(self.request.user)

    def get_filterset(self, filterset_class):
        filterset = super().get_filterset(filterset_class)
        departments = manager_departments(self.request.user)
        if departments is not None:  # a manager chooses only among their departments' people
            user = self.request.user
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

    def get(self, request, *args, **kwargs):
        if request.GET.get("export") == "xlsx":
            filterset = self.get_filterset(self.get_filterset_class())
            rows = filterset.qs.order_by("-at", "-id") if filterset.is_valid() else self.get_queryset().none()
            return exports.xlsx_response(
                name="bonus-log",
                title=_("Bonus accrual and spending log"),
                filters=exports.describe_filters(filterset.form),
                columns=exports.LOG_COLUMNS,
                rows=exports.log_rows(rows),
            )
        return super().get(request, *args, **kwargs)

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        context["filter_query"] = query_without(self.request, "page", "export")
        context["wide_filters"] = ["employee", "kind", "actor", "comment"]
        filterset = context["filter"]
        valid = not filterset.is_bound or filterset.is_valid()
        # The pages are lazy (they count nothing); one count of what matches costs a few per cent of
        # the page on a million entries (a comment search, which reads every entry, about a third more).
        context["matching"] = filterset.qs.count() if valid else None
        if not valid:
            context["table"].empty_text = _("Correct the filter to see the entries.")
        context["batch_filter"] = filterset.form["batch"].value() or None
        context["without_batch"] = query_without(self.request, "batch", "page", "export")
        return context


class SettingsView(AdministratorRequiredMixin, TemplateView):
    template_name = "bonuses/settings.html"

    def get_context_data(self, **kwargs):
        return {**super().get_context_data(**kwargs), "currencies": Currency.objects.all(), "tab": "currencies"}


class CurrencySettingsView(AdministratorRequiredMixin, FormView):
    form_class = CurrencySettingsForm
    template_name = "bonuses/currency_settings.html"

    def get_form_kwargs(self):
        return {**super().get_form_kwargs(), "instance": get_object_or_404(Currency, pk=self.kwargs["pk"])}

    def form_valid(self, form):
        try:
            services.update_currency_settings(form.instance, **form.cleaned_data)
        except BonusError as error:
            form.add_error(None, error.message)
            return self.form_invalid(form)
        messages.success(self.request, _("The settings of %(currency)s are saved.") % {"currency": form.instance})
        return redirect("bonuses:settings")

    def form_invalid(self, form):
        response = super().form_invalid(form)
        response.status_code = INVALID
        return response

    def get_context_data(self, **kwargs):
        return {**super().get_context_data(**kwargs), "tab": "currencies"}
