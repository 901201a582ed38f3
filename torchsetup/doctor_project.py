"""doctor inside a uv or Poetry project: would the project's own lock (or, without one, its routing of
torch) put back a build that does not run on this machine? Each build the project would install here
is judged by the doctor's own rules, as if it were installed (one rule set, `doctor.diagnose`)."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

from torchsetup.doctor_findings import Finding
from torchsetup.kinds import Severity

if TYPE_CHECKING:
    from collections.abc import Mapping

    from torchsetup.matrix.store import Matrix
    from torchsetup.probe.model import Machine

CODE = "project-undoes-fix"
# the findings that say a build cannot run here (not those about how it was installed)
BUILD_RULES = {"cpu-build-on-gpu-machine", "driver-too-old-for-build", "gpu-arch-not-in-build",
               "rocm-build-on-nvidia", "python-unsupported"}


def project_for(python: str | None, start: Path) -> Path | None:
    """The project of the target interpreter (the folder that holds its .venv), else of `start`."""
    from torchsetup.project.pyproject import find_project

    if python:
        env = Path(python).absolute().parent.parent
        if env.name == ".venv" and (env.parent / "pyproject.toml").is_file():
            return env.parent / "pyproject.toml"
    return find_project(start)


def project_findings(machine: Machine, matrix: Matrix, project_file: Path, label: str) -> list[Finding]:
    import re

    try:
        text = project_file.read_text(encoding="utf-8")
        if not re.search(r"""["']torch\s*(?:[<>=!~\[;@]|["'])|^\s*torch\s*=""", text, re.MULTILINE):
            return []  # a project that requires no torch cannot undo a torch fix: not parsed at all
        from torchsetup.project.pyproject import load_plain, tool_of
        from torchsetup.project.routing import depends_on_torch

        doc = load_plain(text)
    except (OSError, UnicodeDecodeError, ValueError) as exc:
        return [Finding(Severity.WARNING, "not-checked", f"not checked: what {project_file} would install "
                        f"({exc})")]
    if not depends_on_torch(doc):
        return []
    tool = tool_of(doc)
    fix = "torchsetup project --write, then " + ("poetry lock && poetry install" if tool == "poetry"
                                                  else "uv lock && uv sync")
    sync = "poetry install" if tool == "poetry" else "uv sync"
    judged = [(version, where, _problems(machine, matrix, version, label))
              for version, where in _what_it_installs(doc, tool, machine, matrix, project_file)]
    if not judged or any(not problems for _, _, problems in judged):
        return []  # nothing to install here, or one of the builds it may install runs
    version, where, problems = judged[0]
    return [Finding(Severity.ERROR, CODE, f"{where} would install torch {version} here, and {problems[0]}: "
                    f"the next `{sync}` puts that back, whatever pip installs", fix)]


def _what_it_installs(doc: Mapping[str, Any], tool: str, machine: Machine, matrix: Matrix,
                      project_file: Path) -> list[tuple[str, str]]:
    """(torch version with its build, where that comes from) for every torch the project may put here."""
    from torchsetup.project.pyproject import torch_specifier
    from torchsetup.project.routing import applies, locked_torch, routes
    from torchsetup.rules import marker_environment

    env = marker_environment(machine)
    lock = locked_torch(project_file, tool)
    if lock is not None and lock[1]:
        return [(t.version, lock[0].name) for t in lock[1] if applies(t.markers, env)]
    found = [r for r in routes(doc, tool) if r.extra or applies(r.marker, env)]
    spec = torch_specifier(doc)
    from torchsetup.matrix.view import parse_spec

    wanted = parse_spec(spec)
    newest = next((r.torch for r in matrix.releases if wanted is None or wanted.contains(r.torch)), None)
    if not found:
        return [(newest, f"{project_file.name} (torch from the default index, no source routes it)")] \
            if newest else []
    out = []
    for route in found:
        version = route.torch or newest
        if version:
            origin = f"extra {route.extra}" if route.extra else route.index_url or "PyPI"
            out.append((f"{version}+{route.variant}" if route.variant else version,
                        f"{project_file.name} ({origin})"))
    return out


def _problems(machine: Machine, matrix: Matrix, version: str, label: str) -> list[str]:
    """What the doctor's rules say is wrong with `version` installed on `machine` (empty: it runs)."""
    from torchsetup.doctor import diagnose
    from torchsetup.probe.model import Installed

    as_installed = replace(machine, installed=Installed(torch=version), builds=None, dependents=())
    return [f.message for f in diagnose(as_installed, matrix, label)
            if f.severity == Severity.ERROR and f.code in BUILD_RULES]


def with_project_fix(findings: list[Finding]) -> list[Finding]:
    """Where the project would undo a reinstall, every reinstall fix becomes the project's fix."""
    from torchsetup.doctor import FIXABLE_BY_REINSTALL

    ours = next((f for f in findings if f.code == CODE), None)
    if ours is None:
        return findings
    return [replace(f, fix=ours.fix) if f.code in FIXABLE_BY_REINSTALL and f.severity == Severity.ERROR else f
            for f in findings]
