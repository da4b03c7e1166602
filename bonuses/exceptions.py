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


# Grants and managers' budgets ------------------------------------------------------------------


class SelfAward(BonusError):
    """Nobody accrues points to themselves (an administrator may to another administrator)."""

    default_message = _("You cannot accrue points to yourself.")


class OutsideScope(BonusError):
    """A manager grants only to the employees of the departments they manage."""

    default_message = _("You may grant bonuses only to the employees of the departments you manage.")


class BudgetError(BonusError):
    """The root of the errors of managers' budgets."""

    default_message = _("The budget does not allow this.")


class NoBudgetPolicy(BudgetError):
    """The currency has no budget policy: managers cannot grant it, and there are no budgets to change."""

    default_message = _("This currency has no budget policy: managers cannot grant it.")


class NoBudget(BudgetError):
    """There is no budget for the operation: its period is over, or the person grants from none."""

    default_message = _("There is no budget for this period.")


class BudgetExceeded(BudgetError):
    """A manager's grant beyond what is left of their budget; nothing of it is granted."""

    default_message = _("The grant is more than what is left of your budget.")


class BudgetBelowGranted(BudgetError):
    """A reduction would take a budget below what was granted (and is held) from it."""

    default_message = _("A budget cannot be reduced below what was granted from it.")


class AlreadyReturned(BudgetError):
    default_message = _("This grant has already been returned to the budget.")


# Four-eyes approval ---------------------------------------------------------------------------


class ApprovalError(BonusError):
    default_message = _("The request cannot be decided.")


class SelfApproval(ApprovalError):
    """Four eyes: the requester cannot approve (or reject) their own request."""

    default_message = _("You cannot decide your own request: another administrator must.")


class NotAnApprover(ApprovalError):
    default_message = _("Only an administrator can approve or reject a request.")


class RequestDecided(ApprovalError):
    default_message = _("The request was already decided.")


class ReasonRequired(ApprovalError):
    default_message = _("Give the reason for the rejection.")


# Segments and campaigns ---------------------------------------------------------------------------


class InvalidSegment(BonusError):
    """`field`: the setting the refusal is about (a screen shows the message next to it)."""

    default_message = _("The segment's conditions are not valid.")

    def __init__(self, message=None, *, field: str | None = None):
        super().__init__(message)
        self.field = field


class InvalidCampaign(InvalidSegment):
    default_message = _("The campaign's settings are not valid.")


class CampaignHasAwards(InvalidCampaign):
    default_message = _("This campaign has awarded points: it cannot be deleted, only ended.")
