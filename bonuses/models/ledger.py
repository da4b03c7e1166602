"""The bonus ledger.

Design overview
---------------
A **currency** is a kind of points ("Bonuses", "Stars"). Each employee has one **account**
per currency; its state (active, accumulate-only, blocked) says what may happen to it.

Every accrual creates a **lot**: `amount` points credited at `accrued_at`, optionally
activating at `activates_at` and expiring at `expires_at` (both instants at 00:00 of a day
in the company time zone). `remaining` is what is left in the lot: active points if the lot
is activated, non-activated points if not. Deductions (spending, write-offs) take points
from active lots, first-expiring first.

Every change of a balance is one immutable **entry** (the log): its kind (the event types of
SPEC.md section 4), a signed amount (never zero: positive when points come to the employee
or become usable, negative when they leave or are held), the active balance after it, actor
and comment. An entry that moves points into or out of lots records how much per lot in
**allocations** (negative: taken from the lot, positive: put back). A **reservation** holds
points for an order: they leave the lots at once and are held until captured (spent) or
released (back into the same lots); a captured reservation can be refunded into the same lots.
A **batch** is one bulk accrual; its **reversal** is a compensating batch (`Batch.reverses`, at most
one per batch) whose `reversed` entries take back, from the batch's own lots first, what it gave
(bonuses/services/reversal.py): a reversal lowers total accrued as the accrual raised it.

Identities that always hold (checked by `manage.py check_ledger`):
- total accrued = active + reserved + non-activated + spent + expired
- lot.remaining = lot.amount + sum of the lot's allocations
- sum of remaining over activated, unexpired lots = active (after settlement);
  over non-activated lots = non-activated; open reservations (amount) = reserved
- the account's stored figures equal the ones computed from its entries;
- every stored figure is within rules.MAX_BALANCE (check constraints), which bounds what an
  account may be credited in all (README, "Limits").

Writes go through `bonuses.services` only; rule-applying reads through `bonuses.selectors`.
"""

from decimal import Decimal

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import MaxValueValidator
from django.db import models
from django.db.models import F, Q
from django.utils.translation import gettext_lazy as _

from .. import rules
from ..exceptions import InvalidSettings
from .approvals import ApprovalPolicy, approval_constraints
from .base import AMOUNT, ZERO, ImmutableModel, within_maximum
from .budgets import BudgetPolicy, policy_constraints

LIFETIME_TOO_LONG = _("A lifetime can be at most 100 years (36,525 days or 1,200 months).")


class Currency(BudgetPolicy, ApprovalPolicy):
    """A kind of points, with the settings for working with it (SPEC.md sections 2 and 3) and its budget policy."""

    class BurnPolicy(models.TextChoices):
        NEVER = "never", _("Never")
        FROM_CREDITING = "from_crediting", _("From the date of crediting")
        FROM_LAST_PURCHASE = "from_last_purchase", _("From the date of the last purchase")

    class LifetimeUnit(models.TextChoices):
        DAYS = "days", _("days")
        MONTHS = "months", _("months")
        YEARS = "years", _("years")

    name = models.CharField(_("name"), max_length=100, unique=True)
    is_default = models.BooleanField(_("default currency"), default=False)
    whole_numbers = models.BooleanField(
        _("whole numbers"), default=False, help_text=_("Amounts must be whole; computed accruals are rounded up.")
    )
    activation_delay_days = models.PositiveIntegerField(
        _("activation delay (days)"),
        default=0,
        help_text=_("Points credited on day D become active on day D+N."),
        validators=[
            MaxValueValidator(rules.MAX_DAYS, _("The activation delay can be at most 36,525 days (100 years)."))
        ],
    )
    burn_policy = models.CharField(_("burn-out policy"), max_length=20, choices=BurnPolicy, default=BurnPolicy.NEVER)
    lifetime_value = models.PositiveIntegerField(
        _("lifetime"), null=True, blank=True, validators=[MaxValueValidator(rules.MAX_DAYS, LIFETIME_TOO_LONG)]
    )
    lifetime_unit = models.CharField(_("lifetime unit"), max_length=10, choices=LifetimeUnit, default=LifetimeUnit.DAYS)
    burn_steps = models.JSONField(
        _("burn-out steps"),
        default=list,
        blank=True,
        help_text=_(
            'For "from the date of the last purchase", e.g. [{"period": 6, "unit": "months", "percent": 50}, '
            '{"period": 1, "unit": "years", "percent": 100}]: units are days, months or years; each step is longer '
            "than the one before and burns a higher percentage; only the last may burn 100%."
        ),
    )
    expiry_reminder_days = models.PositiveIntegerField(
        _("expiry reminder (days before)"),
        null=True,
        blank=True,
        help_text=_("Empty: no reminders."),
        validators=[
            MaxValueValidator(rules.MAX_DAYS, _("The reminder can be at most 36,525 days (100 years) before."))
        ],
    )
    requires_confirmation = models.BooleanField(_("confirmation by code"), default=False)

    class Meta:
        verbose_name = _("currency")
        verbose_name_plural = _("currencies")
        ordering = ["-is_default", "name"]
        permissions = [
            ("manage_giftshop", _("Manage Gift Shop")),
            ("grant_bonuses", _("Grant bonuses to managed departments")),
        ]
        constraints = [
            models.UniqueConstraint(fields=["is_default"], condition=Q(is_default=True), name="one_default_currency"),
            *policy_constraints(),
            *approval_constraints(),
        ]

    def __str__(self) -> str:
        return self.name

    @property
    def quantum(self) -> Decimal:
        return Decimal("1") if self.whole_numbers else Decimal("0.01")

    def clean(self) -> None:
        if self.pk and Lot.objects.filter(account__currency_id=self.pk).exists():
            saved = Currency.objects.filter(pk=self.pk).values_list("burn_policy", flat=True).first()
            if saved and saved != self.burn_policy:
                raise ValidationError(
                    {"burn_policy": _("The burn-out policy cannot change once the currency has points.")}
                )
        if self.burn_policy == self.BurnPolicy.FROM_CREDITING and not self.lifetime_value:
            raise ValidationError({"lifetime_value": _("Give the lifetime of credited points.")})
        # Beyond 36,525 in any unit the field's own validator says so; an unknown unit, the unit's field.
        lifetime, unit = self.lifetime_value, self.lifetime_unit
        known = unit in self.LifetimeUnit.values
        if lifetime and known and lifetime <= rules.MAX_DAYS and not rules.period_within_limit(lifetime, unit):
            raise ValidationError({"lifetime_value": LIFETIME_TOO_LONG})
        if self.burn_policy == self.BurnPolicy.FROM_LAST_PURCHASE:
            try:
                self.burn_steps = rules.clean_burn_steps(self.burn_steps or rules.DEFAULT_BURN_STEPS)
            except InvalidSettings as exc:
                raise ValidationError({"burn_steps": exc.message}) from None
        self.clean_budget_policy()
        self.clean_approval_policy()


# The figures of SPEC.md section 5 that an account stores (Account.FIGURES).
ACCOUNT_FIGURES = ("active", "reserved", "non_activated", "spent", "written_off", "expired", "total_accrued")


class Account(models.Model):
    """One employee's points in one currency, with its figures stored for fast sorting."""

    FIGURES = ACCOUNT_FIGURES

    class State(models.TextChoices):
        ACTIVE = "active", _("Active")
        ACCUMULATE_ONLY = "accumulate_only", _("Accumulate only")
        BLOCKED = "blocked", _("Blocked")

    user = models.ForeignKey(settings.AUTH_USER_MODEL, models.PROTECT, related_name="bonus_accounts")
    currency = models.ForeignKey(Currency, models.PROTECT, related_name="accounts")
    state = models.CharField(_("state"), max_length=20, choices=State, default=State.ACTIVE)
    # The figures of SPEC.md section 5 as of the latest entry; check_ledger proves them.
    active = models.DecimalField(_("active"), **AMOUNT, default=ZERO)
    reserved = models.DecimalField(_("reserved"), **AMOUNT, default=ZERO)
    non_activated = models.DecimalField(_("non-activated"), **AMOUNT, default=ZERO)
    spent = models.DecimalField(_("spent"), **AMOUNT, default=ZERO)
    written_off = models.DecimalField(_("written off"), **AMOUNT, default=ZERO)
    expired = models.DecimalField(_("expired"), **AMOUNT, default=ZERO)
    total_accrued = models.DecimalField(_("total accrued"), **AMOUNT, default=ZERO)
    last_entry_at = models.DateTimeField(_("latest entry"), null=True, blank=True)
    # Burn-out from the last purchase: the inactivity streak started at the last order (or the
    # first accrual), and how many of the currency's steps have burned in it.
    streak_started_at = models.DateTimeField(null=True, blank=True)
    burned_steps = models.PositiveSmallIntegerField(default=0)

    class Meta:
        verbose_name = _("account")
        verbose_name_plural = _("accounts")
        constraints = [
            models.UniqueConstraint(fields=["user", "currency"], name="one_account_per_currency"),
            *(
                models.CheckConstraint(condition=Q(**{f"{name}__gte": 0}), name=f"account_{name}_not_negative")
                for name in ACCOUNT_FIGURES
            ),
            *(within_maximum(name) for name in ACCOUNT_FIGURES),
        ]
        indexes = [models.Index(fields=["currency", "active"])]

    def __str__(self) -> str:
        return f"{self.user} · {self.currency}"


class Lot(models.Model):
    """The points of one accrual and what is left of them."""

    class Source(models.TextChoices):
        MANUAL = "manual", _("Manual")
        BULK = "bulk", _("Bulk")
        MANAGER = "manager", _("Manager")
        IMPORT = "import", _("Import")
        CAMPAIGN = "campaign", _("Campaign")

    account = models.ForeignKey(Account, models.PROTECT, related_name="lots")
    amount = models.DecimalField(_("amount"), **AMOUNT)
    remaining = models.DecimalField(_("remaining"), **AMOUNT)
    accrued_at = models.DateTimeField(_("accrued at"))
    activates_at = models.DateTimeField(_("activates at"), null=True, blank=True)
    expires_at = models.DateTimeField(
        _("expires at"), null=True, blank=True, help_text=_("The first instant the points can no longer be used.")
    )
    is_activated = models.BooleanField(_("activated"), default=True)
    source = models.CharField(_("source"), max_length=20, choices=Source, default=Source.MANUAL)
    reminded_at = models.DateTimeField(_("expiry reminder sent"), null=True, blank=True)

    class Meta:
        verbose_name = _("lot")
        verbose_name_plural = _("lots")
        constraints = [
            models.CheckConstraint(condition=Q(amount__gt=0), name="lot_amount_positive"),
            within_maximum("amount"),  # and remaining, which stays within the amount
            models.CheckConstraint(condition=Q(remaining__gte=0), name="lot_remaining_not_negative"),
            models.CheckConstraint(condition=Q(remaining__lte=F("amount")), name="lot_remaining_within_amount"),
            models.CheckConstraint(
                condition=Q(expires_at__isnull=True)
                | Q(activates_at__isnull=True)
                | Q(expires_at__gt=F("activates_at")),
                name="lot_expires_after_activation",
            ),
        ]
        indexes = [
            # Settlement looks up what is due: activations, and expiries of lots with points left.
            models.Index(fields=["activates_at"], condition=Q(is_activated=False), name="lot_pending_activation"),
            models.Index(fields=["expires_at"], condition=Q(remaining__gt=0), name="lot_pending_expiry"),
            models.Index(fields=["account", "expires_at"], condition=Q(remaining__gt=0), name="lot_open_by_account"),
        ]

    def __str__(self) -> str:
        return f"Lot {self.pk}: {self.remaining}/{self.amount}"


class Batch(models.Model):
    """One bulk accrual: the same amount and comment to many employees, all or nothing; or the reversal
    of one (`reverses`): the same amount taken back from each of them."""

    currency = models.ForeignKey(Currency, models.PROTECT, related_name="batches")
    actor = models.ForeignKey(settings.AUTH_USER_MODEL, models.PROTECT, null=True, related_name="+")
    amount = models.DecimalField(_("amount per employee"), **AMOUNT)
    employee_count = models.PositiveIntegerField(_("employees"))
    comment = models.TextField(_("comment"), max_length=1000, blank=True)
    at = models.DateTimeField(_("time"))
    created_at = models.DateTimeField(auto_now_add=True)
    # One-to-one: a batch is reversed at most once, and the database says so too.
    reverses = models.OneToOneField(
        "self", models.PROTECT, null=True, blank=True, related_name="reversal", verbose_name=_("reverses")
    )

    class Meta:
        verbose_name = _("batch")
        verbose_name_plural = _("batches")
        constraints = [within_maximum("amount")]

    def __str__(self) -> str:
        return f"Batch {self.pk}"

    @property
    def total(self) -> Decimal:
        return self.amount * self.employee_count


class Reservation(models.Model):
    """Points held for an order: captured (spent), released, and after capture refundable."""

    class Status(models.TextChoices):
        HELD = "held", _("Held")
        CAPTURED = "captured", _("Spent")
        RELEASED = "released", _("Released")

    account = models.ForeignKey(Account, models.PROTECT, related_name="reservations")
    amount = models.DecimalField(_("amount"), **AMOUNT)
    refunded = models.DecimalField(_("refunded"), **AMOUNT, default=ZERO)
    status = models.CharField(_("status"), max_length=10, choices=Status, default=Status.HELD)
    reference = models.CharField(_("reference"), max_length=100, help_text=_("The order it holds points for."))
    created_at = models.DateTimeField(_("created at"))
    resolved_at = models.DateTimeField(_("resolved at"), null=True, blank=True)

    class Meta:
        verbose_name = _("reservation")
        verbose_name_plural = _("reservations")
        constraints = [
            models.CheckConstraint(condition=Q(amount__gt=0), name="reservation_amount_positive"),
            within_maximum("amount"),
            models.CheckConstraint(
                condition=Q(refunded__gte=0) & Q(refunded__lte=F("amount")), name="reservation_refund_within_amount"
            ),
            models.CheckConstraint(
                condition=Q(refunded=0) | Q(status="captured"), name="reservation_refund_after_capture"
            ),
        ]

    def __str__(self) -> str:
        return f"Reservation {self.pk} ({self.reference})"


class Entry(ImmutableModel):
    """One immutable line of the log: a change of one balance."""

    class Kind(models.TextChoices):
        MANUAL_ACCRUAL = "manual_accrual", _("Accrued by the administrator")
        MANAGER_ACCRUAL = "manager_accrual", _("Accrued by a manager")
        IMPORT_ACCRUAL = "import_accrual", _("Accrued by import")
        CAMPAIGN_ACCRUAL = "campaign_accrual", _("Accrued by campaign")
        MANUAL_WRITE_OFF = "manual_write_off", _("Written off by the administrator")
        ORDER_RESERVED = "order_reserved", _("Reserved for an order")
        ORDER_SPENT = "order_spent", _("Spent on an order")
        ORDER_RELEASED = "order_released", _("Reservation released (order cancelled)")
        ORDER_REFUNDED = "order_refunded", _("Refunded (order returned)")
        ACTIVATED = "activated", _("Activated")
        EXPIRED = "expired", _("Expired")
        BURNED = "burned", _("Burned out for inactivity")
        REVERSED = "reversed", _("Reversed (a batch taken back)")

    ACCRUALS = (Kind.MANUAL_ACCRUAL, Kind.MANAGER_ACCRUAL, Kind.IMPORT_ACCRUAL, Kind.CAMPAIGN_ACCRUAL)

    account = models.ForeignKey(Account, models.PROTECT, related_name="entries")
    # Denormalised from the account so that the log filters without a join.
    user = models.ForeignKey(settings.AUTH_USER_MODEL, models.PROTECT, related_name="bonus_entries")
    currency = models.ForeignKey(Currency, models.PROTECT, related_name="entries")
    kind = models.CharField(_("event type"), max_length=20, choices=Kind)
    amount = models.DecimalField(_("amount"), **AMOUNT)
    balance_after = models.DecimalField(_("active balance after"), **AMOUNT)
    at = models.DateTimeField(_("time"))
    created_at = models.DateTimeField(auto_now_add=True)
    actor = models.ForeignKey(settings.AUTH_USER_MODEL, models.PROTECT, null=True, blank=True, related_name="+")
    comment = models.TextField(_("comment"), max_length=1000, blank=True)
    lot = models.ForeignKey(Lot, models.PROTECT, null=True, blank=True, related_name="entries")
    batch = models.ForeignKey(Batch, models.PROTECT, null=True, blank=True, related_name="entries")
    reservation = models.ForeignKey(Reservation, models.PROTECT, null=True, blank=True, related_name="entries")

    class Meta:
        verbose_name = _("log entry")
        verbose_name_plural = _("log entries")
        ordering = ["-at", "-id"]
        constraints = [
            models.CheckConstraint(condition=~Q(amount=0), name="entry_amount_not_zero"),
            models.CheckConstraint(condition=Q(balance_after__gte=0), name="entry_balance_after_not_negative"),
            models.CheckConstraint(  # a reversal takes back one lot of one batch
                condition=~Q(kind="reversed") | Q(amount__lt=0, lot__isnull=False, batch__isnull=False),
                name="entry_reversal_of_a_batch_lot",
            ),
            within_maximum("amount", signed=True),
            within_maximum("balance_after"),
        ]
        indexes = [
            models.Index(fields=["-at", "-id"], name="entry_newest"),
            models.Index(fields=["user", "-at"], name="entry_user_newest"),
            models.Index(fields=["account", "at"], name="entry_account_time"),
            models.Index(fields=["kind", "-at"], name="entry_kind_newest"),
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} {self.amount}"


class Allocation(ImmutableModel):
    """How much one entry took from (negative) or put back into (positive) one lot."""

    entry = models.ForeignKey(Entry, models.PROTECT, related_name="allocations")
    lot = models.ForeignKey(Lot, models.PROTECT, related_name="allocations")
    amount = models.DecimalField(_("amount"), **AMOUNT)

    class Meta:
        verbose_name = _("allocation")
        verbose_name_plural = _("allocations")
        constraints = [
            models.CheckConstraint(condition=~Q(amount=0), name="allocation_amount_not_zero"),
            within_maximum("amount", signed=True),
        ]

    def __str__(self) -> str:
        return f"{self.amount} of lot {self.lot_id}"


class IdempotencyKey(models.Model):
    """The first result (or refusal) of a call made with an idempotency key, per actor."""

    actor = models.ForeignKey(settings.AUTH_USER_MODEL, models.CASCADE, related_name="+")
    key = models.CharField(max_length=100)
    operation = models.CharField(max_length=30)
    payload_hash = models.CharField(max_length=64)
    entry = models.ForeignKey(Entry, models.PROTECT, null=True, blank=True, related_name="+")
    batch = models.ForeignKey(Batch, models.PROTECT, null=True, blank=True, related_name="+")
    order = models.ForeignKey("shop.Order", models.PROTECT, null=True, blank=True, related_name="+")
    grantrequest = models.ForeignKey("bonuses.GrantRequest", models.PROTECT, null=True, blank=True, related_name="+")
    error_class = models.CharField(max_length=50, blank=True)
    error_message = models.TextField(blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["actor", "key"], name="idempotency_key_unique_per_actor")]

    def __str__(self) -> str:
        return f"{self.operation} {self.key}"
