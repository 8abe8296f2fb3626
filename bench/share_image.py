"""The share image of the 100,000-signature letter (issue 21, item 3): building it, and
serving it once built.

On a migrated copy of bench/out/bench.sqlite (dataset.py builds it). Prints:
- in this process: drawing the card alone (Pillow, PNG), and the first GET of a fresh app
  (the count read, the card drawn, the bytes kept), median of --rounds, per language;
- through HTTP: gunicorn with the shipped config and --workers workers (3 by default), the
  built images shared through a private Redis as in production; p50/p99 under wrk (2 threads,
  4 connections) of GET /letters/bench/share.png?lang=ru once built, and of its 304 answer,
  and the workers' own p50 from gunicorn's access log (wrk's adds the wait for a free worker,
  long on a shared machine);
- the first GET each worker answers right after a confirmation (a new list version: the
  image is drawn again by one worker, the others take it from Redis), each worker's own time
  from gunicorn's access log.
The issue's target: the share image at most 20 ms once built.
"""
from __future__ import annotations

import argparse
import shutil
import sys
import time

import harness
from harness import OUT, Gunicorn, Summary, app_env, machine, median, private_redis
from http_reads import _app, first_after_confirmation, sqlite_copy
from reads_api import _etag, _wrk

SLUG = "bench"
IMAGE = f"/letters/{SLUG}/share.png?lang=ru"
TARGET = 0.020  # seconds, p50 once built
WARMUP = 1  # second of wrk before each measured run


def _in_process(url: str, rounds: int, summary: Summary) -> None:
    from sqlalchemy import select

    from petition.exporting import share_image
    from petition.extensions import db
    from petition.models import Letter
    from petition.views import previews

    for lang in ("fr", "ru"):
        draws, firsts = [], []
        for _ in range(rounds):
            app = _app(url)  # a new app: nothing kept yet
            with app.app_context():
                client = app.test_client()
                started = time.perf_counter()
                response = client.get(f"/letters/{SLUG}/share.png?lang={lang}")
                firsts.append(time.perf_counter() - started)
                assert response.status_code == 200, response.status_code
                size = len(response.data)
                with app.test_request_context(f"/?lang={lang}"):
                    from flask_babel import get_translations

                    letter_id = db.session.scalar(select(Letter.id).where(Letter.slug == SLUG))
                    card = previews._card(letter_id, lang, get_translations(), "Bench", True)
                    started = time.perf_counter()
                    share_image.draw(card, previews._fonts())
                    draws.append(time.perf_counter() - started)
                db.session.remove()
                db.engine.dispose()
        print(f"  {lang}: drawing the card {median(draws) * 1000:.1f} ms; first GET of a fresh "
              f"app {median(firsts) * 1000:.1f} ms (median of {rounds}); {size / 1000:.1f} KB; "
              f"card: {card.count_line} · {card.goal_line}")
        summary.add(f"share image drawn ({lang}): median", f"{median(draws) * 1000:.1f} ms",
                    "built once per list version", True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    for option, default in (("--workers", 3), ("--duration", 5), ("--rounds", 3)):
        parser.add_argument(option, type=int, default=default)
    args = parser.parse_args()
    if shutil.which("wrk") is None:
        raise SystemExit("wrk is needed (Debian package wrk)")
    harness.WORKERS = args.workers
    print(f"the share image of the letter of 100,000 signatures; {machine()}")
    folder = OUT / "share_image"
    shutil.rmtree(folder, ignore_errors=True)
    folder.mkdir(parents=True)
    url = f"sqlite:///{sqlite_copy(folder, rebuild=False)}"  # built first if missing
    summary = Summary()
    _in_process(url, args.rounds, summary)
    app = _app(url)
    with private_redis() as redis_url:
        env = app_env(url, CACHE_REDIS_URL=redis_url or "memory://")
        with Gunicorn("wsgi:app", env, folder, "share") as server:
            server.wait_ready("/healthz")
            print(f"  {server.settings}; wrk 2 threads, 4 connections, {WARMUP} s warm-up "
                  f"+ {args.duration} s; images shared through {redis_url}")
            tag = _etag(server.port, IMAGE)  # built once before the clock starts
            for label, headers in (("200", {}), ("304", {"If-None-Match": tag})):
                result, times = _wrk(server, folder, label, IMAGE, headers, WARMUP,
                                     args.duration)
                own = median(times)
                print(f"  GET {IMAGE} ({label}) {result['rate']:7.1f} req/s  p50 "
                      f"{result['p50'] * 1000:6.1f} ms  p99 {result['p99'] * 1000:6.1f} ms  "
                      f"({result['count']}, {result['errors']} errors); the workers' own "
                      f"time: p50 {own * 1000:.2f} ms")
                summary.add(f"GET share.png ({label}): p50", f"{result['p50'] * 1000:.1f} ms",
                            f"<= {TARGET * 1000:.0f} ms",
                            result["p50"] <= TARGET and not result["errors"])
                summary.add(f"GET share.png ({label}): workers' own p50",
                            f"{own * 1000:.2f} ms", f"<= {TARGET * 1000:.0f} ms",
                            own <= TARGET)
            firsts = first_after_confirmation(app, server, IMAGE, args.rounds)
            print(f"  first GET of each worker after a confirmation, worker's own time "
                  f"({args.rounds} rounds, {len(firsts)} firsts): median "
                  f"{median(firsts) * 1000:.1f} ms, max {max(firsts) * 1000:.0f} ms")
            summary.add("first share.png after confirm: median",
                        f"{median(firsts) * 1000:.1f} ms", "(drawn again once)", True)
    summary.print("the share image of 100,000 signatures")


if __name__ == "__main__":
    sys.exit(main())
