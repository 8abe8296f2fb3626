"""Back-office pages on the 100,000-signature letter: how long an organiser waits.

Runs on a copy of bench/out/bench.sqlite (the pages and the import write), through the WSGI
app in one process (no network), logged in as an admin. Prints the median of a few calls
per page, and a browser import of 5,000 rows: the check, then the confirmation.

    .venv/bin/python bench/admin_pages.py [bench/out/bench.sqlite]
"""
from __future__ import annotations

import io
import re
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))
sys.path.insert(0, str(HERE))

from dataset import SLUG, config  # noqa: E402

from petition import create_app  # noqa: E402
from petition.accounts import operations as accounts  # noqa: E402

PASSWORD = "benchmark password"
PAGES = (
    ("overview (totals, chart)", f"/admin/letters/{SLUG}"),
    ("signatures, first page", f"/admin/letters/{SLUG}/signatures"),
    ("signatures, name search", f"/admin/letters/{SLUG}/signatures?q=ova"),
    ("signatures, one country", f"/admin/letters/{SLUG}/signatures?country=DE&status=confirmed"),
    ("moderation queue", f"/admin/letters/{SLUG}/moderation"),
    ("audit log", "/admin/audit"),
)


def _median(call, runs: int = 5) -> float:
    times = []
    for _ in range(runs):
        started = time.perf_counter()
        call()
        times.append(time.perf_counter() - started)
    return statistics.median(times)


def _csv(rows: int) -> bytes:
    lines = ["name,type,country"] + [f"Bench Union {n},organisation,FR" for n in range(rows)]
    return ("\n".join(lines) + "\n").encode()


def main(database: Path) -> None:
    work = Path(tempfile.mkdtemp())
    copy = work / "admin.sqlite"
    shutil.copy(database, copy)
    app = create_app({**config(copy), "WTF_CSRF_ENABLED": False, "ADMIN_TOTP_REQUIRED": False})
    try:
        with app.app_context():
            accounts.create_account("bench@example.org", "admin", PASSWORD, actor="bench")
        client = app.test_client()
        client.post("/admin/login", data={"email": "bench@example.org", "password": PASSWORD})
        print("back office, 100,000 signatures, SQLite file, one process (median of 5):")
        for name, url in PAGES:
            assert client.get(url).status_code == 200, url
            print(f"  {name:28} {_median(lambda url=url: client.get(url)) * 1000:7.0f} ms")
        data = _csv(5000)
        started = time.perf_counter()
        report = client.post(f"/admin/letters/{SLUG}/import",
                             data={"file": (io.BytesIO(data), "bench.csv"),
                                   "provenance": "benchmark"},
                             content_type="multipart/form-data")
        checked = time.perf_counter() - started
        page = report.get_data(as_text=True)
        fields = dict(re.findall(r'name="(token|expected)" value="([^"]*)"', page))
        started = time.perf_counter()
        done = client.post(f"/admin/letters/{SLUG}/import/confirm",
                           data={**fields, "confirm": "1"})
        confirmed = time.perf_counter() - started
        assert done.status_code in (302, 303), done.status_code
        print(f"  import of 5,000 rows ({len(data) // 1024} KB): check {checked:.2f} s, "
              f"confirm {confirmed:.2f} s")
    finally:
        shutil.rmtree(work)


if __name__ == "__main__":
    main(Path(sys.argv[1]) if len(sys.argv) > 1 else HERE / "out" / "bench.sqlite")
