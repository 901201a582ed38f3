"""The requirements of torch's neighbours on the torch family, read from the package index by
`matrix update`: each package's PEP 691 listing, then the METADATA of one wheel per release — the
PEP 658 file beside the wheel where the index serves one (a few kilobytes), else the wheel's own
member read with HTTP range requests. The result has the shape of data/sources/pypi/extensions.json.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date
from email.parser import HeaderParser
from typing import Any

from packaging.requirements import InvalidRequirement, Requirement
from packaging.utils import (
    InvalidSdistFilename,
    InvalidWheelFilename,
    canonicalize_name,
    parse_sdist_filename,
    parse_wheel_filename,
)
from packaging.version import Version

from torchsetup.errors import EnvironmentUnusable
from torchsetup.fetch import Fetched
from torchsetup.kinds import FAMILY
from torchsetup.matrix.wheelpeek import RangeReader, read_members
from torchsetup.urlgate import check_url, mask

# the neighbours whose releases the package index lists (PyG's live on its own pages; flash-attn's
# wheels are GitHub release assets named by knowledge in torchsetup.extensions: the index gives its
# release list, as sdists)
INDEX_PACKAGES = ("vllm", "xformers", "torch-tensorrt", "bitsandbytes", "torchao", "flash-attn")
NEWEST = 8  # final releases read per package, newest first
NEWEST_OF = {"flash-attn": 3}  # the 2.8.3 series, whose asset matrix torchsetup.extensions knows
SIMPLE_JSON = "application/vnd.pypi.simple.v1+json"


@dataclass(frozen=True)
class IndexFile:
    """One file of a release on the index listing."""

    filename: str
    url: str
    tag: str  # "cp38-abi3-manylinux_2_28_x86_64.whl", or "sdist"
    requires_python: str | None
    metadata_sha256: str | None  # the PEP 658 file's hash ("" when served without one); None: not served


@dataclass(frozen=True)
class NeighbourRelease:
    """One release as read: its requirements on the torch family, and what reading them cost."""

    name: str
    version: str
    requires_python: str | None
    requires_dist: tuple[str, ...]
    metadata_of: str | None  # the wheel whose METADATA was read; None: an sdist alone
    files: tuple[str, ...]
    how: str  # "metadata file" | "wheel by range"
    bytes_read: int

    def record(self) -> dict[str, Any]:
        return {"name": self.name, "version": self.version, "requires_python": self.requires_python,
                "requires_dist": list(self.requires_dist), "metadata_of": self.metadata_of,
                "files": list(self.files)}


def read_neighbours(index: str, fetch: Callable[[str], Fetched],
                    reader_for: Callable[[str], RangeReader],
                    progress: Callable[[str], None] | None = None,
                    allow_insecure: bool = False) -> tuple[dict[str, Any], list[NeighbourRelease]]:
    """(the extensions.json document, every release read) for INDEX_PACKAGES on `index` (a simple
    index's base, ending in a slash)."""
    read: list[NeighbourRelease] = []
    for name in INDEX_PACKAGES:
        url = f"{index}{name}/"
        fetched = fetch(url)
        listing = _json(fetched.body, url)
        for version, files in newest_releases(listing, url, NEWEST_OF.get(name, NEWEST)):
            if progress:
                progress(f"reading the requirements of {name} {version}")
            read.append(_read_release(name, version, files, fetch, reader_for, allow_insecure))
    document = {"retrieved": date.today().isoformat(),
                "source": f"{mask(index)}<name>/ (PEP 691 JSON: file lists, requires-python) and the METADATA "
                          "of one wheel per release (the PEP 658 file where served, else the wheel's own, read "
                          "with HTTP range requests) by `torchsetup matrix update`",
                "releases": [r.record() for r in read]}
    return document, read


def newest_releases(listing: dict[str, Any], where: str, count: int = NEWEST) -> list[tuple[str, list[IndexFile]]]:
    """The `count` newest final releases that have a file not yanked, oldest first, with their files."""
    try:
        entries = listing["files"]
        if not isinstance(entries, list):
            raise TypeError("files: expected a list")
        by_version: dict[Version, list[IndexFile]] = {}
        for entry in entries:
            if entry.get("yanked"):
                continue
            parsed = _file(entry)
            if parsed is not None:
                by_version.setdefault(parsed[0], []).append(parsed[1])
    except (KeyError, TypeError, AttributeError) as exc:
        raise EnvironmentUnusable(f"{mask(where)}: not a PEP 691 listing ({exc})",
                                  "Check the index, or pass a saved extensions.json with --from.") from exc
    finals = sorted(v for v in by_version if not (v.is_prerelease or v.is_devrelease or v.local))
    return [(str(v), by_version[v]) for v in finals[-count:]]


def _file(entry: dict[str, Any]) -> tuple[Version, IndexFile] | None:
    filename = str(entry["filename"])
    try:
        if filename.endswith(".whl"):
            dist, version, _build, _tags = parse_wheel_filename(filename)
            tag = filename.split("-", 2)[2]
        else:
            dist, version = parse_sdist_filename(filename)
            tag = "sdist"
    except (InvalidWheelFilename, InvalidSdistFilename):
        return None  # an .egg, an .exe installer: not something pip installs today
    served = entry.get("core-metadata", entry.get("data-dist-info-metadata"))
    sha = (served.get("sha256", "") if isinstance(served, dict) else "") if served else None
    python = entry.get("requires-python")
    return version, IndexFile(filename, str(entry["url"]), tag, str(python) if python else None, sha)


def _read_release(name: str, version: str, files: list[IndexFile], fetch: Callable[[str], Fetched],
                  reader_for: Callable[[str], RangeReader], allow_insecure: bool) -> NeighbourRelease:
    tags = tuple(sorted({f.tag for f in files}))
    wheels = sorted((f for f in files if f.tag != "sdist"), key=_preference)
    python = next((f.requires_python for f in files if f.requires_python), None)
    if not wheels:  # an sdist alone: its requirements are known only by building it
        return NeighbourRelease(name, version, python, (), None, tags, "sdist only: not read", 0)
    chosen = wheels[0]
    url = check_url(chosen.url, f"the index's URL of {chosen.filename}", allow_insecure)
    if chosen.metadata_sha256 is not None:
        body = fetch(url + ".metadata").body
        if chosen.metadata_sha256 and hashlib.sha256(body).hexdigest() != chosen.metadata_sha256:
            raise EnvironmentUnusable(f"{mask(url)}.metadata: its sha256 is not the one the listing gives",
                                      "Retry later; the index or a proxy served something else.")
        metadata, how, cost = body, "metadata file", len(body)
    else:
        reader = reader_for(url)
        members = read_members(reader, lambda member: member.count("/") == 1
                               and member.endswith(".dist-info/METADATA"))
        metadata = next(iter(members.values()), b"")
        how, cost = "wheel by range", reader.bytes_read
    headers = HeaderParser().parsestr(metadata.decode("utf-8", "replace"))
    requires = tuple(r for r in headers.get_all("Requires-Dist") or () if _on_the_family(r))
    return NeighbourRelease(name, version, python or headers.get("Requires-Python"), requires,
                            chosen.filename, tags, how, cost)


def _preference(wheel: IndexFile) -> tuple[bool, bool, bool, str]:
    """Linux x86_64 first (the platform the matrix's rows are read for), then any other wheel; a
    wheel whose METADATA the index serves beside it before one that must be read by range."""
    return ("x86_64" not in wheel.tag, "linux" not in wheel.tag, wheel.metadata_sha256 is None, wheel.tag)


def _on_the_family(text: str) -> bool:
    try:
        return canonicalize_name(Requirement(text).name) in FAMILY
    except InvalidRequirement:
        return False


def _json(body: bytes, url: str) -> dict[str, Any]:
    try:
        data = json.loads(body)
    except ValueError as exc:
        raise EnvironmentUnusable(f"{mask(url)}: not JSON ({exc}); the index must answer PEP 691 JSON",
                                  "Use an index that serves application/vnd.pypi.simple.v1+json.") from exc
    if not isinstance(data, dict):
        raise EnvironmentUnusable(f"{mask(url)}: not a PEP 691 listing", "Check the index.")
    return data
