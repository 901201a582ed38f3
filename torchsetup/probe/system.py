"""OS facts: system, CPU, glibc, WSL, container, Jetson. Files are read under `root` (default /)."""

from __future__ import annotations

import os
import platform
from collections.abc import Mapping
from pathlib import Path

from torchsetup.probe.model import OSInfo


def _read(path: Path) -> str:
    try:
        return path.read_text(errors="replace")
    except OSError:
        return ""


def read_libc() -> str | None:
    try:
        value = os.confstr("CS_GNU_LIBC_VERSION")  # "glibc 2.36"
    except (AttributeError, ValueError, OSError):
        value = None
    if value:
        return value
    name, version = platform.libc_ver()
    return f"{name} {version}" if name and version else None


def is_wsl(root: Path, environ: Mapping[str, str]) -> bool:
    if environ.get("WSL_DISTRO_NAME") or environ.get("WSL_INTEROP"):
        return True
    return "microsoft" in _read(root / "proc/sys/kernel/osrelease").lower()


def is_container(root: Path, environ: Mapping[str, str]) -> bool:
    if (root / ".dockerenv").exists() or (root / "run/.containerenv").exists():
        return True
    if environ.get("container") or environ.get("KUBERNETES_SERVICE_HOST"):
        return True
    cgroup = _read(root / "proc/1/cgroup")
    return any(word in cgroup for word in ("docker", "kubepods", "containerd", "libpod", "lxc"))


def is_jetson(root: Path, machine: str) -> bool:
    if machine not in ("aarch64", "arm64"):
        return False
    if (root / "etc/nv_tegra_release").exists():
        return True
    model = _read(root / "proc/device-tree/model")
    return "jetson" in model.lower() or "tegra" in model.lower()


def read_os(root: Path = Path("/"), environ: Mapping[str, str] | None = None) -> OSInfo:
    env = os.environ if environ is None else environ
    system = platform.system()
    machine = platform.machine()
    linux = system == "Linux"
    return OSInfo(
        system=system,
        machine=machine,
        libc=read_libc() if linux else None,
        wsl=is_wsl(root, env) if linux else False,
        container=is_container(root, env) if linux else False,
        jetson=is_jetson(root, machine) if linux else False,
    )


def has_nvidia_device_nodes(root: Path) -> bool:
    dev = root / "dev"
    try:
        return any(p.name.startswith("nvidia") for p in dev.iterdir())
    except OSError:
        return False
