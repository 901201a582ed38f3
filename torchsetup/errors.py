"""The one root exception. The CLI turns it into two lines and an exit code, in one place."""

from __future__ import annotations

from enum import IntEnum


class ExitCode(IntEnum):
    """The exit codes of the outside contract (contract.md)."""

    OK = 0
    PROBLEM = 1  # doctor error findings, verify failed
    USAGE = 2  # bad usage or bad input
    NO_FIT = 3
    INSTALL_FAILED = 4  # and what was rolled back is reported
    UNUSABLE = 5  # the environment could not be inspected


class TorchsetupError(Exception):
    """Something the user can act on: a message, a hint, and the exit code of contract.md."""

    exit_code: int = ExitCode.UNUSABLE

    def __init__(self, message: str, hint: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.hint = hint


class UsageError(TorchsetupError):
    """Bad usage or bad input (exit 2)."""

    exit_code = ExitCode.USAGE


class NoFitError(TorchsetupError):
    """No build fits this machine with these constraints (exit 3)."""

    exit_code = ExitCode.NO_FIT


class InstallFailed(TorchsetupError):
    """The install failed; what was rolled back is in the message (exit 4)."""

    exit_code = ExitCode.INSTALL_FAILED


class EnvironmentUnusable(TorchsetupError):
    """The environment could not be inspected: interpreter missing, matrix unusable (exit 5)."""

    exit_code = ExitCode.UNUSABLE


class Stopped(TorchsetupError):
    """A stopping signal ended the command after its children were stopped: exit 128 + the signal
    (130 for Ctrl-C, 143 for SIGTERM, 129 for SIGHUP), as a shell reports it."""

    def __init__(self, signum: int, message: str) -> None:
        super().__init__(message, None)
        self.exit_code = 128 + signum


class OutputLost(TorchsetupError):
    """Standard output could not take what was written (a full disk, a closed pipe): exit 5, or
    the command's own failing code. A closed pipe (`| head`) is said nothing about."""

    exit_code = ExitCode.UNUSABLE

    def __init__(self, error: OSError) -> None:
        super().__init__(f"could not write the output: {error.strerror or error}")
        self.quiet = isinstance(error, BrokenPipeError)
