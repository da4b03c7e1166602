"""Reads that apply the ledger's rules (SPEC.md section 5).

The reads of managers' budgets are in `budget_selectors`, those of segments and campaigns in
`campaign_selectors` and the roles in `roles`; all are named here too
(`selectors.budget`, `selectors.can_manage`, ...), so that screens read everything from one place.
"""

import copy
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal

from django.contrib.auth import get_user_model
from django.core.exceptions import PermissionDenied
from django.db import connection
from django.db.models import Count, Exists, F, OuterRef, Q, Subquery, Sum
from django.http import QueryDict
from django.utils import timezone
from django.utils.translation import gettext as _

from users.models import Department

from . import conditions, planner, rules
from .budget_selectors import BudgetFigures as BudgetFigures
from .budget_selectors import budget as budget
from .budget_selectors import budget_movements as budget_movements
from .budget_selectors import budget_problems as budget_problems
from .budget_selectors import budget_rows as budget_rows
from .budget_selectors import budget_selection as budget_selection
from .budget_selectors import budgets_of as budgets_of
from .budget_selectors import pending_of as pending_of
from .budget_selectors import pending_requests as pending_requests
from .budget_selectors import requests_of as requests_of
from .campaign_selectors import campaign_awards as campaign_awards
from .campaign_selectors import campaign_days as campaign_days
from .campaign_selectors import campaign_list as campaign_list
from .campaign_selectors import campaign_of_batch as campaign_of_batch
from .campaign_selectors import campaign_preview as campaign_preview
from .campaign_selectors import campaign_report as campaign_report
from .campaign_selectors import campaign_summary as campaign_summary
from .campaign_selectors import segment_members as segment_members
from .exceptions import AccountBlocked, AccumulateOnly
from .filters import EmployeeFilter
from .models import Account, AccountStateChange, Allocation, Batch, Currency, Entry, Lot
from .roles import budget_holders as budget_holders
from .roles import can_grant, can_manage
from .roles import grants_from_budget as grants_from_budget
from .services import get_currency

ZERO = Decimal("0.00")


@dataclass(frozen=True)
class Balance:
    active: Decimal = ZERO
    reserved: Decimal = ZERO
    non_activated: Decimal = ZERO
    spent: Decimal = ZERO
    written_off: Decimal = ZERO
    expired: Decimal = ZERO
    total_accrued: Decimal = ZERO
    next_expiry_on: date | None = None  # the last day the points can be used
    next_expiry_amount: Decimal = ZERO


def balance(user, currency=None, at: datetime | None = None) -> Balance:
    """The balance details of one employee in one currency at a moment (default: now).

    Events due by `at` that no settlement has posted yet (an expiry at midnight before the
    daily run) are applied to a copy, so the figures are never stale.
    """
    currency = get_currency(currency)
    at = at or timezone.now()
    account = Account.objects.filter(user=user, currency=currency).first()
    if account is None:
        return Balance()
    if account.last_entry_at and at < account.last_entry_at:
        return _balance_from_history(account, at)
    lots = [lot for lot in Lot.objects.filter(account=account) if lot.remaining > 0 or not lot.is_activated]
    future = copy.copy(account)
    planner.plan_settlement(future, lots, at, rules.burn_steps_in_force(currency), currency.quantum)
    return Balance(**{name: getattr(future, name) for name in Account.FIGURES}, **_next_expiry(lots, at))


def _next_expiry(lots, at: datetime) -> dict:
    """The nearest expiry among active and non-activated points that carry one."""
    open_lots = [lot for lot in lots if lot.remaining > 0 and lot.expires_at and lot.expires_at > at]
    if not open_lots:
        return {}
    first = min(lot.expires_at for lot in open_lots)
    amount = sum((lot.remaining for lot in open_lots if lot.expires_at == first), ZERO)
    return {"next_expiry_on": rules.last_usable_day(first), "next_expiry_amount": amount}


def figures_from_entries(account, at: datetime | None = None) -> dict[str, Decimal]:
    """The section 5 figures recomputed from the log alone (up to `at`); check_ledger compares."""
    entries = Entry.objects.filter(account=account)
    if at is not None:
        entries = entries.filter(at__lte=at)
    sums = dict(entries.values("kind").annotate(total=Sum("amount")).values_list("kind", "total"))
    # An accrual whose lot activates later went to the non-activated figure, and a reversal of such a
    # lot before it activated took them back from there (a reversal takes a whole lot's points).
    late = entries.filter(kind__in=[*Entry.ACCRUALS, Entry.Kind.REVERSED], lot__activates_at__gt=F("at"))
    non_activated_in_entries = late.aggregate(total=Sum("amount"))["total"] or ZERO

    def total(*kinds):
        return sum((sums.get(kind, ZERO) for kind in kinds), ZERO)

    accrued = total(*Entry.ACCRUALS)
    figures = {
        "written_off": -total(Entry.Kind.MANUAL_WRITE_OFF),
        "spent": -total(Entry.Kind.ORDER_SPENT) - total(Entry.Kind.ORDER_REFUNDED),
        "expired": -total(Entry.Kind.EXPIRED, Entry.Kind.BURNED),
        "reserved": -total(Entry.Kind.ORDER_RESERVED)
        - total(Entry.Kind.ORDER_RELEASED)
        + total(Entry.Kind.ORDER_SPENT),
        "non_activated": non_activated_in_entries - total(Entry.Kind.ACTIVATED),
    }
    # A reversal takes an accrual back: total accrued falls by it (written off stays the write-offs).
    figures["total_accrued"] = accrued + total(Entry.Kind.REVERSED) - figures["written_off"]
    latest = entries.order_by("-at", "-id").values_list("balance_after", flat=True).first()
    figures["active"] = latest if latest is not None else ZERO
    return figures


def _balance_from_history(account, at: datetime) -> Balance:
    figures = figures_from_entries(account, at)
    # Each lot as it stood at `at`: its amount plus the allocations posted by then.
    lots = list(Lot.objects.filter(account=account, accrued_at__lte=at))
    moved = dict(
        Allocation.objects.filter(lot__in=lots, entry__at__lte=at)
        .values("lot_id")
        .annotate(total=Sum("amount"))
        .values_list("lot_id", "total")
    )
    for lot in lots:
        lot.remaining = lot.amount + moved.get(lot.pk, ZERO)
    return Balance(**figures, **_next_expiry(lots, at))


def ledger_problems(account: Account) -> list[str]:
    """Every identity of the ledger that does not hold for this account (empty when all hold)."""
    problems = []
    stored = {name: getattr(account, name) for name in Account.FIGURES}
    for name in Account.FIGURES:
        if stored[name] > rules.MAX_BALANCE:
            problems.append(f"stored {name} {stored[name]} is above the maximum {rules.grouped(rules.MAX_BALANCE)}")
    if stored["total_accrued"] != sum(stored[n] for n in ("active", "reserved", "non_activated", "spent", "expired")):
        problems.append(
            f"total accrued {stored['total_accrued']} != active + reserved + non-activated + spent + expired"
        )
    computed = figures_from_entries(account)
    for name in Account.FIGURES:
        if computed[name] != stored[name]:
            problems.append(f"stored {name} {stored[name]} != {computed[name]} from the entries")
    lots = list(Lot.objects.filter(account=account))
    moved = dict(
        Allocation.objects.filter(lot_id__in=[lot.pk for lot in lots])
        .values("lot_id")
        .annotate(total=Sum("amount"))
        .values_list("lot_id", "total")
    )
    for lot in lots:
        if lot.remaining != lot.amount + moved.get(lot.pk, ZERO):
            problems.append(f"lot {lot.pk}: remaining {lot.remaining} != amount + allocations")
    in_lots = {
        "active": sum((lot.remaining for lot in lots if lot.is_activated), ZERO),
        "non_activated": sum((lot.remaining for lot in lots if not lot.is_activated), ZERO),
    }
    held = account.reservations.filter(status="held").aggregate(total=Sum("amount"))["total"] or ZERO
    if in_lots["active"] != stored["active"] or in_lots["non_activated"] != stored["non_activated"]:
        problems.append(
            f"lots hold {in_lots['active']} active and {in_lots['non_activated']} non-activated, "
            f"the account {stored['active']} and {stored['non_activated']}"
        )
    if held != stored["reserved"]:
        problems.append(f"open reservations hold {held}, the account says {stored['reserved']} reserved")
    return problems + _reversal_problems(account)


def _reversal_problems(account: Account) -> list[str]:
    """Every `reversed` entry takes back exactly its lot's accrual, made by the batch its own batch reverses."""
    accrual = Entry.objects.filter(lot=OuterRef("lot"), kind__in=Entry.ACCRUALS)
    reversals = (
        Entry.objects.filter(account=account, kind=Entry.Kind.REVERSED)
        .annotate(given=Subquery(accrual.values("amount")[:1]), given_by=Subquery(accrual.values("batch")[:1]))
        .values_list("pk", "amount", "given", "batch__reverses", "given_by")
    )
    return [
        f"reversal {pk} of {amount} does not take back its lot's accrual of {given} (batch {given_by})"
        for pk, amount, given, reverses, given_by in reversals
        if given is None or amount != -given or reverses is None or reverses != given_by
    ]


def unreadable_figures(account_id: int) -> list[str]:
    """The figures of an account, its lots and entries that cannot be read as amounts, as stored.

    Read with a raw cursor (no conversion to Decimal): what `ledger_problems` cannot read, for a report.
    """
    tables = [
        (Account, ("id",), Account.FIGURES),
        (Lot, ("account_id",), ("amount", "remaining")),
        (Entry, ("account_id",), ("amount", "balance_after")),
    ]
    found = []
    with connection.cursor() as cursor:
        for model, (key,), columns in tables:
            names = ", ".join(model._meta.get_field(column).column for column in columns)
            cursor.execute(f"SELECT id, {names} FROM {model._meta.db_table} WHERE {key} = %s ORDER BY id", [account_id])
            for pk, *values in cursor.fetchall():
                for column, value in zip(columns, values, strict=True):
                    if value is not None and not _readable(value):
                        found.append(f"{model._meta.verbose_name} {pk}: {column} {value} cannot be read as an amount")
    return found


def _readable(value) -> bool:
    """Within the columns' 14 digits (2 decimals) and the ledger's maximum."""
    try:
        number = Decimal(str(value))
    except ArithmeticError:
        return False
    return number.is_finite() and abs(number) <= rules.MAX_BALANCE


# Screens -----------------------------------------------------------------------------------


def employees_in_scope(viewer):
    """The active employees a viewer may see and accrue to: all for administrators, their departments for managers."""
    employees = get_user_model().objects.filter(is_active=True)
    if can_manage(viewer):
        return employees
    if can_grant(viewer):
        return employees.filter(department__managers=viewer)
    return employees.none()


def all_employees_in_scope(viewer):
    """The employees a viewer may read about, deactivated ones too: everyone for administrators,
    the people of their departments for managers. The log's employees, and whose accrual modal opens."""
    employees = get_user_model().objects.all()
    if can_manage(viewer):
        return employees
    if can_grant(viewer):
        return employees.filter(department__managers=viewer)
    return employees.none()


def actors_in_scope(viewer):
    """The people whose entries a viewer may read in the log's actor filter: anyone for administrators,
    for managers those who posted entries to their departments."""
    people = get_user_model().objects.all()
    if can_manage(viewer):
        return people
    if can_grant(viewer):
        return people.filter(Exists(Entry.objects.filter(actor=OuterRef("pk"), user__department__managers=viewer)))
    return people.none()


def batches_in_scope(viewer):
    """The bulk accruals a viewer may filter the log by: all for administrators, for managers those
    that reached their departments."""
    if can_manage(viewer):
        return Batch.objects.all()
    if can_grant(viewer):
        return Batch.objects.filter(
            Exists(Entry.objects.filter(batch=OuterRef("pk"), user__department__managers=viewer))
        )
    return Batch.objects.none()


def batch_entries(viewer, batch):
    """The entries of a batch that a viewer may read in the log (a manager: their departments')."""
    return log_entries(viewer).filter(batch=batch).select_related("user__department")


def batch_reach(viewer, batch) -> tuple[int, Decimal]:
    """How many employees a batch reached and how many points it moved in all, as far as the viewer may
    read: the whole batch for administrators, their departments' part of it for managers."""
    if can_manage(viewer):
        return batch.employee_count, batch.total
    reach = batch_entries(viewer, batch).aggregate(count=Count("pk"), total=Sum("amount"))
    return reach["count"], abs(reach["total"] or ZERO)


def managed_departments(viewer):
    """None for administrators (every department), else the departments the viewer manages."""
    return None if can_manage(viewer) else Department.objects.filter(managers=viewer)


def bulk_recipients(viewer, *, currency, employees: list[int], select_all: bool, filters: str) -> list[int]:
    """Who receives a bulk accrual (the bulk form's cleaned selection), as sorted ids.

    `select_all`: every employee of the accrual table matching its filter (`filters`, the table's query
    string), within the viewer's scope. Otherwise the chosen `employees`: PermissionDenied if any is an
    active employee outside the viewer's scope; unknown or inactive ones stay in, for the service to refuse
    with its message.
    """
    departments = managed_departments(viewer)
    if select_all:
        query = QueryDict(filters)
        asked = {value for value in query.getlist("department") if value}
        if departments is not None and asked - {str(pk) for pk in departments.values_list("pk", flat=True)}:
            raise PermissionDenied(_("You may not grant bonuses to other departments."))
        filterset = EmployeeFilter(query, queryset=accrual_table(viewer, currency), departments=departments)
        return sorted(filterset.qs.values_list("pk", flat=True)) if filterset.is_valid() else []
    in_scope = set(employees_in_scope(viewer).filter(pk__in=employees).values_list("pk", flat=True))
    outside = set(employees) - in_scope
    if outside and get_user_model().objects.filter(pk__in=outside, is_active=True).exists():
        raise PermissionDenied(_("You may not grant bonuses to some of these employees."))
    return employees


def accrual_table(viewer, currency):
    """The accrual table's rows: employees in scope, each with the active balance and state of their account
    in `currency`."""
    return (
        conditions.with_balance(employees_in_scope(viewer), currency)
        .select_related("position", "city", "department")
        .prefetch_related("tags")
    )


def log_entries(viewer):
    """The log as a viewer may read it: everything for administrators, their departments for managers."""
    entries = Entry.objects.select_related("user", "currency", "actor", "batch", "reservation__order")
    if can_manage(viewer):
        return entries
    if can_grant(viewer):
        return entries.filter(user__department__managers=viewer)
    return entries.none()


def search_employees(employees, query: str):
    """Employees whose name, e-mail or number contains `query`, by name (an index serves the order)."""
    return employees.filter(
        Q(full_name__icontains=query) | Q(email__icontains=query) | Q(employee_number__iexact=query)
    ).order_by("full_name", "pk")


# The employee's own pages --------------------------------------------------------


def balances(user) -> list[tuple]:
    """(currency, Balance) for every currency the employee has an account in, default first."""
    currencies = Currency.objects.filter(accounts__user=user).distinct()
    return [(currency, balance(user, currency)) for currency in currencies]


def upcoming_expiries(user, currency, at: datetime | None = None) -> list[tuple[date, Decimal]]:
    """(last usable day, points) of the employee's points that carry an expiry, soonest first."""
    at = at or timezone.now()
    by_day: dict[date, Decimal] = {}
    lots = Lot.objects.filter(account__user=user, account__currency=currency, remaining__gt=0, expires_at__gt=at)
    for expires_at, remaining in lots.values_list("expires_at", "remaining"):
        day = rules.last_usable_day(expires_at)
        by_day[day] = by_day.get(day, ZERO) + remaining
    return sorted(by_day.items())


def pending_activations(user, currency, at: datetime | None = None) -> list[tuple[date, Decimal]]:
    """(activation day, points) of the employee's points that are not active yet."""
    at = at or timezone.now()
    by_day: dict[date, Decimal] = {}
    lots = Lot.objects.filter(account__user=user, account__currency=currency, is_activated=False, activates_at__gt=at)
    for activates_at, remaining in lots.values_list("activates_at", "remaining"):
        day = rules.local_date(activates_at)
        by_day[day] = by_day.get(day, ZERO) + remaining
    return sorted(by_day.items())


# Account states ------------------------------------------------------------------------------


@dataclass(frozen=True)
class AccountState:
    """An employee's account in one currency as the screens show its state: since when and why (the
    latest change's), and the refusal the shop gives while it cannot spend."""

    currency: Currency
    state: str = Account.State.ACTIVE
    since: datetime | None = None  # None: active from the start, or set before changes were logged
    reason: str = ""

    @property
    def label(self) -> str:
        return Account.State(self.state).label

    @property
    def blocked(self) -> bool:
        return self.state == Account.State.BLOCKED

    @property
    def can_spend(self) -> bool:
        return self.state == Account.State.ACTIVE

    @property
    def refusal(self) -> str:
        """What the services say when this account is asked to spend (empty while it can)."""
        if self.can_spend:
            return ""
        return str((AccountBlocked if self.blocked else AccumulateOnly).default_message)


def account_states(user, *, restricted_only: bool = False) -> list[AccountState]:
    """The state of the employee's account in every currency, default first (active where there is no
    account); `restricted_only`: only the accounts that cannot spend (the employee's own pages)."""
    latest = AccountStateChange.objects.filter(account=OuterRef("pk")).order_by("-at", "-pk")
    accounts = Account.objects.filter(user=user).annotate(
        since=Subquery(latest.values("at")[:1]), reason=Subquery(latest.values("reason")[:1])
    )
    found = {account.currency_id: account for account in accounts}
    states = [
        AccountState(currency, found[currency.pk].state, found[currency.pk].since, found[currency.pk].reason or "")
        if currency.pk in found
        else AccountState(currency)
        for currency in Currency.objects.all()
    ]
    return [state for state in states if not state.can_spend] if restricted_only else states


def account_state(user, currency=None) -> AccountState:
    """The state of the employee's account in one currency (active where there is no account)."""
    currency = get_currency(currency)
    return next((state for state in account_states(user) if state.currency.pk == currency.pk), AccountState(currency))
