"""The planning commands: `resolve` (which build fits, and why not the others) and `install`, and
the one typed options object both build (`PlanOptions`), checked into a `resolve.Request`."""

from __future__ import annotations

import os
import re
import sys
from dataclasses import dataclass
from typing import TYPE_CHECKING, Annotated, NoReturn

import typer

from torchsetup.cli_options import (
    PLATFORMS,
    AllowCpuOpt,
    ForExtensionsOpt,
    GpusOpt,
    IndexBaseOpt,
    IndexStrategyOpt,
    InsecureOpt,
    InstallerOpt,
    JsonOpt,
    MatrixOpt,
    NoTorchaudioOpt,
    NoTorchvisionOpt,
    PlatformOpt,
    ProbeFilesOpt,
    PythonOpt,
    PythonVersionOpt,
    ShellOpt,
    TimeoutOpt,
    TorchOpt,
    VariantOpt,
    emit_json,
    finish,
    machines_for,
    shell_for,
)
from torchsetup.errors import ExitCode, InstallFailed, NoFitError, UsageError
from torchsetup.textout import write

if TYPE_CHECKING:
    from torchsetup.probe.model import Machine
    from torchsetup.resolve import Request, Resolution


@dataclass(frozen=True)
class PlanOptions:
    """What `resolve` and `install` both take: one typed object, built field by field."""

    python: str | None = None
    probe_files: tuple[str, ...] = ()
    matrix: str | None = None
    gpus: str | None = None
    torch: str | None = None
    variant: str | None = None
    no_torchvision: bool = False
    no_torchaudio: bool = False
    python_version: str | None = None
    platform: str | None = None
    allow_cpu: bool = False
    for_extensions: bool = False
    installer: str = "pip"
    index_strategy: str = "extra"
    index_base: str | None = None
    allow_insecure_index: bool = False


def plan_request(options: PlanOptions, python: str) -> Request:
    """Options -> a resolve.Request, every option checked (bad ones are exit 2)."""
    from torchsetup.command import INSTALLERS, STRATEGIES, CommandOptions, check_index_base
    from torchsetup.resolve import Request as PlanRequest

    installer, index_strategy = options.installer, options.index_strategy
    python_version, platform = options.python_version, options.platform
    base = options.index_base or os.environ.get("TORCHSETUP_INDEX_BASE") or None
    check_index_base(base, options.allow_insecure_index)
    if installer == "auto":
        import shutil

        installer = "uv" if shutil.which("uv") else "pip"
    if installer not in INSTALLERS:
        raise UsageError(f"unknown installer {installer!r}", "Use --installer pip, uv or auto.")
    if index_strategy not in STRATEGIES:
        raise UsageError(f"unknown index strategy {index_strategy!r}",
                         "Use --index-strategy extra or --index-strategy index.")
    if python_version is not None and re.fullmatch(r"3\.\d+t?", python_version) is None:
        raise UsageError(f"not a Python version: {python_version!r}", "Use e.g. 3.12 or 3.14t.")
    if platform is not None and platform not in PLATFORMS:
        raise UsageError(f"unknown platform {platform!r}", f"Use one of {', '.join(PLATFORMS)}.")
    return PlanRequest(torch=options.torch, variant=options.variant, torchvision=not options.no_torchvision,
                       torchaudio=not options.no_torchaudio, python_version=python_version, platform=platform,
                       allow_cpu=options.allow_cpu, for_extensions=options.for_extensions,
                       command=CommandOptions(python=python, installer=installer, strategy=index_strategy,
                                              index_base=base, allow_insecure_index=options.allow_insecure_index))


def resolve_for(options: PlanOptions) -> tuple[Resolution, list[Machine], str]:
    """The matrix, the machine(s) and the options -> (Resolution, machines, target interpreter)."""
    from torchsetup.matrix import load_matrix
    from torchsetup.resolve import resolve as run_resolve

    loaded = load_matrix(options.matrix)
    machines, labels, exe = machines_for(options.python, list(options.probe_files) or None, gpus=options.gpus)
    request = plan_request(options, exe)
    return run_resolve(machines, loaded, request, labels), machines, exe


def explain_no_fit(result: Resolution, json_out: bool) -> NoReturn:
    """resolve and install explain a no-fit alike: the nearest candidates, the headline, the ways out."""
    if not json_out:
        from torchsetup.render import render_resolution

        render_resolution(result, stream="stderr")
    raise NoFitError(result.error or "no build fits", result.hint)


def resolve(
    json_out: JsonOpt = False,
    python: PythonOpt = None,
    probe_file: ProbeFilesOpt = None,
    torch: TorchOpt = None,
    variant: VariantOpt = None,
    no_torchvision: NoTorchvisionOpt = False,
    no_torchaudio: NoTorchaudioOpt = False,
    python_version: PythonVersionOpt = None,
    platform: PlatformOpt = None,
    allow_cpu: AllowCpuOpt = False,
    for_extensions: ForExtensionsOpt = False,
    matrix: MatrixOpt = None,
    gpus: GpusOpt = None,
    installer: InstallerOpt = "pip",
    index_strategy: IndexStrategyOpt = "extra",
    index_base: IndexBaseOpt = None,
    allow_insecure_index: InsecureOpt = False,
    shell: ShellOpt = None,
) -> None:
    """Which torch/torchvision/torchaudio build fits, and why every other one does not.

    Exit codes: 0 a plan, 2 bad input, 3 no build fits, 5 the environment could not be inspected."""
    from torchsetup.documents import resolve_document

    options = PlanOptions(python, tuple(probe_file or ()), matrix, gpus, torch, variant, no_torchvision,
                          no_torchaudio, python_version, platform, allow_cpu, for_extensions, installer,
                          index_strategy, index_base, allow_insecure_index)
    result, machines, _ = resolve_for(options)
    if json_out:
        emit_json(resolve_document(result))
        if not result.ok:
            finish(ExitCode.NO_FIT)
        return
    if not result.ok:
        explain_no_fit(result, json_out)
    from torchsetup.render import render_resolution

    render_resolution(result, shell=shell_for(shell, machines, platform))


def install(
    json_out: JsonOpt = False,
    python: PythonOpt = None,
    probe_file: ProbeFilesOpt = None,
    torch: TorchOpt = None,
    variant: VariantOpt = None,
    no_torchvision: NoTorchvisionOpt = False,
    no_torchaudio: NoTorchaudioOpt = False,
    python_version: PythonVersionOpt = None,
    platform: PlatformOpt = None,
    allow_cpu: AllowCpuOpt = False,
    for_extensions: ForExtensionsOpt = False,
    matrix: MatrixOpt = None,
    gpus: GpusOpt = None,
    installer: InstallerOpt = "pip",
    index_strategy: IndexStrategyOpt = "extra",
    index_base: IndexBaseOpt = None,
    allow_insecure_index: InsecureOpt = False,
    dry_run: Annotated[bool, typer.Option("--dry-run", help="Print the command; change nothing.")] = False,
    shell: ShellOpt = None,
    output_format: Annotated[str, typer.Option("--format", help="command or requirements.")] = "command",
    yes: Annotated[bool, typer.Option("--yes", "-y", help="No question (CI).")] = False,
    no_verify: Annotated[bool, typer.Option("--no-verify", help="Skip the smoke test afterwards.")] = False,
    timeout: TimeoutOpt = 300.0,
) -> None:
    """Emit (--dry-run) or run the install command for the resolved plan, then verify.

    Exit codes: 0 done (or declined), 1 the smoke test failed, 2 bad input, 3 no build fits,
    4 the install failed and the environment was restored, 5 the environment could not be inspected."""
    from dataclasses import replace

    from torchsetup import quoting
    from torchsetup.documents import install_document, verify_document
    from torchsetup.install import InstallResult, already_installed, requirements_text, run_install
    from torchsetup.probe.model import Installed

    if output_format not in ("command", "requirements"):
        raise UsageError(f"unknown format {output_format!r}", "Use --format command or requirements.")
    if (probe_file or python_version or platform) and not dry_run:
        raise UsageError("--probe-file, --python-version and --platform plan for another machine; "
                         "nothing can be installed here from that plan",
                         "Add --dry-run to print the command for that machine.")
    options = PlanOptions(python, tuple(probe_file or ()), matrix, gpus, torch, variant, no_torchvision,
                          no_torchaudio, python_version, platform, allow_cpu, for_extensions, installer,
                          index_strategy, index_base, allow_insecure_index)
    result, machines, exe = resolve_for(options)
    quoting_for = shell_for(shell, machines, platform)
    if not result.ok or result.plan is None:
        if json_out:
            emit_json(install_document(None, error=result.error))
        explain_no_fit(result, json_out)
    plan = result.plan
    if dry_run:
        if json_out:
            emit_json(install_document(InstallResult(True, "dry-run", plan)))
        elif output_format == "requirements":
            write(requirements_text(plan))
        else:
            write(quoting.quote(plan.command, quoting_for) + "\n")
        return
    installed = machines[0].installed or Installed()
    if not already_installed(plan, installed) and not yes:
        if not sys.stdin.isatty():
            raise UsageError("not asking without a terminal: nothing was installed",
                             "Pass --yes to install without a question (CI), or --dry-run to see the command.")
        from torchsetup.render import render_resolution

        render_resolution(result, shell=quoting_for, stream="stderr")  # stdout stays the document's
        if not typer.confirm("Install this now?", default=False, err=True):
            sys.stderr.write("nothing installed\n")
            if json_out:
                emit_json(install_document(InstallResult(True, "declined", plan)))
            finish(ExitCode.OK)
    outcome = run_install(plan, exe, installed, output=sys.stderr if json_out else None)
    if outcome.ok and not no_verify:  # "already installed" is verified too: it may be broken
        from torchsetup.verify import expected_gpus, run_verify

        report = run_verify(exe, timeout, expect=expected_gpus(machines[0]))
        failed = "installed, but the smoke test failed" if outcome.action == "installed" else (
            "already installed, but the smoke test failed")
        outcome = replace(outcome, verify=verify_document(report), ok=report.ok,
                          error=None if report.ok else failed)
    if json_out:
        emit_json(install_document(outcome))
    else:
        from torchsetup.render import render_install

        render_install(outcome)
    if outcome.action == "failed":
        if not json_out:
            raise InstallFailed(outcome.error or "the install failed", "The environment was restored; see above.")
        finish(ExitCode.INSTALL_FAILED)
    if not outcome.ok:
        finish(ExitCode.PROBLEM)
