"""The ledger's e-mails: points received and expiry reminders, written to the outbox in the transaction
that caused them and sent after it commits (`giftshop.outbox`).

Each e-mail is `templates/bonuses/email/<name>.txt` with its HTML alternative `<name>.html`; both
greet the employee by name and link to the site at `settings.SITE_URL`. A bulk accrual renders its
e-mail once, with a placeholder for the name, and puts each recipient's name in by string slicing.
"""

from collections import defaultdict
from datetime import datetime
from decimal import Decimal

from django.db import transaction
from django.db.models import Q
from django.utils.html import escape

from giftshop.outbox import services as outbox

from .models import Currency, Lot
from .rules import day_after, last_usable_day, local_date, start_of_day

NAME = "\x00name\x00"  # the greeting's place in a batch's one rendering (no form lets a NUL through)
LOTS_PER_UPDATE = 1000  # reminded lots marked per statement


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


def expiry_reminders(*, at: datetime) -> tuple[int, int]:
    """Remind employees of points about to expire, as each currency's settings say; returns (e-mails, lots).

    A lot is due from 00:00 of the day `expiry_reminder_days` before its last usable day until it
    expires, and is reminded once: a later run (or one catching up on missed days) skips it. One
    e-mail per employee and currency sums what is left in the lots by their last usable day.
    """
    emails = lots = 0
    today = local_date(at)
    for currency in Currency.objects.filter(expiry_reminder_days__isnull=False):
        # Beyond the calendar (a setting stored by an older version): every expiring lot is due.
        last = day_after(today, currency.expiry_reminder_days + 1)
        cutoff = Q(expires_at__lte=start_of_day(last)) if last else Q()
        with transaction.atomic():
            # Lots an operation holds right now are skipped (never waited for): the next run has them.
            due = list(
                Lot.objects.select_for_update(skip_locked=True, of=("self",))
                .filter(account__currency=currency, account__user__is_active=True, reminded_at__isnull=True)
                .filter(cutoff, is_activated=True, remaining__gt=0, expires_at__gt=at)
                .order_by("account_id", "expires_at")
                .values_list("pk", "account__user__email", "account__user__full_name", "expires_at", "remaining")
            )
            expiring: dict[tuple[str, str], dict] = defaultdict(lambda: defaultdict(Decimal))
            for _pk, email, name, expires_at, remaining in due:
                expiring[(email, name)][last_usable_day(expires_at)] += remaining
            messages = []
            for (email, name), days in expiring.items():
                greeting = outbox.greeting_name(name, email)
                context = {"name": greeting, "currency": currency, "expiries": sorted(days.items())}
                messages.append((email, *_message("expiry_reminder", context)))
            if messages:
                outbox.queue(messages)
            for start in range(0, len(due), LOTS_PER_UPDATE):
                Lot.objects.filter(pk__in=[row[0] for row in due[start : start + LOTS_PER_UPDATE]]).update(
                    reminded_at=at
                )
        emails, lots = emails + len(messages), lots + len(due)
    return emails, lots
