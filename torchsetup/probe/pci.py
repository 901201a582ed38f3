"""NVIDIA GPUs on the PCI bus, found without any driver: /sys/bus/pci/devices/*/vendor is 0x10de
and the class is a display controller (0x03xxxx). So "a GPU is there, but its driver is not
usable" (module not loaded after an upgrade or under Secure Boot, a hung nvidia-smi, a container
started without the GPU) is told apart from "no GPU"."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

NVIDIA_VENDOR = "0x10de"


def _read(path: Path) -> str:
    try:
        return path.read_text(encoding="ascii", errors="replace").strip().lower()
    except OSError:
        return ""


def nvidia_pci_gpus(root: Path = Path("/")) -> tuple[str, ...]:
    """PCI slots (0000:01:00.0) of NVIDIA display controllers; () when there are none or sysfs is
    not readable (macOS, Windows, a sandbox)."""
    devices = root / "sys/bus/pci/devices"
    try:
        entries = sorted(devices.iterdir())
    except OSError:
        return ()
    return tuple(entry.name for entry in entries
                 if _read(entry / "vendor") == NVIDIA_VENDOR and _read(entry / "class").startswith("0x03"))


def gpu_kinds(root: Path = Path("/")) -> tuple[str, ...]:
    """The GPU kinds this machine has, as far as the kernel shows them without loading a library."""
    kinds = []
    nodes = any((root / "dev").glob("nvidia[0-9]*"))
    if nvidia_pci_gpus(root) or nodes or (root / "proc/driver/nvidia/gpus").is_dir():
        kinds.append("nvidia")
    if (root / "dev/kfd").exists():
        kinds.append("amd")
    return tuple(kinds)


@dataclass(frozen=True)
class PciDevice:
    slot: str  # 0000:03:00.0
    vendor: str  # 0x1002
    device_id: str | None  # 0x744c
    device_class: str  # 0x030000
    driver: str | None  # the bound kernel driver (amdgpu, xe, i915), None: none bound


def pci_devices(root: Path = Path("/")) -> list[PciDevice]:
    """Every device on the PCI bus as sysfs shows it; [] where sysfs is not readable."""
    devices = root / "sys/bus/pci/devices"
    try:
        entries = sorted(devices.iterdir())
    except OSError:
        return []
    out = []
    for entry in entries:
        try:
            driver: str | None = os.path.basename(os.readlink(entry / "driver"))
        except OSError:
            driver = None
        out.append(PciDevice(entry.name, _read(entry / "vendor"), _read(entry / "device") or None,
                             _read(entry / "class"), driver))
    return out
