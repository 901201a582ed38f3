"""`matrix update` learns a torch release the knowledge tables do not cover, from its own wheels:
one wheel per platform, `torch/version.py` and METADATA read with HTTP range requests."""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from packaging.version import Version

from torchsetup.matrix import enrich, knowledge
from torchsetup.matrix.wheelpeek import RangeReader, parse_version_py, read_members
from torchsetup.urlgate import check_url

PLATFORMS = ("linux-x86_64", "linux-aarch64", "windows-x86_64")
PREFERRED_PYTHONS = ("3.12", "3.11", "3.13", "3.10")


@dataclass(frozen=True)
class LearnedWheel:
    """What one wheel told about its release when read by range requests, and what that cost."""

    platform: str
    wheel: str
    url: str
    version: str | None
    cuda: str | None
    hip: str | None
    git_version: str | None
    requires: tuple[str, ...]  # the CUDA runtime lines of METADATA
    requests: int
    bytes_read: int
    size: int | None

    def record(self) -> dict[str, Any]:
        return {"wheel": self.url, "version": self.version, "cuda": self.cuda, "hip": self.hip,
                "git_version": self.git_version, "requires": list(self.requires)}


def covered(version: str, platform: str) -> bool:
    minor = ".".join(version.split(".")[:2])
    return any(row.platform == platform and minor in row.torch for row in knowledge.PYPI_BUILDS)


def pick_wheel(files: list[enrich.WheelFile], platform: str) -> enrich.WheelFile | None:
    """One wheel of the platform, a common CPython first (any build of a release says the same)."""
    mine = [w for w in files if w.url and any(enrich.platform_key(t) == platform for t in w.platform_tags)]
    for python in PREFERRED_PYTHONS:
        for wheel in mine:
            if python in wheel.python_tags:
                return wheel
    return mine[0] if mine else None


def peek(url: str, filename: str, platform: str, reader: RangeReader | None = None) -> LearnedWheel:
    reader = reader or RangeReader(url)
    members = read_members(reader, lambda name: name == "torch/version.py" or (
        name.count("/") == 1 and name.endswith(".dist-info/METADATA")))
    version_py = members.get("torch/version.py", b"").decode("utf-8", "replace")
    facts = parse_version_py(version_py)
    metadata = next((v for k, v in members.items() if k.endswith("METADATA")), b"").decode("utf-8", "replace")
    requires = tuple(line.split(":", 1)[1].strip() for line in metadata.splitlines()
                     if line.lower().startswith("requires-dist:")
                     and any(k in line for k in ("nvidia-cuda-runtime", "cuda-toolkit", "rocm")))
    return LearnedWheel(platform, filename, url, facts["version"], facts["cuda"], facts["hip"],
                        facts["git_version"], requires, reader.requests, reader.bytes_read, reader.size)


MAX_NEW_RELEASES = 8  # learned in one `matrix update`; the rest wait for the next run, and are named


def learn(simple: dict[str, Any], progress: Callable[[str], None] | None = None,
          reader_for: Callable[[str], RangeReader] | None = None,
          allow_insecure: bool = False) -> tuple[dict[str, Any], list[LearnedWheel], list[str]]:
    """(a learned-builds document, every wheel read, the releases left for the next run) for the
    releases on the index that no knowledge row covers, newest first: at most MAX_NEW_RELEASES in
    one run (a listing of 100,000 made-up releases costs no more than a real one)."""
    wheels = enrich.parse_simple_json(simple)
    by_version: dict[str, list[enrich.WheelFile]] = {}
    for wheel in wheels:
        by_version.setdefault(wheel.base_version, []).append(wheel)
    learned: dict[str, dict[str, Any]] = {}
    read: list[LearnedWheel] = []
    left: list[str] = []
    for version in sorted(by_version, key=Version, reverse=True):
        if Version(version).is_prerelease or Version(version) < Version("1.0"):
            continue
        if all(covered(version, platform) for platform in PLATFORMS):
            continue
        if len(learned) >= MAX_NEW_RELEASES:
            left.append(version)
            continue
        for platform in PLATFORMS:
            if covered(version, platform):
                continue
            chosen = pick_wheel(by_version[version], platform)
            if chosen is None or chosen.url is None:
                continue
            if progress:
                progress(f"reading torch/version.py of {chosen.filename}")
            url = check_url(chosen.url, f"the index's URL of {chosen.filename}", allow_insecure)
            reader = reader_for(url) if reader_for else RangeReader(url, allow_insecure=allow_insecure)
            found = peek(url, chosen.filename, platform, reader)
            read.append(found)
            learned.setdefault(version, {})[platform] = found.record()
    return {"learned_builds": learned}, read, left


def document_text(document: dict[str, Any]) -> str:
    return json.dumps(document, indent=1, sort_keys=True) + "\n"
