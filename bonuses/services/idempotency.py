"""Idempotency keys: a request repeated with the same key runs once, and its repeats get the first answer."""

import hashlib
import json
from collections.abc import Callable
from decimal import Decimal

from django.db import IntegrityError, transaction

from .. import exceptions, rules
from ..models import IdempotencyKey


def normalised_payload_value(value) -> str:
    """A payload value as text, so that 1000, "1000", "1 000" and Decimal("1000.00") are the same request."""
    try:
        number = rules.parse_amount(value) if isinstance(value, str) else Decimal(str(value).strip())
        return str(number.normalize())
    except (ArithmeticError, exceptions.InvalidAmount):
        return str(value)


def _payload_hash(operation: str, payload: dict) -> str:
    text = json.dumps({"operation": operation, **payload}, sort_keys=True, default=str)
    return hashlib.sha256(text.encode()).hexdigest()


def run_idempotent(
    actor, key: str | None, operation: str, payload: dict, run: Callable, *, check: Callable | None = None
):
    """Run `run()` once per (actor, key): a repeat returns the first result or its refusal again.

    `run()` returns an Entry, a Batch, an Order or a GrantRequest (what a repeat gets back). `check()`, if given, runs
    first and outside `run()`'s transaction: what it writes stays even when it refuses (a wrong
    confirmation code counts), and a repeat of the key does not run it again. Without a key, `run()`
    simply runs in a transaction.
    """
    if not key:
        if check is not None:
            check()
        with transaction.atomic():
            return run()
    if actor is None:
        raise ValueError("An idempotency key needs an actor.")
    digest = _payload_hash(operation, payload)
    error = None
    with transaction.atomic():
        try:
            with transaction.atomic():
                record = IdempotencyKey.objects.create(actor=actor, key=key, operation=operation, payload_hash=digest)
        except IntegrityError:
            # Someone used the key first (on PostgreSQL we waited for their commit): replay it.
            record = IdempotencyKey.objects.select_related("entry", "batch", "order", "grantrequest").get(
                actor=actor, key=key
            )
            if record.payload_hash != digest:
                raise exceptions.IdempotencyConflict() from None
            if record.error_class:
                raise getattr(exceptions, record.error_class, exceptions.BonusError)(record.error_message) from None
            return record.entry or record.batch or record.order or record.grantrequest
        try:
            if check is not None:
                check()
            with transaction.atomic():
                result = run()
        except exceptions.BonusError as exc:
            # The refusal is remembered (and committed): the same key stays refused.
            record.error_class, record.error_message = type(exc).__name__, exc.message
            record.save(update_fields=["error_class", "error_message"])
            error = exc
        else:
            field = result._meta.model_name  # the key's fields are named after what it remembers: entry, batch, order
            setattr(record, field, result)
            record.save(update_fields=[field])
            return result
    raise error
