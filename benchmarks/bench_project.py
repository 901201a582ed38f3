"""`torchsetup project` for a fleet of 1,000 probe documents in one folder (copies of the recorded
fixtures, each with its own hostname in the file name and a varied Python patch version), beside
`probe`-free `resolve --probe-file` of one document in the same run. Prints figures; no test asserts them.

    python benchmarks/bench_project.py
"""

from __future__ import annotations

import json
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
PROBES = REPO / "tests" / "fixtures" / "probes"
KINDS = ["h100-580.json", "pascal-node.json", "no-gpu.json", "macos-arm64.json", "rtx5090-570.json"]
RUNS = 5


def measure(argv: list[str], env: dict[str, str]) -> tuple[float, float]:
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    started = time.perf_counter()
    proc = subprocess.run(argv, capture_output=True, env=env, check=False)
    wall = time.perf_counter() - started
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    if proc.returncode != 0:
        sys.exit(proc.stderr.decode())
    return (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime), wall


def main() -> None:
    env = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}
    env["PYTHONPATH"] = str(REPO)
    with tempfile.TemporaryDirectory() as tmp:
        fleet = Path(tmp) / "probes"
        fleet.mkdir()
        for i in range(1000):
            doc = json.loads((PROBES / KINDS[i % len(KINDS)]).read_text())
            if doc.get("python", {}).get("version"):
                major, minor, _ = doc["python"]["version"].split(".")
                doc["python"]["version"] = f"{major}.{minor}.{i % 7}"
            (fleet / f"node-{i:04d}.json").write_text(json.dumps(doc))
        project = Path(tmp) / "app"
        project.mkdir()
        (project / "pyproject.toml").write_text('[project]\nname = "a"\nversion = "1"\ndependencies = ["torch"]\n')
        ours = [sys.executable, "-m", "torchsetup"]
        fleet_run = [*ours, "project", "--project", str(project), "--probe-file", str(fleet), "--json"]
        one = [*ours, "resolve", "--probe-file", str(PROBES / KINDS[0]), "--json"]
        runs: dict[str, list[tuple[float, float]]] = {"project, 1,000 probe documents": [],
                                                      "resolve, 1 probe document": []}
        for _ in range(RUNS):
            runs["project, 1,000 probe documents"].append(measure(fleet_run, env))
            runs["resolve, 1 probe document"].append(measure(one, env))
    print(f"{RUNS} runs each, interleaved; medians")
    print(f"{'what':<34} {'cpu s':>7} {'wall s':>7}  target")
    for name, values in runs.items():
        cpu = statistics.median(c for c, _ in values)
        wall = statistics.median(w for _, w in values)
        target = "<= 2 s" if name.startswith("project") else ""
        print(f"{name:<34} {cpu:>7.2f} {wall:>7.2f}  {target}")


if __name__ == "__main__":
    main()
