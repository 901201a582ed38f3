"""CUDA facts as pure functions over the matrix tables: driver minimums and GPU coverage."""

from __future__ import annotations

import re
from dataclasses import dataclass

from torchsetup import cudarules
from torchsetup.matrix.store import ArchList, DriverMinimum, Matrix, parse_driver

Capability = tuple[int, int]


def parse_cuda(text: str | None) -> tuple[int, int] | None:
    if not text:
        return None
    match = re.match(r"(\d+)\.(\d+)", text)
    return (int(match[1]), int(match[2])) if match else None


def fmt_cap(cap: Capability) -> str:
    return f"sm_{cap[0]}{cap[1]}"


def fmt_cuda(cuda: tuple[int, int]) -> str:
    return f"{cuda[0]}.{cuda[1]}"


def min_driver_for(matrix: Matrix, variant: str) -> DriverMinimum | None:
    """The driver minimum of a cuXYZ wheel, or None if unknown.

    The most specific prefix wins: cu110 and cu102 have their own rows; cu11x, cu12x and cu13x
    use their family's minor-version-compatibility minimum.
    """
    rows = [row for row in matrix.driver_minimums if variant.startswith(row.prefix)]
    return max(rows, key=lambda row: len(row.prefix)) if rows else None


def driver_cuda(matrix: Matrix, driver: str | None, reported: str | None, system: str
                ) -> tuple[int, int] | None:
    """The highest CUDA the driver fully supports: its own report, else the toolkit-driver table."""
    own = parse_cuda(reported)
    if own:
        return own
    version = parse_driver(driver)
    if version is None:
        return None
    for row in matrix.toolkit_drivers:  # newest first
        needed = row.windows if system == "Windows" else row.linux
        if needed and version >= needed:
            return row.cuda
    return None


def arch_list_for(matrix: Matrix, torch: str, variant: str, platform: str) -> ArchList | None:
    minor = ".".join(torch.split(".")[:2])
    for wanted in (torch, minor):
        for arch in matrix.arch_lists:
            if arch.variant == variant and arch.platform == platform and wanted in arch.torch:
                return arch
    return None


@dataclass(frozen=True)
class Coverage:
    """Whether a build's kernels run on one GPU, and how (SASS, or PTX compiled by the driver)."""

    ok: bool
    via: str  # "sm_80 SASS" | "compute_120 PTX" | ""
    needs_ptx_jit: bool = False
    unknown: bool = False  # the arch list is empty: the build does not say


def covers(arch: ArchList, cap: Capability) -> Coverage:
    """torch's rule (cudarules.coverage): same-major SASS with minor <= the GPU's, except on
    integrated parts; else PTX for an arch <= the GPU's (compiled by the driver)."""
    names = list(arch.names) or ([f"sm_{a[0]}{a[1]}" for a in arch.sass]
                                 + [f"compute_{a[0]}{a[1]}" for a in arch.ptx])
    kind, via = cudarules.coverage(names, cap[0], cap[1])
    if kind == "sass":
        return Coverage(True, f"{via} SASS")
    if kind == "ptx":
        return Coverage(True, f"{via} PTX", needs_ptx_jit=True)
    return Coverage(False, "", unknown=kind == "unknown")


def arch_list_from_flags(flags: str, torch: str, variant: str, platform: str, source: str) -> ArchList:
    """The get_arch_list() string read out of an installed torch ("sm_80 sm_90 compute_90") as an ArchList."""
    sass: list[tuple[int, int]] = []
    ptx: list[tuple[int, int]] = []
    names = tuple(flags.split())
    for word in names:
        code = cudarules.arch_code(word)
        if code is not None:
            (sass if code[0] == "sm" else ptx).append(divmod(code[1], 10))
    return ArchList((torch,), variant, platform, tuple(sass), tuple(ptx), "measured", source, names)


def describe_arch(arch: ArchList) -> str:
    sass = arch.sass
    text = f"{fmt_cap(min(sass))}..{fmt_cap(max(sass))}" if sass else "no SASS"
    if arch.ptx:
        text += " + PTX " + ", ".join(f"compute_{a[0]}{a[1]}" for a in arch.ptx)
    return text
