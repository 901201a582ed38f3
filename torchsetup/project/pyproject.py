"""The project's pyproject.toml: found, read (keeping every comment and layout, with tomlkit), told
apart as uv or Poetry, and written back atomically."""

from __future__ import annotations

import contextlib
import os
import re
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from torchsetup.errors import UsageError
from torchsetup.kinds import FAMILY

if TYPE_CHECKING:
    from collections.abc import Mapping

    from tomlkit import TOMLDocument

    from torchsetup.probe.model import Machine

# packages known to require one torch (data/sources/torch-dependents.md): their pins constrain a plan
KNOWN_NEIGHBOURS = ("vllm", "xformers", "flash-attn", "torch-tensorrt", "torchao", "fbgemm-gpu",
                    "fbgemm-gpu-genai", "torch-scatter", "torch-sparse", "pyg-lib", "bitsandbytes", "apex")
PROJECT_FILE = "pyproject.toml"


@dataclass(frozen=True)
class ProjectFile:
    path: Path
    text: str
    tool: str  # uv | poetry


def find_project(start: Path) -> Path | None:
    """The pyproject.toml in `start` or the nearest folder above it (as uv and Poetry look)."""
    for folder in (start, *start.parents):
        candidate = folder / PROJECT_FILE
        if candidate.is_file():
            return candidate
    return None


def open_project(where: str | None) -> ProjectFile:
    """--project PATH (a folder or the file itself), else the current folder and those above it."""
    if where is not None:
        path = Path(where)
        path = path / PROJECT_FILE if path.is_dir() else path
        if not path.is_file():
            raise UsageError(f"--project {where}: no {PROJECT_FILE} there",
                             "Name the project's folder or its pyproject.toml.")
    else:
        found = find_project(Path.cwd())
        if found is None:
            raise UsageError(f"no {PROJECT_FILE} in {Path.cwd()} or any folder above it",
                             "Run it inside the project, or pass --project PATH.")
        path = found
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise UsageError(f"{path}: cannot read: {exc}") from exc
    doc = parse(path, text)
    return ProjectFile(path, text, tool_of(doc))


def parse(path: Path, text: str) -> TOMLDocument:
    import tomlkit
    from tomlkit.exceptions import ParseError

    try:
        return tomlkit.parse(text)
    except ParseError as exc:
        raise UsageError(f"{path}: not valid TOML: {exc}", "Fix the file; torchsetup changes nothing in it.") \
            from exc


def load_plain(text: str) -> dict[str, Any]:
    """TOML as plain dicts and lists (ValueError when it is not TOML)."""
    try:
        import tomllib
    except ImportError:  # Python 3.10
        import tomlkit

        return tomlkit.parse(text).unwrap()
    return tomllib.loads(text)


def tool_of(doc: Mapping[str, Any]) -> str:
    """Poetry when the file has [tool.poetry] and no [tool.uv]; uv otherwise."""
    tool = doc.get("tool", {})
    return "poetry" if "poetry" in tool and "uv" not in tool else "uv"


def requirement_name(text: str) -> str | None:
    """The canonical name a requirement string names (None: not a requirement)."""
    match = re.match(r"\s*([A-Za-z0-9][A-Za-z0-9._-]*)", text)
    return re.sub(r"[-_.]+", "-", match[1]).lower() if match else None


def family_requirements(values: object) -> list[str]:
    """The torch family's requirement strings in a dependency list."""
    if not isinstance(values, list):
        return []
    return [str(v) for v in values if isinstance(v, str) and requirement_name(v) in FAMILY]


def torch_specifier(doc: Mapping[str, Any]) -> str | None:
    """The specifier of the project's own torch requirement (`torch>=2.6,<2.9` -> `>=2.6,<2.9`),
    the constraint a plan keeps unless --torch is given; None when the project names torch without one."""
    from packaging.requirements import InvalidRequirement, Requirement

    project = doc.get("project", {})
    lists = [project.get("dependencies", [])] + list(project.get("optional-dependencies", {}).values())
    lists += list(doc.get("dependency-groups", {}).values())
    for values in lists:
        for text in family_requirements(values):
            try:
                requirement = Requirement(text)
            except InvalidRequirement:
                continue
            if requirement.name == "torch" and str(requirement.specifier):
                return str(requirement.specifier)
    poetry = doc.get("tool", {}).get("poetry", {}).get("dependencies", {})
    pinned = poetry.get("torch") if hasattr(poetry, "get") else None
    entries = pinned if isinstance(pinned, list) else [pinned]
    for entry in entries:
        version = entry.get("version") if isinstance(entry, dict) else entry
        if isinstance(version, str) and version.strip() not in ("", "*"):
            return _poetry_to_pep440(version)
    return None


def _poetry_to_pep440(version: str) -> str | None:
    """Poetry's constraint as PEP 440: `^2.4` -> `>=2.4,<3.0`, `~2.4` -> `>=2.4,<2.5`, `2.4.1` -> `==2.4.1`;
    None for a form this does not read (the plan is then not constrained by it)."""
    text = version.strip()
    match = re.fullmatch(r"([\^~])\s*(\d+(?:\.\d+)*)", text)
    if match:
        parts = [int(p) for p in match[2].split(".")]
        if match[1] == "^":
            first = next((i for i, p in enumerate(parts) if p), len(parts) - 1)
            upper = parts[:first] + [parts[first] + 1]
        else:
            upper = parts[:1] + [parts[1] + 1] if len(parts) > 1 else [parts[0] + 1]
        return f">={match[2]},<{'.'.join(map(str, upper))}"
    if re.fullmatch(r"\d+(?:\.\d+)*", text):
        return f"=={text}"
    if re.fullmatch(r"(?:[<>=!~]=?\s*\d+(?:\.\d+)*(?:\.\*)?\s*,?\s*)+", text):
        return text
    return None


def listed_requirements(doc: Mapping[str, Any]) -> list[str]:
    """The requirements of [project] dependencies and optional-dependencies, as written."""
    project = doc.get("project", {})
    values = list(project.get("dependencies", []))
    for extra in project.get("optional-dependencies", {}).values():
        values += list(extra)
    return [str(v) for v in values if isinstance(v, str)]


def listed_pyg(doc: Mapping[str, Any], asked: tuple[str, ...]) -> tuple[str, ...]:
    """PyG's packages the project lists and --with does not name: their page (a flat uv index, or a Poetry
    single-page source) must follow the planned torch, so they are planned as --with would plan them."""
    from packaging.requirements import InvalidRequirement, Requirement

    from torchsetup.extensions import PACKAGES

    named = {requirement_name(text) for text in asked}
    out = []
    poetry = doc.get("tool", {}).get("poetry", {}).get("dependencies", {})
    for text in [*listed_requirements(doc), *map(str, poetry)]:
        try:
            requirement = Requirement(text)
        except InvalidRequirement:
            continue
        name = requirement_name(text)
        package = PACKAGES.get(name or "")
        if package is not None and package.source == "find-links" and name not in named:
            out.append(f"{name}{requirement.specifier}")
            named.add(name)
    return tuple(out)


def unchecked_neighbours(doc: Mapping[str, Any], machines: list[Machine]) -> list[str]:
    """The project's dependencies known to require one torch whose requirement nobody read: installed in
    none of the environments probed (their `dependents`)."""
    names = {requirement_name(v) for v in listed_requirements(doc)}
    names |= {requirement_name(str(k)) for k in doc.get("tool", {}).get("poetry", {}).get("dependencies", {})}
    seen = {requirement_name(d.name) for m in machines for d in m.dependents or ()}
    return sorted(n for n in names if n in KNOWN_NEIGHBOURS and n not in seen)


def write_atomically(path: Path, text: str, backup: bool) -> None:
    """The new text replaces the file in one rename; with `backup` the old file stays as NAME.bak."""
    if backup:
        backup_path = path.with_name(path.name + ".bak")
        backup_path.write_bytes(path.read_bytes())
    handle, temp = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent)
    try:
        with os.fdopen(handle, "w", encoding="utf-8", newline="") as out:
            out.write(text)
            out.flush()
            os.fsync(out.fileno())
        os.chmod(temp, path.stat().st_mode & 0o7777)
        os.replace(temp, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(temp)
        raise
