"""NVIDIA facts without NVML: `nvidia-smi` (with a timeout), then the kernel module's version files."""

from __future__ import annotations

import io
import os
import re
import shutil
import subprocess
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from torchsetup import children
from torchsetup.probe.model import Gpu

QUERY_FULL = "index,name,uuid,compute_cap,memory.total,mig.mode.current,driver_version"
QUERY_BASIC = "index,name,uuid,memory.total,driver_version"
WSL_SMI = "/usr/lib/wsl/lib/nvidia-smi"
_MISSING = {"", "[N/A]", "N/A", "[Not Supported]", "[Insufficient Permissions]", "[Unknown Error]"}


@dataclass(frozen=True)
class SmiReading:
    """What nvidia-smi answered, or how it failed."""

    ran: bool  # an nvidia-smi binary was found and started
    driver_version: str | None
    cuda_driver_version: str | None
    gpus: tuple[Gpu, ...]
    warnings: tuple[str, ...]
    exit_code: int | None = None
    output: str = ""  # what a failing nvidia-smi said (for the diagnosis)
    timed_out: bool = False


def find_nvidia_smi(environ: Mapping[str, str], root: Path) -> str | None:
    found = shutil.which("nvidia-smi", path=environ.get("PATH", os.defpath))
    if found:
        return found
    wsl = root / WSL_SMI.lstrip("/")
    return str(wsl) if wsl.is_file() and os.access(wsl, os.X_OK) else None


def _run(argv: list[str], timeout: float) -> subprocess.CompletedProcess[str]:
    return children.run(argv, timeout)


def read_nvidia_smi(smi: str, timeout: float) -> SmiReading:
    warnings: list[str] = []
    try:
        proc = _run([smi, f"--query-gpu={QUERY_FULL}", "--format=csv,noheader,nounits"], timeout)
        fields = QUERY_FULL.split(",")
        if proc.returncode != 0 and "not a valid field" in (proc.stdout + proc.stderr):
            # drivers before ~510 do not know compute_cap / mig.mode.current
            proc = _run([smi, f"--query-gpu={QUERY_BASIC}", "--format=csv,noheader,nounits"], timeout)
            fields = QUERY_BASIC.split(",")
            warnings.append("nvidia-smi: this driver cannot report compute capability")
    except subprocess.TimeoutExpired:
        return SmiReading(True, None, None, (), (f"nvidia-smi did not answer within {timeout:g} s",),
                          timed_out=True)
    except OSError as exc:
        return SmiReading(True, None, None, (), (f"nvidia-smi could not start: {exc}",))
    gpus, driver, row_warnings = _rows(proc.stdout, fields)
    if proc.returncode != 0:
        said = (proc.stdout + proc.stderr).strip()
        if not gpus:
            return SmiReading(True, None, None, (), (), exit_code=proc.returncode, output=said)
        # one GPU failing (an "Unknown Error" row) must not discard the GPUs that answered
        bad = [line for line in said.splitlines() if line.count(",") < len(fields) - 1][:3]
        warnings.append(f"nvidia-smi exited {proc.returncode} but listed {len(gpus)} GPU(s)"
                        + (f": {'; '.join(bad)}" if bad else ""))
    warnings.extend(row_warnings)
    cuda = read_smi_cuda_version(smi, timeout)
    return SmiReading(True, driver, cuda, tuple(gpus), tuple(warnings), exit_code=0)


def _rows(stdout: str, fields: list[str]) -> tuple[list[Gpu], str | None, list[str]]:
    warnings: list[str] = []
    gpus: list[Gpu] = []
    driver: str | None = None
    import csv  # only when nvidia-smi answered

    for row in csv.reader(io.StringIO(stdout), skipinitialspace=True):
        if not row or not any(cell.strip() for cell in row):
            continue
        if len(row) != len(fields):
            if len(row) > 1:
                warnings.append(f"nvidia-smi: unexpected line skipped: {','.join(row)!r}")
            continue
        cell = {name: _value(v) for name, v in zip(fields, row, strict=True)}
        driver = driver or cell.get("driver_version")
        index = _int(cell.get("index"))
        position = len(gpus) if index is None else index
        for name in ("compute_cap", "memory.total", "mig.mode.current", "uuid"):
            if name in fields and cell.get(name) is None:
                warnings.append(f"nvidia-smi: GPU {position} {name}: not available")
        mig = cell.get("mig.mode.current")
        gpus.append(
            Gpu(
                index=position,
                name=cell.get("name") or "unknown GPU",
                uuid=cell.get("uuid"),
                compute_capability=cell.get("compute_cap"),
                memory_total_mib=_int(cell.get("memory.total")),
                mig=None if mig is None else mig.lower() == "enabled",
            )
        )
    return gpus, driver, warnings


def read_smi_cuda_version(smi: str, timeout: float) -> str | None:
    """The 'CUDA Version: 12.2' of nvidia-smi's banner (not available through --query-gpu)."""
    try:
        proc = _run([smi], timeout)
    except (subprocess.TimeoutExpired, OSError):
        return None
    match = re.search(r"CUDA Version:\s*([0-9]+\.[0-9]+)", proc.stdout)
    return match.group(1) if match else None


def _value(text: str) -> str | None:
    text = text.strip()
    return None if text in _MISSING else text


def _int(text: str | None) -> int | None:
    if text is None:
        return None
    try:
        return int(float(text.split()[0]))
    except (ValueError, IndexError):
        return None


def read_module_version(root: Path) -> str | None:
    """The loaded kernel module's version: /proc/driver/nvidia/version, else /sys/module/nvidia/version."""
    proc = root / "proc/driver/nvidia/version"
    try:
        match = re.search(r"Kernel Module(?: for \S+)?\s+([0-9]+(?:\.[0-9]+)+)", proc.read_text())
        if match:
            return match.group(1)
    except OSError:
        pass
    try:
        text = (root / "sys/module/nvidia/version").read_text().strip()
        return text or None
    except OSError:
        return None
