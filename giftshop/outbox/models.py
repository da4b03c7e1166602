"""E-mails to employees, kept in an outbox.

An e-mail is written in the transaction that caused it (nothing is sent for a change that rolls
back) and sent after the commit: the first few at once, the rest by `manage.py send_queued_mail`
(cron, every minute), which also retries failures. A bulk accrual to 10,000 employees thus commits
in a second, however slow the mail server.
"""

from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _


class OutgoingEmail(models.Model):
    recipient = models.EmailField(_("to"))
    subject = models.CharField(_("subject"), max_length=255)
    body = models.TextField(_("body"))
    html_body = models.TextField(_("HTML body"), blank=True, default="", help_text=_("Empty: plain text only."))
    created_at = models.DateTimeField(_("queued at"), default=timezone.now)
    sent_at = models.DateTimeField(_("sent at"), null=True, blank=True)
    attempts = models.PositiveSmallIntegerField(_("failed attempts"), default=0)
    last_error = models.TextField(_("last error"), blank=True)

    class Meta:
        db_table = "bonuses_outgoingemail"  # the table it had in the bonuses app
        verbose_name = _("outgoing e-mail")
        verbose_name_plural = _("outgoing e-mails")
        indexes = [models.Index(fields=["id"], condition=Q(sent_at__isnull=True), name="outgoing_email_waiting")]

    def __str__(self) -> str:
        return f"{self.recipient}: {self.subject}"
