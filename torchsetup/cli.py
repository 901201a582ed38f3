"""Command line: options in, one stage call, a renderer out. Exit codes are decided here only."""

from __future__ import annotations

import contextlib
import json
import sys
from enum import IntEnum
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any, NoReturn

import typer

from torchsetup.cli_options import (
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
    PlanOptions,
    PlatformOpt,
    ProbeFileOpt,
    ProbeFilesOpt,
    PythonOpt,
    PythonVersionOpt,
    ShellOpt,
    TimeoutOpt,
    TorchOpt,
    VariantOpt,
    machines_for,
    plan_request,
)
from torchsetup.errors import NoFitError, TorchsetupError, UsageError

if TYPE_CHECKING:
    from torchsetup.probe.model import Machine
    from torchsetup.resolve import Resolution

COMMANDS = ("probe", "resolve", "install", "verify", "doctor", "matrix")
HELP = ("Pick, install and prove the PyTorch build that actually runs on this machine.\n\n"
        "Every command takes --debug (a traceback instead of the one-line error). Exit codes: 0 done, "
        "1 a problem was found (doctor errors, smoke test failed), 2 bad usage or input, 3 no build fits, "
        "4 the install failed (the environment was restored), 5 the environment could not be inspected.")
app = typer.Typer(
    add_completion=False,
    no_args_is_help=True,
    help=HELP,
    pretty_exceptions_enable=False,
)
matrix_app = typer.Typer(no_args_is_help=True, help="Read or rebuild the version matrix.")
app.add_typer(matrix_app, name="matrix")


def _show_version(value: bool) -> None:
    if value:
        from torchsetup import __version__

        sys.stdout.write(f"torchsetup {__version__}\n")
        raise typer.Exit(0)


@app.callback()
def _root(
    version: Annotated[bool, typer.Option("--version", callback=_show_version, is_eager=True,
                                          help="Print the version and exit.")] = False,
) -> None:
    # the help text is HELP, given to typer.Typer above
    return None


def emit_json(document: dict[str, Any]) -> None:
    sys.stdout.write(json.dumps(document, indent=2) + "\n")


class ExitCode(IntEnum):
    """The exit codes of the outside contract."""

    OK = 0
    PROBLEM = 1  # doctor error findings, verify failed
    USAGE = 2  # bad usage or bad input
    NO_FIT = 3
    INSTALL_FAILED = 4  # and what was rolled back is reported
    UNUSABLE = 5  # the environment could not be inspected


def finish(code: ExitCode) -> NoReturn:
    raise typer.Exit(int(code))


# ------------------------------------------------------------------ probe


@app.command()
def probe(
    json_out: JsonOpt = False,
    python: PythonOpt = None,
    probe_file: ProbeFileOpt = None,
) -> None:
    """What this machine is: OS, libc, Python, NVIDIA driver, GPUs, CUDA toolkit, installed torch."""
    from torchsetup.probe import load_probe_file, probe_machine
    from torchsetup.probe.model import machine_to_document

    machine = load_probe_file(probe_file) if probe_file else probe_machine(python)
    if json_out:
        emit_json(machine_to_document(machine))
    else:
        from torchsetup.render import render_machine

        render_machine(machine)


# ------------------------------------------------------------------ resolve


def resolve_for(options: PlanOptions) -> tuple[Resolution, list[Machine], str]:
    """The matrix, the machine(s) and the options -> (Resolution, machines, target interpreter)."""
    from torchsetup.matrix import load_matrix
    from torchsetup.resolve import resolve as run_resolve

    loaded = load_matrix(options.matrix)
    machines, labels, exe = machines_for(options.python, list(options.probe_files) or None, gpus=options.gpus)
    request = plan_request(options, exe)
    return run_resolve(machines, loaded, request, labels), machines, exe


def shell_for(shell: str | None, machines: list[Machine], platform: str | None) -> str:
    """--shell, else the target's own: PowerShell for a Windows plan, POSIX otherwise."""
    if shell is not None:
        if shell not in ("posix", "powershell"):
            raise UsageError(f"unknown shell {shell!r}", "Use --shell posix or --shell powershell.")
        return shell
    system = machines[0].os.system if machines and machines[0].os else None
    windows = (platform or "").startswith("windows") or (platform is None and system == "Windows")
    return "powershell" if windows else "posix"


def explain_no_fit(result: Resolution, json_out: bool) -> NoReturn:
    """resolve and install explain a no-fit alike: the nearest candidates, the headline, the ways out."""
    if not json_out:
        from torchsetup.render import render_resolution

        render_resolution(result, stream="stderr")
    raise NoFitError(result.error or "no build fits", result.hint)


@app.command()
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
    from torchsetup.resolve import resolution_document

    options = PlanOptions(python, tuple(probe_file or ()), matrix, gpus, torch, variant, no_torchvision,
                          no_torchaudio, python_version, platform, allow_cpu, for_extensions, installer,
                          index_strategy, index_base, allow_insecure_index)
    result, machines, _ = resolve_for(options)
    if json_out:
        emit_json(resolution_document(result))
        if not result.ok:
            finish(ExitCode.NO_FIT)
        return
    if not result.ok:
        explain_no_fit(result, json_out)
    from torchsetup.render import render_resolution

    render_resolution(result, shell=shell_for(shell, machines, platform))


# ------------------------------------------------------------------ install


@app.command()
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
    from torchsetup.install import (
        InstallResult,
        already_installed,
        install_document,
        requirements_text,
        run_install,
    )
    from torchsetup.probe.model import Installed
    from torchsetup.resolve import resolution_document

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
            emit_json(install_document(None, None, action="failed", error=result.error))
        explain_no_fit(result, json_out)
    plan = result.plan
    plan_doc = resolution_document(result)["plan"]
    if dry_run:
        if json_out:
            emit_json(install_document(InstallResult(True, "dry-run", plan), plan_doc))
        elif output_format == "requirements":
            sys.stdout.write(requirements_text(plan))
        else:
            sys.stdout.write(quoting.quote(plan.command, quoting_for) + "\n")
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
                emit_json(install_document(InstallResult(True, "declined", plan), plan_doc))
            finish(ExitCode.OK)
    outcome = run_install(plan, exe, installed, output=sys.stderr if json_out else None)
    if outcome.ok and not no_verify:  # "already installed" is verified too: it may be broken
        from torchsetup.verify import expected_gpus, run_verify, verify_document

        report = run_verify(exe, timeout, expect=expected_gpus(machines[0]))
        failed = "installed, but the smoke test failed" if outcome.action == "installed" else (
            "already installed, but the smoke test failed")
        outcome = replace(outcome, verify=verify_document(report), ok=report.ok,
                          error=None if report.ok else failed)
    if json_out:
        emit_json(install_document(outcome, plan_doc))
    else:
        from torchsetup.render import render_install

        render_install(outcome)
    if outcome.action == "failed":
        if not json_out:
            _report(outcome.error or "the install failed", "The environment was restored; see above.")
        finish(ExitCode.INSTALL_FAILED)
    if not outcome.ok:
        finish(ExitCode.PROBLEM)


# ------------------------------------------------------------------ verify and doctor


@app.command()
def verify(
    json_out: JsonOpt = False,
    python: PythonOpt = None,
    timeout: TimeoutOpt = 300.0,
) -> None:
    """Smoke-test the torch installed in the target interpreter (the GPU when there is one)."""
    from torchsetup.probe import default_python
    from torchsetup.probe.pci import gpu_kinds
    from torchsetup.verify import run_verify, verify_document

    report = run_verify(python or default_python(), timeout, expect=gpu_kinds())
    if json_out:
        emit_json(verify_document(report))
    else:
        from torchsetup.render import render_verify

        render_verify(report)
    if not report.ok:
        finish(ExitCode.PROBLEM)


@app.command()
def doctor(
    json_out: JsonOpt = False,
    python: PythonOpt = None,
    probe_file: ProbeFileOpt = None,
    matrix: MatrixOpt = None,
    gpus: GpusOpt = None,
    run_smoke: Annotated[bool, typer.Option("--verify", help="Also run the smoke test.")] = False,
    timeout: TimeoutOpt = 300.0,
    shell: ShellOpt = None,
) -> None:
    """Probe + the installed torch family checked against the machine; findings with the fix."""
    loaded: list[Any] = []

    def prepare() -> None:  # runs while the target interpreter answers the probe
        from torchsetup.matrix import load_matrix

        loaded.append(load_matrix(matrix))
        import torchsetup.doctor
        import torchsetup.resolve  # noqa: F401

        if not json_out:
            import torchsetup.render  # noqa: F401

    machines, labels, exe = machines_for(python, [probe_file] if probe_file else None, prepare, gpus)
    if not loaded:
        prepare()
    from torchsetup.doctor import doctor_document, examine

    machine = machines[0]
    findings = examine(machine, loaded[0], exe, labels[0], shell_for(shell, machines, None))
    verify_doc = None
    if run_smoke and not probe_file:
        from torchsetup.doctor_findings import join_devices
        from torchsetup.verify import expected_gpus, run_verify, verify_document

        verify_doc = verify_document(run_verify(exe, timeout, expect=expected_gpus(machine)))
        findings += join_devices(verify_doc["devices"], machine.nvidia.gpus if machine.nvidia else ())
    document = doctor_document(machine, findings, verify_doc)
    ok = document["ok"]
    if json_out:
        emit_json(document)
    else:
        from torchsetup.render import render_doctor

        render_doctor(document)
    if not ok:
        finish(ExitCode.PROBLEM)


# ------------------------------------------------------------------ matrix


@matrix_app.command("show")
def matrix_show(
    torch: Annotated[str | None, typer.Option("--torch", help="PEP 440 specifier, e.g. '>=2.4'.")] = None,
    json_out: JsonOpt = False,
    matrix: MatrixOpt = None,
) -> None:
    """List releases with their companions and variants."""
    from torchsetup.matrix import load_matrix
    from torchsetup.matrix.view import matrix_document, select_releases

    loaded = load_matrix(matrix)
    releases = select_releases(loaded, torch)
    if json_out:
        emit_json(matrix_document(loaded, releases))
    else:
        from torchsetup.render import render_matrix

        render_matrix(loaded, releases)


@matrix_app.command("update")
def matrix_update(
    sources: Annotated[list[str] | None, typer.Option(
        "--from", help="A file, folder or URL to read (repeatable). Default: the live sources.")] = None,
    output: Annotated[str | None, typer.Option("--output", help="Where to write the matrix.")] = None,
    force: Annotated[bool, typer.Option("--force", help="Accept a matrix that loses releases.")] = False,
    learned_out: Annotated[str | None, typer.Option(
        "--learned-out", help="Save the builds read out of new wheels (learned-builds.json) here.")] = None,
    allow_insecure_index: InsecureOpt = False,
    json_out: JsonOpt = False,
) -> None:
    """Fetch and parse the sources, learn new releases from their wheels, and write the matrix."""
    from torchsetup.matrix import update_matrix
    from torchsetup.matrix.sources import DEFAULT_URLS
    from torchsetup.matrix.store import user_matrix_path

    target = Path(output) if output else user_matrix_path()
    specs = list(sources) if sources else list(DEFAULT_URLS)
    saved = Path(learned_out) if learned_out else None
    if json_out:
        result = update_matrix(specs, target, force=force, learned_out=saved, allow_insecure=allow_insecure_index)
    else:
        from torchsetup.render import fetch_progress

        with fetch_progress() as progress:
            result = update_matrix(specs, target, force=force, progress=progress, learned_out=saved,
                                   allow_insecure=allow_insecure_index)
    learned = [{"torch": x.torch, "platform": x.platform, "build": x.build, "requests": x.requests,
                "bytes": x.bytes_read, "wheel_size": x.wheel_size} for x in result.learned]
    if json_out:
        emit_json({"schema": "torchsetup.matrix-update/1", "output": result.output,
                   "releases": result.releases, "added": list(result.added),
                   "lost": list(result.lost), "newest": result.newest, "learned": learned})
    else:
        for x in result.learned:
            sys.stdout.write(f"learned torch {x.torch} on {x.platform}: {x.build} ({x.requests} requests, "
                             f"{x.bytes_read:,} bytes of a {x.wheel_size or 0:,}-byte wheel)\n")
        sys.stdout.write(f"wrote {result.output}: {result.releases} releases, newest {result.newest}"
                         f" ({len(result.added)} added, {len(result.lost)} lost)\n")


# ------------------------------------------------------------------ entry point


def _survive_narrow_encodings() -> None:
    """A redirected Windows console or PYTHONIOENCODING=ascii cannot print ≥ or —: replace, never crash."""
    for stream in (sys.stdout, sys.stderr):
        reconfigure = getattr(stream, "reconfigure", None)
        if reconfigure is not None:
            with contextlib.suppress(ValueError, OSError):
                reconfigure(errors="backslashreplace" if stream is sys.stderr else "replace")


def main(argv: list[str] | None = None) -> None:
    _survive_narrow_encodings()
    args = list(sys.argv[1:] if argv is None else argv)
    debug = "--debug" in args
    args = [a for a in args if a != "--debug"]
    try:
        code = app(args=args, prog_name="torchsetup", standalone_mode=False)
        if isinstance(code, int) and code:
            sys.exit(code)
    except TorchsetupError as exc:
        if debug:
            raise
        _report(exc.message, exc.hint)
        sys.exit(exc.exit_code)
    except typer.Exit as exc:
        sys.exit(exc.exit_code)
    except typer.Abort:
        sys.stderr.write("torchsetup: aborted\n")
        sys.exit(130)
    except KeyboardInterrupt:
        sys.stderr.write("torchsetup: interrupted\n")
        sys.exit(130)
    except Exception as exc:  # the last line of defence: one line, not a traceback
        if debug:
            raise
        if hasattr(exc, "format_message") and hasattr(exc, "exit_code"):  # typer's click errors
            if not exc.format_message().strip():  # bare `torchsetup`: help was shown
                sys.exit(0)
            command = next((a for a in args if not a.startswith("-")), None)
            where = f"torchsetup {command} --help" if command in COMMANDS else "torchsetup --help"
            _report(exc.format_message(), f"Run `{where}` for usage.")
            sys.exit(UsageError.exit_code)
        _report(f"internal error: {type(exc).__name__}: {exc}",
                "Re-run with --debug for the traceback and report it.")
        sys.exit(5)
    sys.exit(0)


def _report(message: str, hint: str | None) -> None:
    sys.stderr.write(f"torchsetup: error: {message}\n")
    if hint:
        sys.stderr.write(f"hint: {hint}\n")
