"""Run the plan's install command safely: a no-op when it is already there, and a failed or
interrupted install puts the environment back as it was. Never a shell."""

from __future__ import annotations

import json
import signal
import subprocess
import sys
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, TextIO

from torchsetup.envstate import Backup, restore, snapshot
from torchsetup.errors import EnvironmentUnusable
from torchsetup.probe.interpreter import FAMILY
from torchsetup.probe.model import Installed
from torchsetup.resolve import Plan

INSTALL_SCHEMA = "torchsetup.install/1"


@dataclass(frozen=True)
class InstallResult:
    ok: bool
    action: str  # dry-run | installed | already-installed | failed
    plan: Plan
    restored: tuple[str, ...] | None = None
    verify: dict[str, Any] | None = None
    error: str | None = None


def expected_local(plan: Plan) -> str | None:
    return None if plan.form == "pypi" or plan.index_url is None else plan.variant


def already_installed(plan: Plan, installed: Installed) -> bool:
    """The installed family matches the plan: versions and the variant (local version)."""
    local = expected_local(plan)
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


def requirements_text(plan: Plan) -> str:
    """The plan as a requirements file: index options first, then exact pins."""
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
    return "\n".join([*lines, *reqs]) + "\n"


def packages_to_replace(plan: Plan, python: str, runner: Callable[..., Any]) -> set[str]:
    """Ask pip (dry run, nothing changes) which distributions the install would write."""
    names = set(FAMILY)
    if plan.command[1:3] != ("-m", "pip"):  # uv has no dry-run report: the family is what it changes
        return names
    argv = [*plan.command[:4], "--dry-run", "--quiet", "--report", "-", *plan.command[4:]]
    proc = runner(argv, capture_output=True, text=True, check=False)
    if proc.returncode != 0:
        return names  # the real run will fail the same way and say why
    try:
        report = json.loads(proc.stdout)
        names |= {item["metadata"]["name"].lower().replace("_", "-") for item in report["install"]}
    except (ValueError, KeyError, TypeError):
        pass
    return names


def run_install(plan: Plan, python: str, installed: Installed,
                runner: Callable[..., Any] = subprocess.run,
                popen: Callable[..., Any] = subprocess.Popen,
                output: TextIO | None = None) -> InstallResult:
    """Install the plan into `python`'s environment; restore it on failure or Ctrl-C."""
    if already_installed(plan, installed):
        return InstallResult(True, "already-installed", plan)
    if plan.command[1:3] == ("-m", "pip"):
        check = runner([python, "-m", "pip", "--version"], capture_output=True, text=True, check=False)
        if check.returncode != 0:
            raise EnvironmentUnusable(f"{python} has no pip",
                                      "Install pip there (python -m ensurepip), or use --installer uv.")
    before = snapshot(python)
    backup: Backup | None = None
    error: str | None = None
    try:
        try:
            backup = Backup(before, packages_to_replace(plan, python, runner))
            child = popen(list(plan.command), stdout=output or sys.stderr, stderr=sys.stderr)
            try:
                code = child.wait()
            except KeyboardInterrupt:
                child.wait()  # the child got the same SIGINT; let it finish stopping
                raise
        except KeyboardInterrupt:
            error, code = "interrupted (Ctrl-C)", -1
        if code == 0:
            return InstallResult(True, "installed", plan)
        error = error or f"{plan.command[0]} exited with status {code}"
        previous = signal.signal(signal.SIGINT, signal.SIG_IGN)  # a second Ctrl-C must not stop the restore
        try:
            restored, missing = restore(python, before, backup) if backup else ([], [])
        finally:
            signal.signal(signal.SIGINT, previous)
        if missing:
            error += f"; could not restore: {', '.join(missing)}"
        return InstallResult(False, "failed", plan, tuple(restored) or ("nothing had changed",),
                             error=error)
    finally:
        if backup is not None:
            backup.discard()


def install_document(result: InstallResult, plan_doc: dict[str, Any] | None) -> dict[str, Any]:
    return {"schema": INSTALL_SCHEMA, "ok": result.ok, "action": result.action, "plan": plan_doc,
            "restored": list(result.restored) if result.restored is not None else None,
            "verify": result.verify, "error": result.error}
