"""Command line: options in, one stage call, a renderer out. Exit codes are decided here only."""

from __future__ import annotations

import json
import sys
from typing import Annotated, Any, NoReturn

import typer

from torchsetup.errors import TorchsetupError, UsageError

app = typer.Typer(
    add_completion=False,
    no_args_is_help=True,
    help="Pick, install and prove the PyTorch build that actually runs on this machine.",
    pretty_exceptions_enable=False,
)
matrix_app = typer.Typer(no_args_is_help=True, help="Read or rebuild the version matrix.")
app.add_typer(matrix_app, name="matrix")

JsonOpt = Annotated[bool, typer.Option("--json", help="Machine output (one JSON document) on stdout.")]
PythonOpt = Annotated[
    str | None,
    typer.Option("--python", help="Target interpreter (default: $VIRTUAL_ENV, $CONDA_PREFIX, this one)."),
]
ProbeFileOpt = Annotated[
    str | None, typer.Option("--probe-file", help="Use a recorded probe document instead of probing.")
]
MatrixOpt = Annotated[str | None, typer.Option("--matrix", help="Another compat_matrix.json.")]


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


# ------------------------------------------------------------------ entry point


def main(argv: list[str] | None = None) -> None:
    args = list(sys.argv[1:] if argv is None else argv)
    debug = "--debug" in args
    args = [a for a in args if a != "--debug"]
    try:
        app(args=args, prog_name="torchsetup", standalone_mode=False)
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
