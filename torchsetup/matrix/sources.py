"""Read matrix inputs from files, folders and URLs, and tell each input's kind by its content."""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import date
from functools import partial
from pathlib import Path
from typing import Any

from torchsetup.errors import EnvironmentUnusable, TorchsetupError, UsageError
from torchsetup.fetch import Fetched, get
from torchsetup.matrix.inputs import Inputs, SourceInput, page_inputs
from torchsetup.matrix.scrape import PageFormatError
from torchsetup.urlgate import check_url, mask, without_credentials

# Where the known files came from (data/sources/README.md gives each one's origin and sha256).
KNOWN: dict[str, tuple[str, str, str | None]] = {
    "previous-versions.md": (
        "PyTorch previous-versions page",
        "pytorch/pytorch.github.io _get_started/previous-versions.md @ e3f009bbc0d7509ed5c85b633313ec72aa2d1a40",
        None),
    "previous-versions.pytorch-kr-mirror.md": (
        "PyTorch previous-versions page (PyTorchKR mirror)",
        "PyTorchKR/pytorch.kr _get_started/previous-versions.md @ ec0f28f96030e15d9c25422ce9087ea6067bb252",
        "2026-07-14"),
    "published_versions.json": (
        "Start Locally selector data",
        "PyTorchKR/pytorch.kr published_versions.json @ ec0f28f96030e15d9c25422ce9087ea6067bb252 "
        "(synced from pytorch/pytorch.github.io@5d83345)", "2026-07-14"),
    "releases.json": (
        "Release build/validation matrix",
        "PyTorchKR/pytorch.kr releases.json @ ec0f28f96030e15d9c25422ce9087ea6067bb252", "2026-07-14"),
    "cuda-driver-table.md": ("CUDA toolkit -> minimum driver tables",
                             "NVIDIA release notes and compatibility guide (see the file's header)", None),
    "torch-arch-lists.md": ("Torch wheel GPU arch lists (build scripts, PRs)",
                            "pytorch/builder, pytorch/pytorch scripts and PRs (see the file's header)", None),
    "pypi-builds-and-arch-lists.md": (
        "PyPI builds and arch lists measured from the wheels",
        "torch/version.py, METADATA and libtorch_python.so read out of the PyPI wheels (see §0)",
        "2026-11-28"),
    "companion-evidence.md": ("Companion pairing evidence from the package index",
                              "https://pypi.org/simple/<name>/ upload-time, PEP 658 .metadata", "2026-11-28"),
    "audio-installation.2.11.rst": (
        "TorchAudio 2.11 installation page", "https://docs.pytorch.org/audio/2.11.0/installation.html",
        None),
    "audio-compat.rst": ("TorchAudio compatibility matrix",
                         "pytorch/audio docs/source/installation.rst @ 0e01d387112a24b6ca665560d3221e043f05dc98",
                         None),
    "torch.simple.json": ("PyPI simple JSON (PEP 691) for torch", "https://pypi.org/simple/torch/",
                          "2026-11-26"),
    "torchvision.simple.json": ("PyPI simple JSON (PEP 691) for torchvision",
                                "https://pypi.org/simple/torchvision/", "2026-11-26"),
    "torchaudio.simple.json": ("PyPI simple JSON (PEP 691) for torchaudio",
                               "https://pypi.org/simple/torchaudio/", "2026-12-03"),
    "companion-metadata.json": (
        "PEP 658 .metadata of torchvision/torchaudio wheels (Requires-Dist)",
        "https://files.pythonhosted.org/... <wheel>.metadata (URL per entry)", "2026-11-26"),
    "torchvision.info.json": ("PyPI JSON API info for torchvision (latest release)",
                              "https://pypi.org/pypi/torchvision/json", "2026-11-26"),
    "torchaudio.info.json": ("PyPI JSON API info for torchaudio (latest release)",
                             "https://pypi.org/pypi/torchaudio/json", "2026-12-03"),
    "extensions.json": ("Requirements of torch's neighbours on the torch family, per release",
                        "https://pypi.org/simple/<name>/ and the METADATA inside each named wheel", "2026-12-07"),
    "learned-builds.json": ("Builds read out of new torch wheels by `matrix update`",
                            "torch/version.py and METADATA of each wheel (URL per entry)", None),
}
TABLE_FILES = ("cuda-driver-table.md", "torch-arch-lists.md", "audio-installation.2.11.rst",
               "audio-compat.rst", "pypi-builds-and-arch-lists.md", "companion-evidence.md")
DEFAULT_URLS = (
    "https://raw.githubusercontent.com/pytorch/pytorch.github.io/site/_get_started/previous-versions.md",
    "https://raw.githubusercontent.com/pytorch/pytorch.github.io/site/published_versions.json",
    "https://raw.githubusercontent.com/pytorch/pytorch.github.io/site/releases.json",
    "https://pypi.org/simple/torch/",
    "https://pypi.org/simple/torchvision/",
    "https://pypi.org/simple/torchaudio/",
)

Fetcher = Callable[[str], Fetched]
MAX_SOURCE = 64 * 1024 * 1024

MAX_LISTED_VERSIONS = 2000  # torch lists ~100 versions; a listing far past that is not a real index


def fetch_url(url: str, timeout: float = 20.0, retries: int = 3, backoff: float = 0.5,
              allow_insecure: bool = False) -> Fetched:
    """GET through the URL gate, with timeouts, a deadline, a size cap and bounded retries."""
    return get(url, accept="application/vnd.pypi.simple.v1+json, text/html;q=0.5, */*;q=0.1",
               timeout=timeout, retries=retries, backoff=backoff, allow_insecure=allow_insecure)


def _name_for_url(url: str) -> str:
    tail = url.rstrip("/").rsplit("/", 1)[-1]
    if "pypi.org/simple/" in url:
        return f"{tail}.simple.json"
    return tail


def collect(specs: list[str], fetch: Fetcher | None = None,
            progress: Callable[[str], None] | None = None, allow_insecure: bool = False) -> Inputs:
    """Read every --from (file, folder or URL) and sort the inputs by kind."""
    items: list[tuple[str, str, str, str | None, str]] = []  # (filename, file/url, name, retrieved, text)
    for spec in specs:
        if "://" in spec:
            check_url(spec, "--from", allow_insecure)
            if progress:
                progress(mask(spec))
            fetched = (fetch or partial(fetch_url, allow_insecure=allow_insecure))(spec)
            final = mask(without_credentials(fetched.url))  # the address it really came from
            text = fetched.body.decode("utf-8", errors="replace")
            items.append((_name_for_url(final), final, final, date.today().isoformat(), text))
            continue
        path = Path(spec)
        if path.is_dir():
            files = sorted((p for p in path.rglob("*") if p.name in KNOWN and p.is_file()),
                           key=lambda p: (len(p.relative_to(path).parts), p.name))
            if not files:
                raise UsageError(f"{spec}: no known matrix input in this folder",
                                 f"Expected files such as {', '.join(list(KNOWN)[:3])}.")
        elif path.is_file():
            files = [path]
        else:
            raise UsageError(f"{spec}: no such file, folder or URL", "Check the --from argument.")
        for file in files:
            try:
                with file.open("rb") as handle:
                    raw = handle.read(MAX_SOURCE + 1)
                if len(raw) > MAX_SOURCE:
                    raise UsageError(f"{file}: larger than {MAX_SOURCE // (1024 * 1024)} MiB: not a matrix source",
                                     "Check the --from argument.")
                text = raw.decode("utf-8")
            except (OSError, UnicodeDecodeError) as exc:
                raise UsageError(f"{file}: cannot read: {exc}", "Check the --from argument.") from exc
            name, address, retrieved = KNOWN.get(file.name, (file.name, str(file), None))
            items.append((file.name, f"{file.parent.name}/{file.name}", address, retrieved, text))
    return classify(items)


def classify(items: list[tuple[str, str, str, str | None, str]]) -> Inputs:
    inputs = Inputs()
    pages = []
    for filename, where, address, retrieved, text in items:
        name = KNOWN.get(filename, (filename,))[0]
        stem = filename.rsplit(".", 1)[0] if filename.endswith((".md", ".rst", ".json")) else filename
        source = SourceInput(stem, name, address, where, retrieved, text)
        bad_input = EnvironmentUnusable if "://" in where else UsageError  # a fetched page vs a given file
        if filename in TABLE_FILES:
            inputs.extra_sources.append(source)
            continue
        data = _json(text, where, bad_input)
        if data is None:
            try:
                pages.append(page_inputs(source))
            except PageFormatError as exc:
                raise bad_input(
                    f"{where}: not a usable previous-versions page: {exc}",
                    "The page layout may have changed; the current matrix was left as it is.",
                ) from exc
            continue
        if "latest_stable" in data and "versions" in data:
            inputs.published = (source, data)
        elif "release" in data and "nightly" in data:
            inputs.build_matrix = (source, data)
        elif "files" in data and "name" in data:
            listed = len(data["versions"]) if isinstance(data.get("versions"), list) else 0
            files = len(data["files"]) if isinstance(data.get("files"), list) else 0
            if listed > MAX_LISTED_VERSIONS or files > 50 * MAX_LISTED_VERSIONS:
                raise bad_input(f"{where}: lists {listed:,} versions and {files:,} files, more than any real "
                                f"project ({MAX_LISTED_VERSIONS:,} versions at most); not read",
                                "Check the source; the current matrix was left as it is.")
            inputs.pypi_simple[str(data["name"]).lower()] = (source, data)
        elif isinstance(data.get("releases"), list) and all(
                isinstance(r, dict) and "requires_dist" in r for r in data["releases"]):
            inputs.extensions = (source, data)
        elif "learned_builds" in data:
            inputs.learned = (source, data)
        elif "info" in data:
            inputs.pypi_info[str(data["info"].get("name", "")).lower()] = (source, data)
        elif any(isinstance(v, dict) for v in data.values()) and {"torchvision", "torchaudio"} & set(data):
            inputs.companion_metadata = (source, data)
        else:
            raise bad_input(f"{where}: JSON of an unknown kind",
                            "Pass the selector data, PyPI simple JSON or a page copy.")
    # the upstream page before any mirror: its sections win where both have a release
    pages.sort(key=lambda sp: "mirror" in sp[0].id)
    inputs.pages = pages
    if not inputs.pages:
        raise EnvironmentUnusable("no previous-versions page among the inputs",
                                  "Pass a copy of previous-versions.md with --from.")
    return inputs


def _json(text: str, where: str, error: type[TorchsetupError]) -> Any:
    stripped = text.lstrip()
    if not stripped.startswith(("{", "[")):
        return None
    try:
        data = json.loads(text)
    except (ValueError, RecursionError) as exc:
        reason = "nested too deeply" if isinstance(exc, RecursionError) else str(exc)[:200]
        raise error(f"{where}: truncated or corrupt JSON ({reason})",
                    "Fetch the file again; the current matrix was left as it is.") from exc
    if not isinstance(data, dict):
        raise error(f"{where}: JSON of an unknown kind (not an object)", "Pass the files `matrix update` knows.")
    return data
