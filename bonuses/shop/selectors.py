"""Reads of the shop's screens. Balances come from the ledger's selectors."""

from django.db.models import Q

from bonuses import selectors

from .models import Category, Gift, Order


def shop_gifts(user, *, category=None, query: str = "", sort: str = "", affordable: bool = False):
    """Active gifts in stock or not, filtered as the shop page asks; "affordable" means by my active balance now."""
    gifts = Gift.objects.filter(is_active=True).select_related("category", "currency")
    if category:
        gifts = gifts.filter(category=category)
    if query:
        gifts = gifts.filter(Q(name__icontains=query) | Q(description__icontains=query))
    if affordable:
        affordable_in = Q(pk__in=[])
        restricted = {state.currency.pk for state in selectors.account_states(user, restricted_only=True)}
        for currency, figures in selectors.balances(user):
            if currency.pk not in restricted:  # a blocked or accumulate-only account affords nothing now
                affordable_in |= Q(currency=currency, price__lte=figures.active)
        gifts = gifts.filter(affordable_in).exclude(stock=0)
    return gifts.order_by({"price": "price", "-price": "-price"}.get(sort, "name"), "pk")


def catalog_categories():
    """The categories that have a gift in the shop."""
    return Category.objects.filter(gifts__is_active=True).distinct()


def orders_of(user):
    """The employee's own orders, newest first."""
    return Order.objects.filter(user=user).select_related("gift", "currency")


def all_orders():
    """Every order, as the administrators' list shows it."""
    return Order.objects.select_related("user__department", "gift", "currency")


def catalog(query: str = ""):
    """The administrators' catalog: active gifts first, searched by gift or category name."""
    gifts = Gift.objects.select_related("category", "currency").order_by("-is_active", "name")
    return gifts.filter(Q(name__icontains=query) | Q(category__name__icontains=query)) if query else gifts
