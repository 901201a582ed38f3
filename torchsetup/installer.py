"""An install as a transaction (`transaction.py`), and the installer's steps inside it: fetch the
plan's wheels (the only network step), ask pip what it will install, install those wheels offline,
and read the result back. Also what runs before an install: acting on the journals earlier runs
left."""

from __future__ import annotations

import json
import shutil
import signal
import subprocess
import sys
import tempfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, TextIO

from torchsetup.envlock import EnvLock
from torchsetup.errors import EnvironmentUnusable
from torchsetup.kinds import Choice, InstallAction
from torchsetup.plan import Plan
from torchsetup.probe.model import Installed
from torchsetup.stopping import Interrupted, raise_interrupted, signals, stop_group

if TYPE_CHECKING:
    from torchsetup.journal import Journal
    from torchsetup.transaction import Environment
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
    not_restored: tuple[str, ...] | None = None  # files that could not be put back, with where their copy is


class BackupAction(Choice):
    """What to do with a backup a failed install kept: --recover or --discard-backup."""

    RECOVER = "recover"
    DISCARD = "discard"


def already_installed(plan: Plan, installed: Installed) -> bool:
    """The installed family matches the plan: versions and the variant (local version)."""
    return not mismatches(plan, installed)


def mismatches(plan: Plan, installed: Installed) -> list[str]:
    """Each planned package that is not installed as planned, in words. torch must carry the plan's
    local version exactly; a companion may also carry none (a py3-none wheel)."""
    local = plan.local_version
    out = []
    for name in ("torch", "torchvision", "torchaudio"):
        wanted, have = getattr(plan, name), getattr(installed, name)
        if wanted is None:
            continue
        if have is None:
            out.append(f"{name} {wanted} is not installed")
            continue
        base, _, their_local = have.partition("+")
        allowed = {local or ""} if name == "torch" else {"", local or ""}
        if base != wanted or their_local not in allowed:
            out.append(f"{name} is {have}, not {wanted}{f'+{local}' if local else ''}")
    return out


def run_install(plan: Plan, python: str, installed: Installed,
                output: TextIO | None = None,
                say: Callable[[str], None] = lambda text: print(text, file=sys.stderr),
                backups: BackupAction | None = None) -> InstallResult:
    """Install the plan into `python`'s environment as a transaction, under the environment's lock:
    the wheels are fetched first (nothing changes), the files at stake saved, the wheels installed
    offline, and the result read back and compared with the plan. A failure, Ctrl-C, SIGTERM or
    SIGHUP puts every saved file back and proves it."""
    from torchsetup import transaction as txn

    if already_installed(plan, installed) and backups is None and not _journals_left(python):
        return InstallResult(True, InstallAction.ALREADY_INSTALLED, plan)
    env = txn.environment_of(python)
    txn.check_writable(env)
    with EnvLock(env.prefix, say):
        recovered = tuple(recover_leftovers(env, say, backups))
        if backups is not None:  # --recover / --discard-backup act on the backup alone
            done = already_installed(plan, installed_now(python))
            return InstallResult(True, InstallAction.ALREADY_INSTALLED if done else InstallAction.DECLINED, plan,
                                 recovered=recovered)
        runner = InstallerRun(plan, python, env, output, say)
        try:
            with signals(raise_interrupted):
                wheels = runner.fetch()
        except Interrupted as exc:
            return runner.failed(f"{exc.words} while fetching the wheels; nothing was changed", recovered)
        except InstallerFailed as exc:
            return runner.failed(f"{exc}; nothing was changed", recovered)
        if not wheels:
            return _result_of_nothing_to_do(plan, python, recovered)
        try:
            journal = txn.prepare(env, wheels, python, f"torch {plan.torch} ({plan.variant})")
        except OSError as exc:  # ENOSPC, EACCES while saving: nothing has changed yet
            runner.discard()
            raise EnvironmentUnusable(f"cannot save the files the install would change ({exc.strerror}: "
                                      f"{exc.filename}); nothing was changed",
                                      "Free space in the environment's file system, then run this again.") from exc
        error = runner.install(journal, wheels)
        if error is None:
            error = result_mismatch(plan, python)
        if error is None:
            txn.finish(journal, None)
            return InstallResult(True, InstallAction.INSTALLED, plan, recovered=recovered)
        with signals(signal.SIG_IGN):  # a second Ctrl-C must not stop the restore
            report = txn.undo(journal, env, recovering=False)
            txn.finish(journal, report)
        if report.not_restored:
            error += (f"; {len(report.not_restored)} file(s) could not be put back (their copies are kept in "
                      f"{journal.folder}): " + "; ".join(report.not_restored[:3]))
        else:
            error += f"; every file is as it was ({report.files} checked by sha256)"
        return InstallResult(False, InstallAction.FAILED, plan, report.restored or ("nothing had changed",),
                             error=error, recovered=recovered, not_restored=report.not_restored)




def _journals_left(python: str) -> bool:
    """A transaction folder in the environment of `python` (its prefix is the folder above bin/)."""
    from torchsetup.envlock import STATE_DIR

    return any((Path(python).parent.parent / STATE_DIR).glob("txn-*"))


class InstallerFailed(Exception):
    """The installer exited with an error before anything changed."""


@dataclass
class InstallerRun:
    """The installer's three steps for one plan: fetch the wheels, ask what it will install, install offline."""

    plan: Plan
    python: str
    env: Environment
    output: TextIO | None
    say: Callable[[str], None]

    def __post_init__(self) -> None:
        self.folder = Path(tempfile.mkdtemp(prefix="download-", dir=self.env.state_dir))

    def _run(self, argv: list[str], env: dict[str, str] | None = None) -> int:
        child = subprocess.Popen(argv, stdout=self.output or sys.stderr, stderr=sys.stderr,
                                 start_new_session=True, env=env)
        try:
            return child.wait()
        except Interrupted:
            with signals(signal.SIG_IGN):
                stop_group(child)
            raise

    def fetch(self) -> list[str]:
        """The wheels the installer will install, fetched into the transaction's folder (the only
        network step: an interruption here changes nothing)."""
        pip = pip_command(self.python, self.folder) + (["--isolated"] if "--isolated" in self.plan.command else [])
        requirements, index_args = split_install_args(self.plan.command)
        wheels = self.folder / "wheels"
        code = self._run([*pip, "download", "--dest", str(wheels), *requirements, *index_args])
        if code != 0:
            raise InstallerFailed(f"pip download exited with status {code}")
        report = self.folder / "report.json"
        # --isolated: the folder alone answers (no configured index or find-links adds candidates)
        code = self._run([*pip, "--isolated", "install", "--dry-run", "--quiet", "--report", str(report),
                          "--no-index", "--find-links", str(wheels), *map(from_the_folder, requirements)])
        if code != 0:
            raise InstallerFailed(f"pip install --dry-run exited with status {code}")
        return wheels_to_install(report)

    def install(self, journal: Journal, wheels: list[str]) -> str | None:
        """Install exactly `wheels`, offline, by their exact pins from the folder they are in (not by
        path: a path would be recorded as the package's origin, and `pip freeze` would show it); None
        when the installer succeeded, else why not."""
        from torchsetup.journal import TxnState
        from torchsetup.records import wheel_name_version

        journal.write(TxnState.RUNNING)
        pins = ["{}=={}".format(*wheel_name_version(w)) for w in wheels]
        folder = str(self.folder / "wheels")
        if self.plan.command[0] == "uv":
            argv = ["uv", "pip", "install", "--python", self.python, "--offline", "--no-index", "--no-deps",
                    "--find-links", folder, *pins]
        else:
            argv = [self.python, "-m", "pip", "--isolated", "install", "--no-index", "--no-deps",
                    "--disable-pip-version-check", "--find-links", folder, *pins]
        try:
            with signals(raise_interrupted):
                code = self._run(argv)
        except Interrupted as exc:
            return exc.words
        finally:
            shutil.rmtree(self.folder, ignore_errors=True)
        return None if code == 0 else f"{argv[0]} exited with status {code}"

    def discard(self) -> None:
        shutil.rmtree(self.folder, ignore_errors=True)

    def failed(self, error: str, recovered: tuple[str, ...]) -> InstallResult:
        self.discard()
        return InstallResult(False, InstallAction.FAILED, self.plan, ("nothing had changed",), error=error,
                             recovered=recovered)


def _result_of_nothing_to_do(plan: Plan, python: str, recovered: tuple[str, ...]) -> InstallResult:
    """The installer would install nothing: the plan must already be there, or say what is instead."""
    error = result_mismatch(plan, python)
    if error is None:
        return InstallResult(True, InstallAction.ALREADY_INSTALLED, plan, recovered=recovered)
    return InstallResult(False, InstallAction.FAILED, plan, ("nothing had changed",),
                         error=f"{error}; nothing was changed", recovered=recovered)


def pip_command(python: str, folder: Path, own_pip: bool | None = None) -> list[str]:
    """pip of the target; else torchsetup's own pip acting on the target (`pip --python`); else, where
    only uv is there (a uv venv, torchsetup installed with `uv tool`), a pip that uv fetches into
    the transaction's folder for this install alone. `own_pip`: whether torchsetup's own interpreter
    has pip (None: look)."""
    import importlib.util
    import shutil as which

    probe = subprocess.run([python, "-c", "import pip"], capture_output=True, check=False)
    if probe.returncode == 0:
        return [python, "-m", "pip", "--disable-pip-version-check"]
    if own_pip if own_pip is not None else importlib.util.find_spec("pip") is not None:
        return [sys.executable, "-m", "pip", "--disable-pip-version-check", "--python", python]
    uv = which.which("uv")
    hint = f"Add it with `{python} -m ensurepip`."
    if uv is None:
        raise EnvironmentUnusable(f"{python} has no pip, neither has torchsetup's own environment, and uv is not "
                                  "on PATH (pip fetches the wheels and says what it will install before anything "
                                  "changes)", hint)
    target = folder / "pip"
    fetched = subprocess.run([uv, "pip", "install", "--quiet", "--python", python, "--target", str(target), "pip"],
                             capture_output=True, text=True, check=False)
    if fetched.returncode != 0:
        raise EnvironmentUnusable(f"{python} has no pip, and uv could not fetch one: "
                                  f"{(fetched.stderr.strip().splitlines() or ['?'])[-1]}", hint)
    return [python, str(target / "pip"), "--disable-pip-version-check"]


def split_install_args(command: tuple[str, ...]) -> tuple[list[str], list[str]]:
    """The plan's requirements and its index options, from pip's or uv's install argv."""
    args = list(command[command.index("install") + 1:])
    requirements, options = [], []
    i = 0
    while i < len(args):
        if args[i] == "--python":
            i += 2
        elif args[i].startswith("-"):
            options += args[i:i + 2]
            i += 2
        else:
            requirements.append(args[i])
            i += 1
    return requirements, options


def from_the_folder(requirement: str) -> str:
    """A wheel's URL (a GitHub release asset) as the pin of the file `pip download` saved from it,
    so that the offline steps take that file and never fetch the URL again; anything else as it is."""
    if "://" not in requirement:
        return requirement
    from urllib.parse import unquote, urlsplit

    from torchsetup.records import wheel_name_version

    filename = unquote(urlsplit(requirement).path.rsplit("/", 1)[-1])
    return "{}=={}".format(*wheel_name_version(filename)) if filename.endswith(".whl") else requirement


def wheels_to_install(report: Path) -> list[str]:
    """The wheel files pip's --report says it would install (file:// URLs into the folder)."""
    from urllib.parse import unquote, urlsplit

    data = json.loads(report.read_text(encoding="utf-8"))
    return [unquote(urlsplit(item["download_info"]["url"]).path) for item in data.get("install", [])]


def installed_now(python: str) -> Installed:
    from torchsetup.probe.interpreter import read_interpreter

    return read_interpreter(python).installed


def result_mismatch(plan: Plan, python: str) -> str | None:
    """What is installed now, read back from its own files, against the plan; None when it matches."""
    from torchsetup.probe.interpreter import read_interpreter

    problems = mismatches(plan, read_interpreter(python).installed)
    if not problems:
        return None
    why = ""
    if any(p.startswith("torch is") for p in problems) and plan.command[-2:-1] == ("--index-url",):
        why = ("; the `index` strategy pins without a local version, so an installed build of the same "
               "number satisfies it: use --index-strategy extra")
    return "the installer did not install the plan: " + "; ".join(problems) + why


def recover_leftovers(env: Environment, say: Callable[[str], None], action: BackupAction | None) -> list[str]:
    """What runs before this one left (their lock is released: they are over)."""
    from torchsetup import transaction as txn
    from torchsetup.journal import TxnState

    out = []
    for journal in txn.leftovers(env):
        if journal.state in (TxnState.COMMITTED, TxnState.ROLLED_BACK, TxnState.PREPARED):
            shutil.rmtree(journal.folder, ignore_errors=True)
            if journal.state == TxnState.PREPARED:
                out.append(f"discarded the backup of a torchsetup run stopped on {journal.when} before it changed "
                           "anything")
            continue
        if journal.state == TxnState.KEPT and action is None:
            out.append(f"a backup of {len(journal.saved)} file(s) from a failed install on {journal.when} is kept "
                       f"in {journal.folder}: {len(journal.not_restored)} file(s) were not put back (first: "
                       f"{(journal.not_restored or ['?'])[0]}); `torchsetup install --recover` tries again, "
                       "`torchsetup install --discard-backup` deletes it")
            continue
        if action == BackupAction.DISCARD:
            shutil.rmtree(journal.folder, ignore_errors=True)
            out.append(f"discarded the backup kept in {journal.folder}")
            continue
        report = txn.undo(journal, env, recovering=True)
        txn.finish(journal, report)
        what = "; ".join(report.restored) or "nothing needed putting back"
        left = f"; left as they are: {'; '.join(report.left[:3])}" if report.left else ""
        if report.not_restored:
            out.append(f"recovering the install killed on {journal.when} left {len(report.not_restored)} file(s) "
                       f"not put back (first: {report.not_restored[0]}); the backup stays in {journal.folder}")
        else:
            out.append(f"recovered the install killed on {journal.when}: {what}{left}")
    for line in out:
        say(line)
    return out
