"""The accrual table, the log and my history, rendered with django-tables2's Bootstrap 5 template."""

import django_tables2 as tables
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils.html import format_html, format_html_join
from django.utils.translation import gettext_lazy as _

from giftshop.web.tables import ActionsColumn, amount_html

from .models import Account, Entry


class AccrualTable(tables.Table):
    select = tables.CheckBoxColumn(
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

    def __init__(self, *args, currency, **kwargs):
        self.currency = currency
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
