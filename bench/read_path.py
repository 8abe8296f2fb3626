"""Time the read path of a 100,000-signature letter in one process: page, JSON, press list.

Each round adds one confirmed individual (curation.add_manual: the list version and the
counts change in its transaction, as a confirmation does), then times the first
GET /letters/bench?lang=fr after it (the list is rebuilt), the page again (cached), the JSON
and the index (/?lang=fr: without ?lang= both are redirects), then the press list: its
first request after the change (the previous list if the build runs past
PRESS_BUILD_WAIT), the time until the new list is served, a cached request and a 304.
In-process WSGI calls, no network. Usage:

    python bench/read_path.py [DATABASE_URL] [--rounds N]

DATABASE_URL defaults to the SQLite file of bench/dataset.py (bench/out/bench.sqlite).
"""
from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from dataset import SLUG, config  # noqa: E402

from petition import create_app  # noqa: E402
from petition.extensions import db  # noqa: E402
from petition.letters.operations import get_letter  # noqa: E402
from petition.signatures import curation

PRESS_FIRST = "press txt, first after a change"
PRESS_FRESH = "press txt, change to new list served"
PRESS_CACHED = "press txt, cached"
PRESS_304 = "press txt, If-None-Match (304)"


def _timed(client, url: str) -> float:
    started = time.perf_counter()
    response = client.get(url)
    elapsed = time.perf_counter() - started
    assert response.status_code == 200, (url, response.status_code)
    return elapsed


def _summary(name: str, times: list[float]) -> str:
    ordered = sorted(times)
    p99 = ordered[min(len(ordered) - 1, int(len(ordered) * 0.99))]
    return (f"  {name:34} p50 {statistics.median(ordered) * 1000:7.1f} ms   "
            f"p99 {p99 * 1000:7.1f} ms   max {ordered[-1] * 1000:7.1f} ms")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("url", nargs="?", default=f"sqlite:///{ROOT / 'bench/out/bench.sqlite'}")
    parser.add_argument("--rounds", type=int, default=20)
    args = parser.parse_args()
    settings = config(ROOT / "bench" / "out" / "unused.sqlite")
    settings["SQLALCHEMY_DATABASE_URI"] = args.url
    app = create_app(settings)
    first = "page, first after a confirmation"
    times: dict[str, list[float]] = {first: [], "page, cached": [], "JSON": [], "index": [],
                                     PRESS_FIRST: [], PRESS_FRESH: [], PRESS_CACHED: [],
                                     PRESS_304: []}
    stale = [0]
    with app.test_client() as client:
        client.get(f"/letters/{SLUG}?lang=fr")  # warm: lazy imports, catalogues
        for number in range(args.rounds):
            with app.app_context():
                curation.add_manual(get_letter(SLUG), signer_type="individual",
                                    name=f"Bench Confirmed {number}", affiliation=None,
                                    country="FR", display="full", provenance="bench")
                db.session.remove()
            times[first].append(_timed(client, f"/letters/{SLUG}?lang=fr"))
            for _ in range(5):
                times["page, cached"].append(_timed(client, f"/letters/{SLUG}?lang=fr"))
                times["JSON"].append(_timed(client, f"/letters/{SLUG}.json"))
            times["index"].append(_timed(client, "/?lang=fr"))  # bare "/": a redirect
            _press(client, f"Bench Confirmed {number}", times, stale)
    dialect = args.url.split(":", 1)[0]
    print(f"read path, {dialect}, one process, {args.rounds} confirmations; "
          f"PRESS_BUILD_WAIT {app.config['PRESS_BUILD_WAIT']} s, no Redis; RSS at the end "
          f"{_rss_mb():.0f} MB:")
    for name, values in times.items():
        print(_summary(name, values))
    print(f"  press list: {stale[0]} of {args.rounds} first requests after a change got the "
          "previous list (the build ran on past PRESS_BUILD_WAIT)")


PRESS_URL = f"/letters/{SLUG}/signatories.txt?lang=fr"


def _press(client, name: str, times: dict[str, list[float]], stale: list[int]) -> None:
    """The press list after a change: the first request, the time until the new list is
    served, then a cached request and a 304."""
    changed = time.perf_counter()
    response = client.get(PRESS_URL)
    times[PRESS_FIRST].append(time.perf_counter() - changed)
    if name.encode() not in response.data:
        stale[0] += 1
    while name.encode() not in response.data:
        time.sleep(0.01)
        response = client.get(PRESS_URL)
    times[PRESS_FRESH].append(time.perf_counter() - changed)
    times[PRESS_CACHED].append(_timed(client, PRESS_URL))
    started = time.perf_counter()
    revalidated = client.get(PRESS_URL, headers={"If-None-Match": response.headers["ETag"]})
    assert revalidated.status_code == 304
    times[PRESS_304].append(time.perf_counter() - started)


def _rss_mb() -> float:
    with open("/proc/self/status") as status:
        return next(int(line.split()[1]) / 1024 for line in status if line.startswith("VmRSS"))


if __name__ == "__main__":
    main()
