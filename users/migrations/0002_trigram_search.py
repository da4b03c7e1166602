"""On PostgreSQL, trigram indexes so that "name contains ..." stays fast with 100,000 employees.

Django's `icontains` compiles to UPPER(column::text) LIKE UPPER(...), so the indexes are on
that expression. SQLite has no such index; there the autocomplete reads the name index in
order and stops at the first 20 matches.
"""

from django.db import migrations

COLUMNS = ["full_name", "email"]


def create(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    schema_editor.execute("CREATE EXTENSION IF NOT EXISTS pg_trgm", params=None)
    for column in COLUMNS:
        schema_editor.execute(
            f"CREATE INDEX IF NOT EXISTS users_user_{column}_trgm ON users_user "
            f'USING gin (UPPER("{column}"::text) gin_trgm_ops)',
            params=None,
        )


def drop(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    for column in COLUMNS:
        schema_editor.execute(f"DROP INDEX IF EXISTS users_user_{column}_trgm", params=None)


class Migration(migrations.Migration):
    dependencies = [("users", "0001_initial")]

    operations = [migrations.RunPython(create, drop)]
