"""Fewer round trips to PostgreSQL: the pool's ping is the transaction's BEGIN, and the
last writes of a request go with their COMMIT.

Every request that touches the database paid two round trips before its first statement:
the pool's ping (SQLAlchemy's `pool_pre_ping`: `SELECT 1` in autocommit) and psycopg's
BEGIN. `begin_on_checkout()` makes them one: the BEGIN is the ping.

A confirmation ends with writes whose answers nothing waits for (the letter's list version,
its count) and the commit. Sent one by one, each waits for the server; psycopg's pipeline
mode sends them all with the COMMIT and reads every answer once. SQLite has no round trips:
there the block runs as it reads, then the session commits.
"""
from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from sqlalchemy import event
from sqlalchemy.engine import Engine
from sqlalchemy.exc import DBAPIError, DisconnectionError, InvalidatePoolError

from .extensions import db


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
    def begin(dbapi_connection, connection_record, connection_proxy) -> None:
        driver = dbapi_connection
        plain = (not driver.autocommit and driver.info.transaction_status == _IDLE
                 and (driver.isolation_level, driver.read_only, driver.deferrable)
                 == (None, None, None))
        try:
            if not plain:  # nothing to begin, or a BEGIN with options: psycopg's to send
                engine.dialect.do_ping(driver)
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
    def end_the_empty_transaction(connection, options) -> None:
        """A connection about to change its isolation level (VACUUM runs in autocommit) must
        not be in a transaction: the one the checkout began has run nothing yet."""
        if "isolation_level" in options and not connection.in_transaction():
            driver = connection.connection.driver_connection
            if driver.info.transaction_status == _INTRANS:
                driver.rollback()


try:
    from psycopg.pq import TransactionStatus

    _IDLE, _INTRANS = TransactionStatus.IDLE, TransactionStatus.INTRANS
except ImportError:  # psycopg is only needed with PostgreSQL
    _IDLE = _INTRANS = None


@contextmanager
def committed_together(*, keep_loaded_rows: bool = False) -> Iterator[None]:
    """Run the block's writes, then commit the session; on PostgreSQL, one round trip.

    Only for statements whose outcome is not looked at in the block: on PostgreSQL a
    statement's rowcount is -1 and RETURNING rows are not seen there (psycopg has no answer
    yet when SQLAlchemy asks). An error is raised as SQLAlchemy raises it (a lost server is
    an OperationalError, as anywhere else), and nothing is committed.
    `keep_loaded_rows`: the commit does not expire what the session holds (a page is
    rendered from it after).
    """
    session = db.session()
    driver = session.connection().connection.driver_connection
    pipeline = getattr(driver, "pipeline", None)  # psycopg 3; sqlite3 has none
    if pipeline is None:
        yield
    else:
        import psycopg  # only with PostgreSQL

        try:
            with pipeline():
                yield
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

