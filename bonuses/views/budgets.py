"""Managers' budgets on screens: "My budget" (a manager's figures and movements), and the administrators'
budgets table (filters, Excel export) with its top-up / reduce modals, one row's and the bulk one."""

from django.contrib import messages
from django.contrib.auth import get_user_model
from django.shortcuts import get_object_or_404
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import ngettext
from django.views.generic import FormView, TemplateView
from django_filters.views import FilterView

from giftshop.templatetags.points import points
from giftshop.web.views import (
    AdministratorRequiredMixin,
    BoundedTableMixin,
    GrantorRequiredMixin,
    ServiceFormMixin,
    redirect_after_post,
)

from .. import rules, selectors, services
from ..budget_forms import BudgetBulkChangeForm, BudgetChangeForm
from ..exports import BudgetExport
from ..filters import BudgetFilter
from ..models import Budget, Currency
from ..tables import BudgetMovementTable, BudgetTable
from .currency import BulkModalMixin, CurrencyMixin, CurrencyModalMixin, CurrencyTableMixin


def current_period(currency: Currency) -> str | None:
    """The name of the currency's current budget period ("March 2026"), None without a budget policy."""
    if not currency.budget_period:
        return None
    start, _end = rules.budget_period(rules.local_date(timezone.now()), currency.budget_period)
    return rules.period_label(currency.budget_period, start)


class MyBudgetView(GrantorRequiredMixin, CurrencyMixin, BoundedTableMixin, TemplateView):
    """A manager's budget in one currency: what is left of the current period, and every movement. An
    administrator may open it too (their grants draw on no budget, and the page says so); the menu offers it
    to managers only."""

    template_name = "bonuses/my_budget.html"
    table_class = BudgetMovementTable
    table_pagination = {"per_page": 25}

    def get_currency(self) -> Currency:
        # The currencies with a budget of the manager's come first: the default one may have none.
        if not hasattr(self, "_currency") and not self.request.GET.get("currency"):
            found = selectors.budgets_of(self.request.user)
            self._currency = found[0][0] if found else services.get_currency()
        return super().get_currency()

    def get_table_data(self):
        return selectors.budget_movements(self.request.user, self.get_currency()).select_related("entry__user")

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        currency = self.get_currency()
        return {
            **context,
            "currency": currency,
            "currencies": Currency.objects.all(),
            "figures": selectors.budget(self.request.user, currency),
            "draws_on_budget": selectors.grants_from_budget(self.request.user),
            "pending": selectors.pending_of(self.request.user, currency),
        }


class BudgetListView(AdministratorRequiredMixin, CurrencyTableMixin, BoundedTableMixin, FilterView):
    table_class = BudgetTable
    export_class = BudgetExport
    filterset_class = BudgetFilter
    template_name = "bonuses/budget_list.html"
    table_pagination = {"per_page": 50}
    export_ordering = ("full_name", "pk")

    def get_queryset(self):
        return selectors.budget_rows(self.get_currency())

    def get_context_data(self, **kwargs):
        return {**super().get_context_data(**kwargs), "period": current_period(self.get_currency())}


class BudgetChangeFormView(AdministratorRequiredMixin, CurrencyModalMixin, ServiceFormMixin, FormView):
    """What both top-up / reduce modals share: the table's currency, where to go back."""

    back_to = "bonuses:budget-list"

    def change(self, form) -> dict:
        data = form.cleaned_data
        return {
            "amount": form.change(),
            "actor": self.request.user,
            "currency": data["currency"],
            "comment": data["comment"],
        }


class BudgetChangeView(BudgetChangeFormView):
    """Top up or reduce one manager's budget (the row's button)."""

    form_class = BudgetChangeForm
    template_name = "bonuses/partials/budget_change_form.html"

    def dispatch(self, request, *args, **kwargs):
        self.manager = get_object_or_404(get_user_model(), pk=kwargs["pk"])
        return super().dispatch(request, *args, **kwargs)

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        return {**context, "manager": self.manager, "figures": selectors.budget(self.manager, context["currency"])}

    def perform(self, form):
        return services.top_up_budget(manager=self.manager, **self.change(form))

    def done(self, form, budget: Budget):
        messages.success(self.request, changed_message(budget))
        return redirect_after_post(self.request, self.next_url())


class BudgetBulkChangeView(BulkModalMixin, BudgetChangeFormView):
    """Top up or reduce the budgets of the managers selected in the table, all or none."""

    form_class = BudgetBulkChangeForm
    template_name = "bonuses/partials/budget_bulk_form.html"

    def selected(self, form, currency) -> list[int]:
        return selectors.budget_selection(currency, **form.selection())

    def get(self, request, *args, **kwargs):
        form = BudgetBulkChangeForm(request.GET, currency=self.get_currency())
        form.is_valid()  # only the selection is read: the modal opens with the amount still to be given
        self.recipients = self.selected(form, self.get_currency())
        form = BudgetBulkChangeForm(currency=self.get_currency(), initial=self.initial_selection(form))
        return self.render_to_response(self.get_context_data(form=form))

    def perform(self, form):
        managers = get_user_model().objects.filter(pk__in=self.recipients)
        return services.top_up_budgets(managers=managers, **self.change(form))

    def done(self, form, budgets: list[Budget]):
        currency = form.cleaned_data["currency"]
        change = form.change()
        message = ngettext(
            "%(count)d budget changed by %(change)s %(currency)s.",
            "%(count)d budgets changed by %(change)s %(currency)s each.",
            len(budgets),
        ) % {"count": len(budgets), "change": points(change, currency, signed=True), "currency": currency}
        messages.success(self.request, message)
        return redirect_after_post(self.request, self.next_url())


def changed_message(budget: Budget) -> str:
    currency = budget.currency
    return _("The budget of %(name)s for %(period)s is now %(allowance)s %(currency)s, %(left)s of it left.") % {
        "name": budget.manager.full_name,
        "period": rules.period_label(budget.period, budget.period_start),
        "allowance": points(budget.allowance, currency),
        "currency": currency,
        "left": points(budget.left, currency),
    }
