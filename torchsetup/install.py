"""Run the plan's install command safely: a no-op when it is already there, and a failed or
interrupted install puts the environment back as it was. Never a shell."""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING, Any, TextIO

from torchsetup import children, envstate
from torchsetup.envlock import EnvLock
from torchsetup.errors import EnvironmentUnusable, UsageError
from torchsetup.kinds import InstallAction
from torchsetup.plan import Plan
from torchsetup.probe.model import Installed

if TYPE_CHECKING:
    from torchsetup.probe.model import Machine
    from torchsetup.verify import VerifyReport


@dataclass(frozen=True)
class InstallResult:
    """What an install did (the `action` of the install document) and what it restored."""

    ok: bool
    action: InstallAction
    plan: Plan
    restored: tuple[str, ...] | None = None
    verify: VerifyReport | None = None
    error: str | None = None
    recovered: tuple[str, ...] = ()  # what was done with backups a killed run had left


def carry_out(plan: Plan, python: str, machine: Machine, *, ask: Callable[[], bool] | None,
              verify_timeout: float | None, output: TextIO | None = None) -> InstallResult:
    """Install the plan into `python`'s environment, then smoke-test it: `ask` (None: no question)
    is asked first unless the plan is installed already; `verify_timeout` None skips the smoke test.
    "Already installed" is verified too: it may be broken."""
    installed = machine.installed or Installed()
    if ask is not None and not already_installed(plan, installed) and not ask():
        return InstallResult(True, InstallAction.DECLINED, plan)
    outcome = run_install(plan, python, installed, output=output)
    if not outcome.ok or verify_timeout is None:
        return outcome
    from torchsetup.verify import expected_gpus, run_verify

    report = run_verify(python, verify_timeout, expect=expected_gpus(machine))
    failed = ("installed, but the smoke test failed" if outcome.action == InstallAction.INSTALLED
              else "already installed, but the smoke test failed")
    return replace(outcome, verify=report, ok=report.ok, error=None if report.ok else failed)


def replaced(plan: Plan, installed: Installed | None) -> str | None:
    """What the plan replaces, in words ("torch 2.13.0+cpu → 2.14.1+cpu"); None when nothing is installed
    or the plan is what is there."""
    if installed is None or installed.torch is None or already_installed(plan, installed):
        return None
    local = plan.local_version
    changes = [f"torch {installed.torch} → {plan.torch}{f'+{local}' if local else ''}"]
    for name in ("torchvision", "torchaudio"):
        have, wanted = getattr(installed, name), getattr(plan, name)
        if have is not None and wanted is not None and have.split("+")[0] != wanted:
            changes.append(f"{name} {have} → {wanted}")
    return ", ".join(changes)


def already_installed(plan: Plan, installed: Installed) -> bool:
    """The installed family matches the plan: versions and the variant (local version)."""
    local = plan.local_version
    want_torch = plan.torch + (f"+{local}" if local else "")
    if installed.torch != want_torch:
        return False
    for name in ("torchvision", "torchaudio"):
        wanted = getattr(plan, name)
        have = getattr(installed, name)
        if wanted is None:
            continue
        if have is None or have.split("+")[0] != wanted:
            return False
        have_local = have.split("+", 1)[1] if "+" in have else None
        if have_local not in (None, local):
            return False
    return True


_LINE = re.compile(r"(--index-url|--extra-index-url|--find-links|-f) \S+"
                   r"|(torch|torchvision|torchaudio)==[0-9][0-9A-Za-z.!]*(\+[0-9A-Za-z.]+)?")


def requirements_text(plan: Plan) -> str:
    """The plan as a requirements file: index options first, then exact pins; every line is
    checked, so no text of the matrix or an option can add a line of its own."""
    args = list(plan.command)
    start = args.index("install") + 1
    lines, reqs = [], []
    i = start
    while i < len(args):
        word = args[i]
        if word in ("--python",):
            i += 2
            continue
        if word.startswith("-"):
            lines.append(f"{word} {args[i + 1]}")
            i += 2
            continue
        reqs.append(word)
        i += 1
    for line in [*lines, *reqs]:
        if not _LINE.fullmatch(line):
            raise UsageError(f"refusing to write the requirements line {line[:80]!r}",
                             "Check --index-base and the matrix; a line may hold one option or one pin.")
    return "\n".join([*lines, *reqs]) + "\n"


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


def _raise(signum: int, frame: Any) -> None:
    raise Interrupted(signum)


def stop_group(child: Any, grace: float = 10.0) -> None:
    """Ask the installer's process group to stop (SIGTERM), then make sure (SIGKILL), each bounded."""
    try:
        os.killpg(child.pid, signal.SIGTERM)
        child.wait(timeout=grace)
    except (OSError, subprocess.TimeoutExpired):
        children.kill_group(child)


def run_install(plan: Plan, python: str, installed: Installed,
                runner: Callable[..., Any] = subprocess.run,
                popen: Callable[..., Any] = subprocess.Popen,
                output: TextIO | None = None,
                say: Callable[[str], None] = lambda text: print(text, file=sys.stderr)) -> InstallResult:
    """Install the plan into `python`'s environment under its lock; on failure, Ctrl-C, SIGTERM
    or SIGHUP put every file back as it was and prove it."""
    if already_installed(plan, installed):
        return InstallResult(True, InstallAction.ALREADY_INSTALLED, plan)
    if plan.command[1:3] == ("-m", "pip"):
        check = runner([python, "-m", "pip", "--version"], capture_output=True, text=True, check=False)
        if check.returncode != 0:
            raise EnvironmentUnusable(f"{python} has no pip",
                                      f"Add it with `{python} -m ensurepip`, or use --installer uv.")
    layout = envstate.layout_of(python)
    with EnvLock(layout.prefix, say):
        recovered = tuple(envstate.recover(folder, layout) for folder in envstate.leftover_backups(layout))
        for line in recovered:
            say(line)
        before = envstate.take(layout)
        if before.stash:
            say(f"note: pip's stash folder(s) {', '.join(before.stash)} were already there (an older interrupted "
                "install); they are kept as they are")
        backup = envstate.Backup(before, python)
        keep_backup = False
        try:
            error: str | None = None
            with signals(_raise):
                try:
                    child = popen(list(plan.command), stdout=output or sys.stderr, stderr=sys.stderr,
                                  start_new_session=True)
                    code = child.wait()
                except Interrupted as exc:
                    error, code = exc.words, -1
                    with signals(signal.SIG_IGN):
                        if "child" in locals():
                            stop_group(child)
            if code == 0:
                return InstallResult(True, InstallAction.INSTALLED, plan, recovered=recovered)
            error = error or f"{plan.command[0]} exited with status {code}"
            with signals(signal.SIG_IGN):  # a second Ctrl-C must not stop the restore
                report = backup.restore()
            if report.differences:
                keep_backup = True
                error += (f"; the restore left {len(report.differences)} difference(s), first: "
                          f"{report.differences[0]} (backup kept in {backup.root})")
            else:
                error += f"; every file is as it was ({report.files} compared)"
            return InstallResult(False, InstallAction.FAILED, plan, report.restored or ("nothing had changed",),
                                 error=error, recovered=recovered)
        finally:
            if not keep_backup:
                backup.discard()
