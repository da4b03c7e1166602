"""Every change of a balance goes through these functions (the one door for money).

Each runs in one transaction, locks the accounts it changes (in primary-key order when there
are several, so that two operations cannot deadlock), first settles those accounts up to its
moment `at`, then writes lots, entries and allocations and updates the stored figures. A
refused operation raises a `BonusError` and leaves nothing behind.
"""

import hashlib
import json
from collections import Counter
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from decimal import Decimal

from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError
from django.db import IntegrityError, connection, models, transaction
from django.db.models import F, Max, Q
from django.utils import timezone
from django.utils.translation import gettext as _

from . import exceptions, notifications, rules
from .models import Account, Allocation, Batch, Currency, Entry, IdempotencyKey, Lot, Reservation

BATCH_SIZE = 1000
SETTLE_CHUNK = 5000  # accounts per transaction of a full settlement: few commits, locks held briefly
ACCRUAL_KINDS = {
    Lot.Source.MANUAL: Entry.Kind.MANUAL_ACCRUAL,
    Lot.Source.BULK: Entry.Kind.MANUAL_ACCRUAL,
    Lot.Source.MANAGER: Entry.Kind.MANAGER_ACCRUAL,
    Lot.Source.IMPORT: Entry.Kind.IMPORT_ACCRUAL,
    Lot.Source.CAMPAIGN: Entry.Kind.CAMPAIGN_ACCRUAL,
}


def _chunks(items: list, size: int = BATCH_SIZE):
    for start in range(0, len(items), size):
        yield items[start : start + size]


# Bulk writes ---------------------------------------------------------------------------------
# Bulk accruals and the daily settlement write tens of thousands of rows. The ORM's bulk_create and
# bulk_update spend most of their time building SQL in Python; these write the same rows with one
# statement run many times. Values are already clean (quantized Decimals, ids, aware datetimes);
# only datetimes need the backend's adaptation (SQLite stores naive UTC text).


def _prepared(model, columns: list[str], rows: list[tuple]) -> list[tuple]:
    adapt = connection.ops.adapt_datetimefield_value
    moments = [i for i, c in enumerate(columns) if isinstance(model._meta.get_field(c), models.DateTimeField)]
    if not moments:
        return rows
    prepared = []
    for row in rows:
        row = list(row)
        for i in moments:
            row[i] = adapt(row[i])
        prepared.append(row)
    return prepared


def _insert(model, columns: list[str], rows: list[tuple]) -> None:
    if rows:
        names = ", ".join(model._meta.get_field(c).column for c in columns)
        marks = ", ".join(["%s"] * len(columns))
        with connection.cursor() as cursor:
            cursor.executemany(
                f"INSERT INTO {model._meta.db_table} ({names}) VALUES ({marks})", _prepared(model, columns, rows)
            )


def _update(model, columns: list[str], rows: list[tuple]) -> None:
    """Each row holds the new values of `columns`, then the primary key."""
    if rows:
        assignments = ", ".join(f"{model._meta.get_field(c).column} = %s" for c in columns)
        with connection.cursor() as cursor:
            cursor.executemany(
                f"UPDATE {model._meta.db_table} SET {assignments} WHERE id = %s",
                _prepared(model, [*columns, "id"], rows),
            )


def _newest_id(model) -> int:
    """Rows of locked accounts inserted after this call have larger ids: nobody else can insert them."""
    return model.objects.aggregate(top=Max("id"))["top"] or 0


def _given(at: datetime | None) -> datetime | None:
    if at is not None and timezone.is_naive(at):
        raise ValueError("`at` must be an aware datetime")
    return at


def _resolve(at: datetime | None, accounts: list[Account]) -> datetime:
    """The operation's moment: as given, or now, read once the accounts are locked.

    Reading the clock after the lock matters: a caller that waited for another's commit must not
    be dated before that commit's entries. A given moment before an account's latest entry is refused.
    """
    if at is None:
        at = max([timezone.now(), *(a.last_entry_at for a in accounts if a.last_entry_at)])
    for account in accounts:
        _check_order(account, at)
    return at


def get_currency(currency: Currency | None = None) -> Currency:
    return currency if currency is not None else Currency.objects.get(is_default=True)


# Idempotency -------------------------------------------------------------------------------


def _normal(value) -> str:
    """A payload value as text, so that 100, "100" and Decimal("100.00") are the same request."""
    try:
        return str(Decimal(str(value).strip()).normalize())
    except ArithmeticError:
        return str(value)


def _payload_hash(operation: str, payload: dict) -> str:
    text = json.dumps({"operation": operation, **payload}, sort_keys=True, default=str)
    return hashlib.sha256(text.encode()).hexdigest()


def _idempotent(actor, key: str | None, operation: str, payload: dict, run: Callable):
    """Run `run()` once per (actor, key): a repeat returns the first result or its refusal again."""
    if not key:
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
            record = IdempotencyKey.objects.select_related("entry", "batch").get(actor=actor, key=key)
            if record.payload_hash != digest:
                raise exceptions.IdempotencyConflict() from None
            if record.error_class:
                raise getattr(exceptions, record.error_class, exceptions.BonusError)(record.error_message) from None
            return record.entry or record.batch
        try:
            with transaction.atomic():
                result = run()
        except exceptions.BonusError as exc:
            # The refusal is remembered (and committed): the same key stays refused.
            record.error_class, record.error_message = type(exc).__name__, exc.message
            record.save(update_fields=["error_class", "error_message"])
            error = exc
        else:
            if isinstance(result, Batch):
                record.batch = result
            else:
                record.entry = result
            record.save(update_fields=["entry", "batch"])
            return result
    raise error


# Locking and settlement --------------------------------------------------------------------


def _lock_accounts(user_ids: list[int], currency: Currency, *, create: bool) -> list[Account]:
    """Lock (and create, if asked) the accounts of these users, in primary-key order."""
    user_ids = sorted(set(user_ids))
    if create:
        for chunk in _chunks(user_ids):
            existing = set(
                Account.objects.filter(currency=currency, user_id__in=chunk).values_list("user_id", flat=True)
            )
            missing = [Account(user_id=uid, currency=currency) for uid in chunk if uid not in existing]
            # Sorted inserts: two transactions creating overlapping accounts wait, never deadlock.
            Account.objects.bulk_create(missing, ignore_conflicts=True)
    pks = []
    for chunk in _chunks(user_ids):
        pks.extend(Account.objects.filter(currency=currency, user_id__in=chunk).values_list("pk", flat=True))
    pks.sort()
    accounts = []
    for chunk in _chunks(pks):
        accounts.extend(Account.objects.select_for_update().filter(pk__in=chunk).order_by("pk"))
    return accounts


def _lock_account(user, currency: Currency, *, create: bool = False) -> Account:
    accounts = _lock_accounts([user.pk], currency, create=create)
    if not accounts:
        raise exceptions.InsufficientBalance(_("%(name)s has no %(currency)s.") % {"name": user, "currency": currency})
    return accounts[0]


def _check_order(account: Account, at: datetime) -> None:
    if account.last_entry_at and at < account.last_entry_at:
        raise exceptions.OperationInPast(
            _("The operation is dated %(at)s, before the account's latest entry (%(last)s).")
            % {"at": timezone.localtime(at), "last": timezone.localtime(account.last_entry_at)}
        )


def _burn_steps(currency: Currency) -> list[dict] | None:
    if currency.burn_policy != Currency.BurnPolicy.FROM_LAST_PURCHASE:
        return None
    return currency.burn_steps or rules.DEFAULT_BURN_STEPS


def _burn_due(account: Account, steps: list[dict] | None, at: datetime) -> bool:
    return bool(
        steps
        and account.streak_started_at
        and account.burned_steps < len(steps)
        and rules.burn_due_at(account.streak_started_at, steps[account.burned_steps]) <= at
    )


def _lots_to_settle(accounts: list[Account], currency: Currency, at: datetime) -> dict[int, list[rules.LotState]]:
    """The lots settlement needs: the due ones, and every open lot where a burn-out is due."""
    steps = _burn_steps(currency)
    burning = [a.pk for a in accounts if _burn_due(a, steps, at)]
    due = Q(is_activated=False, activates_at__lte=at) | Q(remaining__gt=0, expires_at__lte=at)
    if burning:
        due |= Q(account_id__in=burning, remaining__gt=0)
    by_account: dict[int, list[rules.LotState]] = {a.pk: [] for a in accounts}
    for chunk in _chunks([a.pk for a in accounts]):
        for row in Lot.objects.filter(due, account_id__in=chunk).values_list(*rules.LotState.FIELDS):
            lot = rules.LotState(*row)
            by_account[lot.account_id].append(lot)
    return by_account


@dataclass
class SettleResult:
    accounts: int = 0
    counts: Counter = field(default_factory=Counter)
    amounts: dict = field(default_factory=dict)

    def add(self, other: "SettleResult") -> None:
        self.accounts += other.accounts
        self.counts.update(other.counts)
        for kind, amount in other.amounts.items():
            self.amounts[kind] = self.amounts.get(kind, Decimal("0")) + amount


SETTLED_FIELDS = ["active", "non_activated", "expired", "burned_steps", "last_entry_at"]
SETTLE_READS = ["user_id", "currency_id", "streak_started_at", *SETTLED_FIELDS]


def _settle_locked(accounts: list[Account], currency: Currency, at: datetime) -> SettleResult:
    """Post what is due by `at` on these locked accounts (all of one currency), in bulk."""
    result = SettleResult()
    steps = _burn_steps(currency)
    lots_by_account = _lots_to_settle(accounts, currency, at)
    entries, burns, changed, emptied, activated, partial = [], [], [], set(), set(), {}
    for account in accounts:
        lots = lots_by_account[account.pk]
        before = {lot.pk: (lot.remaining, lot.is_activated) for lot in lots}
        burned_before = account.burned_steps
        events = rules.plan_settlement(account, lots, at, steps, currency.quantum)
        if not events and account.burned_steps == burned_before:
            continue
        for event in events:
            entries.append(
                (
                    account.pk,
                    account.user_id,
                    currency.pk,
                    event.kind,
                    event.amount,
                    event.balance_after,
                    event.at,
                    at,
                    "",
                    event.lot.pk if event.lot else None,
                )
            )
            if event.kind == Entry.Kind.BURNED:
                burns.append((account.pk, event))
            result.counts[event.kind] += 1
            result.amounts[event.kind] = result.amounts.get(event.kind, Decimal("0")) + abs(event.amount)
            account.last_entry_at = event.at
        for lot in lots:
            remaining, was_activated = before[lot.pk]
            if lot.is_activated and not was_activated:
                activated.add(lot.pk)
            if lot.remaining == 0 and remaining != 0:
                emptied.add(lot.pk)
            elif lot.remaining != remaining:
                partial[lot.pk] = lot
        changed.append(account)
    if not changed:
        return result
    first_new = _newest_id(Entry) + 1
    _insert(Entry, ENTRY_COLUMNS, entries)
    changed_ids = [account.pk for account in changed]
    with connection.cursor() as cursor:
        for chunk in _chunks(changed_ids):
            # An expiry takes what is left of its one lot: its allocation mirrors the entry.
            cursor.execute(
                f"INSERT INTO {Allocation._meta.db_table} (entry_id, lot_id, amount) "
                f"SELECT id, lot_id, amount FROM {Entry._meta.db_table} "
                f"WHERE kind = %s AND id >= %s AND account_id IN ({', '.join(['%s'] * len(chunk))})",
                [Entry.Kind.EXPIRED, first_new, *chunk],
            )
    if burns:
        # A burn-out takes from several lots; find each new entry by its account and moment.
        new_burns = Entry.objects.filter(
            kind=Entry.Kind.BURNED, id__gte=first_new, account_id__in=[a for a, _ in burns]
        )
        posted = {
            (account_id, moment): pk for pk, account_id, moment in new_burns.values_list("pk", "account_id", "at")
        }
        parts = [(posted[(a, event.at)], lot.pk, part) for a, event in burns for lot, part in event.allocations]
        _insert(Allocation, ["entry_id", "lot_id", "amount"], parts)
    for chunk in _chunks(sorted(activated)):
        Lot.objects.filter(pk__in=chunk).update(is_activated=True)
    for chunk in _chunks(sorted(emptied)):
        Lot.objects.filter(pk__in=chunk).update(remaining=0)
    _update(Lot, ["remaining"], [(lot.remaining, lot.pk) for lot in partial.values()])
    _update(Account, SETTLED_FIELDS, [(*(getattr(a, f) for f in SETTLED_FIELDS), a.pk) for a in changed])
    result.accounts = len(changed)
    return result


ENTRY_COLUMNS = [
    "account_id",
    "user_id",
    "currency_id",
    "kind",
    "amount",
    "balance_after",
    "at",
    "created_at",
    "comment",
    "lot_id",
]


def _burn_candidates(currency: Currency, at: datetime):
    """Accounts that may have a burn-out step due (a small superset; the plan checks exactly)."""
    steps = _burn_steps(currency)
    if not steps:
        return Account.objects.none()
    condition = Q()
    for index, step in enumerate(steps):
        shortest_days = {"days": 1, "months": 28, "years": 365}[step["unit"]] * int(step["period"])
        cutoff = at - timedelta(days=shortest_days)
        condition |= Q(burned_steps=index, streak_started_at__lte=cutoff)
    return Account.objects.filter(condition, currency=currency, streak_started_at__isnull=False)


def settle(*, at: datetime | None = None, account: Account | None = None, progress: Callable | None = None):
    """Post every activation, expiry and burn-out due by `at`: for one account, or for all.

    Idempotent and safe to run concurrently: each chunk of accounts is locked and re-read
    before anything is posted, so a second run finds nothing left to do. Catches up on missed
    days, since every event is dated at its own due moment.
    """
    at = _given(at) or timezone.now()
    if account is not None:
        with transaction.atomic():
            locked = Account.objects.select_for_update(of=("self",)).select_related("currency").get(pk=account.pk)
            return _settle_locked([locked], locked.currency, at)
    result = SettleResult()
    for currency in Currency.objects.all():
        due_lots = Lot.objects.filter(account__currency=currency).filter(
            Q(is_activated=False, activates_at__lte=at) | Q(remaining__gt=0, expires_at__lte=at)
        )
        account_ids = set(due_lots.values_list("account_id", flat=True).distinct())
        account_ids.update(_burn_candidates(currency, at).values_list("pk", flat=True))
        ordered = sorted(account_ids)
        for done, chunk in enumerate(_chunks(ordered, SETTLE_CHUNK), start=1):
            with transaction.atomic():
                accounts = list(
                    Account.objects.select_for_update().filter(pk__in=chunk).order_by("pk").only(*SETTLE_READS)
                )
                result.add(_settle_locked(accounts, currency, at))
            if progress:
                progress(currency, min(done * SETTLE_CHUNK, len(ordered)), len(ordered))
    return result


def _post(account: Account, kind: str, amount: Decimal, at: datetime, *, allocations=(), **fields) -> Entry:
    """Write one entry for figures the caller has already updated on the locked `account`."""
    entry = Entry.objects.create(
        account=account,
        user_id=account.user_id,
        currency_id=account.currency_id,
        kind=kind,
        amount=amount,
        balance_after=account.active,
        at=at,
        **fields,
    )
    Allocation.objects.bulk_create([Allocation(entry=entry, lot=lot, amount=part) for lot, part in allocations])
    account.last_entry_at = at
    return entry


FIGURES = ["active", "reserved", "non_activated", "spent", "written_off", "expired", "total_accrued"]
ACCOUNT_FIELDS = [*FIGURES, "last_entry_at", "streak_started_at", "burned_steps"]


def _spendable_lots(account: Account, at: datetime) -> list[Lot]:
    return list(
        Lot.objects.filter(account=account, is_activated=True, remaining__gt=0).filter(
            Q(expires_at__isnull=True) | Q(expires_at__gt=at)
        )
    )


def _take(account: Account, amount: Decimal, at: datetime) -> list[tuple[Lot, Decimal]]:
    if amount > account.active:
        raise exceptions.InsufficientBalance(
            _("Only %(active)s points are available; %(amount)s were asked for.")
            % {"active": account.active, "amount": amount}
        )
    lots = _spendable_lots(account, at)
    taken = rules.take_fefo(lots, amount, at)
    Lot.objects.bulk_update([lot for lot, _part in taken], ["remaining"])
    return taken


def _prepare(user, currency: Currency, at: datetime | None, *, create: bool = False) -> tuple[Account, datetime]:
    """Lock the account, fix the operation's moment, and settle the account up to it."""
    account = _lock_account(user, currency, create=create)
    at = _resolve(at, [account])
    _settle_locked([account], currency, at)
    return account, at


def _check_employees(user_ids: list[int]) -> None:
    User = get_user_model()
    found = set()
    for chunk in _chunks(user_ids):
        found.update(User.objects.filter(pk__in=chunk, is_active=True).values_list("pk", flat=True))
    missing = len(set(user_ids) - found)
    if missing and len(user_ids) == 1:
        raise exceptions.InactiveEmployee()
    if missing:
        message = _("%(count)d of the selected employees are unknown or not active; nothing was accrued.")
        raise exceptions.InactiveEmployee(message % {"count": missing})


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


def _clean_accrual(currency, at, amount, comment, source, expires_on, lifetime_days, activates_on) -> _Accrual:
    if source not in ACCRUAL_KINDS:
        raise ValueError(f"Unknown accrual source {source!r}")
    amount = rules.clean_amount(amount, currency)
    comment = rules.clean_comment(comment)
    activates_at, expires_at = rules.lot_timing(
        at=at, currency=currency, expires_on=expires_on, lifetime_days=lifetime_days, activates_on=activates_on
    )
    return _Accrual(amount, comment, activates_at, expires_at, source)


def _accrual_payload(users, accrual_args: dict, currency: Currency) -> dict:
    return {"users": users, "currency": currency.pk, **accrual_args, "amount": _normal(accrual_args["amount"])}


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
) -> Entry:
    """Credit `amount` points to one employee as a new lot; returns the accrual entry."""
    currency, at = get_currency(currency), _given(at)
    options = {
        "amount": amount,
        "comment": comment,
        "source": source,
        "expires_on": expires_on,
        "lifetime_days": lifetime_days,
        "activates_on": activates_on,
    }

    def run():
        _check_employees([user.pk])
        account, moment = _prepare(user, currency, at, create=True)
        accrual = _clean_accrual(currency, moment, **options)
        _accrue_locked([account], accrual, currency, moment, actor)
        return Entry.objects.filter(account=account).latest("id")

    return _idempotent(actor, idempotency_key, "accrue", _accrual_payload([user.pk], options, currency), run)


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
) -> Batch:
    """Credit the same amount to many employees in one batch: all of them, or none."""
    currency, at = get_currency(currency), _given(at)
    if hasattr(users, "values_list"):
        user_ids = sorted(set(users.values_list("pk", flat=True)))
    else:
        user_ids = sorted({getattr(u, "pk", u) for u in users})
    options = {
        "amount": amount,
        "comment": comment,
        "source": source,
        "expires_on": expires_on,
        "lifetime_days": lifetime_days,
        "activates_on": activates_on,
    }

    def run():
        if not user_ids:
            raise exceptions.NoEmployees()
        rules.clean_amount(options["amount"], currency)  # refuse a bad amount before locking anything
        _check_employees(user_ids)
        accounts = _lock_accounts(user_ids, currency, create=True)
        moment = _resolve(at, accounts)
        accrual = _clean_accrual(currency, moment, **options)
        _settle_locked(accounts, currency, moment)
        batch = Batch.objects.create(
            currency=currency,
            actor=actor,
            amount=accrual.amount,
            employee_count=len(accounts),
            comment=accrual.comment,
            at=moment,
        )
        _accrue_locked(accounts, accrual, currency, moment, actor, batch=batch)
        return batch

    return _idempotent(actor, idempotency_key, "accrue_many", _accrual_payload(user_ids, options, currency), run)


def _accrue_locked(accounts, accrual: _Accrual, currency, at, actor, batch=None) -> None:
    """Create a lot and an accrual entry on each locked account; update their figures in bulk."""
    kind = ACCRUAL_KINDS[accrual.source]
    gain = accrual.amount if accrual.is_active else Decimal("0")
    bucket = "active" if accrual.is_active else "non_activated"
    now = timezone.now()
    for chunk in _chunks(accounts):
        first_lot = _newest_id(Lot) + 1
        _insert(
            Lot,
            ["account_id", "amount", "remaining", "accrued_at", "activates_at", "expires_at", "is_activated", "source"],
            [
                (
                    a.pk,
                    accrual.amount,
                    accrual.amount,
                    at,
                    accrual.activates_at,
                    accrual.expires_at,
                    accrual.is_active,
                    accrual.source,
                )
                for a in chunk
            ],
        )
        lot_of = dict(
            Lot.objects.filter(id__gte=first_lot, account_id__in=[a.pk for a in chunk]).values_list("account_id", "pk")
        )
        _insert(
            Entry,
            [*ENTRY_COLUMNS, "actor_id", "batch_id"],
            [
                (
                    a.pk,
                    a.user_id,
                    currency.pk,
                    kind,
                    accrual.amount,
                    a.active + gain,
                    at,
                    now,
                    accrual.comment,
                    lot_of[a.pk],
                    getattr(actor, "pk", None),
                    getattr(batch, "pk", None),
                )
                for a in chunk
            ],
        )
        accounts_in_chunk = Account.objects.filter(pk__in=[a.pk for a in chunk])
        accounts_in_chunk.update(
            **{bucket: F(bucket) + accrual.amount},
            total_accrued=F("total_accrued") + accrual.amount,
            last_entry_at=at,
        )
        # The inactivity streak of "burn-out from the last purchase" starts at the first accrual.
        accounts_in_chunk.filter(streak_started_at__isnull=True).update(streak_started_at=at)
    notifications.points_received(
        user_ids=[a.user_id for a in accounts],
        amount=accrual.amount,
        currency=currency,
        comment=accrual.comment,
        activates_at=accrual.activates_at,
        expires_at=accrual.expires_at,
    )


def write_off(
    *,
    user,
    amount,
    actor,
    comment: str = "",
    currency: Currency | None = None,
    idempotency_key: str | None = None,
    at: datetime | None = None,
) -> Entry:
    """Take active points away (first-expiring first), as an administrator does with a comment."""
    currency, at = get_currency(currency), _given(at)
    payload = {"user": user.pk, "currency": currency.pk, "amount": _normal(amount), "comment": comment}

    def run():
        value = rules.clean_amount(amount, currency)
        text = rules.clean_comment(comment)
        account, moment = _prepare(user, currency, at)
        taken = _take(account, value, moment)
        account.active -= value
        account.written_off += value
        account.total_accrued -= value
        entry = _post(
            account, Entry.Kind.MANUAL_WRITE_OFF, -value, moment, allocations=taken, actor=actor, comment=text
        )
        account.save(update_fields=ACCOUNT_FIELDS)
        return entry

    return _idempotent(actor, idempotency_key, "write_off", payload, run)


def set_account_state(*, user, state: str, currency: Currency | None = None) -> Account:
    """Make an account active, accumulate-only or blocked (creating it if need be)."""
    if state not in Account.State.values:
        raise ValueError(f"Unknown account state {state!r}")
    with transaction.atomic():
        account = _lock_account(user, get_currency(currency), create=True)
        account.state = state
        account.save(update_fields=["state"])
        return account


def _check_spendable(account: Account) -> None:
    if account.state == Account.State.BLOCKED:
        raise exceptions.AccountBlocked()
    if account.state == Account.State.ACCUMULATE_ONLY:
        raise exceptions.AccountBlocked(_("This account only accumulates points: they cannot be spent yet."))


def reserve(
    *, user, amount, reference: str, currency: Currency | None = None, at: datetime | None = None, actor=None
) -> Reservation:
    """Hold points for an order: they leave the active balance at once, first-expiring first."""
    currency, at = get_currency(currency), _given(at)
    value = rules.clean_amount(amount, currency)
    with transaction.atomic():
        account, at = _prepare(user, currency, at)
        _check_spendable(account)
        taken = _take(account, value, at)
        reservation = Reservation.objects.create(account=account, amount=value, reference=reference, created_at=at)
        account.active -= value
        account.reserved += value
        # A new order resets the inactivity streak of "burn-out from the last purchase".
        account.streak_started_at, account.burned_steps = at, 0
        _post(
            account,
            Entry.Kind.ORDER_RESERVED,
            -value,
            at,
            allocations=taken,
            reservation=reservation,
            actor=actor or user,
        )
        account.save(update_fields=ACCOUNT_FIELDS)
        return reservation


def _prepare_reservation(
    reservation: Reservation, at: datetime | None, expected: str
) -> tuple[Account, Reservation, datetime]:
    """Lock the account, then re-read the reservation: it resolves at most once."""
    account = Account.objects.select_for_update(of=("self",)).select_related("currency").get(pk=reservation.account_id)
    fresh = Reservation.objects.select_for_update().get(pk=reservation.pk)
    if fresh.status != expected:
        raise exceptions.ReservationResolved(
            _("Reservation %(ref)s is %(status)s.") % {"ref": fresh.reference, "status": fresh.get_status_display()}
        )
    at = _resolve(at, [account])
    _settle_locked([account], account.currency, at)
    return account, fresh, at


def capture(reservation: Reservation, *, at: datetime | None = None, actor=None) -> Entry:
    """Turn held points into spent points (the order is completed)."""
    at = _given(at)
    with transaction.atomic():
        account, fresh, at = _prepare_reservation(reservation, at, Reservation.Status.HELD)
        _check_spendable(account)
        account.reserved -= fresh.amount
        account.spent += fresh.amount
        fresh.status, fresh.resolved_at = Reservation.Status.CAPTURED, at
        fresh.save(update_fields=["status", "resolved_at"])
        entry = _post(account, Entry.Kind.ORDER_SPENT, -fresh.amount, at, reservation=fresh, actor=actor)
        account.save(update_fields=ACCOUNT_FIELDS)
    reservation.refresh_from_db()
    return entry


def _taken_by(reservation: Reservation) -> dict[int, Decimal]:
    """Per lot, what the reservation took and has not yet put back."""
    net: dict[int, Decimal] = {}
    for lot_id, part in Allocation.objects.filter(entry__reservation=reservation).values_list("lot_id", "amount"):
        net[lot_id] = net.get(lot_id, Decimal("0")) - part
    return {lot_id: part for lot_id, part in net.items() if part > 0}


def _give_back(account: Account, reservation: Reservation, amount: Decimal) -> list[tuple[Lot, Decimal]]:
    """Put `amount` back into the lots the reservation took it from, latest-expiring first."""
    taken = _taken_by(reservation)
    lots = sorted(Lot.objects.filter(pk__in=taken), key=rules.fefo_key, reverse=True)
    given, left = [], amount
    for lot in lots:
        if left <= 0:
            break
        part = min(taken[lot.pk], left)
        lot.remaining += part
        left -= part
        given.append((lot, part))
    Lot.objects.bulk_update([lot for lot, _part in given], ["remaining"])
    return given


def release(reservation: Reservation, *, at: datetime | None = None, actor=None) -> Entry:
    """Cancel the hold: the points go back into the lots they came from."""
    at = _given(at)
    with transaction.atomic():
        account, fresh, at = _prepare_reservation(reservation, at, Reservation.Status.HELD)
        given = _give_back(account, fresh, fresh.amount)
        account.reserved -= fresh.amount
        account.active += fresh.amount
        fresh.status, fresh.resolved_at = Reservation.Status.RELEASED, at
        fresh.save(update_fields=["status", "resolved_at"])
        entry = _post(
            account, Entry.Kind.ORDER_RELEASED, fresh.amount, at, allocations=given, reservation=fresh, actor=actor
        )
        account.save(update_fields=ACCOUNT_FIELDS)
        # Points that went back into a lot that has meanwhile expired expire again now.
        _settle_locked([account], account.currency, at)
    reservation.refresh_from_db()
    return entry


def refund(reservation: Reservation, *, amount=None, at: datetime | None = None, actor=None) -> Entry:
    """Return spent points (a returned order, in whole or in part) into the lots they came from."""
    at = _given(at)
    with transaction.atomic():
        account, fresh, at = _prepare_reservation(reservation, at, Reservation.Status.CAPTURED)
        refundable = fresh.amount - fresh.refunded
        value = refundable if amount is None else rules.clean_amount(amount, account.currency)
        if value <= 0 or value > refundable:
            raise exceptions.InvalidAmount(
                _("At most %(refundable)s points of this order can be refunded.") % {"refundable": refundable}
            )
        given = _give_back(account, fresh, value)
        account.spent -= value
        account.active += value
        fresh.refunded += value
        fresh.save(update_fields=["refunded"])
        entry = _post(account, Entry.Kind.ORDER_REFUNDED, value, at, allocations=given, reservation=fresh, actor=actor)
        account.save(update_fields=ACCOUNT_FIELDS)
        _settle_locked([account], account.currency, at)
    reservation.refresh_from_db()
    return entry


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
        return locked
