"""What an account may do (its state, and who may change it), and the expiry reminders of its lots: writes
that move no points.

SPEC.md section 2: an active account accrues and spends; an accumulate-only one accrues but cannot
spend (deduction.py refuses its reservations and their capture); a blocked one can neither spend nor
reserve, and only an administrator adds points to it or writes them off: a manager's grant
(`core.is_manager`) that reaches it is refused here, as a whole. Every change of state is one
immutable AccountStateChange row, with its actor and reason, in the transaction that changes it.
"""

from collections import defaultdict
from datetime import datetime
from decimal import Decimal

from django.db import transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from .. import bulk, exceptions, notifications, rules
from ..models import Account, AccountStateChange, Currency, Lot
from .core import administers, is_manager, lock_account, require_aware
from .currency import get_currency


def set_account_state(
    *,
    user,
    state: str,
    currency: Currency | None = None,
    actor=None,
    reason: str = "",
    at: datetime | None = None,
) -> Account:
    """Make an account active, accumulate-only or blocked (creating it if need be), logged with who and why.

    The change and its AccountStateChange row are written in one transaction. Asking for the state the
    account is already in changes nothing and logs nothing (the screens refuse it before asking). An
    actor must be an administrator, and nobody changes the state of their own account (NotPermitted);
    the reason (the employee reads it on their pages) is at most rules.MAX_COMMENT characters.
    """
    if state not in Account.State.values:
        raise ValueError(f"Unknown account state {state!r}")
    at = require_aware(at)
    reason = (reason or "").strip()
    if len(reason) > rules.MAX_COMMENT:
        raise exceptions.CommentTooLong(_("The reason is longer than %(max)d characters.") % {"max": rules.MAX_COMMENT})
    if not administers(actor):
        raise exceptions.NotPermitted(_("Only an administrator can change the state of an account."))
    if actor is not None and actor.pk == user.pk:
        raise exceptions.NotPermitted(_("You cannot change the state of your own account."))
    with transaction.atomic():
        account = lock_account(user, get_currency(currency), create=True)
        if account.state != state:
            AccountStateChange.objects.create(
                account=account,
                from_state=account.state,
                to_state=state,
                reason=reason,
                actor=actor,
                at=at or timezone.now(),
            )
            account.state = state
            account.save(update_fields=["state"])
        return account


def check_accruable(ids: list[int], actor, currency: Currency) -> None:
    """Refuse, as a whole, a manager's accrual that reaches a blocked account (only an administrator's may).

    `ids` are the accrual's accounts, locked by the caller. The blocked ones are looked up first (one
    query, whoever accrues): the actor's permissions cost queries of their own only when there are some.
    """
    blocked = list(
        Account.objects.filter(pk__in=bulk.ids_in(ids), state=Account.State.BLOCKED)
        .order_by("user__full_name", "pk")
        .values_list("user__full_name", flat=True)
    )
    if not blocked or not is_manager(actor):
        return
    if len(ids) == 1:
        raise exceptions.AccountBlocked(
            _("%(name)s's %(currency)s account is blocked: only an administrator can add points to it.")
            % {"name": blocked[0], "currency": currency.name}
        )
    message = ngettext(
        "%(count)d of the selected employees has a blocked %(currency)s account (%(names)s): only an "
        "administrator can add points to it; nothing was accrued.",
        "%(count)d of the selected employees have a blocked %(currency)s account (%(names)s): only an "
        "administrator can add points to them; nothing was accrued.",
        len(blocked),
    )
    raise exceptions.AccountBlocked(
        message % {"count": len(blocked), "currency": currency.name, "names": rules.some_names(blocked)}
    )


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
