"""Machines grouped into classes that need the same build: one plan per class, one torch release for
the whole fleet where every machine can run it, and how the project tells the classes apart (an
environment marker where the platform differs, an extra where it does not)."""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import TYPE_CHECKING

from torchsetup.rules import platform_of

if TYPE_CHECKING:
    from torchsetup.extensions import Mirrors, Wanted
    from torchsetup.matrix.store import Matrix
    from torchsetup.plan import Plan, Resolution
    from torchsetup.probe.model import Machine
    from torchsetup.resolve import Request

# platform -> (sys_platform, platform_machine) as PEP 508 markers name them
MARKER_PLATFORMS = {"linux-x86_64": ("linux", "x86_64"), "linux-aarch64": ("linux", "aarch64"),
                    "windows-x86_64": ("win32", "AMD64"), "windows-arm64": ("win32", "ARM64"),
                    "macos-arm64": ("darwin", "arm64"), "macos-x86_64": ("darwin", "x86_64")}


@dataclass(frozen=True)
class MachineClass:
    """Machines that need one build, and how the project tells them apart from the others."""

    name: str  # "cu130"; an extra's name when `extra` is set
    machines: tuple[str, ...]  # probe file names, or "this machine"
    platform: str  # "linux-x86_64"
    plan: Plan
    marker: str | None = None  # "sys_platform == 'linux'"
    extra: str | None = None  # "cu130", with the other extras declared conflicting

    @property
    def index_name(self) -> str | None:
        """The name of the index the class's build comes from; None: PyPI's own build."""
        return f"pytorch-{self.plan.variant}" if self.plan.index_url else None


@dataclass(frozen=True)
class Fleet:
    """The classes, or why one machine fits no build (its resolution, as `resolve` gives it)."""

    classes: tuple[MachineClass, ...]
    failed: str | None = None  # the machine that fits no build
    resolution: Resolution | None = None  # its resolution, for the reason and the hint
    notes: tuple[str, ...] = ()

    @property
    def mode(self) -> str:
        """single | markers | extras"""
        if len(self.classes) <= 1:
            return "single"
        return "extras" if any(c.extra for c in self.classes) else "markers"


def machine_key(machine: Machine) -> str:
    """Machines with the same facts get the same plan: resolved once (a fleet of 1,000 is a few kinds)."""
    python = replace(machine.python, executable=None) if machine.python else None
    return repr(replace(machine, python=python, warnings=()))


def plan_fleet(machines: list[Machine], labels: list[str], matrix: Matrix, request: Request,
               wanted: tuple[Wanted, ...] = (), mirrors: Mirrors | None = None) -> Fleet:
    """One plan per class of machines; `wanted` (--with) packages planned with torch on each."""
    from packaging.version import Version

    from torchsetup.resolve import resolve

    cache: dict[tuple[str, str | None], Resolution] = {}

    def resolved(machine: Machine, label: str, torch: str | None) -> Resolution:
        key = (machine_key(machine), torch)
        if key not in cache:
            if wanted:
                from torchsetup.extensions import Mirrors, plan_with

                cache[key] = plan_with([machine], matrix, replace(request, torch=torch), wanted, [label],
                                       mirrors or Mirrors())
            else:
                cache[key] = resolve([machine], matrix, replace(request, torch=torch), [label])
        return cache[key]

    plans: list[Plan] = []
    for machine, label in zip(machines, labels, strict=True):
        result = resolved(machine, label, request.torch)
        if result.plan is None:
            return Fleet((), label, result)
        plans.append(result.plan)
    notes: list[str] = []
    releases = {p.torch for p in plans}
    if len(releases) > 1:  # one torch release for the fleet where every machine runs it
        common = min(releases, key=Version)
        pinned = [resolved(m, label, f"=={common}") for m, label in zip(machines, labels, strict=True)]
        if all(r.plan is not None for r in pinned):
            plans = [r.plan for r in pinned if r.plan is not None]
            notes.append(f"torch {common} for every machine: the newest release all of them run")
        else:
            notes.append("the machines need different torch releases: each class pins its own")
    return Fleet(_classes(machines, labels, plans), notes=tuple(notes))


def _classes(machines: list[Machine], labels: list[str], plans: list[Plan]) -> tuple[MachineClass, ...]:
    groups: dict[tuple[str, str, str, str | None, str | None, str | None, tuple[str, ...]], list[int]] = {}
    platforms: list[str] = []
    for i, (machine, plan) in enumerate(zip(machines, plans, strict=True)):
        system = machine.os.system if machine.os else None
        platforms.append(platform_of(system, machine.os.machine if machine.os else None))
        key = (platforms[i], plan.torch, plan.variant, plan.index_url, plan.torchvision, plan.torchaudio,
               tuple(w.requirement for w in plan.with_))
        groups.setdefault(key, []).append(i)
    per_platform: dict[str, int] = {}
    for platform, *_ in groups:
        per_platform[platform] = per_platform.get(platform, 0) + 1
    extras = any(count > 1 for count in per_platform.values())
    names = _names([(key[0], key[2], key[1]) for key in groups])
    classes = []
    for (key, members), name in zip(groups.items(), names, strict=True):
        platform = key[0]
        marker = None if len(groups) == 1 or extras else platform_marker(platform, set(per_platform))
        classes.append(MachineClass(name, tuple(labels[i] for i in members), platform, plans[members[0]],
                                    marker, name if extras else None))
    return tuple(classes)


def _names(keys: list[tuple[str, str, str]]) -> list[str]:
    """The variant's name; the platform added where two classes share it, then the release."""
    names = [variant for _, variant, _ in keys]
    if len(set(names)) < len(names):
        names = [f"{variant}-{platform.split('-')[0]}" if names.count(variant) > 1 else variant
                 for (platform, variant, _), variant in zip(keys, names, strict=True)]
    if len(set(names)) < len(names):
        names = [f"{name}-torch{torch}" if names.count(name) > 1 else name
                 for (_, _, torch), name in zip(keys, names, strict=True)]
    return names


def platform_marker(platform: str, platforms: set[str]) -> str:
    """The PEP 508 marker of `platform`: sys_platform alone when no other platform of the project
    shares it, with platform_machine when one does."""
    system, machine = MARKER_PLATFORMS.get(platform, ("linux", platform.split("-")[-1]))
    shared = [p for p in platforms if p != platform and MARKER_PLATFORMS.get(p, ("linux",))[0] == system]
    marker = f"sys_platform == '{system}'"
    return f"{marker} and platform_machine == '{machine}'" if shared else marker
