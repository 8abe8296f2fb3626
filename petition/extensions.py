"""Flask extensions, created unbound here and bound in create_app()."""
from __future__ import annotations

import sqlite3
from collections.abc import Callable
from typing import TYPE_CHECKING
from urllib.parse import urlsplit

from flask import Flask
from flask_babel import Babel
from flask_limiter import Limiter, RateLimitExceeded
from flask_limiter.util import get_remote_address
from flask_sqlalchemy import SQLAlchemy
from flask_wtf import CSRFProtect
from sqlalchemy import MetaData, event
from sqlalchemy.engine import Engine, make_url
from sqlalchemy.orm import DeclarativeBase

from petition.collation import search_fold

# Named constraints so Alembic migrations can alter them on SQLite and PostgreSQL alike.
NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)


db = SQLAlchemy(model_class=Base)

# db.Model is made from Base at run time, where a type checker cannot see it. Models subclass
# Model, which mypy reads as Base: the same mapped, typed columns.
if TYPE_CHECKING:
    Model = Base
else:
    Model = db.Model
csrf = CSRFProtect()
babel = Babel()
limiter = Limiter(key_func=get_remote_address)

# Milliseconds a SQLite connection waits for a writer before "database is locked".
BUSY_TIMEOUT_MS = 10000

REDIS_SCHEMES = {"redis", "rediss", "redis+unix"}


def init_db(app: Flask) -> bool:
    """Bind the database; a PostgreSQL that stops answering fails a request in seconds.

    True when the pool's ping is to be the transaction's BEGIN (psycopg with pool_pre_ping):
    the factory then installs core.pipelining.begin_on_checkout().
    """
    options = dict(app.config.get("SQLALCHEMY_ENGINE_OPTIONS") or {})
    # A failed statement's message carries its values into the error log: a signer's name,
    # a mail body with its links. Whatever options a deployment configures, leave them out.
    options["hide_parameters"] = True
    url = make_url(app.config["SQLALCHEMY_DATABASE_URI"])
    if url.get_backend_name() == "postgresql" and "connect_timeout" not in url.query:
        # libpq waits for ever by default: a server that accepts connections but never
        # answers (frozen, overloaded, a half-open network) would hold every request.
        connect_args = dict(options.get("connect_args") or {})
        connect_args.setdefault("connect_timeout", app.config["DATABASE_CONNECT_TIMEOUT"])
        options["connect_args"] = connect_args
    # With psycopg the pool's ping is the transaction's BEGIN: one round trip, not two.
    begin_as_ping = url.get_driver_name() == "psycopg" and options.pop("pool_pre_ping", False)
    app.config["SQLALCHEMY_ENGINE_OPTIONS"] = options
    db.init_app(app)
    return bool(begin_as_ping)


def limit_allows(limit: Callable[[], str], key_func: Callable[[], str], scope: str) -> bool:
    """Count one hit against `limit` for the key `key_func` gives; False once past it.

    Flask-Limiter's own check (Redis, or memory while Redis is away), for a view that counts
    only some requests (failed logins, address lookups) instead of every one, as its
    decorator would.
    """
    try:
        with limiter.limit(limit, key_func=key_func, scope=scope):
            pass
    except RateLimitExceeded:
        return False
    return True


def init_limiter(app: Flask) -> None:
    """Bind the limiter; a Redis that stops answering delays a request by seconds, not minutes."""
    if urlsplit(app.config.get("RATELIMIT_STORAGE_URI", "")).scheme in REDIS_SCHEMES:
        timeout = app.config["RATELIMIT_REDIS_TIMEOUT"]
        options = {"socket_connect_timeout": timeout, "socket_timeout": timeout}
        options.update(app.config.get("RATELIMIT_STORAGE_OPTIONS") or {})
        app.config["RATELIMIT_STORAGE_OPTIONS"] = options
    limiter.init_app(app)
    # One limiter object serves every app of the process (tests create many): a new app's
    # storage has not failed yet, whatever an earlier app's did. Flask-Limiter keeps this
    # flag on the object, not per app, and has no public way to clear it.
    limiter._storage_dead = False


# The name under which SQLite connections know collation.search_fold.
SEARCH_FOLD = "petition_fold"


@event.listens_for(Engine, "connect")
def _sqlite_pragmas(dbapi_connection, connection_record) -> None:
    """Make SQLite honour foreign keys, let the mail thread write while pages read, and
    overwrite what is deleted."""
    if not isinstance(dbapi_connection, sqlite3.Connection):
        return
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA foreign_keys=ON")
    # Deleted must mean gone from the file: without it a cleared address or mail body stays
    # readable in free pages until they happen to be reused. Per connection, so set here.
    cursor.execute("PRAGMA secure_delete=ON")
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute(f"PRAGMA busy_timeout={BUSY_TIMEOUT_MS}")
    cursor.close()
    # SQLite's lower() folds ASCII only: the back office's name search folds with Python.
    dbapi_connection.create_function(SEARCH_FOLD, 1, search_fold, deterministic=True)
