"""AMD and Intel GPUs as the probe finds them (the probe document's `amd` and `intel` sections), and
their reading back from a recorded document, each field checked on its own."""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass

AMD_SOURCES = ("kfd", "pci", "rocminfo", "file", "none")
INTEL_SOURCES = ("pci", "sysfs", "wmi", "file", "none")
_GFX = re.compile(r"gfx[0-9]{3,4}[a-z]?")
_HEX_ID = re.compile(r"0x[0-9a-f]{4}")
_OVERRIDE = re.compile(r"[0-9]{1,2}\.[0-9]{1,3}\.[0-9]{1,3}")


@dataclass(frozen=True)
class AmdGpu:
    index: int
    name: str
    gfx: str | None = None  # "gfx1100"; None: not known (found on the PCI bus only)
    pci_id: str | None = None  # "0x744c"
    memory_total_mib: int | None = None
    integrated: bool | None = None


@dataclass(frozen=True)
class AmdInfo:
    source: str = "none"  # kfd | pci | rocminfo | file | none
    rocm: str | None = None  # the ROCm installed under /opt/rocm (the wheels do not need it)
    gpus: tuple[AmdGpu, ...] = ()
    hsa_override_gfx_version: str | None = None  # "10.3.0": the runtime then reports this target instead
    error: str | None = None


@dataclass(frozen=True)
class IntelGpu:
    index: int
    name: str
    device_id: str | None = None  # "0xe20b"
    integrated: bool | None = None
    driver: str | None = None  # xe | i915 | None: no driver bound


@dataclass(frozen=True)
class IntelInfo:
    source: str = "none"  # pci | sysfs | wmi | file | none
    gpus: tuple[IntelGpu, ...] = ()
    error: str | None = None


def override_gfx(value: str | None) -> str | None:
    """HSA_OVERRIDE_GFX_VERSION ("10.3.0") as the target it makes the runtime report ("gfx1030"):
    major decimal, minor and stepping hex digits, as rocm_agent_enumerator prints them."""
    if not value or not _OVERRIDE.fullmatch(value.strip()):
        return None
    major, minor, step = (int(p) for p in value.strip().split("."))
    if minor > 15 or step > 15:
        return None
    return f"gfx{major}{minor:x}{step:x}"


Fail = Callable[[str, str], Exception]


def _opt(data: dict[str, object], key: str, kind: type, where: str, fail: Fail) -> object:
    value = data.get(key)
    if value is None:
        return None
    if (kind is int and isinstance(value, bool)) or not isinstance(value, kind):
        raise fail(f"{where}.{key}", f"expected {kind.__name__}, got {type(value).__name__}")
    return value


def _str(data: dict[str, object], key: str, where: str, fail: Fail) -> str | None:
    value = _opt(data, key, str, where, fail)
    return value if isinstance(value, str) else None


def _int(data: dict[str, object], key: str, where: str, fail: Fail) -> int | None:
    value = _opt(data, key, int, where, fail)
    return value if isinstance(value, int) else None


def _bool(data: dict[str, object], key: str, where: str, fail: Fail) -> bool | None:
    value = _opt(data, key, bool, where, fail)
    return value if isinstance(value, bool) else None


def _gpus(data: dict[str, object], where: str, fail: Fail) -> list[tuple[int, dict[str, object], str]]:
    raw = data.get("gpus") or []
    if not isinstance(raw, list):
        raise fail(f"{where}.gpus", f"expected a list, got {type(raw).__name__}")
    out = []
    for i, item in enumerate(raw):
        at = f"{where}.gpus[{i}]"
        if not isinstance(item, dict):
            raise fail(at, f"expected an object, got {type(item).__name__}")
        index = _int(item, "index", at, fail)
        if index is not None and not 0 <= index < 4096:
            raise fail(f"{at}.index", f"out of range: {index}")
        out.append((i if index is None else index, item, at))
    return out


def _matching(item: dict[str, object], key: str, pattern: re.Pattern[str], at: str, fail: Fail,
              example: str) -> str | None:
    value = _str(item, key, at, fail)
    if value is not None and not pattern.fullmatch(value):
        raise fail(f"{at}.{key}", f"not like {example!r}: {value[:40]!r}")
    return value


def _source(data: dict[str, object], where: str, allowed: tuple[str, ...], fail: Fail) -> str:
    source = _str(data, "source", where, fail) or "file"
    if source not in allowed:
        raise fail(f"{where}.source", f"expected one of {', '.join(allowed)}, got {source!r}")
    return source


def read_amd(value: object, fail: Fail) -> AmdInfo:
    if not isinstance(value, dict):
        raise fail("amd", f"expected an object, got {type(value).__name__}")
    gpus = []
    for index, item, at in _gpus(value, "amd", fail):
        gpus.append(AmdGpu(index, _str(item, "name", at, fail) or "AMD GPU",
                           _matching(item, "gfx", _GFX, at, fail, "gfx1100"),
                           _matching(item, "pci_id", _HEX_ID, at, fail, "0x744c"),
                           _int(item, "memory_total_mib", at, fail), _bool(item, "integrated", at, fail)))
    return AmdInfo(_source(value, "amd", AMD_SOURCES, fail), _str(value, "rocm", "amd", fail), tuple(gpus),
                   _str(value, "hsa_override_gfx_version", "amd", fail), _str(value, "error", "amd", fail))


def read_intel(value: object, fail: Fail) -> IntelInfo:
    if not isinstance(value, dict):
        raise fail("intel", f"expected an object, got {type(value).__name__}")
    gpus = []
    for index, item, at in _gpus(value, "intel", fail):
        gpus.append(IntelGpu(index, _str(item, "name", at, fail) or "Intel GPU",
                             _matching(item, "device_id", _HEX_ID, at, fail, "0xe20b"),
                             _bool(item, "integrated", at, fail), _str(item, "driver", at, fail)))
    return IntelInfo(_source(value, "intel", INTEL_SOURCES, fail), tuple(gpus),
                     _str(value, "error", "intel", fail))
