"""Django admin for the ledger: read-only views of lots, entries and reservations (see issue 3)."""
