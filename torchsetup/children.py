"""Child processes with a bound: each in a process group of its own, output decoded safely, and
on a timeout the whole group is killed and waited for with a limit (a wrapper script, a forking
nvidia-smi or a child stuck in the driver cannot keep torchsetup waiting)."""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
from collections.abc import Sequence

KILL_GRACE = 5.0  # seconds a killed group gets to go away


def start(argv: Sequence[str], stdin: int | None = subprocess.DEVNULL) -> subprocess.Popen[str]:
    """Start `argv` in a new session (its own process group), text decoded as UTF-8 with
    replacement characters for anything else."""
    return subprocess.Popen(list(argv), stdin=stdin, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            text=True, encoding="utf-8", errors="replace", start_new_session=True)


def kill_group(child: subprocess.Popen[str], grace: float = KILL_GRACE) -> bool:
    """SIGKILL the child's process group; True when the child is gone within `grace` seconds."""
    try:
        os.killpg(child.pid, signal.SIGKILL)
    except OSError:
        with contextlib.suppress(OSError):
            child.kill()
    try:
        child.wait(timeout=grace)
    except subprocess.TimeoutExpired:
        return False
    return True


def finish(child: subprocess.Popen[str], timeout: float) -> tuple[str, str]:
    """(stdout, stderr) of a started child; on a timeout its group is killed and TimeoutExpired is
    raised. Pipes held open by grandchildren cannot block: the whole group is gone first."""
    try:
        return child.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        kill_group(child)
        with contextlib.suppress(subprocess.TimeoutExpired, ValueError, OSError):
            child.communicate(timeout=1)
        raise


def run(argv: Sequence[str], timeout: float) -> subprocess.CompletedProcess[str]:
    """Like subprocess.run(capture_output=True, text=True, timeout=...), bounded as above."""
    child = start(argv)
    out, err = finish(child, timeout)
    return subprocess.CompletedProcess(list(argv), child.returncode, out, err)
