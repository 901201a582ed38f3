"""A stand-in for the `pynvml` module that replays NVML readings recorded as JSON.

It raises the real `pynvml.NVMLError` classes with real NVML codes, so the code under test
(torchsetup.probe.nvml.read_nvml) sees exactly what it would see on the machine recorded.
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

    def nvmlDeviceGetName(self, h: dict[str, Any]) -> str:
        return self._field(h, "name")

    def nvmlDeviceGetUUID(self, h: dict[str, Any]) -> str:
        return self._field(h, "uuid")

    def nvmlDeviceGetCudaComputeCapability(self, h: dict[str, Any]) -> tuple[int, int]:
        return tuple(self._field(h, "cc"))  # type: ignore[return-value]

    def nvmlDeviceGetMemoryInfo(self, h: dict[str, Any]) -> SimpleNamespace:
        return SimpleNamespace(total=self._field(h, "memory_bytes"))

    def nvmlDeviceGetMigMode(self, h: dict[str, Any]) -> list[int]:
        return list(self._field(h, "mig"))
