"""Errors of the gift shop: refused orders and confirmation codes, under the ledger's one root `BonusError`."""

from django.utils.translation import gettext_lazy as _

from bonuses.exceptions import BonusError


class OrderError(BonusError):
    default_message = _("The order cannot be placed.")


class OutOfStock(OrderError):
    default_message = _("Not enough of this gift is left in stock.")


class OrderStateError(OrderError):
    default_message = _("The order is not in a state that allows this.")


class CodeError(BonusError):
    default_message = _("The confirmation code is not valid.")


class CodeBlocked(CodeError):
    default_message = _("Too many wrong codes: confirmation is blocked for 12 hours.")
