"""AMD and Intel GPUs on Windows, from the OS's own list of display adapters: the registry keys of the
display device class, which Win32_VideoController (WMI) reports from, read with `winreg` (no
PowerShell start-up). Each adapter's PCI ids come from its MatchingDeviceId (PCI\\VEN_8086&DEV_E20B).
There is no KFD topology on Windows: an AMD card's gfx target is not known there (and the PyTorch
index has no Windows ROCm builds)."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from torchsetup.probe.vendors import AmdGpu, AmdInfo, IntelGpu, IntelInfo

DISPLAY_CLASS = r"SYSTEM\CurrentControlSet\Control\Class\{4d36e968-e325-11ce-bfc1-08002be10318}"
_IDS = re.compile(r"pci\\ven_([0-9a-f]{4})&dev_([0-9a-f]{4})", re.IGNORECASE)
INTEGRATED_FAMILIES = ("Meteor Lake", "Arrow Lake", "Lunar Lake", "Panther Lake")


@dataclass(frozen=True)
class Adapter:
    vendor: str  # 0x8086
    device_id: str  # 0xe20b
    name: str
    memory_mib: int | None


def _value(registry: Any, key: Any, name: str) -> object:
    try:
        return registry.QueryValueEx(key, name)[0]
    except OSError:
        return None


def read_adapters(registry: Any = None) -> list[Adapter]:
    """Every display adapter the OS lists (each value read on its own); [] where the key cannot be read."""
    if registry is None:
        import winreg as registry
    try:
        root = registry.OpenKey(registry.HKEY_LOCAL_MACHINE, DISPLAY_CLASS)
    except OSError:
        return []
    adapters = []
    index = 0
    while True:
        try:
            sub = registry.EnumKey(root, index)
        except OSError:
            break
        index += 1
        if not sub.isdigit():
            continue  # "Properties" and other non-device keys
        try:
            key = registry.OpenKey(root, sub)
        except OSError:
            continue
        ids = _IDS.search(str(_value(registry, key, "MatchingDeviceId") or ""))
        if ids is None:
            continue  # not a PCI device (a remote display, a virtual adapter)
        memory = _value(registry, key, "HardwareInformation.qwMemorySize")
        adapters.append(Adapter(f"0x{ids[1].lower()}", f"0x{ids[2].lower()}",
                                str(_value(registry, key, "DriverDesc") or "display adapter"),
                                memory // (1024 * 1024) if isinstance(memory, int) and memory > 0 else None))
    return adapters


def probe_windows(registry: Any = None) -> tuple[AmdInfo, IntelInfo]:
    from torchsetup.probe.intel import family_of

    adapters = read_adapters(registry)
    amd = [a for a in adapters if a.vendor == "0x1002"]
    intel = [a for a in adapters if a.vendor == "0x8086"]
    amd_info = AmdInfo("pci" if amd else "none", None,
                       tuple(AmdGpu(i, a.name, None, a.device_id, a.memory_mib) for i, a in enumerate(amd)),
                       None, "Windows has no KFD topology: the gfx target is not known" if amd else None)
    gpus = []
    for i, a in enumerate(intel):
        family = family_of(a.device_id)
        integrated = None if family is None else any(f in family for f in INTEGRATED_FAMILIES)
        gpus.append(IntelGpu(i, a.name, a.device_id, integrated, "windows"))
    return amd_info, IntelInfo("wmi" if intel else "none", tuple(gpus))
