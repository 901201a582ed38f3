"""Load and validate data/compat_matrix.json into frozen records; write it atomically."""

from __future__ import annotations

import json
import os
import tempfile
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path
from typing import Any

from torchsetup.errors import EnvironmentUnusable

MATRIX_SCHEMA = "torchsetup.matrix/1"


@dataclass(frozen=True)
class Variant:
    name: str  # cu124 | cpu | rocm6.2
    platforms: tuple[str, ...]  # families (linux | windows | macos) or platforms (linux-x86_64, ...)
    index_url: str | None  # None: the default package index (PyPI)
    form: str  # index-url | extra-index-url | find-links | pypi | download
    line: str  # the install line the source gives
    torch_pin: str
    torchvision_pin: str | None
    torchaudio_pin: str | None
    source: str
    pypi_default: bool = False  # this build is what plain `pip install torch` gives
    confidence: str | None = None  # the source's own confidence, where it gives one

    def runs_on(self, platform: str) -> bool:
        """Whether this variant has wheels for `platform` (linux-x86_64, windows-x86_64, ...)."""
        return platform in self.platforms or platform.split("-")[0] in self.platforms

    @property
    def cuda(self) -> tuple[int, int] | None:
        """cu124 -> (12, 4); cu92 -> (9, 2); None for cpu/rocm."""
        if not self.name.startswith("cu") or not self.name[2:].isdigit():
            return None
        digits = self.name[2:]
        return int(digits[:-1]), int(digits[-1])


@dataclass(frozen=True)
class WheelSupport:
    python: tuple[str, ...]  # "3.11", "3.13t"
    glibc: tuple[int, int] | None


@dataclass(frozen=True)
class Release:
    torch: str
    torchvision: str | None
    torchaudio: str | None
    torchaudio_note: str | None
    variants: tuple[Variant, ...]
    wheels: dict[str, WheelSupport]  # "linux-x86_64" -> support
    unknown: tuple[str, ...]
    source: str
    pure_companions: tuple[str, ...] = ()  # companions whose wheels are py3-none (no +cuXYZ build)
    pypi_builds: dict[str, str] | None = None  # platform -> the build plain `pip install torch` gets

    def pypi_build(self, platform: str) -> str | None:
        return (self.pypi_builds or {}).get(platform)


@dataclass(frozen=True)
class ArchList:
    torch: tuple[str, ...]
    variant: str
    platform: str
    sass: tuple[tuple[int, int], ...]
    ptx: tuple[tuple[int, int], ...]
    confidence: str
    source: str


@dataclass(frozen=True)
class Matrix:
    path: str
    generated_at: str
    releases: tuple[Release, ...]  # newest first
    driver_minimums: tuple[tuple[str, str, str, str], ...]  # (prefix, linux, windows, source)
    toolkit_drivers: tuple[tuple[str, str, str | None], ...]
    arch_lists: tuple[ArchList, ...]
    sources: tuple[dict[str, Any], ...]

    @cached_property
    def by_version(self) -> dict[str, Release]:
        return {r.torch: r for r in self.releases}


def _cap(text: str) -> tuple[int, int]:
    major, minor = text.split(".")
    return int(major), int(minor)


def default_matrix_path() -> Path:
    """The installed wheel's copy, else the checkout's data/compat_matrix.json."""
    here = Path(__file__).resolve().parent.parent
    packaged = here / "data" / "compat_matrix.json"
    return packaged if packaged.is_file() else here.parent / "data" / "compat_matrix.json"


def load_matrix(path: str | Path | None = None) -> Matrix:
    file = Path(path) if path else default_matrix_path()
    hint = ("Regenerate it with `torchsetup matrix update`, or pass a good file with --matrix.")
    try:
        text = file.read_text(encoding="utf-8")
    except OSError as exc:
        raise EnvironmentUnusable(f"{file}: cannot read the matrix: {exc.strerror}", hint) from exc
    try:
        data = json.loads(text)
    except ValueError as exc:
        raise EnvironmentUnusable(f"{file}: truncated or corrupt matrix ({exc})", hint) from exc
    return parse_matrix(data, str(file))


def parse_matrix(data: Any, where: str) -> Matrix:
    hint = "Regenerate it with `torchsetup matrix update`, or pass a good file with --matrix."
    if not isinstance(data, dict):
        raise EnvironmentUnusable(f"{where}: not a matrix (expected a JSON object)", hint)
    if data.get("schema") != MATRIX_SCHEMA:
        raise EnvironmentUnusable(
            f"{where}: unknown matrix schema {data.get('schema')!r} (this torchsetup reads "
            f"{MATRIX_SCHEMA!r})", hint)
    try:
        releases = tuple(_release(r) for r in data["releases"])
        tables = data["tables"]
        arch = tuple(
            ArchList(tuple(a["torch"]), a["variant"], a["platform"],
                     tuple(_cap(x) for x in a["sass"]), tuple(_cap(x) for x in a["ptx"]),
                     a["confidence"], a["source"]) for a in tables["arch_lists"])
        minimums = tuple((m["variant_prefix"], m["linux"], m["windows"], m["source"])
                         for m in tables["driver_minimums"])
        toolkit = tuple((t["cuda"], t["linux"], t["windows"]) for t in tables["toolkit_drivers"])
        sources = tuple(data["sources"])
        generated = str(data["generated_at"])
    except (KeyError, TypeError, ValueError, AttributeError) as exc:
        raise EnvironmentUnusable(f"{where}: malformed matrix ({type(exc).__name__}: {exc})",
                                  hint) from exc
    if not releases:
        raise EnvironmentUnusable(f"{where}: the matrix lists no release", hint)
    return Matrix(where, generated, releases, minimums, toolkit, arch, sources)


def _release(r: dict[str, Any]) -> Release:
    variants = tuple(
        Variant(v["name"], tuple(v["platforms"]), v["index_url"], v["install"]["form"],
                v["install"]["line"], v["torch_pin"], v["torchvision_pin"], v["torchaudio_pin"],
                v["source"], bool(v.get("pypi_default")) or v["install"]["form"] == "pypi",
                v.get("confidence"))
        for v in r["variants"])
    wheels = {k: WheelSupport(tuple(w["python"]), _cap(w["glibc"]) if w["glibc"] else None)
              for k, w in r["wheels"].items()}
    pure = tuple(name for name in ("torchvision", "torchaudio") if r.get(f"{name}_pure"))
    builds = {platform: b["build"] for platform, b in (r.get("pypi_builds") or {}).items()}
    return Release(r["torch"], r["torchvision"], r["torchaudio"], r.get("torchaudio_note"),
                   variants, wheels, tuple(r["unknown"]), r["source"], pure, builds)


def write_atomically(path: Path, document: dict[str, Any]) -> None:
    """Write beside the target, then rename: the old file is intact after any failure."""
    write_text_atomically(path, json.dumps(document, indent=1, sort_keys=False) + "\n")


def write_text_atomically(path: Path, text: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            handle.write(text)
            handle.flush()
            os.fsync(handle.fileno())
        os.chmod(tmp, 0o644)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
