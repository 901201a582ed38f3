"""The probe document as frozen dataclasses, and its (validated) JSON form.

`None` always means "unknown"; a probe document may omit any key except `schema`.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from torchsetup.errors import UsageError

PROBE_SCHEMA = "torchsetup.probe/1"
NVIDIA_SOURCES = ("nvml", "nvidia-smi", "procfs", "file", "none")


@dataclass(frozen=True)
class OSInfo:
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
    executable: str | None = None
    version: str | None = None  # "3.11.7"
    free_threaded: bool | None = None

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
    driver_version: str | None = None
    cuda_driver_version: str | None = None
    source: str = "none"
    gpus: tuple[Gpu, ...] = ()
    error: str | None = None


@dataclass(frozen=True)
class CudaToolkit:
    version: str | None
    nvcc: str | None = None
    home: str | None = None


@dataclass(frozen=True)
class Installed:
    torch: str | None = None
    torchvision: str | None = None
    torchaudio: str | None = None


@dataclass(frozen=True)
class Machine:
    os: OSInfo | None = None
    python: PythonInfo | None = None
    nvidia: NvidiaInfo | None = None
    cuda_toolkit: CudaToolkit | None = None
    installed: Installed | None = None
    warnings: tuple[str, ...] = field(default_factory=tuple)


def parse_capability(text: str | None) -> tuple[int, int] | None:
    if not text:
        return None
    try:
        major, minor = text.strip().split(".")
        return int(major), int(minor)
    except ValueError:
        return None


# ---------------------------------------------------------------- to JSON


def machine_to_document(machine: Machine) -> dict[str, Any]:
    doc: dict[str, Any] = {"schema": PROBE_SCHEMA}
    if machine.os is not None:
        doc["os"] = _fields(machine.os)
    if machine.python is not None:
        doc["python"] = _fields(machine.python)
    if machine.nvidia is not None:
        nv = machine.nvidia
        doc["nvidia"] = {
            "driver_version": nv.driver_version,
            "cuda_driver_version": nv.cuda_driver_version,
            "source": nv.source,
            "gpus": [_fields(g) for g in nv.gpus],
            "error": nv.error,
        }
    doc["cuda_toolkit"] = _fields(machine.cuda_toolkit) if machine.cuda_toolkit else None
    if machine.installed is not None:
        doc["installed"] = _fields(machine.installed)
    doc["warnings"] = list(machine.warnings)
    return doc


def _fields(obj: Any) -> dict[str, Any]:
    return {name: getattr(obj, name) for name in obj.__dataclass_fields__}


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


def machine_from_document(data: Any, source: str) -> Machine:
    """Validate a recorded probe document; raise UsageError naming `source` and the problem."""
    r = _Reader(source)
    doc = r.obj(data, "document")
    schema = doc.get("schema")
    if schema != PROBE_SCHEMA:
        raise r.fail("schema", f"expected {PROBE_SCHEMA!r}, got {schema!r}")

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
        )
        if python.version is not None and python.minor_version is None:
            raise r.fail("python.version", f"not a Python version: {python.version!r}")
    nvidia = None
    if doc.get("nvidia") is not None:
        n = r.obj(doc["nvidia"], "nvidia")
        gpus_raw = n.get("gpus") or []
        if not isinstance(gpus_raw, list):
            raise r.fail("nvidia.gpus", "expected a list")
        gpus = []
        for i, g_raw in enumerate(gpus_raw):
            where = f"nvidia.gpus[{i}]"
            g = r.obj(g_raw, where)
            index = r.opt(g, "index", int, where)
            cc = r.opt(g, "compute_capability", str, where)
            if cc is not None and parse_capability(cc) is None:
                raise r.fail(f"{where}.compute_capability", f"not a capability like '8.6': {cc!r}")
            gpus.append(
                Gpu(
                    index=i if index is None else index,
                    name=r.opt(g, "name", str, where) or "unknown GPU",
                    uuid=r.opt(g, "uuid", str, where),
                    compute_capability=cc,
                    memory_total_mib=r.opt(g, "memory_total_mib", int, where),
                    mig=r.opt(g, "mig", bool, where),
                )
            )
        src = r.opt(n, "source", str, "nvidia") or "file"
        if src not in NVIDIA_SOURCES:
            raise r.fail("nvidia.source", f"expected one of {', '.join(NVIDIA_SOURCES)}, got {src!r}")
        nvidia = NvidiaInfo(
            driver_version=r.opt(n, "driver_version", str, "nvidia"),
            cuda_driver_version=r.opt(n, "cuda_driver_version", str, "nvidia"),
            source=src,
            gpus=tuple(gpus),
            error=r.opt(n, "error", str, "nvidia"),
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
    return Machine(
        os=os_info,
        python=python,
        nvidia=nvidia,
        cuda_toolkit=toolkit,
        installed=installed,
        warnings=tuple(warnings),
    )
