"""Carry a plan out: the question, the install (a transaction, `installer.py`), then the smoke test;
and the plan as a requirements file. Never a shell."""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import replace
from typing import TYPE_CHECKING, TextIO

from torchsetup.errors import UsageError
from torchsetup.installer import BackupAction, InstallResult, already_installed, run_install
from torchsetup.kinds import InstallAction
from torchsetup.plan import Plan
from torchsetup.probe.model import Installed

if TYPE_CHECKING:
    from torchsetup.probe.model import Machine

__all__ = ["BackupAction", "InstallResult", "already_installed", "carry_out", "replaced", "requirements_text",
           "run_install"]


def carry_out(plan: Plan, python: str, machine: Machine, *, ask: Callable[[], bool] | None,
              verify_timeout: float | None, output: TextIO | None = None,
              backups: BackupAction | None = None) -> InstallResult:
    """Install the plan into `python`'s environment, then smoke-test it: `ask` (None: no question)
    is asked first unless the plan is installed already; `verify_timeout` None skips the smoke test.
    "Already installed" is verified too: it may be broken."""
    installed = machine.installed or Installed()
    if ask is not None and backups is None and not already_installed(plan, installed) and not ask():
        return InstallResult(True, InstallAction.DECLINED, plan)
    outcome = run_install(plan, python, installed, output=output, backups=backups)
    if not outcome.ok or verify_timeout is None or backups is not None:
        return outcome
    from torchsetup.verify import expected_gpus, run_verify

    report = run_verify(python, verify_timeout, expect=expected_gpus(machine))
    from torchsetup.probe.interpreter import read_interpreter
    from torchsetup.verify import import_dependents

    named = frozenset(w.name for w in plan.with_)
    report.checks.extend(import_dependents(python, read_interpreter(python).dependents, verify_timeout, named))
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


