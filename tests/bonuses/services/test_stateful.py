"""The ledger against a small reference model, driven by random sequences of operations.

Hypothesis runs random sequences of accruals (one employee or many, with expiry dates,
lifetimes and activation dates), write-offs, reservations, captures, releases, whole and
partial refunds, reversals of bulk accruals, settlements (the daily run and one account's) and account-state changes, at
increasing random moments (often exactly at, or just before, 00:00 or the next activation or
expiry), in a currency with random settings (whole numbers, an activation delay, a lifetime
from crediting). It keeps a reference model of SPEC.md sections 2-5 written here,
independently of `bonuses.rules`:

- lots with remaining points, activation from 00:00 of the activation date and expiry from
  00:00 of the day after the expiry date, both in the company time zone;
- deductions first-expiring first (no expiry last, ties to the oldest lot), reservations
  remembering the lots they took from, releases and refunds putting the points back into
  those lots latest-expiring first (points that return to an expired lot expire again at once);
- a reversal of a batch taking back from each recipient what it gave: from the batch's lot first
  (a lot not yet active gives back its points as non-activated ones), then from the other active lots
  first-expiring first; lowering total accrued;
- refusals: no account, more than the active balance, an invalid amount or dates, a resolved reservation,
  more than the refundable part, a blocked or accumulate-only account, an inactive employee,
  an operation dated before the account's latest entry, a batch already reversed or itself a reversal,
  a recipient of the batch whose balance no longer covers it. A refused operation must raise a
  BonusError and write nothing at all.

After every step the balance figures of every employee (section 5, with the next expiry) must
equal the model's, now and, read from the log once later entries exist, at the previous moment
of the run; every lot and reservation must be in the state the model says; and
`selectors.ledger_problems` must find nothing (the identities `check_ledger` proves).

HYPOTHESIS_EXAMPLES sets the number of sequences (200 by default).
"""

import os
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from decimal import ROUND_DOWN, Decimal

import pytest
from django.db import transaction
from django.utils import timezone
from hypothesis import HealthCheck, event, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, initialize, invariant, rule

from bonuses import selectors, services
from bonuses.exceptions import (
    AccountBlocked,
    BatchAlreadyReversed,
    BatchNotReversible,
    BonusError,
    InactiveEmployee,
    InsufficientBalance,
    InvalidAmount,
    InvalidDates,
    NoAccount,
    NoEmployees,
    OperationInPast,
    ReservationResolved,
    ReversalShortfall,
)
from bonuses.models import Account, Batch, Currency, Entry, Lot, Reservation
from tests.helpers import ledger_state
from users.models import User

pytestmark = pytest.mark.django_db

ZERO = Decimal("0.00")
CENT = Decimal("0.01")
FIGURES = ("active", "reserved", "non_activated", "spent", "written_off", "expired", "total_accrued")
EMPLOYEES = 2  # active employees 0 and 1; employee 2 is inactive and may never receive points
INACTIVE = EMPLOYEES


# Days in the company time zone, computed here rather than with bonuses.rules --------------


def company_day(moment: datetime) -> date:
    return moment.astimezone(timezone.get_default_timezone()).date()


def midnight(day: date) -> datetime:
    """00:00 of a day in the company time zone."""
    return datetime.combine(day, time.min, tzinfo=timezone.get_default_timezone())


def add_months(day: date, months: int) -> date:
    index = day.month - 1 + months
    year, month = day.year + index // 12, index % 12 + 1
    for last in (31, 30, 29, 28):
        try:
            return date(year, month, min(day.day, last))
        except ValueError:
            continue
    raise AssertionError("unreachable")


# The reference model ---------------------------------------------------------------------


@dataclass
class ModelLot:
    key: int  # creation order: the oldest lot has the smallest key
    pk: int
    amount: Decimal
    remaining: Decimal
    accrued_at: datetime
    activates_at: datetime | None
    expires_at: datetime | None
    activated: bool

    def fefo(self):
        """First-expiring first; no expiry last; ties to the oldest lot."""
        return (self.expires_at is None, self.expires_at or self.accrued_at, self.accrued_at, self.key)


@dataclass
class ModelReservation:
    pk: int
    employee: int
    amount: Decimal
    status: str = "held"
    refunded: Decimal = ZERO
    taken: dict = field(default_factory=dict)  # lot key -> points taken and not yet put back


@dataclass
class ModelBatch:
    pk: int
    amount: Decimal
    lots: dict  # employee -> the key of the lot the batch gave them
    reversal_of: int | None = None  # a compensating batch: the pk of the batch it reverses
    reversed_by: int | None = None


@dataclass
class ModelAccount:
    exists: bool = False
    state: str = "active"
    lots: dict = field(default_factory=dict)  # key -> ModelLot
    accrued: Decimal = ZERO
    written_off: Decimal = ZERO
    reversed: Decimal = ZERO
    expired: Decimal = ZERO
    last_posted_at: datetime | None = None  # the latest operation that posted an entry

    def in_lots(self, activated: bool) -> Decimal:
        return sum((lot.remaining for lot in self.lots.values() if lot.activated == activated), ZERO)

    def settle(self, now: datetime) -> None:
        """Activations and expiries due by `now` (an expiring lot has always activated first)."""
        for lot in self.lots.values():
            if not lot.activated and lot.activates_at <= now:
                lot.activated = True
                event("a lot activated")
            if lot.expires_at is not None and lot.expires_at <= now and lot.remaining > 0:
                assert lot.activated
                event("points expired")
                self.expired += lot.remaining
                lot.remaining = ZERO

    def coming_changes(self) -> list[datetime]:
        """When lots will activate, and when lots with points left will expire."""
        activations = [lot.activates_at for lot in self.lots.values() if not lot.activated]
        return activations + [lot.expires_at for lot in self.lots.values() if lot.remaining and lot.expires_at]

    def spendable(self, now: datetime) -> list[ModelLot]:
        """Active lots with points left, first-expiring first."""
        return sorted(
            (
                lot
                for lot in self.lots.values()
                if lot.activated and lot.remaining > 0 and (lot.expires_at is None or lot.expires_at > now)
            ),
            key=ModelLot.fefo,
        )

    def take(self, amount: Decimal, now: datetime) -> dict:
        """Take `amount` from active lots, first-expiring first; the caller checked the balance."""
        spendable = self.spendable(now)
        taken, left = {}, amount
        for lot in spendable:
            if left == 0:
                break
            part = min(lot.remaining, left)
            lot.remaining -= part
            left -= part
            taken[lot.key] = part
        assert left == 0, "the model took more than the active balance"
        if len(taken) > 1:
            event("a deduction from several lots")
        if len({lot.fefo()[:2] for lot in spendable}) < len(spendable):
            event("a deduction with lots expiring at the same moment")
        return taken

    def take_back(self, lot: ModelLot, amount: Decimal, now: datetime) -> None:
        """A reversal: all of a lot not yet active, else what is left of it and the rest first-expiring first."""
        self.reversed += amount
        if not lot.activated:
            assert lot.remaining == amount, "a lot not yet active holds all its points"
            lot.remaining, lot.activated = ZERO, True  # nothing left to activate
            event("a reversal of points not yet active")
            return
        part = min(lot.remaining, amount)
        lot.remaining -= part
        if part < amount:
            event("a reversal that takes from other lots")
            self.take(amount - part, now)  # the batch's lot is empty now: the others give the rest

    def give_back(self, reservation: ModelReservation, amount: Decimal, now: datetime) -> None:
        """Back into the lots the reservation took from, latest-expiring first; expired lots expire again."""
        lots = sorted((self.lots[key] for key, part in reservation.taken.items() if part > 0), key=ModelLot.fefo)
        left = amount
        if len(lots) > 1 and amount < sum(reservation.taken.values()):
            event("a partial give-back to several lots")
        for lot in reversed(lots):
            if left == 0:
                break
            if lot.expires_at is not None and lot.expires_at <= now:
                event("points back into an expired lot")
            part = min(reservation.taken[lot.key], left)
            lot.remaining += part
            reservation.taken[lot.key] -= part
            left -= part
        assert left == 0, "the model gave back more than the reservation took"
        self.settle(now)


def same(a: Decimal, b: Decimal) -> bool:
    return Decimal(a) == Decimal(b)


# Strategies ------------------------------------------------------------------------------

VALID_AMOUNTS = st.one_of(
    st.integers(1, 400).map(Decimal),
    st.integers(1, 40_000).map(lambda cents: Decimal(cents).scaleb(-2)),
)
INVALID_AMOUNTS = st.sampled_from([Decimal("0"), Decimal("-5"), Decimal("0.005"), Decimal("12.345")])
# How an amount is passed: as a Decimal, as text, or as an int where it is whole.
AMOUNT_FORMS = st.sampled_from(["decimal", "decimal", "str", "int"])

# Accrual dates, relative to the day of the accrual (negative: in the past).
TIMINGS = st.one_of(
    st.just({}),
    st.just({}),
    st.just({}),
    st.builds(lambda d: {"expires_in": d}, st.integers(0, 5)),
    st.builds(lambda d: {"expires_in": d}, st.integers(0, 2)),
    st.builds(lambda n: {"lifetime_days": n}, st.integers(1, 5)),
    st.builds(lambda n: {"lifetime_days": n}, st.integers(1, 2)),
    st.builds(lambda a: {"activates_in": a}, st.integers(-1, 4)),
    st.builds(lambda a, d: {"activates_in": a, "expires_in": a + d}, st.integers(0, 3), st.integers(0, 3)),
    st.builds(lambda a, n: {"activates_in": a, "lifetime_days": a + n}, st.integers(0, 3), st.integers(1, 3)),
    # Refused: an expiry date in the past, both an expiry date and a lifetime, expiry before activation.
    st.sampled_from([{"expires_in": -1}, {"expires_in": 2, "lifetime_days": 2}, {"activates_in": 3, "expires_in": 1}]),
)

# How long to wait: minutes, days, until (just before) 00:00 of a coming day, or until (just
# before) the next moment a lot activates or expires.
WAITS = st.one_of(
    st.tuples(st.just("minutes"), st.integers(1, 36 * 60)),
    st.tuples(st.just("days"), st.integers(1, 4)),
    st.tuples(st.sampled_from(["midnight", "just before midnight"]), st.integers(1, 3)),
    st.tuples(st.sampled_from(["next change", "just before the next change"]), st.just(0)),
)

# The operations a step chooses from, with their weights. Each run also leaves out a few
# (never waiting or accruing), so that some runs pile points up and others drain them.
OPERATIONS = {
    "wait": 1,
    "accrue": 4,
    "accrue_many": 2,
    "write_off": 2,
    "reserve": 4,
    "resolve": 3,
    "refund": 3,
    "settle": 1,
    "set_state": 2,
    "operate_in_the_past": 1,
    "reverse_batch": 1,
}
OPTIONAL = sorted(set(OPERATIONS) - {"wait", "accrue"})

# Most of the activity goes to employee 0, so that one account sees long histories.
EMPLOYEE = st.sampled_from([0, 0, 0, 1])
STATES = ["active", "active", "accumulate_only", "blocked"]
# Starting days near the changes of daylight-saving time, a month end and a leap day.
START_DAYS = st.sampled_from([date(2026, 3, 26), date(2026, 10, 22), date(2026, 1, 29), date(2028, 2, 26)])


# The state machine -----------------------------------------------------------------------


def people() -> list[User]:
    """An administrator, the employees and an inactive one; created once per test, outside the examples."""
    wanted = {
        "stateful-admin@example.com": {"full_name": "Admin", "is_superuser": True},
        **{f"stateful{n}@example.com": {"full_name": f"Employee {n}"} for n in range(EMPLOYEES)},
        "stateful-gone@example.com": {"full_name": "Gone", "is_active": False},
    }
    found = {user.email: user for user in User.objects.filter(email__in=wanted)}
    return [found.get(email) or User.objects.create_user(email, None, **fields) for email, fields in wanted.items()]


class LedgerMachine(RuleBasedStateMachine):
    def __init__(self):
        super().__init__()
        self.admin, *self.users = people()
        # Each example runs in a savepoint that teardown rolls back: every example starts from
        # the migrated ledger (the default currency only), on SQLite and PostgreSQL alike.
        self._atomic = transaction.atomic()
        self._atomic.__enter__()
        self.currency = Currency.objects.get(is_default=True)
        self.accounts = [ModelAccount() for _ in self.users]
        self.reservations: list[ModelReservation] = []
        self.batches: list[ModelBatch] = []
        self.history: list[dict] = [{} for _ in self.users]  # moment -> balance figures then
        self.verified: dict = {}  # employee -> what was stored when ledger_problems last found nothing
        self.history_checked: dict = {}  # employee -> the earlier moment whose balance was last checked
        self.checked: dict = {}  # employee -> (what was stored, the moment, the model's figures) last checked
        self.stored_rows = None  # lots, reservations and accounts as the invariant last read them
        self.touched = True  # whether the step may have written anything
        self.known_state = None  # `ledger_state()`, while nothing has been written since it was taken
        self.next_key = 0
        self.orders = 0
        self.operations = ["wait"]
        self.now = datetime(2026, 1, 1, tzinfo=UTC)

    def teardown(self):
        transaction.set_rollback(True)
        self._atomic.__exit__(None, None, None)

    # Set-up ------------------------------------------------------------------------------

    @initialize(
        start_day=START_DAYS,
        start_minute=st.integers(0, 3 * 24 * 60),
        whole=st.sampled_from([False, False, True]),
        delay=st.sampled_from([0, 0, 0, 0, 1, 2]),
        lifetime=st.sampled_from([None, None, (3, "days"), (5, "days"), (10, "days"), (1, "months")]),
        first_lots=st.lists(st.tuples(EMPLOYEE, TIMINGS), min_size=1, max_size=5),
        left_out=st.sets(st.sampled_from(OPTIONAL), max_size=3),
        data=st.data(),
    )
    def set_up(self, start_day, start_minute, whole, delay, lifetime, first_lots, left_out, data):
        """The currency's settings, the starting moment, the operations of this run and a few first accruals."""
        self.operations = [name for name, weight in OPERATIONS.items() if name not in left_out for _ in range(weight)]
        changes = {"whole_numbers": whole, "activation_delay_days": delay}
        if lifetime:
            changes.update(burn_policy="from_crediting", lifetime_value=lifetime[0], lifetime_unit=lifetime[1])
        Currency.objects.filter(pk=self.currency.pk).update(**changes)
        self.currency.refresh_from_db()
        self.now = (midnight(start_day) + timedelta(minutes=start_minute)).astimezone(UTC)
        for employee, timing in first_lots:
            self.accrue_one(employee, self.draw_accrual(data), "decimal", timing)

    # Helpers -----------------------------------------------------------------------------

    @property
    def quantum(self) -> Decimal:
        return Decimal("1") if self.currency.whole_numbers else CENT

    def amount_error(self, amount: Decimal):
        if amount <= 0 or amount != amount.quantize(CENT):
            return InvalidAmount
        if self.currency.whole_numbers and amount != amount.to_integral_value():
            return InvalidAmount
        return None

    def passed(self, amount: Decimal, form: str):
        if form == "str":
            return str(amount)
        if form == "int" and amount == amount.to_integral_value():
            return int(amount)
        return amount

    def reserved(self, employee: int) -> Decimal:
        return sum((r.amount for r in self.reservations if r.employee == employee and r.status == "held"), ZERO)

    def spent(self, employee: int) -> Decimal:
        return sum(
            (r.amount - r.refunded for r in self.reservations if r.employee == employee and r.status == "captured"),
            ZERO,
        )

    def expected_balance(self, employee: int) -> dict:
        account = self.accounts[employee]
        figures = {
            "active": account.in_lots(activated=True),
            "reserved": self.reserved(employee),
            "non_activated": account.in_lots(activated=False),
            "spent": self.spent(employee),
            "written_off": account.written_off,
            "expired": account.expired,
            "total_accrued": account.accrued - account.written_off - account.reversed,
        }
        open_lots = [lot for lot in account.lots.values() if lot.remaining > 0 and lot.expires_at is not None]
        if open_lots:
            first = min(lot.expires_at for lot in open_lots)
            figures["next_expiry_on"] = company_day(first) - timedelta(days=1)
            figures["next_expiry_amount"] = sum((lot.remaining for lot in open_lots if lot.expires_at == first), ZERO)
        else:
            figures["next_expiry_on"], figures["next_expiry_amount"] = None, ZERO
        return figures

    def actual_balance(self, user, at: datetime) -> dict:
        balance = selectors.balance(user, self.currency, at=at)
        return {name: getattr(balance, name) for name in (*FIGURES, "next_expiry_on", "next_expiry_amount")}

    def posted(self, account: ModelAccount) -> None:
        """A service posted an entry on this account now."""
        account.last_posted_at = self.now
        self.wrote()

    def wrote(self) -> None:
        """A service may have written something: what was read before is stale."""
        self.touched = True
        self.known_state = None

    def advance(self, delta: timedelta) -> None:
        assert delta >= timedelta(0)
        self.now += delta
        for account in self.accounts:
            account.settle(self.now)

    def past_moment(self, employee: int, data) -> datetime | None:
        """A moment before the account's latest posted operation, or None if it has none."""
        last = self.accounts[employee].last_posted_at
        if last is None:
            return None
        back = data.draw(st.integers(1, 3 * 24 * 3600), label="seconds back")
        return last - timedelta(seconds=back)

    def refused(self, reasons: set, call) -> None:
        """The call must raise one of the BonusErrors the model expects, and change nothing."""
        before = self.known_state or ledger_state()
        with pytest.raises(BonusError) as refusal:
            call()
        assert isinstance(refusal.value, tuple(reasons)), f"{refusal.value!r} raised; expected one of {reasons}"
        event(f"refused: {type(refusal.value).__name__}")
        self.known_state = ledger_state()
        assert self.known_state == before, f"the refused operation ({refusal.value!r}) changed the ledger"

    def draw_accrual(self, data) -> Decimal:
        """Mostly an amount the currency accepts; sometimes a fraction of a whole-number currency or an invalid one."""
        kind = data.draw(st.integers(0, 24), label="amount kind")  # 11 and 12 are the rare kinds
        if kind == 11:
            return data.draw(INVALID_AMOUNTS, label="invalid amount")
        if self.currency.whole_numbers and kind != 12:
            return Decimal(data.draw(st.integers(1, 400), label="amount"))
        return data.draw(VALID_AMOUNTS, label="amount")

    def draw_deduction(self, data, cap: Decimal, parts: list[Decimal]) -> Decimal:
        """An amount to deduct from `cap`, made of `parts` in the order they are used.

        A share of `cap`; exactly the first parts (a lot boundary); all of it; just over it; any
        amount; or an invalid one.
        """
        how = data.draw(st.sampled_from(["share"] * 5 + ["parts"] * 3 + ["all", "over", "any", "invalid"]), label="how")
        if how == "share" and cap >= self.quantum:
            percent = data.draw(st.sampled_from(range(1, 100)), label="percent")
            return max((cap * percent / 100 / self.quantum).to_integral_value(ROUND_DOWN) * self.quantum, self.quantum)
        if how == "parts" and parts:
            count = data.draw(st.integers(1, len(parts)), label="parts")
            return sum(parts[:count], ZERO)
        if how == "all" and cap > 0:
            return cap
        if how == "over":
            return cap + self.quantum
        if how == "invalid":
            return data.draw(INVALID_AMOUNTS, label="invalid amount")
        return self.draw_accrual(data)

    # Every step is one operation ------------------------------------------------------------

    @rule(data=st.data())
    def step(self, data):
        self.touched = False
        operation = data.draw(st.sampled_from(self.operations), label="operation")
        getattr(self, operation)(data)

    # The clock ---------------------------------------------------------------------------

    def wait(self, data):
        """Some minutes, some days, or to 00:00 of a coming day (when lots expire or activate) or just before it."""
        kind, amount = data.draw(WAITS, label="wait")
        if kind == "minutes":
            self.advance(timedelta(minutes=amount))
            return
        if kind == "days":
            self.advance(timedelta(days=amount, minutes=7 * amount))
            return
        if kind.endswith("midnight"):
            target = midnight(company_day(self.now) + timedelta(days=amount))
        else:
            changes = [moment for account in self.accounts for moment in account.coming_changes()]
            target = min(changes, default=self.now + timedelta(days=1))
        if kind.startswith("just before"):
            target -= timedelta(microseconds=1)
        self.advance(max(target - self.now, timedelta(0)))

    # Accruals ----------------------------------------------------------------------------

    def accrual_options(self, timing: dict, at: datetime):
        """The keyword arguments for the services, and (reasons to refuse, activates_at, expires_at)."""
        today = company_day(at)
        options = {}
        if "expires_in" in timing:
            options["expires_on"] = today + timedelta(days=timing["expires_in"])
        if "lifetime_days" in timing:
            options["lifetime_days"] = timing["lifetime_days"]
        if "activates_in" in timing:
            options["activates_on"] = today + timedelta(days=timing["activates_in"])

        if "expires_on" in options and "lifetime_days" in options:
            return options, {InvalidDates}, None, None
        if "activates_on" in options:
            activation_day = options["activates_on"]
        elif self.currency.activation_delay_days:
            activation_day = today + timedelta(days=self.currency.activation_delay_days)
        else:
            activation_day = None
        activates_at = midnight(activation_day) if activation_day and activation_day > today else None
        if "expires_on" in options:
            if options["expires_on"] < today:
                return options, {InvalidDates}, None, None
            last_day = options["expires_on"]
        elif "lifetime_days" in options:
            last_day = today + timedelta(days=options["lifetime_days"])  # usable through day D+N
        elif self.currency.burn_policy == "from_crediting":
            if self.currency.lifetime_unit == "months":
                last_day = add_months(today, self.currency.lifetime_value)
            else:
                last_day = today + timedelta(days=self.currency.lifetime_value)
        else:
            last_day = None
        expires_at = midnight(last_day + timedelta(days=1)) if last_day else None
        if activates_at and expires_at and expires_at <= activates_at:
            return options, {InvalidDates}, None, None
        return options, set(), activates_at, expires_at

    def credit(self, employee: int, lot_pk: int, amount: Decimal, activates_at, expires_at) -> None:
        account = self.accounts[employee]
        self.next_key += 1
        account.lots[self.next_key] = ModelLot(
            key=self.next_key,
            pk=lot_pk,
            amount=amount,
            remaining=amount,
            accrued_at=self.now,
            activates_at=activates_at,
            expires_at=expires_at,
            activated=activates_at is None,
        )
        account.exists = True
        account.accrued += amount
        self.posted(account)

    def accrue(self, data):
        employee = data.draw(EMPLOYEE, label="employee")
        timing = data.draw(TIMINGS, label="timing")
        form = data.draw(AMOUNT_FORMS, label="form")
        self.accrue_one(employee, self.draw_accrual(data), form, timing)

    def accrue_one(self, employee: int, amount: Decimal, form: str, timing: dict) -> None:
        options, reasons, activates_at, expires_at = self.accrual_options(timing, self.now)
        if error := self.amount_error(amount):
            reasons.add(error)

        def call():
            return services.accrue(
                user=self.users[employee],
                amount=self.passed(amount, form),
                actor=self.admin,
                comment="Stateful",
                at=self.now,
                **options,
            )

        if reasons:
            self.refused(reasons, call)
            return
        entry = call()
        assert entry.kind == Entry.Kind.MANUAL_ACCRUAL and same(entry.amount, amount)
        self.credit(employee, entry.lot_id, amount, activates_at, expires_at)

    def accrue_many(self, data):
        employees = data.draw(st.sampled_from([{0, 1}, {0, 1}, {0}, set(), {1}, {0, 1}]), label="employees")
        with_inactive = data.draw(st.integers(0, 9), label="with the inactive one") == 5
        timing = data.draw(TIMINGS, label="timing")
        form = data.draw(AMOUNT_FORMS, label="form")
        amount = self.draw_accrual(data)
        chosen = sorted(employees | ({INACTIVE} if with_inactive else set()))
        options, reasons, activates_at, expires_at = self.accrual_options(timing, self.now)
        if error := self.amount_error(amount):
            reasons.add(error)
        if not chosen:
            reasons.add(NoEmployees)
        if with_inactive:
            reasons.add(InactiveEmployee)

        def call():
            return services.accrue_many(
                users=[self.users[n] for n in chosen],
                amount=self.passed(amount, form),
                actor=self.admin,
                comment="Stateful batch",
                at=self.now,
                **options,
            )

        if reasons:
            self.refused(reasons, call)
            return
        batch = call()
        assert batch.employee_count == len(chosen) and same(batch.amount, amount)
        lots = dict(Entry.objects.filter(batch=batch).values_list("user_id", "lot_id"))
        assert sorted(lots) == sorted(self.users[n].pk for n in chosen)
        keys = {}
        for n in chosen:
            self.credit(n, lots[self.users[n].pk], amount, activates_at, expires_at)
            keys[n] = self.next_key
        self.batches.append(ModelBatch(batch.pk, amount, keys))

    # Deductions --------------------------------------------------------------------------

    def pick_employee(self, data) -> int:
        """Mostly one with active points, sometimes anyone."""
        fitting = [n for n in (0, 0, 0, 1) if self.accounts[n].in_lots(activated=True) > 0]
        if not fitting or data.draw(st.integers(0, 4), label="anyone") == 2:
            fitting = [0, 0, 0, 1]
        return data.draw(st.sampled_from(fitting), label="employee")

    def draw_spending(self, data) -> tuple[str, int, ModelAccount, Decimal, set]:
        """The amount form, the employee, their account, an amount to take, and why the model would refuse it."""
        form = data.draw(AMOUNT_FORMS, label="form")
        employee = self.pick_employee(data)
        account = self.accounts[employee]
        parts = [lot.remaining for lot in account.spendable(self.now)]
        amount = self.draw_deduction(data, account.in_lots(activated=True), parts)
        reasons = set()
        if error := self.amount_error(amount):
            reasons.add(error)
        if not account.exists:
            reasons.add(NoAccount)
        elif amount > account.in_lots(activated=True):
            reasons.add(InsufficientBalance)
        return form, employee, account, amount, reasons

    def write_off(self, data):
        form, employee, account, amount, reasons = self.draw_spending(data)

        def call():
            return services.write_off(
                user=self.users[employee],
                amount=self.passed(amount, form),
                actor=self.admin,
                comment="Stateful",
                at=self.now,
            )

        if reasons:
            self.refused(reasons, call)
            return
        entry = call()
        assert entry.kind == Entry.Kind.MANUAL_WRITE_OFF and same(entry.amount, -amount)
        account.take(amount, self.now)
        account.written_off += amount
        self.posted(account)
        assert same(entry.balance_after, account.in_lots(activated=True))

    def reserve(self, data):
        """Place an order; now and then it is completed at once."""
        form, employee, account, amount, reasons = self.draw_spending(data)
        if account.state != "active":
            reasons.add(AccountBlocked)
        self.orders += 1
        reference = f"order-{self.orders}"

        def call():
            return services.reserve(
                user=self.users[employee], amount=self.passed(amount, form), reference=reference, at=self.now
            )

        if reasons:
            self.refused(reasons, call)
            return
        reservation = call()
        assert reservation.status == Reservation.Status.HELD and same(reservation.amount, amount)
        taken = account.take(amount, self.now)
        self.reservations.append(ModelReservation(reservation.pk, employee, amount, taken=taken))
        self.posted(account)
        if data.draw(st.integers(0, 2), label="complete at once") == 2:
            self.capture_one(self.reservations[-1], reservation)

    # Resolving reservations --------------------------------------------------------------

    def pick_reservation(self, data, status: str) -> tuple[ModelReservation, Reservation]:
        """Mostly one the operation applies to (held; captured and not wholly refunded), sometimes any."""
        fitting = [r for r in self.reservations if r.status == status and r.refunded < r.amount]
        if not fitting or data.draw(st.integers(0, 4), label="any reservation") == 2:
            fitting = self.reservations
        model = data.draw(st.sampled_from(fitting), label="reservation")
        return model, Reservation.objects.get(pk=model.pk)

    def resolve(self, data):
        """Complete (capture) or cancel (release) an order."""
        if not self.reservations:
            return
        outcome = data.draw(st.sampled_from(["capture", "capture", "release"]), label="outcome")
        model, reservation = self.pick_reservation(data, "held")
        if outcome == "capture":
            self.capture_one(model, reservation)
        else:
            self.release_one(model, reservation)

    def capture_one(self, model: ModelReservation, reservation: Reservation) -> None:
        account = self.accounts[model.employee]
        reasons = set()
        if model.status != "held":
            reasons.add(ReservationResolved)
        if account.state != "active":
            reasons.add(AccountBlocked)
        if reasons:
            self.refused(reasons, lambda: services.capture(reservation, at=self.now, actor=self.admin))
            return
        entry = services.capture(reservation, at=self.now, actor=self.admin)
        assert entry.kind == Entry.Kind.ORDER_SPENT and same(entry.amount, -model.amount)
        model.status = "captured"
        self.posted(account)

    def release_one(self, model: ModelReservation, reservation: Reservation) -> None:
        if model.status != "held":
            self.refused({ReservationResolved}, lambda: services.release(reservation, at=self.now, actor=self.admin))
            return
        entry = services.release(reservation, at=self.now, actor=self.admin)
        assert entry.kind == Entry.Kind.ORDER_RELEASED and same(entry.amount, model.amount)
        model.status = "released"
        self.accounts[model.employee].give_back(model, model.amount, self.now)
        self.posted(self.accounts[model.employee])

    def refund(self, data):
        """Return an order, in whole or in part."""
        if not self.reservations:
            return
        whole_refund = data.draw(st.sampled_from([False, True, False]), label="whole")
        form = data.draw(AMOUNT_FORMS, label="form")
        model, reservation = self.pick_reservation(data, "captured")
        refundable = model.amount - model.refunded
        lots = self.accounts[model.employee].lots
        latest_first = sorted((lots[key] for key, part in model.taken.items() if part > 0), key=ModelLot.fefo)[::-1]
        parts = [model.taken[lot.key] for lot in latest_first]
        amount = None if whole_refund else self.draw_deduction(data, refundable, parts)
        reasons = set()
        if model.status != "captured":
            reasons.add(ReservationResolved)
        elif amount is None:
            if refundable == 0:
                reasons.add(InvalidAmount)
        elif self.amount_error(amount) or amount > refundable:
            reasons.add(InvalidAmount)

        def call():
            passed = None if amount is None else self.passed(amount, form)
            return services.refund(reservation, amount=passed, at=self.now, actor=self.admin)

        if reasons:
            self.refused(reasons, call)
            return
        value = refundable if amount is None else amount
        entry = call()
        assert entry.kind == Entry.Kind.ORDER_REFUNDED and same(entry.amount, value)
        model.refunded += value
        self.accounts[model.employee].give_back(model, value, self.now)
        self.posted(self.accounts[model.employee])

    # Reversing a batch -------------------------------------------------------------------

    def reversal_refusal(self, model: ModelBatch):
        """Why the service refuses to reverse the batch before it looks at the balances, or None."""
        if model.reversal_of is not None:
            return BatchNotReversible
        if model.reversed_by is not None:
            return BatchAlreadyReversed
        return None

    def reverse_batch(self, data):
        """Take a bulk accrual back: mostly one not yet reversed, sometimes any (a reversal, or one reversed)."""
        fitting = [b for b in self.batches if b.reversal_of is None and b.reversed_by is None]
        if not fitting or data.draw(st.integers(0, 4), label="any batch") == 2:
            fitting = self.batches
        if not fitting:
            return
        model = data.draw(st.sampled_from(fitting), label="batch")

        def call():
            return services.reverse_batch(Batch.objects.get(pk=model.pk), actor=self.admin, comment="Undo", at=self.now)

        if reason := self.reversal_refusal(model):
            self.refused({reason}, call)
            return
        short = []
        for employee, key in sorted(model.lots.items()):
            account, lot = self.accounts[employee], self.accounts[employee].lots[key]
            available = lot.remaining if not lot.activated else account.in_lots(activated=True)
            if available < model.amount:
                short.append((self.users[employee].pk, model.amount - available))
        if short:
            before = self.known_state or ledger_state()
            with pytest.raises(ReversalShortfall) as refusal:
                call()
            assert sorted((s.employee_id, s.missing) for s in refusal.value.shortfalls) == short
            event("refused: ReversalShortfall")
            self.known_state = ledger_state()
            assert self.known_state == before, "the refused reversal changed the ledger"
            return
        reversal = call()
        entries = dict(Entry.objects.filter(batch=reversal).values_list("user_id", "amount"))
        assert entries == {self.users[n].pk: -model.amount for n in model.lots}
        for employee, key in model.lots.items():
            account = self.accounts[employee]
            account.take_back(account.lots[key], model.amount, self.now)
            self.posted(account)
        event("a batch reversed")
        model.reversed_by = reversal.pk
        self.batches.append(ModelBatch(reversal.pk, model.amount, dict(model.lots), reversal_of=model.pk))

    # Settlement, states, operations in the past ------------------------------------------

    def settle(self, data):
        """The daily run (all accounts) or one account's settlement: it changes no figure, and is idempotent."""
        everyone = data.draw(st.booleans(), label="everyone")
        options = {"at": self.now}
        if not everyone:
            employee = data.draw(EMPLOYEE, label="employee")
            options["account"] = Account.objects.filter(user=self.users[employee], currency=self.currency).first()
            if options["account"] is None:
                return
        self.wrote()
        services.settle(**options)
        before = ledger_state()
        again = services.settle(**options)
        assert again.accounts == 0 and not again.counts, "a second settlement found more to do"
        assert ledger_state() == before
        if everyone:
            # Everything due is posted: the stored lots are exactly the model's.
            for employee, account in enumerate(self.accounts):
                stored = {
                    pk: (remaining, activated)
                    for pk, remaining, activated in Lot.objects.filter(account__user=self.users[employee]).values_list(
                        "pk", "remaining", "is_activated"
                    )
                }
                assert stored == {lot.pk: (lot.remaining, lot.activated) for lot in account.lots.values()}

    def set_state(self, data):
        employee = data.draw(EMPLOYEE, label="employee")
        state = data.draw(st.sampled_from(STATES), label="state")
        self.wrote()
        services.set_account_state(user=self.users[employee], state=state)
        self.accounts[employee].exists = True
        self.accounts[employee].state = state

    def operate_in_the_past(self, data):
        """Anything dated before the account's latest entry is refused."""
        employee = data.draw(EMPLOYEE, label="employee")
        operations = ["accrue", "accrue_many", "write_off", "reserve", "capture", "release", "refund", "reverse_batch"]
        operation = data.draw(st.sampled_from(operations), label="operation in the past")
        at = self.past_moment(employee, data)
        if at is None:
            return
        user, reasons = self.users[employee], {OperationInPast}
        if operation == "accrue":
            call = lambda: services.accrue(user=user, amount=1, actor=self.admin, at=at)  # noqa: E731
        elif operation == "accrue_many":
            others = [u for u in self.users[:EMPLOYEES] if u != user]
            call = lambda: services.accrue_many(users=[user, *others], amount=1, actor=self.admin, at=at)  # noqa: E731
        elif operation == "write_off":
            call = lambda: services.write_off(user=user, amount=CENT, actor=self.admin, at=at)  # noqa: E731
            reasons |= {InsufficientBalance, InvalidAmount}
        elif operation == "reserve":
            call = lambda: services.reserve(user=user, amount=CENT, reference="late", at=at)  # noqa: E731
            reasons |= {InsufficientBalance, InvalidAmount, AccountBlocked}
        elif operation == "reverse_batch":
            mine = [b for b in self.batches if employee in b.lots]
            if not mine:
                return
            model = data.draw(st.sampled_from(mine), label="batch")
            reasons = {self.reversal_refusal(model) or OperationInPast}  # the batch is read before the accounts
            call = lambda: services.reverse_batch(Batch.objects.get(pk=model.pk), actor=self.admin, at=at)  # noqa: E731
        else:
            mine = [r for r in self.reservations if r.employee == employee]
            if not mine:
                return
            model = data.draw(st.sampled_from(mine), label="reservation")
            reservation = Reservation.objects.get(pk=model.pk)
            reasons |= {ReservationResolved, AccountBlocked, InvalidAmount}
            call = lambda: getattr(services, operation)(reservation, at=at)  # noqa: E731
        self.refused(reasons, call)

    # After every step --------------------------------------------------------------------

    # A lot as the invariant below unpacks it.
    LOT_COLUMNS = ("account_id", "amount", "remaining", "accrued_at", "activates_at", "expires_at", "is_activated")

    def read_stored_rows(self):
        """Lots, reservations and accounts as stored; read again only when the step may have written."""
        if self.touched or self.stored_rows is None:
            self.stored_rows = (
                {row[0]: row[1:] for row in Lot.objects.values_list("pk", *self.LOT_COLUMNS)},
                {
                    row[0]: row[1:]
                    for row in Reservation.objects.values_list("pk", "account_id", "status", "refunded", "amount")
                },
                {
                    row[0]: row[1:]
                    for row in Account.objects.filter(currency=self.currency).values_list(
                        "user_id", "pk", "state", *FIGURES, "last_entry_at"
                    )
                },
            )
            self.touched = False
        return self.stored_rows

    @invariant()
    def ledger_agrees_with_the_model(self):
        lots, reservations, accounts = self.read_stored_rows()
        assert set(lots) == {lot.pk for account in self.accounts for lot in account.lots.values()}
        assert {pk: row[1:] for pk, row in reservations.items()} == {
            r.pk: (r.status, r.refunded, r.amount) for r in self.reservations
        }
        assert set(accounts) == {self.users[n].pk for n, model in enumerate(self.accounts) if model.exists}

        for employee, (user, model) in enumerate(zip(self.users, self.accounts, strict=True)):
            expected = self.expected_balance(employee)
            assert expected["total_accrued"] == sum(
                expected[name] for name in ("active", "reserved", "non_activated", "spent", "expired")
            ), "the model itself is inconsistent"
            if not model.exists:
                assert not model.lots
                self.history[employee][self.now] = expected
                continue
            account_pk, state = accounts[user.pk][:2]
            assert state == model.state
            stored = (
                accounts[user.pk],
                {pk: row for pk, row in lots.items() if row[0] == account_pk},
                {pk: row for pk, row in reservations.items() if row[0] == account_pk},
            )
            # What is read below depends only on what is stored, the moment and the model: when
            # none of them changed since the last step, neither can the result.
            if self.checked.get(employee) == (stored, self.now, expected):
                continue
            self.checked[employee] = (stored, self.now, expected)

            actual = self.actual_balance(user, self.now)
            assert actual == expected, f"employee {employee} at {timezone.localtime(self.now)}"
            assert actual["total_accrued"] == sum(
                actual[name] for name in ("active", "reserved", "non_activated", "spent", "expired")
            )

            # Each lot: as stored, with what is due by now applied (settlement only activates and expires).
            for lot in model.lots.values():
                account_id, amount, remaining, accrued_at, activates_at, expires_at, activated = lots[lot.pk]
                assert (account_id, amount, accrued_at) == (account_pk, lot.amount, lot.accrued_at), f"lot {lot.pk}"
                assert (activates_at, expires_at) == (lot.activates_at, lot.expires_at), f"lot {lot.pk} timing"
                if expires_at is not None and expires_at <= self.now:
                    remaining = ZERO
                activated = activated or (activates_at is not None and activates_at <= self.now)
                assert (remaining, activated) == (lot.remaining, lot.activated), f"lot {lot.pk}"

            if self.verified.get(employee) != stored:
                # The ledger's own identities (check_ledger), on the figures stored as of the latest entry.
                assert selectors.ledger_problems(Account.objects.get(pk=account_pk)) == []
                self.verified[employee] = stored
                # The balance at the previous moment of the run, now read from the log, is what it was then.
                earlier = [moment for moment in self.history[employee] if moment < self.now]
                if earlier and self.history_checked.get(employee) != earlier[-1]:
                    then = self.history[employee][earlier[-1]]
                    assert self.actual_balance(user, earlier[-1]) == then, f"employee {employee} at {earlier[-1]}"
                    self.history_checked[employee] = earlier[-1]
            self.history[employee][self.now] = expected


LedgerMachine.TestCase.settings = settings(
    max_examples=int(os.environ.get("HYPOTHESIS_EXAMPLES", "200")),
    stateful_step_count=25,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large, HealthCheck.filter_too_much],
)
TestLedger = LedgerMachine.TestCase
