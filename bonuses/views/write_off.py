"""Write-offs: the form, and its "Available bonuses" figure for the chosen employee and currency."""

from django.contrib import messages
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views import View
from django.views.generic import FormView

from giftshop.templatetags.points import points
from giftshop.web.views import INVALID, AdministratorRequiredMixin, ServiceFormMixin

from .. import selectors, services
from ..forms import AvailableBalanceForm, WriteOffForm
from ..models import Entry


class WriteOffCreateView(AdministratorRequiredMixin, ServiceFormMixin, FormView):
    form_class = WriteOffForm
    template_name = "bonuses/write_off.html"
    refusal_field = "amount"

    def get_initial(self):
        return {"currency": services.get_currency()}

    def perform(self, form):
        data = form.cleaned_data
        return services.write_off(
            user=data["employee"],
            amount=data["amount"],
            comment=data["comment"],
            currency=data["currency"],
            actor=self.request.user,
            idempotency_key=data["idempotency_key"],
        )

    def done(self, form, entry):
        data = form.cleaned_data
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
