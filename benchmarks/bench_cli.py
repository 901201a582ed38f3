"""Start-up of torchsetup beside torchruntime 2.24.0, in one interleaved run (CPU time of each
whole process, user + sys, and wall time), and `probe --json` beside collect_env when an
interpreter with torch is given.

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
    pairs = {
        "--help": ([*ours, "--help"], [runtime, "--help"]),
        "resolve vs info": ([*ours, "resolve", "--probe-file", str(REPO / "examples/rtx5090-570.json")],
                            [runtime, "info"]),
        # the floor while typer is kept: importing it alone, beside the peer's whole --help
        "floor: import typer": ([sys.executable, "-c", "import typer"], [runtime, "--help"]),
    }
    if len(sys.argv) > 1:
        pairs["probe --json vs collect_env"] = ([*ours, "probe", "--json", "--python", sys.argv[1]],
                                                [sys.argv[1], "-m", "torch.utils.collect_env"])
    results: dict[str, tuple[list[float], list[float], list[float], list[float]]] = {
        k: ([], [], [], []) for k in pairs}
    for _ in range(RUNS):  # interleaved: a busy moment of the VM hits both sides alike
        for name, (a, b) in pairs.items():
            cpu_a, wall_a = measure(a, env)
            cpu_b, wall_b = measure(b, env)
            for bucket, value in zip(results[name], (cpu_a, wall_a, cpu_b, wall_b), strict=True):
                bucket.append(value)
    floor_app = ("import json, sys, typer\n"
                 "app = typer.Typer(add_completion=False, rich_markup_mode=None, pretty_exceptions_enable=False)\n"
                 "@app.callback()\ndef root() -> None: pass\n"
                 "@app.command()\ndef probe(j: bool = typer.Option(False, '--json')) -> None:\n"
                 "    sys.stdout.write(json.dumps({'schema': 'x'}) + '\\n')\n"
                 "app(['probe', '--json'], standalone_mode=False)\n")
    alone = {"python -c pass (for scale)": ([sys.executable, "-c", "pass"], None),
             "floor: typer app, one JSON line": ([sys.executable, "-c", floor_app], None),
             "probe --json (this machine)": ([*ours, "probe", "--json"], 100),
             "doctor (this machine)": ([*ours, "doctor"], 150)}
    alone_runs: dict[str, list[tuple[float, float]]] = {name: [] for name in alone}
    for _ in range(RUNS):
        for name, (argv, _target) in alone.items():
            alone_runs[name].append(measure(argv, env))
    print(f"{'what':<30} {'torchsetup cpu/wall ms':>24} {'peer cpu/wall ms':>20} {'ratio (cpu)':>12}")
    for name, (cpu_a, wall_a, cpu_b, wall_b) in results.items():
        a, b = statistics.median(cpu_a) * 1000, statistics.median(cpu_b) * 1000
        print(f"{name:<30} {a:>11.0f} /{statistics.median(wall_a) * 1000:>7.0f}    "
              f"{b:>9.0f} /{statistics.median(wall_b) * 1000:>7.0f}   x{a / b:>8.2f}")
    for name, (_argv, target) in alone.items():
        runs = alone_runs[name]
        goal = f"target <= {target} ms" if target else ""
        print(f"{name:<30} {statistics.median(c for c, _ in runs) * 1000:>11.0f} /"
              f"{statistics.median(w for _, w in runs) * 1000:>7.0f}    {goal}")


if __name__ == "__main__":
    main()
