"""Shared pieces of the HTTP benchmarks: gunicorn on loopback, a throw-away PostgreSQL
database, the load generator's process, worker memory and the summary of targets.

Nothing here imports the app: the scripts that need it import it themselves.
"""
from __future__ import annotations

import json
import os
import signal
import socket
import sqlite3
import statistics
import subprocess
import sys
import threading
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
OUT = HERE / "out"
PYTHON = sys.executable
PG_SERVER = "postgresql+psycopg://postgres@127.0.0.1:5432"
SECRET_KEY = "bench"
EMAIL_KEY = "k1t3Q1cJ0m0c9pD8yFh0sZ0m9u1vQ2Jd6lq3x8c1n5E="  # bench only, as dataset.py
WORKERS = 2
GUNICORN_CONF = ROOT / "docs" / "deployment" / "gunicorn.conf.py"
# %(p)s tells the workers apart; %(D)s is the time the worker spent, in microseconds.
ACCESS_FORMAT = '%(p)s %(s)s %(D)s "%(r)s"'
# bench/run.py points this at one file so it can print every script's figures at the end.
SUMMARY_ENV = "BENCH_SUMMARY"


def machine() -> str:
    """The machine and the durability settings every figure ran with."""
    load = " ".join(f"{value:.2f}" for value in os.getloadavg())
    return (f"{os.cpu_count()} cores (load average {load}), Python {sys.version.split()[0]}, "
            f"SQLite {sqlite3.sqlite_version}")


def durability(kind: str) -> str:
    if kind == "sqlite":
        level = sqlite3.connect(":memory:").execute("PRAGMA synchronous").fetchone()[0]
        name = {0: "OFF", 1: "NORMAL", 2: "FULL", 3: "EXTRA"}.get(level, level)
        return ("SQLite file, journal_mode=WAL, busy_timeout=10000, secure_delete=ON, "
                f"foreign_keys=ON, synchronous left at its default ({name}) in both")
    return ("PostgreSQL 127.0.0.1:5432, server defaults (synchronous_commit, fsync as "
            "configured there), psycopg 3, pool_pre_ping in both (petition sends the ping as "
            "the transaction's BEGIN: round_trips.begin_on_checkout)")


def pg_settings() -> str:
    """The server's own durability settings, read from it."""
    import sqlalchemy as sa

    engine = sa.create_engine(f"{PG_SERVER}/postgres")
    try:
        with engine.connect() as conn:
            names = ("server_version", "synchronous_commit", "fsync", "wal_sync_method")
            values = {name: conn.execute(sa.text(f"SHOW {name}")).scalar() for name in names}
    finally:
        engine.dispose()
    return ", ".join(f"{name}={value}" for name, value in values.items())


@contextmanager
def pg_database(prefix: str) -> Iterator[str | None]:
    """A new empty PostgreSQL database for the block, dropped after; None if unreachable."""
    import sqlalchemy as sa

    name = f"{prefix}_{uuid.uuid4().hex[:8]}"
    admin = sa.create_engine(f"{PG_SERVER}/postgres", isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as conn:
            conn.execute(sa.text(f'CREATE DATABASE "{name}"'))
    except sa.exc.OperationalError:
        admin.dispose()
        yield None
        return
    try:
        yield f"{PG_SERVER}/{name}"
    finally:
        with admin.connect() as conn:
            conn.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


def app_env(url: str, **extra: str) -> dict[str, str]:
    """The environment gunicorn and `flask` run the app with."""
    env = dict(os.environ)
    env.update(
        PETITION_ENV="development", DATABASE_URL=url, SECRET_KEY=SECRET_KEY, EMAIL_KEY=EMAIL_KEY,
        MAIL_DISPATCH_IN_PROCESS="false", RATELIMIT_ENABLED="false", SIGN_MIN_SECONDS="0",
        MAIL_URL="console://",
        FLASK_APP="wsgi", EXPORT_DIR=str(OUT / "exports"), GUNICORN_WORKERS=str(WORKERS),
        LOG_FORMAT="plain",
    )
    env.update(extra)
    return env


def flask(args: list[str], env: dict[str, str]) -> str:
    """Run a `flask` command in its own process; its standard output."""
    done = subprocess.run([PYTHON, "-m", "flask", *args], cwd=ROOT, env=env,
                          capture_output=True, text=True)
    if done.returncode:
        raise SystemExit(f"flask {' '.join(args)} failed:\n{done.stderr[-3000:]}")
    return done.stdout


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class Gunicorn:
    """gunicorn with the shipped config and 2 sync workers on 127.0.0.1, access log kept."""

    def __init__(self, app: str, env: dict[str, str], folder: Path, label: str,
                 pythonpath: Path | None = None) -> None:
        self.port = free_port()
        self.access_log = folder / f"{label}-access.log"
        self.error_log = folder / f"{label}-error.log"
        args = [PYTHON, "-m", "gunicorn", "-c", str(GUNICORN_CONF),
                "--bind", f"127.0.0.1:{self.port}", "--workers", str(WORKERS),
                "--access-logfile", str(self.access_log), "--access-logformat", ACCESS_FORMAT,
                "--error-logfile", str(self.error_log),
                # Its default path is one per user: other gunicorns on the machine use it.
                "--no-control-socket"]
        if pythonpath:
            args += ["--pythonpath", str(pythonpath)]
        self.process = subprocess.Popen(args + [app], cwd=ROOT, env=env,
                                        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        self.settings = (f"gunicorn {WORKERS} sync workers, -c docs/deployment/gunicorn.conf.py, "
                         f"127.0.0.1:{self.port}")

    def wait_ready(self, path: str, timeout: float = 30) -> None:
        import http.client

        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise SystemExit(f"gunicorn exited:\n{self.error_log.read_text()[-3000:]}")
            try:
                conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=5)
                conn.request("GET", path)
                conn.getresponse().read()
                conn.close()
                if len(self.workers()) == WORKERS:
                    return
            except OSError:
                pass
            time.sleep(0.2)
        raise SystemExit(f"gunicorn did not answer in {timeout} s:\n"
                         f"{self.error_log.read_text()[-3000:]}")

    def workers(self) -> list[int]:
        path = Path(f"/proc/{self.process.pid}/task/{self.process.pid}/children")
        try:
            return [int(pid) for pid in path.read_text().split()]
        except OSError:
            return []

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(20)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()

    def __enter__(self) -> Gunicorn:
        return self

    def __exit__(self, *exc) -> None:
        self.stop()


def rss_mb(pid: int) -> float:
    """A process's resident memory now, in MB (0 if it is gone)."""
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    except OSError:
        pass
    return 0.0


@contextmanager
def sample_rss(pids: list[int], every: float = 0.1) -> Iterator[dict[int, float]]:
    """Sample the resident memory of `pids` during the block; yields pid → max MB."""
    peaks = {pid: rss_mb(pid) for pid in pids}
    stop = threading.Event()

    def run() -> None:
        while not stop.wait(every):
            for pid in pids:
                peaks[pid] = max(peaks[pid], rss_mb(pid))

    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    try:
        yield peaks
    finally:
        stop.set()
        thread.join()


def memory_rollup(pid: int) -> dict[str, float]:
    """Rss, Pss and private (Private_Clean + Private_Dirty, about USS) of `pid` in MB, from
    /proc/<pid>/smaps_rollup. RSS counts pages shared with the master and the other worker
    in full; PSS a share of them; private only the worker's own."""
    values: dict[str, float] = {}
    with open(f"/proc/{pid}/smaps_rollup") as rollup:
        for line in rollup:
            name, _, rest = line.partition(":")
            if name in ("Rss", "Pss", "Private_Clean", "Private_Dirty"):
                values[name] = int(rest.split()[0]) / 1024
    return {"rss": values["Rss"], "pss": values["Pss"],
            "private": values["Private_Clean"] + values["Private_Dirty"]}


@contextmanager
def private_redis() -> Iterator[str | None]:
    """A private, empty redis-server on loopback for the block (its URL), or None if there
    is no redis-server: the shared press lists are then per process."""
    import shutil

    executable = shutil.which("redis-server")
    if not executable:
        yield None
        return
    port = free_port()
    process = subprocess.Popen([executable, "--port", str(port), "--bind", "127.0.0.1",
                                "--save", "", "--appendonly", "no", "--loglevel", "warning"],
                               stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        deadline = time.monotonic() + 10
        while True:
            try:
                socket.create_connection(("127.0.0.1", port), timeout=0.5).close()
                break
            except OSError:
                if time.monotonic() > deadline:
                    raise SystemExit("redis-server did not start") from None
                time.sleep(0.05)
        yield f"redis://127.0.0.1:{port}/0"
    finally:
        process.terminate()
        process.wait(10)


def load(spec: dict) -> dict:
    """Run bench/loadgen.py with `spec` in its own process; its JSON result."""
    done = subprocess.run([PYTHON, str(HERE / "loadgen.py")], input=json.dumps(spec),
                          capture_output=True, text=True)
    if done.returncode:
        raise SystemExit(f"load generator failed:\n{done.stderr[-3000:]}")
    return json.loads(done.stdout)


def describe(result: dict) -> str:
    return (f"{result['rate']:7.1f} req/s  p50 {result['p50'] * 1000:6.1f} ms  "
            f"p99 {result['p99'] * 1000:6.1f} ms  ({result['count']} in {result['elapsed']:.1f} s, "
            f"{result['errors']} errors)")


def median(values: list[float]) -> float:
    return statistics.median(values) if values else float("nan")


class Summary:
    """Figures against their targets, printed as a table; also appended to BENCH_SUMMARY."""

    def __init__(self) -> None:
        self.rows: list[dict] = []

    def add(self, figure: str, value: str, target: str, ok: bool) -> None:
        row = {"figure": figure, "value": value, "target": target, "ok": bool(ok)}
        self.rows.append(row)
        path = os.environ.get(SUMMARY_ENV)
        if path:
            with open(path, "a", encoding="utf-8") as file:
                file.write(json.dumps(row, ensure_ascii=False) + "\n")

    def print(self, title: str = "summary") -> None:
        print_table(self.rows, title)


def print_table(rows: list[dict], title: str = "summary") -> None:
    if not rows:
        return
    width = max(len(row["figure"]) for row in rows)
    value_width = max(len(row["value"]) for row in rows)
    target_width = max(len(row["target"]) for row in rows)
    print(f"\n{title}:")
    for row in rows:
        print(f"  {row['figure']:{width}}  {row['value']:>{value_width}}  "
              f"{row['target']:{target_width}}  {'ok' if row['ok'] else 'MISSED'}")
