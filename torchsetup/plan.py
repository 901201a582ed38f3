"""What resolving gives: the plan (the chosen build and the exact command), the candidates that
lost and why, and the resolution that holds them. Below `resolve` (which makes them) and
`install` (which carries a plan out)."""

from __future__ import annotations

from dataclasses import dataclass

from torchsetup.kinds import FailureKind, VariantForm


@dataclass(frozen=True)
class Hold:
    """One requirement of one installed package on the torch family."""

    name: str
    version: str | None
    requires: str  # "torch==2.14.0"

    def words(self) -> str:
        return f"{self.name} {self.version or ''}".strip() + f" requires {self.requires}"


@dataclass(frozen=True)
class WithPackage:
    """A package asked for with --with, planned with torch (the plan document's `with`)."""

    name: str
    version: str
    source: str  # pypi | url (a release asset)
    url: str | None
    requirement: str  # what goes on the installer's command line


@dataclass(frozen=True)
class Plan:
    """The chosen build and the exact command that installs it."""

    torch: str
    torchvision: str | None
    torchaudio: str | None
    variant: str
    index_url: str | None
    command: tuple[str, ...]
    notes: tuple[str, ...]
    form: VariantForm = VariantForm.INDEX_URL
    label: str = ""  # the build in words: "cu128", "cu132, PyPI's own", "macOS: CPU and MPS"
    held_by: tuple[Hold, ...] = ()  # installed packages whose requirements hold the plan back
    newest_free: str | None = None  # with held_by: the newest torch that fits the machine without them
    breaks: tuple[Hold, ...] = ()  # with --ignore-dependents: the requirements the plan does not meet
    with_: tuple[WithPackage, ...] = ()  # --with: the packages planned with torch

    @property
    def local_version(self) -> str | None:
        """The local version the installed packages carry (+cu128), None for PyPI's own build."""
        return None if self.form == VariantForm.PYPI or self.index_url is None else self.variant


@dataclass(frozen=True)
class Rejection:
    """A candidate that lost, and why."""

    torch: str
    variant: str
    reason: str
    kind: FailureKind | None = None
    needs_driver: str | None = None  # a driver this new would lift the rejection
    kinds: tuple[FailureKind, ...] = ()  # every constraint it fails, not only the first
    pypi: bool = False  # PyPI's own wheel of that build (the same build is often on the PyTorch index too)


@dataclass(frozen=True)
class Resolution:
    """The plan (or the no-fit error), with every rejected candidate."""

    ok: bool
    plan: Plan | None
    rejected: tuple[Rejection, ...]
    error: str | None = None
    hint: str | None = None
