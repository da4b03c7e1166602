"""The administrators' order list as an Excel sheet (`?export=xlsx`), declared column by column."""

from django.utils.translation import gettext_lazy as _

from giftshop.web.xlsx import Column, SheetExport, labels, points_format

from .models import Order


class OrderExport(SheetExport):
    name = "orders"
    title = _("Orders")
    columns = [
        Column(_("Order"), "pk", 10, cell="number"),
        Column(_("Placed"), "created_at", 17),
        Column(_("Employee"), "user__full_name", 28),
        Column(_("E-mail"), "user__email", 30),
        Column(_("Department"), "user__department__name", 20),
        Column(_("Gift"), "gift__name", 30),
        Column(_("Quantity"), "quantity", 9),
        Column(_("Returned"), "returned_quantity", 9),
        Column(_("Points"), "points", 12, points_format, cell="points"),
        Column(_("Currency"), "currency__name", 12),
        Column(_("Status"), "status", 16, cell=labels(Order.Status.choices)),
        Column(_("Completed"), "completed_at", 17),
        Column(_("Pick-up office"), "pickup_office", 18),
        Column(_("Delivery comment"), "delivery_comment", 40),
    ]
    extra_fields = ("currency__whole_numbers",)

    def number(self, pk: int, row: tuple) -> str:
        return Order.number_of(pk)
