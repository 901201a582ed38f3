"""A whole Machine: this one probed (NVML, nvidia-smi, sysfs, the interpreter child) or one recorded."""

from __future__ import annotations

import math
import os
from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

from torchsetup import children
from torchsetup.errors import UsageError
from torchsetup.probe.interpreter import (
    default_python,
    finish_interpreter_probe,
    stale_environments,
    start_interpreter_probe,
)
from torchsetup.probe.model import Machine, NvidiaInfo, OSInfo
from torchsetup.probe.pci import nvidia_pci_gpus
from torchsetup.probe.system import has_nvidia_device_nodes, read_os
from torchsetup.probe.toolkit import start_toolkit_read

if TYPE_CHECKING:
    from torchsetup.probe.smi import SmiReading
    from torchsetup.probe.vendors import AmdInfo, IntelInfo

DEFAULT_TIMEOUT = 15.0  # nvidia-smi takes 6 s on a big node; a hung one is stopped at this bound

__all__ = ["probe_machine", "probe_nvidia", "default_python"]

NO_KERNEL_MODULE = "no NVIDIA kernel module loaded (/proc/driver/nvidia, /dev/nvidia*, /dev/dxg absent)"


def probe_timeout(environ: Mapping[str, str]) -> float:
    raw = environ.get("TORCHSETUP_PROBE_TIMEOUT")
    if raw is None or not raw.strip():
        return DEFAULT_TIMEOUT
    try:
        value = float(raw)
    except ValueError:
        value = math.nan
    if not math.isfinite(value) or value <= 0:
        raise UsageError(f"TORCHSETUP_PROBE_TIMEOUT={raw!r} is not a positive number of seconds",
                         "Set it to e.g. 15, or unset it.")
    return value


def probe_nvidia(
    os_info: OSInfo,
    nvml_lib: Any = None,
    environ: Mapping[str, str] | None = None,
    root: Path = Path("/"),
    timeout: float = DEFAULT_TIMEOUT,
) -> tuple[NvidiaInfo, tuple[str, ...]]:
    """NVML first; then nvidia-smi; then the kernel module's version file; then a diagnosis."""
    env = os.environ if environ is None else environ
    if nvml_lib is None and os_info.system != "Windows" and not nvidia_kernel_present(root):
        # No kernel module and no device node: NVML cannot answer, so it is not loaded.
        failure = NO_KERNEL_MODULE
        failure_code = None
    else:
        from torchsetup.probe.nvml import read_nvml

        reading = read_nvml(nvml_lib)
        if reading.failure is None:
            error = None
            if not reading.gpus:
                error = ("the NVIDIA driver is loaded but reports no GPU "
                         "(check that the card is seated, powered and bound to the nvidia driver)")
            return NvidiaInfo(reading.driver_version, reading.cuda_driver_version, "nvml",
                              reading.gpus, error), reading.warnings
        failure, failure_code = reading.failure, reading.failure_code

    # NVML could not answer: nvidia-smi, the module's version file, then a diagnosis
    from torchsetup.probe.smi import find_nvidia_smi, read_module_version, read_nvidia_smi

    warnings = [f"NVML unavailable: {failure}"]
    smi_path = find_nvidia_smi(env, root)
    smi = read_nvidia_smi(smi_path, timeout) if smi_path else None
    if smi is not None:
        warnings.extend(smi.warnings)
        if smi.exit_code == 0:
            error = None if smi.gpus else "nvidia-smi answered but lists no GPU"
            return NvidiaInfo(smi.driver_version, smi.cuda_driver_version, "nvidia-smi",
                              smi.gpus, error), tuple(warnings)

    module_version = read_module_version(root)
    error = _diagnose(failure, failure_code, smi, module_version, os_info, root)
    on_bus = nvidia_pci_gpus(root)
    if on_bus:
        error = (f"{len(on_bus)} NVIDIA GPU(s) on the PCI bus ({', '.join(on_bus[:4])}), but the driver cannot "
                 f"be used: " + (error if module_version or smi is not None or os_info.container else
                                 "the nvidia kernel module is not loaded (after a driver upgrade without a "
                                 "reboot, or Secure Boot refusing an unsigned module): run `sudo modprobe "
                                 "nvidia` or reboot; under Secure Boot, enroll the module's key (mokutil)"))
    pci = len(on_bus) if os_info.system in (None, "Linux") else None
    if module_version is not None:
        return NvidiaInfo(module_version, None, "procfs", (), error, pci), tuple(warnings)
    return NvidiaInfo(None, None, "none", (), error, pci), tuple(warnings)


def nvidia_kernel_present(root: Path) -> bool:
    """The NVIDIA kernel module (or WSL's GPU bridge) is visible: NVML may work."""
    return ((root / "proc/driver/nvidia").exists() or has_nvidia_device_nodes(root)
            or (root / "dev/dxg").exists())


def _diagnose(failure: str, failure_code: int | None, smi: SmiReading | None,
              module_version: str | None, os_info: OSInfo, root: Path) -> str:
    said = (smi.output if smi is not None else "").lower()
    smi_code = smi.exit_code if smi is not None else None
    mismatch = permission = False
    if failure_code is not None:  # NVML was loaded and said why it failed
        from torchsetup.probe.nvml import LIB_RM_VERSION_MISMATCH, NO_PERMISSION

        mismatch, permission = failure_code == LIB_RM_VERSION_MISMATCH, failure_code == NO_PERMISSION
    if mismatch or smi_code == 18 or "version mismatch" in said:
        return ("driver/library version mismatch: the loaded kernel module and the user-space "
                "driver differ, usually after a driver upgrade; reboot (or reload the nvidia module)")
    if permission or smi_code == 4 or "insufficient permissions" in said or "permission denied" in said:
        return ("permission denied opening the NVIDIA devices (/dev/nvidia*): "
                "check their permissions or the user's group (video/render)")
    if smi is not None and smi.timed_out:
        return "nvidia-smi hung and was stopped; the driver may be wedged (check dmesg, reboot)"
    if os_info.wsl:
        return ("WSL without GPU access: /usr/lib/wsl/lib/nvidia-smi not found; install the NVIDIA "
                "Windows driver with WSL support and update WSL (wsl --update)")
    if os_info.container and not has_nvidia_device_nodes(root):
        return ("no NVIDIA driver visible: this container has no /dev/nvidia* devices; if the host "
                "has a GPU, start the container with --gpus all and the NVIDIA Container Toolkit")
    if module_version is not None:
        return (f"the NVIDIA kernel module {module_version} is loaded but NVML cannot be used "
                f"({failure}); install the matching user-space driver libraries")
    if smi is not None and smi_code not in (None, 0):
        return f"nvidia-smi failed (exit {smi_code}): {smi.output or 'no output'}"
    return "no NVIDIA driver found (no NVML library, no nvidia-smi, no /proc/driver/nvidia)"


def probe_machine(
    python: str | None = None,
    nvml_lib: Any = None,
    environ: Mapping[str, str] | None = None,
    root: Path = Path("/"),
) -> Machine:
    """Probe everything: the target interpreter's child and `nvcc` (when it must be asked) run
    while the rest is probed."""
    env = os.environ if environ is None else environ
    timeout = probe_timeout(env)
    target = python or default_python(env)
    child = start_interpreter_probe(target)
    pending_toolkit = None
    try:
        pending_toolkit = start_toolkit_read(env, root, timeout)  # nvcc, when asked, runs meanwhile
        os_info = read_os(root, env)
        nvidia, nv_warnings = probe_nvidia(os_info, nvml_lib, env, root, timeout)
        amd, intel = probe_other_vendors(os_info, env, root)
        facts = finish_interpreter_probe(child, target)
        toolkit = pending_toolkit.answer()
    except BaseException:
        if child.poll() is None:  # a reaped child's group id may be reused
            children.kill_group(child)
        if pending_toolkit is not None:
            pending_toolkit.abandon()
        raise
    return Machine(
        os=os_info,
        python=facts.python,
        nvidia=nvidia,
        cuda_toolkit=toolkit,
        installed=facts.installed,
        warnings=tuple(nv_warnings) + tuple(stale_environments(env) if python is None else ()) + facts.warnings,
        builds=facts.builds,
        install_problems=facts.install_problems,
        dependents=facts.dependents,
        amd=amd,
        intel=intel,
    )


def probe_other_vendors(os_info: OSInfo, environ: Mapping[str, str], root: Path
                        ) -> tuple[AmdInfo | None, IntelInfo | None]:
    """AMD and Intel GPUs: from the kernel's files on Linux, from the OS's display-adapter list on
    Windows; unknown (None) under WSL and on macOS (no ROCm or XPU builds to plan there)."""
    if os_info.system == "Windows":
        from torchsetup.probe.windows import probe_windows

        return probe_windows()
    if os_info.system != "Linux" or os_info.wsl:
        return None, None
    from torchsetup.probe.amd import probe_amd
    from torchsetup.probe.intel import probe_intel

    return probe_amd(root, environ), probe_intel(root)
