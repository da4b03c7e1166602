"""Writing to the outbox and sending from it.

Each e-mail is plain text (`<template>.txt`, first line the subject, rendered without HTML escaping)
with an HTML alternative of the same content (`<template>.html`, escaped as HTML, laid out by
`templates/outbox/base.html`). `queue` writes e-mails in the caller's transaction; the first
`IMMEDIATE` waiting ones go out right after the commit, a bigger queue (a bulk accrual) and every
failure are left to `manage.py send_queued_mail`, run by cron every minute. `send_after_commit`
skips the outbox, for an e-mail someone is waiting for and must hear about if it failed.
"""

from django.conf import settings
from django.core.mail import EmailMultiAlternatives, get_connection, send_mail
from django.db import transaction
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone

from bonuses import bulk

from .models import OutgoingEmail

IMMEDIATE = 50  # e-mails sent right after the commit that queued them
MAX_ATTEMPTS = 5  # a failing e-mail is retried by send_queued until then
SEND_BATCH = 100  # e-mails per SMTP connection and per transaction


def link(url_name: str) -> str:
    """The address of a page as the employee reaches it (under settings.SITE_URL)."""
    return settings.SITE_URL + reverse(url_name)


def greeting_name(full_name: str, email: str) -> str:
    """Whom an e-mail greets: the employee's name, else their address."""
    return full_name or email


def render(template: str, context: dict) -> tuple[str, str, str]:
    """(subject, text body, HTML body) of one e-mail, from `<template>.txt` and `<template>.html`."""
    text = render_to_string(f"{template}.txt", context).strip()
    subject, _blank, body = text.partition("\n")
    subject = subject.strip()
    html = render_to_string(f"{template}.html", {**context, "subject": subject}).strip()
    return subject, body.strip() + "\n", html + "\n"


def queue(messages: list[tuple[str, str, str, str]]) -> None:
    """(recipient, subject, body, HTML body) into the outbox, in bulk: a batch may reach 100,000."""
    now = timezone.now()
    bulk.insert(
        OutgoingEmail,
        ["recipient", "subject", "body", "html_body", "created_at", "attempts", "last_error"],
        [(*message, now, 0, "") for message in messages],
    )
    # robust: the change is committed whatever the mail server does; a failure waits for the next try.
    transaction.on_commit(lambda: send_queued(limit=IMMEDIATE, stop_on_error=True), robust=True)


def send_after_commit(recipient: str, subject: str, body: str, html: str) -> None:
    """Send one e-mail directly once the transaction commits, not through the outbox: a failure is the caller's."""
    transaction.on_commit(
        lambda: send_mail(
            subject, body, settings.DEFAULT_FROM_EMAIL, [recipient], fail_silently=False, html_message=html
        )
    )


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
                        message = EmailMultiAlternatives(
                            mail.subject, mail.body, settings.DEFAULT_FROM_EMAIL, [mail.recipient], connection=mailer
                        )
                        if mail.html_body:  # e-mails queued before there were HTML bodies have none
                            message.attach_alternative(mail.html_body, "text/html")
                        message.send()
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
