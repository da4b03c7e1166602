"""The shop's content types follow its models from the bonuses app (their permissions and admin history
with them). A database where the new content types already exist keeps both: nothing is merged."""

from django.db import migrations

MODELS = ["category", "gift", "order", "confirmationcode", "codeguard"]


def relabel(old: str, new: str):
    def run(apps, schema_editor):
        ContentType = apps.get_model("contenttypes", "ContentType")
        for model in MODELS:
            if not ContentType.objects.filter(app_label=new, model=model).exists():
                ContentType.objects.filter(app_label=old, model=model).update(app_label=new)

    return run


class Migration(migrations.Migration):
    dependencies = [
        ("shop", "0001_initial"),
        ("bonuses", "0011_shop_and_outbox_move_out"),
        ("contenttypes", "0002_remove_content_type_name"),
    ]

    operations = [migrations.RunPython(relabel("bonuses", "shop"), relabel("shop", "bonuses"))]
