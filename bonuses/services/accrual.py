"""Accruals: new lots credited to one employee (`accrue`) or to many at once (`accrue_many`).

A bulk accrual reaches tens of thousands of accounts: model instances and the ORM's lookups on
10,000 ids cost more than the writes themselves, so it works on account ids with set-based SQL
(INSERT ... SELECT, UPDATE), the same statements on SQLite and PostgreSQL, written out at import;
the accounts travel as one parameter (bulk.one_of). SQLite computes decimals in binary floating
point: sums are ROUNDed to the amounts' decimal places before they are stored.
"""

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal

from django.contrib.auth import get_user_model
from django.db import connection, transaction
from django.db.models import DecimalField, F, Max
from django.db.models.functions import Round
from django.utils import timezone
from django.utils.translation import ngettext

from .. import bulk, exceptions, notifications, rules
from ..models import Account, Batch, Currency, Entry, Lot
from ..roles import draws_on_budget
from . import budgets, grant_requests
from .accounts import check_accruable
from .core import account_ids, lock_accounts, operation_moment, require_aware
from .currency import get_currency
from .idempotency import normalised_payload_value, run_idempotent
from .settlement import Scope, settle_locked

ACCRUAL_KINDS = {
    Lot.Source.MANUAL: Entry.Kind.MANUAL_ACCRUAL,
    Lot.Source.BULK: Entry.Kind.MANUAL_ACCRUAL,
    Lot.Source.MANAGER: Entry.Kind.MANAGER_ACCRUAL,
    Lot.Source.IMPORT: Entry.Kind.IMPORT_ACCRUAL,
    Lot.Source.CAMPAIGN: Entry.Kind.CAMPAIGN_ACCRUAL,
}
TABLES = {
    "accounts": Account._meta.db_table,
    "lots": Lot._meta.db_table,
    "entries": Entry._meta.db_table,
    "places": Lot._meta.get_field("amount").decimal_places,
    "listed": bulk.one_of("id", "ids"),
    "lots_listed": bulk.one_of("l.account_id", "ids"),
}
# A lot on each of the locked accounts, in the order of their ids ...
CREATE_LOTS = """
    INSERT INTO {lots} (account_id, amount, remaining, accrued_at, activates_at, expires_at, is_activated, source)
    SELECT id, %(amount)s, %(amount)s, %(at)s, %(activates_at)s, %(expires_at)s, %(is_activated)s, %(source)s
    FROM {accounts} WHERE {listed} ORDER BY id
""".format(**TABLES)
# ... its accrual entry (the lots inserted from `first_lot` on are ours: the accounts are locked) ...
POST_ACCRUALS = """
    INSERT INTO {entries} (account_id, user_id, currency_id, kind, amount, balance_after, at, created_at,
        comment, lot_id, actor_id, batch_id)
    SELECT a.id, a.user_id, a.currency_id, %(kind)s, l.amount, ROUND(a.active + %(active)s, {places}), l.accrued_at,
        %(now)s, %(comment)s, l.id, %(actor)s, %(batch)s
    FROM {lots} l JOIN {accounts} a ON a.id = l.account_id
    WHERE l.id >= %(first_lot)s AND {lots_listed} ORDER BY l.id
""".format(**TABLES)
# ... and the accounts' figures. The inactivity streak of "burn-out from the last purchase" starts at the first accrual.
CREDIT_ACCOUNTS = """
    UPDATE {accounts} SET active = ROUND(active + %(active)s, {places}),
        non_activated = ROUND(non_activated + %(non_activated)s, {places}),
        total_accrued = ROUND(total_accrued + %(amount)s, {places}),
        last_entry_at = %(at)s, streak_started_at = COALESCE(streak_started_at, %(at)s)
    WHERE {listed}
""".format(**TABLES)


@dataclass(frozen=True)
class _Accrual:
    amount: Decimal
    comment: str
    activates_at: datetime | None
    expires_at: datetime | None
    source: str

    @property
    def is_active(self) -> bool:
        return self.activates_at is None


def accrue(
    *,
    user,
    amount,
    actor,
    comment: str = "",
    currency: Currency | None = None,
    source: str = "manual",
    expires_on: date | None = None,
    lifetime_days: int | None = None,
    activates_on: date | None = None,
    idempotency_key: str | None = None,
    at: datetime | None = None,
    approval=None,
) -> Entry:
    """Credit `amount` points to one employee as a new lot; returns the accrual entry, or the GrantRequest
    the grant became when the currency's approval policy asks for a second person's approval.
    `approval`: the request being approved (services.approve_request passes it)."""
    options = _options(amount, comment, source, expires_on, lifetime_days, activates_on)
    currency = get_currency(currency)
    return _accrue("accrue", [user.pk], options, currency, require_aware(at), actor, idempotency_key, approval)


def accrue_many(
    *,
    users: Iterable,
    amount,
    actor,
    comment: str = "",
    currency: Currency | None = None,
    source: str = "bulk",
    expires_on: date | None = None,
    lifetime_days: int | None = None,
    activates_on: date | None = None,
    idempotency_key: str | None = None,
    at: datetime | None = None,
    approval=None,
) -> Batch:
    """Credit the same amount to many employees in one batch: all of them, or none. Returns the batch, or the
    GrantRequest it became (as `accrue`)."""
    if hasattr(users, "values_list"):
        user_ids = sorted(set(users.values_list("pk", flat=True)))
    else:
        user_ids = sorted({getattr(u, "pk", u) for u in users})
    options = _options(amount, comment, source, expires_on, lifetime_days, activates_on)
    currency = get_currency(currency)
    return _accrue("accrue_many", user_ids, options, currency, require_aware(at), actor, idempotency_key, approval)


def _options(amount, comment, source, expires_on, lifetime_days, activates_on) -> dict:
    """What an accrual asks for, as given (cleaned once the accounts are locked)."""
    return {
        "amount": amount,
        "comment": comment,
        "source": source,
        "expires_on": expires_on,
        "lifetime_days": lifetime_days,
        "activates_on": activates_on,
    }


def _accrue(operation: str, user_ids: list[int], options: dict, currency, at, actor, key, approval=None):
    """One accrual (`accrue`: returns its entry) or a batch of them (`accrue_many`: returns the batch).

    Nobody accrues to themselves. A manager who is not an administrator grants only to the employees of
    the departments they manage and within their budget (services/budgets.py), drawn in this transaction
    after the accounts are locked: over budget, nothing is accrued.
    """
    payload = {
        "users": user_ids,
        "currency": currency.pk,
        **options,
        "amount": normalised_payload_value(options["amount"]),
    }

    def run():
        if not user_ids:
            raise exceptions.NoEmployees()
        rules.clean_amount(options["amount"], currency)  # refuse a bad amount before locking anything
        # A manager's grant (decided by the actor, whatever the source says) draws on their budget.
        policy = budgets.check_grant(actor, user_ids, currency)  # the currency, if the grant draws on a budget
        recipients = _active_emails(user_ids)
        if approval is None:
            request = _request_if_needed(operation, user_ids, options, policy or currency, at, actor)
            if request is not None:
                return request
        ids = account_ids(user_ids, currency, create=True)
        moment = operation_moment(at, lock_accounts(ids))
        check_accruable(ids, actor, currency)
        if approval is not None:  # what the request held comes back to the budget, to be drawn again below
            grant_requests.release_hold(approval, moment, actor)
        source = "manager" if policy is not None and options["source"] in ACCRUAL_KINDS else options["source"]
        accrual = _clean_accrual(currency, moment, **{**options, "source": source})
        _check_balance_room(ids, accrual.amount, currency, one=operation == "accrue")
        total = accrual.amount * len(ids)
        budget = budgets.draw(actor, policy, total, moment) if policy is not None else None
        settle_locked(Scope.of_ids(ids), [currency], moment)
        batch = None
        if operation == "accrue_many":
            batch = Batch.objects.create(
                currency=currency,
                actor=actor,
                amount=accrual.amount,
                employee_count=len(ids),
                comment=accrual.comment,
                at=moment,
            )
        _credit_new_lots(ids, accrual, moment, actor, batch)
        entry = None if batch else Entry.objects.filter(account_id=ids[0]).latest("id")
        if budget is not None:
            budgets.record_grant(budget, total, moment, actor=actor, comment=accrual.comment, batch=batch, entry=entry)
        notifications.points_received(
            recipients=recipients,
            amount=accrual.amount,
            currency=currency,
            comment=accrual.comment,
            activates_at=accrual.activates_at,
            expires_at=accrual.expires_at,
        )
        return batch or entry

    return run_idempotent(actor, key, operation, payload, run)


def _request_if_needed(operation, user_ids, options, currency, at, actor):
    """The GrantRequest the grant becomes under the currency's approval policy (its points held on a manager's
    budget), or None: the grant is posted now."""
    if not currency.approval_required or options["source"] == Lot.Source.CAMPAIGN:
        return None  # a campaign was decided when an administrator saved it
    moment = at or timezone.now()
    from_budget = draws_on_budget(actor)
    source = "manager" if from_budget and options["source"] in ACCRUAL_KINDS else options["source"]
    accrual = _clean_accrual(currency, moment, **{**options, "source": source})  # refused now, not when approved
    total = accrual.amount * len(user_ids)
    bulk = operation == "accrue_many"
    if not grant_requests.needs_approval(
        currency, from_budget=from_budget, bulk=bulk, amount=accrual.amount, total=total
    ):
        return None
    cleaned = {**options, "comment": accrual.comment, "source": source}
    with transaction.atomic():
        return grant_requests.create_request(
            actor=actor,
            currency=currency,
            operation=operation,
            user_ids=user_ids,
            options=cleaned,
            amount=accrual.amount,
            at=moment,
        )


def _active_emails(user_ids: list[int]) -> list[tuple[str, str]]:
    """The (e-mail, full name) of these (distinct) users; refused unless every one exists and is active."""
    emails = list(
        get_user_model().objects.filter(is_active=True, pk__in=bulk.ids_in(user_ids)).values_list("email", "full_name")
    )
    missing = len(user_ids) - len(emails)
    if missing and len(user_ids) == 1:
        raise exceptions.InactiveEmployee()
    if missing:
        message = ngettext(
            "%(count)d of the selected employees is unknown or not active; nothing was accrued.",
            "%(count)d of the selected employees are unknown or not active; nothing was accrued.",
            missing,
        )
        raise exceptions.InactiveEmployee(message % {"count": missing})
    return emails


def _clean_accrual(currency, at, amount, comment, source, expires_on, lifetime_days, activates_on) -> _Accrual:
    if source not in ACCRUAL_KINDS:
        raise ValueError(f"Unknown accrual source {source!r}")
    amount = rules.clean_amount(amount, currency)
    comment = rules.clean_comment(comment)
    activates_at, expires_at = rules.lot_timing(
        at=at, currency=currency, expires_on=expires_on, lifetime_days=lifetime_days, activates_on=activates_on
    )
    return _Accrual(amount, comment, activates_at, expires_at, source)


def _check_balance_room(ids: list[int], amount: Decimal, currency, *, one: bool) -> None:
    """Refuse the whole accrual if it would take any of these accounts past rules.MAX_BALANCE credited in all.

    What an account was credited in all is its total accrued plus what was written off; every figure
    of it is part of that. One statement finds the accounts that would pass it (on the accounts
    alone: their employees' names are read only for the refusal's message).
    """
    places = TABLES["places"]
    credited = Round(
        F("total_accrued") + F("written_off"), places, output_field=DecimalField(max_digits=15, decimal_places=places)
    )
    over = list(
        Account.objects.filter(pk__in=bulk.ids_in(ids))
        .annotate(credited=credited)
        .filter(credited__gt=rules.MAX_BALANCE - amount)
        .values_list("pk", "user_id", "credited")
    )
    if over:
        users = get_user_model().objects.filter(pk__in=[user_id for _pk, user_id, _credited in over])
        names = dict(users.values_list("pk", "full_name"))
        over = sorted((names[user_id], pk, credited) for pk, user_id, credited in over)
        over = [(name, credited) for name, _pk, credited in over]
    rules.check_balance_room(over, currency, one=one)


def _credit_new_lots(ids: list[int], accrual: _Accrual, at: datetime, actor, batch: Batch | None) -> None:
    """Create a lot and an accrual entry on each of these locked accounts, and update their figures."""
    params = {
        "ids": bulk.id_list(ids),
        "amount": accrual.amount,
        "active": accrual.amount if accrual.is_active else Decimal("0"),
        "non_activated": Decimal("0") if accrual.is_active else accrual.amount,
        "at": bulk.adapt(at),
        "activates_at": bulk.adapt(accrual.activates_at),
        "expires_at": bulk.adapt(accrual.expires_at),
        "is_activated": accrual.is_active,
        "source": accrual.source,
        "kind": ACCRUAL_KINDS[accrual.source],
        "now": bulk.adapt(timezone.now()),
        "comment": accrual.comment,
        "actor": getattr(actor, "pk", None),
        "batch": getattr(batch, "pk", None),
        "first_lot": (Lot.objects.aggregate(top=Max("id"))["top"] or 0) + 1,
    }
    with connection.cursor() as cursor:
        cursor.execute(CREATE_LOTS, params)
        cursor.execute(POST_ACCRUALS, params)
        cursor.execute(CREDIT_ACCOUNTS, params)
