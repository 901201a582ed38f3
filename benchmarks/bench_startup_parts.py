"""What torchsetup's start-up is made of, per command: the time spent creating its frozen dataclasses
and enums (the typed facts and categories the design asks for), its child processes' CPU, and the
rest, beside the budget each target in bench_cli.py leaves above the floor (`import typer`).

    python benchmarks/bench_startup_parts.py

Each command runs in a child interpreter that times `dataclasses._process_class` and enum class
creation (wall time, perf_counter) and reports them when it exits; CPU time of the child and its own
children is read with getrusage. Medians of 7 interleaved runs. Prints figures; no test asserts them.
"""

from __future__ import annotations

import json
import os
import resource
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
RUNS = 7
# the timing shim: run torchsetup's __main__ with class creation timed (measurement only)
SHIM = """
import atexit, dataclasses, enum, json, os, runpy, sys, time
made = {"dataclasses": [0, 0.0], "enums": [0, 0.0]}
process = dataclasses._process_class
def timed_dataclass(cls, *args, **kwargs):
    started = time.perf_counter()
    try:
        return process(cls, *args, **kwargs)
    finally:
        if cls.__module__.startswith("torchsetup"):
            made["dataclasses"][0] += 1
            made["dataclasses"][1] += time.perf_counter() - started
dataclasses._process_class = timed_dataclass
new_enum = enum.EnumType.__new__
def timed_enum(meta, name, bases, namespace, **kwargs):
    started = time.perf_counter()
    try:
        return new_enum(meta, name, bases, namespace, **kwargs)
    finally:
        if str(namespace.get("__module__", "")).startswith("torchsetup"):
            made["enums"][0] += 1
            made["enums"][1] += time.perf_counter() - started
enum.EnumType.__new__ = timed_enum
def report():
    with open(os.environ["PARTS_OUT"], "w") as out:
        json.dump(made, out)
atexit.register(report)
sys.argv = ["torchsetup", *sys.argv[1:]]
runpy.run_module("torchsetup", run_name="__main__")
"""


def cpu_of(argv: list[str], env: dict[str, str]) -> float:
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    subprocess.run(argv, capture_output=True, env=env, check=False)
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    return (after.ru_utime - before.ru_utime + after.ru_stime - before.ru_stime) * 1000


def main() -> None:
    env = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}
    env["PYTHONPATH"] = str(REPO)
    subprocess.run([sys.executable, "-m", "compileall", "-q", str(REPO / "torchsetup")], env=env, check=False)
    commands = {
        "probe --json": (["probe", "--json"], 1.6),
        "resolve --probe-file": (["resolve", "--probe-file", str(REPO / "examples/rtx5090-570.json")], 1.6),
        "doctor": (["doctor"], 2.0),
    }
    floor: list[float] = []
    interpreter: list[float] = []
    parts: dict[str, list[tuple[float, int, float, int, float]]] = {name: [] for name in commands}
    script_dir = str(REPO / "torchsetup")
    child = [sys.executable, "-c", "import sys; sys.path.insert(0, sys.argv[1]); import interpreter_script; "
             "del sys.path[0]; interpreter_script.main()", script_dir]
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp) / "parts.json"
        for _ in range(RUNS):
            for name, (args, _target) in commands.items():
                floor.append(cpu_of([sys.executable, "-c", "import typer"], env))
                interpreter.append(cpu_of(child, env))
                cpu = cpu_of([sys.executable, "-c", SHIM, *args], dict(env, PARTS_OUT=str(out)))
                made = json.loads(out.read_text())
                parts[name].append((cpu, made["dataclasses"][0], made["dataclasses"][1] * 1000,
                                    made["enums"][0], made["enums"][1] * 1000))
    floor_ms = statistics.median(floor)
    child_ms = statistics.median(interpreter)
    print(f"{RUNS} runs each, interleaved; medians; floor `import typer` {floor_ms:.0f} ms CPU; the probe's "
          f"interpreter child alone {child_ms:.0f} ms CPU (probe and doctor start one)")
    print("cpu: the command with the timing shim; budget: what its target leaves above the floor")
    print(f"{'command':<22} {'cpu ms':>7} {'above floor':>12} {'budget':>7} {'dataclasses':>16} {'enums':>13}")
    for name, (_args, target) in commands.items():
        runs = parts[name]
        cpu = statistics.median(r[0] for r in runs)
        classes, class_ms = runs[0][1], statistics.median(r[2] for r in runs)
        enums, enum_ms = runs[0][3], statistics.median(r[4] for r in runs)
        budget = (target - 1) * floor_ms
        print(f"{name:<22} {cpu:>7.0f} {cpu - floor_ms:>12.0f} {budget:>7.0f} {classes:>4} in {class_ms:>5.1f} ms"
              f" {enums:>3} in {enum_ms:>4.1f} ms")


if __name__ == "__main__":
    main()
