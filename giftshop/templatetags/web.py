"""`{% load web %}`: what pages need of the request beyond Django's own `{% querystring %}`."""

from django import template
from django.utils.html import format_html_join

register = template.Library()


@register.simple_tag(takes_context=True)
def hidden_params(context, *names: str):
    """The page's query parameters, less `names`, as hidden inputs: a GET form that changes one
    parameter (the currency, the page size) keeps the others."""
    query = context["request"].GET
    pairs = ((key, value) for key, values in query.lists() if key not in names for value in values)
    return format_html_join("", '<input type="hidden" name="{}" value="{}">', pairs)
