"""The resolver's rules, each small and separately tested: one (release, variant, target) in,
a verdict out (a failure with its kind and a sentence a person understands, or notes)."""

from __future__ import annotations

from dataclasses import dataclass

from torchsetup import cuda
from torchsetup.kinds import BackendKind, FailureKind, GpuState
from torchsetup.matrix.store import ArchList, Matrix, Release, Variant, parse_driver, uncertain
from torchsetup.probe.model import Gpu, Machine


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
    gpu_state: GpuState
    nvidia_error: str | None = None
    wsl: bool = False
    container: bool = False
    jetson: bool = False
    toolkit: tuple[int, int] | None = None
    amd_gpus: tuple[tuple[str, str | None], ...] = ()  # (name, gfx judged) of the AMD GPUs torch would use
    amd_override: str | None = None  # HSA_OVERRIDE_GFX_VERSION, when set: the gfx judged is the overridden one
    vendor_notes: tuple[str, ...] = ()  # GPUs of another vendor left out of the plan, in words
    amd_looked: bool = False  # the probe looked for AMD GPUs (a document without `amd` did not)
    intel_gpus: tuple[str, ...] = ()  # Intel GPUs of a family the XPU wheels are built for, with a driver bound
    intel_looked: bool = False
    nvidia_left_out: bool = False  # NVIDIA GPUs there, but the plan is for the more capable AMD ones

    @property
    def family(self) -> str:
        return self.platform.split("-")[0]


@dataclass(frozen=True)
class Failure:
    """One rule a candidate fails, with the constraint it belongs to."""

    reason: str  # why this build cannot run on this target, in words
    kind: FailureKind
    needs_driver: str | None = None  # the driver version that would lift this failure
    unknown: bool = False  # the rule could not be evaluated: a table or a fact is missing


@dataclass(frozen=True)
class Verdict:
    """Every rule's outcome for one build on one target. The resolver rejects on the first
    failure; the doctor reports them all, and the unknown ones as not checked."""

    failures: tuple[Failure, ...] = ()
    notes: tuple[str, ...] = ()
    full_support: bool = True  # the driver's own CUDA >= the wheel's
    unchecked: tuple[str, ...] = ()  # checks that could not be made, in words

    @property
    def failure(self) -> str | None:
        return self.failures[0].reason if self.failures else None

    @property
    def kind(self) -> FailureKind | None:
        return self.failures[0].kind if self.failures else None

    @property
    def needs_driver(self) -> str | None:
        return self.failures[0].needs_driver if self.failures else None


def fail(reason: str, kind: FailureKind, needs_driver: str | None = None, unknown: bool = False) -> Verdict:
    return Verdict(failures=(Failure(reason, kind, needs_driver, unknown),))


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
    if machine.gpu_selection is not None:
        gpus = tuple(g for g in gpus if g.index in machine.gpu_selection)
    if gpus:
        state = GpuState.GPUS
    elif nv is not None and nv.driver_version and nv.error:
        state = GpuState.UNUSABLE  # a driver is there, but nothing answered about GPUs
    elif nv is not None and nv.error and "mismatch" in nv.error:
        state = GpuState.UNUSABLE
    elif nv is not None and nv.error and "hung" in nv.error:
        state = GpuState.UNUSABLE  # a wedged driver is a reason to stop, not a CPU plan
    elif nv is not None and nv.pci_gpus:
        state = GpuState.UNUSABLE  # a GPU is on the bus, but no driver answers for it
    else:
        state = GpuState.NO_GPU
    toolkit = cuda.parse_cuda(machine.cuda_toolkit.version) if machine.cuda_toolkit else None
    nvidia_left_out = bool(gpus) and machine.gpu_selection is None and _amd_outweighs(machine, gpus)
    if nvidia_left_out:  # the AMD GPUs are the more capable: the plan is for them
        names = ", ".join(g.name for g in gpus)
        vendor_notes_nv: tuple[str, ...] = (
            f"NVIDIA GPU(s) {names} left out: one torch build cannot use NVIDIA and AMD GPUs together, and the "
            "AMD GPUs have more memory; --gpus (NVML indexes) plans for the NVIDIA GPU(s) instead",)
        gpus, state = (), GpuState.NO_GPU
    else:
        vendor_notes_nv = ()
    amd_gpus, override, vendor_notes = _amd_gpus(machine, bool(gpus))
    vendor_notes = vendor_notes_nv + vendor_notes
    intel_gpus, intel_notes = _intel_gpus(machine, bool(gpus) or bool(amd_gpus))
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
        toolkit=toolkit, amd_gpus=amd_gpus, amd_override=override, vendor_notes=vendor_notes + intel_notes,
        amd_looked=machine.amd is not None, intel_gpus=intel_gpus, intel_looked=machine.intel is not None,
        nvidia_left_out=nvidia_left_out,
    )


BOUND = ("xe", "i915", "windows")  # a driver torch's XPU runtime can use (Windows: the OS's own)


def _intel_gpus(machine: Machine, other_vendor: bool) -> tuple[tuple[str, ...], tuple[str, ...]]:
    """The Intel GPUs an XPU plan is for: a family the wheels are built for, a driver bound; none when
    an NVIDIA or AMD GPU is planned for (said so)."""
    intel = machine.intel
    if intel is None or not intel.gpus:
        return (), ()
    from torchsetup.probe.intel import family_of

    if other_vendor:
        return (), (f"Intel GPU(s) {', '.join(g.name for g in intel.gpus)} left out: one torch build cannot use "
                    "two vendors' GPUs; this plan is for the other one",)
    usable = [g for g in intel.gpus if family_of(g.device_id) and g.driver in BOUND]
    notes = [f"{g.name} is not a GPU the XPU wheels are built for (older integrated graphics): it is left out"
             for g in intel.gpus if not family_of(g.device_id)]
    notes += [f"{g.name} has no i915 or xe driver bound: it is left out" for g in intel.gpus
              if family_of(g.device_id) and g.driver not in BOUND]
    discrete = [g for g in usable if not g.integrated]
    chosen = discrete or usable
    notes += [f"{g.name}, an integrated GPU, is left out: the plan is for the discrete one(s)"
              for g in usable if g not in chosen]
    return tuple(g.name for g in chosen), tuple(notes)


def _amd_outweighs(machine: Machine, gpus: tuple[Gpu, ...]) -> bool:
    """Whether the discrete AMD GPUs beside NVIDIA ones are the more capable: more memory in all."""
    amd = [g for g in (machine.amd.gpus if machine.amd else ()) if not g.integrated]
    if not amd:
        return False
    return sum(g.memory_total_mib or 0 for g in amd) > sum(g.memory_total_mib or 0 for g in gpus)


def _amd_gpus(machine: Machine, nvidia: bool) -> tuple[tuple[tuple[str, str | None], ...], str | None,
                                                        tuple[str, ...]]:
    """The AMD GPUs a plan is for: the discrete ones (an iGPU beside them is left out, said so), none
    when NVIDIA GPUs are there (one torch build cannot use both vendors: said so)."""
    amd = machine.amd
    if amd is None or not amd.gpus:
        return (), None, ()
    from torchsetup.probe.vendors import override_gfx

    names = ", ".join(f"{g.name}" + (f" ({g.gfx})" if g.gfx else "") for g in amd.gpus)
    if nvidia:
        return (), None, (f"AMD GPU(s) {names} left out: one torch build cannot use NVIDIA and AMD GPUs "
                          "together; this plan is for the NVIDIA GPU(s), which have as much memory or more "
                          "(--gpus chooses among them)",)
    chosen = [g for g in amd.gpus if not g.integrated] or list(amd.gpus)
    notes = [f"{g.name} ({g.gfx}), an integrated GPU, is left out: the plan is for the discrete one(s)"
             for g in amd.gpus if g not in chosen]
    forced = override_gfx(amd.hsa_override_gfx_version)
    if amd.hsa_override_gfx_version:
        notes.append(f"HSA_OVERRIDE_GFX_VERSION={amd.hsa_override_gfx_version} is set: the ROCm runtime reports "
                     f"{forced or 'an unreadable target'} for every AMD GPU, so that is the gfx judged")
    return tuple((g.name, forced or g.gfx) for g in chosen), amd.hsa_override_gfx_version, tuple(notes)


SYSTEMS = {"Linux": "linux", "Darwin": "darwin", "Windows": "win32"}  # platform.system() -> sys_platform


def marker_environment(machine: Machine) -> dict[str, str]:
    """The PEP 508 environment of a probed machine (what its markers are judged by)."""
    system = machine.os.system if machine.os and machine.os.system else "Linux"
    env = {"sys_platform": SYSTEMS.get(system, system.lower()), "platform_system": system,
           "platform_machine": (machine.os.machine if machine.os else None) or "x86_64",
           "os_name": "nt" if system == "Windows" else "posix", "implementation_name": "cpython",
           "platform_python_implementation": "CPython"}
    version = machine.python.version if machine.python else None
    if version:
        env["python_full_version"] = version
        env["python_version"] = ".".join(version.split(".")[:2])
    return env


def check_rocm(matrix: Matrix, release: Release, variant: Variant, t: Target) -> Verdict:
    """A ROCm build on a machine with AMD GPUs: every GPU's gfx target in the build's list."""
    label = f"{release.torch}+{variant.name}"
    row = matrix.gfx_list(release.torch, variant.name)
    if row is None:
        return fail(f"no gfx list is known for {label}", FailureKind.ARCH, unknown=True)
    failures = []
    for name, gfx in t.amd_gpus:
        if gfx is None:
            failures.append(Failure(f"the gfx target of {name} is not known (no KFD topology): whether {label} "
                                    "has kernels for it is not known", FailureKind.ARCH, unknown=True))
        elif gfx not in row.gfx:
            failures.append(Failure(f"{gfx} ({name}) is not in {variant.name}'s list ({row.describe()})",
                                    FailureKind.ARCH))
    notes: tuple[str, ...] = ()
    if uncertain(row.confidence):
        notes = (f"the gfx list of {label} is not verified ({row.source}: {row.confidence})",)
    return Verdict(tuple(failures), notes, True)


def _py_range(versions: tuple[str, ...]) -> str:
    plain = [v for v in versions if not v.endswith("t")]
    return f"{plain[0]}–{plain[-1]}" if plain else ", ".join(versions)


def check_python(release: Release, variant: Variant, t: Target) -> Verdict:
    support = release.wheels.get(t.platform)
    if not release.wheels:
        return Verdict(unchecked=(f"which Pythons torch {release.torch} has wheels for (not recorded)",),
                       notes=(f"Python support of torch {release.torch} is not recorded; "
                              "pip will say if there is no wheel",))
    if support is None:
        if variant.index_url is None:
            return fail(f"torch {release.torch} has no wheels for {t.platform}", FailureKind.PLATFORM)
        return Verdict(notes=(f"the package index lists no {t.platform} wheel of torch "
                              f"{release.torch}; the PyTorch index may still have one",))
    if t.python is None:
        return Verdict(notes=("the target Python version is unknown",),
                       unchecked=("whether a wheel exists for the target Python (its version is unknown)",))
    if t.python not in support.python:
        kind = "free-threaded " if t.python.endswith("t") else ""
        return fail(f"torch {release.torch} has no wheel for {kind}CPython {t.python.rstrip('t')} "
                       f"on {t.platform} (it has {_py_range(support.python)})", FailureKind.PYTHON)
    if t.glibc and support.glibc and t.glibc < support.glibc:
        return fail(f"torch {release.torch} needs glibc ≥ {support.glibc[0]}.{support.glibc[1]} "
                       f"(manylinux_{support.glibc[0]}_{support.glibc[1]}); {t.label} has glibc "
                       f"{t.glibc[0]}.{t.glibc[1]}", FailureKind.GLIBC)
    return Verdict()


def check_cuda(matrix: Matrix, release: Release, variant: Variant, t: Target,
               fleet_has_gpu: bool, forced: bool, for_extensions: bool, arch: ArchList | None) -> Verdict:
    """Every CUDA rule, in the order a person fixes them: visible GPU, kernels for each GPU, the
    driver minimum, PTX JIT, the local toolkit. `arch`: the build's arch list, None when nobody
    knows it."""
    wheel_cuda = variant.cuda
    assert wheel_cuda is not None
    label = f"{release.torch}+{variant.name}"
    failures: list[Failure] = []
    notes: list[str] = []
    unchecked: list[str] = []
    full = t.driver_cuda is not None and t.driver_cuda >= wheel_cuda
    via_ptx: list[str] = []
    if t.nvidia_left_out and not forced:
        failures.append(Failure(f"the NVIDIA GPU(s) of {t.label} are left out of this plan: it is for the AMD "
                                "ones", FailureKind.GPU))
    elif t.gpu_state != GpuState.GPUS:
        if fleet_has_gpu or forced:
            notes.append(f"{t.label} has no visible NVIDIA GPU; a CUDA build still runs there on the CPU")
        else:
            failures.append(Failure(f"no NVIDIA GPU is visible on {t.label}", FailureKind.GPU))
    else:
        found = arch
        if found is None:
            failures.append(Failure(f"no GPU architecture list is known for {label} on {t.platform}",
                                    FailureKind.ARCH, unknown=True))
        else:
            if uncertain(found.confidence):
                notes.append(f"the arch list of {label} on {t.platform} is not verified ({found.source}: "
                             f"{found.confidence})")
            for gpu in t.gpus:
                cap = gpu.capability
                if cap is None:
                    notes.append(f"GPU {gpu.index} ({gpu.name}) reported no compute capability; its "
                                 "kernels were not checked")
                    unchecked.append(f"whether {label} has kernels for GPU {gpu.index} ({gpu.name}), "
                                     "which reported no compute capability")
                    continue
                coverage = cuda.covers(found, cap)
                if coverage.unknown:
                    failures.append(Failure(f"the arch list of {label} is empty: whether it has kernels for "
                                            f"{gpu.name} is not known", FailureKind.ARCH, unknown=True))
                elif not coverage.ok:
                    whose = " (its own list, read from the installed library)" if found.names else ""
                    failures.append(Failure(f"{gpu.name} is {cuda.fmt_cap(cap)}; {label} has "
                                            f"{cuda.describe_arch(found)}{whose}", FailureKind.ARCH))
                elif coverage.needs_ptx_jit:
                    via_ptx.append(f"{gpu.name} ({cuda.fmt_cap(cap)}) would run {label} only through "
                                   f"{coverage.via} JIT")
    # under WSL the Windows driver serves CUDA: its version and its minimums are Windows'
    if t.wsl:
        notes.append(f"WSL: CUDA comes from the Windows driver ({t.driver}); do not install a Linux "
                     "NVIDIA driver inside WSL")
    if t.gpu_state == GpuState.GPUS or t.driver:
        failures.extend(_driver_failures(matrix, variant, t, wheel_cuda))
    if via_ptx and not full:
        failures.append(Failure(f"{via_ptx[0]}, which needs a driver with CUDA ≥ {cuda.fmt_cuda(wheel_cuda)}",
                                FailureKind.DRIVER))
    if for_extensions and t.toolkit and t.toolkit[0] != wheel_cuda[0]:
        failures.append(Failure(f"the local CUDA toolkit {cuda.fmt_cuda(t.toolkit)} cannot build extensions "
                                f"against a CUDA {wheel_cuda[0]} torch ({variant.name})", FailureKind.EXTENSIONS))
    if not full and t.gpu_state == GpuState.GPUS and not any(f.kind == FailureKind.DRIVER for f in failures):
        have = cuda.fmt_cuda(t.driver_cuda) if t.driver_cuda else "unknown"
        notes.append(f"{variant.name} runs on {t.label}'s driver {t.driver} (CUDA {have}) through "
                     f"minor-version compatibility only; PTX JIT and some newer features need a "
                     f"driver with CUDA ≥ {cuda.fmt_cuda(wheel_cuda)}")
    return Verdict(tuple(failures), tuple(notes), full, tuple(unchecked))


def _driver_failures(matrix: Matrix, variant: Variant, t: Target, wheel_cuda: tuple[int, int]) -> list[Failure]:
    minimum = cuda.min_driver_for(matrix, variant.name)
    if minimum is None:
        return [Failure(f"the minimum driver for {variant.name} is not known", FailureKind.DRIVER, unknown=True)]
    needed_text, needed = minimum.for_system("Windows" if t.wsl else t.system)
    driver = parse_driver(t.driver)
    if driver is None:
        return [Failure(f"{variant.name} needs driver ≥ {needed_text}; the driver version of {t.label} is "
                        "unknown", FailureKind.DRIVER, unknown=True)]
    if driver < needed:
        return [Failure(f"{variant.name} needs driver ≥ {needed_text} for CUDA {wheel_cuda[0]}; {t.label} "
                        f"has {t.driver}", FailureKind.DRIVER, needs_driver=needed_text)]
    return []


def check_variant(matrix: Matrix, release: Release, variant: Variant, t: Target, *,
                  fleet_has_gpu: bool, forced: bool, allow_cpu: bool,
                  for_extensions: bool, arch: ArchList | None) -> Verdict:
    """Every rule for one build on one target (the resolver rejects on the first failure). `arch`:
    the build's arch list (None: not known)."""
    python = check_python(release, variant, t)
    if variant.cuda is not None:
        rest = check_cuda(matrix, release, variant, t, fleet_has_gpu, forced, for_extensions, arch)
    elif variant.backend.kind == BackendKind.ROCM:
        if t.amd_gpus:
            rest = check_rocm(matrix, release, variant, t)
        else:
            rest = (Verdict(notes=("ROCm build chosen by --variant; no AMD GPU was found to check it against",))
                    if forced else fail(f"a ROCm build needs an AMD GPU; {t.label} has none" if t.amd_looked else
                                        f"a ROCm build needs an AMD GPU; the probe of {t.label} did not look for "
                                        "AMD GPUs", FailureKind.GPU))
    elif variant.backend.kind == BackendKind.XPU:
        if t.intel_gpus:
            rest = Verdict(notes=("the XPU wheels need only Intel's GPU driver (the SYCL runtime comes from "
                                  "pip)",), full_support=True)
        else:
            rest = (Verdict(notes=("XPU build chosen by --variant; no Intel GPU the wheels are built for was "
                                   "found",)) if forced
                    else fail(f"an XPU build needs an Intel GPU the wheels are built for; {t.label} has none"
                              if t.intel_looked else "an XPU build needs an Intel GPU; the probe of "
                              f"{t.label} did not look for Intel GPUs", FailureKind.GPU))
    elif t.intel_gpus and not (allow_cpu or forced):
        rest = fail(f"a CPU-only build on {t.label}, which has an Intel GPU ({t.intel_gpus[0]}) (pass "
                    "--allow-cpu to accept it)", FailureKind.CPU)
    elif t.amd_gpus and not (allow_cpu or forced):
        rest = fail(f"a CPU-only build on {t.label}, which has an AMD GPU (pass --allow-cpu to accept it)",
                    FailureKind.CPU)
    elif t.gpu_state == GpuState.GPUS and not (allow_cpu or forced):
        rest = fail(f"a CPU-only build on {t.label}, which has an NVIDIA GPU (pass --allow-cpu to accept it)",
                    FailureKind.CPU)
    elif t.gpu_state == GpuState.UNUSABLE and not (allow_cpu or forced):
        rest = fail(f"{t.label} has an NVIDIA driver that cannot be used: {t.nvidia_error} "
                    "(fix it, or pass --allow-cpu for a CPU build)", FailureKind.CPU)
    elif t.gpu_state == GpuState.NO_GPU and t.nvidia_error and t.family != "macos":
        rest = Verdict(notes=(f"{t.label}: {t.nvidia_error}",))
    else:
        rest = Verdict()
    return Verdict(python.failures + rest.failures, python.notes + rest.notes, rest.full_support,
                   python.unchecked + rest.unchecked)
