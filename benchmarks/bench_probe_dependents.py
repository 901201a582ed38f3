"""`probe --json --python VENV` on a venv holding 2,000 small distributions (10 depending on torch)
beside the same on an empty venv, interleaved: what reading every distribution's metadata for
torch's neighbours costs. Prints figures; no test asserts them.

    python benchmarks/bench_probe_dependents.py
"""

from __future__ import annotations

import os
import statistics
import subprocess
import sys
import tempfile
import time
import venv
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
RUNS = 9


def make(folder: Path, count: int) -> Path:
    venv.EnvBuilder(with_pip=False).create(folder)
    python = folder / "bin" / "python"
    site = next((folder / "lib").glob("python3*/site-packages"))
    for i in range(count):
        info = site / f"pkg{i:04d}-1.0.dist-info"
        info.mkdir()
        requires = "Requires-Dist: torch>=2.0\n" if i % 200 == 0 else "Requires-Dist: numpy\n"
        (info / "METADATA").write_text(f"Metadata-Version: 2.1\nName: pkg{i:04d}\nVersion: 1.0\n{requires}\n")
        (info / "RECORD").write_text(f"pkg{i:04d}/__init__.py,,\n")
    return python


def main() -> None:
    work = Path(tempfile.mkdtemp(prefix="bench-dependents-"))
    empty, full = make(work / "empty", 0), make(work / "full", 2000)
    env = dict(os.environ, PYTHONPATH=str(REPO))
    times: dict[str, list[float]] = {"empty venv": [], "2,000 distributions": []}
    for _ in range(RUNS):
        for name, python in (("empty venv", empty), ("2,000 distributions", full)):
            started = time.perf_counter()
            subprocess.run([sys.executable, "-m", "torchsetup", "probe", "--json", "--python", str(python)],
                           capture_output=True, env=env, check=True)
            times[name].append(time.perf_counter() - started)
    base = statistics.median(times["empty venv"]) * 1000
    for name, values in times.items():
        median = statistics.median(values) * 1000
        print(f"probe --json, {name:<22} {median:7.0f} ms wall (median of {RUNS})  +{median - base:.0f} ms")
    print("target: 2,000 distributions cost <= 150 ms more than an empty venv")


if __name__ == "__main__":
    main()
