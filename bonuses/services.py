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
from datetime import date, datetime
from decimal import Decimal

from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError
from django.db import IntegrityError, connection, transaction
from django.db.models import DecimalField, F, Max, Q
from django.db.models.functions import Round
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from . import bulk, exceptions, notifications, rules
from .models import Account, Allocation, Batch, Currency, Entry, IdempotencyKey, Lot, Reservation

BATCH_SIZE = 5000  # ids per statement (an IN list), and accounts per transaction of a full settlement
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
# Bulk accruals and the daily settlement write tens of thousands of rows. Model instances and the
# ORM's lookups on 10,000 ids cost more than the writes themselves, so these paths work on account
# ids with set-based SQL (INSERT ... SELECT, UPDATE ... FROM), the same statements on SQLite and
# PostgreSQL, and with `bulk` for rows built in Python. SQLite computes decimals in binary floating
# point: sums are ROUNDed to the amounts' decimal places before they are stored.

ACCOUNTS, LOTS, ENTRIES, ALLOCATIONS = (model._meta.db_table for model in (Account, Lot, Entry, Allocation))
PLACES = Lot._meta.get_field("amount").decimal_places


def _aware(value: datetime | None) -> datetime | None:
    """A datetime read with a raw cursor: PostgreSQL gives it aware, SQLite naive in UTC."""
    if value is not None and timezone.is_naive(value):
        return timezone.make_aware(value, connection.timezone)
    return value


def _decimal(value) -> Decimal:
    """A sum read with a raw cursor (a float on SQLite), to the amounts' decimal places."""
    return Decimal(str(value or 0)).quantize(Decimal(1).scaleb(-PLACES))


def _newest_id(model) -> int:
    """Rows of locked accounts inserted after this call have larger ids: nobody else can insert them."""
    return model.objects.aggregate(top=Max("id"))["top"] or 0


def _given(at: datetime | None) -> datetime | None:
    if at is not None and timezone.is_naive(at):
        raise ValueError("`at` must be an aware datetime")
    return at


def _resolve(at: datetime | None, latest: datetime | None) -> datetime:
    """The operation's moment: as given, or now, read once the accounts are locked.

    `latest` is the latest entry of the locked accounts. Reading the clock after the lock matters:
    a caller that waited for another's commit must not be dated before that commit's entries. A
    given moment before the latest entry is refused.
    """
    if at is None:
        return max(timezone.now(), latest) if latest else timezone.now()
    if latest and at < latest:
        raise exceptions.OperationInPast(
            _("The operation is dated %(at)s, before the account's latest entry (%(last)s).")
            % {"at": timezone.localtime(at), "last": timezone.localtime(latest)}
        )
    return at


def get_currency(currency: Currency | None = None) -> Currency:
    return currency if currency is not None else Currency.objects.get(is_default=True)


# Idempotency -------------------------------------------------------------------------------


def _normal(value) -> str:
    """A payload value as text, so that 1000, "1000", "1 000" and Decimal("1000.00") are the same request."""
    try:
        number = rules.parse_amount(value) if isinstance(value, str) else Decimal(str(value).strip())
        return str(number.normalize())
    except (ArithmeticError, exceptions.InvalidAmount):
        return str(value)


def _payload_hash(operation: str, payload: dict) -> str:
    text = json.dumps({"operation": operation, **payload}, sort_keys=True, default=str)
    return hashlib.sha256(text.encode()).hexdigest()


def _idempotent(actor, key: str | None, operation: str, payload: dict, run: Callable, *, check: Callable | None = None):
    """Run `run()` once per (actor, key): a repeat returns the first result or its refusal again.

    `check()`, if given, runs first and outside `run()`'s transaction: what it writes stays even when it
    refuses (a wrong confirmation code counts), and a repeat of the key does not run it again.
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
            record = IdempotencyKey.objects.select_related("entry", "batch", "order").get(actor=actor, key=key)
            if record.payload_hash != digest:
                raise exceptions.IdempotencyConflict() from None
            if record.error_class:
                raise getattr(exceptions, record.error_class, exceptions.BonusError)(record.error_message) from None
            return record.entry or record.batch or record.order
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


idempotent = _idempotent  # public: the shop's orders are idempotent the same way


# Locking and settlement --------------------------------------------------------------------


def _account_ids(user_ids: list[int], currency: Currency, *, create: bool) -> list[int]:
    """The ids of these users' accounts in `currency`, sorted; missing accounts are created if asked."""
    found: dict[int, int] = {}

    def read(ids):
        with connection.cursor() as cursor:
            for chunk in _chunks(ids):
                cursor.execute(
                    f"SELECT user_id, id FROM {ACCOUNTS} WHERE currency_id = %s AND user_id IN ({bulk.marks(chunk)})",
                    [currency.pk, *chunk],
                )
                found.update(cursor.fetchall())

    user_ids = sorted(set(user_ids))
    read(user_ids)
    missing = [uid for uid in user_ids if uid not in found]
    if create and missing:
        # Sorted inserts: two transactions creating overlapping accounts wait, never deadlock.
        Account.objects.bulk_create([Account(user_id=uid, currency=currency) for uid in missing], ignore_conflicts=True)
        read(missing)
    return sorted(found.values())


def _lock(account_ids: list[int]) -> datetime | None:
    """Lock these accounts in primary-key order; returns the latest of their latest entries.

    PostgreSQL locks each row (FOR UPDATE); on SQLite the IMMEDIATE transaction already holds the
    database's write lock.
    """
    suffix = " FOR UPDATE" if connection.features.has_select_for_update else ""
    latest = None
    with connection.cursor() as cursor:
        for chunk in _chunks(sorted(account_ids)):
            cursor.execute(
                f"SELECT last_entry_at FROM {ACCOUNTS} WHERE id IN ({bulk.marks(chunk)}) ORDER BY id{suffix}", chunk
            )
            moments = [moment for (moment,) in cursor.fetchall() if moment is not None]
            if moments and (latest is None or max(moments) > latest):
                latest = max(moments)
    return _aware(latest)


def _lock_account(user, currency: Currency, *, create: bool = False) -> Account:
    ids = _account_ids([user.pk], currency, create=create)
    if not ids:
        raise exceptions.InsufficientBalance(_("%(name)s has no %(currency)s.") % {"name": user, "currency": currency})
    return Account.objects.select_for_update().get(pk=ids[0])


def _burn_steps(currency: Currency) -> list[dict] | None:
    if currency.burn_policy != Currency.BurnPolicy.FROM_LAST_PURCHASE:
        return None
    return currency.burn_steps or rules.DEFAULT_BURN_STEPS


def _burn_due(account: Account, steps: list[dict] | None, at: datetime) -> bool:
    if not (steps and account.streak_started_at and account.burned_steps < len(steps)):
        return False
    due = rules.burn_due_at(account.streak_started_at, steps[account.burned_steps])
    return due is not None and due <= at


def _burn_candidates(currency: Currency, at: datetime):
    """Accounts that have a burn-out step due by `at` (as rules.burn_due_at says; _burn_due checks each)."""
    steps = _burn_steps(currency)
    condition = Q()
    for index, step in enumerate(steps or ()):
        cutoff = rules.burn_cutoff(step, at)
        if cutoff is not None:
            condition |= Q(burned_steps=index, streak_started_at__lt=cutoff)
    if not condition:
        return Account.objects.none()
    return Account.objects.filter(condition, currency=currency, streak_started_at__isnull=False)


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

    def posted(self, kind: str, count: int, amount: Decimal) -> None:
        self.counts[kind] += count
        self.amounts[kind] = self.amounts.get(kind, Decimal("0")) + abs(amount)


SETTLED_FIELDS = ["active", "non_activated", "expired", "burned_steps", "last_entry_at"]
SETTLE_READS = ["user_id", "currency_id", "streak_started_at", *SETTLED_FIELDS]


def _settle_locked(accounts: list[Account], currency: Currency, at: datetime) -> SettleResult:
    """Post what is due by `at` on these locked accounts (model instances, kept up to date)."""
    steps = _burn_steps(currency)
    burning = [account for account in accounts if _burn_due(account, steps, at)]
    result = _settle_planned(burning, currency, at, steps)
    planned = {account.pk for account in burning}
    others = [account for account in accounts if account.pk not in planned]
    in_sql = SettleResult()
    for chunk in _chunks([account.pk for account in others]):
        in_sql.add(_settle_in_sql(_Scope.listed(chunk), at))
    if in_sql.accounts:
        fresh = {
            row[0]: row[1:]
            for row in Account.objects.filter(pk__in=[a.pk for a in others]).values_list("pk", *SETTLED_FIELDS)
        }
        for account in others:
            for name, value in zip(SETTLED_FIELDS, fresh[account.pk], strict=True):
                setattr(account, name, value)
    result.add(in_sql)
    return result


def _settle_burning(currency: Currency, at: datetime, among: Q) -> tuple[SettleResult, set[int]]:
    """Settle by the planner the locked accounts `among` these where a burn-out is due; and their ids."""
    steps = _burn_steps(currency)
    if not steps:
        return SettleResult(), set()
    candidates = _burn_candidates(currency, at).filter(among).order_by("pk").only(*SETTLE_READS)
    burning = [account for account in candidates if _burn_due(account, steps, at)]
    return _settle_planned(burning, currency, at, steps), {account.pk for account in burning}


def _settle_ids(account_ids: list[int], currency: Currency, at: datetime) -> SettleResult:
    """Post what is due by `at` on these locked accounts of `currency`, known by id (a bulk accrual)."""
    result = SettleResult()
    for chunk in _chunks(account_ids):
        planned_result, planned = _settle_burning(currency, at, Q(pk__in=chunk))
        result.add(planned_result)
        result.add(_settle_in_sql(_Scope.listed([pk for pk in chunk if pk not in planned]), at))
    return result


def _settle_range(low: int, high: int, currencies: list[Currency], at: datetime) -> SettleResult:
    """Post what is due by `at` on every account with an id from `low` to `high`, in every currency.

    The daily run locks whole ranges of ids: PostgreSQL finds a range's rows by index, where a list
    of thousands of ids costs more to send and to plan than the work itself.
    """
    if connection.features.has_select_for_update:
        with connection.cursor() as cursor:
            cursor.execute(f"SELECT id FROM {ACCOUNTS} WHERE id BETWEEN %s AND %s ORDER BY id FOR UPDATE", [low, high])
    result, planned = SettleResult(), set()
    for currency in currencies:
        planned_result, burning = _settle_burning(currency, at, Q(pk__range=(low, high)))
        result.add(planned_result)
        planned |= burning
    result.add(_settle_in_sql(_Scope.id_range(low, high, skip=sorted(planned)), at))
    return result


@dataclass
class _Scope:
    """The locked accounts a set-based settlement covers: listed ids, or a range of ids.

    `accounts` is a condition on the `account_id` column of lots and entries. Every account in the
    scope is locked by the caller, so new entries of those accounts are ours.
    """

    accounts: str
    params: list

    @classmethod
    def listed(cls, ids: list[int]) -> "_Scope":
        return cls(f"account_id IN ({bulk.marks(ids)})", list(ids))

    @classmethod
    def id_range(cls, low: int, high: int, skip: list[int]) -> "_Scope":
        """The ids from `low` to `high`, but those in `skip` (settled by the planner)."""
        condition = "account_id BETWEEN %s AND %s" + (f" AND account_id NOT IN ({bulk.marks(skip)})" if skip else "")
        return cls(condition, [low, high, *skip])


# One entry per activation and per expiry due, in time order per account (activation before expiry
# at the same moment, then by lot), dated no earlier than the account's latest entry, with the
# active balance after it: the events plan_settlement posts when no burn-out is due.
SETTLE_EVENTS = f"""
    INSERT INTO {ENTRIES}
        (account_id, user_id, currency_id, kind, amount, balance_after, at, created_at, comment, lot_id)
    SELECT e.account_id, a.user_id, a.currency_id, e.kind, e.amount,
        ROUND(a.active + SUM(e.amount) OVER (PARTITION BY e.account_id ORDER BY e.moment, e.step, e.lot_id), {PLACES}),
        CASE WHEN a.last_entry_at > e.moment THEN a.last_entry_at ELSE e.moment END, %s, '', e.lot_id
    FROM (
        SELECT account_id, id AS lot_id, activates_at AS moment, 0 AS step, '{Entry.Kind.ACTIVATED}' AS kind,
            remaining AS amount
        FROM {LOTS} WHERE {{accounts}} AND is_activated = %s AND activates_at <= %s AND remaining > 0
        UNION ALL
        SELECT account_id, id, expires_at, 1, '{Entry.Kind.EXPIRED}', -remaining
        FROM {LOTS} WHERE {{accounts}} AND remaining > 0 AND expires_at <= %s
    ) e JOIN {ACCOUNTS} a ON a.id = e.account_id
    ORDER BY e.account_id, e.moment, e.step, e.lot_id
"""
# The accounts' figures after those entries.
SETTLE_ACCOUNTS = f"""
    UPDATE {ACCOUNTS} SET
        active = ROUND(active + t.gained + t.lost, {PLACES}),
        non_activated = ROUND(non_activated - t.gained, {PLACES}),
        expired = ROUND(expired - t.lost, {PLACES}),
        last_entry_at = t.latest
    FROM (
        SELECT account_id, MAX(at) AS latest,
            SUM(CASE WHEN kind = '{Entry.Kind.ACTIVATED}' THEN amount ELSE 0 END) AS gained,
            SUM(CASE WHEN kind = '{Entry.Kind.EXPIRED}' THEN amount ELSE 0 END) AS lost
        FROM {ENTRIES} WHERE id >= %s AND {{accounts}} GROUP BY account_id
    ) t
    WHERE {ACCOUNTS}.id = t.account_id
"""


def _settle_in_sql(scope: _Scope, at: datetime) -> SettleResult:
    """Post the activations and expiries due by `at` on these locked accounts, where no burn-out is due."""
    result = SettleResult()
    if not scope.params:
        return result
    accounts, moment = scope.accounts, bulk.adapt(at)
    with connection.cursor() as cursor:
        first = _newest_id(Entry) + 1
        cursor.execute(
            SETTLE_EVENTS.format(accounts=accounts), [moment, *scope.params, False, moment, *scope.params, moment]
        )
        if not cursor.rowcount:
            return result
        cursor.execute(
            f"SELECT kind, COUNT(*), SUM(amount) FROM {ENTRIES} WHERE id >= %s AND {accounts} GROUP BY kind",
            [first, *scope.params],
        )
        posted = {kind: (count, _decimal(total)) for kind, count, total in cursor.fetchall()}
        for kind, (count, total) in posted.items():
            result.posted(kind, count, total)
        cursor.execute(SETTLE_ACCOUNTS.format(accounts=accounts), [first, *scope.params])
        result.accounts = cursor.rowcount
        # The lots, found as the events were (by their own indexes, whatever the planner's statistics).
        if Entry.Kind.ACTIVATED in posted:
            cursor.execute(
                f"UPDATE {LOTS} SET is_activated = %s WHERE {accounts} AND is_activated = %s AND activates_at <= %s",
                [True, *scope.params, False, moment],
            )
        if Entry.Kind.EXPIRED in posted:
            _allocate_expiries(cursor, first, scope)
            cursor.execute(
                f"UPDATE {LOTS} SET remaining = 0 WHERE {accounts} AND remaining > 0 AND expires_at <= %s",
                [*scope.params, moment],
            )
    return result


def _allocate_expiries(cursor, first: int, scope: _Scope) -> None:
    """An expiry takes what is left of its one lot: its allocation mirrors the entry."""
    cursor.execute(
        f"INSERT INTO {ALLOCATIONS} (entry_id, lot_id, amount) SELECT id, lot_id, amount FROM {ENTRIES}"
        f" WHERE id >= %s AND kind = %s AND {scope.accounts} ORDER BY id",
        [first, Entry.Kind.EXPIRED, *scope.params],
    )


def _settle_planned(accounts: list[Account], currency: Currency, at: datetime, steps) -> SettleResult:
    """Post what is due by `at` on these locked accounts, where a burn-out is due: by plan_settlement.

    A burn-out takes a share of the active balance at its moment, from several lots, between the
    activations and expiries around it; the planner replays the account's events in order.
    """
    result = SettleResult()
    if not accounts:
        return result
    lots_by_account: dict[int, list[rules.LotState]] = {account.pk: [] for account in accounts}
    open_or_due = Q(remaining__gt=0) | Q(is_activated=False, activates_at__lte=at)
    for chunk in _chunks(list(lots_by_account)):
        for row in Lot.objects.filter(open_or_due, account_id__in=chunk).values_list(*rules.LotState.FIELDS):
            lot = rules.LotState(*row)
            lots_by_account[lot.account_id].append(lot)
    entries, burns, emptied, activated, partial = [], [], set(), set(), {}
    for account in accounts:
        lots = lots_by_account[account.pk]
        before = {lot.pk: (lot.remaining, lot.is_activated) for lot in lots}
        events = rules.plan_settlement(account, lots, at, steps, currency.quantum)
        for event in events:
            lot_id = event.lot.pk if event.lot else None
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
                    lot_id,
                )
            )
            if event.kind == Entry.Kind.BURNED:
                burns.append((account.pk, event))
            result.posted(event.kind, 1, event.amount)
            account.last_entry_at = event.at
        for lot in lots:
            remaining, was_activated = before[lot.pk]
            if lot.is_activated and not was_activated:
                activated.add(lot.pk)
            if lot.remaining == 0 and remaining != 0:
                emptied.add(lot.pk)
            elif lot.remaining != remaining:
                partial[lot.pk] = lot
    first_new = _newest_id(Entry) + 1
    bulk.insert(Entry, ENTRY_COLUMNS, entries)
    with connection.cursor() as cursor:
        for chunk in _chunks(list(lots_by_account)):
            _allocate_expiries(cursor, first_new, _Scope.listed(chunk))
    # A burn-out takes from several lots; find each new entry by its account and moment.
    new_burns = Entry.objects.filter(kind=Entry.Kind.BURNED, id__gte=first_new, account_id__in=[a for a, _ in burns])
    posted = {(a, moment): pk for pk, a, moment in new_burns.values_list("pk", "account_id", "at")}
    bulk.insert(
        Allocation,
        ["entry_id", "lot_id", "amount"],
        [(posted[(a, event.at)], lot.pk, part) for a, event in burns for lot, part in event.allocations],
    )
    for chunk in _chunks(sorted(activated)):
        Lot.objects.filter(pk__in=chunk).update(is_activated=True)
    for chunk in _chunks(sorted(emptied)):
        Lot.objects.filter(pk__in=chunk).update(remaining=0)
    bulk.update(Lot, ["remaining"], [(lot.remaining, lot.pk) for lot in partial.values()])
    # Every account given changed: its burned_steps moved on, even when a step found nothing to burn.
    bulk.update(Account, SETTLED_FIELDS, [(*(getattr(a, f) for f in SETTLED_FIELDS), a.pk) for a in accounts])
    result.accounts = len(accounts)
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


def settle(*, at: datetime | None = None, account: Account | None = None, progress: Callable | None = None):
    """Post every activation, expiry and burn-out due by `at`: for one account, or for all.

    Idempotent and safe to run concurrently: each batch of accounts is locked before what is due
    is read, so a second run finds nothing left to do. Catches up on missed days, since every
    event is dated at its own due moment.
    """
    at = _given(at) or timezone.now()
    if account is not None:
        with transaction.atomic():
            locked = Account.objects.select_for_update(of=("self",)).select_related("currency").get(pk=account.pk)
            return _settle_locked([locked], locked.currency, at)
    currencies = list(Currency.objects.all())
    due_lots = Lot.objects.filter(Q(is_activated=False, activates_at__lte=at) | Q(remaining__gt=0, expires_at__lte=at))
    account_ids = set(due_lots.values_list("account_id", flat=True).distinct())
    for currency in currencies:
        account_ids.update(_burn_candidates(currency, at).values_list("pk", flat=True))
    ordered, result = sorted(account_ids), SettleResult()
    for done, chunk in enumerate(_chunks(ordered), start=1):
        with transaction.atomic():
            result.add(_settle_range(chunk[0], chunk[-1], currencies, at))
        if progress:
            progress(min(done * BATCH_SIZE, len(ordered)), len(ordered))
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
    at = _resolve(at, account.last_entry_at)
    _settle_locked([account], currency, at)
    return account, at


def _active_emails(user_ids: list[int]) -> list[tuple[str, str]]:
    """The (e-mail, full name) of these (distinct) users; refused unless every one exists and is active."""
    User = get_user_model()
    email, name, active = (User._meta.get_field(f).column for f in ("email", "full_name", "is_active"))
    emails = []
    with connection.cursor() as cursor:
        for chunk in _chunks(user_ids):
            cursor.execute(
                f"SELECT {email}, {name} FROM {User._meta.db_table}"
                f" WHERE {active} = %s AND id IN ({bulk.marks(chunk)})",
                [True, *chunk],
            )
            emails.extend(cursor.fetchall())
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
    options = {
        "amount": amount,
        "comment": comment,
        "source": source,
        "expires_on": expires_on,
        "lifetime_days": lifetime_days,
        "activates_on": activates_on,
    }
    return _accrue("accrue", [user.pk], options, get_currency(currency), _given(at), actor, idempotency_key)


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
    return _accrue("accrue_many", user_ids, options, get_currency(currency), _given(at), actor, idempotency_key)


def _accrue(operation: str, user_ids: list[int], options: dict, currency, at, actor, key) -> Entry | Batch:
    """One accrual (`accrue`: returns its entry) or a batch of them (`accrue_many`: returns the batch)."""
    payload = {"users": user_ids, "currency": currency.pk, **options, "amount": _normal(options["amount"])}

    def run():
        if not user_ids:
            raise exceptions.NoEmployees()
        rules.clean_amount(options["amount"], currency)  # refuse a bad amount before locking anything
        recipients = _active_emails(user_ids)
        account_ids = _account_ids(user_ids, currency, create=True)
        moment = _resolve(at, _lock(account_ids))
        accrual = _clean_accrual(currency, moment, **options)
        _check_balance_room(account_ids, accrual.amount, currency, one=operation == "accrue")
        _settle_ids(account_ids, currency, moment)
        batch = None
        if operation == "accrue_many":
            batch = Batch.objects.create(
                currency=currency,
                actor=actor,
                amount=accrual.amount,
                employee_count=len(account_ids),
                comment=accrual.comment,
                at=moment,
            )
        _accrue_ids(account_ids, accrual, currency, moment, actor, batch)
        notifications.points_received(
            recipients=recipients,
            amount=accrual.amount,
            currency=currency,
            comment=accrual.comment,
            activates_at=accrual.activates_at,
            expires_at=accrual.expires_at,
        )
        return batch or Entry.objects.filter(account_id=account_ids[0]).latest("id")

    return _idempotent(actor, key, operation, payload, run)


def _check_balance_room(account_ids: list[int], amount: Decimal, currency, *, one: bool) -> None:
    """Refuse the whole accrual if it would take any of these accounts past rules.MAX_BALANCE credited in all.

    What an account was credited in all is its total accrued plus what was written off; every figure
    of it is part of that. One statement per chunk finds the accounts that would pass it.
    """
    credited = Round(
        F("total_accrued") + F("written_off"), PLACES, output_field=DecimalField(max_digits=15, decimal_places=2)
    )
    over = []
    for chunk in _chunks(account_ids):
        over += (
            Account.objects.filter(pk__in=chunk)
            .annotate(credited=credited)
            .filter(credited__gt=rules.MAX_BALANCE - amount)
            .order_by("user__full_name", "pk")
            .values_list("user__full_name", "credited")
        )
    rules.check_balance_room(over, currency, one=one)


def _accrue_ids(account_ids: list[int], accrual: _Accrual, currency, at, actor, batch: Batch | None) -> None:
    """Create a lot and an accrual entry on each of these locked accounts, and update their figures."""
    bucket = "active" if accrual.is_active else "non_activated"
    gain = accrual.amount if accrual.is_active else Decimal("0")
    with connection.cursor() as cursor:
        for chunk in _chunks(account_ids):
            ids = bulk.marks(chunk)
            first_lot = _newest_id(Lot) + 1
            cursor.execute(
                f"INSERT INTO {LOTS} (account_id, amount, remaining, accrued_at, activates_at, expires_at,"
                f" is_activated, source) SELECT id, %s, %s, %s, %s, %s, %s, %s FROM {ACCOUNTS}"
                f" WHERE id IN ({ids}) ORDER BY id",
                [accrual.amount, accrual.amount, *map(bulk.adapt, (at, accrual.activates_at, accrual.expires_at))]
                + [accrual.is_active, accrual.source, *chunk],
            )
            cursor.execute(
                f"INSERT INTO {ENTRIES} (account_id, user_id, currency_id, kind, amount, balance_after, at, created_at,"
                f" comment, lot_id, actor_id, batch_id) SELECT a.id, a.user_id, a.currency_id, %s, l.amount,"
                f" ROUND(a.active + %s, {PLACES}), l.accrued_at, %s, %s, l.id, %s, %s"
                f" FROM {LOTS} l JOIN {ACCOUNTS} a ON a.id = l.account_id"
                f" WHERE l.id >= %s AND l.account_id IN ({ids}) ORDER BY l.id",
                [ACCRUAL_KINDS[accrual.source], gain, bulk.adapt(timezone.now()), accrual.comment]
                + [getattr(actor, "pk", None), getattr(batch, "pk", None), first_lot, *chunk],
            )
            # The inactivity streak of "burn-out from the last purchase" starts at the first accrual.
            cursor.execute(
                f"UPDATE {ACCOUNTS} SET {bucket} = ROUND({bucket} + %s, {PLACES}),"
                f" total_accrued = ROUND(total_accrued + %s, {PLACES}), last_entry_at = %s,"
                f" streak_started_at = COALESCE(streak_started_at, %s) WHERE id IN ({ids})",
                [accrual.amount, accrual.amount, bulk.adapt(at), bulk.adapt(at), *chunk],
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
    value = rules.clean_amount(amount, currency, maximum=rules.MAX_BALANCE)  # an order's points may add up
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
    at = _resolve(at, account.last_entry_at)
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
        value = (
            refundable if amount is None else rules.clean_amount(amount, account.currency, maximum=rules.MAX_BALANCE)
        )
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
    currency.refresh_from_db()  # the caller's instance shows the new settings too
    return locked
