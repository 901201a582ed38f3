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

# The distribution metadata is read straight from the *.dist-info / *.egg-info folders on
# sys.path (what importlib.metadata does, without importing it: ~30 ms less per probe).
_SCRIPT = r"""
import sys, os, json, sysconfig
def version(name):
    for entry in sys.path:
        if not entry or entry == "." or not os.path.isdir(entry):
            continue
        for folder in os.listdir(entry):
            stem, dot, kind = folder.rpartition(".")
            if kind not in ("dist-info", "egg-info") or stem.split("-")[0].lower() != name:
                continue
            meta = os.path.join(entry, folder, "METADATA" if kind == "dist-info" else "PKG-INFO")
            try:
                with open(meta, encoding="utf-8", errors="replace") as handle:
                    for line in handle:
                        if line.startswith("Version:"):
                            return line.split(":", 1)[1].strip()
                        if not line.strip():
                            break
            except OSError:
                continue
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


def start_interpreter_probe(python: str) -> subprocess.Popen[str]:
    """Start the child now; collect it with `finish_interpreter_probe` (probing goes on meanwhile)."""
    hint = "Pass --python with the path of a working Python interpreter."
    if not Path(python).exists():
        raise EnvironmentUnusable(f"target interpreter not found: {python}", hint)
    try:
        return subprocess.Popen([python, "-c", _SCRIPT], stdout=subprocess.PIPE,
                                stderr=subprocess.PIPE, text=True)
    except OSError as exc:
        raise EnvironmentUnusable(f"target interpreter {python} cannot run: {exc.strerror}",
                                  hint) from exc


def finish_interpreter_probe(child: subprocess.Popen[str], python: str,
                             timeout: float = 20.0) -> tuple[PythonInfo, Installed]:
    hint = "Pass --python with the path of a working Python interpreter."
    try:
        stdout, stderr = child.communicate(timeout=timeout)
    except subprocess.TimeoutExpired as exc:
        child.kill()
        child.communicate()
        raise EnvironmentUnusable(f"target interpreter {python} did not answer in {timeout:g} s",
                                  hint) from exc
    try:
        data = json.loads(stdout.strip().splitlines()[-1])
    except (ValueError, IndexError) as exc:
        said = (stderr.strip().splitlines() or ["no output"])[-1]
        raise EnvironmentUnusable(
            f"target interpreter {python} is broken (exit {child.returncode}): {said}", hint
        ) from exc
    info = PythonInfo(executable=data.get("executable"), version=data.get("version"),
                      free_threaded=bool(data.get("free_threaded")))
    inst = data.get("installed") or {}
    return info, Installed(**{name: inst.get(name) for name in FAMILY})


def read_interpreter(python: str, timeout: float = 20.0) -> tuple[PythonInfo, Installed]:
    return finish_interpreter_probe(start_interpreter_probe(python), python, timeout)
