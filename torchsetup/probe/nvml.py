"""NVIDIA facts through NVML. The only module that imports `pynvml` (nvidia-ml-py).

`read_nvml(lib)` takes the NVML binding as an argument: the real `pynvml` module by default
(imported lazily, never at import time), or in tests a fake with the same functions. Every field
is read on its own: a field the GPU does not support (MIG mode on a GeForce) is quietly `None`,
any other failure is `None` plus a warning, and a lost GPU does not sink the others.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, TypeVar

from torchsetup.probe.model import Gpu

T = TypeVar("T")

# NVML return codes (nvml.h); kept here so diagnosis works even when pynvml is absent.
NOT_SUPPORTED = 3
NO_PERMISSION = 4
FUNCTION_NOT_FOUND = 13
LIB_RM_VERSION_MISMATCH = 18


@dataclass(frozen=True)
class NvmlReading:
    """What NVML answered. `failure` is set (with its NVML code) when NVML could not start."""

    driver_version: str | None
    cuda_driver_version: str | None
    gpus: tuple[Gpu, ...]
    warnings: tuple[str, ...]
    failure: str | None = None
    failure_code: int | None = None


def load_pynvml() -> Any:
    import pynvml  # deferred: it loads libnvidia-ml, which only a machine with the driver has

    return pynvml


def cuda_version_from_int(value: int) -> str | None:
    """NVML/cuDriverGetVersion encoding: 1000*major + 10*minor (12040 -> "12.4")."""
    if value <= 0:
        return None
    return f"{value // 1000}.{(value % 1000) // 10}"


def _text(value: Any) -> str:
    return value.decode("utf-8", errors="replace") if isinstance(value, bytes) else str(value)


def _error_code(exc: BaseException) -> int | None:
    value = getattr(exc, "value", None)
    return value if isinstance(value, int) else None


def read_nvml(lib: Any = None) -> NvmlReading:
    if lib is None:
        try:
            lib = load_pynvml()
        except ImportError:
            return NvmlReading(None, None, (), (), "nvidia-ml-py is not installed", None)
    try:
        lib.nvmlInit()
    except Exception as exc:  # NVMLError, or OSError from a broken libnvidia-ml
        return NvmlReading(None, None, (), (), str(exc) or type(exc).__name__, _error_code(exc))
    warnings: list[str] = []
    try:

        def field(what: str, read: Callable[[], T]) -> T | None:
            try:
                return read()
            except Exception as exc:
                if _error_code(exc) != NOT_SUPPORTED:  # "not supported" is an answer, not a fault
                    warnings.append(f"NVML: {what}: {exc}")
                return None

        driver = field("driver version", lambda: _text(lib.nvmlSystemGetDriverVersion()))
        cuda_int = field("CUDA driver version", lambda: _cuda_driver_int(lib))
        cuda = cuda_version_from_int(cuda_int) if cuda_int else None
        count = field("device count", lib.nvmlDeviceGetCount) or 0
        gpus = []
        for index in range(count):
            try:
                handle = lib.nvmlDeviceGetHandleByIndex(index)
            except Exception as exc:
                warnings.append(f"NVML: GPU {index}: cannot be reached ({exc}); skipped")
                continue
            gpus.append(_read_gpu(lib, index, handle, field))
        return NvmlReading(driver, cuda, tuple(gpus), tuple(warnings))
    finally:
        with contextlib.suppress(Exception):
            lib.nvmlShutdown()


def _cuda_driver_int(lib: Any) -> int:
    """The _v2 call first; a driver whose NVML lacks it raises FunctionNotFound on the call (the
    binding always has the attribute), and then the first version answers."""
    try:
        return int(lib.nvmlSystemGetCudaDriverVersion_v2())
    except Exception as exc:
        if _error_code(exc) != FUNCTION_NOT_FOUND and not isinstance(exc, AttributeError):
            raise
    return int(lib.nvmlSystemGetCudaDriverVersion())


def _read_gpu(lib: Any, index: int, handle: Any, field: Callable[..., Any]) -> Gpu:
    label = f"GPU {index}"
    name = field(f"{label} name", lambda: _text(lib.nvmlDeviceGetName(handle)))
    uuid = field(f"{label} UUID", lambda: _text(lib.nvmlDeviceGetUUID(handle)))
    cc = field(f"{label} compute capability", lambda: lib.nvmlDeviceGetCudaComputeCapability(handle))
    memory = field(f"{label} memory", lambda: lib.nvmlDeviceGetMemoryInfo(handle).total)
    mig = field(f"{label} MIG mode", lambda: lib.nvmlDeviceGetMigMode(handle)[0])
    return Gpu(
        index=index,
        name=name or "unknown GPU",
        uuid=uuid,
        compute_capability=f"{cc[0]}.{cc[1]}" if cc else None,
        memory_total_mib=int(memory) // (1024 * 1024) if memory is not None else None,
        mig=bool(mig) if mig is not None else None,
    )
