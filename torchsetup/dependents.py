"""torch's neighbours: the installed packages that depend on torch, torchvision or torchaudio, what
their metadata requires of them (PEP 508, markers evaluated for the target interpreter), and what a
compiled extension's own version says it was built for.

Build names (data/sources/torch-dependents.md, section 2): flash-attn's `+cu12torch2.6cxx11abiTRUE`
(CUDA major, torch minor, C++11 ABI), PyG's `+pt212cu130` (torch minor, CUDA major.minor). torchao
declares no torch requirement but loads its kernels only with the torch of its release line
(pytorch/ao#2919, section 1); those rows are below with their source.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from packaging.requirements import Requirement

# torchao release line -> the torch minor its compiled kernels need (pytorch/ao#2919; 0.18 from its
# __init__: "Skipping import of cpp extensions" below torch 2.11); torchsetup reads no other rows.
TORCHAO_TORCH = {"0.12": "2.7", "0.13": "2.8", "0.14": "2.9", "0.18": "2.11"}
ALWAYS_NEIGHBOURS = ("torchao", "fbgemm-gpu", "fbgemm-gpu-genai")  # compiled, no torch requirement declared

_FLASH = re.compile(r"cu(\d+)torch(\d+\.\d+)cxx11abi(true|false)", re.IGNORECASE)
_PYG = re.compile(r"pt(\d)(\d+)(?:cu(\d+)(\d)|cpu)")


@dataclass(frozen=True)
class BuiltFor:
    """What a compiled extension's own files say it was built against (None: not said)."""

    torch: str | None  # "2.6": a torch minor
    cuda: str | None  # "12" (a major) or "13.0"
    cxx11abi: bool | None


@dataclass(frozen=True)
class Dependent:
    """An installed package that depends on the torch family."""

    name: str
    version: str | None
    requires: tuple[str, ...]  # its Requires-Dist on the family, markers applied
    compiled: bool | None  # ships .so/.pyd files; None: its RECORD was not read
    built_for: BuiltFor | None
    modules: tuple[str, ...] = ()  # its top-level modules (what `verify --dependents` imports)


def parse_built_for(version: str | None) -> BuiltFor | None:
    local = (version or "").partition("+")[2]
    if not local:
        return None
    flash = _FLASH.fullmatch(local)
    if flash:
        return BuiltFor(flash[2], flash[1], flash[3].lower() == "true")
    pyg = _PYG.fullmatch(local)
    if pyg:
        cuda = f"{pyg[3]}.{pyg[4]}" if pyg[3] else None
        return BuiltFor(f"{pyg[1]}.{pyg[2]}", cuda, None)
    return None


def from_child(record: Mapping[str, object], environment: Mapping[str, str]) -> tuple[Dependent | None, list[str]]:
    """A dependent from the interpreter child's record, markers evaluated with the target's values;
    and a warning for each requirement that is not valid PEP 508 (skipped, never a crash)."""
    from packaging.markers import InvalidMarker, UndefinedEnvironmentName
    from packaging.requirements import InvalidRequirement, Requirement

    warnings: list[str] = []
    kept: list[str] = []
    name = str(record.get("name") or "?")
    raw = record.get("requires")
    for text in raw if isinstance(raw, list) else []:
        try:
            requirement = Requirement(str(text))
            if requirement.marker is not None and not requirement.marker.evaluate({**environment, "extra": ""}):
                continue
        except (InvalidRequirement, InvalidMarker, UndefinedEnvironmentName) as exc:
            warnings.append(f"{name}: Requires-Dist {str(text)[:80]!r} is not a valid requirement ({exc}); "
                            "skipped")
            continue
        kept.append(str(requirement))
    normalised = name.lower().replace("_", "-")
    if not kept and normalised not in ALWAYS_NEIGHBOURS:
        return None, warnings
    version = record.get("version")
    compiled = record.get("compiled")
    modules = record.get("modules")
    return Dependent(name, str(version) if version else None, tuple(kept),
                     compiled if isinstance(compiled, bool) else None, parse_built_for(str(version or "")),
                     tuple(str(m) for m in modules) if isinstance(modules, list) else ()), warnings


def requirements_of(dependent: Dependent) -> list[Requirement]:
    from packaging.requirements import Requirement

    return [Requirement(text) for text in dependent.requires]


def satisfied(requirement: Requirement, version: str) -> bool:
    """Whether an installed or planned `version` meets `requirement` (a pre-release too)."""
    from packaging.version import InvalidVersion, Version

    try:
        return requirement.specifier.contains(Version(version), prereleases=True)
    except InvalidVersion:
        return False


def torchao_needs(dependent: Dependent) -> str | None:
    """The torch minor torchao's kernels need, for the release lines the table knows."""
    if dependent.name.lower() != "torchao" or not dependent.version:
        return None
    line = ".".join(dependent.version.split("+")[0].split(".")[:2])
    return TORCHAO_TORCH.get(line)
