"""A batch's page: what it gave (or took back), from whom and when, its entries, and "Reverse this batch".

Who opens it is the log's rule: administrators every batch, managers a batch that reached their
departments (`selectors.batches_in_scope`), and of it the entries of their departments only; an id
outside the viewer's scope is a 404, as if there were no such batch. Only administrators reverse
(the service refuses anyone else too): a reversal takes points from employees in any department,
and corrects an administrator's or a manager's grant alike.
"""

from functools import cached_property

from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.http import Http404
from django.shortcuts import redirect
from django.urls import reverse
from django.utils.translation import gettext as _
from django.utils.translation import ngettext
from django.views.generic import FormView

from giftshop.templatetags.points import points
from giftshop.web.forms import parse_id
from giftshop.web.views import BoundedTableMixin, GrantorRequiredMixin, ServiceFormMixin

from .. import selectors, services
from ..exceptions import BonusError
from ..forms import ReversalForm
from ..tables import BatchEntryTable

SHORTFALLS_SHOWN = 200  # a refusal lists this many employees on the page, and says how many more


class BatchDetailView(GrantorRequiredMixin, ServiceFormMixin, BoundedTableMixin, FormView):
    form_class = ReversalForm
    table_class = BatchEntryTable
    template_name = "bonuses/batch_detail.html"
    table_pagination = {"per_page": 50}
    shortfalls: tuple = ()

    @cached_property
    def batch(self):
        pk = parse_id(self.kwargs["pk"])
        batch = (
            selectors.batches_in_scope(self.request.user)
            .select_related("currency", "actor", "reverses", "reversal__actor")
            .filter(pk=pk)
            .first()
            if pk
            else None
        )
        if batch is None:
            raise Http404(_("No such batch."))
        return batch

    def post(self, request, *args, **kwargs):
        if not selectors.can_manage(request.user):
            raise PermissionDenied(_("Only administrators may reverse a batch."))
        return super().post(request, *args, **kwargs)

    def get_table_data(self):
        return selectors.batch_entries(self.request.user, self.batch)

    def perform(self, form):
        try:
            return services.reverse_batch(
                self.batch,
                actor=self.request.user,
                comment=form.cleaned_data["comment"],
                idempotency_key=form.cleaned_data["idempotency_key"],
            )
        except BonusError as refusal:
            self.shortfalls = getattr(refusal, "shortfalls", ())
            del self.batch  # read again: someone else may have reversed it meanwhile
            raise

    def done(self, form, reversal):
        message = ngettext(
            "Batch %(batch)s reversed: %(amount)s %(currency)s taken back from %(count)d employee "
            "(batch %(reversal)s).",
            "Batch %(batch)s reversed: %(amount)s %(currency)s taken back from each of %(count)d employees, "
            "%(total)s in all (batch %(reversal)s).",
            reversal.employee_count,
        ) % {
            "batch": self.batch.pk,
            "amount": points(reversal.amount, reversal.currency),
            "currency": reversal.currency,
            "count": reversal.employee_count,
            "total": points(reversal.total, reversal.currency),
            "reversal": reversal.pk,
        }
        messages.success(self.request, message)
        return redirect(reverse("bonuses:batch-detail", args=[self.batch.pk]))

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        batch, user = self.batch, self.request.user
        reversal = getattr(batch, "reversal", None)
        count, total = selectors.batch_reach(user, batch)
        context.update(
            batch=batch,
            reversal=reversal,
            count=count,
            total=total,
            whole_batch=selectors.can_manage(user),
            can_reverse=selectors.can_manage(user) and not batch.reverses_id and reversal is None,
            shortfalls=self.shortfalls[:SHORTFALLS_SHOWN],
            more_shortfalls=max(len(self.shortfalls) - SHORTFALLS_SHOWN, 0),
            log_url=f"{reverse('bonuses:log-list')}?batch={batch.pk}",
            campaign=selectors.campaign_of_batch(batch),
        )
        return context
