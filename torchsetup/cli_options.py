"""What the commands share: option types, the machines to plan or diagnose for, the shell a command
is quoted for, and writing the one JSON document or the exit code."""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any, NoReturn

import typer

from torchsetup.errors import ExitCode, UsageError

if TYPE_CHECKING:
    from torchsetup.kinds import Installer
    from torchsetup.probe.model import Machine

PLATFORMS = ("linux-x86_64", "linux-aarch64", "windows-x86_64", "macos-arm64", "macos-x86_64")

JsonOpt = Annotated[bool, typer.Option("--json", help="Machine output (one JSON document) on stdout.")]
PythonOpt = Annotated[str | None, typer.Option(
    "--python", help="Target interpreter (default: $VIRTUAL_ENV, $CONDA_PREFIX, this one).")]
ProbeFileOpt = Annotated[str | None, typer.Option(
    "--probe-file", help="Use a recorded probe document instead of probing.")]
ProbeFilesOpt = Annotated[list[str] | None, typer.Option(
    "--probe-file", help="Recorded probe document(s); several = one plan for the whole fleet.")]
MatrixOpt = Annotated[str | None, typer.Option("--matrix", help="Another compat_matrix.json.")]
TorchOpt = Annotated[str | None, typer.Option(
    "--torch", help="A release or PEP 440 specifier: 2.5.1, '>=2.4,<2.7'; a bare 2.4 is the 2.4 series, "
    "==2.4 is 2.4.0.")]
VariantOpt = Annotated[str | None, typer.Option("--variant", help="Force a variant: cpu, cu126, ...")]
NoTorchvisionOpt = Annotated[bool, typer.Option("--no-torchvision", help="Leave torchvision out.")]
NoTorchaudioOpt = Annotated[bool, typer.Option("--no-torchaudio", help="Leave torchaudio out.")]
PythonVersionOpt = Annotated[str | None, typer.Option(
    "--python-version", help="Plan for another Python, e.g. 3.12 or 3.14t.")]
PlatformOpt = Annotated[str | None, typer.Option(
    "--platform", help=f"Plan for another platform: {', '.join(PLATFORMS)}.")]
AllowCpuOpt = Annotated[bool, typer.Option("--allow-cpu", help="Accept a CPU build on a GPU machine.")]
ForExtensionsOpt = Annotated[bool, typer.Option(
    "--for-extensions", help="You build CUDA extensions: match the local toolkit's major.")]
InstallerOpt = Annotated[str, typer.Option("--installer", help="pip, uv or auto (uv when on PATH).")]
IndexStrategyOpt = Annotated[str, typer.Option(
    "--index-strategy", help="extra: PyPI stays primary, pins carry +cuXYZ; index: --index-url only.")]
IndexBaseOpt = Annotated[str | None, typer.Option(
    "--index-base", help="Mirror of https://download.pytorch.org/whl ($TORCHSETUP_INDEX_BASE).")]
InsecureOpt = Annotated[bool, typer.Option("--allow-insecure-index", help="Accept an http:// mirror.")]
TimeoutOpt = Annotated[float, typer.Option("--timeout", help="Smoke test time limit, seconds.")]
ShellOpt = Annotated[str | None, typer.Option(
    "--shell", help="Quote commands for posix or powershell (default: the target's OS).")]
GpusOpt = Annotated[str | None, typer.Option(
    "--gpus", help="Only these GPUs count: NVML indexes or UUIDs, e.g. 0,2 (default: CUDA_VISIBLE_DEVICES).")]


def machines_for(python: str | None, probe_files: list[str] | None,
                 gpus: str | None = None) -> tuple[list[Machine], list[str], str]:
    """The machines to plan for, their labels, and the interpreter the command names. Only the GPUs
    torch will use count: --gpus, else (for this machine, not a recorded one) CUDA_VISIBLE_DEVICES."""
    from torchsetup.probe.model import load_probe_file
    from torchsetup.visible import select_gpus

    if probe_files:
        machines = [select_gpus(load_probe_file(f), gpus, None) for f in probe_files]
        exe = python or (machines[0].python.executable if machines[0].python else None) or "python"
        return machines, [Path(f).name for f in probe_files], exe
    from torchsetup.probe.interpreter import choose_default_python, stale_environments
    from torchsetup.probe.machine import probe_machine

    target = python
    if target is None:
        target, note = choose_default_python()
        for stale in stale_environments():
            sys.stderr.write(f"torchsetup: warning: {stale}; using {target}\n")
        if note:
            sys.stderr.write(f"torchsetup: note: {note}\n")
    machine = probe_machine(target)
    if machine.python is not None and machine.python.externally_managed:
        sys.stderr.write(f"torchsetup: note: {target} is externally managed (PEP 668): pip refuses to install "
                         "into it; create and activate a virtual environment (python3 -m venv .venv, then "
                         ". .venv/bin/activate), or pass --python\n")
    return [select_gpus(machine, gpus, os.environ)], ["this machine"], target


def installer_for(machine: Machine, installer: Installer, python: str) -> Installer:
    """A target without pip gets uv when uv is on PATH; otherwise the line that adds pip is said."""
    from torchsetup.kinds import Installer

    if installer != Installer.PIP or machine.python is None or machine.python.pip is not False:
        return installer
    import shutil

    if shutil.which("uv"):
        sys.stderr.write(f"torchsetup: note: {python} has no pip; uv is on PATH, so the command uses uv\n")
        return Installer.UV
    sys.stderr.write(f"torchsetup: note: {python} has no pip; add it first with `{python} -m ensurepip`\n")
    return installer


def shell_for(shell: str | None, machines: list[Machine], platform: str | None) -> str:
    """--shell, else the target's own: PowerShell for a Windows plan, POSIX otherwise."""
    if shell is not None:
        if shell not in ("posix", "powershell"):
            raise UsageError(f"unknown shell {shell!r}", "Use --shell posix or --shell powershell.")
        return shell
    system = machines[0].os.system if machines and machines[0].os else None
    windows = (platform or "").startswith("windows") or (platform is None and system == "Windows")
    return "powershell" if windows else "posix"


def emit_json(document: dict[str, Any]) -> None:
    """The one document of a --json command: nothing else goes to stdout."""
    from torchsetup.textout import write

    write(json.dumps(document, indent=2) + "\n")


def finish(code: ExitCode) -> NoReturn:
    raise typer.Exit(int(code))
