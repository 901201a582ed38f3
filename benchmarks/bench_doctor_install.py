"""Wall time of `doctor` (no --verify) and of a no-op `install --yes` re-run, as whole processes."""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
import venv
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _timing import report, time_process  # noqa: E402

REPO = Path(__file__).resolve().parent.parent


def main() -> None:
    env = dict(os.environ, PYTHONPATH=str(REPO))
    cli = [sys.executable, "-m", "torchsetup"]
    report("python -c pass (interpreter start, for scale)", time_process([sys.executable, "-c", "pass"]))
    report("doctor (this machine, no --verify)", time_process([*cli, "doctor"], env=env), target_ms=200)
    report("doctor --json --probe-file (recorded machine)",
           time_process([*cli, "doctor", "--json", "--probe-file",
                         str(REPO / "tests/fixtures/probes/rtx5090-570.json")], env=env), target_ms=200)
    with tempfile.TemporaryDirectory() as tmp:
        target = Path(tmp) / "venv"
        venv.EnvBuilder(with_pip=False).create(target)
        python = str(target / "bin" / "python")
        purelib = subprocess.run([python, "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
                                 capture_output=True, text=True, check=True).stdout.strip()
        for name, version in (("torch", "2.14.1+cpu"), ("torchvision", "0.29.2+cpu")):
            info = Path(purelib) / f"{name}-{version}.dist-info"
            info.mkdir()
            (info / "METADATA").write_text(f"Metadata-Version: 2.1\nName: {name}\nVersion: {version}\n")
        argv = [*cli, "install", "--yes", "--python", python]
        probe = subprocess.run(argv, capture_output=True, text=True, env=env)
        print(f"no-op install said: {probe.stdout.strip() or probe.stderr.strip()}")
        report("install --yes re-run (already installed)", time_process(argv, env=env), target_ms=1000)


if __name__ == "__main__":
    main()
