"""An install as a transaction: before anything changes, the files at stake are known and saved;
after a failure, exactly those are put back, and proven by their sha256.

Files at stake: every file of each distribution the new wheels replace (their RECORD), every path
a new wheel will write that exists now (any scheme: purelib, platlib, scripts, headers, data), the
scripts the installer generates, and every `.pth` file of the environment (pip edits them in place).
A saved file is a hard link when the installer replaces such files by unlink-and-write (RECORD
files), a copy otherwise (`.pth`), so nothing the installer does can change the saved bytes.

Undo removes what the installer added and puts back every saved file whose content changed. On
recovery after a killed run it leaves what a later install owns (a distribution not in the
journal) and a file whose content neither the old nor the new wheels explain, and says so.
A file that cannot be put back (EPERM, EBUSY, ENOSPC) never costs its copy: the folder is kept,
and every such file is named with where its copy is.
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path

from torchsetup import children
from torchsetup.envlock import STATE_DIR
from torchsetup.errors import EnvironmentUnusable, UsageError
from torchsetup.journal import AddedFile, Journal, SavedFile, TxnState
from torchsetup.records import Scheme, installed_distributions, normalise, sha256_of, wheel_plan

_LAYOUT = r"""
import json, os, site, sys, sysconfig
paths = sysconfig.get_paths()
venv = sys.prefix != getattr(sys, "base_prefix", sys.prefix)
headers = (os.path.join(sys.prefix, "include", "site", "python%d.%d" % sys.version_info[:2]) if venv
           else paths["include"])
user = getattr(site, "ENABLE_USER_SITE", False) and not venv
print(json.dumps({"prefix": sys.prefix, "purelib": paths["purelib"], "platlib": paths["platlib"],
                  "scripts": paths["scripts"], "data": paths["data"], "headers": headers,
                  "user_site": site.getusersitepackages() if user else None}))
"""


@dataclass(frozen=True)
class Environment:
    """The target environment: where each part of a wheel goes, and where distributions live."""

    scheme: Scheme
    user_site: str | None

    @property
    def prefix(self) -> str:
        return self.scheme.prefix

    @property
    def site_dirs(self) -> tuple[str, ...]:
        user = [self.user_site] if self.user_site else []
        return tuple(dict.fromkeys([self.scheme.purelib, self.scheme.platlib, *user]))

    @property
    def state_dir(self) -> Path:
        return Path(self.prefix) / STATE_DIR


def environment_of(python: str, timeout: float = 60) -> Environment:
    try:
        proc = children.run([python, "-c", _LAYOUT], timeout)
        data = json.loads(proc.stdout)
    except (OSError, ValueError, subprocess.TimeoutExpired) as exc:
        raise EnvironmentUnusable(f"cannot ask {python} where it installs packages: {exc}",
                                  "Pass --python with a working interpreter.") from exc
    real = os.path.realpath
    scheme = Scheme(real(data["prefix"]), real(data["purelib"]), real(data["platlib"]), real(data["scripts"]),
                    real(data["data"]), real(data["headers"]))
    return Environment(scheme, real(data["user_site"]) if data.get("user_site") else None)


def check_writable(env: Environment) -> None:
    """The install refuses up front where its lock and backups cannot live in the environment."""
    folder = env.state_dir
    try:
        folder.mkdir(exist_ok=True)
        probe = folder / f".write-test-{os.getpid()}"
        probe.write_bytes(b"")
        probe.unlink()
        writable = all(os.access(d, os.W_OK) for d in (env.scheme.purelib, env.scheme.scripts) if os.path.isdir(d))
    except OSError:
        writable = False
    if not writable:
        owner = _owner(env.prefix)
        raise UsageError(f"cannot write to the environment {env.prefix} (owned by {owner}); nothing was changed",
                         f"Run as {owner}, or use an environment you own (python3 -m venv .venv).")


def _owner(path: str) -> str:
    try:
        import pwd

        return pwd.getpwuid(os.stat(path).st_uid).pw_name
    except (ImportError, KeyError, OSError):
        return "another user"


def prepare(env: Environment, wheels: list[str], python: str, plan: str) -> Journal:
    """Save every file at stake for installing `wheels`; the journal is written `prepared`."""
    env.state_dir.mkdir(exist_ok=True)
    folder = Path(_new_folder(env.state_dir))
    plans = [wheel_plan(w, env.scheme) for w in wheels]
    installed = installed_distributions(env.site_dirs)
    replacing = {p.name for p in plans}
    journal = Journal(folder=str(folder), state=TxnState.PREPARED, python=python, plan=plan,
                      dists_before={d.dist_info: f"{d.name} {d.version}" for d in installed},
                      wheels=[os.path.basename(w) for w in wheels])
    at_stake: set[str] = set()
    for dist in installed:
        if dist.name in replacing:
            at_stake.update(dist.files)
    for wheel in plans:
        for path, expected in wheel.files.items():
            if os.path.lexists(path):
                at_stake.add(path)
                journal.overwritten.append(AddedFile(path, expected.sha256, expected.size))
            else:
                journal.added.append(AddedFile(path, expected.sha256, expected.size))
        for script in wheel.scripts:
            if os.path.lexists(script):
                at_stake.add(script)
            else:
                journal.added.append(AddedFile(script, None, None))
        if not os.path.exists(wheel.dist_info):
            journal.new_dist_infos.append(wheel.dist_info)
    for site in env.site_dirs:  # .pth files (pip edits them in place) and a develop install's egg-link
        with contextlib.suppress(OSError):
            at_stake.update(os.path.join(site, n) for n in os.listdir(site) if n.endswith(".pth")
                            or (n.endswith(".egg-link") and normalise(n[: -len(".egg-link")]) in replacing))
    copies = folder / "files"
    try:
        copies.mkdir()
        for number, path in enumerate(sorted(at_stake)):
            saved = _save(path, copies, number)
            if saved is not None:
                journal.saved.append(saved)
        journal.write()
    except OSError:
        shutil.rmtree(folder, ignore_errors=True)  # nothing has changed: the half-made backup goes
        raise
    return journal


def _new_folder(base: Path) -> str:
    import tempfile

    return tempfile.mkdtemp(prefix="txn-", dir=base)


def _save(path: str, copies: Path, number: int) -> SavedFile | None:
    if os.path.islink(path):
        return SavedFile(path, None, os.readlink(path), None)
    if not os.path.isfile(path):
        return None
    target = copies / f"{number:06d}"
    if path.endswith(".pth"):
        shutil.copy2(path, target)  # edited in place by pip: a link would change with it
    else:
        try:
            os.link(path, target)
        except OSError:
            shutil.copy2(path, target)
    # a hard link's content is hashed only if it must be compared (on undo): the copy keeps it meanwhile
    digest = sha256_of(str(target)) if os.stat(target).st_nlink == 1 else None
    return SavedFile(path, digest, None, str(target.relative_to(copies.parent)))


@dataclass(frozen=True)
class UndoReport:
    """What an undo did: in words, the files it could not put back, and the ones it left."""

    restored: tuple[str, ...]
    not_restored: tuple[str, ...]  # each with where its copy is kept
    left: tuple[str, ...]  # changed by someone else since: left as they are
    files: int  # files checked


def undo(journal: Journal, env: Environment, recovering: bool) -> UndoReport:
    """Put back what the installer changed. `recovering`: a dead run's journal, so a path that a
    later install owns, or a file whose content neither the old nor the new wheels explain, is
    left as it is."""
    now = installed_distributions(env.site_dirs)
    became = {d.dist_info: f"{d.name} {d.version}" for d in now}
    mine = set(journal.dists_before) | set(journal.new_dist_infos)
    later_infos = {d.dist_info for d in now if d.dist_info not in mine} if recovering else set()
    later = {path for d in now if d.dist_info in later_infos for path in d.files}
    left: list[str] = []
    not_restored: list[str] = []
    expected = {a.path: a for a in journal.overwritten}
    for added in journal.added:
        if added.path in later:
            left.append(f"{added.path} (a later install owns it)")
        elif os.path.lexists(added.path):
            _remove(added.path, not_restored)
    for dist_info in journal.new_dist_infos:
        if os.path.isdir(dist_info) and dist_info not in later:
            shutil.rmtree(dist_info, ignore_errors=True)  # INSTALLER, REQUESTED, direct_url.json too
    for saved in journal.saved:
        if saved.path in later:
            left.append(f"{saved.path} (a later install owns it)")
            continue
        if saved.link is not None:
            if not (os.path.islink(saved.path) and os.readlink(saved.path) == saved.link):
                _put_link_back(saved, not_restored)
            continue
        copy = Path(journal.folder) / (saved.copy or "")
        if _same_file(saved.path, copy):
            continue  # still the very file that was saved: untouched
        current = sha256_of(saved.path)
        saved_hash = saved.sha256 or sha256_of(str(copy))
        if current == saved_hash:
            continue
        if recovering and current is not None and not _installer_generates(saved.path) \
                and not _installer_could_have_written(saved.path, current, expected.get(saved.path)):
            left.append(f"{saved.path} (changed since the killed install; left as it is)")
            continue
        _put_back(saved, copy, saved_hash, not_restored)
    _remove_pip_stashes(journal, env)
    _remove_empty_folders(journal, env)
    words = [f"removed {what} (added by the failed install)" for where, what in sorted(became.items())
             if where not in journal.dists_before and where not in later_infos]
    words += [f"put back {what}" for where, what in sorted(journal.dists_before.items())
              if became.get(where) != what]
    if not words and (journal.added or journal.saved):
        words = ["put back files the install had changed"]
    return UndoReport(tuple(words), tuple(not_restored), tuple(left), len(journal.saved) + len(journal.added))


def _installer_generates(path: str) -> bool:
    """Files the installer writes beyond a wheel's RECORD: bytecode, .pth edits, dist-info bookkeeping."""
    name, parent = os.path.basename(path), os.path.basename(os.path.dirname(path))
    return (name.endswith(".pth") or (parent == "__pycache__" and name.endswith(".pyc"))
            or (parent.endswith(".dist-info") and name in ("INSTALLER", "REQUESTED", "RECORD", "direct_url.json")))


def _installer_could_have_written(path: str, current: str, added: AddedFile | None) -> bool:
    """The new wheel's own content, or a partial write of it (shorter than the RECORD's size)."""
    if added is None:
        return False
    if current == added.sha256:
        return True
    try:
        return added.size is not None and os.path.getsize(path) < added.size
    except OSError:
        return False


def _remove(path: str, not_restored: list[str]) -> None:
    try:
        if os.path.isdir(path) and not os.path.islink(path):
            shutil.rmtree(path)
        else:
            os.unlink(path)
    except FileNotFoundError:
        return
    except OSError as exc:
        not_restored.append(f"{path}: added by the failed install, could not be removed ({exc.strerror})")
        return
    if path.endswith(".py"):  # the bytecode the installer compiled for it
        cache = Path(path).parent / "__pycache__"
        for compiled in cache.glob(f"{Path(path).stem}.*.pyc") if cache.is_dir() else ():
            with contextlib.suppress(OSError):
                compiled.unlink()


def _put_link_back(saved: SavedFile, not_restored: list[str]) -> None:
    try:
        if os.path.lexists(saved.path):
            os.unlink(saved.path)
        os.makedirs(os.path.dirname(saved.path), exist_ok=True)
        os.symlink(saved.link or "", saved.path)
    except OSError as exc:
        not_restored.append(f"{saved.path}: a link to {saved.link} ({exc.strerror})")


def _same_file(path: str, copy: Path) -> bool:
    try:
        return os.path.samestat(os.stat(path), os.stat(copy))
    except OSError:
        return False


def _put_back(saved: SavedFile, copy: Path, saved_hash: str | None, not_restored: list[str]) -> None:
    try:
        if os.path.lexists(saved.path):
            os.unlink(saved.path)
        os.makedirs(os.path.dirname(saved.path), exist_ok=True)
        try:
            os.link(copy, saved.path)
        except OSError:
            shutil.copy2(copy, saved.path)
    except OSError as exc:
        not_restored.append(f"{saved.path}: {exc.strerror}; its copy is kept in {copy}")
        return
    if not _same_file(saved.path, copy) and sha256_of(saved.path) != saved_hash:
        not_restored.append(f"{saved.path}: its content differs after the restore; its copy is kept in {copy}")


_STASH_CHARS = set("-~.=%0123456789")  # pip's AdjacentTempDirectory.LEADING_CHARS


def _remove_pip_stashes(journal: Journal, env: Environment) -> None:
    """The folders a killed pip leaves while it replaces a package (`~orch` for `torch`), for the
    top-level names of the files this transaction saved: their files are back in place."""
    names: dict[str, set[str]] = {}
    for saved in journal.saved:
        for site in env.site_dirs:
            if saved.path.startswith(site + os.sep):
                names.setdefault(site, set()).add(saved.path[len(site) + 1:].split(os.sep)[0])
    for site, tops in names.items():
        with contextlib.suppress(OSError):
            for entry in os.listdir(site):
                if entry.startswith("~") and any(_is_stash_of(entry, top) for top in tops):
                    path = os.path.join(site, entry)
                    if os.path.isdir(path) and not os.path.islink(path):
                        shutil.rmtree(path, ignore_errors=True)
                    else:
                        with contextlib.suppress(OSError):
                            os.unlink(path)


def _is_stash_of(entry: str, name: str) -> bool:
    """`entry` is one of pip's stand-ins for `name`: `~`, then pip's filler characters, then the
    rest of the name with as many leading characters dropped."""
    for cut in range(1, len(name)):
        if len(entry) == len(name) and entry.endswith(name[cut:]) and set(entry[1:cut]) <= _STASH_CHARS:
            return True
    return False


def _remove_empty_folders(journal: Journal, env: Environment) -> None:
    roots = {env.prefix, *env.site_dirs, env.scheme.scripts, env.scheme.data}
    folders = {os.path.dirname(a.path) for a in journal.added}
    for folder in list(folders):
        parent = os.path.dirname(folder)
        while parent and parent not in roots and parent != os.path.dirname(parent):
            folders.add(parent)
            parent = os.path.dirname(parent)
    for folder in sorted(folders, key=len, reverse=True):
        if folder in roots:
            continue
        cache = os.path.join(folder, "__pycache__")
        with contextlib.suppress(OSError):
            if os.path.isdir(cache) and not os.listdir(cache):
                os.rmdir(cache)
        with contextlib.suppress(OSError):
            os.rmdir(folder)  # only an empty folder goes


def finish(journal: Journal, report: UndoReport | None) -> None:
    """Committed, or rolled back and proven: the folder goes. Otherwise it is kept with its copies."""
    if report is not None and report.not_restored:
        journal.not_restored = list(report.not_restored)
        journal.write(TxnState.KEPT)
        return
    journal.write(TxnState.COMMITTED if report is None else TxnState.ROLLED_BACK)
    shutil.rmtree(journal.folder, ignore_errors=True)


def leftovers(env: Environment) -> list[Journal]:
    """Journals other runs left (the caller holds the environment's lock: their runs are over)."""
    out = []
    for folder in sorted(env.state_dir.glob("txn-*")) if env.state_dir.is_dir() else []:
        try:
            out.append(Journal.read(folder))
        except (OSError, ValueError, KeyError, TypeError):
            shutil.rmtree(folder, ignore_errors=True)  # never written whole: nothing was saved there yet
    return out
