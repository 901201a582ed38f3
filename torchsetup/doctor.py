"""doctor: the installed torch family checked against the machine and the matrix. Pure."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from packaging.version import InvalidVersion, Version

from torchsetup import cuda
from torchsetup.matrix.store import Matrix, Release, Variant
from torchsetup.probe.model import Machine, machine_to_document
from torchsetup.rules import GPUS, UNUSABLE, Target, target_from_machine

DOCTOR_SCHEMA = "torchsetup.doctor/1"
ERROR, WARNING, INFO = "error", "warning", "info"


@dataclass(frozen=True)
class Finding:
    severity: str
    code: str
    message: str
    fix: str | None = None


def _base(version: str) -> str:
    return version.split("+")[0]


def _local(version: str) -> str | None:
    return version.split("+", 1)[1] if "+" in version else None


def installed_variant(release: Release, torch_version: str, platform: str) -> Variant | None:
    """+cu124 -> that variant; no local version -> the build plain `pip install torch` gives."""
    local = _local(torch_version)
    for variant in release.variants:
        if not variant.runs_on(platform):
            continue
        if local is not None and variant.name == local:
            return variant
        if local is None and variant.pypi_default:
            return variant
    return None


def _pythons(release: Release, platform: str) -> tuple[str, ...]:
    support = release.wheels.get(platform)
    return support.python if support else ()


def _python_findings(matrix: Matrix, t: Target, release: Release | None) -> list[Finding]:
    if t.python is None:
        return []
    supporting = [r for r in matrix.releases
                  if r.variants and t.python in _pythons(r, t.platform)]
    if not supporting:
        return [Finding(ERROR, "python-unsupported",
                        f"no torch release in the matrix has a wheel for CPython {t.python} on {t.platform}",
                        None)]
    support = release.wheels.get(t.platform) if release is not None else None
    if release is not None and support is not None and t.python not in support.python:
        have = support.python
        return [Finding(WARNING, "python-unsupported",
                        f"torch {release.torch} has no wheel for CPython {t.python} (it has "
                        f"{have[0]}–{have[-1]}); this install did not come from an official wheel", None)]
    return []


def _build_of(version: str, release: Release | None, platform: str) -> str | None:
    """The variant of an installed version: its local part, else what plain `pip install` gives."""
    local = _local(version)
    if local or release is None:
        return local
    return release.pypi_build(platform)


def _companion_findings(matrix: Matrix, torch_version: str, name: str, installed: str | None,
                        release: Release | None, platform: str) -> list[Finding]:
    if installed is None or release is None:
        return []
    built_for = [r.torch for r in matrix.releases if getattr(r, name) == _base(installed)]
    expected = getattr(release, name)
    later_audio_ok = (name == "torchaudio" and _base(installed).startswith("2.11.")
                      and release.torchaudio is None and Version(release.torch) >= Version("2.11"))
    problems = []
    if expected is not None and _base(installed) != expected and not later_audio_ok:
        owner = f"built for torch {built_for[0]}" if built_for else "not paired with this torch"
        problems.append(f"{name} {installed} is {owner}, but torch {torch_version} is installed "
                        f"(it pairs with {name} {expected})")
    torch_build = _build_of(torch_version, release, platform)
    companion_release = matrix.by_version.get(built_for[0]) if built_for else None
    pure = companion_release is not None and name in companion_release.pure_companions
    companion_build = None if pure else _build_of(installed, companion_release, platform)
    if torch_build and companion_build and torch_build != companion_build:
        how = "" if _local(installed) else f" (the default build on PyPI for {platform})"
        problems.append(f"{name} {installed} is a {companion_build} build{how}; torch is {torch_build}")
    if not problems:
        return []
    hint = " (expect 'operator torchvision::nms does not exist')" if name == "torchvision" else ""
    return [Finding(ERROR, "companion-mismatch", "; ".join(problems) + hint)]


def _gpu_findings(matrix: Matrix, t: Target, release: Release, variant: Variant,
                  torch_version: str) -> list[Finding]:
    findings = []
    label = f"{release.torch}+{variant.name}"
    wheel_cuda = variant.cuda
    if variant.name == "cpu" and t.gpu_state == GPUS:
        gpus = ", ".join(g.name for g in t.gpus)
        findings.append(Finding(ERROR, "cpu-build-on-gpu-machine",
                                f"torch {torch_version} is a CPU-only build, but this machine has {gpus}"))
    if wheel_cuda is None or t.gpu_state != GPUS:
        return findings
    minimum = cuda.min_driver_for(matrix, variant.name, t.system)
    driver = cuda.parse_driver(t.driver)
    if minimum and driver and driver < (cuda.parse_driver(minimum[0]) or ()):
        code = t.driver_cuda[0] * 1000 + t.driver_cuda[1] * 10 if t.driver_cuda else None
        said = f" (torch says: found version {code})" if code else ""
        findings.append(Finding(ERROR, "driver-too-old-for-build",
                                f"{label} needs driver ≥ {minimum[0]} (CUDA {wheel_cuda[0]}); this "
                                f"machine has {t.driver}{said}"))
    elif t.driver_cuda and t.driver_cuda < wheel_cuda:
        findings.append(Finding(WARNING, "driver-too-old-for-build",
                                f"{label} runs on driver {t.driver} (CUDA {cuda.fmt_cuda(t.driver_cuda)}) "
                                f"only through minor-version compatibility; PTX JIT needs CUDA ≥ "
                                f"{cuda.fmt_cuda(wheel_cuda)}"))
    arch = cuda.arch_list_for(matrix, release.torch, variant.name, t.platform)
    if arch is not None:
        for gpu in t.gpus:
            cap = gpu.capability
            if cap and not cuda.covers(arch, cap).ok:
                findings.append(Finding(ERROR, "gpu-arch-not-in-build",
                                        f"{gpu.name} is {cuda.fmt_cap(cap)}; {label} has "
                                        f"{cuda.describe_arch(arch)} (expect 'no kernel image is "
                                        "available for execution on the device')"))
    if t.toolkit and t.toolkit[0] != wheel_cuda[0]:
        findings.append(Finding(WARNING, "toolkit-mismatch-for-extensions",
                                f"the local CUDA toolkit is {cuda.fmt_cuda(t.toolkit)}, torch is built with "
                                f"CUDA {cuda.fmt_cuda(wheel_cuda)}: building CUDA extensions will fail"))
    return findings


def diagnose(machine: Machine, matrix: Matrix, label: str = "this machine") -> list[Finding]:
    t = target_from_machine(machine, matrix, label)
    inst = machine.installed
    findings: list[Finding] = []
    if t.gpu_state == UNUSABLE or (t.gpu_state != GPUS and t.nvidia_error and
                                   (t.container or t.wsl) and t.family == "linux"):
        findings.append(Finding(ERROR if t.gpu_state == UNUSABLE else WARNING, "gpu-not-visible",
                                t.nvidia_error or "the NVIDIA GPU is not visible"))
    torch_version = inst.torch if inst else None
    if torch_version is None:
        findings.append(Finding(ERROR, "torch-not-installed", "torch is not installed in the target "
                                "interpreter"))
        return findings + _python_findings(matrix, t, None)
    release = matrix.by_version.get(_base(torch_version))
    try:
        Version(torch_version)
    except InvalidVersion:
        release = None
    if release is None:
        findings.append(Finding(WARNING, "unknown-build",
                                f"torch {torch_version} is not in the matrix (it knows "
                                f"{matrix.releases[-1].torch} to {matrix.releases[0].torch}); "
                                "run `torchsetup matrix update`"))
        return findings + _python_findings(matrix, t, None)
    findings += _python_findings(matrix, t, release)
    for name in ("torchvision", "torchaudio"):
        findings += _companion_findings(matrix, torch_version, name, getattr(inst, name, None), release,
                                        t.platform)
    variant = installed_variant(release, torch_version, t.platform)
    if variant is None:
        findings.append(Finding(WARNING, "unknown-build",
                                f"torch {torch_version}: the matrix knows no {_local(torch_version) or 'default'} "
                                f"build of {release.torch} for {t.platform}"))
        return findings
    return findings + _gpu_findings(matrix, t, release, variant, torch_version)


FIXABLE_BY_REINSTALL = {"torch-not-installed", "cpu-build-on-gpu-machine", "driver-too-old-for-build",
                        "gpu-arch-not-in-build", "companion-mismatch", "unknown-build"}


def examine(machine: Machine, matrix: Matrix, python: str, label: str = "this machine") -> list[Finding]:
    """The findings, each error that a reinstall cures carrying the resolver's install command."""
    findings = diagnose(machine, matrix, label)
    if not any(f.severity == ERROR for f in findings):
        return findings
    from torchsetup.command import CommandOptions
    from torchsetup.quoting import posix
    from torchsetup.resolve import Request, resolve

    res = resolve([machine], matrix, Request(command=CommandOptions(python=python)), [label])
    fix = posix(res.plan.command) if res.plan else None
    return [Finding(f.severity, f.code, f.message,
                    fix if (f.code in FIXABLE_BY_REINSTALL and f.severity == ERROR) else f.fix)
            for f in findings]


def doctor_document(machine: Machine, findings: list[Finding],
                    verify: dict[str, Any] | None = None) -> dict[str, Any]:
    ok = not any(f.severity == ERROR for f in findings) and (verify is None or bool(verify["ok"]))
    document: dict[str, Any] = {
        "schema": DOCTOR_SCHEMA, "ok": ok, "probe": machine_to_document(machine),
        "findings": [{"severity": f.severity, "code": f.code, "message": f.message, "fix": f.fix}
                     for f in findings]}
    if verify is not None:
        document["verify"] = verify
    return document
