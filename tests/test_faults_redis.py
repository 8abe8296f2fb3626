"""Fault: the Redis behind the rate limits dies while the site serves, then comes back.

test_rate_limit_storage.py starts with a Redis that refuses or hangs; here a private
redis-server answers first, is killed mid-run and restarted on the same port: signing goes
on throughout, limits count in memory meanwhile, then in Redis again.
"""
from __future__ import annotations

import logging
import shutil
import signal
import subprocess
import time
from collections.abc import Iterator
from contextlib import contextmanager

import pytest

from tests.conftest import skip_or_fail
from tests.factories import make_letter
from tests.helpers import sign_form
from tests.smtp_server import free_port
from tests.test_rate_limit_storage import fallback_warnings, limited_app, signatures

pytestmark = [pytest.mark.sqlite_only, pytest.mark.slow]

LIMIT = "3 per minute"
SLOW = 2.0  # seconds: RATELIMIT_REDIS_TIMEOUT is 1


@contextmanager
def redis_server(port: int) -> Iterator[subprocess.Popen]:
    """A private, empty redis-server on 127.0.0.1:`port` that keeps nothing on disk."""
    executable = shutil.which("redis-server")
    if not executable:
        skip_or_fail("redis-server not found (apt-get install redis-server)")
    process = subprocess.Popen(
        [executable, "--port", str(port), "--bind", "127.0.0.1", "--save", "",
         "--appendonly", "no", "--daemonize", "no", "--loglevel", "warning"],
        stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )
    try:
        import redis

        client = redis.Redis(host="127.0.0.1", port=port, socket_timeout=1)
        deadline = time.monotonic() + 10
        while True:
            try:
                client.ping()
                break
            except (redis.ConnectionError, redis.TimeoutError):  # redis-py's OSErrors
                if time.monotonic() > deadline or process.poll() is not None:
                    pytest.fail(f"redis-server did not start on port {port}")
                time.sleep(0.05)
        client.close()
        yield process
    finally:
        if process.poll() is None:
            process.kill()
        process.wait(10)


def redis_count(port: int, client_address: str) -> int:
    """What Redis counts for this client's signing (0 when it holds nothing for it)."""
    import redis

    client = redis.Redis(host="127.0.0.1", port=port)
    try:
        keys = [key for key in client.keys("*") if client_address.encode() in key]
        return sum(int(client.get(key) or 0) for key in keys)
    finally:
        client.close()


def sign_from(app, client_address: str, count: int, tag: str) -> list[tuple[int, float]]:
    """POST the sign form `count` times from one client address: (status, seconds) each."""
    client = app.test_client()
    results = []
    for number in range(count):
        started = time.monotonic()
        response = client.post("/letters/appeal/sign",
                               data=sign_form(email=f"{tag}{number}@example.org"),
                               environ_base={"REMOTE_ADDR": client_address})
        results.append((response.status_code, time.monotonic() - started))
    return results


def statuses(results: list[tuple[int, float]]) -> list[int]:
    assert max(seconds for _, seconds in results) < SLOW, results
    return [status for status, _ in results]


def test_signing_goes_on_while_redis_is_gone_and_limits_return_to_it(database_url, tmp_path,
                                                                      caplog):
    caplog.set_level(logging.INFO, logger="flask-limiter")
    port = free_port()
    with limited_app(database_url, tmp_path, f"redis://127.0.0.1:{port}/0", LIMIT) as app:
        make_letter()
        with redis_server(port) as redis_process:
            assert statuses(sign_from(app, "127.0.0.2", 2, "a")) == [303, 303]
            assert redis_count(port, "127.0.0.2") == 2  # counted in Redis
            redis_process.send_signal(signal.SIGKILL)
            redis_process.wait(10)

        # Redis is gone: nobody is refused for it, every request answers fast, and the
        # same limits hold in this process's memory.
        assert statuses(sign_from(app, "127.0.0.3", 4, "b")) == [303, 303, 303, 429]
        assert statuses(sign_from(app, "127.0.0.2", 1, "c")) == [303]  # memory starts anew
        assert len(fallback_warnings(caplog)) == 1
        assert signatures() == 6

        with redis_server(port):  # back, empty, on the same port
            # Flask-Limiter looks at Redis again after a back-off of 1, 2, 4… seconds, on
            # any request; pages keep being read meanwhile.
            client = app.test_client()
            deadline = time.monotonic() + 40
            while "Rate limit storage recovered" not in caplog.text:
                assert time.monotonic() < deadline, "limits never went back to Redis"
                assert client.get("/letters/appeal", follow_redirects=True).status_code == 200
                time.sleep(0.25)
            assert statuses(sign_from(app, "127.0.0.4", 4, "d")) == [303, 303, 303, 429]
            # Counted in Redis again (the refused attempt too: a fixed window counts hits).
            assert redis_count(port, "127.0.0.4") == 4
        assert signatures() == 9
    assert not [record for record in caplog.records if record.levelno >= logging.ERROR]
