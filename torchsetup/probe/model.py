"""The probe document as frozen dataclasses, and its (validated) JSON form.

`None` always means "unknown"; a probe document may omit any key except `schema`.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from torchsetup.errors import UsageError

if TYPE_CHECKING:
    from torchsetup.dependents import Dependent
    from torchsetup.probe.vendors import AmdInfo, IntelInfo
from torchsetup.schemas import PROBE

NVIDIA_SOURCES = ("nvml", "nvidia-smi", "procfs", "file", "none")


@dataclass(frozen=True)
class OSInfo:
    """The operating system, architecture and libc of a machine."""

    system: str | None = None  # Linux | Windows | Darwin
    machine: str | None = None  # x86_64 | aarch64 | arm64 | AMD64
    libc: str | None = None  # "glibc 2.36"
    wsl: bool | None = None
    container: bool | None = None
    jetson: bool | None = None

    @property
    def glibc_version(self) -> tuple[int, int] | None:
        if not self.libc or not self.libc.startswith("glibc "):
            return None
        try:
            major, minor = self.libc.split()[1].split(".")[:2]
            return int(major), int(minor)
        except ValueError:
            return None


@dataclass(frozen=True)
class PythonInfo:
    """The target interpreter: path, version and whether it is free-threaded."""

    executable: str | None = None
    version: str | None = None  # "3.11.7"
    free_threaded: bool | None = None
    pip: bool | None = None  # pip can be imported there (added)
    externally_managed: bool | None = None  # PEP 668: pip refuses to install there (added)

    @property
    def minor_version(self) -> tuple[int, int] | None:
        if not self.version:
            return None
        parts = self.version.split(".")
        try:
            return int(parts[0]), int(parts[1])
        except (ValueError, IndexError):
            return None


@dataclass(frozen=True)
class Gpu:
    """One NVIDIA GPU as NVML or nvidia-smi reports it; None for a field it did not give."""

    index: int
    name: str
    uuid: str | None = None
    compute_capability: str | None = None  # "8.6"
    memory_total_mib: int | None = None
    mig: bool | None = None

    @property
    def capability(self) -> tuple[int, int] | None:
        return parse_capability(self.compute_capability)


@dataclass(frozen=True)
class NvidiaInfo:
    """The NVIDIA driver, its GPUs, where the facts came from, and why detection failed."""

    driver_version: str | None = None
    cuda_driver_version: str | None = None
    source: str = "none"
    gpus: tuple[Gpu, ...] = ()
    error: str | None = None
    pci_gpus: int | None = None  # NVIDIA display controllers on the PCI bus; None: not looked at


@dataclass(frozen=True)
class CudaToolkit:
    """A local CUDA toolkit (nvcc) when one is found."""

    version: str | None
    nvcc: str | None = None
    home: str | None = None


@dataclass(frozen=True)
class Installed:
    """The torch family's versions from their distribution metadata."""

    torch: str | None = None
    torchvision: str | None = None
    torchaudio: str | None = None


INSTALLERS = ("pip", "uv", "conda", "other")


@dataclass(frozen=True)
class Build:
    """What one installed package is, read from its own files (never by importing it)."""

    version: str | None  # torch/version.py's __version__ ("2.8.0+cu128"), else the dist-info's
    cuda: str | None = None  # "12.8"; None: no CUDA (or not known, when version_file is False)
    hip: str | None = None
    installer: str | None = None  # pip | uv | conda | other
    location: str | None = None
    git_version: str | None = None
    dist_version: str | None = None  # the dist-info's Version ("2.8.0")
    version_file: bool = False  # whether <package>/version.py was read
    cuda_known: bool = False  # version.py assigns `cuda` a literal (torch's does; torchvision's not)
    conda_build: str | None = None  # "py3.11_cuda12.1_cudnn8.9.2_0"
    conda_channel: str | None = None
    arch_list: str | None = None  # torch only: get_arch_list()'s string, read from torch/lib/libtorch_python.so

    @property
    def variant(self) -> str | None:
        """cu128 / rocm6.2 / cpu as the package's own files say; None when they do not say."""
        if self.cuda:
            major, _, minor = self.cuda.partition(".")
            return f"cu{major}{(minor or '0').split('.')[0]}" if major.isdigit() else None
        if self.hip:
            return "rocm" + ".".join(self.hip.split(".")[:2])
        if self.cuda_known:
            return "cpu"
        local = (self.version or "").partition("+")[2]
        return local if local.startswith(("cu", "cpu", "rocm")) else None

    @property
    def source_build(self) -> bool:
        """Built from a checkout: setup.py writes a git local part (2.5.0a0+git1a2b3c)."""
        return "+git" in (self.version or "")


def build_from_record(record: Any) -> Build | None:
    if not isinstance(record, dict):
        return None
    def text(key: str) -> str | None:
        value = record.get(key)
        return value if isinstance(value, str) else None
    installer = text("installer")
    return Build(version=text("version"), cuda=text("cuda"), hip=text("hip"),
                 installer=installer if installer in INSTALLERS else ("other" if installer else None),
                 location=text("location"), git_version=text("git_version"),
                 dist_version=text("dist_version"), version_file=record.get("version_file") is True,
                 cuda_known=record.get("cuda_known") is True,
                 conda_build=text("conda_build"), conda_channel=text("conda_channel"),
                 arch_list=text("arch_list"))


@dataclass(frozen=True)
class Machine:
    """One machine as probed or recorded: the probe document's facts."""

    os: OSInfo | None = None
    python: PythonInfo | None = None
    nvidia: NvidiaInfo | None = None
    cuda_toolkit: CudaToolkit | None = None
    installed: Installed | None = None
    warnings: tuple[str, ...] = field(default_factory=tuple)
    builds: dict[str, Build | None] | None = None  # None: not read (an older probe document)
    install_problems: tuple[str, ...] | None = None  # "code: what" each; None: not checked
    gpu_selection: tuple[int, ...] | None = None  # NVML indexes torch will use; None: all of them
    gpu_notes: tuple[str, ...] = ()  # what CUDA_VISIBLE_DEVICES / --gpus hid, in words
    gpus_hidden_from_torch: bool = False  # CUDA_VISIBLE_DEVICES hides every GPU
    toolkit_probed: bool = True  # False: a probe document without cuda_toolkit (unknown, not "none")
    dependents: tuple[Dependent, ...] | None = None  # None: not read (an older probe document)
    amd: AmdInfo | None = None  # None: not looked for (macOS, Windows, an older probe document)
    intel: IntelInfo | None = None


_CAPABILITY = re.compile(r"([0-9]{1,2})\.([0-9])")  # ASCII digits only: int() also takes "８"


def parse_capability(text: str | None) -> tuple[int, int] | None:
    match = _CAPABILITY.fullmatch(text.strip()) if text else None
    return (int(match[1]), int(match[2])) if match else None


# ---------------------------------------------------------------- from JSON


class _Reader:
    """Reads one JSON object field by field, naming the exact place of any problem."""

    def __init__(self, source: str) -> None:
        self.source = source

    def fail(self, where: str, what: str) -> UsageError:
        return UsageError(
            f"{self.source}: {where}: {what}",
            "Record a probe document with `torchsetup probe --json > FILE` and pass that file.",
        )

    def obj(self, data: Any, where: str) -> dict[str, Any]:
        if not isinstance(data, dict):
            raise self.fail(where, f"expected an object, got {type(data).__name__}")
        return data

    def opt(self, data: dict[str, Any], key: str, kind: type | tuple[type, ...], where: str) -> Any:
        value = data.get(key)
        if value is None:
            return None
        if kind is int and isinstance(value, bool):
            raise self.fail(f"{where}.{key}", "expected an integer, got a boolean")
        if not isinstance(value, kind):
            expected = kind.__name__ if isinstance(kind, type) else "/".join(k.__name__ for k in kind)
            raise self.fail(f"{where}.{key}", f"expected {expected}, got {type(value).__name__}")
        return value


def _count(r: _Reader, data: dict[str, Any], key: str, where: str) -> int | None:
    value = r.opt(data, key, int, where)
    if value is not None and not 0 <= value < 4096:
        raise r.fail(f"{where}.{key}", f"out of range: {value}")
    return value


_ARCH_WORD = re.compile(r"(?:sm|compute)_[0-9]{2,3}[af]?")
_VERSION_TEXT = re.compile(r"[0-9]+(\.[0-9]+)*")


def machine_from_document(data: Any, source: str) -> Machine:
    """Validate a recorded probe document; raise UsageError naming `source` and the problem."""
    r = _Reader(source)
    doc = r.obj(data, "document")
    schema = doc.get("schema")
    if schema != PROBE:
        raise r.fail("schema", f"expected {PROBE!r}, got {schema!r}")

    os_info = None
    if doc.get("os") is not None:
        o = r.obj(doc["os"], "os")
        os_info = OSInfo(
            system=r.opt(o, "system", str, "os"),
            machine=r.opt(o, "machine", str, "os"),
            libc=r.opt(o, "libc", str, "os"),
            wsl=r.opt(o, "wsl", bool, "os"),
            container=r.opt(o, "container", bool, "os"),
            jetson=r.opt(o, "jetson", bool, "os"),
        )
    python = None
    if doc.get("python") is not None:
        p = r.obj(doc["python"], "python")
        python = PythonInfo(
            executable=r.opt(p, "executable", str, "python"),
            version=r.opt(p, "version", str, "python"),
            free_threaded=r.opt(p, "free_threaded", bool, "python"),
            pip=r.opt(p, "pip", bool, "python"),
            externally_managed=r.opt(p, "externally_managed", bool, "python"),
        )
        if python.version is not None and python.minor_version is None:
            raise r.fail("python.version", f"not a Python version: {python.version!r}")
    nvidia = None
    if doc.get("nvidia") is not None:
        n = r.obj(doc["nvidia"], "nvidia")
        gpus_raw = n.get("gpus", [])
        if gpus_raw is None:
            gpus_raw = []
        if not isinstance(gpus_raw, list):
            raise r.fail("nvidia.gpus", f"expected a list, got {type(gpus_raw).__name__}")
        gpus = []
        for i, g_raw in enumerate(gpus_raw):
            where = f"nvidia.gpus[{i}]"
            g = r.obj(g_raw, where)
            index = r.opt(g, "index", int, where)
            if index is not None and not 0 <= index < 4096:
                raise r.fail(f"{where}.index", f"out of range: {index}")
            memory = r.opt(g, "memory_total_mib", int, where)
            if memory is not None and not 0 <= memory < 1 << 40:
                raise r.fail(f"{where}.memory_total_mib", f"out of range: {memory}")
            cc = r.opt(g, "compute_capability", str, where)
            if cc is not None and parse_capability(cc) is None:
                raise r.fail(f"{where}.compute_capability", f"not a capability like '8.6': {cc!r}")
            gpus.append(
                Gpu(
                    index=i if index is None else index,
                    name=r.opt(g, "name", str, where) or "unknown GPU",
                    uuid=r.opt(g, "uuid", str, where),
                    compute_capability=cc,
                    memory_total_mib=memory,
                    mig=r.opt(g, "mig", bool, where),
                )
            )
        src = r.opt(n, "source", str, "nvidia") or "file"
        if src not in NVIDIA_SOURCES:
            raise r.fail("nvidia.source", f"expected one of {', '.join(NVIDIA_SOURCES)}, got {src!r}")
        for key in ("driver_version", "cuda_driver_version"):
            value = r.opt(n, key, str, "nvidia")
            if value is not None and not _VERSION_TEXT.fullmatch(value):
                raise r.fail(f"nvidia.{key}", f"not a version like '535.104.05': {value[:40]!r}")
        nvidia = NvidiaInfo(
            driver_version=r.opt(n, "driver_version", str, "nvidia"),
            cuda_driver_version=r.opt(n, "cuda_driver_version", str, "nvidia"),
            source=src,
            gpus=tuple(gpus),
            error=r.opt(n, "error", str, "nvidia"),
            pci_gpus=_count(r, n, "pci_gpus", "nvidia"),
        )
    toolkit = None
    if doc.get("cuda_toolkit") is not None:
        t = r.obj(doc["cuda_toolkit"], "cuda_toolkit")
        toolkit = CudaToolkit(
            version=r.opt(t, "version", str, "cuda_toolkit"),
            nvcc=r.opt(t, "nvcc", str, "cuda_toolkit"),
            home=r.opt(t, "home", str, "cuda_toolkit"),
        )
    installed = None
    if doc.get("installed") is not None:
        i_doc = r.obj(doc["installed"], "installed")
        installed = Installed(
            torch=r.opt(i_doc, "torch", str, "installed"),
            torchvision=r.opt(i_doc, "torchvision", str, "installed"),
            torchaudio=r.opt(i_doc, "torchaudio", str, "installed"),
        )
    warnings = doc.get("warnings") or []
    if not isinstance(warnings, list) or not all(isinstance(w, str) for w in warnings):
        raise r.fail("warnings", "expected a list of strings")
    builds: dict[str, Build | None] | None = None
    if doc.get("builds") is not None:
        b_doc = r.obj(doc["builds"], "builds")
        builds = {}
        for name in ("torch", "torchvision", "torchaudio"):
            if b_doc.get(name) is None:
                builds[name] = None
                continue
            where = f"builds.{name}"
            entry = r.obj(b_doc[name], where)
            for key in ("version", "cuda", "hip", "installer", "location", "git_version", "dist_version",
                        "conda_build", "conda_channel", "arch_list"):
                r.opt(entry, key, str, where)
            words = (entry.get("arch_list") or "").split()
            if entry.get("arch_list") is not None and not (words and all(_ARCH_WORD.fullmatch(w) for w in words)):
                raise r.fail(f"{where}.arch_list", "expected words such as 'sm_80 sm_90 compute_90'")
            r.opt(entry, "version_file", bool, where)
            r.opt(entry, "cuda_known", bool, where)
            if entry.get("installer") is not None and entry["installer"] not in INSTALLERS:
                raise r.fail(f"{where}.installer", f"expected one of {', '.join(INSTALLERS)}")
            builds[name] = build_from_record(entry)
    dependents = read_dependents(doc.get("dependents"), r) if doc.get("dependents") is not None else None
    amd = intel = None
    if doc.get("amd") is not None or doc.get("intel") is not None:
        from torchsetup.probe.vendors import read_amd, read_intel

        amd = read_amd(doc["amd"], r.fail) if doc.get("amd") is not None else None
        intel = read_intel(doc["intel"], r.fail) if doc.get("intel") is not None else None
    problems = doc.get("install_problems")
    if problems is not None and (not isinstance(problems, list) or not all(isinstance(x, str) for x in problems)):
        raise r.fail("install_problems", "expected a list of strings")
    return Machine(
        os=os_info,
        python=python,
        nvidia=nvidia,
        cuda_toolkit=toolkit,
        installed=installed,
        warnings=tuple(warnings),
        builds=builds,
        install_problems=tuple(problems) if problems is not None else None,
        toolkit_probed="cuda_toolkit" in doc,
        dependents=dependents,
        amd=amd,
        intel=intel,
    )


def read_dependents(value: object, r: _Reader) -> tuple[Dependent, ...]:
    if not isinstance(value, list):
        raise r.fail("dependents", "expected a list")
    if not value:
        return ()
    from torchsetup.dependents import BuiltFor, Dependent

    out = []
    for number, raw in enumerate(value):
        where = f"dependents[{number}]"
        entry = r.obj(raw, where)
        requires = entry.get("requires", [])
        if not isinstance(requires, list) or not all(isinstance(x, str) for x in requires):
            raise r.fail(f"{where}.requires", "expected a list of strings")
        built = entry.get("built_for")
        built_for = None
        if built is not None:
            b = r.obj(built, f"{where}.built_for")
            built_for = BuiltFor(r.opt(b, "torch", str, where), r.opt(b, "cuda", str, where),
                                 r.opt(b, "cxx11abi", bool, where))
        out.append(Dependent(str(r.opt(entry, "name", str, where) or "?"), r.opt(entry, "version", str, where),
                             tuple(requires), r.opt(entry, "compiled", bool, where), built_for))
    return tuple(out)


MAX_PROBE_FILE = 4 * 1024 * 1024


def load_probe_file(path: str) -> Machine:
    """A recorded probe document (`torchsetup probe --json > FILE`), validated."""
    from torchsetup.jsonfile import read_json_file

    hint = "Record a probe document with `torchsetup probe --json > FILE`."
    return machine_from_document(read_json_file(path, "probe file", MAX_PROBE_FILE, hint, UsageError), path)
