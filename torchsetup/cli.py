"""Command line: options in, one stage call, a renderer out. Exit codes are decided here only."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Annotated, Any, NoReturn

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
    PlatformOpt,
    ProbeFileOpt,
    ProbeFilesOpt,
    PythonOpt,
    PythonVersionOpt,
    TimeoutOpt,
    TorchOpt,
    VariantOpt,
    machines_for,
    plan_request,
)
from torchsetup.errors import NoFitError, TorchsetupError, UsageError

app = typer.Typer(
    add_completion=False,
    no_args_is_help=True,
    help="Pick, install and prove the PyTorch build that actually runs on this machine.",
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
    """Pick, install and prove the PyTorch build that actually runs on this machine."""

def emit_json(document: dict[str, Any]) -> None:
    sys.stdout.write(json.dumps(document, indent=2) + "\n")


def finish(code: int) -> NoReturn:
    raise typer.Exit(code)


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


def resolve_for(*, matrix: str | None, python: str | None, probe_file: list[str] | None,
                **options: Any) -> tuple[Any, list[Any], str]:
    """The matrix, the machine(s) and the options -> (Resolution, machines, target interpreter)."""
    from torchsetup.matrix import load_matrix
    from torchsetup.resolve import resolve as run_resolve

    loaded = load_matrix(matrix)
    machines, labels, exe = machines_for(python, probe_file, gpus=options["gpus"])
    names = ("torch", "variant", "no_torchvision", "no_torchaudio", "python_version", "platform",
             "allow_cpu", "for_extensions", "installer", "index_strategy", "index_base",
             "allow_insecure_index")
    request = plan_request(python=exe, **{name: options[name] for name in names})
    return run_resolve(machines, loaded, request, labels), machines, exe


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
) -> None:
    """Which torch/torchvision/torchaudio build fits, and why every other one does not."""
    from torchsetup.resolve import resolution_document

    result, _, _ = resolve_for(**locals())
    if json_out:
        emit_json(resolution_document(result))
    else:
        from torchsetup.render import render_resolution

        render_resolution(result)
    if not result.ok:
        if not json_out:
            _report(result.error or "no build fits", result.hint)
        finish(3)


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
    shell: Annotated[str, typer.Option("--shell", help="Quote for posix or powershell.")] = "posix",
    output_format: Annotated[str, typer.Option("--format", help="command or requirements.")] = "command",
    yes: Annotated[bool, typer.Option("--yes", "-y", help="No question (CI).")] = False,
    no_verify: Annotated[bool, typer.Option("--no-verify", help="Skip the smoke test afterwards.")] = False,
    timeout: TimeoutOpt = 300.0,
) -> None:
    """Emit (--dry-run) or run the install command for the resolved plan, then verify."""
    from torchsetup import quoting
    from torchsetup.install import install_document, requirements_text, run_install
    from torchsetup.resolve import resolution_document

    if shell not in ("posix", "powershell"):
        raise UsageError(f"unknown shell {shell!r}", "Use --shell posix or --shell powershell.")
    if output_format not in ("command", "requirements"):
        raise UsageError(f"unknown format {output_format!r}", "Use --format command or requirements.")
    if (probe_file or python_version or platform) and not dry_run:
        raise UsageError("--probe-file, --python-version and --platform plan for another machine; "
                         "nothing can be installed here from that plan",
                         "Add --dry-run to print the command for that machine.")
    result, machines, exe = resolve_for(**locals())
    if not result.ok or result.plan is None:
        if json_out:
            emit_json({"schema": "torchsetup.install/1", "ok": False, "action": "failed", "plan": None,
                       "restored": None, "verify": None, "error": result.error})
        raise NoFitError(result.error or "no build fits", result.hint)
    plan = result.plan
    plan_doc = resolution_document(result)["plan"]
    if dry_run:
        if json_out:
            emit_json({"schema": "torchsetup.install/1", "ok": True, "action": "dry-run", "plan": plan_doc,
                       "restored": None, "verify": None, "error": None})
        elif output_format == "requirements":
            sys.stdout.write(requirements_text(plan))
        else:
            sys.stdout.write(quoting.quote(plan.command, shell) + "\n")
        return
    installed = machines[0].installed
    from torchsetup.install import already_installed
    from torchsetup.probe.model import Installed

    if not already_installed(plan, installed or Installed()) and not yes:
        if not sys.stdin.isatty():
            raise UsageError("not asking without a terminal: nothing was installed",
                             "Pass --yes to install without a question (CI), or --dry-run to see the command.")
        from torchsetup.render import render_resolution

        render_resolution(result)
        if not typer.confirm("Install this now?", default=False):
            sys.stderr.write("nothing installed\n")
            finish(0)
    outcome = run_install(plan, exe, installed or Installed(),
                          output=sys.stderr if json_out else None)
    if outcome.ok and outcome.action == "installed" and not no_verify:
        from dataclasses import replace

        from torchsetup.verify import expected_gpus, run_verify, verify_document

        report = run_verify(exe, timeout, expect=expected_gpus(machines[0]))
        outcome = replace(outcome, verify=verify_document(report), ok=report.ok,
                          error=None if report.ok else "installed, but the smoke test failed")
    if json_out:
        emit_json(install_document(outcome, plan_doc))
    else:
        from torchsetup.render import render_install

        render_install(outcome)
    if outcome.action == "failed":
        if not json_out:
            _report(outcome.error or "the install failed", "The environment was restored; see above.")
        finish(4)
    if not outcome.ok:
        finish(1)


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
        finish(1)


@app.command()
def doctor(
    json_out: JsonOpt = False,
    python: PythonOpt = None,
    probe_file: ProbeFileOpt = None,
    matrix: MatrixOpt = None,
    gpus: GpusOpt = None,
    run_smoke: Annotated[bool, typer.Option("--verify", help="Also run the smoke test.")] = False,
    timeout: TimeoutOpt = 300.0,
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
    findings = examine(machine, loaded[0], exe, labels[0])
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
        finish(1)


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
    from torchsetup.matrix.store import default_matrix_path

    target = Path(output) if output else default_matrix_path()
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


def main(argv: list[str] | None = None) -> None:
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
            _report(exc.format_message(), "Run `torchsetup COMMAND --help` for usage.")
            sys.exit(UsageError.exit_code)
        _report(f"internal error: {type(exc).__name__}: {exc}",
                "Re-run with --debug for the traceback and report it.")
        sys.exit(5)
    sys.exit(0)


def _report(message: str, hint: str | None) -> None:
    sys.stderr.write(f"torchsetup: error: {message}\n")
    if hint:
        sys.stderr.write(f"hint: {hint}\n")
