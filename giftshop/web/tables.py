"""Table pieces every list shares (django-tables2): amounts as figures, and the actions column."""

import django_tables2 as tables
from django.utils.html import format_html
from django.utils.translation import gettext_lazy as _

from giftshop.templatetags.points import points


class ActionsColumn(tables.TemplateColumn):
    """The buttons of a row, under a header that screen readers name and the eye does not need."""

    def __init__(self, template_name):
        super().__init__(template_name=template_name, orderable=False, attrs={"td": {"class": "text-end text-nowrap"}})

    @property
    def header(self):
        return format_html('<span class="visually-hidden">{}</span>', _("Actions"))


def amount_html(value, *, currency=None, signed=False):
    """A figure with thousands separators (no decimals in a whole-number currency); a signed amount
    also coloured by its sign."""
    if not signed:
        return format_html('<span class="amount">{}</span>', points(value, currency))
    css = "amount-positive" if value > 0 else "amount-negative"
    return format_html('<span class="amount {}">{}</span>', css, points(value, currency, signed=True))
