"""Bulk SQL for rows counted in tens of thousands: rows built in Python, and lists of ids as one parameter.

Model instances and the ORM's bulk_create spend more time building SQL in Python than the database
spends writing. Values passed in are clean (quantized Decimals, ids, aware datetimes); datetimes get
the backend's adaptation (SQLite stores naive UTC text).

A hand-written statement that asks whether a column holds one of many ids does it with a fixed
clause (`one_of`, `none_of`, written into the statement once, at import) and one parameter
(`id_list`): a PostgreSQL array, or a JSON array that SQLite reads with json_each. Neither the
statement's text nor its number of parameters depends on how many ids there are. The ORM gets
the same with `ids_in` (`pk__in=bulk.ids_in(ids)`): its own `__in` on a list of 10,000 ids
prepares each one in Python, which costs more than the query.
"""

import json
from datetime import datetime
from functools import lru_cache

from django.db import connection, models
from django.db.models.expressions import RawSQL

ROWS_PER_INSERT = 1000  # rows per INSERT ... RETURNING: at most 10 columns, far below SQLite's 32,766 parameters
_ONE_OF = {
    "postgresql": "{column} = ANY(%({name})s::bigint[])",
    "sqlite": "{column} IN (SELECT value FROM json_each(%({name})s))",
}
_NONE_OF = {
    "postgresql": "{column} <> ALL(%({name})s::bigint[])",
    "sqlite": "{column} NOT IN (SELECT value FROM json_each(%({name})s))",
}
_IDS = {
    "postgresql": "SELECT unnest(%s::bigint[])",
    "sqlite": "SELECT value FROM json_each(%s)",
}


def one_of(column: str, name: str) -> str:
    """The clause "`column` is one of the ids of the named parameter `name`" (pass it `id_list(ids)`)."""
    return _ONE_OF[connection.vendor].format(column=column, name=name)


def none_of(column: str, name: str) -> str:
    """The clause "`column` is none of the ids of the named parameter `name`" (pass it `id_list(ids)`)."""
    return _NONE_OF[connection.vendor].format(column=column, name=name)


def id_list(ids) -> list[int] | str:
    """The parameter of a `one_of` or `none_of` clause."""
    return list(ids) if connection.vendor == "postgresql" else json.dumps(list(ids))


def ids_in(ids) -> RawSQL:
    """The ids as a subquery for the ORM's `__in` lookup: `Account.objects.filter(pk__in=bulk.ids_in(ids))`."""
    return RawSQL(_IDS[connection.vendor], [id_list(ids)])


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


# The statements of `insert` and `update` are written once per table, columns and number of rows.


@lru_cache(maxsize=64)
def _insert_statement(model, columns: tuple[str, ...], rows: int, returning: bool) -> str:
    names = ", ".join(model._meta.get_field(c).column for c in columns)
    values = ", ".join(["(" + ", ".join(["%s"] * len(columns)) + ")"] * rows)
    return f"INSERT INTO {model._meta.db_table} ({names}) VALUES {values}" + (" RETURNING id" if returning else "")


@lru_cache(maxsize=64)
def _update_statement(model, columns: tuple[str, ...]) -> str:
    assignments = ", ".join(f"{model._meta.get_field(c).column} = %s" for c in columns)
    return f"UPDATE {model._meta.db_table} SET {assignments} WHERE id = %s"


def insert(model, columns: list[str], rows: list[tuple], *, returning: bool = False) -> list[int]:
    """Insert the rows; with `returning`, their new ids in the rows' order (else an empty list).

    Both databases number the rows of one INSERT ... VALUES in the order of the rows; the ids that
    RETURNING gives are sorted rather than trusted to come back in that order (SQLite does not
    promise it).
    """
    if not rows:
        return []
    prepared = _prepared(model, columns, rows)
    with connection.cursor() as cursor:
        if not returning:
            cursor.executemany(_insert_statement(model, tuple(columns), 1, False), prepared)
            return []
        ids = []
        for start in range(0, len(prepared), ROWS_PER_INSERT):
            part = prepared[start : start + ROWS_PER_INSERT]
            statement = _insert_statement(model, tuple(columns), len(part), True)
            cursor.execute(statement, [value for row in part for value in row])
            ids += sorted(pk for (pk,) in cursor.fetchall())
    return ids


def update(model, columns: list[str], rows: list[tuple]) -> None:
    """Each row holds the new values of `columns`, then the primary key."""
    if rows:
        with connection.cursor() as cursor:
            cursor.executemany(_update_statement(model, tuple(columns)), _prepared(model, [*columns, "id"], rows))
