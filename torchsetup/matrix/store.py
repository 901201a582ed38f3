"""Load and validate data/compat_matrix.json into frozen records; write it atomically."""

from __future__ import annotations

import json
import os
import re
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path
from typing import Any

from torchsetup.errors import EnvironmentUnusable
from torchsetup.kinds import Backend, BackendKind, VariantForm
from torchsetup.schemas import MATRIX as MATRIX_SCHEMA

DriverVersion = tuple[int, ...]  # 525.60.13 -> (525, 60, 13)


def parse_driver(text: str | None) -> DriverVersion | None:
    """A driver version's numbers ("525.60.13" -> (525, 60, 13)); None when it has none."""
    parts = re.findall(r"\d+", text or "")
    return tuple(int(p) for p in parts) if parts else None


@dataclass(frozen=True)
class Variant:
    """One build variant of a release: its index, platforms and the install form of its source."""

    name: str  # cu124 | cpu | rocm6.2
    platforms: tuple[str, ...]  # families (linux | windows | macos) or platforms (linux-x86_64, ...)
    index_url: str | None  # None: the default package index (PyPI)
    form: VariantForm
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
    def backend(self) -> Backend:
        return Backend.of(self.name)

    @property
    def cuda(self) -> tuple[int, int] | None:
        """cu124 -> (12, 4); cu92 -> (9, 2); None for cpu/rocm."""
        backend = self.backend
        if backend.kind != BackendKind.CUDA or len(backend.version) != 2:
            return None
        return backend.version[0], backend.version[1]


@dataclass(frozen=True)
class WheelSupport:
    """Which Pythons and manylinux level a release's wheels have on one platform."""

    python: tuple[str, ...]  # "3.11", "3.13t"
    glibc: tuple[int, int] | None


@dataclass(frozen=True)
class Release:
    """One torch release of the matrix: companions, variants, wheels, PyPI's builds, what is unknown."""

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


UNCERTAIN = ("low", "script only")  # source confidences a judgement cannot rest on silently


def uncertain(confidence: str) -> bool:
    return confidence.startswith(UNCERTAIN)


@dataclass(frozen=True)
class ArchList:
    """The GPU code a build carries: SASS and PTX capabilities, with source and confidence."""

    torch: tuple[str, ...]
    variant: str
    platform: str
    sass: tuple[tuple[int, int], ...]
    ptx: tuple[tuple[int, int], ...]
    confidence: str
    source: str
    names: tuple[str, ...] = ()  # the exact get_arch_list() words when read from a library (sm_90a, compute_120f)


@dataclass(frozen=True)
class GfxList:
    """The AMD gfx targets a ROCm build carries (PYTORCH_ROCM_ARCH), with source and confidence."""

    torch: tuple[str, ...]  # torch minors
    variant: str  # rocm6.3
    gfx: tuple[str, ...]
    confidence: str
    source: str

    def describe(self) -> str:
        return f"{self.gfx[0]} … {self.gfx[-1]}" if len(self.gfx) > 2 else ", ".join(self.gfx)


@dataclass(frozen=True)
class ExtensionRelease:
    """One release of a package that depends on torch: its requirements on the family, as its index says."""

    name: str
    version: str
    requires: tuple[str, ...]  # "torch==2.14.0", "torch<3,>=2.4"
    requires_python: str | None
    files: tuple[str, ...]  # wheel tags ("cp38-abi3-manylinux_2_28_x86_64.whl") and "sdist"
    source: str


@dataclass(frozen=True)
class DriverMinimum:
    """The oldest driver that runs the cuXYZ wheels whose name starts with `prefix`."""

    prefix: str  # cu13, cu12, cu110, ...
    linux: str
    windows: str
    source: str
    linux_version: DriverVersion
    windows_version: DriverVersion

    def for_system(self, system: str) -> tuple[str, DriverVersion]:
        return (self.windows, self.windows_version) if system == "Windows" else (self.linux, self.linux_version)


@dataclass(frozen=True)
class ToolkitDriver:
    """The driver shipped with a CUDA toolkit: a driver at least this new fully supports `cuda`."""

    cuda: tuple[int, int]
    linux: DriverVersion | None
    windows: DriverVersion | None


@dataclass(frozen=True)
class Matrix:
    """The loaded and validated compat matrix."""

    path: str
    generated_at: str
    releases: tuple[Release, ...]  # newest first
    driver_minimums: tuple[DriverMinimum, ...]
    toolkit_drivers: tuple[ToolkitDriver, ...]  # newest first
    arch_lists: tuple[ArchList, ...]
    sources: tuple[dict[str, Any], ...]
    gfx_lists: tuple[GfxList, ...] = ()
    extensions: tuple[ExtensionRelease, ...] = ()

    def gfx_list(self, torch: str, variant: str) -> GfxList | None:
        minor = ".".join(torch.split(".")[:2])
        return next((g for g in self.gfx_lists if minor in g.torch and g.variant == variant), None)

    @cached_property
    def by_version(self) -> dict[str, Release]:
        return {r.torch: r for r in self.releases}


def _driver_minimum(row: dict[str, str]) -> DriverMinimum:
    linux, windows = parse_driver(row["linux"]), parse_driver(row["windows"])
    if linux is None or windows is None:
        raise ValueError(f"driver minimum of {row['variant_prefix']}: not a driver version")
    return DriverMinimum(row["variant_prefix"], row["linux"], row["windows"], row["source"], linux, windows)


def _cap(text: str) -> tuple[int, int]:
    major, minor = text.split(".")
    return int(major), int(minor)


def shipped_matrix_path() -> Path:
    """The installed wheel's copy, else the checkout's data/compat_matrix.json."""
    here = Path(__file__).resolve().parent.parent
    packaged = here / "data" / "compat_matrix.json"
    return packaged if packaged.is_file() else here.parent / "data" / "compat_matrix.json"


def user_matrix_path() -> Path:
    """Where `matrix update` writes without --output: the user's copy, never the package's own file
    ($TORCHSETUP_HOME, else $XDG_DATA_HOME/torchsetup, else ~/.local/share/torchsetup)."""
    home = os.environ.get("TORCHSETUP_HOME")
    if home:
        if os.path.exists(home) and not os.path.isdir(home):
            from torchsetup.errors import UsageError

            raise UsageError(f"TORCHSETUP_HOME={home} is a file, not a folder",
                             "Point TORCHSETUP_HOME at a folder, or unset it.")
        return Path(home) / "compat_matrix.json"
    data = os.environ.get("XDG_DATA_HOME") or str(Path.home() / ".local" / "share")
    return Path(data) / "torchsetup" / "compat_matrix.json"


def default_matrix_path() -> Path:
    """The user's copy when `matrix update` wrote one after this torchsetup was installed, else
    the shipped file (a copy older than the shipped file is stale: an upgrade brought newer data)."""
    shipped, user = shipped_matrix_path(), user_matrix_path()
    try:
        if user.is_file() and user.stat().st_mtime >= shipped.stat().st_mtime:
            return user
    except OSError:
        pass
    return shipped


MAX_MATRIX = 64 * 1024 * 1024


def load_matrix(path: str | Path | None = None) -> Matrix:
    from torchsetup.jsonfile import read_json_file

    file = Path(path) if path else default_matrix_path()
    hint = "Regenerate it with `torchsetup matrix update`, or pass a good file with --matrix."
    return parse_matrix(read_json_file(file, "matrix", MAX_MATRIX, hint, EnvironmentUnusable), str(file))


def parse_matrix(data: Any, where: str) -> Matrix:
    hint = "Regenerate it with `torchsetup matrix update`, or pass a good file with --matrix."
    if not isinstance(data, dict):
        raise EnvironmentUnusable(f"{where}: not a matrix (expected a JSON object)", hint)
    if data.get("schema") != MATRIX_SCHEMA:
        raise EnvironmentUnusable(
            f"{where}: unknown matrix schema {data.get('schema')!r} (this torchsetup reads "
            f"{MATRIX_SCHEMA!r})", hint)
    try:
        if not isinstance(data["releases"], list):
            raise TypeError("releases: expected a list")
        releases = tuple(_release(r) for r in data["releases"])
        tables = data["tables"]
        arch = tuple(
            ArchList(tuple(a["torch"]), a["variant"], a["platform"],
                     tuple(_cap(x) for x in a["sass"]), tuple(_cap(x) for x in a["ptx"]),
                     a["confidence"], a["source"]) for a in tables["arch_lists"])
        minimums = tuple(_driver_minimum(m) for m in tables["driver_minimums"])
        toolkit = tuple(ToolkitDriver(_cap(t["cuda"]), parse_driver(t["linux"]), parse_driver(t["windows"]))
                        for t in tables["toolkit_drivers"])
        gfx = tuple(GfxList(tuple(g["torch"]), g["variant"], tuple(g["gfx"]), g["confidence"], g["source"])
                    for g in tables.get("rocm_gfx", ()))
        extensions = tuple(ExtensionRelease(e["name"], e["version"], tuple(e["requires"]),
                                            e.get("requires_python"), tuple(e["files"]), e["source"])
                           for e in tables.get("extensions", ()))
        sources = tuple(data["sources"])
        generated = str(data["generated_at"])
    except (KeyError, TypeError, ValueError, AttributeError) as exc:
        raise EnvironmentUnusable(f"{where}: malformed matrix ({type(exc).__name__}: {exc})",
                                  hint) from exc
    if not releases:
        raise EnvironmentUnusable(f"{where}: the matrix lists no release", hint)
    problem = check_releases(releases)
    if problem:
        raise EnvironmentUnusable(f"{where}: {problem}", hint)
    return Matrix(where, generated, releases, minimums, toolkit, arch, sources, gfx, extensions)


_NAME = re.compile(r"(cpu|cu[0-9]{2,4}|rocm[0-9.]+|xpu)")
_RELEASE = re.compile(r"[0-9]+(\.[0-9]+){1,3}")  # a final release, as the matrix holds them
_PIN = re.compile(r"[0-9][0-9A-Za-z.!]*(\+[0-9A-Za-z.]+)?")
_PLATFORMS = {"linux", "windows", "macos", "linux-x86_64", "linux-aarch64", "windows-x86_64", "macos-arm64",
              "macos-x86_64"}


def check_releases(releases: tuple[Release, ...]) -> str | None:
    """What is wrong with the releases (field named), or None: PEP 440 versions newest first
    without duplicates, variant names and pins of the expected shapes, https index URLs."""
    from torchsetup.errors import UsageError
    from torchsetup.urlgate import check_url

    previous: tuple[int, ...] | None = None
    good: set[str] = set()  # pins and addresses already found good (most recur in every release)
    for i, release in enumerate(releases):
        where = f"releases[{i}]"
        if not isinstance(release.torch, str) or not _RELEASE.fullmatch(release.torch):
            return f"{where}.torch: not a version: {str(release.torch)[:40]!r}"
        version = tuple(int(x) for x in release.torch.split("."))
        if previous is not None and version >= previous:
            return f"{where}.torch: {release.torch} is {'a duplicate' if version == previous else 'out of order'}"
        previous = version
        for j, v in enumerate(release.variants):
            at = f"{where}.variants[{j}]"
            if not isinstance(v.name, str) or not _NAME.fullmatch(v.name):
                return f"{at}.name: not a variant name: {str(v.name)[:40]!r}"
            if not v.platforms or not set(v.platforms) <= _PLATFORMS:
                return f"{at}.platforms: expected some of {', '.join(sorted(_PLATFORMS))}"
            for key in ("torch_pin", "torchvision_pin", "torchaudio_pin"):
                pin = getattr(v, key)
                if pin is not None and not (isinstance(pin, str) and pin in good):
                    if not isinstance(pin, str) or not _PIN.fullmatch(pin):
                        return f"{at}.{key}: not a version: {str(pin)[:40]!r}"
                    good.add(pin)
            if v.index_url is not None and not (isinstance(v.index_url, str) and v.index_url in good):
                try:
                    good.add(check_url(v.index_url if isinstance(v.index_url, str) else "", f"{at}.index_url"))
                except UsageError as exc:
                    return exc.message
        for key in ("torchvision", "torchaudio"):
            pin = getattr(release, key)
            if pin is not None and (not isinstance(pin, str) or not _PIN.fullmatch(pin)):
                return f"{where}.{key}: not a version: {str(pin)[:40]!r}"
    return None


def _strs(value: Any, what: str) -> tuple[str, ...]:
    if not isinstance(value, list) or not all(isinstance(x, str) for x in value):
        raise TypeError(f"{what}: expected a list of strings, got {type(value).__name__}")
    return tuple(value)


def _release(r: dict[str, Any]) -> Release:
    where = f"release {str(r.get('torch'))[:20]}"
    variants = tuple(
        Variant(v["name"], _strs(v["platforms"], f"{where}: platforms"), v["index_url"],
                VariantForm(v["install"]["form"]),
                v["install"]["line"], v["torch_pin"], v["torchvision_pin"], v["torchaudio_pin"],
                v["source"], bool(v.get("pypi_default")) or v["install"]["form"] == "pypi",
                v.get("confidence"))
        for v in r["variants"])
    wheels = {k: WheelSupport(_strs(w["python"], f"{where}: wheels.{k}.python"),
                              _cap(w["glibc"]) if w["glibc"] else None)
              for k, w in r["wheels"].items()}
    pure = tuple(name for name in ("torchvision", "torchaudio") if r.get(f"{name}_pure"))
    builds = {platform: b["build"] for platform, b in (r.get("pypi_builds") or {}).items()}
    return Release(r["torch"], r["torchvision"], r["torchaudio"], r.get("torchaudio_note"),
                   variants, wheels, _strs(r["unknown"], f"{where}: unknown"), r["source"], pure, builds)


def write_atomically(path: Path, document: dict[str, Any]) -> None:
    """Write beside the target, then rename: the old file is intact after any failure."""
    write_text_atomically(path, json.dumps(document, indent=1, sort_keys=False) + "\n")


def write_text_atomically(path: Path, text: str) -> None:
    import tempfile

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
