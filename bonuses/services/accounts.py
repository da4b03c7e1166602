"""What an account may do (its state), and the expiry reminders of its lots: writes that move no points."""

from collections import defaultdict
from datetime import datetime
from decimal import Decimal

from django.db import transaction
from django.db.models import Q

from .. import bulk, notifications, rules
from ..models import Account, Currency, Lot
from .core import lock_account
from .currency import get_currency


def set_account_state(*, user, state: str, currency: Currency | None = None) -> Account:
    """Make an account active, accumulate-only or blocked (creating it if need be)."""
    if state not in Account.State.values:
        raise ValueError(f"Unknown account state {state!r}")
    with transaction.atomic():
        account = lock_account(user, get_currency(currency), create=True)
        account.state = state
        account.save(update_fields=["state"])
        return account


def queue_expiry_reminders(*, at: datetime) -> tuple[int, int]:
    """Remind employees of points about to expire, as each currency's settings say; returns (e-mails, lots).

    A lot is due from 00:00 of the day `expiry_reminder_days` before its last usable day until it
    expires, and is reminded once: its `reminded_at` is set in the transaction that queues the
    e-mail, so a later run (or one catching up on missed days) skips it. One e-mail per employee
    and currency sums what is left in the lots by their last usable day.
    """
    emails = lots = 0
    today = rules.local_date(at)
    for currency in Currency.objects.filter(expiry_reminder_days__isnull=False):
        # Beyond the calendar (a setting stored by an older version): every expiring lot is due.
        last = rules.day_after(today, currency.expiry_reminder_days + 1)
        cutoff = Q(expires_at__lte=rules.start_of_day(last)) if last else Q()
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
                expiring[(email, name)][rules.last_usable_day(expires_at)] += remaining
            emails += notifications.expiry_reminders(currency=currency, expiring=expiring)
            if due:
                Lot.objects.filter(pk__in=bulk.ids_in(row[0] for row in due)).update(reminded_at=at)
        lots += len(due)
    return emails, lots
