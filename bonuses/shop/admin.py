"""Django admin of the shop: the catalog (with the catalog screen's checks) and the read-only orders."""

from django.contrib import admin
from django.utils.translation import gettext_lazy as _

from giftshop.web.admin import ReadOnlyAdmin

from .forms import GiftForm
from .models import Category, Gift, Order


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
