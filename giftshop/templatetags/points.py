"""`{% load points %}` and `{{ figure|points:currency }}`: an amount with thousands separators, and two
places unless the currency counts in whole numbers ("1,200" Stars, "1,200.50" Bonuses).

Without a currency the figure keeps two places. A fraction is never hidden: a whole-number
currency shows one with two places too, so that a figure always says what is stored.
"""

from decimal import Decimal

from django import template

register = template.Library()


def is_whole(value: Decimal, currency) -> bool:
    """Whether `value` is shown (and exported) without decimals: whole, in a whole-number currency."""
    return bool(getattr(currency, "whole_numbers", False)) and value == value.to_integral_value()


@register.filter
def points(value: Decimal | None, currency=None, signed: bool = False) -> str:
    """12345.5 -> "12,345.50"; 1200 in a whole-number currency -> "1,200"; `signed` adds "+" or "-"."""
    if value is None or value == "":
        return ""
    value = Decimal(value)
    places = 0 if is_whole(value, currency) else 2
    return f"{value:+,.{places}f}" if signed else f"{value:,.{places}f}"
