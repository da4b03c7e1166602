"""E-mails to employees: written to the outbox in the transaction that caused them, sent after it commits.

The first `IMMEDIATE` waiting e-mails go out right after the commit; a bigger queue (a bulk
accrual) and every failure are left to `manage.py send_queued_mail`, run by cron every minute.
The confirmation code goes out directly: the gift desk is waiting for it, and must hear if it failed.

Each e-mail is plain text (`templates/bonuses/email/<name>.txt`, first line the subject, rendered
without HTML escaping) with an HTML alternative of the same content (`<name>.html`, escaped as HTML).
Both greet the employee by name and link to the site at `settings.SITE_URL`. A bulk accrual renders
its e-mail once, with a placeholder for the name, and puts each recipient's name in by string slicing.
"""

from datetime import date
from decimal import Decimal

from django.conf import settings
from django.core.mail import EmailMultiAlternatives, get_connection, send_mail
from django.db import transaction
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone
from django.utils.html import escape

from . import bulk
from .models import OutgoingEmail
from .rules import last_usable_day, local_date

IMMEDIATE = 50  # e-mails sent right after the commit that queued them
MAX_ATTEMPTS = 5  # a failing e-mail is retried by send_queued_mail until then
SEND_BATCH = 100  # e-mails per SMTP connection and per transaction


NAME = "\x00name\x00"  # the greeting's place in a batch's one rendering (no form lets a NUL through)


def _link(url_name: str) -> str:
    return settings.SITE_URL + reverse(url_name)


def _message(template: str, context: dict) -> tuple[str, str, str]:
    """(subject, text body, HTML body) of one e-mail."""
    context = {
        **context,
        "balance_url": _link("my-balance"),
        "orders_url": _link("shop-orders"),
        "shop_url": _link("shop"),
    }
    text = render_to_string(f"bonuses/email/{template}.txt", context).strip()
    subject, _blank, body = text.partition("\n")
    subject = subject.strip()
    html = render_to_string(f"bonuses/email/{template}.html", {**context, "subject": subject}).strip()
    return subject, body.strip() + "\n", html + "\n"


def _name(full_name: str, email: str) -> str:
    return full_name or email


def _queue(messages: list[tuple[str, str, str, str]]) -> None:
    """(recipient, subject, body, HTML body) into the outbox, in bulk: a batch may reach 100,000."""
    now = timezone.now()
    bulk.insert(
        OutgoingEmail,
        ["recipient", "subject", "body", "html_body", "created_at", "attempts", "last_error"],
        [(*message, now, 0, "") for message in messages],
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


def order_changed(order, event: str, **extra) -> None:
    user = order.user
    context = {"order": order, "name": _name(user.full_name, user.email), **extra}
    _queue([(user.email, *_message(f"order_{event}", context))])


def points_received(
    *, recipients: list[tuple[str, str]], amount, currency, comment: str, activates_at, expires_at
) -> None:
    """One e-mail to each (e-mail, full name) who received points, with the comment.

    A whole batch is rendered once, with a placeholder for the name: the greeting comes before
    anything an administrator wrote, so the placeholder's first place is the greeting's.
    """
    if not recipients:
        return
    subject, body, html = _message(
        "points_received",
        {
            "name": NAME,
            "amount": amount,
            "currency": currency,
            "comment": comment,
            "activates_on": local_date(activates_at) if activates_at else None,
            "last_day": last_usable_day(expires_at) if expires_at else None,
        },
    )
    text_head, in_text, text_tail = body.partition(NAME)
    html_head, in_html, html_tail = html.partition(NAME)
    messages = []
    for email, full_name in recipients:
        name = _name(full_name, email)
        text = text_head + (name if in_text else "") + text_tail
        messages.append((email, subject, text, html_head + (escape(name) if in_html else "") + html_tail))
    _queue(messages)


def expiry_reminders(*, currency, expiring: dict[tuple[str, str], dict[date, Decimal]]) -> int:
    """One reminder to each (e-mail, full name) of `expiring`, listing {last usable day: points}; returns how many.

    `services.queue_expiry_reminders` finds the lots that are due and marks them reminded.
    """
    messages = []
    for (email, name), days in expiring.items():
        context = {"name": _name(name, email), "currency": currency, "expiries": sorted(days.items())}
        messages.append((email, *_message("expiry_reminder", context)))
    if messages:
        _queue(messages)
    return len(messages)


def confirmation_code(user, code: str) -> None:
    subject, body, html = _message("confirmation_code", {"name": _name(user.full_name, user.email), "code": code})
    transaction.on_commit(
        lambda: send_mail(
            subject, body, settings.DEFAULT_FROM_EMAIL, [user.email], fail_silently=False, html_message=html
        )
    )
