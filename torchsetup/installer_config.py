"""The indexes an installer's own configuration adds to every install: environment variables
(`PIP_*`, `UV_*`), pip's configuration files and uv's `uv.toml`. They pass the same gate as the
plan's own index: an http one is refused unless --allow-insecure-index; under the `index` strategy
pip runs without them (`--isolated`); under `extra` they compete with the PyTorch index, and the
plan says so. Credentials are masked wherever one is shown."""

from __future__ import annotations

import configparser
import os
import sys
from collections.abc import Mapping
from dataclasses import dataclass, replace
from pathlib import Path

from torchsetup.kinds import IndexStrategy, Installer
from torchsetup.plan import Plan
from torchsetup.urlgate import check_url, mask

PIP_VARIABLES = {"PIP_INDEX_URL": "index", "PIP_EXTRA_INDEX_URL": "extra", "PIP_FIND_LINKS": "find-links"}
UV_VARIABLES = {"UV_INDEX_URL": "index", "UV_DEFAULT_INDEX": "index", "UV_EXTRA_INDEX_URL": "extra",
                "UV_INDEX": "extra", "UV_FIND_LINKS": "find-links"}
PIP_KEYS = {"index-url": "index", "extra-index-url": "extra", "find-links": "find-links"}


@dataclass(frozen=True)
class ConfiguredIndex:
    """An index the installer's configuration adds, and where that configuration is."""

    url: str
    kind: str  # index | extra | find-links
    source: str  # PIP_EXTRA_INDEX_URL, /etc/pip.conf, ~/.config/uv/uv.toml, ...
    installer: Installer


def configured_indexes(environ: Mapping[str, str], prefix: str | None = None) -> list[ConfiguredIndex]:
    out: list[ConfiguredIndex] = []
    for variables, installer in ((PIP_VARIABLES, Installer.PIP), (UV_VARIABLES, Installer.UV)):
        for name, kind in variables.items():
            out += [ConfiguredIndex(url, kind, name, installer) for url in environ.get(name, "").split()]
    if environ.get("PIP_CONFIG_FILE") != os.devnull and not environ.get("PIP_ISOLATED"):
        for path in _pip_config_files(environ, prefix):
            out += _from_pip_config(path)
    if not environ.get("UV_NO_CONFIG"):
        for path in _uv_config_files(environ):
            out += _from_uv_config(path)
    return out


def _pip_config_files(environ: Mapping[str, str], prefix: str | None) -> list[Path]:
    home = Path(environ.get("HOME") or Path.home())
    xdg = [Path(p) / "pip" / "pip.conf" for p in (environ.get("XDG_CONFIG_DIRS") or "/etc/xdg").split(":") if p]
    files = [*xdg, Path("/etc/pip.conf"), home / ".pip" / "pip.conf",
             Path(environ.get("XDG_CONFIG_HOME") or home / ".config") / "pip" / "pip.conf"]
    if environ.get("PIP_CONFIG_FILE"):
        files.append(Path(environ["PIP_CONFIG_FILE"]))
    if prefix:
        files.append(Path(prefix) / "pip.conf")
    return [f for f in files if f.is_file()]


def _from_pip_config(path: Path) -> list[ConfiguredIndex]:
    parser = configparser.RawConfigParser()
    try:
        parser.read(path, encoding="utf-8")
    except (configparser.Error, OSError, UnicodeDecodeError):
        return []
    out = []
    for section in ("global", "install", "download"):
        if not parser.has_section(section):
            continue
        for key, kind in PIP_KEYS.items():
            for url in (parser.get(section, key, fallback="") or "").split():
                out.append(ConfiguredIndex(url, kind, str(path), Installer.PIP))
    return out


def _uv_config_files(environ: Mapping[str, str]) -> list[Path]:
    home = Path(environ.get("HOME") or Path.home())
    files = [Path("/etc/uv/uv.toml"), Path(environ.get("XDG_CONFIG_HOME") or home / ".config") / "uv" / "uv.toml"]
    if environ.get("UV_CONFIG_FILE"):
        files.append(Path(environ["UV_CONFIG_FILE"]))
    return [f for f in files if f.is_file()]


def _from_uv_config(path: Path) -> list[ConfiguredIndex]:
    if sys.version_info < (3, 11):
        return []  # tomllib: Python 3.11 on; uv's own file is then not read, and the plan says nothing of it
    import tomllib

    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return []
    table = data.get("pip", {}) if isinstance(data.get("pip"), dict) else {}
    out = []
    for source in (data, table):
        for key, kind in (("index-url", "index"), ("extra-index-url", "extra"), ("find-links", "find-links")):
            value = source.get(key)
            for url in ([value] if isinstance(value, str) else value if isinstance(value, list) else []):
                out.append(ConfiguredIndex(str(url), kind, str(path), Installer.UV))
    for index in data.get("index", []) if isinstance(data.get("index"), list) else []:
        if isinstance(index, dict) and isinstance(index.get("url"), str):
            kind = "index" if index.get("default") else "extra"
            out.append(ConfiguredIndex(index["url"], kind, str(path), Installer.UV))
    return out


def gate(plan: Plan, installer: Installer, strategy: IndexStrategy, allow_insecure: bool,
         environ: Mapping[str, str], prefix: str | None = None) -> Plan:
    """The plan with the configuration's indexes checked and said; refused (exit 2) for plain http
    unless allowed. Under `index`, pip's configured extras are dropped for the run (`--isolated`)."""
    found = [c for c in configured_indexes(environ, prefix) if c.installer == installer]
    notes = list(plan.notes)
    for index in found:
        if os.path.isdir(index.url) or index.url.startswith("file:"):
            continue
        check_url(index.url, f"the {index.kind} index from {index.source}", allow_insecure)
    extras = [c for c in found if c.kind in ("extra", "find-links")]
    command = plan.command
    if extras and strategy == IndexStrategy.INDEX and installer == Installer.PIP \
            and plan.command[1:4] == ("-m", "pip", "install"):
        command = (*plan.command[:3], "--isolated", *plan.command[3:])
        notes.append("the `index` strategy runs pip with --isolated: the extra indexes pip's configuration "
                     "adds are left out of this install (" + ", ".join(f"{mask(c.url)} from {c.source}"
                                                                     for c in extras) + ")")
    elif extras:
        notes.append("the installer's configuration adds indexes that compete with the PyTorch index: "
                      + ", ".join(f"{mask(c.url)} ({c.kind}, from {c.source})" for c in extras)
                      + "; --index-strategy index leaves them out")
    if not found:
        return plan
    return replace(plan, command=command, notes=tuple(dict.fromkeys(notes)))
