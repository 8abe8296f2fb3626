"""What other sites and programs read of the 100,000-signature letter (issue 21, items 5
and 6), through HTTP: the badge, the widget, the JSON counter and the open API.

On a migrated copy of bench/out/bench.sqlite (dataset.py builds it) and on a throw-away
PostgreSQL database holding the same rows (--databases): gunicorn with the shipped config
and --workers workers (3 by default). Prints, per database:
- p50/p99 under wrk (2 threads, --connections 4, a fixed time after a warm-up) of
  /letters/bench/badge.svg, /letters/bench/widget, /letters/bench.json,
  /api/v1/letters/bench and /api/v1/letters, each with ?lang=fr, and of the API's
  conditional GET (If-None-Match: its ETag, a 304);
- the first request each worker answers right after a confirmation (sign and confirm one
  signature through HTTP, then GET until every worker answered; each worker's own time from
  gunicorn's access log), for the badge and the API's letter.
The issue's target: JSON, API and badge at most 10 ms at the median.
"""
from __future__ import annotations

import argparse
import http.client
import shutil
import sys
from pathlib import Path

import drive_writing
import harness
from drive_writing import LUA, wrk
from harness import OUT, Gunicorn, Summary, app_env, durability, machine, median, pg_database
from http_reads import LINE, _app, copy_to, first_after_confirmation, sqlite_copy

SLUG = "bench"
PATHS = {
    "badge": f"/letters/{SLUG}/badge.svg?lang=fr",
    "widget": f"/letters/{SLUG}/widget?lang=fr",
    "json": f"/letters/{SLUG}.json?lang=fr",
    "api letter": f"/api/v1/letters/{SLUG}?lang=fr",
    "api list": "/api/v1/letters?lang=fr",
    "api letter, 304": f"/api/v1/letters/{SLUG}?lang=fr",
}
TARGET = 0.010  # seconds, p50, from the issue (the widget is held to it too)
# After a confirmation: without ?lang= (Accept-Language then; these never redirect).
FIRSTS = {"badge": f"/letters/{SLUG}/badge.svg", "api letter": f"/api/v1/letters/{SLUG}"}
# A GET of one path (with headers) under wrk; wrk's summary as drive_writing's script prints.
GET_LUA = ("-- Written by bench/reads_api.py for one wrk run.\n"
           "function request()\n  return wrk.format(\"GET\", [==[%(path)s]==], %(headers)s)\n"
           "end\n\nfunction done" + LUA.split("function done", 1)[1])


def _etag(port: int, path: str) -> str:
    """The answer's ETag (and the answer built once, before the clock starts)."""
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    try:
        connection.request("GET", path)
        response = connection.getresponse()
        response.read()
        assert response.status == 200, (response.status, path)
        etag = response.getheader("ETag")
    finally:
        connection.close()
    assert etag, path
    return etag


def _wrk(server: Gunicorn, folder: Path, label: str, path: str, headers: dict[str, str],
         warmup: int, duration: int) -> tuple[dict, list[float]]:
    """wrk's figures after a warm-up, and the workers' own times during the run."""
    lua_headers = "{" + ", ".join(f'["{key}"] = [==[{value}]==]'
                                  for key, value in headers.items()) + "}"
    script = folder / f"{label.replace(' ', '-').replace(',', '')}.lua"
    script.write_text(GET_LUA % {"path": path, "headers": lua_headers}, encoding="utf-8")
    wrk(server.port, script, warmup, f"{label}-warmup")
    offset = server.access_log.stat().st_size
    result = wrk(server.port, script, duration, label)
    return result, _workers_own_times(server.access_log, offset)


def _workers_own_times(log: Path, offset: int) -> list[float]:
    """Each request's time inside its worker (gunicorn's %(D)s) since `offset` of the log:
    wrk's latency adds the wait for a free worker, long on a shared machine."""
    with log.open() as file:
        file.seek(offset)
        return [int(match.group(3)) / 1e6 for match in map(LINE.match, file) if match]


def measure(kind: str, url: str, args: argparse.Namespace, folder: Path,
            summary: Summary) -> None:
    name = "SQLite" if kind == "sqlite" else "PostgreSQL"
    print(f"\n{name}: {durability(kind)}")
    app = _app(url)
    with Gunicorn("wsgi:app", app_env(url), folder, kind) as server:
        server.wait_ready("/healthz")
        print(f"  {server.settings}; wrk {drive_writing.THREADS} threads, "
              f"{drive_writing.CONNECTIONS} connections, {args.warmup} s warm-up "
              f"+ {args.duration} s a path")
        for label, path in PATHS.items():
            etag = _etag(server.port, path)
            headers = {"If-None-Match": etag} if label.endswith("304") else {}
            result, own = _wrk(server, folder, f"{kind}-{label}", path, headers, args.warmup,
                               args.duration)
            print(f"  GET {label:16} {result['rate']:7.1f} req/s  p50 "
                  f"{result['p50'] * 1000:6.2f} ms  p99 {result['p99'] * 1000:6.2f} ms  "
                  f"({result['count']}, {result['errors']} errors); the workers' own time: "
                  f"p50 {median(own) * 1000:.2f} ms")
            summary.add(f"{name}: {label}, p50", f"{result['p50'] * 1000:.2f} ms",
                        f"<= {TARGET * 1000:.0f} ms",
                        result["p50"] <= TARGET and not result["errors"])
        for label, path in FIRSTS.items():
            firsts = first_after_confirmation(app, server, path, args.rounds)
            print(f"  first GET {label} of each worker after a confirmation, worker's own "
                  f"time ({args.rounds} rounds, {len(firsts)} firsts): median "
                  f"{median(firsts) * 1000:.1f} ms, max {max(firsts) * 1000:.0f} ms")
            summary.add(f"{name}: first {label} after confirm, median",
                        f"{median(firsts) * 1000:.1f} ms", f"<= {TARGET * 1000:.0f} ms",
                        median(firsts) <= TARGET)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--workers", type=int, default=3)
    parser.add_argument("--connections", type=int, default=4,
                        help="wrk's (1: each request's own time, no queue for a worker)")
    parser.add_argument("--warmup", type=int, default=1, help="seconds (wrk takes whole ones)")
    parser.add_argument("--duration", type=int, default=5)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--databases", nargs="+", default=["sqlite", "postgresql"],
                        choices=["sqlite", "postgresql"])
    parser.add_argument("--rebuild", action="store_true", help="rebuild bench/out/bench.sqlite")
    args = parser.parse_args()
    if shutil.which("wrk") is None:
        raise SystemExit("wrk is needed (Debian package wrk)")
    harness.WORKERS = args.workers
    drive_writing.CONNECTIONS = args.connections
    drive_writing.THREADS = min(drive_writing.THREADS, args.connections)
    print(f"badge, widget, JSON and open API of the 100,000-signature letter; {machine()}")
    folder = OUT / "reads_api"
    shutil.rmtree(folder, ignore_errors=True)
    folder.mkdir(parents=True)
    database = sqlite_copy(folder, args.rebuild)
    sqlite_url = f"sqlite:///{database}"
    summary = Summary()
    with pg_database("petition_bench_api") as pg_url:
        if "postgresql" in args.databases and pg_url is not None:
            # Before SQLite's run adds its late signatures: the same rows in both.
            print(f"copying the rows into PostgreSQL… {copy_to(sqlite_url, pg_url):.1f} s")
        if "sqlite" in args.databases:
            measure("sqlite", sqlite_url, args, folder, summary)
        if "postgresql" in args.databases:
            if pg_url is None:
                print("\nPostgreSQL: unreachable at 127.0.0.1:5432, skipped")
            else:
                measure("postgresql", pg_url, args, folder, summary)
    summary.print("badge, widget, JSON and open API")


if __name__ == "__main__":
    sys.exit(main())
