"""Reads of managers' budgets: a manager's figures at a moment, the budgets table, a budget's movements,
and the identities `check_ledger` proves (models/budgets.py states them). `selectors` names them all."""

from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal

from django.contrib.auth import get_user_model
from django.db.models import Count, Exists, F, FilteredRelation, OuterRef, Q, Sum
from django.db.models.functions import Coalesce
from django.http import QueryDict
from django.utils import timezone

from . import rules
from .filters import BudgetFilter
from .models import ZERO, Budget, BudgetMovement, Currency, GrantRequest
from .roles import budget_holders, grants_from_budget
from .services import get_currency
from .services.budgets import opening_figures

Kind = BudgetMovement.Kind


@dataclass(frozen=True)
class BudgetFigures:
    """A manager's budget in one currency for the period containing a moment.

    `opened` False: the period's budget is not opened yet (the daily run, or the first grant or top-up,
    opens it); the figures are what it will open with.
    """

    allowance: Decimal
    granted: Decimal
    held: Decimal
    left: Decimal
    period: str
    period_start: date
    period_end: date
    opened: bool = True
    closed: bool = False
    budget_id: int | None = None

    @property
    def label(self) -> str:
        return rules.period_label(self.period, self.period_start)

    @property
    def used_percent(self) -> int:
        """What was granted or is held, in per cent of the allowance (for the usage bar)."""
        used = self.granted + self.held
        return 0 if not self.allowance else min(100, round(100 * used / self.allowance))


def figures_from_movements(budget: Budget, at: datetime | None = None) -> dict[str, Decimal]:
    """The budget's figures recomputed from its movements alone (up to `at`)."""
    movements = budget.movements.all()
    if at is not None:
        movements = movements.filter(at__lte=at)
    sums = dict(movements.values("kind").annotate(total=Sum("amount")).values_list("kind", "total"))
    rolled_in = movements.filter(kind=Kind.ROLLED_OVER, amount__gt=0).aggregate(total=Sum("amount"))["total"] or ZERO

    def total(*kinds):
        return sum((sums.get(kind, ZERO) for kind in kinds), ZERO)

    return {
        "allowance": total(*BudgetMovement.ALLOWANCE) + rolled_in,
        "granted": -total(*BudgetMovement.GRANTS),
        "held": -total(*BudgetMovement.HOLDS),
        "left": total(*Kind.values),
    }


def _figures(found: Budget, at: datetime | None) -> BudgetFigures:
    values = (
        {name: getattr(found, name) for name in Budget.FIGURES} if at is None else figures_from_movements(found, at)
    )
    period = {"period": found.period, "period_start": found.period_start, "period_end": found.period_end}
    return BudgetFigures(**values, **period, closed=found.closed_at is not None, budget_id=found.pk)


def budget(manager, currency=None, at: datetime | None = None) -> BudgetFigures | None:
    """The manager's budget in `currency` for the period containing `at` (default: now).

    Its stored figures now, or the figures as of a given moment from the movements. A period not opened
    yet shows what it will open with. None where the manager has no budget there: the currency has no
    budget policy, or the person does not grant from a budget.
    """
    currency = get_currency(currency)
    day = rules.local_date(at or timezone.now())
    found = Budget.objects.filter(manager=manager, currency=currency, period_start__lte=day, period_end__gte=day)
    found = found.order_by("-period_start").first()
    if found is not None:
        return _figures(found, at)
    if not currency.budget_period or not grants_from_budget(manager):
        return None
    start, end = rules.budget_period(day, currency.budget_period)
    allowance = sum(opening_figures(manager, currency, day), ZERO)
    return BudgetFigures(allowance, ZERO, ZERO, allowance, currency.budget_period, start, end, opened=False)


def budgets_of(manager) -> list[tuple[Currency, BudgetFigures]]:
    """(currency, figures) of every currency the manager has a budget in now, default first."""
    found = [(currency, budget(manager, currency)) for currency in Currency.objects.all()]
    return [(currency, figures) for currency, figures in found if figures is not None]


def budget_movements(manager, currency):
    """The movements of every budget the manager had in `currency`, newest first."""
    movements = BudgetMovement.objects.filter(budget__manager=manager, budget__currency=currency)
    return movements.select_related("budget", "budget__currency", "actor")


def budget_rows(currency, at: datetime | None = None):
    """The budgets table: every manager who grants from a budget (and anyone with a budget of the period),
    with the figures of their budget in `currency` for the period containing `at` (None: not opened yet)."""
    day = rules.local_date(at or timezone.now())
    current = Q(budgets__currency=currency, budgets__period_start__lte=day, budgets__period_end__gte=day)
    has_budget = Exists(
        Budget.objects.filter(manager=OuterRef("pk"), currency=currency, period_start__lte=day, period_end__gte=day)
    )
    rows = get_user_model().objects.filter(Q(pk__in=budget_holders().values("pk")) | Q(has_budget))
    return (
        rows.annotate(budget=FilteredRelation("budgets", condition=current))
        .annotate(
            budget_id=F("budget__id"),
            allowance=F("budget__allowance"),
            granted=F("budget__granted"),
            held=F("budget__held"),
            left=F("budget__left"),
            budget_period=F("budget__period"),
            period_start=F("budget__period_start"),
        )
        .prefetch_related("managed_departments")
    )


def budget_problems(found: Budget) -> list[str]:
    """Every identity of a budget's ledger that does not hold (empty when all hold)."""
    problems = []
    computed = figures_from_movements(found)
    for name in Budget.FIGURES:
        stored = getattr(found, name)
        if stored > rules.MAX_BALANCE:
            problems.append(f"stored {name} {stored} is above the maximum {rules.grouped(rules.MAX_BALANCE)}")
        if computed[name] != stored:
            problems.append(f"stored {name} {stored} != {computed[name]} from the movements")
    running = ZERO
    for pk, amount, left_after in found.movements.order_by("id").values_list("pk", "amount", "left_after"):
        running += amount
        if left_after != running:
            problems.append(f"movement {pk}: left after {left_after} != {running}, the sum up to it")
    if found.closed_at is not None and found.left:
        problems.append(f"closed with {found.left} left")
    return problems


def budget_selection(currency, *, employees: list[int], select_all: bool, filters: str) -> list[int]:
    """The managers a bulk change of budgets reaches, as sorted ids: the ones chosen, or with `select_all`
    every row of the budgets table matching its filter (`filters`, the table's query string)."""
    if not select_all:
        return employees
    filterset = BudgetFilter(QueryDict(filters), queryset=budget_rows(currency))
    return sorted(filterset.qs.values_list("pk", flat=True)) if filterset.is_valid() else []


def pending_requests():
    """The grant requests waiting for approval, oldest first (the approvals queue)."""
    requests = GrantRequest.objects.filter(status=GrantRequest.Status.PENDING).order_by("created_at", "pk")
    return requests.select_related("requester", "currency").prefetch_related("recipients")


def requests_of(user):
    """The user's own grant requests, newest first."""
    requests = GrantRequest.objects.filter(requester=user).order_by("-created_at", "-pk")
    return requests.select_related("currency", "decided_by").prefetch_related("recipients")


def pending_of(user, currency) -> dict:
    """The user's grant requests in the currency still waiting for approval: how many (`count`), and the
    points they hold (`total`)."""
    pending = GrantRequest.objects.filter(requester=user, currency=currency, status=GrantRequest.Status.PENDING)
    return pending.aggregate(count=Count("pk"), total=Coalesce(Sum("total"), ZERO))
