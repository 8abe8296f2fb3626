"""`make bench`: exports of a 100,000-signature letter from 150 countries, timed.

Each measurement runs in a fresh process, as `flask export` does, and reports
  export  — the export call alone (grouping, sorting, writing the file),
  command — the whole `flask --app wsgi export …` process, app start-up included,
  peak    — the command's own peak resident memory (its VmHWM, written at exit by
            peak_of.py: wait4's ru_maxrss would start from this process's size).
The limits are checked against `export` (first call in a fresh process, every lazy load
included) and `peak`; `command` adds the app's start-up, printed on its own first.
The database is a SQLite file in bench/out/ (built once; --rebuild to start again).
"""
from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
OUT = HERE / "out"
DATABASE = OUT / "bench.sqlite"
PYTHON = sys.executable
sys.path.insert(0, str(HERE))
from export_memory import check, export_args, run_peak  # noqa: E402
from harness import SUMMARY_ENV, Summary, print_table  # noqa: E402

# Seconds allowed per format (issue 3); html and json have none, the text formats' is shown.
LIMITS = {"txt": 2, "md": 2, "csv": 2, "xlsx": 10, "docx": 20, "odt": 20, "pdf": 30}
MEMORY_LIMIT_MB = 500
FORMATS = ("txt", "md", "html", "json", "csv", "xlsx", "docx", "odt", "pdf")


def _run(args: list[str], env: dict | None = None) -> tuple[float, float, str]:
    """Run a Python process; return its wall time, its own peak memory in MB and its output."""
    assert args[0] == PYTHON
    wall, peak, _, stdout = run_peak(args[1:], env)
    return wall, peak, stdout


def _dataset(rebuild: bool) -> None:
    sys.path.insert(0, str(HERE))
    from dataset import build, migrate

    if rebuild or not DATABASE.exists():
        print("building 100,000 confirmed signatures from 150 countries…", flush=True)
        seconds = build(DATABASE)
        print(f"  inserted in {seconds:.1f} s (executemany, collation keys included)\n")
    else:
        migrate(DATABASE)  # built by an earlier version: the current schema


def _grouping() -> None:
    print("grouping for the public page (group_signatories), fresh process each language:")
    for lang in ("fr", "ru"):
        _, peak, out = _run([PYTHON, str(HERE / "grouping_one.py"), str(DATABASE), lang])
        r = json.loads(out)
        print(
            f"  {lang}: cached {r['cached'] * 1000:.1f} ms (max {r['cached_max'] * 1000:.1f}), "
            f"uncached {r['uncached'] * 1000:.0f} ms, "
            f"first call in the process {r['first'] * 1000:.0f} ms; "
            f"{r['signatures']} signatures in {r['groups']} groups; peak {peak:.0f} MB"
        )
        print(
            f"      GET /letters/bench?lang={lang} (organisations listed, "
            f"individuals past PUBLIC_NAMES_LIMIT as counts) {r['page'] * 1000:.0f} ms, "
            f"GET /letters/bench/signatories.txt {r['press_txt'] * 1000:.0f} ms"
        )
    print()


def _exports(formats: tuple[str, ...], layouts: tuple[str, ...], summary: Summary) -> bool:
    env = dict(os.environ, DATABASE_URL=f"sqlite:///{DATABASE}", FLASK_APP="wsgi",
               EMAIL_KEY=_email_key(), SECRET_KEY="bench", MAIL_DISPATCH_IN_PROCESS="false")
    startup, startup_peak, _, _ = run_peak(["-m", "flask", "--help"], env)
    print(f"app start-up alone (flask --app wsgi --help): {startup:.2f} s, {startup_peak:.0f} MB\n")
    print(f"{'format':7} {'layout':10} {'export':>8} {'command':>8} {'peak':>8} {'size':>9}  limit")
    ok = True
    for fmt in formats:
        for layout in layouts:
            target = OUT / f"bench-{layout}.{fmt}"
            _, _, out = _run([PYTHON, str(HERE / "export_one.py"), str(DATABASE), fmt, "fr",
                              layout, str(target)])
            inner = json.loads(out)
            wall, peak, _, _ = run_peak(export_args(fmt, target, layout), env)
            if layout == "press":
                check(fmt, peak, summary)
            limit = LIMITS.get(fmt)
            verdict = "—"
            if limit:
                passed = inner["export"] <= limit and peak <= MEMORY_LIMIT_MB
                ok &= passed
                verdict = f"{limit} s / {MEMORY_LIMIT_MB} MB {'ok' if passed else 'OVER'}"
            print(f"{fmt:7} {layout:10} {inner['export']:7.2f}s {wall:7.2f}s {peak:6.0f}MB "
                  f"{inner['bytes'] / 1e6:7.1f}MB  {verdict}", flush=True)
    return ok


def _email_key() -> str:
    sys.path.insert(0, str(HERE))
    from dataset import EMAIL_KEY

    return EMAIL_KEY


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rebuild", action="store_true", help="rebuild the benchmark database")
    parser.add_argument("--formats", nargs="*", default=list(FORMATS), choices=FORMATS)
    parser.add_argument("--submission", action="store_true", help="also time the submission layout")
    args = parser.parse_args()
    OUT.mkdir(exist_ok=True)
    _dataset(args.rebuild)
    _grouping()
    layouts = ("press", "submission") if args.submission else ("press",)
    summary_file = OUT / "summary.jsonl"
    summary_file.write_text("")
    os.environ[SUMMARY_ENV] = str(summary_file)  # every script below adds its figures
    ok = _exports(tuple(args.formats), layouts, Summary())
    print("\nall within the limits" if ok else "\nSOME EXPORTS OVER THEIR LIMIT")
    print()
    subprocess.run([PYTHON, str(HERE / "signing.py")], check=True)
    print()
    subprocess.run([PYTHON, str(HERE / "admin_pages.py"), str(DATABASE)], check=True)
    print()
    subprocess.run([PYTHON, str(HERE / "privacy.py"), str(DATABASE)], check=True)
    print()
    subprocess.run([PYTHON, str(HERE / "remnants.py")], check=True)
    print()
    # On a copy: each round adds a signature.
    copy = OUT / "read_path.sqlite"
    shutil.copyfile(DATABASE, copy)
    subprocess.run([PYTHON, str(HERE / "read_path.py"), f"sqlite:///{copy}"], check=True)
    for script in ("http_signing.py", "http_reads.py", "mail_dispatch.py", "drive_writing.py",
                   "drive_batch.py"):
        print()
        subprocess.run([PYTHON, str(HERE / script)], check=True)
    rows = [json.loads(line) for line in summary_file.read_text().splitlines() if line]
    print_table(rows, "targets of issue 9 (Production)")


if __name__ == "__main__":
    main()
