"""What a project already says about torch, read back: where its sources route torch (by extra or by
marker), which release it pins there, and what its lock file holds. `project --which` and `doctor`
read projects through this module; neither writes."""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from torchsetup.kinds import FAMILY
from torchsetup.project.pyproject import family_requirements, requirement_name

if TYPE_CHECKING:
    from collections.abc import Mapping


_VARIANT = re.compile(r"cpu|cu\d{2,3}|rocm\d+(?:\.\d+)*|xpu")


@dataclass(frozen=True)
class Route:
    """One way torch reaches a machine of the project."""

    variant: str | None  # the index folder's variant; None: no source (PyPI's own build)
    index_url: str | None
    extra: str | None = None
    marker: str | None = None
    torch: str | None = None  # the release pinned for it (`torch==2.9.1`), None: unpinned


@dataclass(frozen=True)
class LockedTorch:
    """One torch the lock file holds, and the markers under which it is installed."""

    version: str  # with the local version the index gave it: "2.11.0+cpu"
    markers: tuple[str, ...] = ()


def variant_of_url(url: str | None) -> str | None:
    last = (url or "").rstrip("/").rsplit("/", 1)[-1]
    return last if _VARIANT.fullmatch(last) else None


def depends_on_torch(doc: Mapping[str, Any]) -> bool:
    project = doc.get("project", {})
    lists = [project.get("dependencies", []), *project.get("optional-dependencies", {}).values(),
             *doc.get("dependency-groups", {}).values()]
    if any(family_requirements(values) for values in lists):
        return True
    poetry_deps = doc.get("tool", {}).get("poetry", {}).get("dependencies", {})
    return "torch" in poetry_deps


def routes(doc: Mapping[str, Any], tool: str) -> list[Route]:
    """Every route of torch in the project (none: torch is not routed, it comes from the default index)."""
    return _poetry_routes(doc) if tool == "poetry" else _uv_routes(doc)


def _pins(doc: Mapping[str, Any]) -> dict[tuple[str | None, str | None], str]:
    """(extra, marker) -> the torch release pinned there."""
    from packaging.requirements import InvalidRequirement, Requirement

    project = doc.get("project", {})
    places: list[tuple[str | None, object]] = [(None, project.get("dependencies", []))]
    places += [(str(name), values) for name, values in project.get("optional-dependencies", {}).items()]
    pins: dict[tuple[str | None, str | None], str] = {}
    for extra, values in places:
        for text in family_requirements(values):
            try:
                req = Requirement(text)
            except InvalidRequirement:
                continue
            exact = [s.version for s in req.specifier if s.operator == "=="]
            if req.name == "torch" and exact:
                pins[(extra, str(req.marker) if req.marker else None)] = exact[0]
    return pins


def _uv_routes(doc: Mapping[str, Any]) -> list[Route]:
    uv = doc.get("tool", {}).get("uv", {})
    urls = {str(i.get("name")): str(i.get("url")) for i in uv.get("index", []) if i.get("name")}
    entries = uv.get("sources", {}).get("torch")
    entries = entries if isinstance(entries, list) else [entries] if entries else []
    pins = _pins(doc)
    out = []
    for entry in entries:
        url = urls.get(str(entry.get("index")))
        extra, marker = entry.get("extra"), entry.get("marker")
        torch = pins.get((extra, None)) or pins.get((None, marker)) or pins.get((None, None))
        out.append(Route(variant_of_url(url), url, extra, marker, torch))
    for extra, _marker in pins:  # an extra without a source: PyPI's own build
        if extra is not None and not any(r.extra == extra for r in out):
            out.append(Route(None, None, extra, None, pins[(extra, None)]))
    return out


def _poetry_routes(doc: Mapping[str, Any]) -> list[Route]:
    poetry = doc.get("tool", {}).get("poetry", {})
    urls = {str(s.get("name")): str(s.get("url")) for s in poetry.get("source", []) if s.get("name")}
    entry = poetry.get("dependencies", {}).get("torch")
    entries = entry if isinstance(entry, list) else [entry] if entry is not None else []
    pins = _pins(doc)
    out = []
    for item in entries:
        if isinstance(item, str):
            out.append(Route(None, None, torch=item.lstrip("=")))
            continue
        url = urls.get(str(item.get("source")))
        marker = item.get("markers")
        version = item.get("version") or pins.get((None, marker)) or pins.get((None, None))
        out.append(Route(variant_of_url(url), url, None, marker, str(version).lstrip("=") if version else None))
    return out


def locked_torch(project_file: Path, tool: str) -> tuple[Path, list[LockedTorch]] | None:
    """The lock file beside the project and the torch builds it holds; None: no lock file."""
    from torchsetup.project.pyproject import load_plain

    lock = project_file.with_name("poetry.lock" if tool == "poetry" else "uv.lock")
    try:
        data = load_plain(lock.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, ValueError):
        return None
    found = []
    for package in data.get("package", []):
        if requirement_name(str(package.get("name", ""))) != "torch":
            continue
        version = str(package.get("version", ""))
        source = package.get("source", {})
        url = source.get("registry") or source.get("url") if isinstance(source, dict) else None
        variant = variant_of_url(url)
        if "+" not in version and variant:
            version = f"{version}+{variant}"
        markers = tuple(str(m) for m in package.get("resolution-markers", ()))
        found.append(LockedTorch(version, markers))
    return lock, found


def applies(markers: tuple[str, ...] | str | None, env: Mapping[str, str]) -> bool:
    """Whether one of `markers` holds on this machine with some extra selected (or none)."""
    from packaging.markers import InvalidMarker, Marker

    if not markers:
        return True
    texts = (markers,) if isinstance(markers, str) else markers
    for text in texts:
        extras = ["", *re.findall(r"extra\s*==\s*'([^']+)'", text)]
        try:
            marker = Marker(text)
        except InvalidMarker:
            return True  # a marker this packaging cannot read: counted in, not silently out
        if any(marker.evaluate({**env, "extra": extra}) for extra in extras):
            return True
    return False


__all__ = ["FAMILY", "Route", "LockedTorch", "routes", "locked_torch", "depends_on_torch", "applies"]
