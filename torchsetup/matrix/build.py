"""Assemble data/compat_matrix.json from parsed sources and the knowledge tables. Pure."""

from __future__ import annotations

from collections import defaultdict
from typing import Any

from packaging.version import Version

from torchsetup.indexes import PYTORCH_INDEX_BASE
from torchsetup.matrix import archlists, companions, enrich, knowledge, pypibuilds
from torchsetup.matrix.companions import CompanionEvidence, Pairing
from torchsetup.matrix.inputs import Inputs
from torchsetup.schemas import MATRIX as MATRIX_SCHEMA

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


def companion_evidence(inputs: Inputs) -> CompanionEvidence:
    uploads, upload_source, pure = {}, {}, {}
    for name, (source, data) in inputs.pypi_simple.items():
        uploads[name] = companions.first_uploads(data)
        upload_source[name] = source.id
        pure[name] = companions.pure_python_releases(data)
    audio = next((s for s in inputs.extra_sources if s.id == "audio-compat"), None)
    return CompanionEvidence(
        exact_pins={name: _companion_pins(inputs, name) for name in ("torchvision", "torchaudio")},
        uploads=uploads, upload_source=upload_source, pure=pure,
        audio_table=companions.audio_compat_pairs(audio.text) if audio else {},
        audio_table_source=audio.id if audio else None)


def _tables() -> dict[str, Any]:
    return {
        "driver_minimums": [
            {"variant_prefix": row.prefix, "linux": row.linux, "windows": row.windows, "source": row.source}
            for row in knowledge.DRIVER_MINIMUMS],
        "toolkit_drivers": [
            {"cuda": row.cuda, "linux": row.linux, "windows": row.windows,
             "source": knowledge.TOOLKIT_DRIVERS_SOURCE}
            for row in knowledge.TOOLKIT_DRIVERS],
        "arch_lists": [
            {"torch": list(row.torch), "variant": row.variant, "platform": row.platform,
             "sass": [a.replace("+PTX", "") for a in row.arch.split(";")],
             "ptx": [a.replace("+PTX", "") for a in row.arch.split(";") if a.endswith("+PTX")],
             "confidence": row.confidence, "source": row.source}
            for row in archlists.ARCH_LISTS],
        "rocm_gfx": [
            {"torch": list(row.torch), "variant": variant, "gfx": list(row.gfx), "confidence": row.confidence,
             "source": row.source}
            for row in knowledge.GFX_ROWS for variant in row.variants],
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
                "variants": [_variant_record(v, source.id) for v in page_release.variants],
                "unknown": [],
            }
            _page_pairings(releases[page_release.version], source.id)
    if inputs.published:
        source, data = inputs.published
        for version, entry in (data.get("versions") or {}).items():
            if _is_release(version) and version not in releases:
                releases[version] = _selector_release(version, entry, source.id)

    wheels: dict[str, dict[str, dict[str, Any]]] = {}
    torch_simple = inputs.pypi_simple.get("torch")
    if torch_simple:
        source, data = torch_simple
        wheels = _wheels_by_release(data)
        for version in enrich.versions_of(data):
            if _is_release(version) and version not in releases and Version(version) >= Version("1.0"):
                releases[version] = _index_only_release(version, source.id)

    stable_pythons: tuple[str, list[str]] | None = None
    if inputs.build_matrix:
        stable_pythons = enrich.release_pythons(inputs.build_matrix[1])

    evidence = companion_evidence(inputs)
    learned = pypibuilds.learned_builds(inputs)
    out = []
    for version in sorted(releases, key=Version, reverse=True):
        record = releases[version]
        evidence.settle(record)
        record["wheels"] = wheels.get(version, {})
        record["wheels_source"] = torch_simple[0].id if torch_simple and record["wheels"] else None
        pypibuilds.apply(record, learned.get(version), torch_simple[0].id if torch_simple else None)
        _xpu_variants(record)
        if not record["wheels"]:
            record["unknown"].append("python-versions")
        if not record["variants"]:
            record["unknown"].append("variants")
        if stable_pythons and stable_pythons[0] == version:
            record["build_matrix_python"] = stable_pythons[1]
            record["build_matrix_source"] = inputs.build_matrix[0].id if inputs.build_matrix else None
        out.append(record)
    return {
        "schema": MATRIX_SCHEMA,
        "generated_at": generated_at,
        "sources": [s.record() for s in inputs.sources()]
        + [{"id": "knowledge", "name": "torchsetup knowledge tables",
            "address": "torchsetup/matrix/knowledge.py, archlists.py (rows transcribed from data/sources/)",
            "file": None, "retrieved": None, "sha256": None}],
        "tables": {**_tables(), "extensions": _extensions(inputs)},
        "releases": out,
    }


def _xpu_variants(record: dict[str, Any]) -> None:
    """The XPU builds the sources name for this release (the pages and the selector list none)."""
    version = record["torch"]
    minor = ".".join(version.split(".")[:2])
    row = next((r for r in knowledge.XPU_BUILDS if minor in r.torch), None)
    if row is None or any(v["name"] == "xpu" for v in record["variants"]):
        return
    for platforms in ([p for p in row.platforms if p in row.companions_on],
                      [p for p in row.platforms if p not in row.companions_on]):
        if not platforms:
            continue
        companions = platforms[0] in row.companions_on
        vision = f"{record['torchvision']}+xpu" if companions and record.get("torchvision") else None
        audio = f"{record['torchaudio']}+xpu" if companions and record.get("torchaudio") else None
        names = " ".join(n for n, pin in (("torch", True), ("torchvision", vision), ("torchaudio", audio)) if pin)
        record["variants"].append({
            "name": "xpu", "platforms": platforms, "index_url": knowledge.XPU_INDEX,
            "install": {"form": "index-url", "line": f"pip3 install {names} --index-url {knowledge.XPU_INDEX}"},
            "torch_pin": f"{version}+xpu", "torchvision_pin": vision, "torchaudio_pin": audio,
            "source": "knowledge", "confidence": f"{row.confidence}; {row.source}"})


def _extensions(inputs: Inputs) -> list[dict[str, Any]]:
    """Each neighbour release's requirements on the torch family, its Python range and the wheel tags it
    publishes, as the package index gives them (`extensions.json` in data/sources/pypi)."""
    if inputs.extensions is None:
        return []
    source, data = inputs.extensions
    out = []
    for row in data["releases"]:
        tags = [str(t) for t in row.get("files") or []]
        out.append({"name": str(row["name"]), "version": str(row["version"]),
                    "requires": [str(r) for r in row.get("requires_dist") or []],
                    "requires_python": row.get("requires_python"), "files": tags, "source": source.id})
    return out


def _page_pairings(record: dict[str, Any], source_id: str) -> None:
    record["companions"] = {
        name: Pairing(record[name], source_id, "high (install page)").record() if record[name] else None
        for name in ("torchvision", "torchaudio")}


def _selector_release(version: str, entry: dict[str, Any], source_id: str) -> dict[str, Any]:
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
                "torch_pin": pins.get("torch", version), "torchvision_pin": pins.get("torchvision"),
                "torchaudio_pin": pins.get("torchaudio"), "source": source_id})
    record = {"torch": version, "title": f"v{version}", "source": source_id,
              "torchvision": None, "torchaudio": None, "variants": variants, "unknown": []}
    # the selector's own pins name the companions of old entries
    for name in ("torchvision", "torchaudio"):
        pinned = {v[f"{name}_pin"].split("+")[0] for v in variants if v.get(f"{name}_pin")}
        record[name] = pinned.pop() if len(pinned) == 1 else None
    _page_pairings(record, source_id)
    return record


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


def _index_only_release(version: str, source_id: str) -> dict[str, Any]:
    """A release the package index lists but no install page covers: what can be established."""
    minor = ".".join(version.split(".")[:2])
    variants = []
    for name in knowledge.SHIPPED_CUDA.get(minor, ()):
        index = f"{PYTORCH_INDEX_BASE}/{name}"
        variants.append({
            "name": name, "platforms": ["linux", "windows"], "index_url": index,
            "install": {"form": "index-url", "line": f"pip install torch=={version} --index-url {index}"},
            "torch_pin": version, "torchvision_pin": None, "torchaudio_pin": None,
            "source": "torch-arch-lists", "confidence": knowledge.SHIPPED_CUDA_CONFIDENCE})
    return {"torch": version, "title": f"v{version}", "source": source_id, "torchvision": None,
            "torchaudio": None, "companions": {"torchvision": None, "torchaudio": None},
            "variants": variants, "unknown": [] if variants else ["pytorch-index-variants"]}
