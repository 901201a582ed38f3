"""The local CUDA toolkit: nvcc on PATH, CUDA_HOME/CUDA_PATH, /usr/local/cuda*/version.json."""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
from collections.abc import Callable, Mapping
from pathlib import Path

from torchsetup import children
from torchsetup.probe.model import CudaToolkit


def _version_json(home: Path) -> str | None:
    try:
        data = json.loads((home / "version.json").read_text())
        version = str(data["cuda"]["version"])
    except (OSError, ValueError, KeyError, TypeError):
        return None
    return ".".join(version.split(".")[:2])


def _is_toolkit_home(home: Path) -> bool:
    return (home / "version.json").is_file() or (home / "include" / "cuda.h").is_file()


def _release(out: str) -> str | None:
    match = re.search(r"release ([0-9]+\.[0-9]+)", out)
    return match.group(1) if match else None


def _nvcc_version(nvcc: str, timeout: float) -> str | None:
    try:
        return _release(children.run([nvcc, "--version"], timeout).stdout)
    except (OSError, subprocess.TimeoutExpired):
        return None


class PendingToolkit:
    """A toolkit read under way: `answer()` gives it; `abandon()` stops an nvcc still running."""

    __slots__ = ("_answer", "_child")

    def __init__(self, answer: Callable[[], CudaToolkit | None],
                 child: subprocess.Popen[str] | None = None) -> None:
        self._answer = answer
        self._child = child

    def answer(self) -> CudaToolkit | None:
        return self._answer()

    def abandon(self) -> None:
        if self._child is not None and self._child.poll() is None:
            children.kill_group(self._child)


def start_toolkit_read(environ: Mapping[str, str] | None = None, root: Path = Path("/"),
                       timeout: float = 5.0) -> PendingToolkit:
    """Begin reading the toolkit. When the nvcc on PATH must be asked (no version.json beside it: a
    wrapper script, a pip or conda nvcc), it is started now and runs while the caller probes the
    rest."""
    env = os.environ if environ is None else environ
    nvcc = shutil.which("nvcc", path=env.get("PATH", os.defpath))
    if not nvcc:
        return PendingToolkit(lambda: _toolkit_from_homes(env, root, timeout))
    home = Path(nvcc).resolve().parent.parent
    found = _version_json(home)
    where = str(home) if _is_toolkit_home(home) else None
    if found is not None:
        return PendingToolkit(lambda: CudaToolkit(version=found, nvcc=nvcc, home=where))
    try:
        child = children.start([nvcc, "--version"])
    except OSError:
        return PendingToolkit(lambda: CudaToolkit(version=None, nvcc=nvcc, home=where))

    def answer() -> CudaToolkit:
        try:
            version = _release(children.finish(child, timeout)[0])
        except subprocess.TimeoutExpired:
            version = None
        return CudaToolkit(version=version, nvcc=nvcc, home=where)

    return PendingToolkit(answer, child)


def read_toolkit(environ: Mapping[str, str] | None = None, root: Path = Path("/"),
                 timeout: float = 5.0) -> CudaToolkit | None:
    return start_toolkit_read(environ, root, timeout).answer()


def _toolkit_from_homes(env: Mapping[str, str], root: Path, timeout: float) -> CudaToolkit | None:
    """No nvcc on PATH: CUDA_HOME, CUDA_PATH, /usr/local/cuda, /usr/local/cuda-* in that order."""
    candidates = [env.get("CUDA_HOME"), env.get("CUDA_PATH")]
    local = root / "usr/local"
    if local.is_dir():
        candidates.append(str(local / "cuda"))
        candidates.extend(sorted((str(p) for p in local.glob("cuda-*")), reverse=True))
    for candidate in candidates:
        if not candidate:
            continue
        home = Path(candidate)
        nvcc_path = home / "bin" / "nvcc"
        version = _version_json(home)
        if version is None and nvcc_path.is_file():
            version = _nvcc_version(str(nvcc_path), timeout)
        if version is not None:
            return CudaToolkit(version=version,
                               nvcc=str(nvcc_path) if nvcc_path.is_file() else None,
                               home=str(home))
    return None
