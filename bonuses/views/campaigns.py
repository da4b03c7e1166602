"""Campaigns on screens (administrators): the list, a campaign's page (its summary, the preview of who would get
what on a day or over the next 30 days with the total cost, the report per month, the link to its entries in
the log), the form that creates or changes one, and pause / resume / end / delete (a campaign that awarded
points is only ended). The services decide."""

from functools import cached_property

from django.contrib import messages
from django.http import Http404
from django.shortcuts import get_object_or_404, redirect
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views import View
from django.views.generic import FormView, ListView, TemplateView

from giftshop.web.views import AdministratorRequiredMixin, ServiceFormMixin

from .. import campaign_rules, selectors, services
from ..campaign_forms import CampaignForm, DayForm
from ..exceptions import BonusError, InvalidAmount
from ..exports import CampaignAwardsExport
from ..models import Campaign

PREVIEW_ROWS = 500  # the preview lists this many rows on the page; the totals count every one


class CampaignListView(AdministratorRequiredMixin, ListView):
    template_name = "bonuses/campaign_list.html"
    paginate_by = 50

    def get_queryset(self):
        return selectors.campaign_list()

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        context["today"] = campaign_rules.today()
        return context


class CampaignCreateView(AdministratorRequiredMixin, ServiceFormMixin, FormView):
    form_class = CampaignForm
    template_name = "bonuses/campaign_form.html"
    campaign = None

    def get_initial(self):
        return CampaignForm.initial_of(self.campaign) if self.campaign else {"is_active": True}

    def get_context_data(self, **kwargs):
        return {**super().get_context_data(**kwargs), "campaign": self.campaign}

    def refusal_field_for(self, error):
        if isinstance(error, InvalidAmount):
            return "tiers" if self.request.POST.get("tiers", "").strip() else "amount"
        return getattr(error, "field", None) or ("lifetime_days" if "lifetime" in error.message else None)

    def perform(self, form):
        return services.save_campaign(actor=self.request.user, campaign=self.campaign, **form.cleaned_data)

    def done(self, form, result):
        messages.success(self.request, _("The campaign “%(name)s” is saved.") % {"name": result.name})
        return redirect("bonuses:campaign-detail", pk=result.pk)


class CampaignUpdateView(CampaignCreateView):
    def dispatch(self, request, *args, **kwargs):
        self.campaign = get_object_or_404(Campaign, pk=kwargs["pk"])
        return super().dispatch(request, *args, **kwargs)


class CampaignDetailView(AdministratorRequiredMixin, TemplateView):
    template_name = "bonuses/campaign_detail.html"

    @cached_property
    def campaign(self):
        return get_object_or_404(Campaign.objects.select_related("segment", "currency"), pk=self.kwargs["pk"])

    def get(self, request, *args, **kwargs):
        if request.GET.get("export") == "xlsx":  # the report: every award
            export = CampaignAwardsExport(currency=self.campaign.currency)
            return export.response(
                selectors.campaign_awards(self.campaign), filters={_("Campaign"): self.campaign.name}
            )
        return super().get(request, *args, **kwargs)

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        form = DayForm(self.request.GET or None)
        on, days = campaign_rules.today(), 1
        if form.is_bound and form.is_valid():
            on, days = form.cleaned_data["on"] or on, form.cleaned_data["days"] or 1
        rows = selectors.campaign_days(self.campaign, on=on, days=days) if form.is_valid() or not form.is_bound else []
        context.update(
            campaign=self.campaign,
            summary=selectors.campaign_summary(self.campaign),
            form=form,
            on=on,
            days=days,
            rows=rows[:PREVIEW_ROWS],
            more=max(len(rows) - PREVIEW_ROWS, 0),
            people=len({user.pk for _day, user, _amount in rows}),
            total=sum((amount for _day, _user, amount in rows), 0),
            report=selectors.campaign_report(self.campaign),
            log_url=f"{reverse('bonuses:log-list')}?campaign={self.campaign.pk}",
            ended=bool(self.campaign.ends_on and self.campaign.ends_on < campaign_rules.today()),
        )
        return context


class CampaignActionView(AdministratorRequiredMixin, View):
    """Pause, resume, end or delete a campaign (POST)."""

    ACTIONS = ("pause", "resume", "end", "delete")

    def post(self, request, pk, action):
        if action not in self.ACTIONS:
            raise Http404
        campaign = get_object_or_404(Campaign, pk=pk)
        try:
            if action == "pause":
                services.set_campaign_active(campaign, actor=request.user, is_active=False)
                messages.success(request, _("The campaign “%(name)s” is paused.") % {"name": campaign.name})
            elif action == "resume":
                services.set_campaign_active(campaign, actor=request.user, is_active=True)
                messages.success(request, _("The campaign “%(name)s” is active again.") % {"name": campaign.name})
            elif action == "end":
                services.end_campaign(campaign, actor=request.user)
                messages.success(request, _("The campaign “%(name)s” ends today.") % {"name": campaign.name})
            else:
                services.delete_campaign(campaign, actor=request.user)
                messages.success(request, _("The campaign “%(name)s” is deleted.") % {"name": campaign.name})
                return redirect("bonuses:campaign-list")
        except BonusError as error:
            messages.error(request, error.message)
        return redirect("bonuses:campaign-detail", pk=pk)
