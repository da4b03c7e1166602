"""The administrators' order list, rendered with django-tables2's Bootstrap 5 template."""

import django_tables2 as tables
from django.utils.html import format_html
from django.utils.translation import gettext_lazy as _

from giftshop.web.tables import ActionsColumn, amount_html


class OrderTable(tables.Table):
    number = tables.Column(verbose_name=_("Order"), accessor="pk")
    created_at = tables.DateTimeColumn(
        verbose_name=_("Placed"), format="Y-m-d H:i", attrs={"td": {"class": "text-nowrap"}}
    )
    user = tables.Column(verbose_name=_("Employee"), order_by=("user__full_name",))
    department = tables.Column(
        verbose_name=_("Department"), accessor="user__department", order_by=("user__department__name",)
    )
    gift = tables.Column(verbose_name=_("Gift"), order_by=("gift__name",))
    quantity = tables.Column(verbose_name=_("Qty"), attrs={"td": {"class": "text-end"}})
    points = tables.Column(verbose_name=_("Points"), attrs={"td": {"class": "text-end"}, "th": {"class": "text-end"}})
    status = tables.Column(verbose_name=_("Status"))
    actions = ActionsColumn("shop/partials/order_actions.html")

    class Meta:
        attrs = {"class": "table table-hover align-middle mb-0", "data-testid": "order-table"}
        order_by = ("-created_at",)
        empty_text = _("No orders match the filter.")

    def render_number(self, record):
        return record.number

    def render_points(self, record):
        return format_html("{} {}", amount_html(record.points, currency=record.currency), record.currency.name)

    def render_status(self, record):
        css = {"pending": "warning", "completed": "success", "cancelled": "secondary"}.get(record.status, "info")
        return format_html('<span class="badge text-bg-{}">{}</span>', css, record.get_status_display())
