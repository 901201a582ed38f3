"""Assemble data/compat_matrix.json from parsed sources and the knowledge tables. Pure."""

from __future__ import annotations

import hashlib
from collections import defaultdict
from dataclasses import dataclass, field
from typing import Any

from packaging.specifiers import SpecifierSet
from packaging.version import Version

from torchsetup.matrix import enrich, knowledge
from torchsetup.matrix.scrape import PageRelease, parse_previous_versions
from torchsetup.matrix.store import MATRIX_SCHEMA

AUDIO_211_SOURCE = "audio-installation.2.11.rst"


@dataclass(frozen=True)
class SourceInput:
    id: str
    name: str
    address: str
    file: str
    retrieved: str | None
    text: str

    def record(self) -> dict[str, Any]:
        return {"id": self.id, "name": self.name, "address": self.address, "file": self.file,
                "retrieved": self.retrieved,
                "sha256": hashlib.sha256(self.text.encode("utf-8")).hexdigest()}


@dataclass
class Inputs:
    """Everything the matrix is built from, already read (and, for JSON, decoded)."""

    pages: list[tuple[SourceInput, list[PageRelease]]] = field(default_factory=list)
    published: tuple[SourceInput, dict[str, Any]] | None = None
    build_matrix: tuple[SourceInput, dict[str, Any]] | None = None
    pypi_simple: dict[str, tuple[SourceInput, dict[str, Any]]] = field(default_factory=dict)
    companion_metadata: tuple[SourceInput, dict[str, Any]] | None = None
    pypi_info: dict[str, tuple[SourceInput, dict[str, Any]]] = field(default_factory=dict)
    extra_sources: list[SourceInput] = field(default_factory=list)

    def sources(self) -> list[SourceInput]:
        out = [s for s, _ in self.pages]
        out += [x[0] for x in (self.published, self.build_matrix, self.companion_metadata) if x]
        out += [s for s, _ in self.pypi_simple.values()] + [s for s, _ in self.pypi_info.values()]
        return out + self.extra_sources


def page_inputs(source: SourceInput) -> tuple[SourceInput, list[PageRelease]]:
    return source, parse_previous_versions(source.text)


# ------------------------------------------------------------------ pieces


def _variant_record(v: Any, source_id: str) -> dict[str, Any]:
    index = v.url if v.form in ("index-url", "extra-index-url", "find-links", "download") else None
    platforms = list(v.platforms)
    if v.form == "pypi" and v.name.startswith("cu"):
        # The page lists a plain `pip install torch` under "Linux and Windows" for the CUDA build
        # on PyPI; PyPI's Windows wheels are the CPU build (published_versions.json: Windows'
        # index-less command is `accnone` in every entry), so that line is true on Linux only.
        platforms = [p for p in platforms if p != "windows"]
    return {
        "name": v.name, "platforms": platforms, "index_url": index,
        "install": {"form": v.form, "line": v.line},
        "torch_pin": v.torch, "torchvision_pin": v.torchvision, "torchaudio_pin": v.torchaudio,
        "source": source_id,
    }


def _wheels_by_release(simple: dict[str, Any]) -> dict[str, dict[str, dict[str, Any]]]:
    """{torch version: {platform: {"python": [...], "glibc": "2.17" | None}}} from PEP 691 JSON."""
    acc: dict[str, dict[str, dict[str, Any]]] = defaultdict(dict)
    for wheel in enrich.parse_simple_json(simple):
        for plat_tag in wheel.platform_tags:
            key = enrich.platform_key(plat_tag)
            if key is None:
                continue
            slot = acc[wheel.base_version].setdefault(key, {"python": set(), "glibc": None})
            slot["python"].update(wheel.python_tags)
            glibc = enrich.glibc_of(plat_tag)
            if glibc and (slot["glibc"] is None or glibc < slot["glibc"]):
                slot["glibc"] = glibc
    out: dict[str, dict[str, dict[str, Any]]] = {}
    for version, plats in acc.items():
        out[version] = {
            key: {"python": sorted(s["python"], key=_py_key),
                  "glibc": f"{s['glibc'][0]}.{s['glibc'][1]}" if s["glibc"] else None}
            for key, s in sorted(plats.items())
        }
    return out


def _py_key(tag: str) -> tuple[tuple[int, ...], str]:
    return tuple(int(x) for x in tag.rstrip("t").split(".")), tag


def _companion_pins(inputs: Inputs, package: str) -> list[tuple[str, str, str]]:
    """[(companion version, torch specifier, source id)] from PEP 658 metadata and the JSON API."""
    out = []
    if inputs.companion_metadata:
        source, data = inputs.companion_metadata
        for version, entry in (data.get(package) or {}).items():
            spec = enrich.torch_requirement(
                "\n".join(f"Requires-Dist: {r}" for r in entry.get("requires_dist", [])))
            if spec:
                out.append((version, spec, source.id))
    if package in inputs.pypi_info:
        source, data = inputs.pypi_info[package]
        info = data.get("info") or {}
        spec = enrich.torch_requirement(
            "\n".join(f"Requires-Dist: {r}" for r in info.get("requires_dist") or []))
        if spec and info.get("version"):
            out.append((info["version"], spec, source.id))
    return out


def companion_for(torch: str, pins: list[tuple[str, str, str]]) -> tuple[str, str] | None:
    """The companion built for `torch`: an exact `==` pin wins; a lower bound only (`>=X.Y.Z`)
    names the torch minor line it was built for and pairs within that line only."""
    tv = Version(torch)
    exact = [(c, s) for c, spec, s in pins if spec == f"=={torch}"]
    if exact:
        return max(exact, key=lambda cs: Version(cs[0]))
    line = []
    for companion, spec, source in pins:
        specs = list(SpecifierSet(spec))
        if len(specs) == 1 and specs[0].operator == ">=":
            low = Version(specs[0].version)
            if (low.major, low.minor) == (tv.major, tv.minor) and tv >= low:
                line.append((companion, f"{source} (torch{spec})"))
    return max(line, key=lambda cs: Version(cs[0])) if line else None


def _tables() -> dict[str, Any]:
    return {
        "driver_minimums": [
            {"variant_prefix": p, "linux": lin, "windows": win, "source": src}
            for p, lin, win, src in knowledge.DRIVER_MINIMUMS],
        "toolkit_drivers": [
            {"cuda": c, "linux": lin, "windows": win, "source": knowledge.TOOLKIT_DRIVERS_SOURCE}
            for c, lin, win in knowledge.TOOLKIT_DRIVERS],
        "arch_lists": [
            {"torch": list(torches), "variant": variant, "platform": platform,
             "sass": [a.replace("+PTX", "") for a in arches.split(";")],
             "ptx": [a.replace("+PTX", "") for a in arches.split(";") if a.endswith("+PTX")],
             "confidence": confidence, "source": source}
            for torches, variant, platform, arches, confidence, source in knowledge.ARCH_LISTS],
    }


# ------------------------------------------------------------------ assembly


def build_matrix(inputs: Inputs, generated_at: str) -> dict[str, Any]:
    releases: dict[str, dict[str, Any]] = {}
    for source, parsed in inputs.pages:  # earlier pages win (upstream before the mirror)
        for page_release in parsed:
            if page_release.version in releases:
                continue
            releases[page_release.version] = {
                "torch": page_release.version, "title": page_release.title, "source": source.id,
                "torchvision": page_release.torchvision, "torchaudio": page_release.torchaudio,
                "companions_source": source.id,
                "variants": [_variant_record(v, source.id) for v in page_release.variants],
                "unknown": [],
            }

    vision_pins = _companion_pins(inputs, "torchvision")
    audio_pins = _companion_pins(inputs, "torchaudio")
    if inputs.published:
        source, data = inputs.published
        for version, entry in (data.get("versions") or {}).items():
            if not _is_release(version) or version in releases:
                continue
            vision = companion_for(version, vision_pins)
            audio = companion_for(version, audio_pins)
            variants: list[dict[str, Any]] = []
            for os_key, platform in (("linux", "linux"), ("windows", "windows")):
                for name, index, command in enrich.selector_variants(entry, os_key):
                    same = next((v for v in variants if (v["name"], v["index_url"]) == (name, index)), None)
                    if same is not None:
                        same["platforms"].append(platform)
                        continue
                    pins = enrich.command_pins(command)  # old entries pin +cuXYZ themselves
                    variants.append({
                        "name": name, "platforms": [platform], "index_url": index,
                        "install": {"form": _form_of(command), "line": command},
                        "torch_pin": pins.get("torch", version),
                        "torchvision_pin": pins.get("torchvision") or (vision[0] if vision else None),
                        "torchaudio_pin": pins.get("torchaudio") or (audio[0] if audio else None),
                        "source": source.id})
            variants.append({"name": "cpu", "platforms": ["macos"], "index_url": None,
                             "install": {"form": "pypi", "line": "pip3 install torch torchvision"},
                             "torch_pin": version,
                             "torchvision_pin": vision[0] if vision else None,
                             "torchaudio_pin": None, "source": source.id})
            if vision is None:  # the selector's own pins name the companions of old entries
                vision = _pinned_companion(variants, "torchvision_pin", source.id)
            if audio is None:
                audio = _pinned_companion(variants, "torchaudio_pin", source.id)
            releases[version] = {
                "torch": version, "title": f"v{version}", "source": source.id,
                "torchvision": vision[0] if vision else None,
                "torchaudio": audio[0] if audio else None,
                "companions_source": vision[1] if vision else None,
                "variants": variants, "unknown": [] if vision else ["torchvision"],
            }

    wheels: dict[str, dict[str, dict[str, Any]]] = {}
    torch_simple = inputs.pypi_simple.get("torch")
    if torch_simple:
        source, data = torch_simple
        wheels = _wheels_by_release(data)
        for version in enrich.versions_of(data):
            if not _is_release(version) or version in releases or Version(version) < Version("1.0"):
                continue
            releases[version] = _index_only_release(version, source.id, vision_pins, audio_pins,
                                                    wheels.get(version, {}))

    stable_pythons: tuple[str, list[str]] | None = None
    if inputs.build_matrix:
        stable_pythons = enrich.release_pythons(inputs.build_matrix[1])

    out = []
    for version in sorted(releases, key=Version, reverse=True):
        record = releases[version]
        tv = Version(version)
        if record["torchaudio"] is None and tv >= Version("2.12"):
            record["torchaudio_note"] = (
                "no torchaudio release for this torch; TorchAudio 2.11 states it works with "
                f"PyTorch 2.11 and every later release ({AUDIO_211_SOURCE})")
            record["torchaudio_compatible"] = "2.11.0"
        record["wheels"] = wheels.get(version, {})
        record["wheels_source"] = torch_simple[0].id if torch_simple and record["wheels"] else None
        if not record["wheels"]:
            record["unknown"].append("python-versions")
        if stable_pythons and stable_pythons[0] == version:
            record["build_matrix_python"] = stable_pythons[1]
            record["build_matrix_source"] = inputs.build_matrix[0].id if inputs.build_matrix else None
        out.append(record)
    return {
        "schema": MATRIX_SCHEMA,
        "generated_at": generated_at,
        "sources": [s.record() for s in inputs.sources()]
        + [{"id": "knowledge", "name": "torchsetup knowledge tables",
            "address": "torchsetup/matrix/knowledge.py (rows transcribed from reference/)",
            "file": None, "retrieved": None, "sha256": None}],
        "tables": _tables(),
        "releases": out,
    }


def _pinned_companion(variants: list[dict[str, Any]], key: str, source_id: str) -> tuple[str, str] | None:
    pins = {v[key].split("+")[0] for v in variants if v.get(key)}
    return (pins.pop(), source_id) if len(pins) == 1 else None


def _form_of(command: str) -> str:
    for flag, form in (("--index-url", "index-url"), ("--extra-index-url", "extra-index-url"),
                       (" -f ", "find-links")):
        if flag in command:
            return form
    return "pypi"


def _is_release(version: str) -> bool:
    try:
        v = Version(version)
    except ValueError:
        return False
    return not v.is_prerelease and not v.is_devrelease and v.local is None


def _index_only_release(version: str, source_id: str, vision_pins: list[tuple[str, str, str]],
                        audio_pins: list[tuple[str, str, str]],
                        wheels: dict[str, dict[str, Any]]) -> dict[str, Any]:
    """A release the package index lists but no install page covers: what can be established."""
    minor = ".".join(version.split(".")[:2])
    vision = companion_for(version, vision_pins)
    audio = companion_for(version, audio_pins)
    variants = []
    unknown = [] if vision else ["torchvision"]
    shipped = knowledge.SHIPPED_CUDA.get(minor)
    if shipped:
        default = knowledge.PYPI_DEFAULT_CUDA.get(minor)
        for name in (*shipped, "cpu"):
            index = f"{knowledge.PYTORCH_INDEX_BASE}/{name}"
            variants.append({
                "name": name, "platforms": ["linux", "windows"], "index_url": index,
                "install": {"form": "index-url",
                            "line": f"pip install torch=={version} --index-url {index}"},
                "torch_pin": version, "torchvision_pin": vision[0] if vision else None,
                "torchaudio_pin": audio[0] if audio else None,
                "source": knowledge.SHIPPED_CUDA_SOURCE,
                "pypi_default": name == default})
    else:
        unknown.append("variants")
    if any(key.startswith("macos") for key in wheels):  # PyPI itself is the macOS build
        variants.append({"name": "cpu", "platforms": ["macos"], "index_url": None,
                         "install": {"form": "pypi", "line": f"pip install torch=={version}"},
                         "torch_pin": version, "torchvision_pin": vision[0] if vision else None,
                         "torchaudio_pin": None, "source": source_id})
    return {"torch": version, "title": f"v{version}", "source": source_id,
            "torchvision": vision[0] if vision else None,
            "torchaudio": audio[0] if audio else None,
            "companions_source": vision[1] if vision else None,
            "variants": variants, "unknown": unknown}
