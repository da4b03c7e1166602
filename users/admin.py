from django.contrib import admin
from django.contrib.admin.utils import unquote
from django.contrib.auth.admin import UserAdmin as DjangoUserAdmin
from django.contrib.auth.forms import AdminUserCreationForm, UserChangeForm
from django.core.exceptions import PermissionDenied
from django.utils.translation import gettext_lazy as _

from .models import City, Department, Position, Tag, User


class EmployeeCreationForm(AdminUserCreationForm):
    class Meta:
        model = User
        fields = ("email", "full_name")


class EmployeeChangeForm(UserChangeForm):
    class Meta:
        model = User
        fields = "__all__"


# What makes an account powerful. Only a superuser gives or takes it: an administrator (the group,
# with users.change_user) edits employees, and would otherwise make anyone, themselves included,
# a superuser. is_staff is among them: it opens the admin, and only with groups it is a role.
PRIVILEGE_FIELDS = ("is_staff", "is_superuser", "groups", "user_permissions")


@admin.register(User)
class UserAdmin(DjangoUserAdmin):
    """Employees. Who is not a superuser sees the privileges but cannot change them, may look at a
    superuser but not change one, and sets the password of their own account and of accounts
    without admin access only."""

    form = EmployeeChangeForm
    add_form = EmployeeCreationForm
    ordering = ("full_name",)
    list_display = ("full_name", "email", "employee_number", "position", "city", "department", "is_active")
    list_filter = ("is_active", "department", "city", "position", "tags", "is_staff", "is_superuser", "groups")
    search_fields = ("full_name", "email", "employee_number")
    list_select_related = ("position", "city", "department")
    autocomplete_fields = ("position", "city", "department")
    filter_horizontal = ("tags", "groups", "user_permissions")
    readonly_fields = ("last_login", "date_joined")
    fieldsets = (
        (None, {"fields": ("email", "password")}),
        (_("Employee"), {"fields": ("full_name", "employee_number", "position", "city", "department", "tags")}),
        (_("Dates"), {"fields": ("date_of_birth", "hire_date", "last_login", "date_joined")}),
        (_("Permissions"), {"fields": ("is_active", "is_staff", "is_superuser", "groups", "user_permissions")}),
    )
    add_fieldsets = ((None, {"classes": ("wide",), "fields": ("email", "full_name", "password1", "password2")}),)

    def get_readonly_fields(self, request, obj=None):
        fields = super().get_readonly_fields(request, obj)
        return fields if request.user.is_superuser else (*fields, *PRIVILEGE_FIELDS)

    def has_change_permission(self, request, obj=None):
        if obj is not None and obj.is_superuser and not request.user.is_superuser:
            return False
        return super().has_change_permission(request, obj)

    def has_delete_permission(self, request, obj=None):
        if obj is not None and obj.is_superuser and not request.user.is_superuser:
            return False
        return super().has_delete_permission(request, obj)

    def user_change_password(self, request, id, form_url=""):
        # Setting a fellow administrator's password would be logging in as them: every rule that
        # wants "another administrator" (approvals) would be void.
        user = self.get_object(request, unquote(id))
        if user is not None and user.is_staff and user != request.user and not request.user.is_superuser:
            raise PermissionDenied
        return super().user_change_password(request, id, form_url)


class NamedAdmin(admin.ModelAdmin):
    list_display = ("name",)
    search_fields = ("name",)


admin.site.register(Position, NamedAdmin)
admin.site.register(City, NamedAdmin)
admin.site.register(Tag, NamedAdmin)


@admin.register(Department)
class DepartmentAdmin(NamedAdmin):
    list_display = ("name", "manager_list")
    filter_horizontal = ("managers",)
    list_filter = ("managers",)

    def get_queryset(self, request):
        return super().get_queryset(request).prefetch_related("managers")

    @admin.display(description=_("managers"))
    def manager_list(self, obj):
        return ", ".join(m.full_name for m in obj.managers.all())
