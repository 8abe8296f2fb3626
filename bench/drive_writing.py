"""Writing a letter to a drive through HTTP under gunicorn, against the bare one-insert
endpoint, driven by wrk and by bench/loadgen.py.

As http_signing.py measures signing: for a SQLite file and a throw-away PostgreSQL database,
gunicorn with the shipped config and 2 sync workers serves the app (CSRF on, rate limits
off: all load comes from one address, mail left in the outbox) and, beside it on the same
database, the bare Flask + SQLAlchemy app (bare_app.py). Every POST to /letters/<slug>/write
carries what a current browser sends from the drive's page, /letters/<slug>?lang=en:
`Sec-Fetch-Site: same-origin` and that page as Referer (the public forms carry no token and
their pages set no cookie, docs/caching.md), the form's `form_started` stamp read once from
the page (SIGN_MIN_SECONDS is 0 here) and a new address (the per-address mail cap never
applies): an English letter of about 800 characters, name, country, language, publish=no,
consent. Each write stores the encrypted letter and queues its confirmation mail in one
transaction.

Two load generators, one after the other on the same servers, each a process of its own:
wrk (Debian package `wrk`; 2 threads, 4 connections, a Lua script gives each request its
address; one stamp for all), and bench/loadgen.py as http_signing.py runs it (4 Python
client threads, each reading the page once): the loadgen figure is the one
comparable with signing's; wrk, costing the machine less CPU than Python clients, leaves
more of it to the servers. The two apps take turns in short
rounds (petition, bare, petition, bare...), each a warm-up then a measured run; the ratio
is of their combined rates, each round's is printed too. Worker memory is sampled from /proc
during the load. Target (issue 20): at least half the bare insert's rate.
"""
from __future__ import annotations

import argparse
import http.client
import json
import shutil
import subprocess
import sys
from pathlib import Path
from urllib.parse import urlencode

from harness import (
    HERE,
    OUT,
    PYTHON,
    ROOT,
    Gunicorn,
    Summary,
    app_env,
    describe,
    durability,
    flask,
    load,
    machine,
    pg_database,
    pg_settings,
    sample_rss,
)
from http_signing import alternate
from loadgen import FORM_STARTED

sys.path.insert(0, str(ROOT))

SLUG = "bench-drive"
RATIO_TARGET, P99_TARGET = 0.5, 0.250  # P99_TARGET: signing's, shown for comparison
THREADS, CONNECTIONS = 2, 4
PAGE = f"/letters/{SLUG}?lang=en"  # the drive's page: without ?lang= a redirect to it
LETTER = (
    "Dear Azat,\n\nWe have never met, but I teach mathematics in a lycée in Lyon and my "
    "students asked me who you are. I told them about your work on graphs and about the "
    "seminar you used to run; they solved two of the problems you posed and want you to know "
    "that the third one is keeping them busy.\n\nIt snowed here this week, which is rare. The "
    "river was grey and the old town was quiet, and I thought that somewhere far away you "
    "might be looking at the same winter sky.\n\nWe read that letters reach you slowly, so "
    "this one brings wishes for the spring as well: patience, health, and good books. My "
    "students send their greetings, and so do my colleagues.\n\nWith warm regards from all "
    "of us, and we hope to read your next paper soon.\n\nMarie"
)
# One wrk run: a new address per request, the result as one line of JSON at the end.
LUA = """-- Written by bench/drive_writing.py for one wrk run.
local counter = 0
local threads = {}

function setup(thread)
  thread:set("id", #threads + 1)
  table.insert(threads, thread)
end

function init(args)
  run = args[1]
end

function request()
  counter = counter + 1
  local email = string.format("w%%s-%%d-%%d%%%%40example.org", run, id, counter)
  return wrk.format("POST", [==[%(path)s]==], %(headers)s,
                    [==[%(before)s]==] .. email .. [==[%(after)s]==])
end

function done(summary, latency, requests)
  local errors = summary.errors
  io.write(string.format(
    '\\nRESULT {"requests": %%d, "duration_us": %%d, "status": %%d, "socket": %%d, '
    .. '"p50_us": %%d, "p99_us": %%d, "max_us": %%d}\\n',
    summary.requests, summary.duration, errors.status,
    errors.connect + errors.read + errors.write + errors.timeout,
    latency:percentile(50), latency:percentile(99), latency.max))
end
"""


def _lua_table(headers: dict[str, str]) -> str:
    return "{" + ", ".join(f"[ [==[{name}]==] ] = [==[{value}]==]"
                           for name, value in headers.items()) + "}"


def write_script(folder: Path, label: str, path: str, headers: dict[str, str], before: str,
                 after: str = "") -> Path:
    script = folder / f"{label}.lua"
    script.write_text(LUA % {"path": path, "headers": _lua_table(headers), "before": before,
                             "after": after}, encoding="utf-8")
    return script


def wrk(port: int, script: Path, seconds: int, run_id: str) -> dict:
    """One wrk run; the result as http_signing's load generator gives it (seconds)."""
    done = subprocess.run(
        ["wrk", "-t", str(THREADS), "-c", str(CONNECTIONS), "-d", f"{seconds}s",
         "--timeout", "10s", "-s", str(script), f"http://127.0.0.1:{port}", "--", run_id],
        capture_output=True, text=True)
    line = next((line for line in done.stdout.splitlines() if line.startswith("RESULT ")), None)
    if done.returncode or line is None:
        raise SystemExit(f"wrk failed:\n{done.stdout[-2000:]}\n{done.stderr[-2000:]}")
    result = json.loads(line.removeprefix("RESULT "))
    elapsed = result["duration_us"] / 1e6
    errors = result["status"] + result["socket"]
    good = max(result["requests"] - result["status"], 0)
    return {"count": good, "errors": errors, "elapsed": elapsed,
            "rate": good / elapsed if elapsed else 0.0, "p50": result["p50_us"] / 1e6,
            "p99": result["p99_us"] / 1e6, "max": result["max_us"] / 1e6}


def prepare(url: str) -> None:
    """Migrate with `flask db upgrade` (its own process) and create the open drive."""
    flask(["db", "upgrade"], app_env(url))
    from petition import create_app
    from petition.drive.settings import create_drive
    from petition.extensions import db

    env = app_env(url)
    app = create_app({"SQLALCHEMY_DATABASE_URI": url, "SECRET_KEY": env["SECRET_KEY"],
                      "EMAIL_KEY": env["EMAIL_KEY"], "MAIL_DISPATCH_IN_PROCESS": False,
                      "RATELIMIT_ENABLED": False, "EXPORT_DIR": env["EXPORT_DIR"],
                      "SIGN_MIN_SECONDS": 0})
    with app.app_context():
        create_drive(SLUG, lang="en", title="Letters to Azat", recipient="Azat Miftakhov",
                     recipient_address="SIZO-1\nMoscow", delivery_lang="ru", actor="bench")
        db.session.remove()
        db.engine.dispose()


def committed(url: str) -> tuple[int, int]:
    """(letters, outbox mails) in the database."""
    import sqlalchemy as sa

    engine = sa.create_engine(url)
    try:
        with engine.connect() as conn:
            letters = conn.execute(sa.text("SELECT count(*) FROM drive_letter")).scalar()
            mails = conn.execute(sa.text("SELECT count(*) FROM outbox_mail")).scalar()
    finally:
        engine.dispose()
    return letters, mails


def form_started(port: int) -> str:
    """The letter form's `form_started` stamp, read from the drive's page as a browser gets
    it (the page sets no cookie and its form carries no token)."""
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    conn.request("GET", PAGE)
    response = conn.getresponse()
    page = response.read().decode()
    conn.close()
    match = FORM_STARTED.search(page)
    if response.status != 200 or match is None:
        raise SystemExit(f"no letter form on the drive's page {PAGE} "
                         f"(status {response.status})")
    return match.group(1)


def measure(kind: str, url: str, loads: list[str], rounds: int, warmup: int, duration: int,
            folder: Path, summary: Summary) -> None:
    label = "SQLite" if kind == "sqlite" else "PostgreSQL"
    print(f"\n{label}: {durability(kind)}")
    if kind == "postgresql":
        print(f"  server: {pg_settings()}")
    prepare(url)
    env = app_env(url)
    subprocess.run([PYTHON, str(HERE / "bare_app.py"), "init"], env=env, check=True, cwd=ROOT)
    with Gunicorn("wsgi:app", env, folder, f"{kind}-petition") as server, \
            Gunicorn("bare_app:app", env, folder, f"{kind}-bare", pythonpath=HERE) as plain:
        server.wait_ready("/healthz")
        plain.wait_ready("/")
        print(f"  {server.settings}; the bare app the same way beside it; {rounds} rounds of "
              f"{warmup} s warm-up + {duration} s each, petition and bare in turn")
        stamp = form_started(server.port)
        fields = {"name": "Marie Dupont", "country": "FR", "language": "en", "body": LETTER,
                  "publish": "no", "consent": "y"}
        form = {"Content-Type": "application/x-www-form-urlencoded"}
        writing = write_script(folder, f"{kind}-write", f"/letters/{SLUG}/write",
                               {**form, "Sec-Fetch-Site": "same-origin",
                                "Referer": f"http://127.0.0.1:{server.port}{PAGE}"},
                               urlencode({**fields, "form_started": stamp}) + "&email=")
        inserting = write_script(folder, f"{kind}-bare", "/insert", form,
                                 "name=Marie+Dupont&email=")

        def by_wrk(port: int, script: Path, run_id: str) -> dict:
            wrk(port, script, warmup, f"{run_id}w")
            return wrk(port, script, duration, run_id)

        spec = {"clients": CONNECTIONS, "warmup": warmup, "duration": duration}
        runs = {
            "wrk": (f"wrk, {THREADS} threads, {CONNECTIONS} connections",
                    lambda number: by_wrk(server.port, writing, f"{kind}{number}"),
                    lambda number: by_wrk(plain.port, inserting, f"{kind}b{number}")),
            "loadgen": (f"bench/loadgen.py (as http_signing.py), {CONNECTIONS} clients",
                        lambda number: load({**spec, "kind": "write", "port": server.port,
                                             "slug": SLUG, "lang": "en", "fields": fields,
                                             "run_id": f"{kind}l{number}"}),
                        lambda number: load({**spec, "kind": "bare", "port": plain.port,
                                             "path": "/insert", "run_id": f"{kind}lb{number}"})),
        }
        for name in loads:
            what, petition, bare_insert = runs[name]
            with sample_rss(server.workers()) as peaks:
                write, bare, ratios = alternate(petition, bare_insert, rounds)
            rss = max(peaks.values())
            letters, mails = committed(url)
            ratio = write["rate"] / bare["rate"] if bare["rate"] else 0.0
            print(f"  load: {what}")
            print(f"    write POST  : {describe(write)}")
            print(f"    bare insert : {describe(bare)}  (in turn with writing)")
            print(f"    {letters} letters and {mails} outbox mails committed so far "
                  f"(warm-ups included); worker RSS max {rss:.0f} MB")
            print(f"    write ratio petition/bare: {ratio:.2f} "
                  f"(rounds: {', '.join(f'{value:.2f}' for value in ratios)})")
            ok = ratio >= RATIO_TARGET and not write["errors"] and letters == mails
            summary.add(f"write a letter HTTP {label} ({name}): rate petition/bare",
                        f"{ratio:.2f}", f">= {RATIO_TARGET}", ok)
            summary.add(f"write a letter HTTP {label} ({name}): p99",
                        f"{write['p99'] * 1000:.0f} ms", f"< {P99_TARGET * 1000:.0f} ms",
                        write["p99"] < P99_TARGET)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--warmup", type=int, default=1, help="seconds (wrk takes whole ones)")
    parser.add_argument("--duration", type=int, default=4, help="seconds")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--load", nargs="+", choices=("wrk", "loadgen"),
                        default=["wrk", "loadgen"],
                        help="load generators, one after the other on the same servers")
    parser.add_argument("--databases", nargs="+", choices=("sqlite", "postgresql"),
                        default=["sqlite", "postgresql"])
    args = parser.parse_args()
    print(f"writing a letter to a drive through HTTP; {machine()}")
    summary = Summary()
    loads = list(args.load)
    if "wrk" in loads and shutil.which("wrk") is None:
        print("wrk is not installed (Debian: apt-get install wrk): measured with "
              "bench/loadgen.py only")
        summary.add("write a letter HTTP (wrk): rate petition/bare", "not measured",
                    f">= {RATIO_TARGET}", False)
        loads.remove("wrk")
    folder = OUT / "drive_writing"
    shutil.rmtree(folder, ignore_errors=True)
    folder.mkdir(parents=True)
    if loads and "sqlite" in args.databases:
        measure("sqlite", f"sqlite:///{folder / 'write.sqlite'}", loads, args.rounds,
                args.warmup, args.duration, folder, summary)
    if loads and "postgresql" in args.databases:
        with pg_database("petition_bench_drive") as url:
            if url is None:
                print("\nPostgreSQL: unreachable at 127.0.0.1:5432, skipped")
            else:
                measure("postgresql", url, loads, args.rounds, args.warmup, args.duration,
                        folder, summary)
    summary.print("writing a letter through HTTP")


if __name__ == "__main__":
    main()
