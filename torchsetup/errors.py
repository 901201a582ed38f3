"""The one root exception. The CLI turns it into two lines and an exit code, in one place."""

from __future__ import annotations


class TorchsetupError(Exception):
    """Something the user can act on: a message, a hint, and the exit code of contract.md."""

    exit_code = 5

    def __init__(self, message: str, hint: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.hint = hint


class UsageError(TorchsetupError):
    """Bad usage or bad input (exit 2)."""

    exit_code = 2


class NoFitError(TorchsetupError):
    """No build fits this machine with these constraints (exit 3)."""

    exit_code = 3


class InstallFailed(TorchsetupError):
    """The install failed; what was rolled back is in the message (exit 4)."""

    exit_code = 4


class EnvironmentUnusable(TorchsetupError):
    """The environment could not be inspected: interpreter missing, matrix unusable (exit 5)."""

    exit_code = 5
