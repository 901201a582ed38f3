"""Stopping signals: SIGINT (Ctrl-C), SIGTERM (CI cancel, docker stop) and SIGHUP become one
exception inside a block, and a child's whole process group is stopped, bounded."""

from __future__ import annotations

import os
import signal
import subprocess
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

from torchsetup import children


class Interrupted(Exception):
    """A signal that stops the install: SIGINT (Ctrl-C), SIGTERM (CI cancel, docker stop), SIGHUP."""

    def __init__(self, signum: int) -> None:
        super().__init__(signal.Signals(signum).name)
        self.signum = signum

    @property
    def words(self) -> str:
        return "interrupted (Ctrl-C)" if self.signum == signal.SIGINT else f"terminated ({self.args[0]})"


STOP_SIGNALS = tuple(s for s in (signal.SIGINT, getattr(signal, "SIGTERM", None), getattr(signal, "SIGHUP", None))
                     if s is not None)


@contextmanager
def signals(handler: Callable[[int, Any], None] | int) -> Iterator[None]:
    """SIGINT, SIGTERM and SIGHUP all go to `handler` (or are ignored) inside the block."""
    previous = {s: signal.signal(s, handler) for s in STOP_SIGNALS}
    try:
        yield
    finally:
        for s, old in previous.items():
            signal.signal(s, old)


def raise_interrupted(signum: int, frame: Any) -> None:
    raise Interrupted(signum)


def stop_group(child: Any, grace: float = 10.0) -> None:
    """Ask the installer's process group to stop (SIGTERM), then make sure (SIGKILL), each bounded."""
    try:
        os.killpg(child.pid, signal.SIGTERM)
        child.wait(timeout=grace)
    except (OSError, subprocess.TimeoutExpired):
        children.kill_group(child)
