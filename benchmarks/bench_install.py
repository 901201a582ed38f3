"""The install transaction's own cost beside the installer's, on a venv holding the real CPU torch
2.13.0 (about 21,000 files):

1. pip installs the real torch wheel (offline, --no-deps): the installer's own time for that install;
2. a failing torch upgrade (a small wheel that replaces torch, then a corrupt member stops pip):
   the transaction's preparation (reading RECORDs, saving every file at stake, the journal), and
   the rollback after pip has removed the real torch's files (put back and proven by sha256);
3. what the backup costs on disk beyond hard links.

    python benchmarks/bench_install.py [TORCH_WHEEL]

Prints figures; no test asserts any of them.
"""

from __future__ import annotations

import glob
import os
import subprocess
import sys
import tempfile
import time
import venv
import zipfile
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))
sys.path.insert(0, str(REPO / "tests"))

from localindex import write_wheel  # noqa: E402

from torchsetup import transaction as txn  # noqa: E402
from torchsetup.journal import TxnState  # noqa: E402


def pip(python: Path, *args: str) -> float:
    env = {k: v for k, v in os.environ.items() if not k.startswith("PIP_")}
    env.update(PIP_CONFIG_FILE=os.devnull, PIP_DISABLE_PIP_VERSION_CHECK="1", PIP_NO_INPUT="1")
    started = time.perf_counter()
    subprocess.run([str(python), "-m", "pip", *args], capture_output=True, env=env, check=False)
    return time.perf_counter() - started


def main() -> None:
    wheels = sorted(glob.glob(sys.argv[1] if len(sys.argv) > 1 else "/opt/wheels/torch-2.13.0+cpu-*.whl"))
    if not wheels:
        print("no CPU torch wheel (pass its path)")
        return
    work = Path(tempfile.mkdtemp(prefix="bench-install-"))
    python = work / "venv" / "bin" / "python"
    venv.EnvBuilder(with_pip=True).create(work / "venv")
    # the real torch's dependencies first, so that the timed install is torch alone
    pip(python, "install", "--quiet", "filelock", "typing-extensions", "sympy", "networkx", "jinja2", "fsspec")
    installer = pip(python, "install", "--quiet", "--no-deps", "--no-index", wheels[-1])
    with zipfile.ZipFile(wheels[-1]) as zf:
        files = sum(1 for n in zf.namelist() if not n.endswith("/"))
    upgrade = write_wheel(work / "up", "torch", "2.14.0+cpu", {"torch/__init__.py": b"X = 1\n",
                                                               "torch/payload.bin": b"x" * 4096},
                          corrupt="torch/payload.bin")
    env = txn.environment_of(str(python))
    started = time.perf_counter()
    journal = txn.prepare(env, [str(upgrade)], str(python), "torch 2.14.0")
    prepared = time.perf_counter() - started
    copied = sum(os.path.getsize(Path(journal.folder) / s.copy) for s in journal.saved
                 if s.copy and os.stat(Path(journal.folder) / s.copy).st_nlink == 1)
    files_saved = len(journal.saved)
    journal.write(TxnState.RUNNING)
    failing = pip(python, "install", "--quiet", "--no-deps", "--no-index", str(upgrade))
    started = time.perf_counter()
    report = txn.undo(journal, env, recovering=False)
    rolled_back = time.perf_counter() - started
    txn.finish(journal, report)
    # a run killed after pip removed the real torch (the worst case: every file must come back)
    journal = txn.prepare(env, [str(upgrade)], str(python), "torch 2.14.0")
    journal.write(TxnState.RUNNING)
    pip(python, "uninstall", "--yes", "--quiet", "torch")
    started = time.perf_counter()
    full = txn.undo(journal, env, recovering=True)
    full_rollback = time.perf_counter() - started
    txn.finish(journal, full)
    print(f"real torch wheel: {Path(wheels[-1]).name}, {files:,} files")
    print(f"installer: pip install of that wheel (offline, --no-deps)     {installer:8.2f} s")
    print(f"transaction: preparation ({files_saved:,} files saved, journal) {prepared:8.2f} s  "
          f"= {100 * prepared / installer:.1f} % of the installer's time (target <= 10 %)")
    print(f"the failing upgrade itself (pip, for scale)                    {failing:8.2f} s")
    print(f"rollback after pip's own failure (checked)                  {rolled_back:8.2f} s")
    print(f"rollback after pip removed all of torch (recovery, put back) {full_rollback:8.2f} s  "
          f"(target <= 10 s); {len(full.not_restored)} not put back")
    print(f"disk beyond hard links: {copied:,} bytes copied (.pth files); "
          f"not put back: {len(report.not_restored)}")


if __name__ == "__main__":
    main()
