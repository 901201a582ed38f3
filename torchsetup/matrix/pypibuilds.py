"""The build a plain `pip install torch==X` gets from the package index, per platform, as variants.

From the measured table (knowledge.PYPI_BUILDS) or, for a release newer than that table, from what
`matrix update` read out of the release's own wheels (learned-builds.json). Pure.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from torchsetup.matrix import knowledge

if TYPE_CHECKING:
    from torchsetup.matrix.inputs import Inputs

MEASURED_ID = knowledge.MEASURED.rsplit(".", 1)[0]  # the source id of pypi-builds-and-arch-lists.md


def build_name(cuda: str | None, hip: str | None = None) -> str:
    """torch/version.py's `cuda = '12.8'` -> cu128; `hip = '6.2.41133'` -> rocm6.2; neither -> cpu."""
    if cuda:
        major, _, minor = cuda.partition(".")
        return f"cu{int(major)}{int((minor or '0').split('.')[0])}"
    if hip:
        return "rocm" + ".".join(hip.split(".")[:2])
    return "cpu"


def learned_builds(inputs: Inputs) -> dict[str, dict[str, dict[str, str]]]:
    """{torch version: {platform: {"build", "confidence", "source"}}} from learned-builds.json."""
    if inputs.learned is None:
        return {}
    source, data = inputs.learned
    out: dict[str, dict[str, dict[str, str]]] = {}
    for version, platforms in (data.get("learned_builds") or {}).items():
        for platform, entry in platforms.items():
            out.setdefault(version, {})[platform] = {
                "build": build_name(entry.get("cuda"), entry.get("hip")),
                "confidence": "high (read from the wheel by matrix update)",
                "source": f"{source.id} ({entry.get('wheel', '?')}: torch/version.py says "
                          f"{entry.get('version')!r}, cuda {entry.get('cuda')!r})"}
    return out


def _measured(version: str, platform: str) -> dict[str, str] | None:
    minor = ".".join(version.split(".")[:2])
    for row in knowledge.PYPI_BUILDS:
        if row.platform == platform and minor in row.torch:
            return {"build": row.build, "confidence": row.confidence, "source": row.source}
    return None


def apply(record: dict[str, Any], learned: dict[str, dict[str, str]] | None, index_source: str | None) -> None:
    """Replace the page's plain-PyPI lines with one variant per PyPI build, platform by platform."""
    version = record["torch"]
    page_lines = {v["name"]: v["install"]["line"] for v in record["variants"] if v["install"]["form"] == "pypi"}
    record["variants"] = [v for v in record["variants"] if v["install"]["form"] != "pypi"]
    builds: dict[str, dict[str, str]] = {}
    for platform in record["wheels"]:
        if platform.startswith("macos"):
            builds[platform] = {"build": "cpu", "confidence": "high (macOS wheels have no CUDA)",
                                "source": knowledge.MACOS_BUILD_SOURCE}
            continue
        found = _measured(version, platform) or (learned or {}).get(platform)
        if found is None:
            record["unknown"].append(f"pypi-build-{platform}")
            continue
        builds[platform] = found
    record["pypi_builds"] = builds
    by_build: dict[str, list[str]] = {}
    for platform, found in builds.items():
        by_build.setdefault(found["build"], []).append(platform)
    for name, platforms in by_build.items():
        first = builds[platforms[0]]
        measured = first["source"].startswith(knowledge.MEASURED)
        source_id = MEASURED_ID if measured else (index_source or "knowledge")
        if learned and platforms[0] in learned:
            source_id = first["source"].split(" ", 1)[0]
        record["variants"].append({
            "name": name, "platforms": sorted(platforms), "index_url": None,
            "install": {"form": "pypi", "line": page_lines.get(name, f"pip install torch=={version}")},
            "torch_pin": version, "torchvision_pin": None, "torchaudio_pin": None,
            "source": source_id, "confidence": first["confidence"], "pypi_default": True})
