"""The target interpreter, asked in a child process: version, free-threading, installed torch family.

Package versions come from distribution metadata (importlib.metadata); torch is never imported.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Mapping
from pathlib import Path

from torchsetup.errors import EnvironmentUnusable
from torchsetup.probe.model import Installed, PythonInfo

FAMILY = ("torch", "torchvision", "torchaudio")

_SCRIPT = r"""
import sys
sys.path[:] = [p for p in sys.path if p not in ("", ".")]
import json, sysconfig
from importlib import metadata
def version(name):
    try:
        return metadata.version(name)
    except Exception:
        return None
print(json.dumps({
    "executable": sys.executable,
    "version": "%d.%d.%d" % sys.version_info[:3],
    "free_threaded": bool(sysconfig.get_config_var("Py_GIL_DISABLED")),
    "installed": {n: version(n) for n in ("torch", "torchvision", "torchaudio")},
}))
"""


def default_python(environ: Mapping[str, str] | None = None) -> str:
    """The active virtual environment's, else the active conda environment's, else ours."""
    env = os.environ if environ is None else environ
    bindir = "Scripts" if sys.platform == "win32" else "bin"
    exe = "python.exe" if sys.platform == "win32" else "python"
    for var in ("VIRTUAL_ENV", "CONDA_PREFIX"):
        prefix = env.get(var)
        if prefix and (Path(prefix) / bindir / exe).exists():
            return str(Path(prefix) / bindir / exe)
    return sys.executable


def read_interpreter(python: str, timeout: float = 20.0) -> tuple[PythonInfo, Installed]:
    hint = "Pass --python with the path of a working Python interpreter."
    if not Path(python).exists():
        raise EnvironmentUnusable(f"target interpreter not found: {python}", hint)
    try:
        proc = subprocess.run([python, "-c", _SCRIPT], capture_output=True, text=True,
                              timeout=timeout, check=False)
    except subprocess.TimeoutExpired as exc:
        raise EnvironmentUnusable(f"target interpreter {python} did not answer in {timeout:g} s",
                                  hint) from exc
    except OSError as exc:
        raise EnvironmentUnusable(f"target interpreter {python} cannot run: {exc.strerror}",
                                  hint) from exc
    try:
        data = json.loads(proc.stdout.strip().splitlines()[-1])
    except (ValueError, IndexError) as exc:
        said = (proc.stderr.strip().splitlines() or ["no output"])[-1]
        raise EnvironmentUnusable(
            f"target interpreter {python} is broken (exit {proc.returncode}): {said}", hint
        ) from exc
    info = PythonInfo(executable=data.get("executable"), version=data.get("version"),
                      free_threaded=bool(data.get("free_threaded")))
    inst = data.get("installed") or {}
    return info, Installed(**{name: inst.get(name) for name in FAMILY})
