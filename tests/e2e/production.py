"""The production set-up on loopback: gunicorn over TLS, PostgreSQL, Redis, `flask mail worker`.

Run as the README deploys it (docs/deployment/gunicorn.conf.py, PETITION_ENV=production),
on throw-away resources: a new PostgreSQL database (dropped after), Redis database 15
(flushed), a self-signed certificate and the aiosmtpd server of tests/smtp_server.py.
Every process is a real one, started from the command line a deployment would use.
"""
from __future__ import annotations

import http.client
import os
import re
import runpy
import secrets
import signal
import ssl
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass
from pathlib import Path

import redis
import sqlalchemy as sa
from cryptography.fernet import Fernet

from tests.conftest import PG_ADMIN_URL, skip_or_fail
from tests.smtp_server import Server, free_port, make_certificate, smtp_server

ROOT = Path(__file__).resolve().parents[2]
GUNICORN_CONF = ROOT / "docs" / "deployment" / "gunicorn.conf.py"
REDIS_URL = "redis://127.0.0.1:6379/15"
WORKERS = 3
SIGN_LIMIT = 5  # per minute: few enough to reach in one burst
SLUG = "appeal"
START_TIMEOUT = 40.0  # three workers importing the app on two busy cores
STOP_TIMEOUT = 10.0
# What a process needs to run at all; every setting of the app comes from production_env().
_KEPT_ENV = ("PATH", "HOME", "LANG", "LC_ALL", "TMPDIR")
_PID = re.compile(r" pid=<(\d+)>$")


def services_problem() -> str | None:
    """Why PostgreSQL or Redis cannot serve this test, or None."""
    client = redis.Redis.from_url(REDIS_URL, socket_connect_timeout=2)
    try:
        client.ping()
    except redis.RedisError as error:
        return f"Redis unreachable at {REDIS_URL}: {error}"
    finally:
        client.close()
    engine = sa.create_engine(PG_ADMIN_URL)
    try:
        with engine.connect():
            pass
    except sa.exc.OperationalError as error:
        return f"PostgreSQL unreachable at {PG_ADMIN_URL}: {error.orig}"
    finally:
        engine.dispose()
    return None


def flush_limits() -> None:
    """Forget every rate-limit count (Redis database 15 is the tests' own)."""
    client = redis.Redis.from_url(REDIS_URL)
    client.flushdb()
    client.close()


@contextmanager
def throwaway_database() -> Iterator[str]:
    """A new, empty PostgreSQL database for the block, dropped after; yields its URL."""
    name = f"petition_prod_{uuid.uuid4().hex[:10]}"
    admin = sa.create_engine(PG_ADMIN_URL, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(sa.text(f'CREATE DATABASE "{name}"'))
    try:
        yield sa.engine.make_url(PG_ADMIN_URL).set(database=name).render_as_string(
            hide_password=False)
    finally:
        # FORCE: a worker that had to be killed may have left a connection behind.
        with admin.connect() as conn:
            conn.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


def production_env(database_url: str, base_url: str, smtp_port: int) -> dict[str, str]:
    """The environment of every process: production, with new strong keys."""
    env = {name: os.environ[name] for name in _KEPT_ENV if name in os.environ}
    env.update(
        PETITION_ENV="production",
        SECRET_KEY=secrets.token_urlsafe(48),
        EMAIL_KEY=Fernet.generate_key().decode(),
        DATABASE_URL=database_url,
        RATELIMIT_STORAGE_URI=REDIS_URL,
        RATELIMIT_SIGN=f"{SIGN_LIMIT} per minute",
        # The probes post at once, as an integrator's suite would; the minimum time has its
        # own tests (tests/test_abuse_limits.py).
        SIGN_MIN_SECONDS="0",
        MAIL_DISPATCH_IN_PROCESS="false",
        MAIL_DISPATCH_INTERVAL="0.5",
        MAIL_URL=f"smtp://127.0.0.1:{smtp_port}",
        BASE_URL=base_url,
        ORGANISER_NAME="Campagne #FREE120",
        ORGANISER_CONTACT="contact@free120.example",
    )
    return env


def flask(env: dict[str, str], *args: str) -> str:
    """Run `flask --app wsgi ARGS` as a deployment would; its output, or fail with it."""
    done = subprocess.run([sys.executable, "-m", "flask", "--app", "wsgi", *args], cwd=ROOT,
                          env=env, capture_output=True, text=True, timeout=120)
    if done.returncode:
        raise AssertionError(f"flask {' '.join(args)} exited {done.returncode}:\n"
                             f"{done.stdout}{done.stderr}")
    return done.stdout


@contextmanager
def running(command: list[str], env: dict[str, str], output: Path) -> Iterator[subprocess.Popen]:
    """Run `command` for the block, then stop it; it must end with status 0 on SIGTERM."""
    with output.open("ab") as log:
        process = subprocess.Popen(command, cwd=ROOT, env=env, stdout=log,
                                   stderr=subprocess.STDOUT, start_new_session=True)
    try:
        yield process
    except BaseException:
        stop(process)
        raise
    status = stop(process)
    assert status == 0, f"{output.stem} ended with {status} on SIGTERM: see {output}"


def stop(process: subprocess.Popen) -> int:
    """Stop as a service manager would: SIGTERM, wait, then kill its process group; the status."""
    if process.poll() is None:
        process.send_signal(signal.SIGCONT)  # a paused process handles SIGTERM only once resumed
        process.terminate()
        try:
            process.wait(STOP_TIMEOUT)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)  # its own session: only what it started
            process.wait()
    return process.returncode


@dataclass
class Stack:
    """The running set-up: where it answers and what it wrote."""

    base: str
    cert: Path
    database_url: str
    smtp: Server
    gunicorn: subprocess.Popen
    mail_worker: subprocess.Popen
    folder: Path

    @property
    def access_log(self) -> Path:
        return self.folder / "access.log"

    @property
    def error_log(self) -> Path:
        return self.folder / "error.log"

    @property
    def output(self) -> Path:
        """gunicorn's own stdout and stderr: what it says before its logs are set up."""
        return self.folder / "gunicorn.out"

    def request(self, method: str, path: str, headers: dict[str, str] | None = None,
                body: str | None = None) -> tuple[int, http.client.HTTPMessage, str]:
        """Send one request over a new, verified TLS connection, which any worker may take."""
        context = ssl.create_default_context(cafile=self.cert)
        connection = http.client.HTTPSConnection(self.base.removeprefix("https://"),
                                                 context=context, timeout=30)
        try:
            connection.request(method, path, body=body, headers=headers or {})
            response = connection.getresponse()
            return response.status, response.headers, response.read().decode()
        finally:
            connection.close()

    def access_lines(self, since: int = 0) -> list[str]:
        """Lines of the access log from byte `since` on."""
        with self.access_log.open("rb") as log:
            log.seek(since)
            return log.read().decode().splitlines()

    def access_log_size(self) -> int:
        return self.access_log.stat().st_size

    def worker_pids(self) -> set[int]:
        """The workers this gunicorn booted, from its error log."""
        return {int(pid) for pid in re.findall(r"Booting worker with pid: (\d+)",
                                               _text(self.error_log))}

    @contextmanager
    def mail_worker_paused(self) -> Iterator[None]:
        """Freeze the mail worker for the block: any mail sent meanwhile came from elsewhere."""
        self.mail_worker.send_signal(signal.SIGSTOP)
        try:
            yield
        finally:
            self.mail_worker.send_signal(signal.SIGCONT)


def pids_in(lines: list[str]) -> set[int]:
    """The worker PIDs that logged these access lines (the test adds pid=%(p)s)."""
    return {int(match.group(1)) for line in lines if (match := _PID.search(line))}


def wait_until_serving(stack: Stack) -> None:
    """Wait until every worker has booted and the site answers over HTTPS."""
    deadline = time.monotonic() + START_TIMEOUT
    while time.monotonic() < deadline:
        if stack.gunicorn.poll() is not None:
            raise AssertionError(f"gunicorn exited {stack.gunicorn.returncode}:\n"
                                 f"{_text(stack.error_log)}{_text(stack.output)}")
        if len(stack.worker_pids()) >= WORKERS:
            try:
                if stack.request("GET", "/?lang=en")[0] == 200:
                    return
            except OSError:
                pass  # not listening yet
        time.sleep(0.2)
    raise AssertionError(f"gunicorn not serving after {START_TIMEOUT} s:\n"
                         f"{_text(stack.error_log)}{_text(stack.output)}")


def _text(path: Path) -> str:
    return path.read_text(errors="replace") if path.exists() else ""


def gunicorn_command(port: int, cert: Path, key: Path, folder: Path) -> list[str]:
    """The shipped config, with TLS and three workers; the access log also names the worker."""
    shipped_format = runpy.run_path(str(GUNICORN_CONF))["access_log_format"]
    return [sys.executable, "-m", "gunicorn", "-c", str(GUNICORN_CONF),
            "--bind", f"127.0.0.1:{port}", "--workers", str(WORKERS),
            "--certfile", str(cert), "--keyfile", str(key),
            "--access-logfile", str(folder / "access.log"),
            "--error-logfile", str(folder / "error.log"),
            "--access-logformat", shipped_format + " pid=%(p)s",
            # gunicorn's control socket defaults to one path per user (~/.gunicorn): keep
            # this throw-away server's apart from any other gunicorn on the machine.
            "--control-socket", str(folder / "gunicorn.ctl"), "wsgi:app"]


@contextmanager
def production_stack(folder: Path) -> Iterator[Stack]:
    """Migrate, create a letter, start gunicorn and the mail worker; stop all after the block."""
    problem = services_problem()
    if problem:
        skip_or_fail(problem)
    cert, key = make_certificate(folder)
    port = free_port()
    base = f"https://127.0.0.1:{port}"
    with ExitStack() as stack:
        smtp = stack.enter_context(smtp_server())
        database_url = stack.enter_context(throwaway_database())
        env = production_env(database_url, base, smtp.port)
        flush_limits()
        stack.callback(flush_limits)
        flask(env, "db", "upgrade")
        body = folder / "letter.md"
        body.write_text("We ask for the **release** of the mathematician.", encoding="utf-8")
        flask(env, "letter", "create", SLUG, "--lang", "en", "--title",
              "Free the mathematician", "--text-file", str(body))
        gunicorn = stack.enter_context(running(
            gunicorn_command(port, cert, key, folder), env, folder / "gunicorn.out"))
        mail_worker = stack.enter_context(running(
            [sys.executable, "-m", "flask", "--app", "wsgi", "mail", "worker"], env,
            folder / "mail-worker.out"))
        running_stack = Stack(base, cert, database_url, smtp, gunicorn, mail_worker, folder)
        wait_until_serving(running_stack)
        yield running_stack
