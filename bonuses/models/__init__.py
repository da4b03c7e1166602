"""The models of the bonuses app: the ledger (`ledger.py`), the gift shop (`shop.py`), the e-mail outbox (`mail.py`)."""

from .ledger import (
    AMOUNT,
    ZERO,
    Account,
    Allocation,
    Batch,
    Currency,
    Entry,
    IdempotencyKey,
    ImmutableModel,
    ImmutableQuerySet,
    Lot,
    Reservation,
)
from .mail import OutgoingEmail
from .shop import Category, CodeGuard, ConfirmationCode, Gift, Order

__all__ = [
    "AMOUNT",
    "ZERO",
    "Account",
    "Allocation",
    "Batch",
    "Category",
    "CodeGuard",
    "ConfirmationCode",
    "Currency",
    "Entry",
    "Gift",
    "IdempotencyKey",
    "ImmutableModel",
    "ImmutableQuerySet",
    "Lot",
    "Order",
    "OutgoingEmail",
    "Reservation",
]
