"""Run `python -m MODULE ARGS…` or `python SCRIPT ARGS…` here; write its own peak memory at exit.

`python bench/peak_of.py -m flask export …` behaves as `python -m flask export …`, and
`python bench/peak_of.py bench/x.py …` as `python bench/x.py …`; on exit it
writes VmHWM (the peak resident memory of this process's own address space, in kB) to the
file named by BENCH_PEAK_FILE. Unlike ru_maxrss read by the parent with wait4, this does
not start from the parent's size: Linux carries the parent's high-water mark over the
fork and exec into the child's ru_maxrss.
"""
from __future__ import annotations

import atexit
import os
import runpy
import sys


def _write_peak() -> None:
    with open("/proc/self/status") as status:
        peak = next(line.split()[1] for line in status if line.startswith("VmHWM:"))
    with open(os.environ["BENCH_PEAK_FILE"], "w") as file:
        file.write(peak)


if __name__ == "__main__":
    atexit.register(_write_peak)
    if sys.argv[1] == "-m":
        module = sys.argv[2]
        sys.argv = [module, *sys.argv[3:]]
        sys.path[0] = os.getcwd()  # as `python -m` has it, not this script's folder
        runpy.run_module(module, run_name="__main__", alter_sys=True)
    else:
        script = os.path.abspath(sys.argv[1])
        sys.argv = sys.argv[1:]
        sys.path[0] = os.path.dirname(script)  # as `python SCRIPT` has it
        runpy.run_path(script, run_name="__main__")
