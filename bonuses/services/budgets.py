"""Managers' budgets (models/budgets.py states the design): periods opened and closed, grants drawn,
administrators' top-ups and reductions, reversed grants returned.

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
from django.utils.formats import number_format
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from .. import bulk, exceptions, rules
from ..models import ZERO, Batch, Budget, BudgetMovement, Currency, Entry
from ..roles import budget_holders, grants_from_budget
from .currency import get_currency

Kind = BudgetMovement.Kind
CHANGED = [*Budget.FIGURES, "closed_at"]


def _amount(value: Decimal, currency: Currency) -> str:
    """An amount as the screens show it: "1,250", "12.50"."""
    places = 0 if currency.whole_numbers or value == value.to_integral_value() else 2
    return number_format(value, places, force_grouping=True)


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


def _post(budget: Budget, kind: str, amount: Decimal, at: datetime, **fields) -> BudgetMovement:
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
            _post(budget, Kind.ROLLED_OVER, -rolled, later)
            _post(successor, Kind.ROLLED_OVER, rolled, max(later, successor.opened_at), comment=comment)
        if left - rolled:
            _post(budget, Kind.LAPSED, rolled - left, later)
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
    _post(budget, Kind.OPENED, allowance, opened_at, actor=actor, headcount=count)
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


def check_grant(actor, user_ids: list[int], currency: Currency) -> bool:
    """Refuse a self-award and, for a manager, a grant outside their departments or in a currency without
    budgets; returns whether the grant draws on the actor's budget. Cheap: before anything is locked."""
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
    if not grants_from_budget(actor):
        return False
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
    return True


def draw(actor, currency: Currency, total: Decimal, at: datetime) -> Budget:
    """The actor's budget for a grant of `total` at `at`, locked; BudgetExceeded, naming what is left, if it
    is more. The caller posts the grant (`record_grant`) in the same transaction."""
    budget = budget_for(actor, currency, at, actor=actor)
    if total > budget.left:
        raise exceptions.BudgetExceeded(
            _("This grant uses %(total)s of your %(left)s %(currency)s left for %(period)s: nothing was accrued.")
            % {
                "total": _amount(total, currency),
                "left": _amount(budget.left, currency),
                "currency": currency.name,
                "period": budget_label(budget),
            }
        )
    return budget


def record_grant(budget: Budget, total: Decimal, at: datetime, *, actor, comment: str, batch=None, entry=None) -> None:
    _post(budget, Kind.GRANT, -total, at, actor=actor, comment=comment, batch=batch, entry=entry)


# Administrators' changes ---------------------------------------------------------------------------


def _holder(manager) -> None:
    if not grants_from_budget(manager):
        raise exceptions.NoBudget(_("%(name)s does not grant from a budget.") % {"name": manager})


def _change(budget: Budget, change: Decimal, actor, comment: str, at: datetime) -> None:
    """Top up (+) or reduce (-) the locked budget; never below what was granted and is held."""
    currency = budget.currency
    if change < 0 and budget.left + change < 0:
        raise exceptions.BudgetBelowGranted(
            _(
                "%(name)s has used %(used)s of %(allowance)s %(currency)s: the budget can be reduced by at most "
                "%(left)s."
            )
            % {
                "name": budget.manager,
                "used": _amount(budget.granted + budget.held, currency),
                "allowance": _amount(budget.allowance, currency),
                "currency": currency.name,
                "left": _amount(budget.left, currency),
            }
        )
    if change > 0 and budget.allowance + change > rules.MAX_BALANCE:
        raise exceptions.AmountAboveMaximum(
            _("A budget can be at most %(max)s.") % {"max": rules.grouped(rules.MAX_BALANCE)}
        )
    if change:
        kind = Kind.TOP_UP if change > 0 else Kind.REDUCTION
        _post(budget, kind, change, at, actor=actor, comment=comment)


def _signed_amount(amount, currency: Currency, maximum: Decimal) -> Decimal:
    """A top-up (positive) or a reduction (negative), as the ledger reads amounts."""
    text = str(amount).strip()
    negative = text.startswith("-")
    value = rules.clean_amount(text[1:] if negative else amount, currency, maximum=maximum)
    return -value if negative else value


def _allowance(amount, currency: Currency) -> Decimal:
    """An allowance: zero, or an amount as the ledger reads it, at most rules.MAX_BALANCE."""
    try:
        return rules.clean_amount(amount, currency, maximum=rules.MAX_BALANCE)
    except exceptions.InvalidAmount:
        try:
            zero = not isinstance(amount, bool) and rules.parse_amount(str(amount)) == 0
        except exceptions.InvalidAmount:
            zero = False
        if zero:
            return ZERO
        raise


def top_up_budget(*, manager, amount, actor, currency: Currency | None = None, comment: str = "") -> Budget:
    """Top up (amount > 0) or reduce (amount < 0) the manager's budget of the current period."""
    return top_up_budgets(managers=[manager], amount=amount, actor=actor, currency=currency, comment=comment)[0]


def top_up_budgets(*, managers, amount, actor, currency: Currency | None = None, comment: str = "") -> list[Budget]:
    """The same top-up or reduction of several managers' budgets: all of them, or none (naming who not)."""
    currency = get_currency(currency)
    change = _signed_amount(amount, currency, rules.MAX_OPERATION)
    comment = rules.clean_comment(comment)
    people = sorted(managers, key=lambda person: person.pk)
    if not people:
        raise exceptions.NoEmployees(_("Select at least one manager."))
    refused, budgets = [], []
    with transaction.atomic():
        now = timezone.now()
        for manager in people:
            _holder(manager)
            budget = budget_for(manager, currency, now, actor=actor)
            try:
                _change(budget, change, actor, comment, now)
            except exceptions.BudgetBelowGranted as error:
                refused.append(error.message)
            budgets.append(budget)
        if refused and len(people) == 1:
            raise exceptions.BudgetBelowGranted(refused[0])
        if refused:  # raised inside the transaction: every change above is rolled back
            message = ngettext(
                "%(count)d budget cannot be reduced that much; nothing was changed. %(why)s",
                "%(count)d budgets cannot be reduced that much; nothing was changed. %(why)s",
                len(refused),
            )
            raise exceptions.BudgetBelowGranted(message % {"count": len(refused), "why": " ".join(refused[:5])})
    return budgets


def set_budget(*, manager, amount, actor, currency: Currency | None = None, comment: str = "") -> Budget:
    """Make the allowance of the manager's current budget `amount`: one movement for the difference."""
    currency = get_currency(currency)
    value = _allowance(amount, currency)
    comment = rules.clean_comment(comment)
    with transaction.atomic():
        _holder(manager)
        now = timezone.now()
        budget = budget_for(manager, currency, now, actor=actor)
        _change(budget, value - budget.allowance, actor, comment, now)
    return budget


# Reversals ---------------------------------------------------------------------------------------


def return_to_budget(
    *, batch: Batch | None = None, entry: Entry | None = None, actor, comment: str = ""
) -> Budget | None:
    """Give a reversed grant back to the budget it was drawn from; None if it drew on none (an administrator's).

    The reversal (services.reverse_batch) calls it in its own transaction, after locking the accounts. A
    budget already closed takes it back and at once rolls it over or lets it lapse, as its end did with
    what was left.
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
        _post(budget, Kind.RETURNED, -grant.amount, now, actor=actor, comment=rules.clean_comment(comment), **link)
        if budget.closed_at is not None:
            successor = None
            if budget.currency.budget_period:
                try:
                    successor = budget_for(budget.manager, budget.currency, now)
                except exceptions.BudgetError:
                    successor = None
            _close(budget, successor, -grant.amount)
    return budget
