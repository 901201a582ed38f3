"""The planning commands: `resolve` (which build fits, and why not the others) and `install`.

Both take one option set (`plan_options`), checked once, here at the edge, into a typed
`PlanOptions` that the lower layers trust."""

from __future__ import annotations

import inspect
import os
import re
import sys
import typing
from collections.abc import Callable
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING, Annotated

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
    installer_for,
    machines_for,
    shell_for,
)
from torchsetup.errors import ExitCode, InstallFailed, NoFitError, UsageError
from torchsetup.kinds import IndexStrategy, InstallAction, Installer
from torchsetup.textout import write

if TYPE_CHECKING:
    from torchsetup.extensions import Mirrors
    from torchsetup.install import InstallResult
    from torchsetup.plan import Hold, Plan, Resolution
    from torchsetup.probe.model import Machine
    from torchsetup.resolve import Request


@dataclass(frozen=True)
class PlanOptions:
    """What `resolve` and `install` both take, checked: every value here is valid."""

    json_out: bool
    python: str | None
    probe_files: tuple[str, ...]
    matrix: str | None
    gpus: str | None
    torch: str | None
    variant: str | None
    torchvision: bool
    torchaudio: bool
    python_version: str | None
    platform: str | None
    allow_cpu: bool
    for_extensions: bool
    installer: Installer
    index_strategy: IndexStrategy
    index_base: str | None
    allow_insecure_index: bool
    shell: str | None
    ignore_dependents: bool = False
    allow_override: bool = False
    with_packages: tuple[str, ...] = ()


def plan_options(
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
    ignore_dependents: Annotated[bool, typer.Option(
        "--ignore-dependents", help="Plan without the requirements installed packages have on torch "
        "(the plan then names each one it breaks).")] = False,
    with_packages: Annotated[list[str] | None, typer.Option(
        "--with", help="Plan this package with torch (repeatable; PKG or PKG==VERSION): vllm, xformers, "
        "flash-attn, torchao, bitsandbytes, torch-tensorrt.")] = None,
    allow_override: Annotated[bool, typer.Option(
        "--allow-override", help="For an AMD GPU no ROCm wheel carries: plan with the HSA_OVERRIDE_GFX_VERSION "
        "the sources document for its family (the plan names the variable and its risk).")] = False,
) -> PlanOptions:
    """The option set of `resolve` and `install`, each option checked (bad ones are exit 2)."""
    from torchsetup.command import check_index_base

    base = index_base or os.environ.get("TORCHSETUP_INDEX_BASE") or None
    check_index_base(base, allow_insecure_index)
    if installer == "auto":
        import shutil

        installer = "uv" if shutil.which("uv") else "pip"
    if installer not in {i.value for i in Installer}:
        raise UsageError(f"unknown installer {installer!r}", "Use --installer pip, uv or auto.")
    if installer == "uv":
        import shutil

        if shutil.which("uv") is None:
            raise UsageError("--installer uv: uv is not on PATH", "Install uv, or use --installer pip.")
    if index_strategy not in {s.value for s in IndexStrategy}:
        raise UsageError(f"unknown index strategy {index_strategy!r}",
                         "Use --index-strategy extra or --index-strategy index.")
    if python_version is not None and re.fullmatch(r"3\.\d+t?", python_version) is None:
        raise UsageError(f"not a Python version: {python_version!r}", "Use e.g. 3.12 or 3.14t.")
    if platform is not None and platform not in PLATFORMS:
        raise UsageError(f"unknown platform {platform!r}", f"Use one of {', '.join(PLATFORMS)}.")
    if shell is not None and shell not in ("posix", "powershell"):
        raise UsageError(f"unknown shell {shell!r}", "Use --shell posix or --shell powershell.")
    if variant is not None:
        variant = _checked_variant(variant)
    return PlanOptions(json_out, python, tuple(probe_file or ()), matrix, gpus, torch, variant,
                       not no_torchvision, not no_torchaudio, python_version, platform, allow_cpu, for_extensions,
                       Installer(installer), IndexStrategy(index_strategy), base, allow_insecure_index, shell,
                       ignore_dependents, allow_override, tuple(with_packages or ()))


def _checked_variant(variant: str) -> str:
    """cu121, cpu, rocm6.2, xpu; a spelling such as `cuda12.1` or `CU121` gets a suggestion."""
    if re.fullmatch(r"cpu|cu\d{2,3}|rocm\d+(\.\d+)*|xpu", variant):
        return variant
    match = re.fullmatch(r"(?:cuda|cu)[-_ ]?(\d+)\.?(\d)?", variant.strip().lower())
    suggestion = f"cu{match[1]}{match[2] or ''}" if match else variant.strip().lower()
    hint = f"Did you mean --variant {suggestion}?" if suggestion != variant else \
        "Use cpu, cuXYZ (cu128), rocmX.Y or xpu; `torchsetup matrix show` lists them."
    raise UsageError(f"not a variant name: {variant!r}", hint)


def with_plan_options(command: Callable[..., None]) -> Callable[..., None]:
    """`command(options: PlanOptions, ...its own options)` as a typer command that takes the plan
    options and its own: one option set, declared once."""
    shared = list(inspect.signature(plan_options).parameters.values())
    own = [p for p in inspect.signature(command).parameters.values() if p.name != "options"]
    hints = {**typing.get_type_hints(plan_options, include_extras=True),
             **typing.get_type_hints(command, include_extras=True)}

    def run(**values: object) -> None:
        options = plan_options(**{p.name: values.pop(p.name) for p in shared})  # type: ignore[arg-type]
        command(options, **values)

    run.__name__, run.__doc__ = command.__name__, command.__doc__
    run.__signature__ = inspect.Signature(  # type: ignore[attr-defined]
        [p.replace(annotation=hints[p.name]) for p in shared + own])
    run.__annotations__ = {p.name: hints[p.name] for p in shared + own}
    return run


def plan_request(options: PlanOptions, python: str, machines: list[Machine] | None = None) -> Request:
    from torchsetup.command import CommandOptions
    from torchsetup.resolve import Request as PlanRequest

    neighbours = [d for m in machines or () for d in m.dependents or ()]
    holds: tuple[Hold, ...] = ()
    if neighbours:
        from torchsetup.neighbours import holds_of

        holds = holds_of(neighbours)

    return PlanRequest(torch=options.torch, variant=options.variant, torchvision=options.torchvision,
                       torchaudio=options.torchaudio, python_version=options.python_version,
                       platform=options.platform, allow_cpu=options.allow_cpu,
                       allow_override=options.allow_override,
                       for_extensions=options.for_extensions,
                       command=CommandOptions(python=python, installer=options.installer,
                                              strategy=options.index_strategy, index_base=options.index_base,
                                              allow_insecure_index=options.allow_insecure_index),
                       holds=() if options.ignore_dependents else holds,
                       ignored_holds=holds if options.ignore_dependents else ())


def resolve_for(options: PlanOptions) -> tuple[Resolution, list[Machine], str]:
    """The matrix, the machine(s) and the options -> (Resolution, machines, target interpreter)."""
    from torchsetup.matrix import load_matrix
    from torchsetup.resolve import resolve as run_resolve

    loaded = load_matrix(options.matrix)
    machines, labels, exe = machines_for(options.python, list(options.probe_files) or None, gpus=options.gpus)
    if not options.probe_files:
        options = replace(options, installer=installer_for(machines[0], options.installer, exe))
    request = plan_request(options, exe, machines)
    if options.with_packages:
        from torchsetup.extensions import parse_wanted, plan_with

        result = plan_with(machines, loaded, request, parse_wanted(options.with_packages), labels,
                           plan_mirrors(options.allow_insecure_index))
    else:
        result = run_resolve(machines, loaded, request, labels)
    if result.plan is not None and not options.probe_files:  # this machine's installer configuration
        from torchsetup.installer_config import gate

        result = replace(result, plan=gate(result.plan, options.installer, options.index_strategy,
                                           options.allow_insecure_index, os.environ))
    return result, machines, exe


def plan_mirrors(allow_insecure: bool) -> Mirrors:
    """$TORCHSETUP_FLASH_ATTN_RELEASES and $TORCHSETUP_PYG_PAGES, through the URL gate."""
    from torchsetup.extensions import FLASH_RELEASES, PYG_PAGES, Mirrors
    from torchsetup.urlgate import check_url

    flash = os.environ.get("TORCHSETUP_FLASH_ATTN_RELEASES") or FLASH_RELEASES
    pyg = os.environ.get("TORCHSETUP_PYG_PAGES") or PYG_PAGES
    return Mirrors(check_url(flash, "TORCHSETUP_FLASH_ATTN_RELEASES", allow_insecure),
                   check_url(pyg, "TORCHSETUP_PYG_PAGES", allow_insecure))


def explain_no_fit(result: Resolution, json_out: bool) -> typing.NoReturn:
    """resolve and install explain a no-fit alike: the nearest candidates, the headline, the ways out."""
    if not json_out:
        from torchsetup.render import render_resolution

        render_resolution(result, stream="stderr")
    raise NoFitError(result.error or "no build fits", result.hint)


@with_plan_options
def resolve(options: PlanOptions) -> None:
    """Which torch/torchvision/torchaudio build fits, and why every other one does not.

    Exit codes: 0 a plan, 2 bad input, 3 no build fits, 5 the environment could not be inspected."""
    from torchsetup.documents import resolve_document

    result, machines, _ = resolve_for(options)
    if options.json_out:
        emit_json(resolve_document(result))
        if not result.ok:
            finish(ExitCode.NO_FIT)
        return
    if not result.ok:
        explain_no_fit(result, options.json_out)
    from torchsetup.render import render_resolution

    render_resolution(result, shell=shell_for(options.shell, machines, options.platform))


@with_plan_options
def install(
    options: PlanOptions,
    dry_run: Annotated[bool, typer.Option("--dry-run", help="Print the command; change nothing.")] = False,
    output_format: Annotated[str, typer.Option("--format", help="command or requirements.")] = "command",
    yes: Annotated[bool, typer.Option("--yes", "-y", help="No question (CI).")] = False,
    no_verify: Annotated[bool, typer.Option("--no-verify", help="Skip the smoke test afterwards.")] = False,
    timeout: TimeoutOpt = 300.0,
    recover: Annotated[bool, typer.Option(
        "--recover", help="Try again to put back what a failed install's kept backup holds.")] = False,
    discard_backup: Annotated[bool, typer.Option(
        "--discard-backup", help="Delete a failed install's kept backup.")] = False,
) -> None:
    """Emit (--dry-run) or run the install command for the resolved plan, then verify.

    Exit codes: 0 done (or declined), 1 the smoke test failed, 2 bad input, 3 no build fits,
    4 the install failed and the environment was restored, 5 the environment could not be inspected."""
    from torchsetup import quoting
    from torchsetup.documents import install_document
    from torchsetup.install import BackupAction, InstallResult, carry_out, replaced, requirements_text
    from torchsetup.verify import check_timeout

    if output_format not in ("command", "requirements"):
        raise UsageError(f"unknown format {output_format!r}", "Use --format command or requirements.")
    if (options.probe_files or options.python_version or options.platform) and not dry_run:
        raise UsageError("--probe-file, --python-version and --platform plan for another machine; "
                         "nothing can be installed here from that plan",
                         "Add --dry-run to print the command for that machine.")
    if not no_verify and not dry_run:
        check_timeout(timeout)
    if recover and discard_backup:
        raise UsageError("--recover and --discard-backup exclude each other", "Pass one of them.")
    backups = BackupAction.RECOVER if recover else BackupAction.DISCARD if discard_backup else None
    result, machines, exe = resolve_for(options)
    if not result.ok or result.plan is None:
        if options.json_out:
            emit_json(install_document(None, error=result.error))
        explain_no_fit(result, options.json_out)
    plan = result.plan
    if dry_run:
        if options.json_out:
            emit_json(install_document(InstallResult(True, InstallAction.DRY_RUN, plan)))
            return
        change = replaced(plan, machines[0].installed) if not options.probe_files else None
        if change:
            sys.stderr.write(f"replaces {change}\n")
        _say_neighbours(plan)
        from torchsetup.urlgate import mask

        if output_format == "requirements":
            write(mask(requirements_text(plan)))
        else:
            write(mask(quoting.quote(plan.command, shell_for(options.shell, machines, options.platform))) + "\n")
        return

    def ask() -> bool:
        if not sys.stdin.isatty():
            raise UsageError("not asking without a terminal: nothing was installed",
                             "Pass --yes to install without a question (CI), or --dry-run to see the command.")
        from torchsetup.render import render_resolution

        render_resolution(result, shell=shell_for(options.shell, machines, None), stream="stderr")
        change = replaced(plan, machines[0].installed)
        if change:
            sys.stderr.write(f"replaces {change}\n")
        return typer.confirm("Install this now?", default=False, err=True)

    if yes:  # no question: what the plan breaks is said all the same
        _say_neighbours(replace(plan, held_by=()))
    outcome = carry_out(plan, exe, machines[0], ask=None if yes or backups else ask, backups=backups,
                        verify_timeout=None if no_verify else timeout,
                        output=sys.stderr if options.json_out else None)
    _report_install(outcome, options.json_out)


def _say_neighbours(plan: Plan) -> None:
    """On stderr: what holds the plan back and what it breaks (stdout keeps the command alone)."""
    if plan.held_by or plan.breaks:
        from torchsetup.neighbours import neighbour_notes

        for note in neighbour_notes(plan):
            sys.stderr.write(f"{note}\n")


def _report_install(outcome: InstallResult, json_out: bool) -> None:
    """The install's document or text, then its exit code: a failure's exit 4 (and the message of
    what was restored) stands even when standard output cannot take the report."""
    from torchsetup.documents import install_document

    try:
        if outcome.action == InstallAction.DECLINED:
            sys.stderr.write("nothing installed\n")
        if json_out:
            emit_json(install_document(outcome))
        elif outcome.action != InstallAction.DECLINED:
            from torchsetup.render import render_install

            render_install(outcome)
    finally:
        if outcome.action == InstallAction.FAILED:
            hint = ("Nothing in the environment was changed." if outcome.restored == ("nothing had changed",)
                    else "See above for what was put back." if not outcome.not_restored
                    else "See above for each file not put back and where its copy is kept.")
            raise InstallFailed(outcome.error or "the install failed", hint)
    if not outcome.ok:
        finish(ExitCode.PROBLEM)
