"""Statements the hot paths write out once, where SQLAlchemy would build them on every call.

SQLAlchemy caches the compiled form of most statements, but not of its ON CONFLICT
constructs: those were compiled anew on every signature and every confirmation, and cost
more than running them. The text here is valid SQLite (3.35 or later) and PostgreSQL alike.
Also a confirmation's writes (signing.confirm), built once.
"""
from __future__ import annotations

import re
from functools import cache
from typing import cast

from sqlalchemy import Table, bindparam, case, select, text
from sqlalchemy.sql import Executable
from sqlalchemy.sql.elements import TextClause
from sqlalchemy.sql.selectable import TextualSelect

from petition.core.pipelining import written_here
from petition.models import MOD_FLAGGED, MOD_INVALID, PENDING, Signature, SignatureVersion
from petition.signatures.mail_cap import DROP_WAITING

_PLAIN_NAME = re.compile(r"[a-z_][a-z0-9_]*")
KEPT_OFF = (MOD_FLAGGED, MOD_INVALID)  # moderation a confirmation does not change


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


# --- A confirmation's writes ----------------------------------------------------------------

def _confirm_statement(mailed_again: bool) -> Executable:
    """The confirmation's UPDATE (Core; the in-memory row is set by hand after): it sets the
    columns it is given (signing._confirm(): the confirmed values and updated_at, which its
    onupdate default would set) and only matches a row still pending, not reopened since
    the link was read (its nonce), and, if it was mailed once, still mailed once."""
    table = cast(Table, Signature.__table__)
    statement = table.update().where(table.c.id == bindparam("_id"),
                                     table.c.status == PENDING,
                                     table.c.token_nonce == bindparam("_nonce"))
    # Flagged (a soft limit) or invalidated in bulk: confirming keeps it so, whatever the
    # link's read saw (a job may have run since); anything else takes `_moderation`.
    statement = statement.values(moderation=case(
        # Constants written out: an IN of bound values is expanded when executed, which
        # the pipelined statement (compiled once) is not.
        (text(f"signature.moderation IN ({', '.join(repr(state) for state in KEPT_OFF)})"),
         table.c.moderation),
        else_=bindparam("_moderation", type_=table.c.moderation.type)))
    if not mailed_again:
        statement = statement.where(table.c.last_mailed_at == table.c.created_at)
    return statement.returning(table.c.id)


CONFIRM = {mailed_again: _confirm_statement(mailed_again) for mailed_again in (False, True)}
_VERSIONS = cast(Table, SignatureVersion.__table__)
DELETE_VERSIONS = (_VERSIONS.delete()
                   .where(_VERSIONS.c.signature_id == bindparam("signature_id")))


@cache
def deletes_if_confirmed_here(dialect: str) -> tuple[Executable, Executable]:
    """The versions and the waiting mail of a signature mailed again, each deleted only if
    this transaction has confirmed it (they are sent before the UPDATE's answer)."""
    table = Signature.__table__
    confirmed_here = select(table.c.id).where(table.c.id == bindparam("signature_id"),
                                              text(written_here(dialect))).exists()
    return DELETE_VERSIONS.where(confirmed_here), DROP_WAITING.where(confirmed_here)
