"""What the screens of one currency share: the currency from the URL, the currency's table (its Excel
export, the filters' context), the modals opened from that table, and the bulk modals' selection."""

from django.urls import reverse
from django.utils.translation import gettext as _

from giftshop.web.forms import parse_id
from giftshop.web.views import ExportMixin, safe_next

from .. import services
from ..models import Currency


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


class CurrencyTableMixin(CurrencyMixin, ExportMixin):
    """A filtered table of one currency (a `FilterView` with a table): its rows, its Excel export (the sheet
    of `export_class`, given the currency) and the context of the filters and the currency choice."""

    def get_table_kwargs(self):
        return {"currency": self.get_currency()}

    def get_export(self):
        return self.export_class(currency=self.get_currency())

    def export_filters(self, filterset):
        return {_("Currency"): str(self.get_currency()), **super().export_filters(filterset)}

    def filter_keep(self, table) -> list[tuple[str, object]]:
        """What the filter form carries over besides the filters: the currency."""
        return [("currency", self.get_currency().pk)]

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        table = context["table"]
        return {
            **context,
            "currency": self.get_currency(),
            "currencies": Currency.objects.all(),
            "matching": table.paginator.count,
            "filter_keep": self.filter_keep(table),
            "wide_filters": ["q"],
        }


class CurrencyModalMixin(CurrencyMixin):
    """A modal opened from a currency's table: its form gets the table's currency, and it goes back to the
    table (`back_to`, a URL name) unless given another `next`."""

    back_to: str

    def get_form_kwargs(self):
        return {**super().get_form_kwargs(), "currency": self.get_currency()}

    def next_url(self) -> str:
        return safe_next(self.request, reverse(self.back_to))

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        return {**context, "currency": context["form"].currency, "next": self.next_url()}


class BulkModalMixin:
    """A bulk modal whose form is a `BulkSelectionForm`: `selected(form, currency)` says whom it reaches (the
    ids, checked against the viewer's scope even when the rest of the form is refused), `self.recipients`."""

    def selected(self, form, currency) -> list[int]:
        raise NotImplementedError

    def initial_selection(self, selection) -> dict:
        """The hidden fields of a modal opened for the selection `selection` (a bound form) names."""
        data = selection.selection()
        return {
            "employees": "" if data["select_all"] else ",".join(map(str, self.recipients)),
            "select_all": data["select_all"],
            "filters": data["filters"],
        }

    def post(self, request, *args, **kwargs):
        form = self.get_form()
        valid = form.is_valid()
        self.recipients = self.selected(form, form.currency)
        return self.form_valid(form) if valid else self.form_invalid(form)

    def get_context_data(self, **kwargs):
        return {**super().get_context_data(**kwargs), "count": len(self.recipients)}
