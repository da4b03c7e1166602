"""The models of the ledger: `base.py` (amount columns, immutable rows), `ledger.py` (currencies,
accounts, lots, entries, allocations, reservations, batches, idempotency keys), `accounts.py` (the
log of account states), `budgets.py` (managers' budgets and their movements; a currency's budget policy)
`approvals.py` (four-eyes approval: a currency's policy and the grant requests) and `campaigns.py`
(segments, campaigns and their awards).

The shop's models (`bonuses.shop.models`) and the outbox's (`giftshop.outbox.models`) lived here
before they moved to apps of their own; `from bonuses.models import Gift, Order, OutgoingEmail, …`
still finds them, looked up only when asked for (PEP 562), so the ledger never imports them itself.
"""

from importlib import import_module

from .accounts import AccountStateChange
from .approvals import ApprovalPolicy, GrantRequest
from .base import AMOUNT, ZERO, ImmutableModel, ImmutableQuerySet
from .budgets import Budget, BudgetMovement, BudgetPolicy
from .campaigns import Campaign, CampaignAward, CampaignRunDay, Segment
from .ledger import (
    Account,
    Allocation,
    Batch,
    Currency,
    Entry,
    IdempotencyKey,
    Lot,
    Reservation,
)

MOVED = {
    "Category": "bonuses.shop.models",
    "CodeGuard": "bonuses.shop.models",
    "ConfirmationCode": "bonuses.shop.models",
    "Gift": "bonuses.shop.models",
    "Order": "bonuses.shop.models",
    "OutgoingEmail": "giftshop.outbox.models",
}


def __getattr__(name: str):
    if name in MOVED:
        return getattr(import_module(MOVED[name]), name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


__all__ = [
    "AMOUNT",
    "ZERO",
    "Account",
    "AccountStateChange",
    "Allocation",
    "ApprovalPolicy",
    "Batch",
    "Budget",
    "Campaign",
    "CampaignAward",
    "CampaignRunDay",
    "BudgetMovement",
    "BudgetPolicy",
    "Currency",
    "Entry",
    "GrantRequest",
    "IdempotencyKey",
    "ImmutableModel",
    "ImmutableQuerySet",
    "Lot",
    "Reservation",
    "Segment",
]
