"""The target environment's distributions: snapshot, back up (hard links), and put back."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import tempfile
from dataclasses import dataclass
from pathlib import Path

from torchsetup.errors import EnvironmentUnusable

_LIST = r"""
import sys
sys.path[:] = [p for p in sys.path if p not in ("", ".")]
import json, os, sysconfig
from importlib import metadata
out = []
seen = set()
for dist in metadata.distributions():
    name = (dist.metadata["Name"] or "").lower().replace("_", "-")
    if not name or name in seen:
        continue
    seen.add(name)
    files = []
    for f in dist.files or []:
        p = os.path.normpath(os.path.join(str(dist.locate_file("")), str(f)))
        files.append(p)
    out.append({"name": name, "version": dist.version, "files": files})
print(json.dumps({"purelib": sysconfig.get_paths()["purelib"], "dists": out}))
"""


@dataclass(frozen=True)
class Dist:
    name: str
    version: str
    files: tuple[str, ...]


@dataclass(frozen=True)
class Snapshot:
    purelib: str
    dists: dict[str, Dist]

    def versions(self) -> dict[str, str]:
        return {name: d.version for name, d in self.dists.items()}


def snapshot(python: str, timeout: float = 60) -> Snapshot:
    try:
        proc = subprocess.run([python, "-c", _LIST], capture_output=True, text=True, timeout=timeout,
                              check=False)
        data = json.loads(proc.stdout)
    except (OSError, ValueError, subprocess.TimeoutExpired) as exc:
        raise EnvironmentUnusable(f"cannot list the distributions of {python}: {exc}",
                                  "Pass --python with a working interpreter.") from exc
    dists = {d["name"]: Dist(d["name"], d["version"], tuple(d["files"])) for d in data["dists"]}
    return Snapshot(data["purelib"], dists)


class Backup:
    """Hard links (copies across devices) of some distributions' files, to put them back later."""

    def __init__(self, snap: Snapshot, names: set[str]) -> None:
        self.snapshot = snap
        try:  # beside the environment, so that hard links work (no copy of a 2 GB torch)
            self.root = Path(tempfile.mkdtemp(prefix=".torchsetup-backup-", dir=Path(snap.purelib).parent))
        except OSError:
            self.root = Path(tempfile.mkdtemp(prefix="torchsetup-backup-"))
        self.saved: dict[str, Dist] = {}
        for name in sorted(names):
            dist = snap.dists.get(name)
            if dist is None:
                continue
            for file in dist.files:
                src = Path(file)
                if not src.is_file():
                    continue
                dst = self.root / name / src.relative_to(src.anchor)
                dst.parent.mkdir(parents=True, exist_ok=True)
                try:
                    os.link(src, dst)
                except OSError:
                    shutil.copy2(src, dst)
            self.saved[name] = dist

    def put_back(self, name: str) -> None:
        dist = self.saved[name]
        for file in dist.files:
            src = self.root / name / Path(file).relative_to(Path(file).anchor)
            if not src.is_file():
                continue
            dst = Path(file)
            dst.parent.mkdir(parents=True, exist_ok=True)
            if dst.exists():
                dst.unlink()
            try:
                os.link(src, dst)
            except OSError:
                shutil.copy2(src, dst)

    def discard(self) -> None:
        shutil.rmtree(self.root, ignore_errors=True)


def remove_files(dist: Dist) -> None:
    dirs = set()
    for file in dist.files:
        path = Path(file)
        if path.is_file() or path.is_symlink():
            path.unlink()
            dirs.add(path.parent)
    for directory in sorted(dirs, key=lambda d: len(d.parts), reverse=True):
        while True:
            try:
                directory.rmdir()  # only empty ones
            except OSError:
                break
            directory = directory.parent


def restore(python: str, before: Snapshot, backup: Backup) -> tuple[list[str], list[str]]:
    """Undo what happened since `before`. Returns (what was restored, what could not be)."""
    after = snapshot(python)
    restored: list[str] = []
    for name, dist in after.dists.items():
        old = before.dists.get(name)
        if old is None:
            remove_files(dist)
            restored.append(f"removed {name} {dist.version} (added by the failed install)")
        elif old.version != dist.version:
            remove_files(dist)
    for name, old in before.dists.items():
        now = after.dists.get(name)
        if now is not None and now.version == old.version:
            continue
        if name in backup.saved:
            backup.put_back(name)
            was = f" (replacing {now.version})" if now is not None else ""
            restored.append(f"put back {name} {old.version}{was}")
    final = snapshot(python).versions()
    missing = [f"{n} {v}" for n, v in before.versions().items() if final.get(n) != v]
    missing += [f"{n} {v} still present" for n, v in final.items() if n not in before.dists]
    return restored, missing
