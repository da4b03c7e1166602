"""Managers' budgets: a small ledger of its own per manager, currency and period.

Design overview
---------------
A currency's **budget policy** (`BudgetPolicy`, fields of `Currency`) says whether managers grant it within
budgets and how large they are: the period (a calendar month, quarter or year, from the 1st in the company
time zone; none: managers cannot grant the currency), the allowance (a fixed amount per manager, or an
amount per active employee of the departments they manage, counted when the period opens), and what
happens to what is left at the period's end (it lapses, or rolls over into the next period, optionally
capped).

A **budget** is one manager's in one currency for one period (`period_start` to `period_end`, both
included). Every change of it is one immutable **movement**, signed as it changes what is left: the
period opened (+ the policy's allowance), a top-up (+) or a reduction (-) by an administrator, a grant
(-) and a grant returned by a reversal (+), what is held for a grant waiting for approval (-) and released
(+), what rolled over (- out of the ended budget, + into the next) and what lapsed (-).

Identities that always hold (checked by `manage.py check_ledger`, `selectors.budget_problems`):
- allowance = opened + top-ups + reductions + what rolled over into the budget
- granted = -(grants + returned); held = -(held + released)
- left = the sum of every movement = allowance - granted - held - what lapsed or rolled over out of it
- each movement's `left_after` is the budget's left after it; a closed budget has nothing left.
The figures are stored on the budget only because the budgets table sorts and filters by them.

Writes go through `bonuses.services` (services/budgets.py) only.
"""

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models
from django.db.models import F, Q
from django.utils.translation import gettext_lazy as _

from .. import rules
from ..exceptions import InvalidAmount
from .base import AMOUNT, ZERO, ImmutableModel, within_maximum

POLICY_AMOUNTS = ("budget_allowance", "budget_per_employee", "budget_rollover_cap")


class BudgetPolicy(models.Model):
    """The budget policy of a currency (its fields on `Currency`)."""

    class Period(models.TextChoices):
        NONE = "", _("No budgets (managers cannot grant)")
        MONTH = "month", _("Month")
        QUARTER = "quarter", _("Quarter")
        YEAR = "year", _("Year")

    budget_period = models.CharField(
        _("budget period"),
        max_length=10,
        choices=Period,
        blank=True,
        default=Period.NONE,
        help_text=_("Managers grant within a budget per period, from the 1st; without budgets they cannot grant."),
    )
    budget_allowance = models.DecimalField(
        _("allowance per manager"), **AMOUNT, null=True, blank=True, help_text=_("The same for every manager.")
    )
    budget_per_employee = models.DecimalField(
        _("allowance per employee managed"),
        **AMOUNT,
        null=True,
        blank=True,
        help_text=_("Per active employee of the departments a manager manages, counted when the period opens."),
    )
    budget_rollover = models.BooleanField(
        _("unused budget rolls over"), default=False, help_text=_("Otherwise what is left lapses at the period's end.")
    )
    budget_rollover_cap = models.DecimalField(
        _("rolls over at most"), **AMOUNT, null=True, blank=True, help_text=_("Empty: all of it rolls over.")
    )

    class Meta:
        abstract = True

    def clean_budget_policy(self) -> None:
        """With a period: exactly one of the two allowances; amounts as the currency counts, within the limits."""
        if not self.budget_period:
            return
        errors = {}
        if (self.budget_allowance is None) == (self.budget_per_employee is None):
            message = _("Give either an allowance per manager or one per employee managed.")
            errors["budget_allowance" if self.budget_allowance is None else "budget_per_employee"] = message
        clean_optional_amounts(self, POLICY_AMOUNTS, errors)
        if errors:
            raise ValidationError(errors)


def clean_optional_amounts(currency, names, errors: dict) -> None:
    """Currency's optional policy amounts `names` that are given, as the currency counts them (whole numbers,
    the limits); a refusal goes into `errors` under its field, unless that field has one already."""
    for name in names:
        value = getattr(currency, name)
        if value is not None and name not in errors:
            try:
                setattr(currency, name, rules.clean_amount(value, currency))
            except InvalidAmount as error:
                errors[name] = error.message


def optional_amounts_within_limits(names) -> list[models.CheckConstraint]:
    """Currency's optional policy amounts: empty, or above zero and at most rules.MAX_OPERATION."""
    return [
        models.CheckConstraint(
            condition=Q(**{f"{name}__isnull": True}) | Q(**{f"{name}__gt": 0, f"{name}__lte": rules.MAX_OPERATION}),
            name=f"currency_{name}_within_limits",
        )
        for name in names
    ]


def policy_constraints() -> list[models.CheckConstraint]:
    """The database's part of the policy rules, for Currency's Meta (an abstract model's would be lost there)."""
    amounts = optional_amounts_within_limits(POLICY_AMOUNTS)
    period = Q(budget_period__in=BudgetPolicy.Period.values)
    return [*amounts, models.CheckConstraint(condition=period, name="currency_budget_period_known")]


BUDGET_FIGURES = ("allowance", "granted", "held", "left")


class Budget(models.Model):
    """What one manager may grant of one currency in one period, and how much of it is used."""

    FIGURES = BUDGET_FIGURES

    manager = models.ForeignKey(settings.AUTH_USER_MODEL, models.PROTECT, related_name="budgets")
    currency = models.ForeignKey("bonuses.Currency", models.PROTECT, related_name="budgets")
    period = models.CharField(_("period"), max_length=10, choices=BudgetPolicy.Period)
    period_start = models.DateField(_("first day"))
    period_end = models.DateField(_("last day"))
    allowance = models.DecimalField(_("allowance"), **AMOUNT, default=ZERO)
    granted = models.DecimalField(_("granted"), **AMOUNT, default=ZERO)
    held = models.DecimalField(_("held for approval"), **AMOUNT, default=ZERO)
    left = models.DecimalField(_("left"), **AMOUNT, default=ZERO)
    opened_at = models.DateTimeField(_("opened at"))
    closed_at = models.DateTimeField(_("closed at"), null=True, blank=True)

    class Meta:
        verbose_name = _("budget")
        verbose_name_plural = _("budgets")
        ordering = ["-period_start", "manager_id"]
        constraints = [
            models.UniqueConstraint(fields=["manager", "currency", "period_start"], name="one_budget_per_period"),
            models.CheckConstraint(condition=Q(period_end__gte=F("period_start")), name="budget_period_ordered"),
            models.CheckConstraint(condition=~Q(period=""), name="budget_period_given"),
            *(
                models.CheckConstraint(condition=Q(**{f"{name}__gte": 0}), name=f"budget_{name}_not_negative")
                for name in BUDGET_FIGURES
            ),
            *(within_maximum(name) for name in BUDGET_FIGURES),
            models.CheckConstraint(condition=Q(closed_at__isnull=True) | Q(left=0), name="budget_closed_has_no_left"),
        ]
        indexes = [
            models.Index(fields=["currency", "period_end"], condition=Q(closed_at__isnull=True), name="budget_open")
        ]

    def __str__(self) -> str:
        return f"{self.manager} · {self.currency} · {self.period_start:%Y-%m-%d}"


# The sign each kind of movement has (its effect on what is left); rolled over: - out, + in.
SIGNS = {"opened": ">=", "top_up": ">", "reduction": "<", "grant": "<", "returned": ">", "lapsed": "<", "held": "<"}
SIGNS |= {"released": ">", "rolled_over": "!="}


def _signed_by_kind() -> Q:
    lookups = {">=": "gte", ">": "gt", "<": "lt"}
    condition = Q()
    for kind, sign in SIGNS.items():
        amount = ~Q(amount=0) if sign == "!=" else Q(**{f"amount__{lookups[sign]}": 0})
        condition |= Q(kind=kind) & amount
    return condition


class BudgetMovement(ImmutableModel):
    """One immutable line of a budget's ledger."""

    class Kind(models.TextChoices):
        OPENED = "opened", _("Period opened")
        TOP_UP = "top_up", _("Topped up")
        REDUCTION = "reduction", _("Reduced")
        GRANT = "grant", _("Granted")
        RETURNED = "returned", _("Grant returned (reversed)")
        ROLLED_OVER = "rolled_over", _("Rolled over")
        LAPSED = "lapsed", _("Lapsed at the period's end")
        HELD = "held", _("Held for approval")
        RELEASED = "released", _("Released from approval")

    ALLOWANCE = (Kind.OPENED, Kind.TOP_UP, Kind.REDUCTION)  # and what rolled over into the budget
    GRANTS = (Kind.GRANT, Kind.RETURNED)
    HOLDS = (Kind.HELD, Kind.RELEASED)

    budget = models.ForeignKey(Budget, models.PROTECT, related_name="movements")
    kind = models.CharField(_("movement"), max_length=20, choices=Kind)
    amount = models.DecimalField(_("amount"), **AMOUNT)
    left_after = models.DecimalField(_("left after"), **AMOUNT)
    at = models.DateTimeField(_("time"))
    created_at = models.DateTimeField(auto_now_add=True)
    actor = models.ForeignKey(settings.AUTH_USER_MODEL, models.PROTECT, null=True, blank=True, related_name="+")
    comment = models.TextField(_("comment"), max_length=1000, blank=True)
    headcount = models.PositiveIntegerField(_("employees managed"), null=True, blank=True)
    batch = models.ForeignKey("bonuses.Batch", models.PROTECT, null=True, blank=True, related_name="budget_movements")
    entry = models.ForeignKey("bonuses.Entry", models.PROTECT, null=True, blank=True, related_name="budget_movements")

    class Meta:
        verbose_name = _("budget movement")
        verbose_name_plural = _("budget movements")
        ordering = ["-at", "-id"]
        constraints = [
            models.CheckConstraint(condition=_signed_by_kind(), name="budget_movement_signed_by_kind"),
            models.CheckConstraint(condition=Q(left_after__gte=0), name="budget_movement_left_after_not_negative"),
            within_maximum("amount", signed=True),
            within_maximum("left_after"),
        ]
        indexes = [models.Index(fields=["budget", "at"], name="budget_movement_budget_time")]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} {self.amount}"
