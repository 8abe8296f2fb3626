"""Statements the hot paths write out once, where SQLAlchemy would build them on every call.

SQLAlchemy caches the compiled form of most statements, but not of its ON CONFLICT
constructs: those were compiled anew on every signature and every confirmation, and cost
more than running them. The text here is valid SQLite (3.35 or later) and PostgreSQL alike.
"""
from __future__ import annotations

import re
from functools import cache

from sqlalchemy import Table, bindparam, text
from sqlalchemy.sql.elements import TextClause
from sqlalchemy.sql.selectable import TextualSelect

_PLAIN_NAME = re.compile(r"[a-z_][a-z0-9_]*")


def insert_unless_taken(table: Table, unique: tuple[str, ...]) -> TextualSelect:
    """INSERT of every column but the id, doing nothing when the row would break the unique
    key `unique`, and RETURNING the new id (no row: the key was taken). Run with full_row()."""
    columns = _columns(table)
    sql = (f"INSERT INTO {table.name} ({', '.join(column.name for column in columns)})"
           f" VALUES ({', '.join(':' + column.key for column in columns)})"
           f" ON CONFLICT ({', '.join(unique)}) DO NOTHING RETURNING id")
    return _typed(text(sql), columns).columns(table.c.id)


def full_row(table: Table, values: dict[str, object]) -> dict[str, object]:
    """`values` with every other column's Python default (None where it has none): what the
    ORM or a Core insert would have filled in."""
    row = dict(values)
    for column in _columns(table):
        if column.key not in row:
            default = column.default
            if default is None:
                row[column.key] = None
            elif default.is_callable:
                row[column.key] = default.arg(None)
            else:
                row[column.key] = default.arg
    return row


@cache  # per table: full_row() runs on every signature
def _columns(table: Table) -> tuple:
    columns = tuple(column for column in table.columns if not column.primary_key)
    for column in columns:
        # A plain name needs no quoting; a column with only a server default would be sent
        # NULL by full_row(): neither is written out here.
        assert _PLAIN_NAME.fullmatch(column.name), column.name
        assert column.server_default is None or column.default is not None, column.name
    return columns


def _typed(statement: TextClause, columns: tuple) -> TextClause:
    """Each value converted by its column's type, as SQLAlchemy's own statements do."""
    return statement.bindparams(*(bindparam(column.key, type_=column.type) for column in columns))
