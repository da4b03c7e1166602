"""The outbox's content type follows the model from the bonuses app (its permissions and admin history
with it). A database where the new content type already exists keeps both: nothing is merged."""

from django.db import migrations

MODELS = ["outgoingemail"]


def relabel(old: str, new: str):
    def run(apps, schema_editor):
        ContentType = apps.get_model("contenttypes", "ContentType")
        for model in MODELS:
            if not ContentType.objects.filter(app_label=new, model=model).exists():
                ContentType.objects.filter(app_label=old, model=model).update(app_label=new)

    return run


class Migration(migrations.Migration):
    dependencies = [
        ("outbox", "0001_initial"),
        ("bonuses", "0011_shop_and_outbox_move_out"),
        ("contenttypes", "0002_remove_content_type_name"),
    ]

    operations = [migrations.RunPython(relabel("bonuses", "outbox"), relabel("outbox", "bonuses"))]
