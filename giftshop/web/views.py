"""What the views of every screen share: who may open them, bounded tables, the Excel export branch,
forms that call a service, and where to go after a POST."""

from django.contrib.auth.mixins import LoginRequiredMixin, UserPassesTestMixin
from django.core.paginator import EmptyPage, PageNotAnInteger
from django.http import HttpResponse
from django.shortcuts import redirect
from django.utils.http import url_has_allowed_host_and_scheme
from django_tables2 import RequestConfig, SingleTableMixin

from bonuses import selectors
from bonuses.exceptions import BonusError

from .forms import IdempotentForm, parse_id
from .xlsx import SheetExport, describe_filters

INVALID = 400  # a form with errors: shown again, with this status for programmatic callers


class AdministratorRequiredMixin(LoginRequiredMixin, UserPassesTestMixin):
    """Administrators only; others get 403, logged-out visitors the login page."""

    def test_func(self):
        return selectors.can_manage(self.request.user)


class GrantorRequiredMixin(LoginRequiredMixin, UserPassesTestMixin):
    """Those who may grant bonuses: administrators, and managers (who see only the departments they
    manage); others get 403, logged-out visitors the login page."""

    def test_func(self):
        return selectors.can_grant(self.request.user)


def safe_next(request, fallback: str) -> str:
    """The `next` address a form was given, if it stays on this site; else `fallback`."""
    target = request.POST.get("next") or request.GET.get("next") or ""
    if url_has_allowed_host_and_scheme(target, {request.get_host()}, require_https=request.is_secure()):
        return target
    return fallback


def redirect_after_post(request, url: str):
    """After a successful POST: htmx follows HX-Redirect (the modal's page reloads), a plain form a redirect."""
    if request.htmx:
        return HttpResponse(status=204, headers={"HX-Redirect": url})
    return redirect(url)


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


class ExportMixin:
    """`?export=xlsx` on a filtered list (a django-filter `FilterView`): every row the filter matches,
    all pages, as the sheet of `export_class`, ordered by `export_ordering`. An invalid filter exports
    no rows, and the sheet's title says why."""

    export_class: type[SheetExport]
    export_ordering: tuple[str, ...]

    def get_export(self) -> SheetExport:
        return self.export_class()

    def export_filters(self, filterset) -> dict[str, str]:
        """What the sheet's title and the file's name say about the rows: the filters in use."""
        return describe_filters(filterset.form)

    def get(self, request, *args, **kwargs):
        if request.GET.get("export") != "xlsx":
            return super().get(request, *args, **kwargs)
        filterset = self.get_filterset(self.get_filterset_class())
        rows = filterset.qs.order_by(*self.export_ordering) if filterset.is_valid() else self.get_queryset().none()
        return self.get_export().response(rows, filters=self.export_filters(filterset))


class ServiceFormMixin:
    """A form view whose valid form calls one service (a `FormView` or `CreateView`'s form handling).

    `perform(form)` calls the service and returns what it made; `done(form, result)` answers the
    success (a message and a redirect). A `BonusError` the service raises becomes an error of the form
    (on `refusal_field_for(error)`, by default `refusal_field`; None: the whole form), and a refused or
    invalid form is shown again with status 400, with a new idempotency key: its corrected submission
    is a new request.
    """

    refusal_field: str | None = None

    def perform(self, form):
        raise NotImplementedError

    def done(self, form, result):
        raise NotImplementedError

    def form_valid(self, form):
        try:
            result = self.perform(form)
        except BonusError as error:
            form.add_error(self.refusal_field_for(error), error.message)
            return self.form_invalid(form)
        return self.done(form, result)

    def refusal_field_for(self, error: BonusError) -> str | None:
        """The field a refusal is shown next to (None: the whole form)."""
        return self.refusal_field

    def form_invalid(self, form):
        if isinstance(form, IdempotentForm):
            form.renew_key()
        return self.render_to_response(self.get_context_data(form=form), status=INVALID)
