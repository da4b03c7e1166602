"""Managers' budgets in the services (issue 11): the policy on the currency, the budget's own ledger of
movements, grants drawing on it in the accrual's transaction, administrators' top-ups and reductions, the
daily run opening, rolling over and lapsing periods, grants returned by a reversal, and `check_ledger`."""

import threading
from datetime import date, datetime, time
from decimal import Decimal
from io import StringIO
from zoneinfo import ZoneInfo

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import connection

from bonuses import selectors, services
from bonuses.exceptions import (
    AlreadyReturned,
    BonusError,
    BudgetBelowGranted,
    BudgetExceeded,
    InvalidSettings,
    NoBudget,
    NoBudgetPolicy,
    OutsideScope,
)
from bonuses.models import Budget, BudgetMovement, Currency, Entry
from users.models import Department

pytestmark = pytest.mark.django_db

Kind = BudgetMovement.Kind
TOKYO = "Asia/Tokyo"  # a company time zone far from UTC: its month ends nine hours before UTC's


@pytest.fixture
def team(make_user, department):
    return [make_user(department=department, full_name=f"Sales {n}") for n in range(4)]


@pytest.fixture
def fixed(bonuses):
    """The default currency with a monthly budget of 1,000 per manager."""
    services.update_currency_settings(bonuses, budget_period="month", budget_allowance=Decimal("1000"))
    return bonuses


def left(manager, currency=None) -> Decimal:
    return selectors.budget(manager, currency).left


# The policy --------------------------------------------------------------------------------------


def test_the_budget_policy_is_set_like_the_currencys_other_settings(bonuses):
    services.update_currency_settings(
        bonuses,
        budget_period="quarter",
        budget_allowance=None,
        budget_per_employee=Decimal("50"),
        budget_rollover=True,
        budget_rollover_cap=Decimal("200"),
    )
    stored = Currency.objects.get(pk=bonuses.pk)
    assert (stored.budget_period, stored.budget_per_employee, stored.budget_rollover_cap) == (
        "quarter",
        Decimal("50"),
        Decimal("200"),
    )
    assert bonuses.budget_period == "quarter"  # the caller's instance too


@pytest.mark.parametrize(
    "changes, message",
    [
        ({"budget_period": "month"}, "Give either an allowance per manager or one per employee managed."),
        (
            {"budget_period": "month", "budget_allowance": 10, "budget_per_employee": 5},
            "Give either an allowance per manager or one per employee managed.",
        ),
        ({"budget_period": "week", "budget_allowance": 10}, "is not a valid choice"),
    ],
)
def test_a_budget_policy_without_exactly_one_allowance_is_refused(bonuses, changes, message, ledger_snapshot):
    before = ledger_snapshot()
    with pytest.raises(InvalidSettings) as refused:
        services.update_currency_settings(bonuses, **changes)
    assert message in refused.value.message
    assert ledger_snapshot() == before


def test_without_a_policy_a_manager_cannot_grant_and_is_told_why(manager, employee, bonuses, ledger_snapshot):
    Currency.objects.filter(pk=bonuses.pk).update(budget_period="", budget_allowance=None)
    before = ledger_snapshot()
    with pytest.raises(NoBudgetPolicy) as refused:
        services.accrue(user=employee, amount=10, actor=manager)
    assert refused.value.message == (
        "Bonuses has no budget policy: managers cannot grant it. An administrator can set one in the "
        "currency's settings."
    )
    assert ledger_snapshot() == before
    assert selectors.budget(manager) is None


def test_an_administrators_grant_draws_on_no_budget(administrator, employee, bonuses):
    services.accrue(user=employee, amount=10, actor=administrator)
    assert Budget.objects.count() == 0
    assert selectors.budget(administrator) is None


# Grants ------------------------------------------------------------------------------------------


def test_a_managers_grant_draws_on_the_budget_in_the_same_transaction(manager, team, fixed):
    entry = services.accrue(user=team[0], amount=100, actor=manager, comment="Thanks")
    batch = services.accrue_many(users=team[1:], amount=50, actor=manager, comment="Goals")
    figures = selectors.budget(manager)
    assert (figures.allowance, figures.granted, figures.left) == (1000, 250, 750)
    today = date.today()
    assert figures.period_start <= today <= figures.period_end and figures.period_start.day == 1
    budget = Budget.objects.get()
    movements = list(budget.movements.order_by("id").values_list("kind", "amount", "left_after", "actor"))
    assert movements == [
        (Kind.OPENED, 1000, 1000, manager.pk),
        (Kind.GRANT, -100, 900, manager.pk),
        (Kind.GRANT, -150, 750, manager.pk),
    ]
    assert budget.movements.get(amount=-100).entry == entry
    assert budget.movements.get(amount=-150).batch == batch
    assert selectors.budget_problems(budget) == []


def test_the_source_does_not_decide_whose_grant_it_is(manager, employee, fixed):
    services.accrue(user=employee, amount=100, actor=manager, source="bulk")
    assert left(manager) == 900
    assert Entry.objects.get().kind == Entry.Kind.MANAGER_ACCRUAL


def test_a_bulk_grant_over_budget_grants_nothing_and_says_what_is_left(manager, make_user, department, fixed):
    people = [make_user(department=department) for _ in range(40)]
    services.accrue(user=people[0], amount=250, actor=manager)
    before = {
        "entries": list(Entry.objects.values()),
        "movements": list(BudgetMovement.objects.values()),
        "budgets": list(Budget.objects.values()),
    }
    with pytest.raises(BudgetExceeded) as refused:
        services.accrue_many(users=people, amount=20, actor=manager)
    month = date.today().strftime("%B %Y")
    assert refused.value.message == (
        f"This grant uses 800.00 of your 750.00 Bonuses left for {month}: nothing was accrued."
    )
    after = {
        "entries": list(Entry.objects.values()),
        "movements": list(BudgetMovement.objects.values()),
        "budgets": list(Budget.objects.values()),
    }
    assert after == before


def test_a_grant_of_exactly_what_is_left_goes_through(manager, team, fixed):
    services.accrue_many(users=team, amount=250, actor=manager)
    assert left(manager) == 0
    with pytest.raises(BudgetExceeded, match="uses 0.01 of your 0.00 Bonuses left"):
        services.accrue(user=team[0], amount="0.01", actor=manager)


def test_the_service_keeps_a_manager_to_their_departments(manager, make_user, employee, fixed, ledger_snapshot):
    outsider = make_user(department=Department.objects.create(name="Legal"))
    before = ledger_snapshot()
    with pytest.raises(OutsideScope) as refused:
        services.accrue(user=outsider, amount=1, actor=manager)
    assert refused.value.message == "You may grant bonuses only to the employees of the departments you manage."
    with pytest.raises(OutsideScope) as refused:
        services.accrue_many(users=[employee, outsider], amount=1, actor=manager)
    assert refused.value.message == (
        "1 of the selected employees is not in a department you manage; nothing was accrued."
    )
    assert ledger_snapshot() == before


def test_budget_errors_derive_from_bonus_error():
    for error in (BudgetExceeded, NoBudgetPolicy, NoBudget, BudgetBelowGranted, OutsideScope):
        assert issubclass(error, BonusError)


def test_movements_are_immutable(manager, employee, fixed):
    services.accrue(user=employee, amount=1, actor=manager)
    movement = BudgetMovement.objects.first()
    with pytest.raises(TypeError):
        BudgetMovement.objects.update(amount=0)
    with pytest.raises(TypeError):
        movement.delete()


# Administrators' changes ---------------------------------------------------------------------------


def test_set_budget_makes_the_allowance_the_amount_with_one_movement(administrator, manager, fixed):
    budget = services.set_budget(manager=manager, amount=1500, actor=administrator, comment="Big quarter")
    assert (budget.allowance, budget.left) == (1500, 1500)
    top_up = budget.movements.get(kind=Kind.TOP_UP)
    assert (top_up.amount, top_up.actor, top_up.comment) == (500, administrator, "Big quarter")
    services.set_budget(manager=manager, amount=1200, actor=administrator)
    assert budget.movements.get(kind=Kind.REDUCTION).amount == -300
    assert selectors.budget(manager).allowance == 1200


def test_a_top_up_may_be_negative_but_never_below_what_was_granted(administrator, manager, team, fixed):
    services.accrue_many(users=team, amount=200, actor=manager)  # 800 granted, 200 left
    services.top_up_budget(manager=manager, amount=-150, actor=administrator, comment="Cut")
    assert (selectors.budget(manager).allowance, left(manager)) == (850, 50)
    before = list(BudgetMovement.objects.values()), list(Budget.objects.values())
    with pytest.raises(BudgetBelowGranted) as refused:
        services.top_up_budget(manager=manager, amount=-51, actor=administrator)
    assert refused.value.message == (
        "Maria Manager has used 800.00 of 850.00 Bonuses: the budget can be reduced by at most 50.00."
    )
    assert (list(BudgetMovement.objects.values()), list(Budget.objects.values())) == before


def test_a_bulk_reduction_changes_every_budget_or_none(administrator, manager, make_user, department, team, fixed):
    other = make_user("other@example.com", role="Managers", manages=[department], full_name="Oleg Other")
    services.accrue(user=team[0], amount=900, actor=manager)
    before = list(BudgetMovement.objects.values()), list(Budget.objects.values())
    with pytest.raises(BudgetBelowGranted) as refused:
        services.top_up_budgets(managers=[manager, other], amount=-200, actor=administrator, comment="Cut")
    assert refused.value.message.startswith("1 budget cannot be reduced that much; nothing was changed.")
    assert "Maria Manager has used 900" in refused.value.message
    assert (list(BudgetMovement.objects.values()), list(Budget.objects.values())) == before
    services.top_up_budgets(managers=[manager, other], amount=100, actor=administrator, comment="Bonus month")
    assert (left(manager), left(other)) == (200, 1100)


def test_an_administrator_has_no_budget_to_change(administrator, fixed):
    with pytest.raises(NoBudget, match="does not grant from a budget"):
        services.top_up_budget(manager=administrator, amount=10, actor=administrator)


def test_top_up_without_a_policy_is_refused(administrator, manager, bonuses, ledger_snapshot):
    Currency.objects.filter(pk=bonuses.pk).update(budget_period="", budget_allowance=None)
    before = ledger_snapshot()
    with pytest.raises(NoBudgetPolicy):
        services.top_up_budget(manager=manager, amount=10, actor=administrator)
    assert ledger_snapshot() == before


# Per employee managed, and the headcount --------------------------------------------------------


def test_an_allowance_per_employee_counts_the_team_when_the_period_opens(manager, make_user, department, bonuses):
    services.update_currency_settings(
        bonuses, budget_period="month", budget_allowance=None, budget_per_employee=Decimal("50")
    )
    for _ in range(12):
        make_user(department=department)
    make_user(department=department, is_active=False)  # not counted
    services.open_budgets(at=datetime.now(tz=ZoneInfo("UTC")))
    opened = BudgetMovement.objects.get(kind=Kind.OPENED)
    assert (opened.amount, opened.headcount) == (600, 12)
    make_user(department=department)  # joins later: this period's budget stays as it opened
    services.open_budgets(at=datetime.now(tz=ZoneInfo("UTC")))
    assert left(manager) == 600 and BudgetMovement.objects.count() == 1


# Periods across a month end, in the company time zone -----------------------------------------------


def tokyo(day: date, hour: int, minute: int = 0) -> datetime:
    return datetime.combine(day, time(hour, minute), tzinfo=ZoneInfo(TOKYO))


@pytest.fixture
def in_tokyo(settings):
    settings.TIME_ZONE = TOKYO


YEAR = date.today().year - 1  # a past year: the daily run may post there


def daily(day: date) -> str:
    out = StringIO()
    call_command("bonuses_daily", "--date", day.isoformat(), stdout=out)
    return out.getvalue()


def test_a_period_ends_at_the_companys_midnight_and_what_is_left_lapses(in_tokyo, manager, employee, fixed):
    services.accrue(user=employee, amount=300, actor=manager, at=tokyo(date(YEAR, 1, 31), 23, 30))
    # 00:30 on 1 February in Tokyo is still 31 January in UTC: the grant draws on February's budget.
    services.accrue(user=employee, amount=100, actor=manager, at=tokyo(date(YEAR, 2, 1), 0, 30))
    january, february = Budget.objects.order_by("period_start")
    assert (january.period_start, january.period_end) == (date(YEAR, 1, 1), date(YEAR, 1, 31))
    assert (january.granted, february.granted) == (300, 100)
    assert january.closed_at is not None and january.left == 0  # closed when February opened
    lapsed = january.movements.get(kind=Kind.LAPSED)
    assert (lapsed.amount, lapsed.at) == (-700, tokyo(date(YEAR, 2, 1), 0))
    assert february.allowance == 1000  # nothing rolled over
    assert [selectors.budget_problems(b) for b in (january, february)] == [[], []]


def test_unused_budget_rolls_over_up_to_the_cap(in_tokyo, manager, employee, fixed):
    services.update_currency_settings(fixed, budget_rollover=True, budget_rollover_cap=Decimal("500"))
    services.accrue(user=employee, amount=300, actor=manager, at=tokyo(date(YEAR, 1, 10), 12))
    out = daily(date(YEAR, 2, 1))
    assert "Managers' budgets: Period opened 1, Rolled over 2, Lapsed at the period's end 1" in out
    january, february = Budget.objects.order_by("period_start")
    assert february.allowance == 1500 and january.left == 0
    assert list(january.movements.order_by("id").values_list("kind", "amount")) == [
        (Kind.OPENED, 1000),
        (Kind.GRANT, -300),
        (Kind.ROLLED_OVER, -500),
        (Kind.LAPSED, -200),
    ]
    assert february.movements.get(kind=Kind.ROLLED_OVER).comment == f"From January {YEAR}"


def test_without_a_cap_all_of_it_rolls_over(in_tokyo, manager, employee, fixed):
    services.update_currency_settings(fixed, budget_rollover=True)
    services.accrue(user=employee, amount=300, actor=manager, at=tokyo(date(YEAR, 1, 10), 12))
    daily(date(YEAR, 2, 1))
    assert Budget.objects.get(period_start=date(YEAR, 2, 1)).allowance == 1700


def test_the_daily_run_is_idempotent_and_catches_up_on_missed_days(in_tokyo, manager, fixed):
    daily(date(YEAR, 1, 5))
    assert Budget.objects.count() == 1
    second = daily(date(YEAR, 1, 6))
    assert "Managers' budgets: Period opened 0, Rolled over 0, Lapsed at the period's end 0" in second
    # No run for two months: the current period (March) opens once; January lapses; February never opened.
    daily(date(YEAR, 3, 20))
    budgets = Budget.objects.order_by("period_start")
    assert [(budget.period_start, budget.closed_at is None) for budget in budgets] == [
        (date(YEAR, 1, 1), False),
        (date(YEAR, 3, 1), True),
    ]
    daily(date(YEAR, 3, 20))
    assert Budget.objects.count() == 2 and BudgetMovement.objects.filter(kind=Kind.OPENED).count() == 2


def test_a_grant_dated_in_a_period_already_over_is_refused(in_tokyo, manager, employee, fixed, ledger_snapshot):
    daily(date(YEAR, 3, 1))
    before = ledger_snapshot()
    with pytest.raises(NoBudget, match="The budget period of .* is over."):
        services.accrue(user=employee, amount=1, actor=manager, at=tokyo(date(YEAR, 2, 10), 12))
    assert ledger_snapshot() == before


def test_the_figures_at_a_moment_come_from_the_movements(manager, administrator, employee, fixed):
    services.accrue(user=employee, amount=100, actor=manager)
    moment = BudgetMovement.objects.get(kind=Kind.GRANT).at
    services.top_up_budget(manager=manager, amount=400, actor=administrator)
    then, now = selectors.budget(manager, at=moment), selectors.budget(manager)
    assert (then.allowance, then.left) == (1000, 900)
    assert (now.allowance, now.left) == (1400, 1300)


# Reversals ----------------------------------------------------------------------------------------


def test_a_reversed_grant_returns_to_the_budget_once(manager, administrator, team, fixed, ledger_snapshot):
    batch = services.accrue_many(users=team, amount=100, actor=manager)
    budget = services.return_grants(batch, administrator, comment="Wrong team")
    assert (budget.granted, budget.left) == (0, 1000)
    returned = BudgetMovement.objects.get(kind=Kind.RETURNED)
    assert (returned.amount, returned.actor, returned.batch) == (400, administrator, batch)
    before = ledger_snapshot()
    with pytest.raises(AlreadyReturned):
        services.return_grants(batch, administrator)
    assert ledger_snapshot() == before


def test_an_administrators_batch_returns_to_no_budget(administrator, team, fixed):
    batch = services.accrue_many(users=team, amount=100, actor=administrator)
    assert services.return_grants(batch, administrator) is None


def test_a_grant_returned_to_a_closed_budget_lapses_at_once(in_tokyo, manager, administrator, team, fixed):
    batch = services.accrue_many(users=team, amount=100, actor=manager, at=tokyo(date(YEAR, 1, 10), 12))
    daily(date(YEAR, 2, 1))
    january = services.return_grants(batch, administrator)
    assert january.left == 0 and january.granted == 0
    assert list(january.movements.order_by("id").values_list("kind", "amount"))[-2:] == [
        (Kind.RETURNED, 400),
        (Kind.LAPSED, -400),
    ]
    assert selectors.budget_problems(january) == []


# check_ledger -------------------------------------------------------------------------------------


def test_check_ledger_proves_the_budgets_figures_are_the_sums_of_their_movements(manager, employee, fixed):
    services.accrue(user=employee, amount=100, actor=manager)
    out = StringIO()
    call_command("check_ledger", stdout=out)
    assert "The 1 budget balances." in out.getvalue()
    Budget.objects.update(left=Decimal("950"))  # behind the services' back
    out = StringIO()
    with pytest.raises(CommandError, match="1 of 1 budget fails its own"):
        call_command("check_ledger", stdout=out)
    assert "stored left 950.00 != 900.00 from the movements" in out.getvalue()


# The race -----------------------------------------------------------------------------------------


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_two_grants_racing_for_the_last_points_cannot_both_succeed(make_user, department, bonuses):
    services.update_currency_settings(bonuses, budget_period="month", budget_allowance=Decimal("100"))
    manager = make_user("racer@example.com", role="Managers", manages=[department], full_name="Rita Racer")
    people = [make_user(department=department) for _ in range(6)]
    width = 6
    barrier = threading.Barrier(width)
    outcomes: list[object] = [None] * width

    def grant(index: int) -> None:
        try:
            barrier.wait(timeout=60)
            outcomes[index] = services.accrue(user=people[index], amount=60, actor=manager)
        except Exception as error:
            outcomes[index] = error
        finally:
            connection.close()

    threads = [threading.Thread(target=grant, args=(index,), daemon=True) for index in range(width)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    assert not any(thread.is_alive() for thread in threads)
    succeeded = [outcome for outcome in outcomes if isinstance(outcome, Entry)]
    refused = [outcome for outcome in outcomes if isinstance(outcome, BudgetExceeded)]
    assert (len(succeeded), len(refused)) == (1, width - 1), outcomes
    budget = Budget.objects.get()
    assert (budget.granted, budget.left) == (60, 40)
    assert Entry.objects.count() == 1
    assert selectors.budget_problems(budget) == []
