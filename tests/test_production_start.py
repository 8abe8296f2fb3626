"""Production refuses per-process rate limits when several workers serve: gunicorn and app."""
import json
import os
import shutil
import signal
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

from petition import ConfigurationError, create_app
from tests.conftest import EMAIL_KEY, base_config
from tests.test_logging import free_port
from tests.test_rate_limit_storage import redis_db_15  # noqa: F401 - a fixture

ROOT = Path(__file__).resolve().parent.parent
STRONG_KEY = "Qm9vdHN0cmFwLXRlc3Qta2V5LW5vdC1mb3ItcHJvZHVjdGlvbiE3Nzk0"
REFUSAL = "each worker would count rate limits on its own"

pytestmark = pytest.mark.sqlite_only


def gunicorn(tmp_path, sqlite_template, storage: str, *args: str, **env: str):
    database = tmp_path / "petition.sqlite"
    shutil.copy(sqlite_template, database)
    environ = {**os.environ, "PETITION_ENV": "production", "DATABASE_URL": f"sqlite:///{database}",
               "SECRET_KEY": STRONG_KEY, "EMAIL_KEY": EMAIL_KEY, "RATELIMIT_STORAGE_URI": storage,
               "MAIL_DISPATCH_IN_PROCESS": "false", "ORGANISER_NAME": "Test campaign", **env}
    for name in ("FLASK_ENV", "GUNICORN_WORKERS", "WEB_CONCURRENCY", "FLASK_DEBUG"):
        if name not in env:
            environ.pop(name, None)
    port = free_port()
    process = subprocess.Popen(
        [sys.executable, "-m", "gunicorn", "-c", "docs/deployment/gunicorn.conf.py",
         "--bind", f"127.0.0.1:{port}", *args, "wsgi:app"],
        cwd=ROOT, env=environ, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    return process, f"http://127.0.0.1:{port}"


def test_gunicorn_refuses_memory_storage_with_two_workers(tmp_path, sqlite_template):
    process, _ = gunicorn(tmp_path, sqlite_template, "memory://", "--workers", "2")
    try:
        _, err = process.communicate(timeout=60)
    finally:
        if process.poll() is None:
            process.kill()
            process.communicate()
    assert process.returncode != 0
    assert REFUSAL in err and "RATELIMIT_STORAGE_URI" in err
    assert "Booting worker" not in err


def test_gunicorn_starts_with_redis_and_two_workers(tmp_path, sqlite_template,
                                                    redis_db_15):  # noqa: F811
    process, base = gunicorn(tmp_path, sqlite_template, redis_db_15, "--workers", "2")
    try:
        health = wait_for_health(base, process)
        # A back-office search holds a signer's name: the access log keeps no query string.
        search = urllib.request.Request(base + "/admin/login?q=Secret+Signer",
                                        headers={"Referer": base + "/admin/?q=Other+Signer"})
        urllib.request.urlopen(search, timeout=10).close()
    finally:
        process.send_signal(signal.SIGTERM)
        out, err = process.communicate(timeout=30)
    assert health == {"status": "ok", "database": "ok", "redis": "ok"}
    assert REFUSAL not in err
    assert '"GET /admin/login HTTP/1.1" 200' in out
    assert "Signer" not in out + err


def test_one_worker_may_count_in_memory(tmp_path, sqlite_template):
    process, base = gunicorn(tmp_path, sqlite_template, "memory://", "--workers", "1")
    try:
        health = wait_for_health(base, process)
    finally:
        process.send_signal(signal.SIGTERM)
        process.communicate(timeout=30)
    assert health["redis"] == "not configured"


def wait_for_health(base: str, process: subprocess.Popen) -> dict:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if process.poll() is not None:
            pytest.fail(f"gunicorn exited: {process.communicate()[1]}")
        try:
            with urllib.request.urlopen(base + "/healthz", timeout=5) as response:
                return json.load(response)
        except OSError:  # refused, reset, timed out (a busy machine): not serving yet
            time.sleep(0.2)
    pytest.fail("gunicorn did not answer")


def production(database_url: str, tmp_path, **overrides) -> dict:
    config = base_config(database_url, tmp_path)
    config.update(ENV_NAME="production", SECRET_KEY=STRONG_KEY, TESTING=False,
                  RATELIMIT_ENABLED=True)
    config.update(overrides)
    return config


def test_the_app_refuses_when_told_of_several_workers(database_url, tmp_path):
    with pytest.raises(ConfigurationError, match=REFUSAL):
        create_app(production(database_url, tmp_path, WEB_WORKERS=4,
                              RATELIMIT_STORAGE_URI="memory://"))


@pytest.mark.parametrize("overrides", [
    dict(WEB_WORKERS=4, RATELIMIT_STORAGE_URI="redis://127.0.0.1:6379/15"),
    dict(WEB_WORKERS=1, RATELIMIT_STORAGE_URI="memory://"),
    dict(WEB_WORKERS=4, RATELIMIT_STORAGE_URI="memory://", RATELIMIT_ENABLED=False),
    dict(WEB_WORKERS=4, RATELIMIT_STORAGE_URI="memory://", ENV_NAME="development"),
])
def test_the_app_starts_when_limits_are_shared_or_one_process_serves(database_url, tmp_path,
                                                                     overrides):
    assert create_app(production(database_url, tmp_path, **overrides))


@pytest.mark.parametrize("env, workers", [
    ({"GUNICORN_WORKERS": "3"}, 3),
    ({"WEB_CONCURRENCY": "5"}, 5),
    ({"GUNICORN_WORKERS": "3", "WEB_CONCURRENCY": "5"}, 3),  # the shipped config's wins
    ({}, 1),
])
def test_the_worker_count_comes_from_the_environment(env, workers):
    # In a process of its own: config.py reads the environment once, at import.
    environ = {key: value for key, value in os.environ.items()
               if key not in ("GUNICORN_WORKERS", "WEB_CONCURRENCY")}
    out = subprocess.run([sys.executable, "-c", "import config; print(config.Config.WEB_WORKERS)"],
                         cwd=ROOT, env=environ | env, capture_output=True, text=True, check=True)
    assert out.stdout.strip() == str(workers)
