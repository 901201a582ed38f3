"""Parsers for the enrichment sources. Pure: text or decoded JSON in, records out.

- the "Start Locally" selector's published_versions.json and releases.json
- PEP 503 simple-index HTML and PEP 691 simple JSON (wheel names -> tags, sha256)
- PEP 658 `.metadata` files (Requires-Dist: torch ...) for the companion pairing
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from html.parser import HTMLParser
from typing import Any
from urllib.parse import unquote, urljoin

from packaging.requirements import InvalidRequirement, Requirement
from packaging.version import InvalidVersion, Version

_WHEEL = re.compile(
    r"^(?P<name>[A-Za-z0-9_.]+)-(?P<version>[^-]+)(?:-(?P<build>\d[^-]*))?"
    r"-(?P<py>[^-]+)-(?P<abi>[^-]+)-(?P<plat>[^-]+)\.whl$"
)


@dataclass(frozen=True)
class WheelFile:
    """One wheel file of the package index listing: name, tags, platform and upload time."""

    filename: str
    name: str
    version: str  # with local part: "2.5.1+cu124"
    python_tags: tuple[str, ...]  # "3.11", "3.13t"
    platform_tags: tuple[str, ...]
    sha256: str | None = None
    url: str | None = None

    @property
    def base_version(self) -> str:
        return self.version.split("+")[0]

    @property
    def local(self) -> str | None:
        return self.version.split("+", 1)[1] if "+" in self.version else None


def parse_wheel_filename(filename: str, sha256: str | None = None, url: str | None = None
                         ) -> WheelFile | None:
    match = _WHEEL.match(unquote(filename))
    if not match:
        return None
    pythons = []
    for py in match["py"].split("."):
        abi = match["abi"]
        tag = re.fullmatch(r"cp(\d)(\d+)", py)
        if tag:
            free = abi.endswith("t") and abi.startswith(py)  # cp313-cp313t
            pythons.append(f"{tag[1]}.{tag[2]}{'t' if free else ''}")
    return WheelFile(
        filename=unquote(filename), name=match["name"].replace("_", "-").lower(),
        version=match["version"], python_tags=tuple(pythons),
        platform_tags=tuple(match["plat"].split(".")), sha256=sha256, url=url,
    )


def platform_key(platform_tag: str) -> str | None:
    """manylinux_2_28_x86_64 -> linux-x86_64, win_amd64 -> windows-x86_64, macosx_11_0_arm64 -> macos-arm64."""
    if platform_tag.startswith(("manylinux", "linux")):
        arch = "aarch64" if platform_tag.endswith("aarch64") else (
            "x86_64" if platform_tag.endswith("x86_64") else None)
        return f"linux-{arch}" if arch else None
    if platform_tag == "win_amd64":
        return "windows-x86_64"
    if platform_tag.startswith("macosx"):
        return "macos-arm64" if platform_tag.endswith("arm64") else "macos-x86_64"
    return None


_MANYLINUX_LEGACY = {"manylinux1": (2, 5), "manylinux2010": (2, 12), "manylinux2014": (2, 17)}


def glibc_of(platform_tag: str) -> tuple[int, int] | None:
    """The glibc a manylinux tag needs: manylinux_2_28_x86_64 -> (2, 28), manylinux2014 -> (2, 17)."""
    match = re.match(r"manylinux_(\d+)_(\d+)_", platform_tag)
    if match:
        return int(match[1]), int(match[2])
    for legacy, version in _MANYLINUX_LEGACY.items():
        if platform_tag.startswith(legacy + "_"):
            return version
    return None


# ------------------------------------------------------------------ PEP 503 / PEP 691


class _Anchors(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.links: list[tuple[str, str]] = []
        self._href: str | None = None
        self._text: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag == "a":
            self._href = dict(attrs).get("href") or ""
            self._text = []

    def handle_data(self, data: str) -> None:
        if self._href is not None:
            self._text.append(data)

    def handle_endtag(self, tag: str) -> None:
        if tag == "a" and self._href is not None:
            self.links.append((self._href, "".join(self._text).strip()))
            self._href = None


def parse_simple_html(html: str, base_url: str = "") -> list[WheelFile]:
    """PEP 503 anchors -> wheels (with sha256 from the URL fragment). Non-wheels are skipped."""
    parser = _Anchors()
    parser.feed(html)
    wheels = []
    for href, text in parser.links:
        url, _, fragment = href.partition("#")
        sha = fragment[len("sha256="):] if fragment.startswith("sha256=") else None
        filename = text or url.rsplit("/", 1)[-1]
        if not filename.endswith(".whl"):
            filename = unquote(url.rsplit("/", 1)[-1])
        wheel = parse_wheel_filename(filename, sha, urljoin(base_url, url) if base_url else url)
        if wheel:
            wheels.append(wheel)
    return wheels


_MD_LINK = re.compile(r"\[([^\]]+\.whl)\]\(([^)]+)\)")


def parse_markdown_listing(text: str) -> list[WheelFile]:
    """A markdown list of wheel links with #sha256= fragments (as posted in issue threads)."""
    wheels = []
    for name, href in _MD_LINK.findall(text):
        _, _, fragment = href.partition("#")
        sha = fragment[len("sha256="):] if fragment.startswith("sha256=") else None
        wheel = parse_wheel_filename(name, sha, href.partition("#")[0])
        if wheel:
            wheels.append(wheel)
    return wheels


def parse_simple_json(data: dict[str, Any]) -> list[WheelFile]:
    """PEP 691 JSON: {"files": [{"filename", "hashes": {"sha256"}, "url", "yanked"}]}."""
    wheels = []
    for entry in data.get("files", []):
        if entry.get("yanked"):
            continue
        wheel = parse_wheel_filename(entry["filename"], (entry.get("hashes") or {}).get("sha256"),
                                     entry.get("url"))
        if wheel:
            wheels.append(wheel)
    return wheels


def versions_of(data: dict[str, Any]) -> list[str]:
    """Release versions listed by PEP 691 JSON (or the /pypi/<name>/json 'releases' keys)."""
    raw = data.get("versions") or list((data.get("releases") or {}).keys())
    good = []
    for v in raw:
        try:
            Version(v)
            good.append(v)
        except InvalidVersion:
            continue
    return sorted(good, key=Version)


# ------------------------------------------------------------------ PEP 658 metadata


def torch_requirement(metadata_text: str) -> str | None:
    """The `Requires-Dist: torch ...` specifier of a wheel's METADATA ('==2.13.0', '>=2.14.0')."""
    for line in metadata_text.splitlines():
        if not line.lower().startswith("requires-dist:"):
            continue
        value = line.split(":", 1)[1].strip()
        value = re.sub(r"^(\S+)\s*\((.*)\)", r"\1\2", value)  # old style "torch (==1.0)"
        try:
            req = Requirement(value)
        except InvalidRequirement:
            continue
        if req.name.lower() == "torch" and not req.marker:
            return str(req.specifier) or None
    return None


# ------------------------------------------------------------------ selector data


def selector_default_variant(entry: dict[str, Any], os_key: str = "linux") -> str | None:
    """Which build the plain-PyPI `pip3 install torch` of a published_versions entry is.

    The selector's pip command for it names no index; on Linux its libtorch link for the same key
    names the CUDA build (e.g. 2.13.0: cuda.y -> .../libtorch/cu130/...). On Windows the
    index-less command sits under `accnone`: PyPI's Windows build is the CPU one.
    """
    section = entry.get(os_key) or {}
    for key, pip in (section.get("pip") or {}).items():
        command = (pip or {}).get("command") or ""
        if not command or re.search(r"--index-url|--extra-index-url|\s-f\s|--find-links", command):
            continue
        if key == "accnone":
            return "cpu"
        if not key.startswith("cuda"):
            continue
        lib = ((section.get("libtorch") or {}).get(key) or {}).get("versions") or {}
        for url in lib.values():
            match = re.search(r"/libtorch/(cu\d+)/", str(url))
            if match:
                return match[1]
    return None


def selector_variants(entry: dict[str, Any], os_key: str = "linux") -> list[tuple[str, str | None, str]]:
    """[(variant, index URL or None for PyPI, command)] of a published_versions entry's pip section."""
    out = []
    default = selector_default_variant(entry, os_key)
    for _, pip in sorted(((entry.get(os_key) or {}).get("pip") or {}).items()):
        command = (pip or {}).get("command") or ""
        if not command:
            continue
        index = re.search(r"(?:--index-url|--extra-index-url|-f)\s+(\S+)", command)
        local = re.search(r"torch==[^\s+]+\+(\S+)", command)
        if local:
            out.append((local[1], index[1] if index else None, command))
        elif index and not index[1].endswith(".html"):
            out.append((index[1].rstrip("/").rsplit("/", 1)[-1], index[1], command))
        elif default and not index:
            out.append((default, None, command))
    return out


def command_pins(command: str) -> dict[str, str]:
    """{package: version} pinned in an install command (`torchaudio===0.10.2+cu102` too)."""
    return {m[1]: m[2] for m in re.finditer(r"\b(torch|torchvision|torchaudio)={2,3}(\S+)", command)}


def release_pythons(releases_json: dict[str, Any], channel: str = "release") -> tuple[str, list[str]]:
    """(stable_version, python versions) from the build matrix releases.json ('3.14t' kept)."""
    stable = ""
    versions: set[str] = set()
    for builds in (releases_json.get(channel) or {}).values():
        for build in builds:
            stable = build.get("stable_version", stable)
            py = str(build.get("python_version", ""))
            match = re.match(r"(\d+\.\d+)(t?)", py)
            if match:
                versions.add(match[1] + match[2])
    return stable, sorted(versions, key=lambda v: (tuple(int(x) for x in v.rstrip("t").split(".")), v))
