"""The inspecting commands: `probe` (what this machine is), `verify` (the smoke test) and `doctor`."""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated

import typer

from torchsetup.cli_options import (
    GpusOpt,
    JsonOpt,
    MatrixOpt,
    ProbeFileOpt,
    PythonOpt,
    ShellOpt,
    TimeoutOpt,
    emit_json,
    finish,
    installer_for,
    machines_for,
    shell_for,
)
from torchsetup.errors import ExitCode

if TYPE_CHECKING:
    from torchsetup.doctor_findings import Finding
    from torchsetup.matrix.store import Matrix
    from torchsetup.probe.model import Machine


def probe(
    json_out: JsonOpt = False,
    python: PythonOpt = None,
    probe_file: ProbeFileOpt = None,
) -> None:
    """What this machine is: OS, libc, Python, NVIDIA driver, GPUs, CUDA toolkit, installed torch."""
    from torchsetup.documents import probe_document
    from torchsetup.probe.model import load_probe_file

    if probe_file:
        machine = load_probe_file(probe_file)
    else:
        from torchsetup.probe.machine import probe_machine

        machine = probe_machine(python)
    if json_out:
        emit_json(probe_document(machine))
    else:
        from torchsetup.render import render_machine

        render_machine(machine)


def verify(
    json_out: JsonOpt = False,
    python: PythonOpt = None,
    timeout: TimeoutOpt = 300.0,
    dependents: Annotated[bool, typer.Option(
        "--dependents",
        help="Also import each compiled package that depends on torch, each in its own child.")] = False,
) -> None:
    """Smoke-test the torch installed in the target interpreter (the GPU when there is one)."""
    from torchsetup.documents import verify_document
    from torchsetup.probe.interpreter import default_python
    from torchsetup.verify import census_kinds, import_dependents, run_verify

    target = python or default_python()
    report = run_verify(target, timeout, expect=census_kinds())
    if dependents:
        from torchsetup.probe.interpreter import read_interpreter

        report.checks.extend(import_dependents(target, read_interpreter(target).dependents, timeout))
    if json_out:
        emit_json(verify_document(report))
    else:
        from torchsetup.render import render_verify

        render_verify(report)
    if not report.ok:
        finish(ExitCode.PROBLEM)


def _with_project(findings: list[Finding], machine: Machine, loaded: Matrix, label: str, project: str | None,
                  python: str | None) -> list[Finding]:
    """The project's own lock judged too (--project, or for this machine the project it runs in)."""
    from pathlib import Path

    from torchsetup.doctor_project import project_findings, project_for, with_project_fix

    if project is not None:
        from torchsetup.project.pyproject import open_project

        project_file: Path | None = open_project(project).path
    else:
        project_file = project_for(python, Path.cwd()) if python is not None else None
    if project_file is None:
        return findings
    return with_project_fix(findings + project_findings(machine, loaded, project_file, label))


def doctor(
    json_out: JsonOpt = False,
    python: PythonOpt = None,
    probe_file: ProbeFileOpt = None,
    matrix: MatrixOpt = None,
    gpus: GpusOpt = None,
    run_smoke: Annotated[bool, typer.Option("--verify", help="Also run the smoke test.")] = False,
    timeout: TimeoutOpt = 300.0,
    shell: ShellOpt = None,
    project: Annotated[str | None, typer.Option(
        "--project", help="Also judge what this project's lock would install (default, for this machine: the "
        "project that holds the target's .venv, else the one of this folder).")] = None,
) -> None:
    """Probe + the installed torch family checked against the machine; findings with the fix."""
    from torchsetup.doctor import examine
    from torchsetup.documents import doctor_document, verify_document
    from torchsetup.matrix import load_matrix

    loaded = load_matrix(matrix)
    machines, labels, exe = machines_for(python, [probe_file] if probe_file else None, gpus)
    machine = machines[0]
    from torchsetup.kinds import Installer

    installer = installer_for(machine, Installer.PIP, exe) if not probe_file else Installer.PIP
    findings = examine(machine, loaded, exe, labels[0], shell_for(shell, machines, None), installer)
    findings = _with_project(findings, machine, loaded, labels[0], project, None if probe_file else exe)
    verify_doc = None
    if run_smoke and not probe_file:
        from torchsetup.doctor_findings import join_devices
        from torchsetup.verify import expected_gpus, run_verify

        verify_doc = verify_document(run_verify(exe, timeout, expect=expected_gpus(machine)))
        findings += join_devices(verify_doc["devices"], machine.nvidia.gpus if machine.nvidia else ())
    document = doctor_document(machine, findings, verify_doc)
    ok = document["ok"]
    if json_out:
        emit_json(document)
    else:
        from torchsetup.render import render_doctor

        render_doctor(document, machine)
    if not ok:
        finish(ExitCode.PROBLEM)
