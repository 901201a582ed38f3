"""Why no build fits: the constraint every candidate fails, the nearest candidates first, and each
way out with what it gives. Pure."""

from __future__ import annotations

from torchsetup.kinds import Backend, BackendKind, FailureKind, GpuState
from torchsetup.plan import Rejection, Resolution
from torchsetup.rules import Target

KIND_WORDS = {FailureKind.DRIVER: "the NVIDIA driver", FailureKind.ARCH: "the GPU's architecture",
              FailureKind.PYTHON: "the Python version", FailureKind.GLIBC: "glibc",
              FailureKind.PLATFORM: "the platform", FailureKind.GPU: "no visible GPU",
              FailureKind.CPU: "CPU-only on a GPU machine", FailureKind.EXTENSIONS: "the local CUDA toolkit",
              FailureKind.DATA: "missing data", FailureKind.PREFERENCE: "a better build",
              FailureKind.DEPENDENT: "an installed package's requirement"}


def no_fit(targets: list[Target], rejected: list[Rejection], torch: str | None, allow_cpu: bool,
           newest_with_kernels: str | None, newest_release: str, carried_gfx: frozenset[str] = frozenset()
           ) -> Resolution:
    """The constraints no candidate passes in the headline; the nearest candidates (fewest failed
    constraints) first; each hint a concrete way out with what it gives."""
    if not rejected:
        return Resolution(False, None, (), f"no release in the matrix matches torch {torch or ''}",
                          f"The newest release the matrix knows is {newest_release}; `torchsetup matrix show` "
                          "lists them all.")
    if any(t.amd_gpus for t in targets):
        return _amd_no_fit(targets, rejected, allow_cpu, carried_gfx)
    # CPU, ROCm and XPU builds on an NVIDIA machine are other roads (a flag, other hardware), not near misses
    other_roads = (FailureKind.DATA, FailureKind.PREFERENCE, FailureKind.CPU)
    other_vendors = (BackendKind.ROCM, BackendKind.XPU) if not any(t.intel_gpus for t in targets) \
        else (BackendKind.ROCM,)
    real = ([r for r in rejected if r.kind not in other_roads
             and Backend.of(r.variant).kind not in other_vendors]
            or [r for r in rejected if r.kind not in (FailureKind.DATA, FailureKind.PREFERENCE)] or list(rejected))
    broken = next((t for t in targets if t.gpu_state == GpuState.UNUSABLE), None)
    if broken is not None:  # the driver is the blocker: say that, not the first table row
        cpu_way = not allow_cpu and any(set(r.kinds) == {FailureKind.CPU} for r in rejected)
        return Resolution(False, None, tuple(real), f"no build fits: {broken.label} has an NVIDIA GPU whose "
                          f"driver cannot be used: {broken.nvidia_error}",
                          "fix the driver as said above"
                          + ("; or --allow-cpu → a CPU-only build that runs without the GPU" if cpu_way else ""))
    kinds_of = {id(r): set(r.kinds or ((r.kind,) if r.kind else ())) for r in real}
    nearest = sorted(real, key=lambda r: len(kinds_of[id(r)]))
    every = set.intersection(*kinds_of.values()) if kinds_of else set()
    if every:
        why = " and ".join(KIND_WORDS.get(k, k) for k in sorted(every))
        example = next(r for r in nearest if every & kinds_of[id(r)])
        error = f"no build fits: every candidate fails on {why} (e.g. torch {example.torch} {example.variant}: " \
                f"{example.reason})"
    else:
        best = nearest[0]
        why = " and ".join(KIND_WORDS.get(k, k) for k in sorted(kinds_of[id(best)]))
        error = (f"no build fits: the nearest candidate, torch {best.torch} {best.variant}, fails only on {why}: "
                 f"{best.reason}")
    cpu_build_lost = any(set(r.kinds) == {FailureKind.CPU} for r in rejected)
    hints = _ways_out(nearest, kinds_of, allow_cpu, cpu_build_lost)
    if newest_with_kernels:
        hints.append(f"the newest torch with kernels for these GPUs is {newest_with_kernels}")
    elif any(t.gpu_state == GpuState.GPUS for t in targets):
        hints.append("no torch in the matrix has kernels for every GPU here")
    ordered = tuple(nearest) + tuple(r for r in rejected if r not in real)
    return Resolution(False, None, ordered, error, "; ".join(hints) or
                      "Relax --torch/--variant, or check the probe (torchsetup probe).")


def _amd_no_fit(targets: list[Target], rejected: list[Rejection], allow_cpu: bool,
                carried_gfx: frozenset[str]) -> Resolution:
    """On AMD machines the ROCm builds are the candidates; a card no ROCm wheel carries is said so, with
    the ways out the sources document (an override, AMD's own wheels, a CPU build)."""
    from torchsetup import rocm

    real = [r for r in rejected if Backend.of(r.variant).kind == BackendKind.ROCM
            and r.kind not in (FailureKind.DATA, FailureKind.PREFERENCE)]
    ordered = tuple(real) + tuple(r for r in rejected if r not in real)
    cpu_way = [] if allow_cpu else ["--allow-cpu → a CPU-only build: torch runs, but without the AMD GPU"]
    for t in targets:
        for name, gfx in t.amd_gpus:
            if gfx is not None and gfx not in carried_gfx:
                hint = "; ".join([*rocm.ways_out(gfx), *cpu_way])
                return Resolution(False, None, ordered, "no build fits: no ROCm wheel on the PyTorch index "
                                  f"carries {gfx} ({name} on {t.label})", hint)
    if not real:
        platforms = ", ".join(sorted({t.platform for t in targets}))
        return Resolution(False, None, ordered, f"no build fits: no ROCm build for {platforms} (ROCm wheels are "
                          "Linux x86_64 only)", "; ".join(cpu_way) or None)
    newest = real[0]
    return Resolution(False, None, ordered, f"no build fits: the newest ROCm candidate, torch {newest.torch} "
                      f"{newest.variant}, fails: {newest.reason}", "; ".join(cpu_way) or None)


def _ways_out(nearest: list[Rejection], kinds_of: dict[int, set[FailureKind]], allow_cpu: bool,
              cpu_build_lost: bool) -> list[str]:
    hints = []
    only: dict[FailureKind, Rejection] = {}
    for r in nearest:  # newest first among those failing one constraint alone
        kinds = kinds_of[id(r)]
        if len(kinds) == 1:
            only.setdefault(next(iter(kinds)), r)
    driver = [r for r in nearest if kinds_of[id(r)] == {FailureKind.DRIVER} and r.needs_driver]
    if driver:
        newest = max(driver, key=lambda r: _release_key(r.torch))
        hints.append(f"driver ≥ {newest.needs_driver} → torch {newest.torch} ({newest.variant})")
    if FailureKind.PYTHON in only:
        python = only[FailureKind.PYTHON]
        hints.append(f"a Python that torch {python.torch} has wheels for ({python.reason}) → torch "
                     f"{python.torch}, with --python PATH")
    if FailureKind.GLIBC in only:
        glibc = only[FailureKind.GLIBC]
        hints.append(f"a newer glibc → torch {glibc.torch} ({glibc.reason})")
    if cpu_build_lost and not allow_cpu:
        hints.append("--allow-cpu → a CPU-only build: torch runs, but without the NVIDIA GPU")
    return hints


def _release_key(version: str) -> tuple[int, ...]:
    return tuple(int(x) for x in version.split(".") if x.isdigit())
