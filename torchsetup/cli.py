"""Command line entry point: the app, its registry of commands, and the one place where an error
becomes a message and an exit code.

The registry has pip's shape (`pip/_internal/commands/__init__.py`): each command's module and
summary. Help lists the summaries; a command's module is imported when that command runs
(click's lazy-group pattern: `list_commands` and `get_command`).
"""

from __future__ import annotations

import contextlib
import errno
import importlib
import os
import sys
from dataclasses import dataclass
from typing import Annotated, NoReturn

import typer
from typer.core import TyperGroup

from torchsetup.errors import ExitCode, OutputLost, TorchsetupError

try:
    from typer import _click as click  # typer 0.26 and later carry their own copy of click
except ImportError:  # typer before 0.26 uses click itself
    import click  # type: ignore[no-redef]

HELP = ("Pick, install and prove the PyTorch build that actually runs on this machine.\n\n"
        "Every command takes --debug (a traceback instead of the one-line error). Exit codes: 0 done, "
        "1 a problem was found (doctor errors, smoke test failed), 2 bad usage or input, 3 no build fits, "
        "4 the install failed (the environment was restored), 5 the environment could not be inspected.")


@dataclass(frozen=True)
class CommandInfo:
    """Where a command lives: a module and the name in it of a function or a Typer group."""

    module: str
    attribute: str
    summary: str


COMMANDS: dict[str, CommandInfo] = {
    "probe": CommandInfo("torchsetup.cli_inspect", "probe",
                         "What this machine is: OS, libc, Python, NVIDIA driver, GPUs, CUDA toolkit, "
                         "installed torch."),
    "resolve": CommandInfo("torchsetup.cli_plan", "resolve",
                           "Which torch/torchvision/torchaudio build fits, and why every other one does not."),
    "install": CommandInfo("torchsetup.cli_plan", "install",
                           "Emit (--dry-run) or run the install command for the resolved plan, then verify."),
    "verify": CommandInfo("torchsetup.cli_inspect", "verify",
                          "Smoke-test the torch installed in the target interpreter (the GPU when there is one)."),
    "doctor": CommandInfo("torchsetup.cli_inspect", "doctor",
                          "Probe + the installed torch family checked against the machine; findings "
                          "with the fix."),
    "matrix": CommandInfo("torchsetup.cli_matrix", "matrix_app", "Read or rebuild the version matrix."),
    "project": CommandInfo("torchsetup.cli_project", "project",
                           "Write the plan into a project (pyproject.toml for uv or Poetry) for this machine or "
                           "a fleet of probe documents; --which names this machine's class."),
}


class LazyGroup(TyperGroup):
    """The root group: commands listed from the registry, each built when it is asked for."""

    def list_commands(self, ctx: click.Context) -> list[str]:
        return list(COMMANDS)

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        info = COMMANDS.get(cmd_name)
        if info is None:
            return None
        target = getattr(importlib.import_module(info.module), info.attribute)
        if not isinstance(target, typer.Typer):
            single = typer.Typer(add_completion=False, rich_markup_mode=None)
            single.command(cmd_name)(target)
            target = single
        return typer.main.get_command(target)

    def resolve_command(self, ctx: click.Context, args: list[str]
                        ) -> tuple[str | None, click.Command | None, list[str]]:
        if args and args[0] not in COMMANDS and not args[0].startswith("-"):
            import difflib

            close = difflib.get_close_matches(args[0], list(COMMANDS), n=1)
            ctx.fail(f"No such command {args[0]!r}." + (f" Did you mean {close[0]!r}?" if close else ""))
        return super().resolve_command(ctx, args)

    def format_commands(self, ctx: click.Context, formatter: click.HelpFormatter) -> None:
        with formatter.section("Commands"):
            formatter.write_dl([(name, info.summary) for name, info in COMMANDS.items()])


def _show_version(value: bool) -> None:
    if value:
        from torchsetup import __version__
        from torchsetup.textout import write

        write(f"torchsetup {__version__}\n")
        raise typer.Exit(0)


app = typer.Typer(cls=LazyGroup, add_completion=False, no_args_is_help=True, help=HELP,
                  pretty_exceptions_enable=False, rich_markup_mode=None)


@app.callback()
def _root(
    version: Annotated[bool, typer.Option("--version", callback=_show_version, is_eager=True,
                                          help="Print the version and exit.")] = False,
) -> None:
    """The root's options; its help text is HELP."""


def _survive_narrow_encodings() -> None:
    """A redirected Windows console or PYTHONIOENCODING=ascii cannot print ≥ or —: replace, never crash."""
    for stream in (sys.stdout, sys.stderr):
        reconfigure = getattr(stream, "reconfigure", None)
        if reconfigure is not None:
            with contextlib.suppress(ValueError, OSError):
                reconfigure(errors="backslashreplace" if stream is sys.stderr else "replace")


def main(argv: list[str] | None = None) -> NoReturn:
    _survive_narrow_encodings()
    args = list(sys.argv[1:] if argv is None else argv)
    debug = "--debug" in args
    args = [a for a in args if a != "--debug"]
    _exit(run(args, debug))


def run(args: list[str], debug: bool) -> int:
    """The command's exit code; an error is reported here (or re-raised with --debug)."""
    try:
        command = typer.main.get_command(app)
        code = command.main(args=args, prog_name="torchsetup", standalone_mode=False)
        return code if isinstance(code, int) else ExitCode.OK
    except OutputLost as exc:
        if not exc.quiet:
            _report(exc.message, None)
        _discard_stdout()
        return exc.exit_code
    except TorchsetupError as exc:
        _report(exc.message, exc.hint)
        if debug:
            _traceback()
        return exc.exit_code
    except click.exceptions.NoArgsIsHelpError as exc:  # bare `torchsetup` or `torchsetup matrix`
        sys.stdout.write(exc.format_message() + "\n")
        return ExitCode.OK
    except typer.Exit as exc:
        return exc.exit_code
    except click.ClickException as exc:
        command_name = next((a for a in args if not a.startswith("-")), None)
        where = f"torchsetup {command_name} --help" if command_name in COMMANDS else "torchsetup --help"
        _report(exc.format_message(), f"Run `{where}` for usage.")
        return ExitCode.USAGE
    except (typer.Abort, KeyboardInterrupt):
        sys.stderr.write("torchsetup: interrupted\n")
        return 130
    except OSError as exc:
        _report(f"{exc.strerror or exc}" + (f": {exc.filename}" if exc.filename else ""),
                "Re-run with --debug for the traceback.")
        if debug:
            _traceback()
        return ExitCode.UNUSABLE
    except Exception as exc:  # the last line of defence: one line, not a traceback
        _report(f"internal error: {type(exc).__name__}: {exc}",
                "Re-run with --debug for the traceback and report it.")
        if debug:
            _traceback()
        return ExitCode.UNUSABLE


def _exit(code: int) -> NoReturn:
    """Flush stdout and exit with `code`. Output that could not be written is never exit 0: it
    keeps a failing command's own code, and is exit 5 otherwise (a closed pipe says nothing)."""
    try:
        if sys.stdout is None:  # started with its standard output closed (`cmd >&-`)
            raise OSError(errno.EBADF, "standard output is closed")
        sys.stdout.flush()
    except OSError as exc:
        lost = OutputLost(exc)
        if not lost.quiet:
            with contextlib.suppress(OSError):
                _report(lost.message, None)
        _discard_stdout()
        code = code or lost.exit_code
    sys.exit(code)


def _discard_stdout() -> None:
    """Python flushes stdout again at exit: point it at the null device so that the second flush
    has nowhere to fail (the way the `signal` module's documentation gives for SIGPIPE)."""
    with contextlib.suppress(OSError, ValueError, AttributeError):
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())


def _report(message: str, hint: str | None) -> None:
    from torchsetup.urlgate import mask

    sys.stderr.write(f"torchsetup: error: {mask(message)}\n")
    if hint:
        sys.stderr.write(f"hint: {mask(hint)}\n")


def _traceback() -> None:
    """The traceback for --debug, with credentials in addresses masked."""
    import traceback

    from torchsetup.urlgate import mask

    sys.stderr.write(mask(traceback.format_exc()))
