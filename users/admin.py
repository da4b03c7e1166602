from django.contrib import admin
from django.contrib.auth.admin import UserAdmin as DjangoUserAdmin
from django.contrib.auth.forms import AdminUserCreationForm, UserChangeForm
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


@admin.register(User)
class UserAdmin(DjangoUserAdmin):
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
