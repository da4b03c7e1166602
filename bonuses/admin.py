"""Django admin for the ledger. The log is read-only: every change goes through services."""

from django.contrib import admin, messages
from django.db import transaction
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext

from . import selectors, services
from .models import Account, Batch, Category, Currency, Entry, Gift, Lot, Order, OutgoingEmail, Reservation
from .shop_forms import GiftForm


class ReadOnlyAdmin(admin.ModelAdmin):
    """The ledger, the orders and the outbox: administrators (`bonuses.manage_giftshop`) read them here;
    nobody adds, changes or deletes a row."""

    def has_view_permission(self, request, obj=None):
        return selectors.can_manage(request.user) or super().has_view_permission(request, obj)

    def has_module_permission(self, request):
        return selectors.can_manage(request.user) or super().has_module_permission(request)

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


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
        accounts = list(queryset.select_related("user", "currency").order_by("pk"))
        with transaction.atomic():  # all of them, or none
            for account in accounts:
                services.set_account_state(user=account.user, state=state, currency=account.currency)
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
    list_display = ("pk", "at", "currency", "amount", "employee_count", "actor", "comment")
    list_select_related = ("currency", "actor")


@admin.register(Category)
class CategoryAdmin(admin.ModelAdmin):
    search_fields = ("name",)


@admin.register(Gift)
class GiftAdmin(admin.ModelAdmin):
    form = GiftForm  # the catalog screen's checks: the price's rules, and only real pictures
    list_display = ("name", "category", "price", "currency", "stock", "is_active")
    list_filter = ("is_active", "category", "currency")
    search_fields = ("name", "description")
    list_select_related = ("category", "currency")
    actions = ["deactivate"]

    def has_delete_permission(self, request, obj=None):
        # A gift that was ordered is deactivated, never deleted (its orders point at it).
        return obj is not None and not obj.orders.exists() and super().has_delete_permission(request, obj)

    @admin.action(description=_("Deactivate the selected gifts"))
    def deactivate(self, request, queryset):
        queryset.update(is_active=False)


@admin.register(Order)
class OrderAdmin(ReadOnlyAdmin):
    list_display = ("number", "created_at", "user", "gift", "quantity", "points", "currency", "status")
    list_filter = ("status", "currency")
    search_fields = ("user__full_name", "user__email", "gift__name")
    list_select_related = ("user", "gift", "currency")
    date_hierarchy = "created_at"


@admin.register(OutgoingEmail)
class OutgoingEmailAdmin(ReadOnlyAdmin):
    """Did the e-mail go out? Waiting, sent, or failed with the mail server's answer."""

    list_display = ("created_at", "recipient", "subject", "sent_at", "attempts")
    list_filter = (("sent_at", admin.EmptyFieldListFilter), "attempts")
    search_fields = ("recipient", "subject")
    date_hierarchy = "created_at"
