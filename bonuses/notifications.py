"""E-mails to employees: written to the outbox in the transaction that caused them, sent after it commits.

The first `IMMEDIATE` waiting e-mails go out right after the commit; a bigger queue (a bulk
accrual) and every failure are left to `manage.py send_queued_mail`, run by cron every minute.
The confirmation code goes out directly: the gift desk is waiting for it, and must hear if it failed.
"""

from django.conf import settings
from django.core.mail import EmailMessage, get_connection, send_mail
from django.db import connection, transaction
from django.template.loader import render_to_string
from django.utils import timezone

from .models import OutgoingEmail
from .rules import last_usable_day, local_date

IMMEDIATE = 50  # e-mails sent right after the commit that queued them
MAX_ATTEMPTS = 5  # a failing e-mail is retried by send_queued_mail until then
SEND_BATCH = 100  # e-mails per SMTP connection and per transaction


def _message(template: str, context: dict) -> tuple[str, str]:
    text = render_to_string(f"bonuses/email/{template}.txt", context).strip()
    subject, _blank, body = text.partition("\n")
    return subject.strip(), body.strip() + "\n"


def _queue(recipients: list[str], subject: str, body: str) -> None:
    """One e-mail per recipient into the outbox (one statement run many times: a batch may reach 10,000)."""
    names = ", ".join(OutgoingEmail._meta.get_field(f).column for f in ("recipient", "subject", "body", "created_at"))
    now = connection.ops.adapt_datetimefield_value(timezone.now())
    with connection.cursor() as cursor:
        cursor.executemany(
            f"INSERT INTO {OutgoingEmail._meta.db_table} ({names}, attempts, last_error)"
            " VALUES (%s, %s, %s, %s, 0, '')",
            [(email, subject, body, now) for email in recipients],
        )
    # robust: the change is committed whatever the mail server does; a failure waits for the next try.
    transaction.on_commit(lambda: send_queued(limit=IMMEDIATE, stop_on_error=True), robust=True)


def send_queued(*, limit: int | None = None, stop_on_error: bool = False) -> tuple[int, int]:
    """Send waiting e-mails, oldest first, each at most once per call; returns (sent, failed).

    Two senders at once never send one e-mail twice: each takes its batch with the rows locked
    (skipping rows another sender holds; on SQLite the write transaction serializes them).
    """
    sent = failed = 0
    last = 0
    while limit is None or sent + failed < limit:
        size = SEND_BATCH if limit is None else min(SEND_BATCH, limit - sent - failed)
        with transaction.atomic():
            batch = list(
                OutgoingEmail.objects.select_for_update(skip_locked=True)
                .filter(sent_at__isnull=True, attempts__lt=MAX_ATTEMPTS, pk__gt=last)
                .order_by("pk")[:size]
            )
            if not batch:
                break
            mailer = get_connection()  # opened by the first send: a failure to connect is that e-mail's
            try:
                for mail in batch:
                    try:
                        EmailMessage(
                            mail.subject, mail.body, settings.DEFAULT_FROM_EMAIL, [mail.recipient], connection=mailer
                        ).send()
                    except Exception as error:  # whatever the mail server did: recorded, retried later
                        mail.attempts += 1
                        mail.last_error = f"{type(error).__name__}: {error}"[:1000]
                        failed += 1
                        if stop_on_error:
                            break
                    else:
                        mail.sent_at = timezone.now()
                        sent += 1
            finally:
                mailer.close()
            OutgoingEmail.objects.bulk_update(batch, ["sent_at", "attempts", "last_error"])
            last = batch[-1].pk
        if failed and stop_on_error:
            break
    return sent, failed


def order_changed(order, event: str, **extra) -> None:
    subject, body = _message(f"order_{event}", {"order": order, **extra})
    _queue([order.user.email], subject, body)


def points_received(*, recipients: list[str], amount, currency, comment: str, activates_at, expires_at) -> None:
    """One e-mail to each employee who received points, with the comment; one text for a whole batch."""
    subject, body = _message(
        "points_received",
        {
            "amount": amount,
            "currency": currency,
            "comment": comment,
            "activates_on": local_date(activates_at) if activates_at else None,
            "last_day": last_usable_day(expires_at) if expires_at else None,
        },
    )
    if recipients:
        _queue(recipients, subject, body)


def confirmation_code(user, code: str) -> None:
    subject, body = _message("confirmation_code", {"user": user, "code": code})
    transaction.on_commit(
        lambda: send_mail(subject, body, settings.DEFAULT_FROM_EMAIL, [user.email], fail_silently=False)
    )
