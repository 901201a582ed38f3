"""`torchsetup project`: the plan for this machine or a fleet of probe documents written into a uv or
Poetry project; `--which` names the class of the machine it runs on."""

from __future__ import annotations

import os
import sys
from dataclasses import replace
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from torchsetup.cli_options import emit_json, finish, machines_for
from torchsetup.cli_plan import PlanOptions, plan_request, with_plan_options
from torchsetup.errors import ExitCode, NoFitError, UsageError
from torchsetup.textout import write

if TYPE_CHECKING:
    from torchsetup.extensions import Wanted
    from torchsetup.project.outcome import ProjectOutcome
    from torchsetup.project.pyproject import ProjectFile


def probe_files_of(paths: tuple[str, ...]) -> list[str]:
    """Each --probe-file: a document, or a folder whose *.json documents are all read (sorted by name)."""
    files: list[str] = []
    for path in paths:
        folder = Path(path)
        if folder.is_dir():
            found = sorted(str(p) for p in folder.glob("*.json"))
            if not found:
                raise UsageError(f"--probe-file {path}: the folder holds no *.json probe document",
                                 "Save each host's `torchsetup probe --json` there as HOST.json.")
            files += found
        else:
            files.append(path)
    return files


@with_plan_options
def project(
    options: PlanOptions,
    project_path: Annotated[str | None, typer.Option(
        "--project", help="The project's folder or pyproject.toml (default: this folder or the nearest above).")]
    = None,
    write_file: Annotated[bool, typer.Option("--write", help="Write the change (default: show it as a diff).")]
    = False,
    backup: Annotated[bool, typer.Option(
        "--backup", help="With --write: keep the old file as pyproject.toml.bak.")] = False,
    which: Annotated[bool, typer.Option(
        "--which", help="Print the extra this machine installs (`uv sync --extra \"$(torchsetup project "
        "--which)\"`); nothing when the project's markers cover it; exit 3 when no class of it fits.")] = False,
    group: Annotated[str | None, typer.Option(
        "--group", help="Write the torch requirements into this dependency group (default: the project's "
        "dependencies).")] = None,
) -> None:
    """Write the plan into a project (pyproject.toml for uv or Poetry) for this machine or a fleet of
    probe documents; --which names this machine's class.

    Each --probe-file is a document or a folder of them; machines that need the same build form one
    class: a marker tells classes on different platforms apart, an extra (declared conflicting) those
    on one platform. The diff is shown; --write writes it.

    Exit codes: 0 done, 2 bad input, 3 a machine fits no build (or no class of the project fits this one)."""
    from torchsetup.project.pyproject import open_project

    project_file = open_project(project_path)
    if options.python is None and not options.probe_files:  # this machine: the project's own environment
        own = project_file.path.parent / ".venv" / ("Scripts/python.exe" if os.name == "nt" else "bin/python")
        if own.exists():
            options = replace(options, python=str(own))
    if which:
        _which(options, project_file)
        return
    from torchsetup.documents import project_document
    from torchsetup.matrix import load_matrix
    from torchsetup.project.classes import plan_fleet
    from torchsetup.project.outcome import edited
    from torchsetup.project.pyproject import listed_pyg, parse, torch_specifier, unchecked_neighbours

    files = probe_files_of(options.probe_files)
    loaded = load_matrix(options.matrix)
    machines, labels, exe = machines_for(options.python, files or None, gpus=options.gpus)
    request = plan_request(options, exe, machines)
    doc = parse(project_file.path, project_file.text)
    if options.torch is None:
        request = replace(request, torch=torch_specifier(doc))
    wanted: tuple[Wanted, ...] = ()
    mirrors = None
    pages = listed_pyg(doc, options.with_packages)
    if options.with_packages or pages:
        from torchsetup.cli_plan import plan_mirrors
        from torchsetup.extensions import parse_wanted

        wanted = parse_wanted((*options.with_packages, *pages))
        mirrors = plan_mirrors(options.allow_insecure_index)
    fleet = plan_fleet(machines, labels, loaded, request, wanted, mirrors)
    if pages:
        fleet = replace(fleet, notes=(*fleet.notes, *(
            f"{page}: in the project; planned from PyG's page of the planned torch, as --with {page} does"
            for page in pages)))
    unchecked = unchecked_neighbours(doc, machines)
    if unchecked and fleet.resolution is None:
        fleet = replace(fleet, notes=(*fleet.notes, "not checked: the requirements on torch of "
                                      f"{', '.join(unchecked)} (in the project, installed in no environment "
                                      "probed here: install them, or record a probe where they are)"))
    if fleet.resolution is not None:
        res = fleet.resolution
        error = res.error or "no build fits"
        error = error if error.startswith(f"{fleet.failed}:") else f"{fleet.failed}: {error}"
        if options.json_out:
            emit_json(project_document(None, error, str(project_file.path), project_file.tool))
            finish(ExitCode.NO_FIT)
        from torchsetup.cli_plan import explain_no_fit

        explain_no_fit(replace(res, error=error), json_out=False)
    try:
        outcome = edited(project_file, fleet, group)
    except NoFitError as exc:
        if options.json_out:
            emit_json(project_document(None, exc.message, str(project_file.path), project_file.tool))
            finish(ExitCode.NO_FIT)
        raise
    if write_file and outcome.changed:
        from torchsetup.project.pyproject import write_atomically

        write_atomically(outcome.file, outcome.new, backup)
        outcome = replace(outcome, written=True)
    if options.json_out:
        emit_json(project_document(outcome))
        return
    _say(outcome, write_file)


def _say(outcome: ProjectOutcome, write_file: bool) -> None:
    from torchsetup.project.outcome import next_steps

    fleet = outcome.fleet
    write(f"{outcome.file} ({outcome.tool}): {len(fleet.classes)} "
          f"class{'es' if len(fleet.classes) != 1 else ''} of machines\n")
    for cls in fleet.classes:
        told = f"extra {cls.extra}" if cls.extra else f"marker {cls.marker}" if cls.marker else "every machine"
        source = cls.plan.index_url or "PyPI"
        more = len(cls.machines) - 3
        shown = ", ".join(cls.machines[:3]) + (f" and {more} more" if more > 0 else "")
        write(f"  {cls.name}: torch {cls.plan.torch} ({cls.plan.variant}) from {source}; {told}; {shown}\n")
    for note in fleet.notes:
        write(f"  note: {note}\n")
    if not outcome.changed:
        write("the project already routes torch this way: nothing to change\n")
        return
    if not write_file:
        write(outcome.diff)
        write("(not written: pass --write)\n")
        return
    write(f"wrote {outcome.file}\n")
    write("next: " + " && ".join(next_steps(outcome)) + "\n")


def _which(options: PlanOptions, project_file: ProjectFile) -> None:
    from torchsetup.matrix import load_matrix
    from torchsetup.project.pyproject import parse
    from torchsetup.project.which import which_class

    doc = parse(project_file.path, project_file.text)
    loaded = load_matrix(options.matrix)
    files = probe_files_of(options.probe_files)
    machines, labels, exe = machines_for(options.python, files[:1] or None, gpus=options.gpus)
    request = plan_request(options, exe, machines)
    answer = which_class(doc, project_file.tool, machines[0], labels[0], loaded, request)
    if answer.error is not None:
        raise NoFitError(answer.error, answer.hint)
    if answer.extra is None:
        sys.stderr.write(f"torchsetup: the project's markers cover this machine ({answer.variant}): "
                         f"plain `{'poetry install' if project_file.tool == 'poetry' else 'uv sync'}`\n")
        return
    write(answer.extra + "\n")
