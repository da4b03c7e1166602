"""Currencies: which one an operation means, and changes of a currency's settings."""

from django.core.exceptions import ValidationError
from django.db import transaction

from .. import exceptions
from ..models import Currency


def get_currency(currency: Currency | None = None) -> Currency:
    """The currency given, or the default one."""
    return currency if currency is not None else Currency.objects.get(is_default=True)


def update_currency_settings(currency: Currency, **changes) -> Currency:
    """Change a currency's settings (validated by Currency.clean); they apply from now on."""
    with transaction.atomic():
        locked = Currency.objects.select_for_update().get(pk=currency.pk)
        for name, value in changes.items():
            setattr(locked, name, value)
        try:
            locked.full_clean()
        except ValidationError as exc:
            raise exceptions.InvalidSettings(" ".join(exc.messages)) from None
        locked.save()
    currency.refresh_from_db()  # the caller's instance shows the new settings too
    return locked
