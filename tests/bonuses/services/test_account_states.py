"""Account states (SPEC.md section 2, issue 11): every change is one immutable logged row with its actor and
reason; a refused change leaves everything as it was; and what each state allows: an active account accrues
and spends, an accumulate-only one accrues but cannot spend, a blocked one can neither spend nor reserve, and
only an administrator adds points to it (a manager's grant is refused as a whole) or writes them off.

The service tests run on both databases (the suite runs on SQLite and on PostgreSQL); the race at the end
needs PostgreSQL's row locks.
"""

import threading

import pytest
from django.db import connection

from bonuses import selectors, services
from bonuses.exceptions import AccountBlocked, AccumulateOnly, CommentTooLong, NotPermitted
from bonuses.models import Account, AccountStateChange, Currency, Entry
from tests.helpers import local

ACTIVE, ACCUMULATE_ONLY, BLOCKED = Account.State.ACTIVE, Account.State.ACCUMULATE_ONLY, Account.State.BLOCKED


@pytest.fixture
def funded(employee, administrator, bonuses):
    """The employee with 100 active points."""
    services.accrue(user=employee, amount=100, actor=administrator, comment="Start")
    return employee


def state_of(user, currency=None) -> str:
    return Account.objects.get(user=user, currency=currency or Currency.objects.get(is_default=True)).state


def changes(user) -> list[tuple]:
    rows = AccountStateChange.objects.filter(account__user=user).order_by("at", "pk")
    return list(rows.values_list("from_state", "to_state", "reason", "actor__email"))


# The log ---------------------------------------------------------------------------------------


@pytest.mark.django_db
def test_every_change_is_one_logged_row_with_its_actor_reason_and_time(funded, administrator):
    at = local(3, 2, 9)
    account = services.set_account_state(
        user=funded, state=BLOCKED, actor=administrator, reason="  Left the company pending checks  ", at=at
    )
    assert account.state == BLOCKED == state_of(funded)
    row = AccountStateChange.objects.get()
    assert (row.account, row.from_state, row.to_state) == (account, ACTIVE, BLOCKED)
    assert (row.actor, row.at) == (administrator, at)
    assert row.reason == "Left the company pending checks"  # trimmed, like a comment

    services.set_account_state(user=funded, state=ACCUMULATE_ONLY, actor=administrator, reason="Checks done")
    services.set_account_state(user=funded, state=ACTIVE, actor=administrator, reason="Back")
    assert changes(funded) == [
        (ACTIVE, BLOCKED, "Left the company pending checks", "admin@example.com"),
        (BLOCKED, ACCUMULATE_ONLY, "Checks done", "admin@example.com"),
        (ACCUMULATE_ONLY, ACTIVE, "Back", "admin@example.com"),
    ]


@pytest.mark.django_db
def test_a_state_change_moves_no_points(funded, administrator, ledger_snapshot):
    before = ledger_snapshot(skip={"AccountStateChange", "Account"})
    figures = Account.objects.filter(user=funded).values(*Account.FIGURES, "last_entry_at").get()
    services.set_account_state(user=funded, state=BLOCKED, actor=administrator, reason="Audit")
    assert ledger_snapshot(skip={"AccountStateChange", "Account"}) == before
    assert Account.objects.filter(user=funded).values(*Account.FIGURES, "last_entry_at").get() == figures


@pytest.mark.django_db
def test_the_call_without_actor_or_reason_still_works_and_is_logged(funded):
    services.set_account_state(user=funded, state="blocked")
    assert state_of(funded) == BLOCKED
    assert changes(funded) == [(ACTIVE, BLOCKED, "", None)]


@pytest.mark.django_db
def test_an_account_is_created_in_its_state_when_the_employee_has_none(employee, administrator, bonuses):
    stars = Currency.objects.create(name="Stars", whole_numbers=True)
    services.set_account_state(user=employee, state=ACCUMULATE_ONLY, currency=stars, actor=administrator, reason="New")
    assert state_of(employee, stars) == ACCUMULATE_ONLY
    assert not Account.objects.filter(user=employee, currency=bonuses).exists()
    assert changes(employee) == [(ACTIVE, ACCUMULATE_ONLY, "New", "admin@example.com")]


@pytest.mark.django_db
def test_the_state_it_already_is_in_changes_nothing_and_logs_nothing(funded, administrator, ledger_snapshot):
    services.set_account_state(user=funded, state=BLOCKED, actor=administrator, reason="Audit")
    before = ledger_snapshot()
    account = services.set_account_state(user=funded, state=BLOCKED, actor=administrator, reason="Again")
    assert account.state == BLOCKED
    assert ledger_snapshot() == before
    assert AccountStateChange.objects.count() == 1


@pytest.mark.django_db
@pytest.mark.parametrize("who", ["manager", "employee", "inactive administrator"])
def test_only_an_administrator_changes_a_state(who, funded, manager, make_user, ledger_snapshot):
    actor = {
        "manager": manager,
        "employee": make_user(full_name="Colleague"),
        "inactive administrator": make_user(role="Administrators", is_active=False),
    }[who]
    before = ledger_snapshot()
    with pytest.raises(NotPermitted, match="Only an administrator can change the state of an account."):
        services.set_account_state(user=funded, state=BLOCKED, actor=actor, reason="Because")
    assert ledger_snapshot() == before


@pytest.mark.django_db
def test_nobody_changes_the_state_of_their_own_account(administrator, employee, ledger_snapshot):
    services.set_account_state(user=administrator, state=BLOCKED, actor=None)  # as the system may
    before = ledger_snapshot()
    with pytest.raises(NotPermitted, match="You cannot change the state of your own account."):
        services.set_account_state(user=administrator, state=ACTIVE, actor=administrator, reason="Mine")
    assert ledger_snapshot() == before


@pytest.mark.django_db
def test_a_reason_over_1000_characters_is_refused(funded, administrator, ledger_snapshot):
    before = ledger_snapshot()
    with pytest.raises(CommentTooLong, match="The reason is longer than 1000 characters."):
        services.set_account_state(user=funded, state=BLOCKED, actor=administrator, reason="x" * 1001)
    assert ledger_snapshot() == before
    services.set_account_state(user=funded, state=BLOCKED, actor=administrator, reason="x" * 1000)
    assert state_of(funded) == BLOCKED


@pytest.mark.django_db
def test_an_unknown_state_is_refused(funded, administrator, ledger_snapshot):
    before = ledger_snapshot()
    with pytest.raises(ValueError, match="Unknown account state"):
        services.set_account_state(user=funded, state="frozen", actor=administrator, reason="?")
    assert ledger_snapshot() == before


@pytest.mark.django_db
def test_the_log_is_immutable(funded, administrator):
    services.set_account_state(user=funded, state=BLOCKED, actor=administrator, reason="Audit")
    row = AccountStateChange.objects.get()
    row.reason = "Edited"
    with pytest.raises(TypeError, match="immutable"):
        row.save()
    with pytest.raises(TypeError, match="immutable"):
        row.delete()
    with pytest.raises(TypeError, match="immutable"):
        AccountStateChange.objects.update(reason="Edited")
    with pytest.raises(TypeError, match="immutable"):
        AccountStateChange.objects.all().delete()
    assert AccountStateChange.objects.get().reason == "Audit"


# What each state allows ----------------------------------------------------------------------------


@pytest.mark.django_db
def test_an_active_account_accrues_and_spends(funded, administrator, manager):
    services.accrue(user=funded, amount=5, actor=manager, source="manager")
    reservation = services.reserve(user=funded, amount=30, reference="ORDER-1")
    services.capture(reservation, actor=administrator)
    services.write_off(user=funded, amount=10, actor=administrator)
    assert selectors.balance(funded).active == 65


@pytest.mark.django_db
def test_an_accumulate_only_account_accrues_but_cannot_spend(funded, administrator, manager, ledger_snapshot):
    held = services.reserve(user=funded, amount=10, reference="ORDER-1")
    services.set_account_state(user=funded, state=ACCUMULATE_ONLY, actor=administrator, reason="Probation")
    before = ledger_snapshot()
    with pytest.raises(AccumulateOnly, match="This account only accumulates points: they cannot be spent yet."):
        services.reserve(user=funded, amount=10, reference="ORDER-2")
    with pytest.raises(AccumulateOnly):
        services.capture(held, actor=administrator)
    assert ledger_snapshot() == before
    # It still accrues, from anyone who may grant; an administrator writes off; a held order can be cancelled.
    services.accrue(user=funded, amount=5, actor=manager, source="manager")
    services.accrue_many(users=[funded], amount=5, actor=administrator)
    services.write_off(user=funded, amount=20, actor=administrator)
    services.release(held, actor=funded)
    assert selectors.balance(funded).active == 100 - 10 + 5 + 5 - 20 + 10
    assert state_of(funded) == ACCUMULATE_ONLY


@pytest.mark.django_db
def test_a_blocked_account_can_neither_spend_nor_reserve(funded, administrator, ledger_snapshot):
    held = services.reserve(user=funded, amount=10, reference="ORDER-1")
    services.set_account_state(user=funded, state=BLOCKED, actor=administrator, reason="Audit")
    before = ledger_snapshot()
    with pytest.raises(AccountBlocked, match="This account is blocked: its points cannot be spent or reserved."):
        services.reserve(user=funded, amount=10, reference="ORDER-2")
    with pytest.raises(AccountBlocked, match="blocked"):
        services.capture(held, actor=administrator)
    assert ledger_snapshot() == before
    services.release(held, actor=administrator)  # a held order can still be cancelled: the points come back
    assert selectors.balance(funded).active == 100


@pytest.mark.django_db
def test_an_administrator_still_accrues_to_and_writes_off_from_a_blocked_account(funded, administrator):
    services.set_account_state(user=funded, state=BLOCKED, actor=administrator, reason="Audit")
    services.accrue(user=funded, amount=10, actor=administrator)
    services.accrue_many(users=[funded], amount=5, actor=administrator)
    services.accrue(user=funded, amount=1, actor=None)  # the system's own (demo data, commands)
    services.write_off(user=funded, amount=16, actor=administrator)
    assert selectors.balance(funded).active == 100
    assert state_of(funded) == BLOCKED


@pytest.mark.django_db
def test_a_managers_grant_to_a_blocked_account_is_refused(funded, administrator, manager, ledger_snapshot):
    services.set_account_state(user=funded, state=BLOCKED, actor=administrator, reason="Audit")
    before = ledger_snapshot()
    message = "Erik Employee's Bonuses account is blocked: only an administrator can add points to it."
    with pytest.raises(AccountBlocked, match=message):
        services.accrue(user=funded, amount=5, actor=manager, source="manager")
    # Decided by the actor, whatever the source says.
    with pytest.raises(AccountBlocked, match=message):
        services.accrue(user=funded, amount=5, actor=manager, source="manual")
    assert ledger_snapshot() == before


@pytest.mark.django_db
def test_a_managers_bulk_grant_reaching_a_blocked_account_grants_nothing(
    funded, administrator, manager, department, make_user, ledger_snapshot
):
    team = [make_user(department=department, full_name=f"Team {n}") for n in range(3)]
    services.set_account_state(user=team[1], state=BLOCKED, actor=administrator, reason="Audit")
    before = ledger_snapshot()
    with pytest.raises(AccountBlocked) as refusal:
        services.accrue_many(users=[funded, *team], amount=5, actor=manager, source="manager")
    assert refusal.value.message == (
        "1 of the selected employees has a blocked Bonuses account (Team 1): only an administrator can add "
        "points to it; nothing was accrued."
    )
    assert ledger_snapshot() == before
    # Without the blocked one, the same grant goes through; an accumulate-only account receives it too.
    services.set_account_state(user=team[2], state=ACCUMULATE_ONLY, actor=administrator, reason="Probation")
    batch = services.accrue_many(users=[funded, team[0], team[2]], amount=5, actor=manager, source="manager")
    assert batch.employee_count == 3


@pytest.mark.django_db
def test_the_refusal_names_the_first_five_blocked_and_counts_the_rest(administrator, manager, department, make_user):
    team = [make_user(department=department, full_name=f"Team {n}") for n in range(7)]
    for person in team:
        services.set_account_state(user=person, state=BLOCKED, actor=administrator, reason="Audit")
    with pytest.raises(AccountBlocked) as refusal:
        services.accrue_many(users=team, amount=5, actor=manager, source="manager")
    assert refusal.value.message == (
        "7 of the selected employees have a blocked Bonuses account (Team 0, Team 1, Team 2, Team 3, Team 4 and "
        "2 more): only an administrator can add points to them; nothing was accrued."
    )


@pytest.mark.django_db
def test_states_are_per_currency(funded, administrator):
    stars = Currency.objects.create(name="Stars", whole_numbers=True)
    services.accrue(user=funded, amount=50, actor=administrator, currency=stars)
    services.set_account_state(user=funded, state=BLOCKED, currency=stars, actor=administrator, reason="Stars only")
    services.reserve(user=funded, amount=10, reference="ORDER-1")  # Bonuses: still active
    with pytest.raises(AccountBlocked):
        services.reserve(user=funded, amount=10, reference="ORDER-2", currency=stars)


# What the screens read ---------------------------------------------------------------------------------


@pytest.mark.django_db
def test_the_states_of_an_employee_per_currency_with_the_latest_change(funded, administrator):
    stars = Currency.objects.create(name="Stars", whole_numbers=True)
    services.set_account_state(user=funded, state=BLOCKED, actor=administrator, reason="First", at=local(3, 1))
    services.set_account_state(user=funded, state=ACCUMULATE_ONLY, actor=administrator, reason="Then", at=local(3, 5))
    states = selectors.account_states(funded)
    assert [(s.currency.name, s.state, s.since, s.reason, s.can_spend) for s in states] == [
        ("Bonuses", ACCUMULATE_ONLY, local(3, 5), "Then", False),
        ("Stars", ACTIVE, None, "", True),  # no account yet: active
    ]
    assert states[0].refusal == "This account only accumulates points: they cannot be spent yet."
    assert [s.currency for s in selectors.account_states(funded, restricted_only=True)] == [states[0].currency]
    assert selectors.account_state(funded, stars).state == ACTIVE
    assert selectors.account_state(funded).label == "Accumulate only"


@pytest.mark.django_db
def test_a_state_set_before_changes_were_logged_has_no_date(funded):
    Account.objects.filter(user=funded).update(state=BLOCKED)  # as an older version left it
    (state,) = selectors.account_states(funded, restricted_only=True)
    assert (state.state, state.since, state.reason) == (BLOCKED, None, "")


# Concurrency (PostgreSQL's row locks) ------------------------------------------------------------------


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_a_block_racing_orders_either_comes_first_or_after_them(make_user, administrator):
    """Each order either reserved before the block took the account's lock, or is refused; the log chains."""
    employee = make_user(full_name="Racing Employee")
    services.accrue(user=employee, amount=100, actor=administrator)
    barrier = threading.Barrier(3)
    outcomes: dict[str, object] = {}

    def run(name, call):
        try:
            barrier.wait(timeout=30)
            outcomes[name] = call()
        except Exception as exc:
            outcomes[name] = exc
        finally:
            connection.close()

    calls = {
        "block": lambda: services.set_account_state(user=employee, state=BLOCKED, actor=administrator, reason="Race"),
        "order 1": lambda: services.reserve(user=employee, amount=10, reference="R-1"),
        "order 2": lambda: services.reserve(user=employee, amount=10, reference="R-2"),
    }
    threads = [threading.Thread(target=run, args=item, daemon=True) for item in calls.items()]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert not any(thread.is_alive() for thread in threads)

    assert isinstance(outcomes["block"], Account)
    block = AccountStateChange.objects.get()
    for name in ("order 1", "order 2"):
        if isinstance(outcomes[name], Exception):
            assert isinstance(outcomes[name], AccountBlocked), outcomes[name]
        else:  # it reserved first: its entry is not after the block
            entry = Entry.objects.get(kind=Entry.Kind.ORDER_RESERVED, reservation__reference=outcomes[name].reference)
            assert entry.at <= block.at
    reserved = sum(10 for name in ("order 1", "order 2") if not isinstance(outcomes[name], Exception))
    assert selectors.balance(employee).active == 100 - reserved
    assert state_of(employee) == BLOCKED
