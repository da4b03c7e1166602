"""An employee's account states: the administrators' "Account state" of an accrual table row (a modal,
or a page of its own without JavaScript), which makes an account active, accumulate-only or blocked."""

from django.contrib import messages
from django.contrib.auth import get_user_model
from django.shortcuts import get_object_or_404
from django.urls import reverse
from django.utils.functional import cached_property
from django.utils.translation import gettext as _
from django.views.generic import FormView

from giftshop.web.views import AdministratorRequiredMixin, ServiceFormMixin, redirect_after_post, safe_next

from .. import selectors, services
from ..forms import AccountStateForm
from .currency import CurrencyMixin


class AccountStateView(AdministratorRequiredMixin, CurrencyMixin, ServiceFormMixin, FormView):
    """GET shows the employee's state in every currency and the form; POST changes one account's state."""

    form_class = AccountStateForm

    @cached_property
    def employee(self):
        """The row's employee, looked up after the role is checked: to others every id is a 403."""
        return get_object_or_404(get_user_model(), pk=self.kwargs["pk"])

    def get_template_names(self):
        return ["bonuses/partials/account_state_form.html" if self.request.htmx else "bonuses/account_state.html"]

    def get_states(self) -> list[selectors.AccountState]:
        if not hasattr(self, "_states"):
            self._states = selectors.account_states(self.employee)
        return self._states

    def get_initial(self):
        return {"currency": self.get_currency()}

    def get_form_kwargs(self):
        states = {state.currency.pk: state.state for state in self.get_states()}
        return {**super().get_form_kwargs(), "states": states}

    def next_url(self) -> str:
        return safe_next(self.request, reverse("bonuses:accrual-list"))

    def perform(self, form):
        data = form.cleaned_data
        return services.set_account_state(
            user=self.employee,
            state=data["state"],
            currency=data["currency"],
            actor=self.request.user,
            reason=data["reason"],
        )

    def done(self, form, account):
        names = {"currency": account.currency.name, "name": self.employee.full_name}
        message = _("The %(currency)s account of %(name)s is now “%(state)s”.")
        messages.success(self.request, message % {**names, "state": account.get_state_display()})
        return redirect_after_post(self.request, self.next_url())

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        return {**context, "employee": self.employee, "states": self.get_states(), "next": self.next_url()}
