"""A fake of the `pynvml` module that answers with NVML readings written as JSON.

The readings in fixtures/nvml/ were written by hand from driver and GPU tables, not recorded on
machines. The fake raises the real `pynvml.NVMLError` classes with real NVML codes, so the code
under test (torchsetup.probe.nvml.read_nvml) sees what it would see on such a machine.
A reading without "cuda_v2" behaves like a driver whose NVML lacks the _v2 function: the call
raises NVMLError_FunctionNotFound (the binding always has the attribute).
"""

from __future__ import annotations

import json
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pynvml

FIXTURES = Path(__file__).parent / "fixtures" / "nvml"


class FakeNvml:
    def __init__(self, reading: dict[str, Any]) -> None:
        self.reading = reading
        self.shutdown_called = False

    @classmethod
    def named(cls, name: str) -> FakeNvml:
        return cls(json.loads((FIXTURES / f"{name}.json").read_text()))

    def _raise_if(self, code: int | None) -> None:
        if code is not None:
            raise pynvml.NVMLError(code)

    def nvmlInit(self) -> None:
        self._raise_if(self.reading.get("init_error"))

    def nvmlShutdown(self) -> None:
        self.shutdown_called = True

    def nvmlSystemGetDriverVersion(self) -> str:
        return self.reading["driver"]

    def nvmlSystemGetCudaDriverVersion_v2(self) -> int:
        if self.reading.get("no_v2"):
            raise pynvml.NVMLError(pynvml.NVML_ERROR_FUNCTION_NOT_FOUND)
        return self.reading["cuda"]

    def nvmlSystemGetCudaDriverVersion(self) -> int:
        return self.reading["cuda"]

    def nvmlDeviceGetCount(self) -> int:
        return len(self.reading["devices"])

    def nvmlDeviceGetHandleByIndex(self, index: int) -> dict[str, Any]:
        device = self.reading["devices"][index]
        self._raise_if(device.get("handle_error"))
        return device

    def _field(self, device: dict[str, Any], key: str) -> Any:
        self._raise_if(device.get("errors", {}).get(key))
        return device[key]

    def nvmlDeviceGetName(self, h: dict[str, Any]) -> str | bytes:
        name = self._field(h, "name")
        return name.encode("latin-1") if h.get("name_bytes") else name

    def nvmlDeviceGetUUID(self, h: dict[str, Any]) -> str:
        return self._field(h, "uuid")

    def nvmlDeviceGetCudaComputeCapability(self, h: dict[str, Any]) -> tuple[int, int]:
        return tuple(self._field(h, "cc"))  # type: ignore[return-value]

    def nvmlDeviceGetMemoryInfo(self, h: dict[str, Any]) -> SimpleNamespace:
        return SimpleNamespace(total=self._field(h, "memory_bytes"))

    def nvmlDeviceGetMigMode(self, h: dict[str, Any]) -> list[int]:
        return list(self._field(h, "mig"))
