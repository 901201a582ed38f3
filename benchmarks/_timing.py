"""Shared helpers for the benchmark scripts: run a command N times, report the median."""

from __future__ import annotations

import statistics
import subprocess
import time
from collections.abc import Callable


def time_process(argv: list[str], runs: int = 9, env: dict[str, str] | None = None) -> list[float]:
    subprocess.run(argv, capture_output=True, env=env, check=False)  # warm the file cache
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        subprocess.run(argv, capture_output=True, env=env, check=False)
        times.append(time.perf_counter() - start)
    return times


def time_processes(commands: dict[str, list[str]], runs: int = 9,
                   env: dict[str, str] | None = None) -> dict[str, list[float]]:
    """Like time_process for several commands, interleaved: a slow minute of the VM hits them alike."""
    for argv in commands.values():
        subprocess.run(argv, capture_output=True, env=env, check=False)  # warm the file cache
    times: dict[str, list[float]] = {name: [] for name in commands}
    for _ in range(runs):
        for name, argv in commands.items():
            start = time.perf_counter()
            subprocess.run(argv, capture_output=True, env=env, check=False)
            times[name].append(time.perf_counter() - start)
    return times


def time_call(fn: Callable[[], object], runs: int = 25) -> list[float]:
    fn()
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return times


def report(label: str, times: list[float], target_ms: float | None = None) -> None:
    med = statistics.median(times) * 1000
    spread = f"min {min(times) * 1000:.1f} ms, max {max(times) * 1000:.1f} ms, n={len(times)}"
    goal = f"  (target < {target_ms:g} ms: {'met' if med < target_ms else 'MISSED'})" if target_ms else ""
    print(f"{label:<48} median {med:8.1f} ms   {spread}{goal}")
