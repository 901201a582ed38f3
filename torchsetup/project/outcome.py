"""The project's new text for a fleet's plan, its diff, and what `project` reports."""

from __future__ import annotations

import difflib
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from torchsetup.project.pyproject import load_plain, parse

if TYPE_CHECKING:
    from torchsetup.project.classes import Fleet
    from torchsetup.project.pyproject import ProjectFile


@dataclass(frozen=True)
class ProjectOutcome:
    file: Path
    tool: str  # uv | poetry
    fleet: Fleet
    old: str
    new: str
    written: bool = False

    @property
    def changed(self) -> bool:
        return self.new != self.old

    @property
    def diff(self) -> str:
        name = self.file.name
        return "".join(difflib.unified_diff(self.old.splitlines(keepends=True), self.new.splitlines(keepends=True),
                                            f"a/{name}", f"b/{name}"))


def edited(project: ProjectFile, fleet: Fleet, group: str | None) -> ProjectOutcome:
    """The file as the plan wants it; the old bytes unchanged when it already says the same."""
    import tomlkit

    doc = parse(project.path, project.text)
    if project.tool == "poetry":
        from torchsetup.project.poetryedit import write_poetry

        write_poetry(doc, fleet)
    else:
        from torchsetup.project.uvedit import write_uv

        write_uv(doc, fleet, group)
    new = tomlkit.dumps(doc)
    if load_plain(new) == load_plain(project.text):
        new = project.text  # already routed to the right indexes: byte for byte as it was
    return ProjectOutcome(project.path, project.tool, fleet, project.text, new)


def next_steps(outcome: ProjectOutcome) -> list[str]:
    """What the user runs after --write."""
    if outcome.tool == "poetry":
        return ["poetry lock", "poetry install"]
    if outcome.fleet.mode == "extras":
        return ["uv lock", 'uv sync --extra "$(torchsetup project --which)"']
    return ["uv lock", "uv sync"]
