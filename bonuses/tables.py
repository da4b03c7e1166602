"""The accrual table, the log, my history and the budgets' tables, rendered with django-tables2's Bootstrap 5
template."""

import django_tables2 as tables
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils.html import format_html, format_html_join
from django.utils.timesince import timesince
from django.utils.translation import gettext_lazy as _

from giftshop.web.tables import ActionsColumn, amount_html

from .models import Account, Entry
from .rules import period_label

FIGURE_ATTRS = {"td": {"class": "text-end"}, "th": {"class": "text-end"}}


def selection_column() -> tables.CheckBoxColumn:
    """The rows' checkboxes the selection bar reads (static/js/accrual.js), and the page's."""
    return tables.CheckBoxColumn(
        accessor="pk",
        attrs={
            "th__input": {"class": "form-check-input", "data-select-page": "", "aria-label": _("Select the page")},
            "td__input": {
                "class": "form-check-input",
                "data-select-row": "",
                "aria-label": lambda record: _("Select %(name)s") % {"name": record.full_name},
            },
        },
        orderable=False,
    )


class AccrualTable(tables.Table):
    select = selection_column()
    full_name = tables.Column(verbose_name=_("Full name"), attrs={"td": {"class": "fw-medium"}})
    email = tables.Column(verbose_name=_("E-mail"))
    employee_number = tables.Column(verbose_name=_("Number"))
    position = tables.Column(verbose_name=_("Position"), order_by=("position__name",))
    city = tables.Column(verbose_name=_("City"), order_by=("city__name",))
    department = tables.Column(verbose_name=_("Department"), order_by=("department__name",))
    tags = tables.Column(verbose_name=_("Tags"), accessor="pk", order_by=("first_tag",))
    balance = tables.Column(verbose_name=_("Balance"), attrs={"td": {"class": "text-end"}, "th": {"class": "text-end"}})
    actions = ActionsColumn("bonuses/partials/accrual_actions.html")

    class Meta:
        attrs = {"class": "table table-hover align-middle mb-0", "data-testid": "accrual-table"}
        row_attrs = {"data-employee": lambda record: record.pk, "data-name": lambda record: record.full_name}
        order_by = ("full_name",)
        empty_text = _("No employees match the filter.")

    def render_full_name(self, value, record):
        """The name, and a badge when the account in the table's currency cannot spend."""
        state = getattr(record, "account_state", Account.State.ACTIVE)
        if state == Account.State.ACTIVE:
            return value
        badge = render_to_string(
            "bonuses/partials/account_state_badge.html", {"state": state, "label": Account.State(state).label}
        )
        return format_html("{} {}", value, badge)

    def render_tags(self, record):
        tags = record.tags.all()
        return format_html_join(" ", '<span class="badge text-bg-light border">{}</span>', ((t.name,) for t in tags))

    def render_balance(self, value):
        return amount_html(value, currency=self.currency)

    def __init__(self, *args, currency, viewer=None, **kwargs):
        self.currency = currency
        self.viewer = viewer  # nobody is offered "Add bonuses" on their own row
        super().__init__(*args, **kwargs)


class EntryTable(tables.Table):
    """The columns every list of log entries shows, and how they read."""

    at = tables.DateTimeColumn(verbose_name=_("Time"), format="Y-m-d H:i", attrs={"td": {"class": "text-nowrap"}})
    kind = tables.Column(verbose_name=_("Event type"))
    amount = tables.Column(verbose_name=_("Amount"), attrs={"td": {"class": "text-end"}, "th": {"class": "text-end"}})
    balance_after = tables.Column(
        verbose_name=_("Active balance after"), attrs={"td": {"class": "text-end"}, "th": {"class": "text-end"}}
    )
    currency = tables.Column(verbose_name=_("Currency"), order_by=("currency__name",))
    comment = tables.Column(verbose_name=_("Comment"), attrs={"td": {"class": "text-break log-comment"}})

    class Meta:
        model = Entry
        fields = ()
        attrs = {"class": "table table-hover align-middle mb-0"}
        order_by = ("-at",)

    def render_amount(self, value, record):
        return amount_html(value, currency=record.currency, signed=True)

    def render_balance_after(self, value, record):
        return amount_html(value, currency=record.currency)

    def render_kind(self, record):
        return record.get_kind_display()

    def order_at(self, queryset, is_descending):
        # Entries of one moment keep the order they were posted in.
        return queryset.order_by(*(("-at", "-id") if is_descending else ("at", "id"))), True


class LogTable(EntryTable):
    user = tables.Column(verbose_name=_("Employee"), order_by=("user__full_name",))
    actor = tables.Column(verbose_name=_("Actor"), order_by=("actor__full_name",))
    link = tables.Column(verbose_name=_("Batch / order"), accessor="pk", orderable=False, empty_values=())

    class Meta(EntryTable.Meta):
        sequence = ("at", "user", "kind", "amount", "balance_after", "currency", "comment", "actor", "link")
        attrs = {**EntryTable.Meta.attrs, "data-testid": "log-table"}
        empty_text = _("No entries match the filter.")

    def render_link(self, record):
        if record.batch_id:
            return batch_link(record.batch)
        order = getattr(record.reservation, "order", None) if record.reservation_id else None
        if order is not None:
            label = _("Order %(number)s") % {"number": order.number}
            return format_html('<a href="{}?number={}">{}</a>', reverse("shop:order-list"), order.pk, label)
        return "—"


def batch_link(batch):
    """A link to a batch's page; a reversal's entries link to the batch they reverse."""
    if batch.reverses_id:
        label = _("Reverses batch %(number)s") % {"number": batch.reverses_id}
        return format_html('<a href="{}">{}</a>', reverse("bonuses:batch-detail", args=[batch.reverses_id]), label)
    label = _("Batch %(number)s") % {"number": batch.pk}
    return format_html('<a href="{}">{}</a>', reverse("bonuses:batch-detail", args=[batch.pk]), label)


class BatchEntryTable(EntryTable):
    """A batch's entries on its page: one per employee it reached."""

    user = tables.Column(verbose_name=_("Employee"), order_by=("user__full_name", "user_id"))
    department = tables.Column(
        verbose_name=_("Department"), accessor="user__department", order_by=("user__department__name",), default="—"
    )

    class Meta(EntryTable.Meta):
        sequence = ("user", "department", "kind", "amount", "balance_after", "at")
        exclude = ("currency", "comment")
        attrs = {**EntryTable.Meta.attrs, "data-testid": "batch-entries"}
        order_by = ("user",)
        empty_text = _("No entries of this batch in your departments.")


class MyHistoryTable(EntryTable):
    order = tables.Column(verbose_name=_("Order"), accessor="pk", orderable=False, empty_values=())

    class Meta(EntryTable.Meta):
        sequence = ("at", "kind", "amount", "balance_after", "currency", "comment", "order")
        attrs = {**EntryTable.Meta.attrs, "data-testid": "my-history"}
        empty_text = _("No points yet.")

    def render_order(self, record):
        order = getattr(record.reservation, "order", None) if record.reservation_id else None
        if order is None:
            return "—"
        label = _("Order %(number)s: %(gift)s") % {"number": order.number, "gift": order.gift.name}
        return format_html('<a href="{}">{}</a>', reverse("shop:my-order-list"), label)


class BudgetTable(tables.Table):
    """The administrators' budgets table: one row per manager, with their budget of the current period."""

    select = selection_column()
    full_name = tables.Column(verbose_name=_("Manager"), attrs={"td": {"class": "fw-medium"}})
    departments = tables.Column(verbose_name=_("Departments"), accessor="pk", orderable=False)
    period_start = tables.Column(verbose_name=_("Period"), empty_values=())
    allowance = tables.Column(verbose_name=_("Allowance"), attrs=FIGURE_ATTRS, empty_values=())
    granted = tables.Column(verbose_name=_("Granted"), attrs=FIGURE_ATTRS, empty_values=())
    held = tables.Column(verbose_name=_("Held for approval"), attrs=FIGURE_ATTRS, empty_values=())
    left = tables.Column(verbose_name=_("Left"), attrs=FIGURE_ATTRS, empty_values=())
    usage = tables.Column(verbose_name=_("Used"), accessor="pk", orderable=False)
    actions = ActionsColumn("bonuses/partials/budget_actions.html")

    class Meta:
        attrs = {"class": "table table-hover align-middle mb-0", "data-testid": "budget-table"}
        row_attrs = {"data-employee": lambda record: record.pk, "data-name": lambda record: record.full_name}
        order_by = ("full_name",)
        empty_text = _("No manager grants from a budget.")

    def __init__(self, *args, currency, **kwargs):
        self.currency = currency
        super().__init__(*args, **kwargs)

    def render_departments(self, record):
        return ", ".join(department.name for department in record.managed_departments.all()) or "—"

    def render_period_start(self, record):
        if record.budget_id is None:
            return format_html('<span class="text-body-secondary">{}</span>', _("Not opened yet"))
        return period_label(record.budget_period, record.period_start)

    def render_allowance(self, record):
        return self._figure(record.allowance)

    def render_granted(self, record):
        return self._figure(record.granted)

    def render_held(self, record):
        return self._figure(record.held)

    def render_left(self, record):
        return self._figure(record.left)

    def _figure(self, value):
        return "—" if value is None else amount_html(value, currency=self.currency)

    def render_usage(self, record):
        if record.budget_id is None:
            return "—"
        used = record.granted + record.held
        percent = 0 if not record.allowance else min(100, round(100 * used / record.allowance))
        label = _("%(percent)d%% used") % {"percent": percent}
        return format_html(
            '<progress class="budget-usage" max="100" value="{}" aria-label="{}"></progress> '
            '<span class="small text-body-secondary">{}</span>',
            percent,
            label,
            f"{percent}%",
        )


class BudgetMovementTable(tables.Table):
    """The movements of a manager's budgets ("My budget"), newest first."""

    at = tables.DateTimeColumn(verbose_name=_("Time"), format="Y-m-d H:i", attrs={"td": {"class": "text-nowrap"}})
    period = tables.Column(verbose_name=_("Period"), accessor="budget__period_start", orderable=False)
    kind = tables.Column(verbose_name=_("Movement"))
    amount = tables.Column(verbose_name=_("Amount"), attrs=FIGURE_ATTRS)
    left_after = tables.Column(verbose_name=_("Left after"), attrs=FIGURE_ATTRS)
    comment = tables.Column(verbose_name=_("Comment"), attrs={"td": {"class": "text-break log-comment"}})
    actor = tables.Column(verbose_name=_("By"), order_by=("actor__full_name",))
    link = tables.Column(verbose_name=_("Grant"), accessor="pk", orderable=False, empty_values=())

    class Meta:
        attrs = {"class": "table table-hover align-middle mb-0", "data-testid": "budget-movements"}
        order_by = ("-at",)
        empty_text = _("No movements yet.")
        template_name = "bonuses/partials/scroll_table.html"

    region_label = _("Movements")

    def render_period(self, record):
        return period_label(record.budget.period, record.budget.period_start)

    def render_kind(self, record):
        return record.get_kind_display()

    def render_amount(self, value, record):
        if not value:
            return amount_html(value, currency=record.budget.currency)
        return amount_html(value, currency=record.budget.currency, signed=True)

    def render_left_after(self, value, record):
        return amount_html(value, currency=record.budget.currency)

    def render_link(self, record):
        if record.batch_id:
            url = reverse("bonuses:log-list")
            return format_html('<a href="{}?batch={}">{} {}</a>', url, record.batch_id, _("Batch"), record.batch_id)
        if record.entry_id:
            return record.entry.user.full_name
        return "—"

    def order_at(self, queryset, is_descending):
        return queryset.order_by(*(("-at", "-id") if is_descending else ("at", "id"))), True


def recipients_text(record) -> str:
    """The first names of a request's recipients, then how many more."""
    people = list(record.recipients.all())
    names = ", ".join(person.full_name for person in people[:3])
    more = len(people) - 3
    return names if more <= 0 else _("%(names)s and %(count)d more") % {"names": names, "count": more}


class ApprovalTable(tables.Table):
    """The approvals queue: the requests waiting, oldest first."""

    requester = tables.Column(verbose_name=_("Requester"), accessor="requester__full_name", orderable=False)
    recipients = tables.Column(verbose_name=_("Recipients"), accessor="pk", orderable=False)
    amount = tables.Column(verbose_name=_("Per employee"), attrs=FIGURE_ATTRS, orderable=False)
    total = tables.Column(verbose_name=_("Total"), attrs=FIGURE_ATTRS, orderable=False)
    comment = tables.Column(verbose_name=_("Comment"), orderable=False, attrs={"td": {"class": "text-break"}})
    created_at = tables.Column(verbose_name=_("Age"), orderable=False)
    actions = ActionsColumn("bonuses/partials/approval_actions.html")

    class Meta:
        attrs = {"class": "table table-hover align-middle mb-0", "data-testid": "approval-table"}
        row_attrs = {"data-request": lambda record: record.pk}
        empty_text = _("No request waits for approval.")

    def __init__(self, *args, viewer, **kwargs):
        self.viewer = viewer  # nobody decides their own request
        super().__init__(*args, **kwargs)

    def render_recipients(self, record):
        return recipients_text(record)

    def render_amount(self, record):
        return amount_html(record.amount, currency=record.currency)

    def render_total(self, record):
        return format_html("{} {}", amount_html(record.total, currency=record.currency), record.currency.name)

    def render_created_at(self, value):
        return format_html('<time datetime="{}">{}</time>', value.isoformat(), timesince(value))


class MyRequestTable(tables.Table):
    """A grantor's own requests and what became of them."""

    created_at = tables.DateTimeColumn(verbose_name=_("Requested"), format="Y-m-d H:i", orderable=False)
    recipients = tables.Column(verbose_name=_("Recipients"), accessor="pk", orderable=False)
    total = tables.Column(verbose_name=_("Total"), attrs=FIGURE_ATTRS, orderable=False)
    status = tables.Column(verbose_name=_("Status"), orderable=False)
    decided_by = tables.Column(verbose_name=_("Decided by"), accessor="decided_by__full_name", orderable=False)
    reason = tables.Column(verbose_name=_("Reason"), orderable=False, attrs={"td": {"class": "text-break"}})

    class Meta:
        attrs = {"class": "table table-hover align-middle mb-0", "data-testid": "my-requests"}
        empty_text = _("You have made no grant requests.")
        template_name = "bonuses/partials/scroll_table.html"

    region_label = _("My grant requests")

    def render_recipients(self, record):
        return recipients_text(record)

    def render_total(self, record):
        return format_html("{} {}", amount_html(record.total, currency=record.currency), record.currency.name)

    def render_status(self, record):
        styles = {"pending": "text-bg-warning", "approved": "text-bg-success", "rejected": "text-bg-danger"}
        return format_html('<span class="badge {}">{}</span>', styles[record.status], record.get_status_display())


class SegmentMemberTable(tables.Table):
    """A segment's members as of a day."""

    full_name = tables.Column(verbose_name=_("Full name"), attrs={"td": {"class": "fw-medium"}})
    email = tables.Column(verbose_name=_("E-mail"))
    department = tables.Column(verbose_name=_("Department"), order_by=("department__name",))
    hire_date = tables.Column(verbose_name=_("Hire date"))
    date_of_birth = tables.Column(verbose_name=_("Date of birth"))

    class Meta:
        attrs = {"class": "table table-hover align-middle mb-0", "data-testid": "member-table"}
        order_by = ("full_name",)
        empty_text = _("Nobody is in the segment on that day.")
