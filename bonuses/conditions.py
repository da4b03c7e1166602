"""What each condition on employees means, once: the accrual table's filters (bonuses/filters.py) and the
segments (`selectors.segment_members`) both apply these to a queryset of users."""

from datetime import date, timedelta

from django.db.models import Count, DecimalField, FilteredRelation, Q, Value
from django.db.models.functions import Coalesce

from .models import AMOUNT, ZERO, Account


def with_balance(users, currency):
    """Annotate each user with `balance` (the active points of their account in `currency`, 0 without one) and
    `account_state`."""
    return users.annotate(
        account=FilteredRelation("bonus_accounts", condition=Q(bonus_accounts__currency=currency))
    ).annotate(
        balance=Coalesce("account__active", Value(ZERO), output_field=DecimalField(**AMOUNT)),
        account_state=Coalesce("account__state", Value(Account.State.ACTIVE.value)),
    )


def balance_from(users, amount):
    """Users (annotated by `with_balance`) with at least `amount` active points."""
    return users.filter(balance__gte=amount)


def balance_to(users, amount):
    return users.filter(balance__lte=amount)


def hired_from(users, day: date):
    """Hired on `day` or later."""
    return users.filter(hire_date__gte=day)


def hired_until(users, day: date):
    """Hired on `day` or before."""
    return users.filter(hire_date__lte=day)


def in_departments(users, departments):
    return users.filter(department__in=departments)


def in_cities(users, cities):
    return users.filter(city__in=cities)


def in_positions(users, positions):
    return users.filter(position__in=positions)


def with_tags(users, tags, *, every: bool = False):
    """Users with any of these tags, or with every one of them."""
    tags = list(tags)
    if not tags:
        return users
    if not every:
        return users.filter(tags__in=tags).distinct()
    tagged = users.model.objects.filter(tags__in=tags).annotate(n=Count("tags")).filter(n=len(set(tags)))
    return users.filter(pk__in=tagged.values("pk"))


def days_before(on: date, days: int) -> date:
    """The day `days` days before `on` ("at least N days since" means on or before it)."""
    try:
        return on - timedelta(days=days)
    except OverflowError:
        return date.min
