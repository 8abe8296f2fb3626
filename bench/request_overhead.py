"""The CPU one request costs, in one process: writing a drive's letter, signing, reading a
letter's page and a drive's, the app's floor; the bare one-insert app's POST (bare_app.py)
beside them.

Issue 20 wants writing a letter through HTTP at least half the bare insert's rate; part of
each request is app-wide work every request pays (the session, a null one outside /admin;
the public forms' origin check, the control-character guard and form parsing, response
hooks, locale selection, the limiter, WTForms).
This script measures it without a server or a load generator, so that a change can be
compared before and after on a shared machine: the app as drive_writing.py serves it (CSRF
on: the public forms carry no token and their pages set no cookie, docs/caching.md, so each
POST carries `Sec-Fetch-Site: same-origin` and the page as Referer, as a browser does, and
the `form_started` stamp read once from the drive's page; rate limits off; mail left in the
outbox), called through Flask's test client. The pages are read as
/letters/<slug>?lang=en: without ?lang= they are a redirect. The floor is the letter's POST
sent to a view that does nothing (added in this process only, under the drive blueprint's
name so that the same origin check guards it): what every public POST pays before its view
starts.

Each figure is the process CPU time (time.process_time) per request, the least of --rounds
rounds of --count requests (the round least disturbed by other processes: on a shared
machine the median moves by 20 % between runs), the median beside it. SQLite runs in the
process, so its work is counted; PostgreSQL's server is not.

`--instructions` counts instead the instructions each kind of request executes, on SQLite,
with valgrind's callgrind (Debian package `valgrind`; about a minute per kind): unlike CPU
time, the same figure on a busy machine as on a quiet one, to compare two versions of the
code to the percent. `--profile KIND` prints the cProfile of one kind (`--sort tottime` to
see where the time itself goes). `--limits` turns the rate limits on (memory storage,
limits too high to be reached) to count their cost too.
"""
from __future__ import annotations

import argparse
import cProfile
import importlib
import os
import pstats
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from contextlib import ExitStack
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
sys.path.insert(0, str(HERE.parent))

from drive_writing import LETTER  # noqa: E402
from harness import EMAIL_KEY, SECRET_KEY, pg_database  # noqa: E402

DRIVE, OPEN_LETTER = "bench-drive", "bench-sign"
FORM_STARTED = re.compile(r'name="form_started" value="([^"]+)"')
LABELS = {"drive": "drive letter POST", "sign": "signature POST", "page": "letter page GET",
          "drive_page": "drive page GET", "floor": "app floor POST", "bare": "bare insert POST"}
KINDS = tuple(LABELS)


def _config(url: str, folder: str, limits: bool) -> dict:
    config = {
        "SQLALCHEMY_DATABASE_URI": url, "SECRET_KEY": SECRET_KEY, "EMAIL_KEY": EMAIL_KEY,
        "MAIL_DISPATCH_IN_PROCESS": False, "RATELIMIT_ENABLED": limits,
        "SIGN_MIN_SECONDS": 0,  # posts come at once, as from an integrator's suite
        "EXPORT_DIR": folder, "RATELIMIT_STORAGE_URI": "memory://",
    }
    if limits:
        config["RATELIMIT_SIGN"] = "1000000 per minute"
    return config


def _petition(url: str, folder: str, limits: bool) -> dict[str, Callable[[int], int]]:
    """The app on `url`, migrated, with an open letter and an open drive; a function per
    kind of request, taking a number that makes each address new."""
    from flask_migrate import upgrade

    from petition import create_app
    from petition.core import schema_migrations
    from petition.drive.settings import create_drive
    from petition.extensions import db
    from petition.letters import operations as letters

    app = create_app(_config(url, folder, limits))
    # What every public POST pays before its view does anything: the hooks, the (null)
    # session, the origin check, the form parsed, the response's headers. Only in this
    # process. Its endpoint is named as the drive blueprint's (request.blueprint is read
    # from it), so CSRFProtect skips it and the public forms' origin check runs, as for
    # the drive's letter; a view of no blueprint would want the back office's token.
    app.add_url_rule("/bench/floor", "drive.bench_floor", lambda: ("", 204),
                     methods=["POST"])
    schema_migrations.bind(app)
    with app.app_context():
        upgrade()
        letters.create_letter(OPEN_LETTER, lang="en", title="Bench")
        create_drive(DRIVE, lang="en", title="Letters to Azat", recipient="Azat Miftakhov",
                     recipient_address="SIZO-1\nMoscow", delivery_lang="ru", actor="bench")
        db.session.remove()
    client = app.test_client()
    drive_page, letter_page = f"/letters/{DRIVE}?lang=en", f"/letters/{OPEN_LETTER}?lang=en"
    page = client.get(drive_page)
    match = FORM_STARTED.search(page.get_data(as_text=True))
    if page.status_code != 200 or match is None:
        raise SystemExit(f"no letter form on the drive's page ({page.status_code})")
    stamp = match.group(1)
    headers = {"Referer": f"http://localhost{drive_page}", "Sec-Fetch-Site": "same-origin"}

    def letter(number: int) -> dict[str, str]:
        return {"form_started": stamp, "name": "Marie Dupont", "country": "FR",
                "email": f"w{number}@example.org", "language": "en", "body": LETTER,
                "publish": "no", "consent": "y"}

    def drive(number: int) -> int:
        return client.post(f"/letters/{DRIVE}/write", headers=headers,
                           data=letter(number)).status_code

    def floor(number: int) -> int:
        return client.post("/bench/floor", headers=headers, data=letter(number)).status_code

    def sign(number: int) -> int:
        return client.post(f"/letters/{OPEN_LETTER}/sign", headers=headers, data={
            "form_started": stamp, "signer_type": "individual", "name": f"Signer {number}",
            "country": "FR", "email": f"s{number}@example.org", "display": "full",
            "consent": "y"}).status_code

    def read(number: int) -> int:
        return client.get(letter_page).status_code

    def read_drive(number: int) -> int:
        return client.get(drive_page).status_code

    return {"drive": drive, "sign": sign, "page": read, "drive_page": read_drive,
            "floor": floor}


def _bare(url: str) -> Callable[[int], int]:
    """bench/bare_app.py in this process, on the same database."""
    os.environ["DATABASE_URL"] = url  # read when the module is loaded: once per database
    bare = importlib.reload(sys.modules["bare_app"]) if "bare_app" in sys.modules \
        else importlib.import_module("bare_app")
    with bare.app.app_context():
        bare.db.create_all()
    client = bare.app.test_client()

    def insert(number: int) -> int:
        return client.post("/insert", data={"name": f"Row {number}",
                                            "email": f"r{number}@example.org"}).status_code
    return insert


def _cpu_per_request(call: Callable[[int], int], start: int, count: int) -> float:
    began = time.process_time()
    for number in range(start, start + count):
        status = call(number)
        if status not in (200, 201, 204, 303):
            raise SystemExit(f"unexpected status {status}")
    return (time.process_time() - began) / count


def measure(calls: dict[str, Callable[[int], int]], count: int, rounds: int
            ) -> dict[str, tuple[float, float]]:
    """Milliseconds of CPU per request, least and median of the rounds; kinds take turns
    each round."""
    for call in calls.values():  # warm-up: caches, compiled templates, pool
        _cpu_per_request(call, 10**6, 20)
    seen: dict[str, list[float]] = {kind: [] for kind in calls}
    for round_ in range(rounds):
        for kind, call in calls.items():
            seen[kind].append(_cpu_per_request(call, round_ * count, count) * 1000)
    return {kind: (min(values), statistics.median(values)) for kind, values in seen.items()}


def report(database: str, figures: dict[str, tuple[float, float]]) -> None:
    print(f"{database}:")
    for kind, (least, median) in figures.items():
        print(f"  {LABELS[kind]:<18} {least:6.2f} ms CPU per request (median {median:.2f})")
    if "bare" in figures:
        for kind in ("drive", "sign"):
            print(f"  bare / {kind:<11} {figures['bare'][0] / figures[kind][0]:6.2f}"
                  "  (the rate ratio if CPU bound)")


def profile(call: Callable[[int], int], count: int, sort: str) -> None:
    _cpu_per_request(call, 10**6, 20)
    profiler = cProfile.Profile()
    profiler.enable()
    _cpu_per_request(call, 0, count)
    profiler.disable()
    pstats.Stats(profiler).sort_stats(sort).print_stats(45)


def instructions(kinds: list[str], count: int, limits: bool) -> None:
    """Each kind in a process of its own under callgrind, counting only its requests: the
    process signals through files when it is ready, and callgrind_control turns counting
    on and off around the requests (start-up and warm-up are not counted)."""
    if not shutil.which("valgrind") or not shutil.which("callgrind_control"):
        raise SystemExit("--instructions needs valgrind (Debian package valgrind)")
    print("sqlite, instructions per request (callgrind):")
    for kind in kinds:
        with tempfile.TemporaryDirectory() as signals:
            folder = Path(signals)
            out, log = folder / "callgrind.out", folder / "log"
            command = ["valgrind", "--tool=callgrind", "--instr-atstart=no",
                       f"--callgrind-out-file={out}", sys.executable, __file__,
                       "--count", str(count), "--counted", kind, "--signals", signals]
            with log.open("w") as output:
                child = subprocess.Popen(command + (["--limits"] if limits else []),
                                         stdout=output, stderr=subprocess.STDOUT)
                for signal, then in (("ready", "on"), ("done", "off")):
                    while not (folder / signal).exists():
                        if child.poll() is not None:
                            raise SystemExit(f"{kind} failed:\n{log.read_text()[-3000:]}")
                        time.sleep(0.5)
                    subprocess.run(["callgrind_control", "-i", then, str(child.pid)],
                                   check=True, capture_output=True)
                    (folder / ("go" if then == "on" else "end")).touch()
                child.wait()
            totals = next(line for line in out.read_text().splitlines()
                          if line.startswith("totals:"))
            print(f"  {LABELS[kind]:<18} {int(totals.split()[1]) / count / 1e6:6.3f} M")


def _counted(kind: str, count: int, limits: bool, signals: Path) -> None:
    """The child of instructions(): warm up, then run `count` requests between signals."""
    with tempfile.TemporaryDirectory() as folder:
        url = f"sqlite:///{folder}/overhead.sqlite"
        call = _bare(url) if kind == "bare" else _petition(url, folder, limits)[kind]
        _cpu_per_request(call, 10**6, 20)
        for signal, wait in (("ready", "go"), ("done", "end")):
            if signal == "done":
                _cpu_per_request(call, 0, count)
            (signals / signal).touch()
            while not (signals / wait).exists():
                time.sleep(0.1)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--count", type=int, default=100, help="requests per round and kind")
    parser.add_argument("--rounds", type=int, default=15)
    parser.add_argument("--database", choices=("sqlite", "postgresql", "both"),
                        default="sqlite")
    parser.add_argument("--limits", action="store_true", help="rate limits on (memory)")
    parser.add_argument("--profile", choices=KINDS[:-1])
    parser.add_argument("--sort", default="cumulative")
    parser.add_argument("--instructions", nargs="*", choices=KINDS, metavar="KIND",
                        help="count instructions (callgrind) for these kinds, or all")
    parser.add_argument("--counted", choices=KINDS, help=argparse.SUPPRESS)
    parser.add_argument("--signals", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.counted:
        return _counted(args.counted, args.count, args.limits, args.signals)
    if args.instructions is not None:
        return instructions(args.instructions or list(KINDS), args.count, args.limits)
    with tempfile.TemporaryDirectory() as folder, ExitStack() as stack:
        urls = {}
        if args.database in ("sqlite", "both"):
            urls["sqlite"] = f"sqlite:///{folder}/overhead.sqlite"
        if args.database in ("postgresql", "both"):
            url = stack.enter_context(pg_database("petition_overhead"))
            if url is None:
                print("postgresql: unreachable, skipped")
            else:
                urls["postgresql"] = url
        for database, url in urls.items():
            calls = _petition(url, folder, args.limits)
            if args.profile:
                profile(calls[args.profile], args.count, args.sort)
                continue
            calls["bare"] = _bare(url)
            report(database, measure(calls, args.count, args.rounds))


if __name__ == "__main__":
    main()
