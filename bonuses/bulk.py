"""Bulk writes in plain SQL: one statement run many times, for rows counted in tens of thousands.

Model instances and the ORM's bulk_create spend more time building SQL in Python than the database
spends writing. Values passed in are clean (quantized Decimals, ids, aware datetimes); datetimes get
the backend's adaptation (SQLite stores naive UTC text).
"""

from datetime import datetime

from django.db import connection, models


def marks(values: list) -> str:
    """`%s, %s, ...`: one placeholder per value."""
    return ", ".join(["%s"] * len(values))


def adapt(moment: datetime | None):
    return connection.ops.adapt_datetimefield_value(moment)


def _prepared(model, columns: list[str], rows: list[tuple]) -> list[tuple]:
    moments = [i for i, c in enumerate(columns) if isinstance(model._meta.get_field(c), models.DateTimeField)]
    if not moments:
        return rows
    adapted = {}  # the rows of one write mostly share their moment (a batch's, the outbox's "queued at")
    prepared = []
    for row in rows:
        row = list(row)
        for i in moments:
            if row[i] not in adapted:
                adapted[row[i]] = adapt(row[i])
            row[i] = adapted[row[i]]
        prepared.append(row)
    return prepared


def insert(model, columns: list[str], rows: list[tuple]) -> None:
    if rows:
        names = ", ".join(model._meta.get_field(c).column for c in columns)
        with connection.cursor() as cursor:
            cursor.executemany(
                f"INSERT INTO {model._meta.db_table} ({names}) VALUES ({marks(columns)})",
                _prepared(model, columns, rows),
            )


def update(model, columns: list[str], rows: list[tuple]) -> None:
    """Each row holds the new values of `columns`, then the primary key."""
    if rows:
        assignments = ", ".join(f"{model._meta.get_field(c).column} = %s" for c in columns)
        with connection.cursor() as cursor:
            cursor.executemany(
                f"UPDATE {model._meta.db_table} SET {assignments} WHERE id = %s",
                _prepared(model, [*columns, "id"], rows),
            )
