"""`{% load points %}` and `{{ figure|points }}`: an amount with thousands separators and two places."""

from decimal import Decimal

from django import template

register = template.Library()


@register.filter
def points(value: Decimal | None, signed: bool = False) -> str:
    """12345.5 -> "12,345.50"; with `signed`, "+12,345.50" or "-12,345.50"."""
    if value is None or value == "":
        return ""
    return f"{Decimal(value):+,.2f}" if signed else f"{Decimal(value):,.2f}"
