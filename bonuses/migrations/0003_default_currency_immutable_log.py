"""The default currency "Bonuses", and on PostgreSQL triggers that keep the log immutable."""

from django.db import migrations

IMMUTABLE_TABLES = ["bonuses_entry", "bonuses_allocation"]

TRIGGER_FUNCTION = """
CREATE OR REPLACE FUNCTION bonuses_refuse_change() RETURNS trigger AS $$
BEGIN
    RAISE EXCEPTION 'rows of % are immutable: post a corrective entry instead', TG_TABLE_NAME
        USING ERRCODE = 'integrity_constraint_violation';
END;
$$ LANGUAGE plpgsql;
"""


def create_default_currency(apps, schema_editor):
    Currency = apps.get_model("bonuses", "Currency")
    if not Currency.objects.filter(is_default=True).exists():
        Currency.objects.create(name="Bonuses", is_default=True)


def create_triggers(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    schema_editor.execute(TRIGGER_FUNCTION, params=None)
    for table in IMMUTABLE_TABLES:
        schema_editor.execute(
            f"CREATE TRIGGER {table}_immutable BEFORE UPDATE OR DELETE ON {table} "
            f"FOR EACH ROW EXECUTE FUNCTION bonuses_refuse_change()"
        )


def drop_triggers(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    for table in IMMUTABLE_TABLES:
        schema_editor.execute(f"DROP TRIGGER IF EXISTS {table}_immutable ON {table}")
    schema_editor.execute("DROP FUNCTION IF EXISTS bonuses_refuse_change()")


class Migration(migrations.Migration):
    dependencies = [("bonuses", "0002_roles")]

    operations = [
        migrations.RunPython(create_default_currency, migrations.RunPython.noop),
        migrations.RunPython(create_triggers, drop_triggers),
    ]
