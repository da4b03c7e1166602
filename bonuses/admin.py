"""Django admin for the ledger. The log is read-only: every change goes through services."""

from django.contrib import admin, messages
from django.db import transaction
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext

from giftshop.web.admin import ReadOnlyAdmin

from . import selectors, services
from .exceptions import BonusError
from .models import Account, AccountStateChange, Batch, Currency, Entry, Lot, Reservation


@admin.register(Currency)
class CurrencyAdmin(admin.ModelAdmin):
    list_display = ("name", "is_default", "whole_numbers", "activation_delay_days", "burn_policy")

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(Account)
class AccountAdmin(ReadOnlyAdmin):
    """Read-only like the rest of the ledger; an administrator changes an account's state by an action."""

    list_display = ("user", "currency", "state", "active", "reserved", "non_activated", "expired", "total_accrued")
    list_filter = ("currency", "state")
    search_fields = ("user__full_name", "user__email")
    list_select_related = ("user", "currency")
    actions = ["make_active", "make_accumulate_only", "make_blocked"]

    def has_set_state_permission(self, request):
        return selectors.can_manage(request.user)

    @admin.action(description=_("Make the selected accounts active"), permissions=["set_state"])
    def make_active(self, request, queryset):
        self.set_state(request, queryset, Account.State.ACTIVE)

    @admin.action(description=_("Make the selected accounts accumulate only"), permissions=["set_state"])
    def make_accumulate_only(self, request, queryset):
        self.set_state(request, queryset, Account.State.ACCUMULATE_ONLY)

    @admin.action(description=_("Block the selected accounts"), permissions=["set_state"])
    def make_blocked(self, request, queryset):
        self.set_state(request, queryset, Account.State.BLOCKED)

    def set_state(self, request, queryset, state: str) -> None:
        """Every selected account, or none (the screens' "Account state" asks for a reason; this does not)."""
        accounts = list(queryset.select_related("user", "currency").order_by("pk"))
        try:
            with transaction.atomic():
                for account in accounts:
                    services.set_account_state(
                        user=account.user, state=state, currency=account.currency, actor=request.user
                    )
        except BonusError as error:
            self.message_user(request, error.message, messages.ERROR)
            return
        message = ngettext(
            "%(count)d account set to “%(state)s”.", "%(count)d accounts set to “%(state)s”.", len(accounts)
        )
        message %= {"count": len(accounts), "state": Account.State(state).label}
        self.message_user(request, message, messages.SUCCESS)


@admin.register(Lot)
class LotAdmin(ReadOnlyAdmin):
    list_display = ("pk", "account", "amount", "remaining", "accrued_at", "activates_at", "expires_at", "source")
    list_filter = ("source", "is_activated", "account__currency")
    search_fields = ("account__user__full_name", "account__user__email")
    list_select_related = ("account__user", "account__currency")


@admin.register(Entry)
class EntryAdmin(ReadOnlyAdmin):
    list_display = ("at", "user", "currency", "kind", "amount", "balance_after", "actor", "comment")
    list_filter = ("kind", "currency")
    search_fields = ("user__full_name", "user__email", "comment")
    list_select_related = ("user", "currency", "actor")
    date_hierarchy = "at"


@admin.register(Reservation)
class ReservationAdmin(ReadOnlyAdmin):
    list_display = ("reference", "account", "amount", "refunded", "status", "created_at", "resolved_at")
    list_filter = ("status",)
    search_fields = ("reference", "account__user__full_name")
    list_select_related = ("account__user", "account__currency")


@admin.register(Batch)
class BatchAdmin(ReadOnlyAdmin):
    list_display = ("pk", "at", "currency", "amount", "employee_count", "actor", "comment", "reverses")
    list_select_related = ("currency", "actor")


@admin.register(AccountStateChange)
class AccountStateChangeAdmin(ReadOnlyAdmin):
    list_display = ("at", "account", "from_state", "to_state", "actor", "reason")
    list_filter = ("to_state", "account__currency")
    search_fields = ("account__user__full_name", "account__user__email", "reason")
    list_select_related = ("account__user", "account__currency", "actor")
    date_hierarchy = "at"
