"""PyTorch's previous-versions page (every format since 1.0) -> release records. Pure: text in."""

from __future__ import annotations

import re
import shlex
from collections.abc import Iterable
from dataclasses import dataclass, field

_HEADING = re.compile(r"^###\s+v(\d+\.\d+\.\d+)\b(.*)$")
_LABEL = re.compile(r"^#\s*(CUDA|ROCM|ROCm|RocM|CPU)\s*([0-9][0-9.]*)?\s*(?:only|Only)?\s*(\(.*\))?\s*$")
_URL = re.compile(r"https?://\S+")


@dataclass(frozen=True)
class PageVariant:
    """One build variant of a release as the previous-versions page gives it."""

    name: str  # cu124 | rocm6.2 | cpu
    platforms: tuple[str, ...]  # linux / windows / macos
    form: str  # index-url | extra-index-url | find-links | pypi | download
    url: str | None  # the index, find-links page or download page
    torch: str  # the exact pin on the page, local version included ("1.12.0+cu102")
    torchvision: str | None
    torchaudio: str | None
    line: str  # the install line exactly as the page gives it


@dataclass(frozen=True)
class PageRelease:
    """One release of the previous-versions page with its companions and variants."""

    version: str
    title: str  # the heading's text, e.g. "v1.8.2 with LTS support"
    variants: tuple[PageVariant, ...] = field(default_factory=tuple)

    @property
    def torchvision(self) -> str | None:
        return _common(v.torchvision for v in self.variants)

    @property
    def torchaudio(self) -> str | None:
        return _common(v.torchaudio for v in self.variants)


def _common(values: Iterable[str | None]) -> str | None:
    """The base version most variants pin (variants may carry their own local versions)."""
    counts: dict[str, int] = {}
    for value in values:
        if value:
            base = value.split("+")[0]
            counts[base] = counts.get(base, 0) + 1
    return max(counts, key=lambda k: counts[k]) if counts else None


class PageFormatError(ValueError):
    """The text does not look like the previous-versions page (the layout changed)."""


def variant_name(label_kind: str, label_version: str | None, url: str | None, pin: str) -> str:
    if "+" in pin:
        return pin.split("+", 1)[1]
    if url:
        for part in reversed(url.rstrip("/").split("/")):
            if re.fullmatch(r"cu\d+|cpu|rocm[0-9.]+", part):
                return part
    kind = label_kind.lower()
    if kind == "cpu":
        return "cpu"
    if kind == "cuda" and label_version:
        return "cu" + label_version.replace(".", "")
    if kind == "rocm" and label_version:
        return "rocm" + label_version
    return kind


def _platforms(section: str, qualifier: str | None) -> tuple[str, ...]:
    if section == "osx":
        return ("macos",)
    q = (qualifier or "").lower()
    if "windows" in q:
        return ("windows",)
    if "linux" in q:
        return ("linux",)
    return ("linux", "windows")


def parse_install_line(line: str) -> tuple[str, str | None, dict[str, str]] | None:
    """(form, url, {package: pin}) for a pip line, or None when the line installs no pinned torch."""
    stripped = line.strip()
    if stripped.startswith("Download and install wheel from"):
        match = _URL.search(stripped)
        return ("download", match.group(0) if match else None, {})
    if not stripped.startswith("pip"):
        return None
    try:  # shlex only where quoting can change the words (it is slow over ~500 lines)
        words = shlex.split(stripped) if any(c in stripped for c in "'\"\\") else stripped.split()
    except ValueError:
        return None
    if len(words) < 3 or words[0] not in ("pip", "pip3") or words[1] != "install":
        return None
    pins: dict[str, str] = {}
    form, url = "pypi", None
    i = 2
    while i < len(words):
        word = words[i]
        if word in ("--index-url", "--extra-index-url", "-f", "--find-links"):
            form = {"-f": "find-links", "--find-links": "find-links"}.get(word, word[2:])
            url = words[i + 1] if i + 1 < len(words) else None
            i += 2
            continue
        if "==" in word:
            name, pin = word.split("==", 1)
            pins[name] = pin
        i += 1
    if "torch" not in pins:
        return None
    return form, url, pins


def parse_previous_versions(text: str) -> list[PageRelease]:
    """Every `### vX.Y.Z` section with its pip variants. Raises PageFormatError on a foreign layout."""
    releases: list[PageRelease] = []
    version: str | None = None
    title = ""
    variants: list[PageVariant] = []
    kind = "wheel"  # conda | wheel
    section = ""  # osx | linux-windows
    label: re.Match[str] | None = None
    in_code = False

    def close() -> None:
        if version is not None:
            releases.append(PageRelease(version, title, tuple(variants)))

    for raw in text.splitlines():
        line = raw.rstrip()
        heading = _HEADING.match(line)
        if heading:
            close()
            version, title = heading.group(1), f"v{heading.group(1)}{heading.group(2)}".strip()
            variants, kind, section, label, in_code = [], "wheel", "", None, False
            continue
        if line.startswith("## ") or (line.startswith("### ") and version is not None):
            close()
            version = None
            continue
        if version is None:
            continue
        if line.startswith("```"):
            in_code = not in_code
            label = None
            continue
        if line.startswith("#### "):
            kind = "conda" if "conda" in line.lower() else "wheel"
            continue
        if line.startswith("##### "):
            section = "osx" if "osx" in line.lower() else "linux-windows"
            continue
        if not in_code or kind != "wheel":
            continue
        if line.startswith("#"):
            match = _LABEL.match(line)
            if match:
                label = match
            continue
        parsed = parse_install_line(line)
        if parsed is None:
            continue
        form, url, pins = parsed
        platforms: tuple[str, ...]
        if section == "osx":
            name, platforms = "cpu", ("macos",)
        elif label is None:
            continue
        else:
            name = variant_name(label.group(1), label.group(2), url, pins.get("torch", ""))
            platforms = _platforms(section, label.group(3))
        if form == "download":
            pins = {"torch": version}
        variants.append(PageVariant(
            name=name, platforms=platforms, form=form, url=url,
            torch=pins.get("torch", version), torchvision=pins.get("torchvision"),
            torchaudio=pins.get("torchaudio"), line=line.strip(),
        ))
    close()
    if not releases:
        raise PageFormatError("no '### vX.Y.Z' release sections found")
    if not any(r.variants for r in releases):
        raise PageFormatError("release sections found, but no pip install lines in them")
    return releases


def count_release_headings(text: str) -> int:
    return sum(1 for line in text.splitlines() if _HEADING.match(line.rstrip()))
