"""Plan -> the exact install argv (pip or uv, index strategy, mirror). Pure: no I/O."""

from __future__ import annotations

import re
from dataclasses import dataclass

from torchsetup.errors import UsageError
from torchsetup.indexes import PYPI_SIMPLE, PYTORCH_INDEX_BASE
from torchsetup.kinds import IndexStrategy, Installer, VariantForm
from torchsetup.urlgate import check_url

_REQUIREMENT = re.compile(r"(torch|torchvision|torchaudio)==[0-9][0-9A-Za-z.!]*(\+[0-9A-Za-z.]+)?")

@dataclass(frozen=True)
class CommandOptions:
    """How the install command is formed: target interpreter, installer, index strategy and base."""

    python: str = "python"  # resolve() puts the target interpreter here when left as "python"
    installer: Installer = Installer.PIP
    strategy: IndexStrategy = IndexStrategy.EXTRA
    index_base: str | None = None  # a mirror of https://download.pytorch.org/whl, checked at the edge
    allow_insecure_index: bool = False


@dataclass(frozen=True)
class Pins:
    """What to install: the variant's form and the exact requirement strings."""

    variant: str
    form: VariantForm
    index_url: str | None
    requirements: tuple[str, ...]  # ("torch==2.5.1", "torchvision==0.20.1", ...)
    plain: tuple[str, ...] = ()  # packages with py3-none wheels only: never a +cuXYZ pin


def check_index_base(base: str | None, allow_insecure: bool) -> None:
    """--index-base / TORCHSETUP_INDEX_BASE through the URL gate (file:// for a local mirror)."""
    if base is not None:
        check_url(base, f"--index-base (a mirror of {PYTORCH_INDEX_BASE})", allow_insecure, allow_file=True)


def mirrored(url: str | None, base: str | None) -> str | None:
    if url is None or base is None or not url.startswith(PYTORCH_INDEX_BASE):
        return url
    return base.rstrip("/") + url[len(PYTORCH_INDEX_BASE):]


def _with_local(requirement: str, variant: str) -> str:
    if "+" in requirement or "==" not in requirement:
        return requirement
    return f"{requirement}+{variant}"


def _without_local(requirement: str) -> str:
    return requirement.split("+", 1)[0]


def _name(requirement: str) -> str:
    return requirement.split("=", 1)[0]


def _has_plain(pins: Pins) -> bool:
    return any(_name(r) in pins.plain for r in pins.requirements)


def install_argv(pins: Pins, options: CommandOptions) -> list[str]:
    """The argv; `options` were checked at the edge (cli_options), the matrix's own URLs here."""
    url = mirrored(pins.index_url, options.index_base)
    if url is not None:  # the matrix's address too: nothing reaches pip's argv unchecked
        check_url(url, f"the index of {pins.variant}", options.allow_insecure_index, allow_file=True)
    reqs = list(pins.requirements)
    for req in reqs:
        if not _REQUIREMENT.fullmatch(req):
            raise UsageError(f"refusing an odd requirement {req!r} from the matrix",
                             "Regenerate the matrix with `torchsetup matrix update`.")
    index_args: list[str] = []
    if url is None or pins.form == VariantForm.PYPI:
        pass  # the default package index is the PyTorch build (macOS, some CUDA defaults)
    elif pins.form in (VariantForm.FIND_LINKS, VariantForm.DOWNLOAD):
        index_args = ["--find-links", url] if options.installer == Installer.UV else ["-f", url]
    elif options.strategy == IndexStrategy.INDEX and not _has_plain(pins):
        reqs = [_without_local(r) for r in reqs]
        index_args = ["--index-url", url]
    elif options.strategy == IndexStrategy.INDEX:
        # a py3-none companion is published on PyPI only: PyPI joins as the one extra index, and
        # every compiled package keeps its local version so PyPI cannot replace it
        reqs = [r if _name(r) in pins.plain else _with_local(r, pins.variant) for r in reqs]
        index_args = ["--index-url", url, "--extra-index-url", PYPI_SIMPLE]
    else:
        # the primary index stays; pin the local version so a same-numbered build from the
        # primary index cannot win
        reqs = [r if _name(r) in pins.plain else _with_local(r, pins.variant) for r in reqs]
        index_args = ["--extra-index-url", url]
    if options.installer == Installer.UV:
        return ["uv", "pip", "install", "--python", options.python, *reqs, *index_args]
    return [options.python, "-m", "pip", "install", *reqs, *index_args]
