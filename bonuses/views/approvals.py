"""Four-eyes approval on screens: the administrators' approvals queue with approve / reject (with a
reason), and a grantor's own requests with their status. A grant that became a request says so where it
was made (`requested`)."""

from django.contrib import messages
from django.shortcuts import get_object_or_404, redirect
from django.urls import reverse
from django.utils.translation import gettext as _
from django.utils.translation import ngettext
from django.views import View
from django.views.generic import FormView, TemplateView

from giftshop.templatetags.points import points
from giftshop.web.views import (
    AdministratorRequiredMixin,
    BoundedTableMixin,
    GrantorRequiredMixin,
    ServiceFormMixin,
    redirect_after_post,
)

from .. import selectors, services
from ..budget_forms import RejectRequestForm
from ..exceptions import BonusError
from ..models import GrantRequest
from ..tables import ApprovalTable, MyRequestTable


def requested(view, grant_request: GrantRequest):
    """What a grant that became a request answers where it was made: a message, back to the table."""
    currency = grant_request.currency
    message = ngettext(
        "Your grant of %(total)s %(currency)s to %(count)d employee waits for an administrator's approval.",
        "Your grant of %(total)s %(currency)s to %(count)d employees waits for an administrator's approval.",
        grant_request.employee_count,
    ) % {"total": points(grant_request.total, currency), "currency": currency, "count": grant_request.employee_count}
    messages.info(view.request, message)
    return redirect_after_post(view.request, view.next_url())


class ApprovalListView(AdministratorRequiredMixin, BoundedTableMixin, TemplateView):
    """The requests waiting for approval, oldest first."""

    template_name = "bonuses/approval_list.html"
    table_class = ApprovalTable
    table_pagination = {"per_page": 50}

    def get_table_data(self):
        return selectors.pending_requests()

    def get_table_kwargs(self):
        return {"viewer": self.request.user}


class ApproveView(AdministratorRequiredMixin, View):
    """Approve one request (POST): the grant is posted as the requester's."""

    def post(self, request, pk):
        grant_request = get_object_or_404(GrantRequest, pk=pk)
        try:
            services.approve_request(grant_request, actor=request.user)
        except BonusError as error:
            messages.error(request, error.message)
        else:
            messages.success(
                request,
                _("Request %(number)d approved: %(total)s %(currency)s granted as %(name)s's.")
                % {
                    "number": grant_request.pk,
                    "total": points(grant_request.total, grant_request.currency),
                    "currency": grant_request.currency,
                    "name": grant_request.requester.full_name,
                },
            )
        return redirect("bonuses:approval-list")


class RejectView(AdministratorRequiredMixin, ServiceFormMixin, FormView):
    """Reject one request with a reason; what it held returns to the budget."""

    form_class = RejectRequestForm
    template_name = "bonuses/approval_reject.html"

    def dispatch(self, request, *args, **kwargs):
        self.grant_request = get_object_or_404(
            GrantRequest.objects.select_related("requester", "currency"), pk=kwargs["pk"]
        )
        return super().dispatch(request, *args, **kwargs)

    def get_context_data(self, **kwargs):
        return {**super().get_context_data(**kwargs), "grant_request": self.grant_request}

    def perform(self, form):
        return services.reject_request(self.grant_request, actor=self.request.user, reason=form.cleaned_data["reason"])

    def done(self, form, result):
        messages.success(self.request, _("Request %(number)d rejected.") % {"number": result.pk})
        return redirect(reverse("bonuses:approval-list"))


class MyRequestListView(GrantorRequiredMixin, BoundedTableMixin, TemplateView):
    """The viewer's own grant requests and their status."""

    template_name = "bonuses/my_requests.html"
    table_class = MyRequestTable
    table_pagination = {"per_page": 25}

    def get_table_data(self):
        return selectors.requests_of(self.request.user)
