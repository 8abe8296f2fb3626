"""The letter page of 100,000 signatures made light (issue 21, items 7 and 8), through HTTP.

On a migrated copy of bench/out/bench.sqlite (dataset.py builds it): gunicorn with the
shipped config and --workers workers (3 by default), the built press lists shared through a
private Redis as in production. Prints:
- the page's HTML size in each language (the target: at most 100 KB);
- p50/p99 under wrk (2 threads, 4 connections, a fixed time after a warm-up) of the page
  (/letters/bench?lang=fr: without ?lang= it is a redirect),
  of "find a name" (a listed name, and one not listed) and of the biggest country's page;
- the first request each worker answers right after a confirmation (sign and confirm one
  signature through HTTP, then GET until every worker answered; each worker's own time from
  gunicorn's access log), for the page and the search;
- the same page with the public chart switched on (its size, its p50).
With --postgresql, the same first on a throw-away PostgreSQL database holding the same rows.
"""
from __future__ import annotations

import argparse
import shutil
import sqlite3
import sys
from pathlib import Path
from urllib.parse import quote

import harness
from drive_writing import LUA, wrk
from harness import OUT, Gunicorn, Summary, app_env, machine, median, pg_database, private_redis
from http_reads import LINE, _app, copy_to, first_after_confirmation, sqlite_copy
from loadgen import Client

SLUG = "bench"
BASE = f"/letters/{SLUG}"
PAGE = f"{BASE}?lang=fr"  # the letter's language: without ?lang= the page is a redirect
PAGE_TARGET = 100_000  # bytes of HTML
# (p50) in seconds, from the issue: the page 50 ms, the name search 20 ms.
TARGETS = {"page": 0.050, "search, found": 0.020, "search, not found": 0.020,
           "country page": 0.050, "page with chart": 0.050}
# A GET of one path under wrk; wrk's summary as drive_writing's script prints it.
GET_LUA = ("-- Written by bench/letter_page_100k.py for one wrk run.\n"
           "function request()\n  return wrk.format(\"GET\", [==[%(path)s]==])\nend\n\n"
           "function done" + LUA.split("function done", 1)[1])


def _listed_name(database: Path) -> tuple[str, str]:
    """A name the list shows in full, and the biggest country's code."""
    with sqlite3.connect(database) as connection:
        name, = connection.execute(
            "SELECT name FROM signature WHERE signer_type = 'individual' AND display = 'full'"
            " ORDER BY id LIMIT 1 OFFSET 54321").fetchone()
        country, = connection.execute(
            "SELECT country FROM signature GROUP BY country ORDER BY count(*) DESC LIMIT 1"
        ).fetchone()
    return name, country


def _chart(url: str, on: bool) -> None:
    import sqlalchemy as sa

    engine = sa.create_engine(url)
    with engine.begin() as connection:
        connection.execute(sa.text("UPDATE letter SET show_chart = :on WHERE slug = :slug"),
                           {"on": on, "slug": SLUG})
    engine.dispose()


def _size(port: int, path: str) -> int:
    status, body = Client(port).request("GET", path)
    assert status == 200, (status, path)
    return len(body)


def _wrk(server: Gunicorn, folder: Path, label: str, path: str, warmup: int,
         duration: int) -> dict:
    """wrk's figures for `path`, and "own": the median of each worker's own time for the
    requests of the timed run (%(D)s in gunicorn's access log), queueing left out: on this
    shared machine wrk's latencies are mostly the wait for a core."""
    script = folder / f"{label.replace(' ', '-').replace(',', '')}.lua"
    script.write_text(GET_LUA % {"path": path}, encoding="utf-8")
    wrk(server.port, script, warmup, f"{label}-warmup")
    offset = server.access_log.stat().st_size
    result = wrk(server.port, script, duration, label)
    with server.access_log.open() as log:
        log.seek(offset)
        own = [int(match.group(3)) / 1e6 for match in map(LINE.match, log) if match]
    result["own"] = median(own)
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--workers", type=int, default=3)
    parser.add_argument("--warmup", type=int, default=3,
                        help="seconds (wrk takes whole ones): each worker builds its lists once")
    parser.add_argument("--duration", type=int, default=5)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--rebuild", action="store_true", help="rebuild bench/out/bench.sqlite")
    parser.add_argument("--postgresql", action="store_true",
                        help="also on a throw-away PostgreSQL database holding the same rows")
    args = parser.parse_args()
    if shutil.which("wrk") is None:
        raise SystemExit("wrk is needed (Debian package wrk)")
    harness.WORKERS = args.workers
    print(f"the letter page of 100,000 signatures; {machine()}")
    folder = OUT / "letter_page_100k"
    shutil.rmtree(folder, ignore_errors=True)
    folder.mkdir(parents=True)
    database = sqlite_copy(folder, args.rebuild)
    sqlite_url = f"sqlite:///{database}"
    name, country = _listed_name(database)
    paths = {
        "page": PAGE,
        "search, found": f"/letters/{SLUG}/search?q={quote(name)}",
        "search, not found": f"/letters/{SLUG}/search?q=Nobody%20Here",
        "country page": f"/letters/{SLUG}/signatories/{country}",
    }
    summary = Summary()
    with private_redis() as redis_url:
        options = (paths, args, folder, summary, redis_url)
        if args.postgresql:
            with pg_database("petition_bench_page") as url:
                if url is None:
                    print("PostgreSQL: unreachable at 127.0.0.1:5432, skipped")
                else:
                    print(f"copying the rows into PostgreSQL… {copy_to(sqlite_url, url):.1f} s")
                    measure("PostgreSQL", url, *options)
        measure("SQLite", sqlite_url, *options)
    summary.print("the letter page of 100,000 signatures")


def measure(label: str, url: str, paths: dict[str, str], args: argparse.Namespace,
            folder: Path, summary: Summary, redis_url: str | None) -> None:
    print(f"\n{label}")
    app = _app(url)
    env = app_env(url, CACHE_REDIS_URL=redis_url or "memory://")
    with Gunicorn("wsgi:app", env, folder, f"{label}-page") as server:
        server.wait_ready("/healthz")
        print(f"  {server.settings}; wrk 2 threads, 4 connections, {args.warmup} s warm-up "
              f"+ {args.duration} s a path; press lists shared through {redis_url}")
        for lang in ("fr", "en", "ru"):
            size = _size(server.port, f"{BASE}?lang={lang}")
            print(f"  page HTML, {lang}: {size / 1000:.1f} KB")
            summary.add(f"page HTML ({lang}) {label}", f"{size / 1000:.1f} KB",
                        f"<= {PAGE_TARGET // 1000} KB", size <= PAGE_TARGET)
        for name, path in paths.items():
            _size(server.port, path)  # built once before the clock starts
            _report(summary, name, label, path,
                    _wrk(server, folder, name, path, args.warmup, args.duration))
        for name in ("page", "search, found"):
            firsts = first_after_confirmation(app, server, paths[name], args.rounds)
            print(f"  first GET {name} of each worker after a confirmation, worker's own "
                  f"time ({args.rounds} rounds, {len(firsts)} firsts): median "
                  f"{median(firsts) * 1000:.1f} ms, max {max(firsts) * 1000:.0f} ms")
            summary.add(f"first {name} after confirm {label}: median",
                        f"{median(firsts) * 1000:.1f} ms", f"<= {TARGETS[name] * 1000:.0f} ms",
                        median(firsts) <= TARGETS[name])
    _chart(url, True)
    try:
        with Gunicorn("wsgi:app", env, folder, f"{label}-chart") as server:
            server.wait_ready("/healthz")
            size = _size(server.port, PAGE)
            print(f"  page HTML with the chart, fr: {size / 1000:.1f} KB")
            summary.add(f"page HTML with the chart (fr) {label}", f"{size / 1000:.1f} KB",
                        f"<= {PAGE_TARGET // 1000} KB", size <= PAGE_TARGET)
            _report(summary, "page with chart", label, PAGE,
                    _wrk(server, folder, "chart", PAGE, args.warmup, args.duration))
    finally:
        _chart(url, False)
    with app.app_context():
        from petition.extensions import db

        db.engine.dispose()


def _report(summary: Summary, name: str, label: str, path: str, result: dict) -> None:
    print(f"  GET {path[:52]:52} {result['rate']:6.1f} req/s  p50 {result['p50'] * 1000:5.1f} ms"
          f"  p99 {result['p99'] * 1000:6.1f} ms  worker's own p50 {result['own'] * 1000:5.1f} ms"
          f"  ({result['count']}, {result['errors']} errors)")
    summary.add(f"GET {name} {label}: p50", f"{result['p50'] * 1000:.1f} ms",
                f"<= {TARGETS[name] * 1000:.0f} ms",
                result["p50"] <= TARGETS[name] and not result["errors"])
    summary.add(f"GET {name} {label}: worker's own p50", f"{result['own'] * 1000:.1f} ms",
                f"<= {TARGETS[name] * 1000:.0f} ms", result["own"] <= TARGETS[name])


if __name__ == "__main__":
    sys.exit(main())
