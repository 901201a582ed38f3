"""The local CUDA toolkit: nvcc on PATH, CUDA_HOME/CUDA_PATH, /usr/local/cuda*/version.json."""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
from collections.abc import Mapping
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


def _nvcc_version(nvcc: str, timeout: float) -> str | None:
    try:
        out = children.run([nvcc, "--version"], timeout).stdout
    except (OSError, subprocess.TimeoutExpired):
        return None
    match = re.search(r"release ([0-9]+\.[0-9]+)", out)
    return match.group(1) if match else None


def read_toolkit(environ: Mapping[str, str] | None = None, root: Path = Path("/"),
                 timeout: float = 5.0) -> CudaToolkit | None:
    env = os.environ if environ is None else environ
    nvcc = shutil.which("nvcc", path=env.get("PATH", os.defpath))
    if nvcc:
        home = Path(nvcc).resolve().parent.parent
        version = _version_json(home) or _nvcc_version(nvcc, timeout)
        return CudaToolkit(version=version, nvcc=nvcc,
                           home=str(home) if _is_toolkit_home(home) else None)
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
