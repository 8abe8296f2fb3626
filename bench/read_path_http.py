"""The letter page and JSON through gunicorn (2 workers) on 127.0.0.1, with confirmations.

Every tenth round adds one confirmed individual (as read_path.py does), then two clients
ask for the page at once: each worker's first request after the change. Bounded: ROUNDS
rounds against 127.0.0.1 only, then the server is stopped. Usage:

    python bench/read_path_http.py DATABASE_URL [PORT] [ROUNDS]

The database must hold the benchmark letter (bench/dataset.py); it gains a signature per
ten rounds: use a copy.
"""
from __future__ import annotations

import os
import statistics
import subprocess
import sys
import threading
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from dataset import EMAIL_KEY, SLUG, config  # noqa: E402

from petition import create_app  # noqa: E402
from petition.extensions import db  # noqa: E402
from petition.letters.operations import get_letter  # noqa: E402
from petition.signatures import curation


def _summary(times: list[float]) -> str:
    ordered = sorted(times)
    p99 = ordered[min(len(ordered) - 1, int(len(ordered) * 0.99))]
    return (f"p50 {statistics.median(ordered) * 1000:6.1f} ms  p99 {p99 * 1000:6.1f} ms  "
            f"max {ordered[-1] * 1000:6.1f} ms  (n={len(ordered)})")


def main(url: str, port: int, rounds: int) -> None:
    env = dict(os.environ, DATABASE_URL=url, SECRET_KEY="bench", EMAIL_KEY=EMAIL_KEY,
               RATELIMIT_ENABLED="false", MAIL_DISPATCH_IN_PROCESS="false",
               GUNICORN_ACCESSLOG="/dev/null")
    server = subprocess.Popen(
        [sys.executable, "-m", "gunicorn", "-c", str(ROOT / "docs/deployment/gunicorn.conf.py"),
         "--workers", "2", "--bind", f"127.0.0.1:{port}", "wsgi:app"],
        cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    base = f"http://127.0.0.1:{port}"

    def get(path: str) -> float:
        started = time.perf_counter()
        with urllib.request.urlopen(base + path, timeout=30) as response:
            response.read()
        return time.perf_counter() - started

    try:
        for _ in range(100):
            try:
                get("/healthz")
                break
            except OSError:
                time.sleep(0.2)
        settings = config(ROOT / "bench" / "out" / "unused.sqlite")
        settings["SQLALCHEMY_DATABASE_URI"] = url
        app = create_app(settings)
        for _ in range(4):  # warm both workers
            get(f"/letters/{SLUG}?lang=fr")
            get(f"/letters/{SLUG}.json")
        page, first, json_ = [], [], []
        for number in range(rounds):
            if number % 10 == 0:
                with app.app_context():
                    curation.add_manual(get_letter(SLUG), signer_type="individual",
                                        name=f"Http {number}", affiliation=None, country="FR",
                                        display="full", provenance="bench")
                    db.session.remove()
                results: list[float] = []
                clients = [threading.Thread(
                    target=lambda results=results: results.append(get(f"/letters/{SLUG}?lang=fr")))
                    for _ in range(2)]
                for client in clients:
                    client.start()
                for client in clients:
                    client.join()
                first += results
                page += results
            page.append(get(f"/letters/{SLUG}?lang=fr"))
            json_.append(get(f"/letters/{SLUG}.json"))
    finally:
        server.terminate()
        server.wait(10)
    print(f"read path through gunicorn, 2 workers, {url.split(':')[0]}, {rounds} rounds:")
    print(f"  page, every request            {_summary(page)}")
    print(f"  page, first after a change     {_summary(first)}")
    print(f"  JSON                           {_summary(json_)}")


if __name__ == "__main__":
    main(sys.argv[1], int(sys.argv[2]) if len(sys.argv) > 2 else 8431,
         int(sys.argv[3]) if len(sys.argv) > 3 else 100)
