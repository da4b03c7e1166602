"""What the Django admin of every app shares."""

from django.contrib import admin

from bonuses import selectors


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
