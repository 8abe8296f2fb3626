"""Peak memory of each `flask export` of the 100,000-signature letter, that process alone.

Each export runs as `flask --app wsgi export bench --format … --out …` through peak_of.py,
which writes the process's own VmHWM at exit. The ru_maxrss that wait4 returns for the
same child is printed beside it: Linux starts a child's ru_maxrss at its parent's size
(the high-water mark survives fork and exec), so it says more about the parent than the
export when the parent is large (bench/run.py has built the dataset by then).
"""
from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

from harness import HERE, OUT, PYTHON, ROOT, Summary, app_env, machine

FORMATS = ("txt", "md", "html", "json", "csv", "xlsx", "docx", "odt", "pdf")
MEMORY_TARGET_MB = 500
DATABASE = OUT / "bench.sqlite"


def run_peak(args: list[str], env: dict[str, str] | None = None,
             ) -> tuple[float, float, float, str]:
    """Run `python ARGS` (["-m", "flask", …] or [script, …]); (wall seconds, own peak MB,
    wait4's ru_maxrss MB, standard output)."""
    with tempfile.NamedTemporaryFile(prefix="peak-", dir=OUT, delete=False) as file:
        peak_file = Path(file.name)
    try:
        started = time.perf_counter()
        process = subprocess.Popen([PYTHON, str(HERE / "peak_of.py"), *args], cwd=ROOT,
                                   env=dict(env or os.environ, BENCH_PEAK_FILE=str(peak_file)),
                                   stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        output: dict[str, bytes] = {}
        streams = (("out", process.stdout), ("err", process.stderr))
        readers = [threading.Thread(target=lambda name=name, stream=stream: output.update(
            {name: stream.read()})) for name, stream in streams]
        for reader in readers:
            reader.start()
        for reader in readers:
            reader.join()
        _, status, usage = os.wait4(process.pid, 0)  # not communicate(): it would reap the child
        process.returncode = os.waitstatus_to_exitcode(status)
        wall = time.perf_counter() - started
        if process.returncode:
            raise SystemExit(f"python {' '.join(args)} failed:\n{output['err'].decode()[-3000:]}")
        own = int(peak_file.read_text()) / 1024
    finally:
        peak_file.unlink(missing_ok=True)
    return wall, own, usage.ru_maxrss / 1024, output["out"].decode()  # Linux: kB


def export_env() -> dict[str, str]:
    return app_env(f"sqlite:///{DATABASE}")


def export_args(fmt: str, target: Path, layout: str = "press") -> list[str]:
    return ["-m", "flask", "export", "bench", "--format", fmt, "--lang", "fr", "--layout", layout,
            "--out", str(target)]


def check(fmt: str, own: float, summary: Summary) -> bool:
    ok = own <= MEMORY_TARGET_MB
    summary.add(f"export {fmt} peak memory (own process)", f"{own:.0f} MB",
                f"<= {MEMORY_TARGET_MB} MB", ok)
    return ok


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--formats", nargs="*", default=list(FORMATS), choices=FORMATS)
    args = parser.parse_args()
    if not DATABASE.exists():
        sys.path.insert(0, str(ROOT))
        from dataset import build

        print("building 100,000 confirmed signatures…", flush=True)
        build(DATABASE)
    print("peak memory of each export of 100,000 signatures, the export process alone; "
          f"{machine()}")
    print(f"{'format':7} {'command':>8} {'own peak':>9} {'wait4':>8}")
    summary = Summary()
    env = export_env()
    for fmt in args.formats:
        target = OUT / f"bench-press.{fmt}"
        wall, own, inherited, _ = run_peak(export_args(fmt, target), env)
        print(f"{fmt:7} {wall:7.2f}s {own:7.0f}MB {inherited:6.0f}MB", flush=True)
        check(fmt, own, summary)
    summary.print("export memory")


if __name__ == "__main__":
    main()
