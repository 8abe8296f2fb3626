"""`GET /healthz` for the reverse proxy and the orchestrator: can this process serve?

The database must answer: without it no page works. Redis only carries rate limits, which
fall back to each process's memory when it is gone (extensions.init_limiter), so a Redis
outage is reported but keeps the answer 200: a proxy must not take every worker out of
service because limits are degraded.
"""
from __future__ import annotations

from urllib.parse import urlsplit

from flask import Blueprint, Flask, current_app, jsonify
from sqlalchemy import text
from sqlalchemy.exc import SQLAlchemyError

from petition.core.log_scrubbing import first_line
from petition.extensions import REDIS_SCHEMES, csrf, db, limiter

bp = Blueprint("health", __name__)

OK, DOWN, NOT_CONFIGURED = "ok", "down", "not configured"
_REDIS_CLIENT = "petition_health_redis"


@bp.get("/healthz")
def healthz():
    database = _database_status()
    figures = {"status": OK if database == OK else DOWN, "database": database,
               "redis": _redis_status()}
    response = jsonify(figures)
    response.status_code = 200 if database == OK else 503
    # An answer from a minute ago says nothing about now.
    response.headers["Cache-Control"] = "no-store"
    return response


def _database_status() -> str:
    """SELECT 1 on a pooled connection of its own, never the request's ORM session."""
    timeout = float(current_app.config["HEALTH_DATABASE_TIMEOUT"])
    try:
        with db.engine.connect() as connection:
            if connection.dialect.name == "postgresql":
                # A server that accepts connections but hangs must not hold the probe.
                connection.execute(text(f"SET LOCAL statement_timeout = {int(timeout * 1000)}"))
            connection.execute(text("SELECT 1"))
            connection.rollback()
    except SQLAlchemyError as error:
        current_app.logger.warning("health: the database does not answer: %s",
                                   first_line(error))
        return DOWN
    return OK


def _redis_status() -> str:
    uri = current_app.config.get("RATELIMIT_STORAGE_URI") or ""
    if urlsplit(uri).scheme not in REDIS_SCHEMES:
        return NOT_CONFIGURED
    import redis

    try:
        _redis_client(uri).ping()
    except (redis.RedisError, OSError) as error:
        current_app.logger.warning("health: Redis does not answer (rate limits count in "
                                   "each process's memory meanwhile): %s", first_line(error))
        return DOWN
    return OK


def _redis_client(uri: str):
    """One client per app, so probes reuse a connection; waits as long as the limiter."""
    import redis

    client = current_app.extensions.get(_REDIS_CLIENT)
    if client is None:
        timeout = float(current_app.config["RATELIMIT_REDIS_TIMEOUT"])
        # limits spells a Unix socket redis+unix://; redis-py wants unix://.
        url = "unix" + uri[len("redis+unix"):] if uri.startswith("redis+unix") else uri
        client = redis.Redis.from_url(url, socket_connect_timeout=timeout,
                                      socket_timeout=timeout)
        current_app.extensions[_REDIS_CLIENT] = client
    return client


def init_app(app: Flask) -> None:
    """Serve /healthz outside rate limits and CSRF: probes come often, send no form."""
    csrf.exempt(bp)
    limiter.exempt(bp)
    app.register_blueprint(bp)
