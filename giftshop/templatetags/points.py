"""`{% load points %}` and `{{ figure|points:currency }}`: an amount with thousands separators, and two
places unless the currency counts in whole numbers ("1,200" Stars, "1,200.50" Bonuses).

Without a currency the figure keeps two places. A fraction is never hidden: a whole-number
currency shows one with two places too, so that a figure always says what is stored. The formatting
itself is `bonuses.rules.points`, which the services' messages use too.
"""

from django import template

from bonuses.rules import points

__all__ = ["points"]

register = template.Library()
register.filter("points", points)
