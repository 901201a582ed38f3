"""Wall time of `doctor` (no --verify), `probe --json` and a no-op `install --yes` re-run, as whole
processes with bytecode (as an installed package runs); and the cost of reading the arch list out of
a torch library (the interpreter child does it for CUDA builds).

    python benchmarks/bench_doctor_install.py [PATH/TO/libtorch_python.so]

Without the argument, the library of the CPU torch in the interpreter named by
$TORCHSETUP_BENCH_TORCH_PYTHON is used when there is one (a CPU build has no arch string: the
whole file is scanned, the worst case)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
import venv
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _timing import report, time_call, time_process, time_processes  # noqa: E402

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))


def arch_scan(library: Path) -> None:
    from torchsetup.probe.interpreter import _ARCH_SCAN

    namespace: dict[str, object] = {}
    exec(_ARCH_SCAN, namespace)  # the child's own code
    scan = namespace["arch_flags"]
    with tempfile.TemporaryDirectory() as tmp:
        (Path(tmp) / "torch" / "lib").mkdir(parents=True)
        (Path(tmp) / "torch" / "lib" / "libtorch_python.so").symlink_to(library)
        found = scan(tmp)  # type: ignore[operator]
        size = library.stat().st_size / 1e6
        report(f"arch scan of {library.name} ({size:.0f} MB): {found}", time_call(lambda: scan(tmp), runs=9),  # type: ignore[operator]
               target_ms=50)


def main() -> None:
    env = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}  # as installed: bytecode
    env["PYTHONPATH"] = str(REPO)
    subprocess.run([sys.executable, "-m", "compileall", "-q", str(REPO / "torchsetup")], env=env, check=False)
    script = Path(sys.executable).parent / "torchsetup"  # the console script, as users run it
    cli = [str(script)] if script.exists() else [sys.executable, "-m", "torchsetup"]
    # interleaved, so that the floors and the commands share the VM's slow and quick moments
    recorded = str(REPO / "tests/fixtures/probes/rtx5090-570.json")
    times = time_processes({
        "pass": [sys.executable, "-c", "pass"],
        "typer": [sys.executable, "-c", "import typer"],
        "doctor": [*cli, "doctor"],
        "probe": [*cli, "probe", "--json"],
        "recorded": [*cli, "doctor", "--json", "--probe-file", recorded],
    }, runs=15, env=env)
    report("python -c pass (interpreter start, for scale)", times["pass"])
    # the floor of any typer command: importing typer alone (and the interpreter's teardown after it)
    report("python -c 'import typer' (the floor)", times["typer"])
    # without --python the target is the interpreter running torchsetup here: read in-process
    report("doctor (this machine, no --verify)", times["doctor"], target_ms=150)
    report("probe --json (this machine, builds read)", times["probe"], target_ms=100)
    report("doctor --json --probe-file (recorded machine)", times["recorded"], target_ms=150)
    with tempfile.TemporaryDirectory() as tmp:
        target = Path(tmp) / "venv"
        venv.EnvBuilder(with_pip=True).create(target)  # install refuses an environment without pip
        python = str(target / "bin" / "python")
        purelib = subprocess.run([python, "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
                                 capture_output=True, text=True, check=True).stdout.strip()
        # the same doctor as above (no torch there either), but the target is not torchsetup's own
        # interpreter: a child process reads it
        report("doctor --python another venv (a child reads it)",
               time_process([*cli, "doctor", "--python", python], env=env), target_ms=150)
        plan = json.loads(subprocess.run([*cli, "resolve", "--json", "--python", python], capture_output=True,
                                         text=True, env=env, check=True).stdout)["plan"]
        for pin in (word for word in plan["command"] if "==" in word):  # fake what the plan would install
            name, version = pin.split("==")
            info = Path(purelib) / f"{name}-{version}.dist-info"
            info.mkdir()
            (info / "METADATA").write_text(f"Metadata-Version: 2.1\nName: {name}\nVersion: {version}\n")
        argv = [*cli, "install", "--yes", "--no-verify", "--python", python]  # the smoke test is timed by verify
        probe = subprocess.run(argv, capture_output=True, text=True, env=env)
        print(f"no-op install said: {probe.stdout.strip() or probe.stderr.strip()}")
        report("install --yes --no-verify re-run (installed)", time_process(argv, env=env), target_ms=1000)
    library = Path(sys.argv[1]) if len(sys.argv) > 1 else None
    torch_python = os.environ.get("TORCHSETUP_BENCH_TORCH_PYTHON")
    if library is None and torch_python:
        purelib = subprocess.run([torch_python, "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
                                 capture_output=True, text=True, check=True).stdout.strip()
        library = Path(purelib) / "torch" / "lib" / "libtorch_python.so"
    if library is not None and library.exists():
        arch_scan(library)
    else:
        print("arch scan: no torch library given (pass its path, or set TORCHSETUP_BENCH_TORCH_PYTHON)")


if __name__ == "__main__":
    main()
