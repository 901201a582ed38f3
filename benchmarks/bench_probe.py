"""Time `torchsetup probe --json` as a whole process, beside torch's own collect_env."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _timing import report, time_process  # noqa: E402

REPO = Path(__file__).resolve().parent.parent


def main() -> None:
    env = dict(os.environ, PYTHONPATH=str(REPO))
    report("torchsetup probe --json", time_process([sys.executable, "-m", "torchsetup", "probe", "--json"],
                                                   env=env), target_ms=150)
    report("python -c pass (interpreter start)", time_process([sys.executable, "-c", "pass"]))
    # collect_env runs where torch is importable: this interpreter, or the one given as argument
    torch_python = sys.argv[1] if len(sys.argv) > 1 else sys.executable
    has_torch = subprocess.run([torch_python, "-c", "import torch"], capture_output=True).returncode == 0
    if has_torch:
        report("python -m torch.utils.collect_env",
               time_process([torch_python, "-m", "torch.utils.collect_env"], runs=3))
        report("torchsetup probe --json --python (that interpreter)",
               time_process([sys.executable, "-m", "torchsetup", "probe", "--json", "--python", torch_python],
                            env=env))
    else:
        print(f"python -m torch.utils.collect_env: skipped, torch is not importable by {torch_python} "
              "(pass an interpreter that has torch as the first argument)")
    heavy = subprocess.run(
        [sys.executable, "-c", "import sys, torchsetup.cli, torchsetup.probe; "
         "sys.argv=['x']; print(sorted(m for m in ('torch','rich','requests','pynvml','numpy') "
         "if m in sys.modules))"], capture_output=True, text=True, env=env).stdout.strip()
    print(f"heavy modules imported by cli + probe at import time: {heavy}")


if __name__ == "__main__":
    main()
