"""The log of account states: who made an account active, accumulate-only or blocked, when and why.

A state change moves no points, so it is not an entry of the ledger's log; it is a log of its own,
as immutable: every change is one row, never edited or deleted, and the account's `state` is the
`to_state` of its latest row (an account whose state never changed is active and has none).
"""

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from .base import ImmutableModel
from .ledger import Account


class AccountStateChange(ImmutableModel):
    """One change of an account's state, with the administrator who made it and the reason they gave."""

    account = models.ForeignKey(Account, models.PROTECT, related_name="state_changes")
    from_state = models.CharField(_("from"), max_length=20, choices=Account.State)
    to_state = models.CharField(_("to"), max_length=20, choices=Account.State)
    reason = models.TextField(_("reason"), max_length=1000, blank=True)
    actor = models.ForeignKey(settings.AUTH_USER_MODEL, models.PROTECT, null=True, blank=True, related_name="+")
    at = models.DateTimeField(_("time"))

    class Meta:
        verbose_name = _("account state change")
        verbose_name_plural = _("account state changes")
        ordering = ["-at", "-id"]
        constraints = [
            models.CheckConstraint(condition=~models.Q(from_state=models.F("to_state")), name="state_change_changes"),
        ]
        indexes = [models.Index(fields=["account", "-at"], name="state_change_account_newest")]

    def __str__(self) -> str:
        return f"{self.account}: {self.get_from_state_display()} → {self.get_to_state_display()}"
