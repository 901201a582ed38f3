"""What an environment's distributions own and what a wheel will write, from their RECORD files.
Pure reading: no install, no import of the packages.

An installed distribution's RECORD lists its files relative to the folder its dist-info is in
(`../../../bin/tool` for a script). A wheel's RECORD lists the paths inside the wheel; a path
under `<name>-<version>.data/<scheme>/` goes to that scheme's folder (purelib, platlib, scripts,
headers, data), every other path to the root (purelib or platlib, as `Root-Is-Purelib` says).
"""

from __future__ import annotations

import base64
import configparser
import csv
import hashlib
import io
import os
import re
import zipfile
from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True)
class Scheme:
    """Where an installer puts each part of a wheel in one environment."""

    prefix: str
    purelib: str
    platlib: str
    scripts: str
    data: str
    headers: str  # the folder that holds `<dist name>/` header folders


@dataclass(frozen=True)
class Installed:
    """One installed distribution: its dist-info folder and the files its RECORD lists."""

    name: str  # normalised: lower case, `-` for `_` and `.`
    version: str
    dist_info: str
    files: dict[str, str | None]  # absolute path -> RECORD sha256 (hex) or None


@dataclass(frozen=True)
class Expected:
    """What a RECORD line says a file will be: its sha256 (hex) and size, each None when not given."""

    sha256: str | None
    size: int | None


@dataclass(frozen=True)
class WheelPlan:
    """What one wheel will write: every destination with the sha256 its RECORD gives."""

    wheel: str
    name: str
    version: str
    files: dict[str, Expected]  # absolute destination -> what the installer writes there
    dist_info: str  # the dist-info folder it creates
    scripts: tuple[str, ...]  # console and gui scripts the installer generates


def normalise(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def _hex(record_hash: str) -> str | None:
    """`sha256=<urlsafe base64>` -> hex; None for any other algorithm or an empty field."""
    algorithm, _, value = record_hash.partition("=")
    if algorithm != "sha256" or not value:
        return None
    try:
        return base64.urlsafe_b64decode(value + "=" * (-len(value) % 4)).hex()
    except ValueError:
        return None


def _rows(text: str) -> list[tuple[str, str, int | None]]:
    """(path, hash, size) of each RECORD line."""
    out = []
    for row in csv.reader(io.StringIO(text)):
        if not row or not row[0]:
            continue
        size = row[2] if len(row) > 2 else ""
        out.append((row[0], row[1] if len(row) > 1 else "", int(size) if size.isdigit() else None))
    return out


def installed_distributions(site_dirs: tuple[str, ...]) -> list[Installed]:
    """Every `*.dist-info` with a RECORD in `site_dirs` (first seen wins, as on sys.path)."""
    out: list[Installed] = []
    seen: set[str] = set()
    for site in site_dirs:
        try:
            names = sorted(os.listdir(site))
        except OSError:
            continue
        for folder in names:
            if not folder.endswith(".dist-info") or folder.startswith("~"):
                continue
            dist_info = os.path.join(site, folder)
            name, _, version = folder[: -len(".dist-info")].partition("-")
            key = normalise(name)
            if key in seen:
                continue
            try:
                text = Path(dist_info, "RECORD").read_text(encoding="utf-8", errors="replace")
            except OSError:
                continue
            seen.add(key)
            files = {os.path.normpath(os.path.join(site, path)): _hex(digest) for path, digest, _ in _rows(text)}
            out.append(Installed(key, version, dist_info, files))
    return out


def wheel_plan(wheel: str, scheme: Scheme) -> WheelPlan:
    """The destinations of every file in `wheel` for `scheme`."""
    with zipfile.ZipFile(wheel) as archive:
        names = archive.namelist()
        dist_info = next(n.split("/")[0] for n in names if n.split("/")[0].endswith(".dist-info")
                         and n.endswith("/RECORD"))
        record = archive.read(f"{dist_info}/RECORD").decode("utf-8", errors="replace")
        metadata = archive.read(f"{dist_info}/WHEEL").decode("utf-8", errors="replace")
        entry_points = (archive.read(f"{dist_info}/entry_points.txt").decode("utf-8", errors="replace")
                        if f"{dist_info}/entry_points.txt" in names else "")
    name, _, version = dist_info[: -len(".dist-info")].partition("-")
    purelib = "root-is-purelib: true" in metadata.lower()
    root = scheme.purelib if purelib else scheme.platlib
    data_prefix = f"{dist_info[: -len('.dist-info')]}.data/"
    files: dict[str, Expected] = {}
    for path, digest, size in _rows(record):
        if path.startswith(data_prefix):
            kind, _, rest = path[len(data_prefix):].partition("/")
            base = {"purelib": scheme.purelib, "platlib": scheme.platlib, "scripts": scheme.scripts,
                    "data": scheme.data, "headers": os.path.join(scheme.headers, name)}.get(kind)
            if base is None or not rest:
                continue
            files[os.path.normpath(os.path.join(base, rest))] = Expected(_hex(digest), size)
        else:
            files[os.path.normpath(os.path.join(root, path))] = Expected(_hex(digest), size)
    return WheelPlan(wheel, normalise(name), version, files, os.path.join(root, dist_info),
                     tuple(os.path.join(scheme.scripts, s) for s in _script_names(entry_points)))


def wheel_name_version(wheel: str) -> tuple[str, str]:
    """A wheel file's distribution name and version, from its file name (PEP 427)."""
    name, version = os.path.basename(wheel).split("-")[:2]
    return name, version


def _script_names(entry_points: str) -> list[str]:
    parser = configparser.ConfigParser(delimiters=("=",), interpolation=None)
    parser.optionxform = str  # type: ignore[assignment,method-assign]
    try:
        parser.read_string(entry_points)
    except configparser.Error:
        return []
    return [name for section in ("console_scripts", "gui_scripts") if parser.has_section(section)
            for name in parser.options(section)]


def sha256_of(path: str) -> str | None:
    """The file's sha256 (hex); None when it is missing or not a regular file."""
    digest = hashlib.sha256()
    try:
        with open(path, "rb") as handle:
            for block in iter(lambda: handle.read(1 << 20), b""):
                digest.update(block)
    except (IsADirectoryError, FileNotFoundError, NotADirectoryError):
        return None
    return digest.hexdigest()
