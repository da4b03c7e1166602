"""Currencies: which one an operation means, a new one, and changes of a currency's settings.

A currency's name is unique in any letter case ("Stars" and "stars" are one currency to a person);
the names are compared in Python (casefold), the same on every database, with every currency row
locked first, so that two administrators adding or renaming at once cannot both take a name.
Exactly one currency is the default (a database constraint): a new one never is.
"""

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils.translation import gettext as _

from .. import exceptions
from ..models import Currency
from .core import administers


def get_currency(currency: Currency | None = None) -> Currency:
    """The currency given, or the default one."""
    return currency if currency is not None else Currency.objects.get(is_default=True)


def create_currency(*, actor, name: str, **settings) -> Currency:
    """Add a currency with these settings (the fields of Currency, validated by Currency.clean).

    Refused: an actor who is not an administrator (NotPermitted), a name another currency has in any
    letter case (CurrencyExists), settings the model refuses (InvalidSettings).
    """
    if not administers(actor):
        raise exceptions.NotPermitted(_("Only an administrator can add a currency."))
    with transaction.atomic():
        currency = Currency(**settings, name=(name or "").strip())
        currency.is_default = False
        _check_name_free(currency.name)
        _validated(currency).save()
    return currency


def update_currency_settings(currency: Currency, **changes) -> Currency:
    """Change a currency's settings (validated by Currency.clean); they apply from now on."""
    with transaction.atomic():
        if "name" in changes:
            changes["name"] = (changes["name"] or "").strip()
            _check_name_free(changes["name"], other_than=currency.pk)
        locked = Currency.objects.select_for_update().get(pk=currency.pk)
        for name, value in changes.items():
            setattr(locked, name, value)
        _validated(locked).save()
    currency.refresh_from_db()  # the caller's instance shows the new settings too
    return locked


def _check_name_free(name: str, *, other_than: int | None = None) -> None:
    """CurrencyExists if another currency has this name in any letter case; locks every currency row first."""
    # In primary-key order, before the currency being changed is locked: two such calls wait, never deadlock.
    names = Currency.objects.select_for_update().exclude(pk=other_than).order_by("pk").values_list("name", flat=True)
    taken = next((other for other in names if other.casefold() == name.casefold()), None)
    if name and taken is not None:
        raise exceptions.CurrencyExists(_("A currency named “%(name)s” already exists.") % {"name": taken})


def _validated(currency: Currency) -> Currency:
    try:
        currency.full_clean()
    except ValidationError as exc:
        raise exceptions.InvalidSettings(" ".join(exc.messages)) from None
    return currency
