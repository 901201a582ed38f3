"""The closed sets torchsetup reasons with, as types. Each member's value is the string the JSON
documents and the matrix file use (the contract's words), so a member is written as it always was.
A leaf module: it imports nothing of torchsetup."""

from __future__ import annotations

import re
from dataclasses import dataclass
from enum import Enum

FAMILY = ("torch", "torchvision", "torchaudio")  # the packages torchsetup plans together


class Choice(str, Enum):
    """A closed set of strings: compares equal to, formats and serialises as its value."""

    def __str__(self) -> str:
        return str(self.value)


class Severity(Choice):
    """How bad a doctor finding is."""

    ERROR = "error"
    WARNING = "warning"
    INFO = "info"


class GpuState(Choice):
    """How a target's NVIDIA side reads to the rules."""

    GPUS = "gpus"  # GPUs answered
    NO_GPU = "no-gpu"  # nothing NVIDIA here
    UNUSABLE = "unusable"  # a driver or a GPU on the bus, but nothing that can be used


class FailureKind(Choice):
    """The constraint a candidate build fails (or why it lost)."""

    DRIVER = "driver"
    ARCH = "arch"
    PYTHON = "python"
    GLIBC = "glibc"
    PLATFORM = "platform"
    GPU = "gpu"
    CPU = "cpu"
    EXTENSIONS = "extensions"
    DATA = "data"
    PREFERENCE = "preference"
    DEPENDENT = "dependent"  # an installed package's requirement on the torch family


class InstallAction(Choice):
    """The `action` of the install document."""

    DRY_RUN = "dry-run"
    INSTALLED = "installed"
    ALREADY_INSTALLED = "already-installed"
    DECLINED = "declined"
    FAILED = "failed"


class Installer(Choice):
    PIP = "pip"
    UV = "uv"


class IndexStrategy(Choice):
    """extra: PyPI stays the primary index and pins carry the local version; index: the variant's
    index alone (`--index-url`)."""

    EXTRA = "extra"
    INDEX = "index"


class VariantForm(Choice):
    """How a variant's source installs it."""

    INDEX_URL = "index-url"
    EXTRA_INDEX_URL = "extra-index-url"
    FIND_LINKS = "find-links"
    PYPI = "pypi"
    DOWNLOAD = "download"
    UNKNOWN = "unknown"


class BackendKind(Choice):
    CPU = "cpu"
    CUDA = "cuda"
    ROCM = "rocm"
    XPU = "xpu"
    OTHER = "other"


_BACKEND = re.compile(r"(cu|rocm|xpu)(\d+(?:\.\d+)*)?")


@dataclass(frozen=True, order=True)
class Backend:
    """A variant's backend and version: cu128 is CUDA (12, 8), rocm6.2 is ROCm (6, 2), cpu is CPU."""

    kind: BackendKind
    version: tuple[int, ...] = ()

    @classmethod
    def of(cls, name: str) -> Backend:
        if name == "cpu":
            return cls(BackendKind.CPU)
        match = _BACKEND.fullmatch(name)
        if match is None:
            return cls(BackendKind.OTHER)
        prefix, digits = match[1], match[2] or ""
        if prefix == "cu":
            version = (int(digits[:-1]), int(digits[-1])) if len(digits) >= 2 else ()
            return cls(BackendKind.CUDA, version)
        kind = BackendKind.ROCM if prefix == "rocm" else BackendKind.XPU
        return cls(kind, tuple(int(p) for p in digits.split(".")) if digits else ())
