"""One install at a time per environment: an flock on `<prefix>/.torchsetup/lock`. The lock is
also how a run is known to be over: a journal whose environment lock can be taken belongs to a
run that has ended (killed, or crashed), whatever its pid was."""

from __future__ import annotations

import os
import time
from collections.abc import Callable
from pathlib import Path
from types import TracebackType
from typing import IO

from torchsetup.errors import UsageError

WAIT_SECONDS = 30.0


def wait_seconds(environ: dict[str, str] | os._Environ[str] | None = None) -> float:
    """How long a second install waits for the first: TORCHSETUP_LOCK_WAIT, default 30 s."""
    raw = (os.environ if environ is None else environ).get("TORCHSETUP_LOCK_WAIT")
    if raw is None or not raw.strip():
        return WAIT_SECONDS
    try:
        value = float(raw)
    except ValueError:
        value = -1.0
    if not 0 <= value < 86400:
        raise UsageError(f"TORCHSETUP_LOCK_WAIT={raw!r} is not a number of seconds", "Set it to e.g. 30.")
    return value


STATE_DIR = ".torchsetup"  # in the environment: its lock, and the transactions of its installs


def _lock_path(prefix: str) -> Path:
    """Always in the environment (never in a shared temporary folder); `check_writable` refused an
    environment where it cannot be."""
    return Path(prefix) / STATE_DIR / "lock"


def _try_lock(handle: IO[str]) -> bool:
    try:
        import fcntl

        fcntl.flock(handle.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
    except ImportError:  # Windows
        import msvcrt

        try:
            msvcrt.locking(handle.fileno(), msvcrt.LK_NBLCK, 1)  # type: ignore[attr-defined]
        except OSError:
            return False
    except OSError:
        return False
    return True


class EnvLock:
    """Held for the whole install and restore. A second torchsetup waits `wait` seconds, saying
    so, then stops with exit 2 naming the other run."""

    def __init__(self, prefix: str, say: Callable[[str], None], wait: float | None = None) -> None:
        self.prefix, self.say = prefix, say
        self.wait = wait_seconds() if wait is None else wait
        self.path = _lock_path(prefix)
        self.handle: IO[str] | None = None

    def __enter__(self) -> EnvLock:
        handle = open(self.path, "a+", encoding="utf-8")  # noqa: SIM115 - held until __exit__
        deadline = time.monotonic() + self.wait
        told = False
        while not _try_lock(handle):
            handle.seek(0)
            holder = handle.read().strip() or "?"
            if not told:
                self.say(f"another torchsetup install is running in {self.prefix} (pid {holder}); waiting up to "
                         f"{self.wait:g} s")
                told = True
            if time.monotonic() >= deadline:
                handle.close()
                raise UsageError(f"another torchsetup install is running in {self.prefix} (pid {holder}); "
                                 "nothing was changed", "Wait for it to finish, then run this again.")
            time.sleep(0.2)
        handle.seek(0)
        handle.truncate()
        handle.write(str(os.getpid()))
        handle.flush()
        self.handle = handle
        return self

    def __exit__(self, kind: type[BaseException] | None, value: BaseException | None,
                 tb: TracebackType | None) -> None:
        if self.handle is not None:
            self.handle.seek(0)
            self.handle.truncate()
            self.handle.close()  # closing releases the lock
            self.handle = None
