"""Managers' budgets (models/budgets.py states the design): periods opened and closed, grants drawn,
reversed grants returned; every movement is posted by `post_movement` (budget_changes.py: administrators'
top-ups and reductions).

A period's budget opens at the first need (the daily run's `open_budgets`, a grant, a top-up), once: one
budget per manager, currency and first day. Before it opens, the manager's budgets whose period has ended
are closed: what is left rolls over into the new one (up to the currency's cap) or lapses, dated at the
ended period's end. Locks: accounts before budgets (a grant locks its accounts, then the budget), an older
budget before a newer one; on SQLite the IMMEDIATE transaction holds the database's write lock.
"""

from datetime import datetime, timedelta
from decimal import Decimal

from django.contrib.auth import get_user_model
from django.db import IntegrityError, connection, transaction
from django.db.models import Sum
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from .. import bulk, exceptions, rules
from ..models import ZERO, Batch, Budget, BudgetMovement, Currency, Entry
from ..roles import budget_holders, draws_on_budget
from ..rules import points

Kind = BudgetMovement.Kind
CHANGED = [*Budget.FIGURES, "closed_at"]


def _lock(queryset):
    return queryset.select_for_update() if connection.features.has_select_for_update else queryset


# Periods ------------------------------------------------------------------------------------------


def headcount(manager) -> int:
    """The active employees of the departments the manager manages, the manager left out."""
    employees = get_user_model().objects.filter(is_active=True, department__managers=manager)
    return employees.exclude(pk=manager.pk).count()


def _policy_allowance(manager, currency: Currency) -> tuple[Decimal, int | None]:
    """What the currency's policy gives the manager for a period, and the headcount it was counted on."""
    if currency.budget_per_employee is None:
        return currency.budget_allowance or ZERO, None
    count = headcount(manager)
    return min(currency.budget_per_employee * count, rules.MAX_BALANCE), count


def _rollover(ended: Budget, currency: Currency, amount: Decimal, room: Decimal) -> Decimal:
    """How much of `amount` left in an ended budget rolls over (within the cap, and the room in the next)."""
    if not currency.budget_rollover:
        return ZERO
    if currency.budget_rollover_cap is not None:
        out = ended.movements.filter(kind=Kind.ROLLED_OVER, amount__lt=0).aggregate(total=Sum("amount"))["total"]
        amount = min(amount, max(currency.budget_rollover_cap + (out or ZERO), ZERO))
    return max(min(amount, room), ZERO)


def opening_figures(manager, currency: Currency, day) -> tuple[Decimal, Decimal]:
    """What the manager's budget of the period containing `day` would open with: (the policy's allowance,
    what would roll over from the ended budgets). The selectors show it before the period opens."""
    allowance, _count = _policy_allowance(manager, currency)
    ended = Budget.objects.filter(manager=manager, currency=currency, closed_at__isnull=True, period_end__lt=day)
    rolled = ZERO
    for budget in ended.order_by("period_start"):
        rolled += _rollover(budget, currency, budget.left, rules.MAX_BALANCE - allowance - rolled)
    return allowance, rolled


def post_movement(budget: Budget, kind: str, amount: Decimal, at: datetime, **fields) -> BudgetMovement:
    """One movement on the locked `budget`, and its figures."""
    budget.left += amount
    if kind in BudgetMovement.ALLOWANCE or (kind == Kind.ROLLED_OVER and amount > 0):
        budget.allowance += amount
    elif kind in BudgetMovement.GRANTS:
        budget.granted -= amount
    elif kind in BudgetMovement.HOLDS:
        budget.held -= amount
    movement = BudgetMovement.objects.create(
        budget=budget, kind=kind, amount=amount, left_after=budget.left, at=at, **fields
    )
    budget.save(update_fields=CHANGED)
    return movement


def _close(budget: Budget, successor: Budget | None, amount: Decimal | None = None) -> None:
    """Roll over (into `successor`) or lapse what is left of the ended, locked `budget`, and close it.

    `amount`: only that much (a grant returned to a budget already closed); the budget is closed already.
    """
    currency = budget.currency
    moment = rules.start_of_day(budget.period_end + timedelta(days=1))
    left = budget.left if amount is None else amount
    if left > 0:
        room = rules.MAX_BALANCE - successor.allowance if successor is not None else ZERO
        rolled = _rollover(budget, currency, left, room) if successor is not None else ZERO
        later = max(moment, timezone.now()) if amount is not None else moment
        if rolled:
            comment = _("From %(period)s") % {"period": budget_label(budget)}
            post_movement(budget, Kind.ROLLED_OVER, -rolled, later)
            post_movement(successor, Kind.ROLLED_OVER, rolled, max(later, successor.opened_at), comment=comment)
        if left - rolled:
            post_movement(budget, Kind.LAPSED, rolled - left, later)
    if budget.closed_at is None:
        budget.closed_at = moment
        budget.save(update_fields=CHANGED)


def budget_label(budget: Budget) -> str:
    return rules.period_label(budget.period, budget.period_start)


def _open(manager, currency: Currency, day, actor) -> Budget:
    """Open the period's budget (closing the ended ones first), or lock it if someone just did."""
    start, end = rules.budget_period(day, currency.budget_period)
    ended = list(
        _lock(Budget.objects.filter(manager=manager, currency=currency, closed_at__isnull=True, period_end__lt=day))
        .select_related("currency")
        .order_by("period_start")
    )
    allowance, count = _policy_allowance(manager, currency)
    opened_at = rules.start_of_day(start)
    try:
        with transaction.atomic():
            budget = Budget.objects.create(
                manager=manager,
                currency=currency,
                period=currency.budget_period,
                period_start=start,
                period_end=end,
                opened_at=opened_at,
            )
    except IntegrityError:  # opened at the same time by another transaction (which closed the ended ones)
        return _lock(Budget.objects.filter(manager=manager, currency=currency, period_start=start)).get()
    post_movement(budget, Kind.OPENED, allowance, opened_at, actor=actor, headcount=count)
    for old in ended:
        _close(old, budget)
    return budget


def require_policy(currency: Currency) -> None:
    """NoBudgetPolicy, saying so, unless the currency has a budget policy."""
    if not currency.budget_period:
        raise exceptions.NoBudgetPolicy(
            _(
                "%(currency)s has no budget policy: managers cannot grant it. An administrator can set one in the "
                "currency's settings."
            )
            % {"currency": currency.name}
        )


def budget_for(manager, currency: Currency, at: datetime, *, actor=None) -> Budget:
    """The manager's budget of the period containing `at`, locked; opened if need be.

    NoBudgetPolicy when the currency has none; NoBudget when that period is over (closed, or a later
    one has opened).
    """
    require_policy(currency)
    day = rules.local_date(at)
    mine = Budget.objects.filter(manager=manager, currency=currency)
    found = _lock(mine.filter(period_start__lte=day, period_end__gte=day)).order_by("-period_start").first()
    if found is None and mine.filter(period_start__gt=day).exists():
        raise exceptions.NoBudget(_("The budget period of %(day)s is over.") % {"day": day.isoformat()})
    if found is None:
        found = _open(manager, currency, day, actor)
    if found.closed_at is not None:
        raise exceptions.NoBudget(_("The budget of %(period)s is closed.") % {"period": budget_label(found)})
    found.currency = currency
    return found


def open_budgets(*, at: datetime) -> dict[str, int]:
    """The daily run: open the period's budget of every manager who grants from one, in every currency with
    a budget policy, and close the ended budgets that no new one follows (their left lapses). Idempotent;
    after days without a run it opens the current period once. Returns the movements posted, by kind."""
    first = BudgetMovement.objects.order_by("-pk").values_list("pk", flat=True).first() or 0
    managers = list(budget_holders().order_by("pk"))
    day = rules.local_date(at)
    for currency in Currency.objects.exclude(budget_period=""):
        for manager in managers:
            try:
                with transaction.atomic():
                    budget_for(manager, currency, at)
            except exceptions.NoBudget:  # a past --date: a later period has opened already
                pass
    ended = Budget.objects.filter(closed_at__isnull=True, period_end__lt=day).order_by("period_start", "pk")
    for pk in ended.values_list("pk", flat=True):
        with transaction.atomic():
            ended = _lock(Budget.objects.filter(pk=pk, closed_at__isnull=True)).select_related("currency").first()
            if ended is not None:
                _close(ended, None)
    posted = BudgetMovement.objects.filter(pk__gt=first).values_list("kind", flat=True)
    counts: dict[str, int] = {}
    for kind in posted:
        counts[kind] = counts.get(kind, 0) + 1
    return counts


# Grants ------------------------------------------------------------------------------------------


def check_grant(actor, user_ids: list[int], currency: Currency) -> Currency | None:
    """Refuse a self-award and, for a manager, a grant outside their departments or in a currency without
    budgets. Returns None unless the grant draws on the actor's budget, else the currency as stored now (its
    budget policy as an administrator last set it). Cheap: before anything is locked."""
    if actor is not None and actor.pk in user_ids:
        if len(user_ids) == 1:
            raise exceptions.SelfAward()
        raise exceptions.SelfAward(
            _(
                "The selection includes you (%(name)s): nobody accrues points to themselves. Remove yourself from "
                "the selection; nothing was accrued."
            )
            % {"name": actor}
        )
    if not draws_on_budget(actor):
        return None
    currency = Currency.objects.get(pk=currency.pk)
    require_policy(currency)
    in_scope = get_user_model().objects.filter(pk__in=bulk.ids_in(user_ids), department__managers=actor).count()
    outside = len(user_ids) - in_scope
    if outside and len(user_ids) == 1:
        raise exceptions.OutsideScope()
    if outside:
        message = ngettext(
            "%(count)d of the selected employees is not in a department you manage; nothing was accrued.",
            "%(count)d of the selected employees are not in a department you manage; nothing was accrued.",
            outside,
        )
        raise exceptions.OutsideScope(message % {"count": outside})
    return currency


def draw(actor, currency: Currency, total: Decimal, at: datetime) -> Budget:
    """The actor's budget for a grant of `total` at `at`, locked; BudgetExceeded, naming what is left, if it
    is more. The caller posts the grant (`record_grant`) in the same transaction."""
    budget = budget_for(actor, currency, at, actor=actor)
    if total > budget.left:
        raise exceptions.BudgetExceeded(
            _("This grant uses %(total)s of your %(left)s %(currency)s left for %(period)s: nothing was accrued.")
            % {
                "total": points(total, currency),
                "left": points(budget.left, currency),
                "currency": currency.name,
                "period": budget_label(budget),
            }
        )
    return budget


def record_grant(budget: Budget, total: Decimal, at: datetime, *, actor, comment: str, batch=None, entry=None) -> None:
    post_movement(budget, Kind.GRANT, -total, at, actor=actor, comment=comment, batch=batch, entry=entry)


# Reversals ---------------------------------------------------------------------------------------


def _successor(budget: Budget, at: datetime) -> Budget | None:
    """The manager's budget of the period containing `at` (what a returned grant may roll over into)."""
    if not budget.currency.budget_period:
        return None
    try:
        return budget_for(budget.manager, budget.currency, at)
    except exceptions.BudgetError:
        return None


def return_to_budget(
    *, batch: Batch | None = None, entry: Entry | None = None, actor, comment: str = ""
) -> Budget | None:
    """Give a reversed grant back to the budget it was drawn from; None if it drew on none (an administrator's).

    The reversal (services.reverse_batch) calls it in its own transaction, after locking the accounts.
    """
    if (batch is None) == (entry is None):
        raise ValueError("Give a batch or an entry.")
    link = {"batch": batch} if batch is not None else {"entry": entry}
    grant = BudgetMovement.objects.filter(kind=Kind.GRANT, **link).first()
    if grant is None:
        return None
    with transaction.atomic():
        budget = _lock(Budget.objects.filter(pk=grant.budget_id)).select_related("currency", "manager").get()
        if BudgetMovement.objects.filter(kind=Kind.RETURNED, **link).exists():
            raise exceptions.AlreadyReturned()
        now = max(timezone.now(), grant.at)
        comment = rules.clean_comment(comment)
        give_back(budget, Kind.RETURNED, -grant.amount, now, actor=actor, comment=comment, **link)
    return budget


def give_back(budget: Budget, kind: str, amount: Decimal, at: datetime, **fields) -> None:
    """Points back to the locked budget (a grant returned, a hold released). A budget already closed takes
    them and at once rolls them over or lets them lapse, as its end did with what was left."""
    closed = budget.closed_at is not None
    successor = _successor(budget, at) if closed else None  # opened first: it closes the ended ones
    budget.closed_at = None  # reopened for the moment it holds what came back (a closed budget has no left)
    post_movement(budget, kind, amount, at, **fields)
    if closed:
        _close(budget, successor, amount)


def return_grants(batch: Batch, actor, comment: str = "") -> Budget | None:
    """What the batch reversal (services.reverse_batch) calls: a reversed manager's bulk grant goes back to
    the budget it was drawn from, in the caller's transaction; None for a grant that drew on no budget."""
    return return_to_budget(batch=batch, actor=actor, comment=comment)
