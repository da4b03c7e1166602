"""Create the groups "Administrators" and "Managers" with their permissions."""

from django.db import migrations

# Administrators also maintain employees and their reference tables in the Django admin.
EMPLOYEE_MODELS = [("user", "employee"), ("position", "position"), ("city", "city"), ("department", "department"),
                   ("tag", "tag")]
ROLES = {
    "Administrators": [
        ("bonuses", "currency", "manage_giftshop", "Manage Gift Shop"),
        ("bonuses", "currency", "grant_bonuses", "Grant bonuses to managed departments"),
    ]
    + [
        ("users", model, f"{action}_{model}", f"Can {action} {verbose}")
        for model, verbose in EMPLOYEE_MODELS
        for action in ("add", "change", "view")
    ],
    "Managers": [
        ("bonuses", "currency", "grant_bonuses", "Grant bonuses to managed departments"),
    ],
}


def create_roles(apps, schema_editor):
    # Permissions are normally created after all migrations ran (post_migrate); create the
    # ones the groups need now, so a fresh database has working roles from the start.
    ContentType = apps.get_model("contenttypes", "ContentType")
    Permission = apps.get_model("auth", "Permission")
    Group = apps.get_model("auth", "Group")
    for group_name, perms in ROLES.items():
        group, _ = Group.objects.get_or_create(name=group_name)
        for app_label, model, codename, name in perms:
            content_type, _ = ContentType.objects.get_or_create(app_label=app_label, model=model)
            permission, _ = Permission.objects.get_or_create(
                content_type=content_type, codename=codename, defaults={"name": name}
            )
            group.permissions.add(permission)


def remove_roles(apps, schema_editor):
    apps.get_model("auth", "Group").objects.filter(name__in=ROLES).delete()


class Migration(migrations.Migration):
    dependencies = [
        ("bonuses", "0001_initial"),
        ("users", "0001_initial"),
        ("auth", "0012_alter_user_first_name_max_length"),
        ("contenttypes", "0002_remove_content_type_name"),
    ]

    operations = [migrations.RunPython(create_roles, remove_roles)]
