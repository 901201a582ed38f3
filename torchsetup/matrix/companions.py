"""Which torchvision / torchaudio release goes with each torch release, from evidence, strongest first:

1. the companion wheel's own exact pin (`Requires-Dist: torch==X`, PEP 658 metadata);
2. the install page's pairing (previous-versions, selector data);
3. the TorchAudio compatibility table (audio-compat.rst);
4. an upload within a few hours of torch's (PEP 691 `upload-time`);
5. rows transcribed from companion-evidence.md (knowledge.COMPANIONS).

Every pairing records its evidence and that evidence's confidence. Pure.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from packaging.version import InvalidVersion, Version

from torchsetup.matrix import knowledge


@dataclass(frozen=True)
class Pairing:
    """A torchvision or torchaudio paired with a torch release, with the evidence and its confidence."""

    companion: str
    source: str
    confidence: str

    def record(self) -> dict[str, str]:
        return {"version": self.companion, "source": self.source, "confidence": self.confidence}


def first_uploads(simple: dict[str, Any]) -> dict[str, datetime]:
    """{release version: its first file's upload time} from PEP 691 JSON (`upload-time`)."""
    first: dict[str, str] = {}
    name = str(simple.get("name", "")).lower()
    for entry in simple.get("files", []):
        stamp = entry.get("upload-time")
        filename = str(entry.get("filename", ""))
        version = _wheel_version(filename) or _sdist_version(filename, name)
        if stamp and version is not None and (version not in first or str(stamp) < first[version]):
            first[version] = str(stamp)  # ISO 8601 in UTC: text order is time order
    return {version: datetime.fromisoformat(stamp.replace("Z", "+00:00")) for version, stamp in first.items()}


def _wheel_version(filename: str) -> str | None:
    """The release of a wheel file name (`torch-2.5.1+cu124-cp312-...whl` -> 2.5.1), cheaply."""
    if not filename.endswith(".whl"):
        return None
    parts = filename.split("-")
    return parts[1].split("+")[0].split("%2B")[0] if len(parts) >= 5 else None


def _sdist_version(filename: str, name: str) -> str | None:
    match = re.match(rf"{re.escape(name)}-(.+?)\.(tar\.gz|zip)$", filename, re.IGNORECASE)
    return match[1] if match else None


def pure_python_releases(simple: dict[str, Any]) -> set[str]:
    """Releases whose every wheel is `py3-none-*`: no compiled code, so no `+cuXYZ` builds."""
    tags: dict[str, set[bool]] = {}
    for entry in simple.get("files", []):
        filename = str(entry.get("filename", ""))
        version = _wheel_version(filename)
        if version is not None:
            tags.setdefault(version, set()).add("-py3-none-" in filename)
    return {version for version, kinds in tags.items() if kinds == {True}}


def upload_pairing(torch_uploads: dict[str, datetime], companion_uploads: dict[str, datetime],
                   torch: str, source: str) -> Pairing | None:
    """The companion release uploaded closest to torch's, within knowledge.UPLOAD_PAIRING_HOURS."""
    when = torch_uploads.get(torch)
    if when is None or not companion_uploads:
        return None
    best = min(companion_uploads, key=lambda v: abs((companion_uploads[v] - when).total_seconds()))
    hours = abs((companion_uploads[best] - when).total_seconds()) / 3600
    if hours > knowledge.UPLOAD_PAIRING_HOURS:
        return None
    minutes = round(hours * 60)
    return Pairing(best, f"{source} (upload-time: {minutes} min after torch {torch})",
                   "medium (uploaded with torch)" if hours <= 1 else "low-medium (uploaded the same day)")


_AUDIO_ROW = re.compile(r"\*\s+-\s+``(\d+(?:\.\d+)+)``\s*\n\s+-\s+``(\d+(?:\.\d+)+)``")


def audio_compat_pairs(text: str) -> dict[str, str]:
    """{torch "2.4" or "2.4.1": torchaudio "2.4.0"} from the TorchAudio docs' list-table."""
    return {torch: audio for torch, audio in _AUDIO_ROW.findall(text)}


def audio_compat_for(pairs: dict[str, str], torch: str) -> str | None:
    """A row names a release ("2.4.1") or a minor ("2.4" = its .0 release)."""
    if torch in pairs:
        return pairs[torch]
    major_minor, _, patch = torch.rpartition(".")
    return pairs.get(major_minor) if patch == "0" else None


def exact_pin(pins: list[tuple[str, str, str]], torch: str) -> Pairing | None:
    """The newest companion whose own metadata pins `torch==<torch>`."""
    exact = [(c, s) for c, spec, s in pins if spec == f"=={torch}"]
    if not exact:
        return None
    companion, source = max(exact, key=lambda cs: _version(cs[0]))
    return Pairing(companion, f"{source} (Requires-Dist: torch=={torch})", "high (the wheel's own pin)")


def curated(torch: str, package: str) -> Pairing | None:
    for row in knowledge.COMPANIONS:
        if (row.torch, row.package) == (torch, package):
            return Pairing(row.companion, row.source, row.confidence)
    return None


def _version(text: str) -> Version:
    try:
        return Version(text)
    except InvalidVersion:
        return Version("0")


@dataclass
class CompanionEvidence:
    """All companion evidence of one matrix build, applied release by release."""

    exact_pins: dict[str, list[tuple[str, str, str]]]  # package -> [(companion, torch spec, source)]
    uploads: dict[str, dict[str, datetime]]  # package -> {version: first upload}
    upload_source: dict[str, str]  # package -> source id of its PEP 691 JSON
    pure: dict[str, set[str]]  # package -> py3-none releases
    audio_table: dict[str, str]
    audio_table_source: str | None

    def pairing(self, torch: str, package: str, page: Pairing | None) -> Pairing | None:
        found = exact_pin(self.exact_pins.get(package, []), torch) or page
        if found is None and package == "torchaudio" and self.audio_table_source:
            audio = audio_compat_for(self.audio_table, torch)
            if audio:
                found = Pairing(audio, self.audio_table_source, "high (TorchAudio compatibility table)")
        if found is None and package in self.uploads and "torch" in self.uploads:
            found = upload_pairing(self.uploads["torch"], self.uploads[package], torch,
                                   self.upload_source[package])
        return found or curated(torch, package)

    def settle(self, record: dict[str, Any]) -> None:
        """Fill record["torchvision"/"torchaudio"/"companions"/"*_pure"]; correct variant pins."""
        torch = record["torch"]
        companions = record.setdefault("companions", {})
        for package in ("torchvision", "torchaudio"):
            page = companions.get(package)
            page_pairing = Pairing(page["version"], page["source"], page["confidence"]) if page else None
            chosen = self.pairing(torch, package, page_pairing)
            record[package] = chosen.companion if chosen else None
            companions[package] = chosen.record() if chosen else None
            record[f"{package}_pure"] = bool(chosen and chosen.companion in self.pure.get(package, set()))
            if chosen:
                _correct_variant_pins(record, package, chosen.companion)
        if record["torchvision"] is None and "torchvision" not in record["unknown"]:
            record["unknown"].append("torchvision")
        if record["torchaudio"] is None and Version(torch) >= Version("2.12"):
            record["torchaudio_note"] = (
                "no torchaudio release for this torch; TorchAudio 2.11 states it works with "
                "PyTorch 2.11 and every later release (audio-installation.2.11.rst)")
            record["torchaudio_compatible"] = "2.11.0"


def _correct_variant_pins(record: dict[str, Any], package: str, companion: str) -> None:
    """A variant line pinning a companion of another release (two ROCm lines of the page) is
    corrected to the release's companion, with the variant's own local version kept."""
    for variant in record["variants"]:
        pin = variant.get(f"{package}_pin")
        if not pin or pin.split("+")[0] == companion:
            continue
        local = pin.partition("+")[2]
        variant[f"{package}_pin"] = f"{companion}+{local}" if local else companion
        variant.setdefault("corrections", []).append(
            f"the source pins {package}=={pin}, which does not pair with torch {record['torch']} "
            f"({knowledge.COMPANION_EVIDENCE}); corrected to {companion}")
