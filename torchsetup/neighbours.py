"""The plan and torch's neighbours: every requirement an installed package has on the torch family
is a constraint of the plan, as --torch is. Pure."""

from __future__ import annotations

from collections.abc import Iterable
from typing import TYPE_CHECKING

from torchsetup.plan import Hold, Plan

if TYPE_CHECKING:
    from torchsetup.dependents import Dependent


def neighbour_notes(plan: Plan) -> list[str]:
    """What the plan says about torch's neighbours: what holds it back, and what it breaks."""
    notes = []
    if plan.held_by:
        notes.append(f"{'; '.join(h.words() for h in plan.held_by)}: planning torch {plan.torch}; the newest "
                     f"that fits this machine is {plan.newest_free}")
    notes += [f"warning: this plan breaks {h.name} {h.version or ''}: it requires {h.requires}"
              for h in plan.breaks]
    return notes


def holds_of(dependents: Iterable[Dependent]) -> tuple[Hold, ...]:
    return tuple(dict.fromkeys(Hold(d.name, d.version, text) for d in dependents for text in d.requires))


def refused_by(holds: Iterable[Hold], torch: str, torchvision: str | None, torchaudio: str | None) -> list[Hold]:
    """The holds that planned versions do not meet (a package the plan leaves out is not judged)."""
    holds = tuple(holds)
    if not holds:
        return []
    from packaging.requirements import Requirement

    from torchsetup.dependents import satisfied

    planned = {"torch": torch, "torchvision": torchvision, "torchaudio": torchaudio}
    out = []
    for hold in holds:
        requirement = Requirement(hold.requires)
        version = planned.get(requirement.name.lower())
        if version is not None and not satisfied(requirement, version):
            out.append(hold)
    return out


def held_pin(holds: Iterable[Hold], name: str) -> tuple[str, Hold] | None:
    """(version, the hold) where a neighbour pins `name` exactly (`torchaudio==2.11.0`) without a
    marker: the companion the plan takes when the matrix pairs none with the planned torch."""
    from packaging.requirements import Requirement

    for hold in holds:
        requirement = Requirement(hold.requires)
        specs = list(requirement.specifier)
        if requirement.name.lower() == name and requirement.marker is None and len(specs) == 1 \
                and specs[0].operator == "==" and "*" not in specs[0].version:
            return specs[0].version, hold
    return None
