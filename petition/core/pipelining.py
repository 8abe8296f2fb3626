"""Fewer round trips to PostgreSQL: the pool's ping is the transaction's BEGIN, and the
last writes of a request go with their COMMIT.

Every request that touches the database paid two round trips before its first statement:
the pool's ping (SQLAlchemy's `pool_pre_ping`: `SELECT 1` in autocommit) and psycopg's
BEGIN. `begin_on_checkout()` makes them one: the BEGIN is the ping.

A request's writes and its commit, sent one by one, each wait for the server; psycopg's
pipeline mode (`committed_together()`) sends them all with the COMMIT and reads every answer
once, the write the others depend on included (`Together.returning()`: they check in SQL
that it happened, `written_here()`). SQLite has no round trips: there the block runs as it
reads, then the session commits.
"""
from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from functools import cache
from typing import TYPE_CHECKING, Any, cast

from sqlalchemy import event
from sqlalchemy.engine import Compiled, Connection, Dialect, Engine
from sqlalchemy.engine.interfaces import DBAPIConnection, DBAPICursor, ExecutionContext
from sqlalchemy.exc import DBAPIError, DisconnectionError, InvalidatePoolError
from sqlalchemy.pool import ConnectionPoolEntry, PoolProxiedConnection
from sqlalchemy.sql import ClauseElement, Executable

from petition.extensions import db

if TYPE_CHECKING:
    import psycopg
    from psycopg.rows import RowFactory


def begin_on_checkout(engine: Engine) -> None:
    """On each checkout from `engine`'s pool, send psycopg's BEGIN at once, as the ping.

    For an engine made without `pool_pre_ping`: this does its work. A connection that does
    not answer is dropped and another taken, as the pre-ping does (SQLAlchemy's documented
    way: a checkout listener raising DisconnectionError; when the connection is broken, the
    whole pool goes, as after a server restart). psycopg sends no BEGIN of its own when the
    server says a transaction is open, so the first statement goes alone, and the
    transaction ends as always (commit, or the pool's rollback on return).
    """
    from psycopg import Error
    from psycopg.pq import ExecStatus

    @event.listens_for(engine, "checkout")
    def begin(dbapi_connection: DBAPIConnection, connection_record: ConnectionPoolEntry,
              connection_proxy: PoolProxiedConnection) -> None:
        driver = cast("psycopg.Connection[Any]", dbapi_connection)  # the engine is psycopg's
        plain = (not driver.autocommit and driver.info.transaction_status == _IDLE
                 and (driver.isolation_level, driver.read_only, driver.deferrable)
                 == (None, None, None))
        try:
            if not plain:  # nothing to begin, or a BEGIN with options: psycopg's to send
                engine.dialect.do_ping(dbapi_connection)
                return
            # libpq's own call (psycopg's documented `pgconn`): psycopg's execute() would
            # send a BEGIN of its own before this one.
            result = driver.pgconn.exec_(b"BEGIN")
            if result.status != ExecStatus.COMMAND_OK:
                raise DisconnectionError(result.error_message.decode(errors="replace"))
        except (Error, DisconnectionError) as error:
            if driver.closed or driver.broken:  # the server went: so did its other connections
                raise InvalidatePoolError(str(error)) from error
            raise DisconnectionError(str(error)) from error

    @event.listens_for(engine, "set_connection_execution_options")
    def end_the_empty_transaction(connection: Connection, options: dict[str, Any]) -> None:
        """A connection about to change its isolation level (VACUUM runs in autocommit) must
        not be in a transaction: the one the checkout began has run nothing yet."""
        if "isolation_level" in options and not connection.in_transaction():
            driver = connection.connection.driver_connection
            assert driver is not None  # a connection in use has its driver's connection
            if driver.info.transaction_status == _INTRANS:
                driver.rollback()


_IDLE: TransactionStatus | None
_INTRANS: TransactionStatus | None
namedtuple_row: RowFactory[Any] | None
try:
    from psycopg.pq import TransactionStatus
    from psycopg.rows import namedtuple_row

    _IDLE, _INTRANS = TransactionStatus.IDLE, TransactionStatus.INTRANS
except ImportError:  # psycopg is only needed with PostgreSQL
    _IDLE = _INTRANS = namedtuple_row = None


class Answer:
    """The row a statement sent with others returns (the first; None if it returned none).

    On SQLite it is known at once; on PostgreSQL once the block has been answered, after
    it. `may()` says whether what follows in the block still needs to be sent.
    """

    def __init__(self, *, row: Any = None, cursor: Any = None) -> None:
        self._row, self._cursor = row, cursor

    @property
    def known(self) -> bool:
        return self._cursor is None

    @property
    def row(self) -> Any:
        if self._cursor is not None:
            self._row, self._cursor = self._cursor.fetchone(), None
        return self._row

    def may(self) -> bool:
        """Whether the statement may have returned a row: always, while the answer is not
        known (statements sent after it then check in SQL instead)."""
        return not self.known or self._row is not None


class Together:
    """The block of committed_together(): statements sent with its COMMIT.

    On PostgreSQL they go through psycopg's own cursor, not SQLAlchemy's: SQLAlchemy reads
    a result as soon as a statement is sent, and in a pipeline there is none yet (its
    execution also cost more than the statement). So each is built once, with every value
    bound (no Python-side default is filled in here), and compiled once per dialect.
    """

    def __init__(self, driver: Any = None) -> None:
        # psycopg's connection in pipeline mode; None on SQLite, or outside a block (the
        # session runs each statement as it comes).
        self._driver = driver

    @property
    def dialect(self) -> str:
        return db.session.get_bind().dialect.name

    def execute(self, statement: Executable, params: dict[str, Any]) -> None:
        """Send a write whose answer nothing reads."""
        if self._driver is None:
            db.session.execute(statement, params)
        else:
            self._send(statement, params)

    def returning(self, statement: Executable, params: dict[str, Any]) -> Answer:
        """Send `statement` and keep its answer for after the block. What follows it in the
        block and depends on it must say so in SQL: on PostgreSQL it runs whatever the
        answer (see written_here())."""
        if self._driver is None:
            return Answer(row=db.session.execute(statement, params).first())
        return Answer(cursor=self._send(statement, params))

    def _send(self, statement: Executable, params: dict[str, Any]) -> Any:
        compiled = _compiled(statement, db.session.get_bind().dialect, tuple(params))
        for seen in _watchers:
            seen.append(" ".join(compiled.string.split()))
        cursor = self._driver.cursor(row_factory=namedtuple_row)
        cursor.execute(compiled.string, compiled.construct_params(params))
        return cursor


# The lists statements_sent() fills: SQLAlchemy's events do not see what Together sends.
_watchers: list[list[str]] = []


@contextmanager
def statements_sent(engine: Engine) -> Iterator[list[str]]:
    """Every SQL statement the block sends through `engine`, as sent (whitespace folded),
    Together's included: what tests and benchmarks count."""
    seen: list[str] = []

    def record(conn: Connection, cursor: DBAPICursor, statement: str, parameters: Any,
               context: ExecutionContext | None, executemany: bool) -> None:
        seen.append(" ".join(statement.split()))

    event.listen(engine, "before_cursor_execute", record)
    _watchers.append(seen)
    try:
        yield seen
    finally:
        event.remove(engine, "before_cursor_execute", record)
        _watchers.remove(seen)


def written_here(dialect: str) -> str:
    """SQL that holds for the signature row this transaction has written, for statements
    sent before the write's answer is known (Together.returning). On PostgreSQL the row's
    xmin is the transaction's own id (no savepoint here). On SQLite the answer is known
    before anything follows it, and the caller sends nothing unless the row was written."""
    return "signature.xmin = pg_current_xact_id()::xid" if dialect == "postgresql" else "1 = 1"


@cache
def _compiled(statement: Executable, dialect: Dialect, keys: tuple[str, ...]) -> Compiled:
    """An INSERT or UPDATE without values() sets the columns named in `keys`, as when
    SQLAlchemy runs it with those parameters."""
    # Every statement sent here is an INSERT, UPDATE or DELETE: a ClauseElement too.
    return cast(ClauseElement, statement).compile(dialect=dialect, column_keys=list(keys))


@contextmanager
def committed_together(*, keep_loaded_rows: bool = False) -> Iterator[Together]:
    """Run the block's writes, then commit the session; on PostgreSQL, one round trip.

    Only for statements whose outcome is not looked at in the block: on PostgreSQL a
    statement's rowcount is -1 and RETURNING rows are not seen there (psycopg has no answer
    yet when SQLAlchemy asks); Together.returning() keeps one for after the block. An
    error is raised as SQLAlchemy raises it (a lost server is an OperationalError, as
    anywhere else), and nothing is committed.
    `keep_loaded_rows`: the commit does not expire what the session holds (a page is
    rendered from it after).
    """
    session = db.session()
    driver = session.connection().connection.driver_connection
    pipeline = getattr(driver, "pipeline", None)  # psycopg 3; sqlite3 has none
    if pipeline is None:
        yield Together()
    else:
        import psycopg  # only with PostgreSQL

        assert driver is not None  # it has a pipeline()

        try:
            with pipeline():
                yield Together(driver)
                # Queued as a statement, not driver.commit(): that one waits for its answer,
                # then leaving the pipeline sends a Sync and waits again. This way the
                # writes and the COMMIT are answered together, at the one Sync that ends
                # the block, and the server says the transaction is over.
                driver.execute("COMMIT")
        except psycopg.Error as error:
            # Raised by psycopg itself, outside any SQLAlchemy call that would translate it.
            raise DBAPIError.instance(None, None, error, psycopg.Error) from error
    # SQLAlchemy's commit, after the pipeline (it gives the connection back to the pool,
    # where another request may take it). On PostgreSQL the transaction is already over:
    # psycopg sends nothing, and the session ends its own bookkeeping.
    session.expire_on_commit = not keep_loaded_rows
    try:
        session.commit()
    finally:
        session.expire_on_commit = True
