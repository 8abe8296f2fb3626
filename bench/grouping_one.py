"""Time group_signatories() in a fresh process: first call, uncached call, cached calls."""
from __future__ import annotations

import json
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from dataset import SLUG, config  # noqa: E402

from petition import create_app  # noqa: E402
from petition.exporting.grouping import group_signatories  # noqa: E402
from petition.letters.operations import get_letter  # noqa: E402


def _timed(call) -> float:
    started = time.perf_counter()
    call()
    return time.perf_counter() - started


def main(database: Path, lang: str) -> dict:
    app = create_app(config(database))
    with app.app_context():
        letter = get_letter(SLUG)
        first = _timed(lambda: group_signatories(letter, lang))
        uncached = []
        for _ in range(3):
            app.extensions.pop("petition.grouping", None)  # as if the list had just changed
            uncached.append(_timed(lambda: group_signatories(letter, lang)))
        cached = [_timed(lambda: group_signatories(letter, lang)) for _ in range(20)]
        sections = group_signatories(letter, lang)
    with app.test_client() as client:
        page = _timed(lambda: client.get(f"/letters/{SLUG}?lang={lang}"))
        press = _timed(lambda: client.get(f"/letters/{SLUG}/signatories.txt?lang={lang}"))
    return {
        "first": first, "uncached": statistics.median(uncached),
        "cached": statistics.median(cached),
        "cached_max": max(cached), "groups": sum(len(s.groups) for s in sections),
        "signatures": sum(s.count for s in sections), "page": page, "press_txt": press,
    }


if __name__ == "__main__":
    print(json.dumps(main(Path(sys.argv[1]), sys.argv[2])))
