"""Command line entry point: the app, and the one place where an error becomes a message and an
exit code. The commands live in cli_inspect (probe, verify, doctor), cli_plan (resolve, install) and
cli_matrix (they import their stages lazily). Typer is given only the command being run (the other
modules are not imported); help lists every command by name and help without inspecting its options."""

from __future__ import annotations

import contextlib
import importlib
import sys
from typing import Annotated

import typer

from torchsetup.errors import ExitCode, TorchsetupError

HELP = ("Pick, install and prove the PyTorch build that actually runs on this machine.\n\n"
        "Every command takes --debug (a traceback instead of the one-line error). Exit codes: 0 done, "
        "1 a problem was found (doctor errors, smoke test failed), 2 bad usage or input, 3 no build fits, "
        "4 the install failed (the environment was restored), 5 the environment could not be inspected.")

# name -> (module, attribute): a command function, or a Typer app for a command group
COMMANDS: dict[str, tuple[str, str]] = {
    "probe": ("torchsetup.cli_inspect", "probe"),
    "resolve": ("torchsetup.cli_plan", "resolve"),
    "install": ("torchsetup.cli_plan", "install"),
    "verify": ("torchsetup.cli_inspect", "verify"),
    "doctor": ("torchsetup.cli_inspect", "doctor"),
    "matrix": ("torchsetup.cli_matrix", "matrix_app"),
}


def _show_version(value: bool) -> None:
    if value:
        from torchsetup import __version__

        sys.stdout.write(f"torchsetup {__version__}\n")
        raise typer.Exit(0)


def _root(
    version: Annotated[bool, typer.Option("--version", callback=_show_version, is_eager=True,
                                          help="Print the version and exit.")] = False,
) -> None:
    # the help text is HELP, given to typer.Typer below
    return None


def build_app(args: list[str]) -> typer.Typer:
    """The app: the command named in `args` alone and in full; without one, every command listed by
    name and help only."""
    app = typer.Typer(
        add_completion=False,
        no_args_is_help=True,
        help=HELP,
        pretty_exceptions_enable=False,
        rich_markup_mode=None,  # click's plain help: typer's rich help path imports rich and markdown-it (~70 ms)
    )
    app.callback()(_root)
    position = next((i for i, a in enumerate(args) if not a.startswith("-")), len(args))
    wanted = args[position] if position < len(args) else None
    if "--help" in args[:position]:  # `torchsetup --help probe`: the root's help, every command listed
        wanted = None
    if wanted in COMMANDS:
        # One command runs: the others need not be listed (click shows them only in the group's
        # help and for an unknown command), so their modules are not even imported.
        module, attribute = COMMANDS[wanted]
        target = getattr(importlib.import_module(module), attribute)
        if isinstance(target, typer.Typer):
            app.add_typer(target, name=wanted)
        else:
            app.command(wanted)(target)
        return app
    # No command runs (help, or a name click will call unknown with a suggestion): every command is
    # listed by name and help only (click's lazy-group pattern), so typer inspects none of their options.
    for name, (module, attribute) in COMMANDS.items():
        target = getattr(importlib.import_module(module), attribute)
        info = target.info.help if isinstance(target, typer.Typer) else target.__doc__
        app.command(name, help=info, add_help_option=False)(_listed_only)
    return app


def _listed_only() -> None:
    raise AssertionError("a command listed for help only was invoked")  # click never invokes it: see build_app


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
        code = build_app(args)(args=args, prog_name="torchsetup", standalone_mode=False)
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
            if type(exc).__name__ == "NoArgsIsHelpError":  # bare `torchsetup` or `torchsetup matrix`
                sys.stdout.write(exc.format_message() + "\n")
                sys.exit(0)
            if not exc.format_message().strip():  # help was shown already
                sys.exit(0)
            command = next((a for a in args if not a.startswith("-")), None)
            where = f"torchsetup {command} --help" if command in COMMANDS else "torchsetup --help"
            _report(exc.format_message(), f"Run `{where}` for usage.")
            sys.exit(ExitCode.USAGE)
        _report(f"internal error: {type(exc).__name__}: {exc}",
                "Re-run with --debug for the traceback and report it.")
        sys.exit(ExitCode.UNUSABLE)
    sys.exit(0)


def _report(message: str, hint: str | None) -> None:
    sys.stderr.write(f"torchsetup: error: {message}\n")
    if hint:
        sys.stderr.write(f"hint: {hint}\n")
