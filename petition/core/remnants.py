"""What the database keeps of deleted rows: SQLite's write-ahead log, PostgreSQL's dead rows.

A cleared address or mail body must be gone from the files, not only from the live rows.
SQLite overwrites freed space (secure_delete, set on every connection in extensions.py),
but the old page images stay in the -wal file until it is checkpointed and truncated.
PostgreSQL keeps deleted rows as dead tuples until VACUUM makes their space reusable.
"""
from __future__ import annotations

import logging

from sqlalchemy.exc import DBAPIError

from petition.extensions import BUSY_TIMEOUT_MS, db

log = logging.getLogger(__name__)

# The tables whose rows hold (or held) addresses, encrypted names and mail bodies.
PRIVATE_TABLES = ("signature", "signature_version", "outbox_mail")
# How long a checkpoint waits for readers before giving up until the next try: the mail
# loop must not stall behind a long export.
CHECKPOINT_WAIT_MS = 2000


def checkpoint_wal() -> bool:
    """Copy SQLite's write-ahead log into the database and empty it.

    False when readers kept it from completing (or it failed): the caller tries again
    later; never an error. True on other databases, which have nothing to do here.
    """
    if db.engine.dialect.name != "sqlite":
        return True
    try:
        with db.engine.connect() as connection:
            connection.exec_driver_sql(f"PRAGMA busy_timeout={CHECKPOINT_WAIT_MS}")
            try:
                busy, _, _ = connection.exec_driver_sql("PRAGMA wal_checkpoint(TRUNCATE)").one()
            finally:  # a pooled connection: give it back as every other is
                connection.exec_driver_sql(f"PRAGMA busy_timeout={BUSY_TIMEOUT_MS}")
    except DBAPIError as error:
        log.info("WAL checkpoint failed, trying again later: %s", error.orig)
        return False
    if busy:
        log.info("WAL checkpoint held back by readers, trying again later")
        return False
    return True


def vacuum() -> bool:
    """Let the engine drop what deleted and cleared rows left behind; False if it could not.

    PostgreSQL: VACUUM the private tables (outside a transaction, as VACUUM must run), so
    dead row versions holding erased fingerprints or delivered mail are pruned. SQLite: a
    checkpoint. Logged, never raised: a missing privilege must not stop retention.
    """
    if db.engine.dialect.name != "postgresql":
        return checkpoint_wal()
    try:
        with db.engine.connect() as connection:
            connection = connection.execution_options(isolation_level="AUTOCOMMIT")
            for table in PRIVATE_TABLES:
                connection.exec_driver_sql(f"VACUUM {table}")
    except DBAPIError as error:
        log.warning("VACUUM of %s failed: %s", ", ".join(PRIVATE_TABLES), error.orig)
        return False
    return True
