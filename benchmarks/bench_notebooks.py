"""Run every notebook top to bottom (as a learner would) and print its wall time and peak memory.

    python benchmarks/bench_notebooks.py [notebooks/01_intro_to_audio.ipynb ...] [--cold]

Budgets (COURSE_DESIGN.md): each notebook <= 3 min on 2 CPU cores (aim <= 90 s), the whole course
<= 15 min, peak memory <= 4 GB. ``--cold`` uses an empty corpus cache, as a first run would.
"""

from __future__ import annotations

import glob
import os
import subprocess
import sys
import tempfile
import time

RUNNER = r"""
import resource, sys, nbformat
from nbclient import NotebookClient
nb = nbformat.read(sys.argv[1], as_version=4)
NotebookClient(nb, timeout=900, kernel_name="python3", resources={"metadata": {"path": sys.argv[2]}}).execute()
print(resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss)
"""


def main(argv: list[str]) -> None:
    cold = "--cold" in argv
    paths = [a for a in argv if not a.startswith("--")] or sorted(glob.glob("notebooks/*.ipynb"))
    env = dict(os.environ, MPLBACKEND="Agg")
    tmp = tempfile.mkdtemp(prefix="course-cache-") if cold else None
    if tmp:
        env["COURSE_CACHE"] = tmp
    rows, total = [], 0.0
    for path in paths:
        t0 = time.perf_counter()
        out = subprocess.run([sys.executable, "-c", RUNNER, path, os.path.dirname(os.path.abspath(path))],
                             capture_output=True, text=True, env=env)
        dt = time.perf_counter() - t0
        total += dt
        ok = out.returncode == 0
        peak = int(out.stdout.strip().splitlines()[-1]) / 1024 if ok else float("nan")
        rows.append((os.path.basename(path), dt, peak, "ok" if ok else "FAILED"))
        print(f"{os.path.basename(path):40s} {dt:7.1f} s  peak {peak:7.0f} MB  {rows[-1][3]}", flush=True)
        if not ok:
            print(out.stderr[-2000:], file=sys.stderr)
    print(f"{'whole course':40s} {total:7.1f} s  ({'cold' if cold else 'warm'} cache, {os.cpu_count()} CPU cores)")


if __name__ == "__main__":
    main(sys.argv[1:])
