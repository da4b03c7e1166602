"""Errors of the ledger. Every refused operation raises one of these and changes nothing."""

from dataclasses import dataclass
from decimal import Decimal

from django.utils.translation import gettext_lazy as _


class BonusError(Exception):
    """The root of every ledger error; `message` is for people."""

    default_message = _("The operation was refused.")

    def __init__(self, message=None):
        self.message = str(message or self.default_message)
        super().__init__(self.message)


class InvalidAmount(BonusError):
    default_message = _("Enter an amount greater than zero.")


class AmountAboveMaximum(InvalidAmount):
    """More than one operation may move (rules.MAX_OPERATION)."""

    default_message = _("The amount is more than the maximum for one operation.")


class BalanceAboveMaximum(BonusError):
    """An accrual that would take an account past what it may be credited in all (rules.MAX_BALANCE)."""

    default_message = _("The accrual would take the account past the maximum it may be credited.")


class InsufficientBalance(BonusError):
    default_message = _("The amount is more than the available balance.")


class NoAccount(BonusError):
    """The employee has no account in the currency: nothing was ever credited to spend or take."""

    default_message = _("The employee has no points in this currency.")


class AccountBlocked(BonusError):
    default_message = _("This account is blocked: its points cannot be spent or reserved.")


class AccumulateOnly(AccountBlocked):
    """An accumulate-only account: it receives points but cannot spend or reserve them."""

    default_message = _("This account only accumulates points: they cannot be spent yet.")


class NotPermitted(BonusError):
    """An operation only an administrator may do, asked by someone else (or on their own account)."""

    default_message = _("Only an administrator may do this.")


class InvalidDates(BonusError):
    default_message = _("The dates of the accrual are not valid.")


class CommentTooLong(BonusError):
    """A comment beyond rules.MAX_COMMENT characters."""

    default_message = _("The comment is too long.")


class InactiveEmployee(BonusError):
    default_message = _("The employee is not active.")


class NoEmployees(BonusError):
    default_message = _("Select at least one employee.")


class OperationInPast(BonusError):
    default_message = _("The operation is dated before the account's latest entry.")


class ReservationResolved(BonusError):
    default_message = _("This reservation has already been resolved.")


class IdempotencyConflict(BonusError):
    default_message = _("This request was already submitted with different data.")


class InvalidSettings(BonusError):
    default_message = _("The settings are not valid.")


class CurrencyExists(InvalidSettings):
    """A currency's name is taken, in any letter case."""

    default_message = _("A currency of this name already exists.")


# Reversing a batch ---------------------------------------------------------------------------


@dataclass(frozen=True)
class Shortfall:
    """A recipient who can no longer give back what a batch gave them."""

    employee_id: int
    name: str
    received: Decimal
    active: Decimal  # what can be taken back now: the active balance (and the batch's points not yet active)
    missing: Decimal


class BatchAlreadyReversed(BonusError):
    default_message = _("This batch has already been reversed.")


class BatchNotReversible(BonusError):
    """A reversal cannot itself be reversed; only administrators reverse a batch."""

    default_message = _("This batch cannot be reversed.")


class ReversalShortfall(BonusError):
    """Some recipients have spent or lost part of the points: the whole reversal is refused; `shortfalls`
    lists every one of them (empty when a remembered refusal is replayed for an idempotency key)."""

    default_message = _("Some employees have already spent or lost part of these points; nothing was reversed.")

    def __init__(self, message=None, shortfalls: tuple[Shortfall, ...] = ()):
        super().__init__(message)
        self.shortfalls = tuple(shortfalls)
