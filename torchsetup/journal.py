"""The journal of one install transaction: `<prefix>/.torchsetup/txn-<id>/journal.json`, written
atomically and fsync'ed at every change of state, so that a run killed at any moment leaves a
journal the next run can act on.

    prepared    the backup is made; the installer has not started: nothing changed
    running     the installer may be writing
    committed   the install is in place and checked (the folder is then removed)
    rolled-back every file was put back and proven (the folder is then removed)
    kept        something could not be put back: the folder holds the copies, and stays
"""

from __future__ import annotations

import json
import os
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path

from torchsetup.kinds import Choice

JOURNAL = "journal.json"


class TxnState(Choice):
    PREPARED = "prepared"
    RUNNING = "running"
    COMMITTED = "committed"
    ROLLED_BACK = "rolled-back"
    KEPT = "kept"


@dataclass(frozen=True)
class SavedFile:
    """A file (or link) that was there before, and where its copy is."""

    path: str
    sha256: str | None  # None for a symbolic link, and for a hard link (hashed from its copy when needed)
    link: str | None  # the link's target
    copy: str | None  # the copy, relative to the transaction folder


@dataclass(frozen=True)
class AddedFile:
    """A path the installer will write, with what it will hold there."""

    path: str
    sha256: str | None
    size: int | None


@dataclass
class Journal:
    """What one transaction knows: the plan, the distributions before, every file at stake."""

    folder: str
    state: TxnState
    python: str
    plan: str  # the plan in words, for messages
    started: float = field(default_factory=time.time)
    dists_before: dict[str, str] = field(default_factory=dict)  # dist-info folder -> "name version"
    saved: list[SavedFile] = field(default_factory=list)
    added: list[AddedFile] = field(default_factory=list)
    overwritten: list[AddedFile] = field(default_factory=list)  # saved paths a new wheel writes, as it writes them
    new_dist_infos: list[str] = field(default_factory=list)
    wheels: list[str] = field(default_factory=list)
    not_restored: list[str] = field(default_factory=list)

    @property
    def path(self) -> Path:
        return Path(self.folder) / JOURNAL

    def write(self, state: TxnState | None = None) -> None:
        """Write atomically and durably: a temporary file, fsync, rename, fsync of the folder."""
        if state is not None:
            self.state = state
        data = asdict(self)
        data["state"] = self.state.value
        temporary = self.path.with_suffix(".tmp")
        with open(temporary, "w", encoding="utf-8") as handle:
            json.dump(data, handle)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(temporary, self.path)
        _fsync_folder(self.folder)

    @classmethod
    def read(cls, folder: Path) -> Journal:
        data = json.loads((folder / JOURNAL).read_text(encoding="utf-8"))
        return cls(folder=str(folder), state=TxnState(data["state"]), python=str(data["python"]),
                   plan=str(data["plan"]), started=float(data["started"]),
                   dists_before=dict(data["dists_before"]),
                   saved=[SavedFile(**entry) for entry in data["saved"]],
                   added=[AddedFile(**entry) for entry in data["added"]],
                   overwritten=[AddedFile(**entry) for entry in data.get("overwritten") or ()],
                   new_dist_infos=list(data["new_dist_infos"]), wheels=list(data["wheels"]),
                   not_restored=list(data.get("not_restored") or ()))

    @property
    def when(self) -> str:
        return time.strftime("%Y-%m-%d %H:%M", time.localtime(self.started))


def _fsync_folder(folder: str) -> None:
    try:
        descriptor = os.open(folder, os.O_RDONLY)
    except OSError:
        return  # Windows cannot open a folder: the rename is what there is
    try:
        os.fsync(descriptor)
    except OSError:
        pass
    finally:
        os.close(descriptor)
