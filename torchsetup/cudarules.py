"""How CUDA and torch decide two things, as torch's own code does. Standard library only and no
torchsetup import: the smoke script loads this file by path inside the target interpreter, so
the resolver, the doctor and the smoke test share one copy.

- which GPU runs which compiled code (torch/cuda/__init__.py `DEVICE_REQUIREMENT`,
  `_code_compatible_with_device`, `_extract_arch_version`);
- which GPUs CUDA_VISIBLE_DEVICES leaves visible (torch/cuda/__init__.py `_parse_visible_devices`).
"""

from __future__ import annotations

INTEGRATED = (53, 62, 72, 87, 101)  # Jetson/Tegra parts: no discrete SASS of their major runs there


def arch_code(arch: str) -> tuple[str, int, str] | None:
    """'sm_90a' -> ('sm', 90, 'a'); 'compute_120' -> ('compute', 120, ''); anything else -> None."""
    kind, _, number = arch.partition("_")
    suffix = number[-1:] if number[-1:] in ("a", "f") else ""
    digits = number[:-1] if suffix else number
    if kind not in ("sm", "compute") or not digits.isdigit():
        return None
    return kind, int(digits), suffix


def sass_runs_on(code: int, device: int) -> bool:
    """SASS built for `code` (e.g. 80) runs on a GPU of capability `device` (e.g. 86): same major,
    minor at least the code's, except that integrated parts run only their own code (sm_101 was
    renamed sm_110, so sm_101 code runs on both)."""
    if code == 101:
        return device in (101, 110)
    if code in INTEGRATED:
        return device == code
    if device in INTEGRATED:
        return False
    return device // 10 == code // 10 and device % 10 >= code % 10


def ptx_runs_on(code: int, device: int, suffix: str = "") -> bool:
    """PTX is compiled by the driver for any GPU at least as new (`a` PTX: that exact GPU only;
    `f` PTX: that family)."""
    if suffix == "a":
        return device == code
    if suffix == "f":
        return device // 10 == code // 10 and device >= code
    return device >= code


def coverage(arch_list: list[str] | tuple[str, ...], major: int, minor: int) -> tuple[str, str | None]:
    """How a build with `arch_list` (get_arch_list() strings) runs on a GPU of capability
    major.minor: ('sass', 'sm_80'), ('ptx', 'compute_90'), ('none', None), or ('unknown', None)
    when the list is empty (a build that does not say)."""
    device = major * 10 + minor
    codes = [c for c in (arch_code(a) for a in arch_list) if c is not None]
    if not codes:
        return "unknown", None
    for kind, code, _ in sorted(codes, key=lambda c: -c[1]):
        if kind == "sm" and sass_runs_on(code, device):
            return "sass", f"sm_{code}"
    for kind, code, suffix in sorted(codes, key=lambda c: -c[1]):
        if kind == "compute" and ptx_runs_on(code, device, suffix):
            return "ptx", f"compute_{code}"
    return "none", None


def _strtoul(text: str) -> int:
    """-1, or the integer `text` starts with (`1gpu2` is 1, as C's strtoul reads it)."""
    end = 0
    for i, char in enumerate(text):
        if not (char.isdigit() or (i == 0 and char in "+-")):
            break
        end = i + 1
    try:
        return int(text[:end]) if end else -1
    except ValueError:
        return -1


def parse_visible_devices(value: str) -> list[int] | list[str]:
    """CUDA_VISIBLE_DEVICES as torch reads it: GPU-/MIG- UUID prefixes, else ordinals up to the
    first negative or bad one; a repeated entry makes the list empty (CUDA then sees nothing)."""
    if value.startswith(("GPU-", "MIG-")):
        prefix = value[:4]
        uuids: list[str] = []
        for elem in value.split(","):
            if elem in uuids:
                return []
            if not elem.startswith(prefix):
                break
            uuids.append(elem)
        return uuids
    ordinals: list[int] = []
    for elem in value.split(","):
        number = _strtoul(elem.strip())
        if number in ordinals:
            return []
        if number < 0:
            break
        ordinals.append(number)
    return ordinals
