"""Settlement: posting the activations, expiries and burn-outs due on locked accounts.

One path. `settle_locked` is the only function that decides, for a set of locked accounts and a
moment, what is due and which implementation posts it:

- an account with a burn-out step due (rules.burn_step_due) is posted by `post_planned`, which
  writes what planner.plan_settlement plans: a burn-out takes a share of the active balance at its
  moment, from several lots, between the activations and expiries around it, so the planner
  replays the account's events in order;
- every other account is posted by settlement_sql.post_in_sql, a few set-based statements for all
  of them at once.

`planner.plan_settlement` is the reference. The set-based SQL is its equivalent for activations
and expiries where no burn-out is due: the same entries (kind, amount, lot, moment raised to the
account's latest entry, active balance after), allocations, lots and figures. The tests that
prove they agree:

- tests/bonuses/services/test_settlement.py::test_the_set_based_sql_posts_what_the_planner_posts settles
  the same random accounts both ways and compares entries, allocations, lots and figures;
- tests/bonuses/services/test_services.py::test_the_daily_run_posts_what_the_balance_foresaw compares the
  daily run (both implementations, one currency burning out) with selectors.balance, which
  replays the planner;
- tests/bonuses/services/test_stateful.py compares both, after every step, with a reference model of its own.

Every operation settles its locked account first (and again after points went back into lots), a
bulk accrual its listed accounts, and `settle` (the daily run) whole ranges of ids, BATCH_SIZE
accounts per transaction.
"""

from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal

from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from .. import bulk, planner, rules
from ..models import Account, Allocation, Currency, Entry, Lot
from .core import BATCH_SIZE, chunks, lock_id_range, require_aware
from .settlement_sql import Scope, post_in_sql

# What a settlement changes of an account, and what it reads of one to plan it.
SETTLED_FIELDS = ["active", "non_activated", "expired", "burned_steps", "last_entry_at"]
SETTLE_READS = ["user_id", "currency_id", "streak_started_at", *SETTLED_FIELDS]
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


def settle_locked(accounts: Scope | list[Account], currencies: list[Currency], at: datetime) -> SettleResult:
    """Post what is due by `at` on these locked accounts of `currencies`: the one settlement path.

    `accounts` is a Scope (ids), or the model instances of an operation, which are kept up to date.
    Accounts with a burn-out due go to the planner, all others to the set-based SQL.
    """
    instances = None if isinstance(accounts, Scope) else accounts
    scope = accounts if instances is None else Scope.of_ids(account.pk for account in instances)
    result, planned = SettleResult(), set()
    for currency, burning in _burning(scope, instances, currencies, at).items():
        result.add(post_planned(burning, currency, at))
        planned.update(account.pk for account in burning)
    changed, posted = post_in_sql(scope.without(planned), at)
    result.accounts += changed
    for kind, (count, total) in posted.items():
        result.posted(kind, count, total)
    if instances and changed:  # the planner updated its own instances; the SQL did not
        others = [account for account in instances if account.pk not in planned]
        fresh = {
            row[0]: row[1:]
            for row in Account.objects.filter(pk__in=[a.pk for a in others]).values_list("pk", *SETTLED_FIELDS)
        }
        for account in others:
            for name, value in zip(SETTLED_FIELDS, fresh[account.pk], strict=True):
                setattr(account, name, value)
    return result


def _burning(scope: Scope, instances, currencies: list[Currency], at: datetime) -> dict[Currency, list[Account]]:
    """The accounts of the scope where a burn-out step is due by `at`, by currency."""
    burning = {}
    for currency in currencies:
        steps = rules.burn_steps_in_force(currency)
        if not steps:
            continue
        if instances is not None:
            candidates = [account for account in instances if account.currency_id == currency.pk]
        else:
            candidates = _burn_candidates(currency, at).filter(scope.condition).order_by("pk").only(*SETTLE_READS)
        due = [account for account in candidates if rules.burn_step_due(account, steps, at)]
        if due:
            burning[currency] = due
    return burning


def _burn_candidates(currency: Currency, at: datetime):
    """Accounts that have a burn-out step due by `at` (as rules.burn_due_at says; burn_step_due checks each)."""
    condition = Q()
    for index, step in enumerate(rules.burn_steps_in_force(currency) or ()):
        cutoff = rules.burn_cutoff(step, at)
        if cutoff is not None:
            condition |= Q(burned_steps=index, streak_started_at__lt=cutoff)
    if not condition:
        return Account.objects.none()
    return Account.objects.filter(condition, currency=currency, streak_started_at__isnull=False)


def post_planned(accounts: list[Account], currency: Currency, at: datetime) -> SettleResult:
    """Post what planner.plan_settlement plans by `at` on these locked accounts (model instances, updated)."""
    result = SettleResult()
    if not accounts:
        return result
    steps = rules.burn_steps_in_force(currency)
    lots_by_account: dict[int, list[planner.LotState]] = {account.pk: [] for account in accounts}
    open_or_due = Q(remaining__gt=0) | Q(is_activated=False, activates_at__lte=at)
    lots = Lot.objects.filter(open_or_due, account_id__in=bulk.ids_in(lots_by_account))
    for row in lots.values_list(*planner.LotState.FIELDS):
        lot = planner.LotState(*row)
        lots_by_account[lot.account_id].append(lot)
    rows, events, activated, emptied, partial = [], [], set(), set(), {}
    for account in accounts:
        lots = lots_by_account[account.pk]
        before = {lot.pk: (lot.remaining, lot.is_activated) for lot in lots}
        for event in planner.plan_settlement(account, lots, at, steps, currency.quantum):
            lot_id = event.lot.pk if event.lot else None
            row = (account.pk, account.user_id, currency.pk, event.kind, event.amount, event.balance_after, event.at)
            rows.append((*row, at, "", lot_id))
            events.append(event)
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
    # An expiry takes from its one lot, a burn-out from several: each allocation goes with its entry's id.
    entry_ids = bulk.insert(Entry, ENTRY_COLUMNS, rows, returning=True)
    allocations = [
        (entry_id, lot.pk, part)
        for entry_id, event in zip(entry_ids, events, strict=True)
        for lot, part in event.allocations
    ]
    bulk.insert(Allocation, ["entry_id", "lot_id", "amount"], allocations)
    if activated:
        Lot.objects.filter(pk__in=bulk.ids_in(sorted(activated))).update(is_activated=True)
    if emptied:
        Lot.objects.filter(pk__in=bulk.ids_in(sorted(emptied))).update(remaining=0)
    bulk.update(Lot, ["remaining"], [(lot.remaining, lot.pk) for lot in partial.values()])
    # Every account given changed: its burned_steps moved on, even when a step found nothing to burn.
    bulk.update(Account, SETTLED_FIELDS, [(*(getattr(a, f) for f in SETTLED_FIELDS), a.pk) for a in accounts])
    result.accounts = len(accounts)
    return result


def settle(*, at: datetime | None = None, account: Account | None = None, progress: Callable | None = None):
    """Post every activation, expiry and burn-out due by `at`: for one account, or for all.

    Idempotent and safe to run concurrently: each batch of accounts is locked before what is due
    is read, so a second run finds nothing left to do. Catches up on missed days, since every
    event is dated at its own due moment.
    """
    at = require_aware(at) or timezone.now()
    if account is not None:
        with transaction.atomic():
            locked = Account.objects.select_for_update(of=("self",)).select_related("currency").get(pk=account.pk)
            return settle_locked([locked], [locked.currency], at)
    currencies = list(Currency.objects.all())
    due_lots = Lot.objects.filter(Q(is_activated=False, activates_at__lte=at) | Q(remaining__gt=0, expires_at__lte=at))
    account_ids = set(due_lots.values_list("account_id", flat=True).distinct())
    for currency in currencies:
        account_ids.update(_burn_candidates(currency, at).values_list("pk", flat=True))
    ordered, result = sorted(account_ids), SettleResult()
    for done, chunk in enumerate(chunks(ordered), start=1):
        with transaction.atomic():
            # The whole range is locked and settled: accounts between the due ones simply have nothing due.
            lock_id_range(chunk[0], chunk[-1])
            result.add(settle_locked(Scope.id_range(chunk[0], chunk[-1]), currencies, at))
        if progress:
            progress(min(done * BATCH_SIZE, len(ordered)), len(ordered))
    return result
