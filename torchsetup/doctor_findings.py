"""The doctor's findings, each made from facts the probe and the rules (rules.py) give. Pure."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from torchsetup import cuda
from torchsetup.kinds import FailureKind, GpuState, Severity
from torchsetup.matrix.store import Matrix, Release, Variant
from torchsetup.probe.model import Build, Gpu, Machine
from torchsetup.rules import Failure, Target, Verdict

REBOOT = ("reboot, or reload the NVIDIA kernel module: sudo rmmod nvidia_uvm nvidia_drm nvidia_modeset "
          "nvidia && sudo modprobe nvidia")
PROBLEM_SEVERITY = {"duplicate-install": Severity.ERROR, "interrupted-install": Severity.ERROR,
                    "conda-pip-mix": Severity.WARNING}


@dataclass(frozen=True)
class Finding:
    """One doctor finding: severity, kebab-case code, message, and the fix when there is one."""

    severity: Severity
    code: str
    message: str
    fix: str | None = None


@dataclass(frozen=True)
class InstalledTorch:
    """The installed torch as the doctor judges it."""

    version: str  # as installed: "2.8.0", "2.8.0+cu128", "2.6.0a0+git1a2b3c4"
    release: Release | None  # the matrix's record of that release; None: not in the matrix
    variant: Variant | None  # the build judged (a matrix variant, or a stand-in of the same name)
    build: str | None  # cu128 | cpu | rocm6.2; None: nobody knows
    how: str  # how the build was told, in words
    arch_from_matrix: bool  # the matrix's arch list applies (a PyTorch wheel, not conda or source)
    own: Build | None  # what its own files say


def not_checked(what: str) -> Finding:
    return Finding(Severity.WARNING, "not-checked", f"not checked: {what}")


def gpu_state_findings(machine: Machine, t: Target) -> list[Finding]:
    out = [Finding(Severity.INFO, "gpus-selected", note) for note in machine.gpu_notes]
    if t.gpu_state == GpuState.UNUSABLE:
        mismatch = "mismatch" in (t.nvidia_error or "")
        out.append(Finding(Severity.ERROR, "gpu-not-visible", t.nvidia_error or "the NVIDIA driver cannot be used",
                           REBOOT if mismatch else None))
    elif t.gpu_state != GpuState.GPUS and t.nvidia_error and (t.container or t.wsl) and t.family == "linux":
        # a warning only where something says a GPU could be there; a CPU-only box is told, not warned
        nv = machine.nvidia
        no_gpu_on_bus = nv is not None and nv.pci_gpus == 0
        out.append(Finding(Severity.INFO if no_gpu_on_bus else Severity.WARNING, "gpu-not-visible",
                           t.nvidia_error + (" (no NVIDIA GPU is on this machine's PCI bus either)"
                                             if no_gpu_on_bus else "")))
    return out


def problem_findings(machine: Machine) -> list[Finding]:
    if machine.install_problems is None:
        return [not_checked("duplicate installs, pip's leftovers and conda/pip mixes (the probe document "
                            "has no install_problems)")]
    out = []
    for problem in machine.install_problems:
        code, _, message = problem.partition(": ")
        if code not in PROBLEM_SEVERITY:
            code, message = "install-problem", problem
        out.append(Finding(PROBLEM_SEVERITY.get(code, Severity.WARNING), code, message))
    return out


def python_findings(matrix: Matrix, t: Target, release: Release | None) -> list[Finding]:
    if t.python is None:
        return [not_checked("whether torch has wheels for the target Python (its version is unknown)")]
    supporting = [r for r in matrix.releases if r.variants and t.python in _pythons(r, t.platform)]
    if not supporting:
        return [Finding(Severity.ERROR, "python-unsupported",
                        f"no torch release in the matrix has a wheel for CPython {t.python} on {t.platform}")]
    return []


def _pythons(release: Release, platform: str) -> tuple[str, ...]:
    support = release.wheels.get(platform)
    return support.python if support else ()


def _base(version: str) -> str:
    return version.split("+")[0]


def companion_findings(matrix: Matrix, machine: Machine, t: Target, installed: InstalledTorch,
                       name: str) -> list[Finding]:
    have = getattr(machine.installed, name, None) if machine.installed else None
    if have is None:
        return []
    release = installed.release
    if release is None:
        return [not_checked(f"whether {name} {have} pairs with torch {installed.version} (that torch is not "
                            "in the matrix)")]
    built_for = [r for r in matrix.releases if getattr(r, name) == _base(have)]
    expected = getattr(release, name)
    later_audio_ok = (name == "torchaudio" and _base(have).startswith("2.11.")
                      and release.torch.split(".")[:2] >= ["2", "11"] and int(release.torch.split(".")[1]) >= 11)
    problems = []
    if expected is None and not later_audio_ok and not built_for:
        return [not_checked(f"which {name} pairs with torch {release.torch} (no source pairs them)")]
    if _base(have) != (expected or "") and not later_audio_ok:
        owner = f"built for torch {built_for[0].torch}" if built_for else "not paired with this torch"
        pairs = f" (it pairs with {name} {expected})" if expected else ""
        problems.append(f"{name} {have} is {owner}, but torch {installed.version} is installed{pairs}")
    companion_release = built_for[0] if built_for else None
    pure = companion_release is not None and name in companion_release.pure_companions
    theirs = _companion_build(machine, name, have, companion_release, t.platform) if not pure else None
    if installed.build and theirs and installed.build != theirs[0]:
        problems.append(f"{name} {have} is a {theirs[0]} build{theirs[1]}; torch is {installed.build}")
    if not problems:
        return []
    hint = " (expect 'operator torchvision::nms does not exist')" if name == "torchvision" else ""
    return [Finding(Severity.ERROR, "companion-mismatch", "; ".join(problems) + hint)]


def _companion_build(machine: Machine, name: str, have: str, release: Release | None,
                     platform: str) -> tuple[str, str] | None:
    own = (machine.builds or {}).get(name)
    if own is not None and own.variant:
        return own.variant, ""
    local = have.split("+", 1)[1] if "+" in have else None
    if local:
        return local, ""
    build = release.pypi_build(platform) if release else None
    return (build, f" (the default build on PyPI for {platform})") if build else None


_KIND_CODES = {FailureKind.ARCH: (Severity.ERROR, "gpu-arch-not-in-build"),
               FailureKind.DRIVER: (Severity.ERROR, "driver-too-old-for-build"),
               FailureKind.CPU: (Severity.ERROR, "cpu-build-on-gpu-machine"),
               FailureKind.PYTHON: (Severity.WARNING, "python-unsupported"),
               FailureKind.GLIBC: (Severity.WARNING, "platform-unsupported"),
               FailureKind.PLATFORM: (Severity.WARNING, "platform-unsupported"),
               FailureKind.EXTENSIONS: (Severity.WARNING, "toolkit-mismatch-for-extensions")}


def verdict_findings(verdict: Verdict, t: Target, installed: InstalledTorch, machine: Machine) -> list[Finding]:
    out = [not_checked(what) for what in verdict.unchecked]
    label = f"{installed.version} ({installed.build}, told by {installed.how})"
    for failure in verdict.failures:
        out.extend(_failure_finding(failure, t, installed, machine, label))
    wheel_cuda = installed.variant.cuda if installed.variant else None
    if wheel_cuda and t.gpu_state == GpuState.GPUS and not verdict.full_support and t.driver_cuda \
            and not any(f.kind == FailureKind.DRIVER for f in verdict.failures):
        have, need = cuda.fmt_cuda(t.driver_cuda), cuda.fmt_cuda(wheel_cuda)
        out.append(Finding(Severity.WARNING, "driver-too-old-for-build",
                           f"torch {label} runs on driver {t.driver} (CUDA {have}) only through minor-version "
                           f"compatibility; PTX JIT needs CUDA ≥ {need}"))
    return out


def _failure_finding(failure: Failure, t: Target, installed: InstalledTorch, machine: Machine,
                     label: str) -> list[Finding]:
    if failure.unknown:
        return [not_checked(f"{failure.reason} (torch {label})")]
    if failure.kind == FailureKind.GPU:
        if installed.build and installed.build.startswith("rocm"):
            if t.gpu_state == GpuState.GPUS or t.driver:
                return [Finding(Severity.ERROR, "rocm-build-on-nvidia", f"torch {label} is a ROCm build for "
                                "AMD GPUs; this machine has NVIDIA's driver"
                                + (f" and {_gpu_names(t)}" if t.gpus else ""))]
            if t.amd_looked:
                return [Finding(Severity.WARNING, "rocm-build-without-gpu", f"torch {label} is a ROCm build, but "
                                "no AMD GPU was found; torch will run on the CPU")]
            return [not_checked(f"the AMD GPU a ROCm build (torch {label}) needs: the probe did not look for AMD "
                                "GPUs")]
        if t.gpu_state == GpuState.UNUSABLE:
            return []  # gpu-not-visible already says what is wrong and what to do
        if t.nvidia_left_out:  # a working choice: the plan would have taken the AMD GPUs instead
            return [Finding(Severity.INFO, "other-vendor-gpus", f"torch {label} uses the NVIDIA GPU(s); the AMD "
                            f"GPU(s) {_gpu_names(t)}, with more memory, are not used by it (a ROCm build would)")]
        if t.amd_gpus or t.intel_gpus:  # another vendor's GPU is there: the CUDA build cannot use it
            return [Finding(Severity.ERROR, "cuda-build-without-gpu", f"torch {label} is a CUDA build, but this "
                            f"machine's GPU is {_gpu_names(t)}, which it cannot use; torch will run on the CPU")]
        why = ("CUDA_VISIBLE_DEVICES hides every GPU" if machine.gpus_hidden_from_torch
               else t.nvidia_error or "no NVIDIA GPU was found")
        return [Finding(Severity.WARNING, "cuda-build-without-gpu", f"torch {label} is a CUDA build, but no "
                        f"NVIDIA GPU is visible: {why}; torch will run on the CPU")]
    if failure.kind == FailureKind.CPU and t.gpu_state == GpuState.UNUSABLE:
        return []  # gpu-not-visible already says what to do
    severity, code = _KIND_CODES.get(failure.kind, (Severity.WARNING, str(failure.kind)))
    message = f"torch {installed.version}: {failure.reason}"
    if code == "gpu-arch-not-in-build":
        message += (" (expect 'HIP error: invalid device function')" if t.amd_gpus
                    else " (expect 'no kernel image is available for execution on the device')")
    elif code == "driver-too-old-for-build" and t.driver_cuda:
        message += f" (torch says: found version {t.driver_cuda[0] * 1000 + t.driver_cuda[1] * 10})"
    elif code == "cpu-build-on-gpu-machine":
        message = f"torch {installed.version} is a CPU-only build, but this machine has {_gpu_names(t)}"
    return [Finding(severity, code, message)]


def _gpu_names(t: Target) -> str:
    """The GPUs the plan is for, whichever vendor's."""
    return ", ".join([g.name for g in t.gpus] + [f"{name} ({gfx})" if gfx else name for name, gfx in t.amd_gpus]
                     + list(t.intel_gpus))


def join_devices(devices: list[dict[str, Any]], gpus: tuple[Gpu, ...]) -> list[Finding]:
    """Which probed GPU each of verify's CUDA devices is, by UUID: NVML's index is not torch's
    ordinal under CUDA_VISIBLE_DEVICES or CUDA_DEVICE_ORDER=FASTEST_FIRST."""
    out = []
    for device in devices:
        uuid = device.get("uuid")
        match = next((g for g in gpus if uuid and g.uuid == uuid), None)
        if match is not None:
            out.append(Finding(Severity.INFO, "device-map",
                               f"cuda:{device['index']} is GPU {match.index} ({match.name}) by UUID"))
        elif uuid:
            out.append(Finding(Severity.WARNING, "device-map",
                               f"cuda:{device['index']} ({device.get('name')}, {uuid}) is none of the GPUs "
                               "the probe found"))
        else:
            out.append(not_checked(f"which probed GPU cuda:{device['index']} ({device.get('name')}) is: torch "
                                   "gave no UUID"))
    return out
