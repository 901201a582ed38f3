"""Which of the project's classes a machine belongs to: each route of torch the project has (an extra,
or a marker that holds here) judged on this machine with the resolver's own rules; the one the
resolver itself would pick wins, else the best that runs."""

from __future__ import annotations

import re
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING, Any

from torchsetup.project.routing import Route, applies, depends_on_torch, routes
from torchsetup.rules import marker_environment, platform_of

if TYPE_CHECKING:
    from collections.abc import Mapping

    from torchsetup.matrix.store import Matrix
    from torchsetup.probe.model import Machine
    from torchsetup.resolve import Request

WRITE_FIRST = "Run `torchsetup project --write` (with this machine's probe document among the others) first."


@dataclass(frozen=True)
class WhichAnswer:
    extra: str | None  # None: the markers (or the single route) cover this machine
    variant: str | None
    error: str | None = None
    hint: str | None = None


def which_class(doc: Mapping[str, Any], tool: str, machine: Machine, label: str, matrix: Matrix,
                request: Request) -> WhichAnswer:
    from torchsetup.resolve import resolve

    found = routes(doc, tool)
    if not found:
        if not depends_on_torch(doc):
            return WhichAnswer(None, None, "the project does not depend on torch", WRITE_FIRST)
        found = [Route(None, None)]  # torch from the default index, for every machine
    env = marker_environment(machine)
    candidates = [r for r in found if r.extra is not None or applies(r.marker, env)]
    if not candidates:
        return WhichAnswer(None, None, f"no route of torch in the project applies to {label} "
                           f"(sys_platform {env['sys_platform']}, platform_machine {env['platform_machine']})",
                           WRITE_FIRST)
    has_gpu = bool(machine.nvidia and machine.nvidia.gpus)
    fits: list[tuple[Route, str]] = []
    reasons: list[str] = []
    for route in candidates:
        variant = route.variant or _pypi_build(matrix, route, machine)
        torch = f"=={route.torch}" if route.torch else request.torch
        result = resolve([machine], matrix, replace(request, torch=torch, variant=variant), [label])
        name = route.extra or route.marker or "the project's torch"
        if result.plan is None:
            reasons.append(f"{name} ({variant or 'PyPI'}): {result.error}")
        elif result.plan.variant == "cpu" and has_gpu and not request.allow_cpu:
            reasons.append(f"{name}: a CPU-only build on a machine with an NVIDIA GPU (pass --allow-cpu)")
        else:
            fits.append((route, result.plan.variant))
    if not fits:
        return WhichAnswer(None, None, f"no class of the project fits {label}: " + "; ".join(reasons),
                           WRITE_FIRST)
    pinned = {r.torch for r, _ in fits}
    own = resolve([machine], matrix, replace(request, torch=f"=={pinned.pop()}" if len(pinned) == 1
                                             else request.torch), [label]).plan
    chosen = next((f for f in fits if own is not None and f[1] == own.variant), None) or max(fits, key=_rank)
    return WhichAnswer(chosen[0].extra, chosen[1])


def _rank(fit: tuple[Route, str]) -> tuple[bool, int]:
    digits = re.sub(r"\D", "", fit[1])
    return fit[1] != "cpu", int(digits) if digits else 0


def _pypi_build(matrix: Matrix, route: Route, machine: Machine) -> str | None:
    """The build PyPI's own wheel of the route's release is on this machine's platform."""
    release = matrix.by_version.get(route.torch or "") if route.torch else None
    if release is None:
        return None
    return release.pypi_build(platform_of(machine.os.system if machine.os else None,
                                          machine.os.machine if machine.os else None))
