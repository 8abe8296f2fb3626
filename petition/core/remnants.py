"""What the database keeps of deleted rows: SQLite's write-ahead log, PostgreSQL's dead rows.

A cleared address or mail body must be gone from the files, not only from the live rows.
SQLite overwrites freed space (secure_delete, set on every connection in extensions.py),
but the old page images stay in the -wal file until it is checkpointed and truncated.
PostgreSQL keeps deleted and replaced rows as dead tuples, which a plain VACUUM makes
reusable without overwriting, and in its WAL. rewrite() copies the private tables' live
rows into new files (VACUUM FULL: the old files are emptied), then ends the WAL segment and
checkpoints, so the segments that held the old rows are removed — not recycled with their
bytes, provided the server runs with wal_recycle = off (checked, warned about).
"""
from __future__ import annotations

import logging

from sqlalchemy.exc import DBAPIError

from petition.extensions import BUSY_TIMEOUT_MS, db

log = logging.getLogger(__name__)

# The tables whose rows hold (or held) addresses, encrypted names and mail bodies.
PRIVATE_TABLES = ("signature", "signature_version", "outbox_mail", "drive_letter",
                  "drive_reply", "news_subscriber", "abuse_event")
# And those holding other secrets under EMAIL_KEY (TOTP seeds, the wrapped hash key): a key
# rotation leaves their old tokens behind too.
SECRET_TABLES = PRIVATE_TABLES + ("account", "key_material")
# A rewrite takes each table's exclusive lock; one that cannot be had this soon (a long
# export reading) is left for the next run rather than queueing every request behind it.
REWRITE_LOCK_TIMEOUT = "3s"
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


def rewrite(tables: tuple[str, ...] = SECRET_TABLES) -> bool:
    """Leave nothing of deleted or replaced rows in the database's files; False if it could
    not (logged, never raised: a missing privilege must not stop retention or a rotation).

    PostgreSQL: VACUUM FULL each table (new files holding the live rows only; indexes
    rebuilt), then pg_switch_wal() and CHECKPOINT, after which the WAL segments holding the
    old rows are removed. The role needs to own the tables, and pg_checkpoint (or superuser)
    and EXECUTE on pg_switch_wal(): docs/deployment/README.md. SQLite: a checkpoint.
    """
    if db.engine.dialect.name != "postgresql":
        return checkpoint_wal()
    try:
        with db.engine.connect() as connection:
            connection = connection.execution_options(isolation_level="AUTOCOMMIT")
            connection.exec_driver_sql(f"SET lock_timeout = '{REWRITE_LOCK_TIMEOUT}'")
            for table in tables:
                connection.exec_driver_sql(f"VACUUM FULL {table}")
            connection.exec_driver_sql("RESET lock_timeout")
            connection.exec_driver_sql("SELECT pg_switch_wal()")
            connection.exec_driver_sql("CHECKPOINT")
            recycled = connection.exec_driver_sql("SHOW wal_recycle").scalar() == "on"
    except DBAPIError as error:
        log.warning("rewriting %s failed, old rows stay in the files until the next run: %s",
                    ", ".join(tables), error.orig)
        return False
    if recycled:
        log.warning("wal_recycle is on: WAL segments holding deleted rows are renamed for reuse "
                    "with their bytes, not removed; set wal_recycle = off")
    return True
