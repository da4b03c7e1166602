"""The ledger's e-mails: points received and expiry reminders, written to the outbox in the transaction
that caused them and sent after it commits (`giftshop.outbox`).

Each e-mail is `templates/bonuses/email/<name>.txt` with its HTML alternative `<name>.html`; both
greet the employee by name and link to the site at `settings.SITE_URL`. A bulk accrual renders its
e-mail once, with a placeholder for the name, and puts each recipient's name in by string slicing.
"""

from datetime import date
from decimal import Decimal

from django.utils.html import escape

from giftshop.outbox import services as outbox

from .rules import last_usable_day, local_date

NAME = "\x00name\x00"  # the greeting's place in a batch's one rendering (no form lets a NUL through)


def _message(template: str, context: dict) -> tuple[str, str, str]:
    """(subject, text body, HTML body) of one of the ledger's e-mails."""
    links = {"balance_url": outbox.link("my-balance"), "shop_url": outbox.link("shop:catalog")}
    return outbox.render(f"bonuses/email/{template}", {**context, **links})


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
        name = outbox.greeting_name(full_name, email)
        text = text_head + (name if in_text else "") + text_tail
        messages.append((email, subject, text, html_head + (escape(name) if in_html else "") + html_tail))
    outbox.queue(messages)


def expiry_reminders(*, currency, expiring: dict[tuple[str, str], dict[date, Decimal]]) -> int:
    """One reminder to each (e-mail, full name) of `expiring`, listing {last usable day: points}; returns how many.

    `services.queue_expiry_reminders` finds the lots that are due and marks them reminded.
    """
    messages = []
    for (email, name), days in expiring.items():
        context = {"name": outbox.greeting_name(name, email), "currency": currency, "expiries": sorted(days.items())}
        messages.append((email, *_message("expiry_reminder", context)))
    if messages:
        outbox.queue(messages)
    return len(messages)
