"""The employee's own balance: the figures per currency (with a notice where the account cannot spend), upcoming
expiries, pending activations, my history."""

from django.contrib.auth.mixins import LoginRequiredMixin
from django.views.generic import TemplateView

from giftshop.web.views import BoundedTableMixin

from .. import selectors
from ..models import Entry
from ..tables import MyHistoryTable


class MyBalanceView(LoginRequiredMixin, BoundedTableMixin, TemplateView):
    template_name = "bonuses/my_balance.html"
    table_class = MyHistoryTable
    table_pagination = {"per_page": 25}

    def get_table_data(self):
        return Entry.objects.filter(user=self.request.user).select_related("currency", "reservation__order__gift")

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        user = self.request.user
        notices = {state.currency.pk: state for state in selectors.account_states(user, restricted_only=True)}
        context["accounts"] = [
            {
                "currency": currency,
                "balance": figures,
                "expiries": selectors.upcoming_expiries(user, currency),
                "activations": selectors.pending_activations(user, currency),
                "notice": notices.get(currency.pk),  # a blocked or accumulate-only account
            }
            for currency, figures in selectors.balances(user)
        ]
        return context
