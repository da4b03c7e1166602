"""The set-based settlement: the activations and expiries due on many locked accounts, in a few statements.

It is the equivalent of planner.plan_settlement for accounts where no burn-out is due;
`settlement.settle_locked` decides which accounts come here, and its docstring names the tests
that prove the two agree. The statements are the same on SQLite and PostgreSQL but for the
clause that tests a list of ids (bulk.one_of). They are written out once, at import, for each
form of scope; what varies travels as named parameters. SQLite computes decimals in binary
floating point: sums are ROUNDed to the amounts' decimal places before they are stored.
"""

from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal

from django.db import connection
from django.db.models import Max, Q

from .. import bulk
from ..models import Account, Allocation, Entry, Lot

TABLES = {
    "accounts": Account._meta.db_table,
    "lots": Lot._meta.db_table,
    "entries": Entry._meta.db_table,
    "allocations": Allocation._meta.db_table,
    "places": Lot._meta.get_field("amount").decimal_places,
}
# The accounts a statement covers, by the `account_id` column of lots and entries: the listed ids,
# or every id from `low` to `high`, or those but the ones in `skip` (settled by the planner). The
# plain range is a form of its own: testing every lot of a range against an empty `skip` costs
# the daily run a fifth of its time.
SCOPE_CLAUSES = {
    "listed": bulk.one_of("account_id", "ids"),
    "range": "account_id BETWEEN %(low)s AND %(high)s",
    "range_but_skipped": "account_id BETWEEN %(low)s AND %(high)s AND " + bulk.none_of("account_id", "skip"),
}

# One entry per activation and per expiry due, in time order per account (activation before expiry
# at the same moment, then by lot), dated no earlier than the account's latest entry, with the
# active balance after it: the events plan_settlement posts when no burn-out is due.
POST_EVENTS = """
    INSERT INTO {entries}
        (account_id, user_id, currency_id, kind, amount, balance_after, at, created_at, comment, lot_id)
    SELECT e.account_id, a.user_id, a.currency_id, e.kind, e.amount,
        ROUND(a.active + SUM(e.amount) OVER (PARTITION BY e.account_id ORDER BY e.moment, e.step, e.lot_id), {places}),
        CASE WHEN a.last_entry_at > e.moment THEN a.last_entry_at ELSE e.moment END, %(at)s, '', e.lot_id
    FROM (
        SELECT account_id, id AS lot_id, activates_at AS moment, 0 AS step, %(activated)s AS kind,
            remaining AS amount
        FROM {lots} WHERE {scope} AND is_activated = %(false)s AND activates_at <= %(at)s AND remaining > 0
        UNION ALL
        SELECT account_id, id, expires_at, 1, %(expired)s, -remaining
        FROM {lots} WHERE {scope} AND remaining > 0 AND expires_at <= %(at)s
    ) e JOIN {accounts} a ON a.id = e.account_id
    ORDER BY e.account_id, e.moment, e.step, e.lot_id
"""
# What those entries posted, per kind.
COUNT_POSTED = "SELECT kind, COUNT(*), SUM(amount) FROM {entries} WHERE id >= %(first)s AND {scope} GROUP BY kind"
# The accounts' figures after those entries.
UPDATE_ACCOUNTS = """
    UPDATE {accounts} SET
        active = ROUND(active + t.gained + t.lost, {places}),
        non_activated = ROUND(non_activated - t.gained, {places}),
        expired = ROUND(expired - t.lost, {places}),
        last_entry_at = t.latest
    FROM (
        SELECT account_id, MAX(at) AS latest,
            SUM(CASE WHEN kind = %(activated)s THEN amount ELSE 0 END) AS gained,
            SUM(CASE WHEN kind = %(expired)s THEN amount ELSE 0 END) AS lost
        FROM {entries} WHERE id >= %(first)s AND {scope} GROUP BY account_id
    ) t
    WHERE {accounts}.id = t.account_id
"""
# The lots, found as the events were (by their own indexes, whatever the planner's statistics).
ACTIVATE_LOTS = """
    UPDATE {lots} SET is_activated = %(true)s WHERE {scope} AND is_activated = %(false)s AND activates_at <= %(at)s
"""
# An expiry takes what is left of its one lot: its allocation mirrors the entry.
ALLOCATE_EXPIRIES = """
    INSERT INTO {allocations} (entry_id, lot_id, amount)
    SELECT id, lot_id, amount FROM {entries} WHERE id >= %(first)s AND kind = %(expired)s AND {scope} ORDER BY id
"""
EMPTY_EXPIRED_LOTS = "UPDATE {lots} SET remaining = 0 WHERE {scope} AND remaining > 0 AND expires_at <= %(at)s"


def _for_each_scope(statement: str) -> dict[str, str]:
    """The statement written out for each form of scope."""
    return {form: statement.format(scope=clause, **TABLES) for form, clause in SCOPE_CLAUSES.items()}


STATEMENTS = {
    name: _for_each_scope(statement)
    for name, statement in {
        "post_events": POST_EVENTS,
        "count_posted": COUNT_POSTED,
        "update_accounts": UPDATE_ACCOUNTS,
        "activate_lots": ACTIVATE_LOTS,
        "allocate_expiries": ALLOCATE_EXPIRIES,
        "empty_expired_lots": EMPTY_EXPIRED_LOTS,
    }.items()
}


@dataclass(frozen=True)
class Scope:
    """Locked accounts to settle: the `listed` ids, or every id from `low` to `high` but those in `skip`.

    Every account in the scope is locked by the caller, so new entries of those accounts are ours.
    """

    listed: tuple[int, ...] | None = None
    low: int = 0
    high: int = 0
    skip: tuple[int, ...] = ()

    @classmethod
    def of_ids(cls, ids) -> "Scope":
        return cls(listed=tuple(ids))

    @classmethod
    def id_range(cls, low: int, high: int) -> "Scope":
        return cls(low=low, high=high)

    @property
    def form(self) -> str:
        if self.listed is not None:
            return "listed"
        return "range_but_skipped" if self.skip else "range"

    @property
    def is_empty(self) -> bool:
        return self.listed is not None and not self.listed

    @property
    def condition(self) -> Q:
        """The scope as a condition on accounts, for the ORM."""
        if self.listed is not None:
            return Q(pk__in=bulk.ids_in(self.listed))
        condition = Q(pk__range=(self.low, self.high))
        return condition & ~Q(pk__in=bulk.ids_in(self.skip)) if self.skip else condition

    def without(self, ids: set[int]) -> "Scope":
        if not ids:
            return self
        if self.listed is not None:
            return Scope(listed=tuple(pk for pk in self.listed if pk not in ids))
        return Scope(low=self.low, high=self.high, skip=tuple(sorted({*self.skip, *ids})))

    @property
    def params(self) -> dict:
        if self.listed is not None:
            return {"ids": bulk.id_list(self.listed)}
        return {"low": self.low, "high": self.high, "skip": bulk.id_list(self.skip)}


def _decimal(value) -> Decimal:
    """A sum read with a raw cursor (a float on SQLite), to the amounts' decimal places."""
    return Decimal(str(value or 0)).quantize(Decimal(1).scaleb(-TABLES["places"]))


def post_in_sql(scope: Scope, at: datetime) -> tuple[int, dict[str, tuple[int, Decimal]]]:
    """Post the activations and expiries due by `at` on these locked accounts, where no burn-out is due.

    Returns how many accounts changed, and per kind of entry how many were posted and their sum.
    """
    if scope.is_empty:
        return 0, {}
    statements = {name: forms[scope.form] for name, forms in STATEMENTS.items()}
    params = {
        **scope.params,
        "at": bulk.adapt(at),
        "activated": Entry.Kind.ACTIVATED,
        "expired": Entry.Kind.EXPIRED,
        "true": True,
        "false": False,
        # Rows of locked accounts inserted after this have larger ids: nobody else can insert them.
        "first": (Entry.objects.aggregate(top=Max("id"))["top"] or 0) + 1,
    }
    with connection.cursor() as cursor:
        cursor.execute(statements["post_events"], params)
        if not cursor.rowcount:
            return 0, {}
        cursor.execute(statements["count_posted"], params)
        posted = {kind: (count, _decimal(total)) for kind, count, total in cursor.fetchall()}
        cursor.execute(statements["update_accounts"], params)
        changed = cursor.rowcount
        if Entry.Kind.ACTIVATED in posted:
            cursor.execute(statements["activate_lots"], params)
        if Entry.Kind.EXPIRED in posted:
            cursor.execute(statements["allocate_expiries"], params)
            cursor.execute(statements["empty_expired_lots"], params)
    return changed, posted
