"""Writes and their commit sent to PostgreSQL together: one round trip for several writes.

A confirmation ends with writes whose answers nothing waits for (the letter's list version,
its count) and the commit. Sent one by one, each waits for the server; psycopg's pipeline
mode sends them all with the COMMIT and reads every answer once. SQLite has no round trips:
there the block runs as it reads, then the session commits.
"""
from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from sqlalchemy.exc import DBAPIError

from .extensions import db


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

