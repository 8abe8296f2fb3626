"""Run one export in a fresh process and print its timings as JSON (used by bench/run.py)."""
from __future__ import annotations

import json
import sys
import time
from pathlib import Path

started = time.perf_counter()
ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from dataset import SLUG, config  # noqa: E402

from petition import create_app  # noqa: E402
from petition.exporting.formats import export_to_path  # noqa: E402
from petition.letters.operations import get_letter  # noqa: E402


def main(database: Path, fmt: str, lang: str, layout: str, target: Path) -> dict:
    app = create_app(config(database))
    with app.app_context():
        letter = get_letter(SLUG)
        ready = time.perf_counter()
        export_to_path(letter, fmt, lang, layout, target)
        done = time.perf_counter()
    return {"startup": ready - started, "export": done - ready, "bytes": target.stat().st_size}


if __name__ == "__main__":
    database, fmt, lang, layout, target = sys.argv[1:6]
    print(json.dumps(main(Path(database), fmt, lang, layout, Path(target))))
