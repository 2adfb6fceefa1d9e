"""Benchmark: the tablet app from launch to its first frame (the PIN screen), wall and CPU time.

Starts ``python -m peacewatch.mobile`` under a private Xvfb display, N times, with a fresh data
dir each run; the app writes the CPU time it has spent (user + system, from ``getrusage``) and the
clock at its first frame (``PEACEWATCH_FIRST_FRAME``) and quits. CPU time is the figure that does
not move with the machine's load; wall time is what the patrol waits.

    .venv/bin/python bench/app_start.py            # 7 runs
    .venv/bin/python bench/app_start.py --quick    # 3 runs
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def start_xvfb() -> tuple[subprocess.Popen[bytes], str]:
    for number in range(170, 200):
        if Path(f"/tmp/.X11-unix/X{number}").exists() or Path(f"/tmp/.X{number}-lock").exists():
            continue
        proc = subprocess.Popen(["Xvfb", f":{number}", "-screen", "0", "1280x1280x24", "-nolisten", "tcp"],
                                stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline and proc.poll() is None:
            if Path(f"/tmp/.X11-unix/X{number}").exists():
                return proc, f":{number}"
            time.sleep(0.05)
        proc.terminate()
        proc.wait(timeout=10)
    raise SystemExit("no free X display for Xvfb")


def one_run(display: str, work: Path) -> tuple[float, float]:
    data, report = work / "tablet", work / "first-frame.json"
    shutil.rmtree(work, ignore_errors=True)
    (data / ".kivy").mkdir(parents=True)
    env = dict(os.environ, DISPLAY=display, KIVY_HOME=str(data / ".kivy"), PEACEWATCH_FIRST_FRAME=str(report))
    started = time.time()
    proc = subprocess.run([sys.executable, "-m", "peacewatch.mobile", "--data-dir", str(data), "--size", "1280x800"],
                          env=env, cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, timeout=120)
    if proc.returncode != 0 or not report.exists():
        raise SystemExit(f"the app did not reach its first frame:\n{proc.stderr.decode()[-2000:]}")
    out = json.loads(report.read_text())
    return out["at"] - started, out["cpu_s"]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=7)
    parser.add_argument("--quick", action="store_true", help="3 runs")
    args = parser.parse_args()
    runs = 3 if args.quick else args.runs
    if shutil.which("Xvfb") is None:
        raise SystemExit("needs Xvfb (scripts/system-deps.sh)")
    xvfb, display = start_xvfb()
    try:
        with tempfile.TemporaryDirectory() as tmp:
            one_run(display, Path(tmp) / "warm")  # fill the OS file cache: measure the app, not the disk
            results = [one_run(display, Path(tmp) / f"run{i}") for i in range(runs)]
    finally:
        xvfb.terminate()
        xvfb.wait(timeout=10)
    walls, cpus = [w for w, _ in results], [c for _, c in results]
    print(f"app start to first frame, {runs} runs (median, min-max):")
    print(f"  wall {statistics.median(walls):.2f} s ({min(walls):.2f}-{max(walls):.2f})")
    print(f"  CPU  {statistics.median(cpus):.2f} s ({min(cpus):.2f}-{max(cpus):.2f})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
