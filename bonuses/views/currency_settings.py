"""The settings of each currency (activation delay, whole numbers, burn-out, reminders, confirmation), and a
new currency with the same form."""

from django.contrib import messages
from django.shortcuts import get_object_or_404, redirect
from django.utils.translation import gettext as _
from django.views.generic import FormView, TemplateView

from giftshop.web.views import AdministratorRequiredMixin, ServiceFormMixin

from .. import exceptions, services
from ..forms import CurrencySettingsForm
from ..models import Currency


class SettingsView(AdministratorRequiredMixin, TemplateView):
    template_name = "bonuses/settings.html"

    def get_context_data(self, **kwargs):
        return {**super().get_context_data(**kwargs), "currencies": Currency.objects.all(), "tab": "currencies"}


class CurrencyFormMixin(ServiceFormMixin):
    """The settings form, where a name another currency has (in any letter case) is named next to the name."""

    def refusal_field_for(self, error):
        return "name" if isinstance(error, exceptions.CurrencyExists) else super().refusal_field_for(error)


class CurrencySettingsView(AdministratorRequiredMixin, CurrencyFormMixin, FormView):
    form_class = CurrencySettingsForm
    template_name = "bonuses/currency_settings.html"

    def get_form_kwargs(self):
        return {**super().get_form_kwargs(), "instance": get_object_or_404(Currency, pk=self.kwargs["pk"])}

    def perform(self, form):
        return services.update_currency_settings(form.instance, **form.cleaned_data)

    def done(self, form, currency):
        messages.success(self.request, _("The settings of %(currency)s are saved.") % {"currency": form.instance})
        return redirect("bonuses:settings")

    def get_context_data(self, **kwargs):
        return {**super().get_context_data(**kwargs), "tab": "currencies"}


class CurrencyCreateView(AdministratorRequiredMixin, CurrencyFormMixin, FormView):
    """A new currency, on the settings form of an existing one (never the default currency)."""

    form_class = CurrencySettingsForm
    template_name = "bonuses/currency_settings.html"

    def get_form_kwargs(self):
        return {**super().get_form_kwargs(), "instance": Currency()}

    def perform(self, form):
        return services.create_currency(actor=self.request.user, **form.cleaned_data)

    def done(self, form, currency):
        messages.success(self.request, _("%(currency)s is added.") % {"currency": currency})
        return redirect("bonuses:settings")

    def get_context_data(self, **kwargs):
        return {**super().get_context_data(**kwargs), "tab": "currencies", "heading": _("New currency")}
