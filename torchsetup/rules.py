"""The resolver's rules, each small and separately tested: one (release, variant, target) in,
a verdict out (a failure with its kind and a sentence a person understands, or notes)."""

from __future__ import annotations

from dataclasses import dataclass

from torchsetup import cuda
from torchsetup.matrix.store import Matrix, Release, Variant
from torchsetup.probe.model import Gpu, Machine

# how a target's NVIDIA state reads to the resolver
GPUS, NO_GPU, UNUSABLE = "gpus", "no-gpu", "unusable"


@dataclass(frozen=True)
class Target:
    """One machine as the resolver sees it (a probe, plus --platform / --python-version)."""

    label: str
    system: str  # Linux | Windows | Darwin
    platform: str  # linux-x86_64 | linux-aarch64 | windows-x86_64 | macos-arm64 | macos-x86_64
    python: str | None  # "3.11" | "3.14t"
    glibc: tuple[int, int] | None
    driver: str | None
    driver_cuda: tuple[int, int] | None
    gpus: tuple[Gpu, ...]
    gpu_state: str
    nvidia_error: str | None = None
    wsl: bool = False
    container: bool = False
    jetson: bool = False
    toolkit: tuple[int, int] | None = None

    @property
    def family(self) -> str:
        return self.platform.split("-")[0]


@dataclass(frozen=True)
class Verdict:
    failure: str | None = None  # why this candidate cannot run on this target
    kind: str | None = None  # driver | arch | python | glibc | platform | companion | gpu | extensions
    notes: tuple[str, ...] = ()
    full_support: bool = True  # the driver's own CUDA >= the wheel's
    needs_driver: str | None = None  # the driver version that would lift this failure


def platform_of(system: str | None, machine: str | None) -> str:
    arch = (machine or "x86_64").lower()
    arch = "x86_64" if arch in ("x86_64", "amd64", "x64") else arch
    if system == "Darwin":
        return "macos-arm64" if arch in ("arm64", "aarch64") else "macos-x86_64"
    if system == "Windows":
        return f"windows-{arch}"
    return "linux-aarch64" if arch in ("aarch64", "arm64") else f"linux-{arch}"


def system_of(platform: str) -> str:
    return {"linux": "Linux", "windows": "Windows", "macos": "Darwin"}.get(platform.split("-")[0], "Linux")


def target_from_machine(machine: Machine, matrix: Matrix, label: str, platform: str | None = None,
                        python_version: str | None = None) -> Target:
    o, p, nv = machine.os, machine.python, machine.nvidia
    plat = platform or platform_of(o.system if o else None, o.machine if o else None)
    system = system_of(plat)
    py = python_version
    if py is None and p is not None and p.minor_version:
        py = f"{p.minor_version[0]}.{p.minor_version[1]}{'t' if p.free_threaded else ''}"
    gpus = nv.gpus if nv else ()
    if gpus:
        state = GPUS
    elif nv is not None and nv.driver_version and nv.error:
        state = UNUSABLE  # a driver is there, but nothing answered about GPUs
    elif nv is not None and nv.error and "mismatch" in nv.error:
        state = UNUSABLE
    else:
        state = NO_GPU
    toolkit = cuda.parse_cuda(machine.cuda_toolkit.version) if machine.cuda_toolkit else None
    return Target(
        label=label, system=system, platform=plat, python=py,
        glibc=o.glibc_version if o and plat.startswith("linux") else None,
        driver=nv.driver_version if nv else None,
        driver_cuda=cuda.driver_cuda(matrix, nv.driver_version, nv.cuda_driver_version,
                                     "Windows" if system == "Windows" or (o and o.wsl) else system)
        if nv else None,
        gpus=gpus, gpu_state=state,
        nvidia_error=nv.error if nv else "the probe document says nothing about NVIDIA GPUs (no nvidia section)",
        wsl=bool(o and o.wsl), container=bool(o and o.container), jetson=bool(o and o.jetson),
        toolkit=toolkit,
    )


def _py_range(versions: tuple[str, ...]) -> str:
    plain = [v for v in versions if not v.endswith("t")]
    return f"{plain[0]}–{plain[-1]}" if plain else ", ".join(versions)


def check_python(release: Release, variant: Variant, t: Target) -> Verdict:
    support = release.wheels.get(t.platform)
    if not release.wheels:
        return Verdict(notes=(f"Python support of torch {release.torch} is not recorded; "
                              "pip will say if there is no wheel",))
    if support is None:
        if variant.index_url is None:
            return Verdict(f"torch {release.torch} has no wheels for {t.platform}", "platform")
        return Verdict(notes=(f"the package index lists no {t.platform} wheel of torch "
                              f"{release.torch}; the PyTorch index may still have one",))
    if t.python is None:
        return Verdict(notes=("the target Python version is unknown",))
    if t.python not in support.python:
        kind = "free-threaded " if t.python.endswith("t") else ""
        return Verdict(f"torch {release.torch} has no wheel for {kind}CPython {t.python.rstrip('t')} "
                       f"on {t.platform} (it has {_py_range(support.python)})", "python")
    if t.glibc and support.glibc and t.glibc < support.glibc:
        return Verdict(f"torch {release.torch} needs glibc ≥ {support.glibc[0]}.{support.glibc[1]} "
                       f"(manylinux_{support.glibc[0]}_{support.glibc[1]}); {t.label} has glibc "
                       f"{t.glibc[0]}.{t.glibc[1]}", "glibc")
    return Verdict()


def check_cuda(matrix: Matrix, release: Release, variant: Variant, t: Target,
               fleet_has_gpu: bool, forced: bool, for_extensions: bool) -> Verdict:
    wheel_cuda = variant.cuda
    assert wheel_cuda is not None
    label = f"{release.torch}+{variant.name}"
    if t.gpu_state != GPUS:
        if fleet_has_gpu or forced:
            return Verdict(notes=(f"{t.label} has no visible NVIDIA GPU; a CUDA build still runs "
                                  "there on the CPU",))
        return Verdict(f"no NVIDIA GPU is visible on {t.label}", "gpu")
    platform = t.platform
    arch = cuda.arch_list_for(matrix, release.torch, variant.name, platform)
    if arch is None:
        return Verdict(f"no GPU architecture list is known for {label} on {platform}", "arch")
    notes: list[str] = []
    if arch.confidence.startswith(("low", "script only")):
        notes.append(f"the arch list of {label} on {platform} is not verified ({arch.source}: "
                     f"{arch.confidence})")
    via_ptx: list[str] = []
    for gpu in t.gpus:
        cap = gpu.capability
        if cap is None:
            notes.append(f"GPU {gpu.index} ({gpu.name}) reported no compute capability; "
                         "its kernels were not checked")
            continue
        coverage = cuda.covers(arch, cap)
        if not coverage.ok:
            return Verdict(f"{gpu.name} is {cuda.fmt_cap(cap)}; {label} has "
                           f"{cuda.describe_arch(arch)}", "arch")
        if coverage.needs_ptx_jit:
            via_ptx.append(f"{gpu.name} ({cuda.fmt_cap(cap)}) would run {label} only through "
                           f"{coverage.via} JIT")
    # under WSL the Windows driver serves CUDA: its version and its minimums are Windows'
    minimum = cuda.min_driver_for(matrix, variant.name, "Windows" if t.wsl else t.system)
    if t.wsl:
        notes.append(f"WSL: CUDA comes from the Windows driver ({t.driver}); do not install a Linux "
                     "NVIDIA driver inside WSL")
    if minimum is None:
        return Verdict(f"the minimum driver for {variant.name} is not known", "driver")
    driver = cuda.parse_driver(t.driver)
    needed = cuda.parse_driver(minimum[0])
    if driver is None:
        return Verdict(f"{variant.name} needs driver ≥ {minimum[0]}; the driver version of "
                       f"{t.label} is unknown", "driver")
    if needed and driver < needed:
        return Verdict(f"{variant.name} needs driver ≥ {minimum[0]} for CUDA {wheel_cuda[0]}; "
                       f"{t.label} has {t.driver}", "driver", needs_driver=minimum[0])
    full = t.driver_cuda is not None and t.driver_cuda >= wheel_cuda
    if via_ptx and not full:
        return Verdict(f"{via_ptx[0]}, which needs a driver with CUDA ≥ "
                       f"{cuda.fmt_cuda(wheel_cuda)}", "driver")
    if for_extensions and t.toolkit and t.toolkit[0] != wheel_cuda[0]:
        return Verdict(f"the local CUDA toolkit {cuda.fmt_cuda(t.toolkit)} cannot build extensions "
                       f"against a CUDA {wheel_cuda[0]} torch ({variant.name})", "extensions")
    if not full:
        have = cuda.fmt_cuda(t.driver_cuda) if t.driver_cuda else "unknown"
        notes.append(f"{variant.name} runs on {t.label}'s driver {t.driver} (CUDA {have}) through "
                     f"minor-version compatibility only; PTX JIT and some newer features need a "
                     f"driver with CUDA ≥ {cuda.fmt_cuda(wheel_cuda)}")
    return Verdict(notes=tuple(notes), full_support=full)


def check_variant(matrix: Matrix, release: Release, variant: Variant, t: Target, *,
                  fleet_has_gpu: bool, forced: bool, allow_cpu: bool,
                  for_extensions: bool) -> Verdict:
    """Every rule for one candidate on one target; the first failure wins."""
    verdict = check_python(release, variant, t)
    if verdict.failure:
        return verdict
    notes = list(verdict.notes)
    if variant.cuda is not None:
        cuda_verdict = check_cuda(matrix, release, variant, t, fleet_has_gpu, forced, for_extensions)
        if cuda_verdict.failure:
            return cuda_verdict
        return Verdict(notes=tuple(notes + list(cuda_verdict.notes)),
                       full_support=cuda_verdict.full_support)
    if variant.name.startswith("rocm"):
        if not forced:
            return Verdict("a ROCm build needs an AMD GPU; torchsetup probes NVIDIA GPUs only "
                           f"(force it with --variant {variant.name})", "gpu")
        return Verdict(notes=tuple(notes + ["ROCm build chosen by --variant; the AMD GPU was not "
                                            "checked"]))
    # a CPU build
    if t.gpu_state == GPUS and not (allow_cpu or forced):
        return Verdict(f"a CPU-only build on {t.label}, which has an NVIDIA GPU "
                       "(pass --allow-cpu to accept it)", "cpu")
    if t.gpu_state == UNUSABLE and not (allow_cpu or forced):
        return Verdict(f"{t.label} has an NVIDIA driver that cannot be used: {t.nvidia_error} "
                       "(fix it, or pass --allow-cpu for a CPU build)", "cpu")
    if t.gpu_state == NO_GPU and t.nvidia_error and t.family != "macos":
        notes.append(f"{t.label}: {t.nvidia_error}")
    return Verdict(notes=tuple(notes))
