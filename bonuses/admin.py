"""Django admin for the ledger. The log is read-only: every change goes through services."""

from django.contrib import admin

from giftshop.web.admin import ReadOnlyAdmin

from .models import Account, Batch, Currency, Entry, Lot, Reservation


@admin.register(Currency)
class CurrencyAdmin(admin.ModelAdmin):
    list_display = ("name", "is_default", "whole_numbers", "activation_delay_days", "burn_policy")

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(Account)
class AccountAdmin(ReadOnlyAdmin):
    list_display = ("user", "currency", "state", "active", "reserved", "non_activated", "expired", "total_accrued")
    list_filter = ("currency", "state")
    search_fields = ("user__full_name", "user__email")
    list_select_related = ("user", "currency")


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
