"""The target environment's files: snapshot, back up (hard links), put back exactly, and prove it.

The snapshot is the filesystem itself — every file and link below the environment's install
folders (purelib, platlib, scripts), with size, mtime and mode — not the distribution metadata
(which also lists pip's `~orch` stash folders as if they were torch). A restore deletes only files
that did not exist before (so a namespace file such as `nvidia/__init__.py` that a pre-existing
package owns is never lost), links back every file that changed or went missing, and then takes a
new snapshot and compares it with the first: "restored" is a proof, not a hope.

The backup lives in `<prefix>/.torchsetup/` beside a lock file, with a manifest, so that a run
killed outright (SIGKILL, power loss) leaves something the next run finds and restores or discards.
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import stat
import subprocess
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

from torchsetup import children
from torchsetup.errors import EnvironmentUnusable

_LAYOUT = r"""
import json, sys, sysconfig
paths = sysconfig.get_paths()
print(json.dumps({"prefix": sys.prefix, "roots": [paths[k] for k in ("purelib", "platlib", "scripts")]}))
"""
STATE_DIR = ".torchsetup"
Fingerprint = tuple[int, int, int, str]  # size, mtime_ns, mode, link target ("" for a file)


@dataclass(frozen=True)
class Layout:
    """The install folders of an environment (purelib, platlib, scripts) and its prefix."""

    prefix: str
    roots: tuple[str, ...]  # the folders an installer writes to, nested ones removed


def layout_of(python: str, timeout: float = 60) -> Layout:
    try:
        proc = children.run([python, "-c", _LAYOUT], timeout)
        data = json.loads(proc.stdout)
    except (OSError, ValueError, subprocess.TimeoutExpired) as exc:
        raise EnvironmentUnusable(f"cannot ask {python} where it installs packages: {exc}",
                                  "Pass --python with a working interpreter.") from exc
    roots: list[str] = []
    for root in sorted({os.path.realpath(r) for r in data["roots"]}, key=len):
        if not any(root == r or root.startswith(r + os.sep) for r in roots):
            roots.append(root)
    return Layout(os.path.realpath(data["prefix"]), tuple(roots))


@dataclass(frozen=True)
class Snapshot:
    """Every file and link under the install folders, with size, mtime and mode."""

    layout: Layout
    files: dict[str, Fingerprint]
    dirs: frozenset[str]

    @property
    def stash(self) -> tuple[str, ...]:
        """pip's stash folders (`~orch...`): what an interrupted pip leaves behind."""
        return tuple(sorted(d for d in self.dirs if os.path.basename(d).startswith("~")))

    def dists(self) -> dict[str, str]:
        """{name: version} from the dist-info folder names (stash folders excluded)."""
        out = {}
        for folder in self.dirs:
            base = os.path.basename(folder)
            if base.endswith(".dist-info") and not base.startswith("~") and "-" in base:
                name, version = base[: -len(".dist-info")].split("-", 1)
                out[name.lower().replace("_", "-")] = version
        return out


def _fingerprint(path: str) -> Fingerprint | None:
    try:
        info = os.lstat(path)
    except OSError:
        return None
    if stat.S_ISLNK(info.st_mode):
        return (0, 0, stat.S_IFLNK, os.readlink(path))
    return (info.st_size, info.st_mtime_ns, stat.S_IMODE(info.st_mode), "")


def take(layout: Layout) -> Snapshot:
    files: dict[str, Fingerprint] = {}
    dirs: set[str] = set()
    for root in layout.roots:
        for folder, subdirs, names in os.walk(root):
            dirs.add(folder)
            for name in subdirs:  # links to folders are entries, not places to walk
                path = os.path.join(folder, name)
                if os.path.islink(path):
                    fp = _fingerprint(path)
                    if fp:
                        files[path] = fp
            for name in names:
                path = os.path.join(folder, name)
                fp = _fingerprint(path)
                if fp:
                    files[path] = fp
    return Snapshot(layout, files, frozenset(dirs))


def differences(before: Snapshot, after: Snapshot) -> list[str]:
    out = [f"missing {p}" for p in before.files if p not in after.files]
    out += [f"changed {p}" for p, fp in before.files.items() if p in after.files and after.files[p] != fp]
    out += [f"added {p}" for p in after.files if p not in before.files]
    return sorted(out)


class Backup:
    """Hard links (copies across devices) of every file of a snapshot, with a manifest on disk."""

    def __init__(self, snap: Snapshot, python: str) -> None:
        self.snapshot = snap
        self.root = _backup_root(snap.layout)
        self.files = self.root / "files"
        manifest = {"pid": os.getpid(), "started": time.time(), "python": python, "prefix": snap.layout.prefix,
                    "roots": list(snap.layout.roots), "files": snap.files, "dirs": sorted(snap.dirs)}
        (self.root / "manifest.json").write_text(json.dumps(manifest))
        for path, fp in snap.files.items():
            if fp[3]:
                continue  # a link is put back from its target, kept in the manifest
            dst = self.files / path.lstrip(os.sep)
            dst.parent.mkdir(parents=True, exist_ok=True)
            try:
                os.link(path, dst)
            except OSError:
                shutil.copy2(path, dst)
        (self.root / "complete").write_text("")

    def restore(self) -> RestoreReport:
        return restore_from(self.snapshot, self.files)

    def discard(self) -> None:
        shutil.rmtree(self.root, ignore_errors=True)


def _backup_root(layout: Layout) -> Path:
    base = Path(layout.prefix) / STATE_DIR
    try:  # beside the environment, so that hard links work (no copy of a 2 GB torch)
        base.mkdir(exist_ok=True)
        return Path(tempfile.mkdtemp(prefix="backup-", dir=base))
    except OSError:
        return Path(tempfile.mkdtemp(prefix="torchsetup-backup-"))


@dataclass(frozen=True)
class RestoreReport:
    """What a restore put back, and whether a second snapshot equals the first."""

    restored: tuple[str, ...]  # what was put back or removed, per distribution, in words
    differences: tuple[str, ...]  # what still differs from the snapshot (empty: proven exact)
    files: int  # files compared


def restore_from(before: Snapshot, saved: Path) -> RestoreReport:
    """Undo every change since `before`; then compare a new snapshot with it."""
    now = take(before.layout)
    was, became = before.dists(), now.dists()
    for path in now.files:
        if path not in before.files:
            _unlink(path)  # added since: only files nobody had before
    for path, fp in before.files.items():
        if now.files.get(path) == fp:
            continue
        _unlink(path)
        Path(path).parent.mkdir(parents=True, exist_ok=True)
        if fp[3]:
            os.symlink(fp[3], path)
            continue
        src = saved / path.lstrip(os.sep)
        try:
            os.link(src, path)
        except OSError:
            shutil.copy2(src, path)
    for folder in sorted(now.dirs - before.dirs, key=len, reverse=True):
        with contextlib.suppress(OSError):
            os.rmdir(folder)  # only the empty folders the install made
    final = take(before.layout)
    words = [f"removed {n} {v} (added by the failed install)" for n, v in sorted(became.items()) if n not in was]
    words += [f"put back {n} {v}" + (f" (replacing {became[n]})" if n in became else "")
              for n, v in sorted(was.items()) if became.get(n) != v]
    if not words and now.files != before.files:
        words = ["put back files the install had changed"]
    return RestoreReport(tuple(words), tuple(differences(before, final)), len(before.files))


def _unlink(path: str) -> None:
    try:
        os.unlink(path)
    except IsADirectoryError:
        shutil.rmtree(path, ignore_errors=True)
    except FileNotFoundError:
        pass


def leftover_backups(layout: Layout) -> list[Path]:
    """Backups a killed run left in `<prefix>/.torchsetup/` (their owner no longer runs)."""
    base = Path(layout.prefix) / STATE_DIR
    out = []
    for folder in sorted(base.glob("backup-*")) if base.is_dir() else []:
        try:
            pid = int(json.loads((folder / "manifest.json").read_text())["pid"])
        except (OSError, ValueError, KeyError, TypeError):
            out.append(folder)
            continue
        if not _alive(pid):
            out.append(folder)
    return out


def _alive(pid: int) -> bool:
    if pid == os.getpid():
        return True
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def recover(folder: Path, layout: Layout) -> str:
    """Restore the environment from a backup a killed run left, or discard it when nothing
    changed (or it was never complete); say which."""
    try:
        manifest = json.loads((folder / "manifest.json").read_text())
        files = {p: (int(fp[0]), int(fp[1]), int(fp[2]), str(fp[3])) for p, fp in manifest["files"].items()}
        before = Snapshot(layout, files, frozenset(manifest["dirs"]))
        started = time.strftime("%Y-%m-%d %H:%M", time.localtime(manifest["started"]))
    except (OSError, ValueError, KeyError, TypeError):
        shutil.rmtree(folder, ignore_errors=True)
        return f"discarded an unreadable backup left in {folder.parent}"
    if not (folder / "complete").exists():
        shutil.rmtree(folder, ignore_errors=True)
        return (f"discarded an incomplete backup left by a torchsetup run killed on {started} before it "
                "changed anything")
    if not differences(before, take(layout)):
        shutil.rmtree(folder, ignore_errors=True)
        return f"discarded the backup of a torchsetup run killed on {started}: the environment had not changed"
    report = restore_from(before, folder / "files")
    if report.differences:
        return (f"a torchsetup run killed on {started} left the environment changed; restoring it left "
                f"{len(report.differences)} difference(s) (first: {report.differences[0]}); the backup is "
                f"kept in {folder}")
    shutil.rmtree(folder, ignore_errors=True)
    return (f"restored the environment from the backup of a torchsetup run killed on {started} "
            f"({'; '.join(report.restored) or 'files put back'})")
