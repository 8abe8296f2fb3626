"""Rate limits in Redis: shared while Redis answers, kept per process when it does not.

A Redis outage must not stop people signing: limits fall back to memory with a warning.
"""
import logging
import socket
import time
from contextlib import contextmanager

import pytest
from sqlalchemy import func, select

from petition import create_app
from petition.extensions import db
from petition.models import Signature
from tests.conftest import base_config, skip_or_fail
from tests.factories import make_letter
from tests.helpers import sign_form

pytestmark = pytest.mark.sqlite_only

REDIS_TEST_DB = "redis://127.0.0.1:6379/15"
FALLBACK_WARNING = "Rate limit storage unreachable - falling back to in-memory storage"


@contextmanager
def limited_app(database_url, tmp_path, storage: str, limit: str = "3 per minute"):
    config = base_config(database_url, tmp_path)
    config.update(RATELIMIT_ENABLED=True, RATELIMIT_SIGN=limit, RATELIMIT_STORAGE_URI=storage)
    app = create_app(config)
    with app.app_context():
        yield app
        db.session.remove()
        db.engine.dispose()


def post_signs(app, count: int, start: int = 0) -> list[int]:
    client = app.test_client()
    return [client.post("/letters/appeal/sign",
                        data=sign_form(email=f"r{i}@example.org")).status_code
            for i in range(start, start + count)]


def signatures() -> int:
    db.session.expire_all()
    return db.session.scalar(select(func.count()).select_from(Signature))


def fallback_warnings(caplog) -> list[logging.LogRecord]:
    return [record for record in caplog.records
            if record.levelno == logging.WARNING and FALLBACK_WARNING in record.getMessage()]


@pytest.fixture
def redis_db_15():
    import redis

    try:
        redis.Redis.from_url(REDIS_TEST_DB).flushdb()
    except redis.ConnectionError as error:
        skip_or_fail(f"Redis unreachable: {error}")
    yield REDIS_TEST_DB
    redis.Redis.from_url(REDIS_TEST_DB).flushdb()


def test_limits_are_shared_between_processes_through_redis(database_url, tmp_path, redis_db_15,
                                                           caplog):
    """Two app instances (two worker processes) count one client's attempts together."""
    with limited_app(database_url, tmp_path, redis_db_15) as first:
        make_letter()
        assert post_signs(first, 2) == [303, 303]
    with limited_app(database_url, tmp_path, redis_db_15) as second:
        assert post_signs(second, 2, start=2) == [303, 429]
        assert signatures() == 3
    assert not fallback_warnings(caplog)


def test_signing_goes_on_when_redis_refuses_connections(database_url, tmp_path, caplog):
    with limited_app(database_url, tmp_path, "redis://127.0.0.1:1/0") as app:
        make_letter()
        # Limits still hold, per process, in memory.
        assert post_signs(app, 5) == [303, 303, 303, 429, 429]
        assert signatures() == 3
    assert len(fallback_warnings(caplog)) == 1


@pytest.fixture
def silent_server():
    """A TCP port that accepts connections and never answers: a hung Redis."""
    with socket.socket() as listener:
        listener.bind(("127.0.0.1", 0))
        listener.listen(16)  # the kernel completes the handshakes; nobody ever reads
        yield listener.getsockname()[1]


def test_signing_goes_on_when_redis_hangs(database_url, tmp_path, caplog, silent_server):
    with limited_app(database_url, tmp_path, f"redis://127.0.0.1:{silent_server}/0") as app:
        make_letter()
        started = time.monotonic()
        assert post_signs(app, 1) == [303]
        assert time.monotonic() - started < 5, "a hung Redis must not hold the request"
    assert len(fallback_warnings(caplog)) == 1
