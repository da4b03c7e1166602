"""Reversing a batch: a compensating batch takes back, all or nothing, what a bulk accrual gave.

What a reversal takes: from each recipient exactly what the batch gave them (its amount per
employee), as one `reversed` entry on the recipient's lot of the batch (`Entry.lot`), in a
compensating batch that points at the one it reverses (`Batch.reverses`, one-to-one: a batch is
reversed at most once, and the database refuses a second reversal too). A reversal cannot itself be
reversed, and only administrators reverse.

When a recipient can give the points back (SPEC.md sections 3 and 5): active points are alike
whichever lot holds them, and spending takes the first-expiring lot first, which need not be the
batch's: so the test is the recipient's balance, as the issue says. A recipient whose batch lot has
not activated yet still holds every point of it (non-activated points cannot be spent, reserved or
written off), and gives them back as non-activated points (the emptied lot, with nothing left to
activate, is marked activated at once); any other recipient gives them back from the active balance,
and one whose active balance is less than what they received (they spent, reserved, wrote off, or
lost to an expiry or a burn-out part of it) refuses the whole reversal: every such recipient is
listed (`ReversalShortfall`), and nothing changes.

Where the points come from: the batch's own lot first (what is left of it), then the recipient's
other active lots, first-expiring first (planner.take_fefo); allocations record every part, so the
lots' remainders keep adding up. The figures: a reversal lowers total accrued by what it takes, and
the active (or non-activated) balance by as much, so total accrued = active + reserved +
non-activated + spent + expired keeps holding; written off stays the administrators' write-offs, and
the report identity of SPEC.md section 12 counts "reversed" as a movement of its own. Blocked and
accumulate-only accounts are reversed too: like a write-off, a reversal is an administrator's
correction, not spending.

A batch reaches up to tens of thousands of accounts: it works like `accrue_many`, with a fixed number
of set-based statements (INSERT ... SELECT, UPDATE ... FROM), the same on SQLite and PostgreSQL. It
locks the batch first, then its accounts in primary-key order, and settles them up to its moment.
"""

from datetime import datetime
from decimal import Decimal

from django.db import connection
from django.db.models import Case, DecimalField, F, Q, When
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from .. import bulk, exceptions, planner, rules
from ..models import AMOUNT, Allocation, Batch, Entry, Lot
from . import budgets
from .core import lock_accounts, operation_moment, require_aware
from .idempotency import run_idempotent
from .settlement import Scope, settle_locked
from .settlement_sql import TABLES  # the ledger tables, as the settlement statements name them

# A `reversed` entry per recipient of the original batch, in the order of their accounts; a lot that
# has not activated gives back non-activated points, and the active balance stays.
POST_REVERSALS = """
    INSERT INTO {entries} (account_id, user_id, currency_id, kind, amount, balance_after, at, created_at,
        comment, lot_id, actor_id, batch_id)
    SELECT a.id, a.user_id, a.currency_id, %(kind)s, %(taken)s,
        CASE WHEN l.is_activated THEN ROUND(a.active - %(amount)s, {places}) ELSE a.active END,
        %(at)s, %(now)s, %(comment)s, l.id, %(actor)s, %(batch)s
    FROM {entries} g JOIN {lots} l ON l.id = g.lot_id JOIN {accounts} a ON a.id = g.account_id
    WHERE g.batch_id = %(original)s ORDER BY a.id
""".format(**TABLES)
# What is left of each batch lot is taken first: an allocation of it ...
ALLOCATE_FROM_OWN_LOTS = """
    INSERT INTO {allocations} (entry_id, lot_id, amount)
    SELECT r.id, r.lot_id, CASE WHEN l.remaining < %(amount)s THEN -l.remaining ELSE %(taken)s END
    FROM {entries} r JOIN {lots} l ON l.id = r.lot_id
    WHERE r.batch_id = %(batch)s AND l.remaining > 0 ORDER BY r.id
""".format(**TABLES)
# ... and the lot itself. A lot not yet activated gives back all its points: nothing is left to activate,
# and it is marked activated at once (its activation time stays, which the history reads).
TAKE_FROM_OWN_LOTS = """
    UPDATE {lots}
    SET remaining = CASE WHEN remaining < %(amount)s THEN 0 ELSE ROUND(remaining - %(amount)s, {places}) END,
        is_activated = %(true)s
    WHERE remaining > 0 AND id IN (SELECT lot_id FROM {entries} WHERE batch_id = %(original)s)
""".format(**TABLES)
# The accounts' figures: total accrued, and active or non-activated as the lot is.
DEBIT_ACCOUNTS = """
    UPDATE {accounts} SET
        active = ROUND(active - t.from_active, {places}),
        non_activated = ROUND(non_activated - t.from_non_activated, {places}),
        total_accrued = ROUND(total_accrued - %(amount)s, {places}),
        last_entry_at = %(at)s
    FROM (
        SELECT g.account_id,
            CASE WHEN l.is_activated THEN %(amount)s ELSE 0 END AS from_active,
            CASE WHEN l.is_activated THEN 0 ELSE %(amount)s END AS from_non_activated
        FROM {entries} g JOIN {lots} l ON l.id = g.lot_id WHERE g.batch_id = %(original)s
    ) t
    WHERE {accounts}.id = t.account_id
""".format(**TABLES)


def reverse_batch(
    batch: Batch, *, actor, comment: str = "", idempotency_key: str | None = None, at: datetime | None = None
) -> Batch:
    """Take back from every recipient what the batch gave them, all or nothing; returns the compensating batch."""
    at = require_aware(at)
    payload = {"batch": batch.pk, "comment": comment}

    def run():
        text = rules.clean_comment(comment)
        if not _is_administrator(actor):
            raise exceptions.BatchNotReversible(_("Only administrators may reverse a batch."))
        original = _lock_reversible(batch)
        ids = sorted(Entry.objects.filter(batch=original).values_list("account_id", flat=True))
        moment = operation_moment(at, lock_accounts(ids))
        settle_locked(Scope.of_ids(ids), [original.currency], moment)
        _refuse_shortfalls(original)
        compensating = Batch.objects.create(
            currency=original.currency,
            actor=actor,
            amount=original.amount,
            employee_count=len(ids),
            comment=text,
            at=moment,
            reverses=original,
        )
        _take_back(original, compensating, moment)
        budgets.return_grants(original, actor, comment=compensating.comment)  # a manager's grant, to its budget
        return compensating

    return run_idempotent(actor, idempotency_key, "reverse_batch", payload, run)


def _is_administrator(actor) -> bool:
    # The services import nothing of the screens: this is selectors.can_manage, asked of the actor.
    return bool(actor is not None and actor.is_active and actor.has_perm("bonuses.manage_giftshop"))


def _lock_reversible(batch: Batch) -> Batch:
    """The batch, locked (two reversals of it queue here), if it may be reversed now."""
    original = Batch.objects.select_for_update(of=("self",)).select_related("currency").get(pk=batch.pk)
    if original.reverses_id:
        raise exceptions.BatchNotReversible(
            _("Batch %(batch)s is the reversal of batch %(original)s: it cannot be reversed itself.")
            % {"batch": original.pk, "original": original.reverses_id}
        )
    reversal = Batch.objects.filter(reverses=original).select_related("actor").first()
    if reversal is not None:
        raise exceptions.BatchAlreadyReversed(
            _("Batch %(batch)s was already reversed on %(at)s by %(actor)s (batch %(reversal)s).")
            % {
                "batch": original.pk,
                "at": timezone.localtime(reversal.at).strftime("%Y-%m-%d %H:%M"),
                "actor": reversal.actor.full_name if reversal.actor else _("the system"),
                "reversal": reversal.pk,
            }
        )
    return original


def _refuse_shortfalls(original: Batch) -> None:
    """Refuse the whole reversal if any recipient, settled and locked, cannot give back what they received."""
    amount = DecimalField(**AMOUNT)
    # What can be taken back: the batch's own points while they are not active yet, else the active balance.
    available = Case(
        When(lot__is_activated=False, then=F("lot__remaining")), default=F("account__active"), output_field=amount
    )
    rows = (
        Entry.objects.filter(batch=original)
        .annotate(available=available)
        .filter(available__lt=F("amount"))
        .order_by("user__full_name", "user_id")
        .values_list("user_id", "user__full_name", "amount", "available")
    )
    shortfalls = [
        exceptions.Shortfall(user_id, name, received, can_give, received - can_give)
        for user_id, name, received, can_give in rows
    ]
    if shortfalls:
        message = ngettext(
            "%(count)d employee has already spent or lost part of the points of this batch; nothing was reversed.",
            "%(count)d employees have already spent or lost part of the points of this batch; nothing was reversed.",
            len(shortfalls),
        )
        raise exceptions.ReversalShortfall(message % {"count": len(shortfalls)}, shortfalls)


def _take_back(original: Batch, compensating: Batch, at: datetime) -> None:
    """Post the compensating entries, take their points out of the lots, and update the accounts' figures."""
    params = {
        "original": original.pk,
        "batch": compensating.pk,
        "amount": original.amount,
        "taken": -original.amount,
        "kind": Entry.Kind.REVERSED,
        "at": bulk.adapt(at),
        "now": bulk.adapt(timezone.now()),
        "comment": compensating.comment,
        "actor": compensating.actor_id,
        "true": True,
    }
    # Read before the batch lots change: what they lack, to be taken from the recipients' other lots.
    lacking = list(
        Entry.objects.filter(batch=original, lot__is_activated=True, lot__remaining__lt=original.amount).values_list(
            "account_id", "lot_id", "lot__remaining"
        )
    )
    with connection.cursor() as cursor:
        cursor.execute(POST_REVERSALS, params)
        cursor.execute(ALLOCATE_FROM_OWN_LOTS, params)
        _take_from_other_lots(compensating, original.amount, lacking, at)
        cursor.execute(DEBIT_ACCOUNTS, params)  # reads which lots are activated: before they all are
        cursor.execute(TAKE_FROM_OWN_LOTS, params)


def _take_from_other_lots(compensating: Batch, amount: Decimal, lacking: list[tuple], at: datetime) -> None:
    """What the batch lots lack, from the same accounts' other active lots, first-expiring first."""
    if not lacking:
        return
    need = {account_id: amount - remaining for account_id, _lot, remaining in lacking}
    own = [lot_id for _account, lot_id, _remaining in lacking]
    spendable = (
        Lot.objects.filter(account_id__in=bulk.ids_in(sorted(need)), is_activated=True, remaining__gt=0)
        .filter(Q(expires_at__isnull=True) | Q(expires_at__gt=at))
        .exclude(pk__in=bulk.ids_in(own))
    )
    lots: dict[int, list[planner.LotState]] = {account_id: [] for account_id in need}
    for row in spendable.values_list(*planner.LotState.FIELDS):
        lot = planner.LotState(*row)
        lots[lot.account_id].append(lot)
    entries = dict(
        Entry.objects.filter(batch=compensating, account_id__in=bulk.ids_in(sorted(need))).values_list(
            "account_id", "pk"
        )
    )
    allocations, changed = [], []
    for account_id, wanted in sorted(need.items()):
        for lot, part in planner.take_fefo(lots[account_id], wanted, at):
            allocations.append((entries[account_id], lot.pk, part))
            changed.append((lot.remaining, lot.pk))
    bulk.insert(Allocation, ["entry_id", "lot_id", "amount"], allocations)
    bulk.update(Lot, ["remaining"], changed)
