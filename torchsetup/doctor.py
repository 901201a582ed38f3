"""doctor: the installed torch family judged with the resolver's own rules (rules.py). Pure.

What the install IS comes from the packages' own files (the probe's `builds`), then from the
version string, then from what a plain `pip install` of that release gives on this platform. A
rule that cannot be evaluated is a `not-checked` warning, never a silent pass.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from torchsetup.cuda import arch_list_for, arch_list_from_flags
from torchsetup.doctor_findings import (
    Finding,
    InstalledTorch,
    companion_findings,
    gpu_state_findings,
    not_checked,
    problem_findings,
    python_findings,
    verdict_findings,
)
from torchsetup.kinds import Installer, Severity, VariantForm
from torchsetup.matrix.store import ArchList, Matrix, Release, Variant, uncertain
from torchsetup.probe.model import Machine
from torchsetup.rules import check_variant, target_from_machine

if TYPE_CHECKING:
    from packaging.version import Version

    from torchsetup.plan import Hold

__all__ = ["Finding", "diagnose", "examine", "identify", "InstalledTorch"]


JETPACK = "jetpack"  # NVIDIA's builds for Jetson boards: `+nv23.02`-style local versions


def is_jetpack(version: str, machine: Machine) -> bool:
    """NVIDIA's JetPack wheel: a `.nvYY.MM` local version, or a CUDA build on a Jetson."""
    import re

    if re.search(r"(?:^|[+.])nv\d{2}\.\d{2}", _local(version) or ""):
        return True
    own = (machine.builds or {}).get("torch")
    return bool(machine.os and machine.os.jetson and own is not None and own.cuda)


def _base(version: str) -> str:
    return version.split("+")[0]


def _local(version: str) -> str | None:
    return version.split("+", 1)[1] if "+" in version else None


def _release(matrix: Matrix, version: str) -> Release | None:
    from packaging.version import InvalidVersion, Version

    try:
        Version(version)
    except InvalidVersion:
        return None
    return matrix.by_version.get(_base(version))


def identify(machine: Machine, matrix: Matrix, platform: str) -> InstalledTorch | None:
    own = (machine.builds or {}).get("torch")
    version = (machine.installed.torch if machine.installed else None) or (own.version if own else None)
    if version is None:
        return None
    release = _release(matrix, version)
    if is_jetpack(version, machine):
        how = f"its version {version}" if _local(version) else "its torch/version.py on a Jetson"
        return InstalledTorch(version, release, None, JETPACK, how, False, own)
    named = own.variant if own else None
    local = _local(own.version or version) if own else _local(version)
    if named is not None:
        how = (f"its torch/version.py (cuda = {own.cuda!r})" if own and own.cuda_known
               else f"its version {own.version if own else version}")
    elif local:
        named, how = local, f"its version {version}"
    elif release is not None and release.pypi_build(platform):
        named, how = release.pypi_build(platform), f"PyPI's build of {release.torch} for {platform}"
    else:
        how = "nothing: no version.py was read and the version names no build"
    variant = _matrix_variant(release, named, platform, from_pypi=_local(version) is None) if named else None
    packaged = not (own and (own.source_build or own.installer == "conda" or own.conda_build))
    if variant is None and named is not None:
        variant = Variant(named, (platform,), None, VariantForm.UNKNOWN, "", _base(version), None, None, "probe")
        packaged = False
    return InstalledTorch(version, release, variant, named, how, packaged and release is not None, own)


def _matrix_variant(release: Release | None, name: str, platform: str, from_pypi: bool) -> Variant | None:
    if release is None:
        return None
    same = [v for v in release.variants if v.name == name and v.runs_on(platform)]
    same.sort(key=lambda v: (v.form == "pypi") != from_pypi)
    return same[0] if same else None


def _stand_in(installed: InstalledTorch) -> Release:
    return Release(_base(installed.version), None, None, None, (), {}, ("everything",), "probe")


def diagnose(machine: Machine, matrix: Matrix, label: str = "this machine") -> list[Finding]:
    t = target_from_machine(machine, matrix, label)
    findings = gpu_state_findings(machine, t) + problem_findings(machine)
    if machine.dependents is None:
        findings.append(not_checked("the packages that depend on torch (the probe document has no dependents)"))
    elif machine.dependents:
        from torchsetup.doctor_neighbours import neighbour_findings

        findings += neighbour_findings(machine)
    installed = identify(machine, matrix, t.platform)
    if installed is None:
        findings.append(Finding(Severity.ERROR, "torch-not-installed",
                                "torch is not installed in the target interpreter"))
        return findings + python_findings(matrix, t, None)
    findings += _what_it_is(machine, matrix, installed)
    findings += python_findings(matrix, t, installed.release)
    for name in ("torchvision", "torchaudio"):
        findings += companion_findings(matrix, machine, t, installed, name)
    if installed.build == JETPACK:
        return findings + [Finding(Severity.WARNING, "not-checked", f"not checked: the GPU kernels of torch "
                                   f"{installed.version}, NVIDIA's JetPack build for Jetson ({installed.how}): "
                                   "the matrix holds no JetPack builds; NVIDIA chose its kernels for the board")]
    if installed.variant is None:
        return findings
    release = installed.release or _stand_in(installed)
    arch = _arch_list(matrix, installed, t.platform)
    if arch is not None and uncertain(arch.confidence) and t.gpus:
        findings.append(Finding(Severity.WARNING, "not-checked", "not checked for certain: the GPU kernels of "
                                f"torch {installed.version} on {t.platform} were judged by an arch list that is "
                                f"not verified ({arch.source}: {arch.confidence})"))
    verdict = check_variant(matrix, release, installed.variant, t, fleet_has_gpu=False, forced=False,
                            allow_cpu=False, for_extensions=True, arch=arch)
    said = {(f.code, f.severity) for f in findings}
    return findings + [f for f in verdict_findings(verdict, t, installed, machine)
                       if not (f.code == "python-unsupported" and ("python-unsupported", Severity.ERROR) in said)]


def _arch_list(matrix: Matrix, installed: InstalledTorch, platform: str) -> ArchList | None:
    """The kernels the installed build really has: the list compiled into its own library when the
    probe read it (any build: a source or conda build too), else the matrix's for a PyTorch wheel,
    else None (unknown: a not-checked finding)."""
    own = installed.own
    if own is not None and own.arch_list and installed.variant is not None:
        where = f"{own.location}/torch/lib" if own.location else "the installed torch"
        return arch_list_from_flags(own.arch_list, installed.version, installed.variant.name, platform,
                                    f"read from {where}")
    if installed.arch_from_matrix and installed.variant is not None:
        torch = installed.release.torch if installed.release else _base(installed.version)
        return arch_list_for(matrix, torch, installed.variant.name, platform)
    return None


def _what_it_is(machine: Machine, matrix: Matrix, installed: InstalledTorch) -> list[Finding]:
    out = []
    own = installed.own
    if machine.builds is None:
        out.append(Finding(Severity.WARNING, "not-checked", "not checked: what the installed torch is (its "
                           "torch/version.py was not read: the probe document has no builds); judged from "
                           f"{installed.how}"))
    if installed.release is None:
        known = f"{matrix.releases[-1].torch} to {matrix.releases[0].torch}"
        out.append(Finding(Severity.WARNING, "not-checked", f"not checked: torch {installed.version} is not in "
                           f"the matrix (it knows {known}), so its Python support and companions were not "
                           "checked; run `torchsetup matrix update`"))
    if installed.build is None:
        out.append(Finding(Severity.WARNING, "not-checked", f"not checked: which build torch {installed.version} "
                           "is (CUDA, ROCm or CPU), so no GPU rule was evaluated"))
    elif installed.variant is not None and installed.variant.source == "probe" and installed.release is not None \
            and not (own and (own.source_build or own.conda_build or own.installer == "conda")):
        out.append(Finding(Severity.WARNING, "not-checked", f"not checked: the matrix knows no {installed.build} "
                           f"build of {installed.release.torch}; its GPU kernels were not checked"))
    if own and own.source_build:
        out.append(Finding(Severity.INFO, "source-build", f"torch {own.version} was built from source (git "
                           f"{(own.git_version or '?')[:12]}): its GPU kernels are whatever its builder chose"
                           + (f" (this one: {own.arch_list})" if own.arch_list else "")))
    if own and (own.conda_build or own.installer == "conda"):
        out.append(Finding(Severity.INFO, "conda-build", f"torch {own.version} comes from conda"
                           + (f" ({own.conda_channel}, build {own.conda_build})" if own.conda_build else "")
                           + "; conda builds carry their own GPU arch lists"
                           + (f" (this one: {own.arch_list})" if own.arch_list else "")))
    return out


FIXABLE_BY_REINSTALL = {"torch-not-installed", "cpu-build-on-gpu-machine", "driver-too-old-for-build",
                        "cuda-build-without-gpu",
                        "gpu-arch-not-in-build", "companion-mismatch", "rocm-build-on-nvidia",
                        "duplicate-install", "interrupted-install", "dependent-unsatisfied"}


def examine(machine: Machine, matrix: Matrix, python: str, label: str = "this machine",
            shell: str = "posix", installer: Installer = Installer.PIP) -> list[Finding]:
    """The findings; each error a reinstall cures carries the resolver's plan for this machine."""
    findings = diagnose(machine, matrix, label)
    if not any(f.severity == Severity.ERROR and f.code in FIXABLE_BY_REINSTALL for f in findings):
        return findings
    from torchsetup.command import CommandOptions
    from torchsetup.quoting import quote
    from torchsetup.resolve import Request, resolve

    holds: tuple[Hold, ...] = ()
    if machine.dependents:
        from torchsetup.neighbours import holds_of

        holds = holds_of(machine.dependents)
    request = Request(command=CommandOptions(python=python, installer=installer), holds=holds)
    res = resolve([machine], matrix, request, [label])
    fix = quote(res.plan.command, shell) if res.plan else None
    out = [Finding(f.severity, f.code, f.message,
                   fix if (f.code in FIXABLE_BY_REINSTALL and f.severity == Severity.ERROR) else f.fix)
           for f in findings]
    if res.plan is not None:
        out += _about_the_fix(machine, res.plan.torch, res.plan.variant, list(res.plan.notes))
    elif res.error:
        out.append(Finding(Severity.INFO, "no-fix", f"no torch build fits this machine: {res.error}"
                           + (f" ({res.hint})" if res.hint else "")))
    return out


def _about_the_fix(machine: Machine, torch: str, variant: str, notes: list[str]) -> list[Finding]:
    installed = machine.installed.torch if machine.installed else None
    newer = next((n for n in notes if n.startswith("newer torch needs a newer driver")), None)
    if installed is None or _release_key(torch) >= _release_key(installed):
        return [Finding(Severity.INFO, "fix-note", newer)] if newer else []
    text = f"the fix installs torch {torch} ({variant}), older than the installed {installed}"
    return [Finding(Severity.INFO, "fix-is-downgrade", text + (f"; {newer}" if newer else ""))]


def _release_key(version: str) -> Version:
    from packaging.version import InvalidVersion, Version

    try:
        return Version(_base(version))
    except InvalidVersion:
        return Version("0")
