"""Four-eyes approval of grants (issue 11): a currency's approval policy, and the requests it makes.

With the policy on (`ApprovalPolicy`, fields of `Currency`; off by default), a manager's grant of more than
a threshold per employee, or a bulk grant of more than a threshold in all, is not posted: it becomes a
**grant request**, whose points are held on the manager's budget (a "held" movement). An administrator other
than the requester approves it (the grant is posted through the services, the log's actor the requester,
the request linking the batch or entry to its approver: `batch.approval.decided_by`) or rejects it with a
reason (the hold is released). The same policy can require a second administrator for an administrator's
bulk grant above a threshold (nothing is held: administrators grant from no budget).
"""

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from .base import AMOUNT, within_maximum
from .budgets import clean_optional_amounts, optional_amounts_within_limits

APPROVAL_AMOUNTS = ("approval_per_employee", "approval_total", "approval_admin_total")


class ApprovalPolicy(models.Model):
    """The approval policy of a currency (its fields on `Currency`)."""

    approval_required = models.BooleanField(
        _("four-eyes approval"),
        default=False,
        help_text=_("Grants above the thresholds wait for an administrator's approval."),
    )
    approval_per_employee = models.DecimalField(
        _("a manager's grant of more than this per employee"), **AMOUNT, null=True, blank=True
    )
    approval_total = models.DecimalField(
        _("a manager's bulk grant of more than this in all"), **AMOUNT, null=True, blank=True
    )
    approval_admin_total = models.DecimalField(
        _("an administrator's bulk grant of more than this in all"),
        **AMOUNT,
        null=True,
        blank=True,
        help_text=_("It needs a second administrator. Empty: administrators' grants need no approval."),
    )

    class Meta:
        abstract = True

    def clean_approval_policy(self) -> None:
        """With approval on: at least one threshold; each an amount as the currency counts."""
        if not self.approval_required:
            return
        errors = {}
        if all(getattr(self, name) is None for name in APPROVAL_AMOUNTS):
            errors["approval_per_employee"] = _("Give at least one threshold.")
        clean_optional_amounts(self, APPROVAL_AMOUNTS, errors)
        if errors:
            raise ValidationError(errors)


def approval_constraints() -> list[models.CheckConstraint]:
    """The database's part of the approval policy, for Currency's Meta."""
    return optional_amounts_within_limits(APPROVAL_AMOUNTS)


class GrantRequest(models.Model):
    """A grant waiting for (or decided by) a second person's approval."""

    class Status(models.TextChoices):
        PENDING = "pending", _("Waiting for approval")
        APPROVED = "approved", _("Approved")
        REJECTED = "rejected", _("Rejected")

    class Operation(models.TextChoices):
        ONE = "accrue", _("One employee")
        MANY = "accrue_many", _("Several employees")

    requester = models.ForeignKey(settings.AUTH_USER_MODEL, models.PROTECT, related_name="grant_requests")
    currency = models.ForeignKey("bonuses.Currency", models.PROTECT, related_name="+")
    operation = models.CharField(max_length=20, choices=Operation)
    recipients = models.ManyToManyField(settings.AUTH_USER_MODEL, related_name="+")
    employee_count = models.PositiveIntegerField(_("employees"))
    amount = models.DecimalField(_("amount per employee"), **AMOUNT)
    total = models.DecimalField(_("total"), **AMOUNT)
    comment = models.TextField(_("comment"), max_length=1000, blank=True)
    source = models.CharField(max_length=20)
    expires_on = models.DateField(null=True, blank=True)
    lifetime_days = models.PositiveIntegerField(null=True, blank=True)
    activates_on = models.DateField(null=True, blank=True)
    status = models.CharField(_("status"), max_length=10, choices=Status, default=Status.PENDING)
    created_at = models.DateTimeField(_("requested at"))
    budget = models.ForeignKey("bonuses.Budget", models.PROTECT, null=True, blank=True, related_name="requests")
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, models.PROTECT, null=True, blank=True, related_name="+", verbose_name=_("decided by")
    )
    decided_at = models.DateTimeField(_("decided at"), null=True, blank=True)
    reason = models.TextField(_("reason"), max_length=1000, blank=True)
    batch = models.OneToOneField("bonuses.Batch", models.PROTECT, null=True, blank=True, related_name="approval")
    entry = models.OneToOneField("bonuses.Entry", models.PROTECT, null=True, blank=True, related_name="approval")

    class Meta:
        verbose_name = _("grant request")
        verbose_name_plural = _("grant requests")
        ordering = ["-created_at", "-id"]
        constraints = [
            within_maximum("amount"),
            models.CheckConstraint(
                condition=Q(status="pending", decided_by__isnull=True)
                | (~Q(status="pending") & Q(decided_by__isnull=False)),
                name="grant_request_decided_by_someone",
            ),
            models.CheckConstraint(condition=~Q(decided_by=models.F("requester")), name="grant_request_four_eyes"),
        ]
        indexes = [models.Index(fields=["status", "created_at"], name="grant_request_status")]

    def __str__(self) -> str:
        return f"Request {self.pk}"
