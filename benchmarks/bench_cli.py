"""Start-up of torchsetup's commands beside the floor of any typer command (`python -c "import
typer"`), interleaved in one run (CPU time of each whole process, user + sys, and wall time), with
torchruntime 2.24.0 and, when an interpreter with torch is given, collect_env printed beside for
information.

    python benchmarks/bench_cli.py [PYTHON_WITH_TORCH]

It creates a throwaway venv with `torchruntime==2.24.0` from the package index (kept in the
temp folder between runs). Prints figures; no test asserts any of them.
"""

from __future__ import annotations

import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
import venv
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
PEER = Path(tempfile.gettempdir()) / "torchsetup-bench-torchruntime"
RUNS = 9


def peer() -> Path:
    exe = PEER / "bin" / "torchruntime"
    if not exe.exists():
        venv.EnvBuilder(with_pip=True).create(PEER)
        subprocess.run([str(PEER / "bin" / "python"), "-m", "pip", "install", "--quiet", "torchruntime==2.24.0"],
                       check=True)
    return exe


def measure(argv: list[str], env: dict[str, str]) -> tuple[float, float]:
    """(CPU seconds of the child, wall seconds)."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    started = time.perf_counter()
    subprocess.run(argv, capture_output=True, env=env, check=False)
    wall = time.perf_counter() - started
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    return (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime), wall


def main() -> None:
    env = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}  # as installed: bytecode
    env["PYTHONPATH"] = str(REPO)
    subprocess.run([sys.executable, "-m", "compileall", "-q", str(REPO / "torchsetup")], env=env, check=False)
    script = Path(sys.executable).parent / "torchsetup"  # the console script, as users run it
    ours = [str(script)] if script.exists() else [sys.executable, "-m", "torchsetup"]
    runtime = str(peer())
    floor = [sys.executable, "-c", "import typer"]  # the floor of any typer command
    # (name, argv, target ratio to the floor)
    commands = [
        ("--help", [*ours, "--help"], 1.15),
        ("probe --json (this machine)", [*ours, "probe", "--json"], 1.6),
        ("resolve --probe-file", [*ours, "resolve", "--probe-file", str(REPO / "examples/rtx5090-570.json")], 1.6),
        ("doctor (this machine)", [*ours, "doctor"], 2.0),
        ("peer: torchruntime --help", [runtime, "--help"], None),
        ("peer: torchruntime info", [runtime, "info"], None),
    ]
    if len(sys.argv) > 1:
        commands.append(("probe --json --python TORCH", [*ours, "probe", "--json", "--python", sys.argv[1]], None))
        commands.append(("peer: collect_env there", [sys.argv[1], "-m", "torch.utils.collect_env"], None))
    floors: list[tuple[float, float]] = []
    runs: dict[str, list[tuple[float, float]]] = {name: [] for name, _, _ in commands}
    for _ in range(RUNS):  # interleaved: a busy moment of the VM hits the floor and the command alike
        for name, argv, _target in commands:
            floors.append(measure(floor, env))
            runs[name].append(measure(argv, env))
    floor_cpu = statistics.median(c for c, _ in floors) * 1000
    floor_wall = statistics.median(w for _, w in floors) * 1000
    print(f"{RUNS} runs each, interleaved; medians")
    print(f"{'what':<32} {'cpu ms':>7} {'wall ms':>8} {'cpu / floor':>12}  target")
    print(f"{'floor: python -c import typer':<32} {floor_cpu:>7.0f} {floor_wall:>8.0f} {'x1.00':>12}")
    for name, _argv, target in commands:
        cpu = statistics.median(c for c, _ in runs[name]) * 1000
        wall = statistics.median(w for _, w in runs[name]) * 1000
        met = "met" if target and cpu / floor_cpu <= target else "NOT met"
        goal = f"<= x{target:.2f} ({met})" if target else "(for information)"
        print(f"{name:<32} {cpu:>7.0f} {wall:>8.0f} {'x' + format(cpu / floor_cpu, '.2f'):>12}  {goal}")


if __name__ == "__main__":
    main()
