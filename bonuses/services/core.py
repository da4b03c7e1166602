"""What every operation shares: ids in chunks, the operation's moment, locking accounts, posting an entry, and
whether an actor is an administrator."""

from datetime import datetime
from decimal import Decimal

from django.db import connection
from django.db.models import Max
from django.utils import timezone
from django.utils.translation import gettext as _

from .. import bulk, exceptions
from ..models import Account, Allocation, Currency, Entry

BATCH_SIZE = 5000  # accounts per transaction of a full settlement, and ids per ORM lookup of a plain IN list
# What an operation on one locked account may change of it, saved at the end of the operation.
ACCOUNT_FIELDS = [*Account.FIGURES, "last_entry_at", "streak_started_at", "burned_steps"]


def chunks(items: list, size: int = BATCH_SIZE):
    for start in range(0, len(items), size):
        yield items[start : start + size]


# The operation's moment ----------------------------------------------------------------------


def require_aware(at: datetime | None) -> datetime | None:
    """The moment a caller gave (or None for "now"): an aware datetime, or ValueError."""
    if at is not None and timezone.is_naive(at):
        raise ValueError("`at` must be an aware datetime")
    return at


def operation_moment(at: datetime | None, latest: datetime | None) -> datetime:
    """The operation's moment: as given, or now, read once the accounts are locked.

    `latest` is the latest entry of the locked accounts. Reading the clock after the lock matters:
    a caller that waited for another's commit must not be dated before that commit's entries. A
    given moment before the latest entry is refused.
    """
    if at is None:
        return max(timezone.now(), latest) if latest else timezone.now()
    if latest and at < latest:
        raise exceptions.OperationInPast(
            _("The operation is dated %(at)s, before the account's latest entry (%(last)s).")
            % {"at": timezone.localtime(at), "last": timezone.localtime(latest)}
        )
    return at


# Accounts and their locks ----------------------------------------------------------------------


def account_ids(user_ids: list[int], currency: Currency, *, create: bool) -> list[int]:
    """The ids of these users' accounts in `currency`, sorted; missing accounts are created if asked."""
    found: dict[int, int] = {}

    def read(ids):
        found.update(
            Account.objects.filter(currency=currency, user_id__in=bulk.ids_in(ids)).values_list("user_id", "pk")
        )

    user_ids = sorted(set(user_ids))
    read(user_ids)
    missing = [uid for uid in user_ids if uid not in found]
    if create and missing:
        # Sorted inserts: two transactions creating overlapping accounts wait, never deadlock.
        Account.objects.bulk_create([Account(user_id=uid, currency=currency) for uid in missing], ignore_conflicts=True)
        read(missing)
    return sorted(found.values())


def lock_accounts(ids: list[int]) -> datetime | None:
    """Lock these accounts in primary-key order; returns the latest of their latest entries.

    PostgreSQL locks each row (FOR UPDATE); on SQLite the IMMEDIATE transaction already holds the
    database's write lock.
    """
    accounts = Account.objects.filter(pk__in=bulk.ids_in(ids))
    if connection.features.has_select_for_update:
        list(accounts.select_for_update().order_by("pk").values_list("pk"))
    return accounts.aggregate(latest=Max("last_entry_at"))["latest"]


def lock_id_range(low: int, high: int) -> None:
    """Lock every account with an id from `low` to `high`, in primary-key order.

    The daily run locks whole ranges of ids: PostgreSQL finds a range's rows by index, where a list
    of thousands of ids costs more to send and to plan than the work itself.
    """
    if connection.features.has_select_for_update:
        list(Account.objects.select_for_update().filter(pk__range=(low, high)).order_by("pk").values_list("pk"))


def lock_account(user, currency: Currency, *, create: bool = False) -> Account:
    """The user's account in `currency`, locked; NoAccount if there is none (and `create` is not asked)."""
    ids = account_ids([user.pk], currency, create=create)
    if not ids:
        raise exceptions.NoAccount(_("%(name)s has no %(currency)s.") % {"name": user, "currency": currency})
    return Account.objects.select_for_update().get(pk=ids[0])


def post_entry(account: Account, kind: str, amount: Decimal, at: datetime, *, allocations=(), **fields) -> Entry:
    """Write one entry for figures the caller has already updated on the locked `account`."""
    entry = Entry.objects.create(
        account=account,
        user_id=account.user_id,
        currency_id=account.currency_id,
        kind=kind,
        amount=amount,
        balance_after=account.active,
        at=at,
        **fields,
    )
    Allocation.objects.bulk_create([Allocation(entry=entry, lot=lot, amount=part) for lot, part in allocations])
    account.last_entry_at = at
    return entry


# Who acts ----------------------------------------------------------------------------------------


def administers(actor) -> bool:
    """An administrator (a superuser, or `bonuses.manage_giftshop`; as selectors.can_manage), or no one: a
    call without an actor is the system's own (the demo data, a management command)."""
    return actor is None or (actor.is_active and actor.has_perm("bonuses.manage_giftshop"))


def is_manager(actor) -> bool:
    """A manager who is not an administrator: what makes a grant a manager's (issue 11), whatever its source."""
    return not administers(actor) and actor.has_perm("bonuses.grant_bonuses")
