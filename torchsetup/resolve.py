"""Machine(s) + Matrix + Request -> a Plan, or "no fit" with every candidate's reason. Pure."""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING, Any

from torchsetup import cuda
from torchsetup.command import CommandOptions, Pins, install_argv, mirrored
from torchsetup.errors import UsageError
from torchsetup.kinds import BackendKind, FailureKind, GpuState, VariantForm
from torchsetup.matrix.store import Matrix, Release, Variant
from torchsetup.matrix.view import parse_spec
from torchsetup.nofit import no_fit
from torchsetup.plan import Plan, Rejection, Resolution
from torchsetup.probe.model import Machine
from torchsetup.rules import Target, Verdict, check_variant, target_from_machine

if TYPE_CHECKING:
    from torchsetup.plan import Hold

JETPACK = ("Jetson (aarch64 + Tegra) needs NVIDIA's JetPack builds of torch, not the desktop "
           "wheels: see https://docs.nvidia.com/deeplearning/frameworks/install-pytorch-jetson-platform/")


@dataclass(frozen=True)
class Request:
    """What the user asked for: torch specifier, variant, companions, target and command options."""

    torch: str | None = None  # PEP 440 specifier
    variant: str | None = None  # forced variant
    torchvision: bool = True
    torchaudio: bool = True
    python_version: str | None = None  # "3.12" or "3.14t": plan for another interpreter
    platform: str | None = None  # "linux-x86_64", ...: plan for another machine
    allow_cpu: bool = False
    allow_override: bool = False  # an AMD card no ROCm wheel carries: judged as the documented override target
    for_extensions: bool = False
    command: CommandOptions = field(default_factory=CommandOptions)
    holds: tuple[Hold, ...] = ()  # installed packages' requirements on the family: constraints, as `torch`
    ignored_holds: tuple[Hold, ...] = ()  # --ignore-dependents: not constraints, but named when broken


def _labels(machines: list[Machine], labels: list[str] | None) -> list[str]:
    if labels and len(labels) == len(machines):
        return labels
    return ["this machine"] if len(machines) == 1 else [f"machine {i + 1}" for i in range(len(machines))]


def _pins(release: Release, variant: Variant, vision: str | None, audio: str | None) -> Pins:
    reqs = [f"torch=={variant.torch_pin}"]
    if vision:
        reqs.append(f"torchvision=={vision}")
    if audio:
        reqs.append(f"torchaudio=={audio}")
    return Pins(variant.name, variant.form, variant.index_url, tuple(reqs), release.pure_companions)


def make_plan(release: Release, variant: Variant, request: Request, notes: list[str]) -> Plan:
    vision = (variant.torchvision_pin or release.torchvision) if request.torchvision else None
    audio = (variant.torchaudio_pin or release.torchaudio) if request.torchaudio else None
    if request.torchaudio and audio is None and request.holds:
        from torchsetup.neighbours import held_pin

        pinned = held_pin(request.holds, "torchaudio")
        if pinned is not None:  # a neighbour names the torchaudio that goes with this torch
            audio = pinned[0]
            notes.append(f"torchaudio {audio}: {pinned[1].name} {pinned[1].version or ''} pins it; the matrix "
                         f"pairs no torchaudio release with torch {release.torch}".replace(" :", ":"))
    if request.torchaudio and audio is None:
        notes.append(release.torchaudio_note or f"torch {release.torch} has no torchaudio release")
    argv = install_argv(_pins(release, variant, vision, audio), request.command)
    if variant.form == VariantForm.PYPI and variant.cuda is not None:
        notes.append(f"this is PyPI's own build of torch {release.torch} ({variant.name}, as its wheels "
                     "say in torch/version.py): no extra index is needed")
    for name in release.pure_companions:
        if (name == "torchvision" and vision) or (name == "torchaudio" and audio):
            notes.append(f"{name} {vision if name == 'torchvision' else audio} is pure Python "
                         "(py3-none wheels): one build for every variant, pinned without a local version")
    return Plan(torch=release.torch, torchvision=vision.split("+")[0] if vision else None,
                torchaudio=audio.split("+")[0] if audio else None, variant=variant.name,
                index_url=mirrored(variant.index_url, request.command.index_base),
                command=tuple(argv), notes=tuple(dict.fromkeys(notes)), form=variant.form,
                label=_label(variant))


def _label(variant: Variant) -> str:
    if all(p.startswith("macos") for p in variant.platforms):
        return "macOS build: CPU, and MPS on Apple silicon"
    return f"{variant.name}, PyPI's own build" if variant.form == VariantForm.PYPI else variant.name


CPU_ONLY, MINOR_COMPATIBLE, FULLY_SUPPORTED = 0, 1, 2


@dataclass(frozen=True, order=True)
class Preference:
    """How good a passing candidate is; greater is better, compared field by field: the support
    (fully supported CUDA > minor-version-compatible CUDA > CPU), then the CUDA version, then, for
    the same build, PyPI's own (no extra index) over the PyTorch index's copy — unless the variant
    was forced by name (--variant cu124 names the PyTorch index's cu124 folder)."""

    support: int
    cuda: tuple[int, int]
    preferred_source: bool

    @classmethod
    def of(cls, variant: Variant, full: bool, forced: bool) -> Preference:
        preferred_source = (variant.form == VariantForm.PYPI) != forced
        if variant.backend.kind == BackendKind.ROCM and len(variant.backend.version) >= 2:
            return cls(FULLY_SUPPORTED, (variant.backend.version[0], variant.backend.version[1]), preferred_source)
        if variant.backend.kind == BackendKind.XPU:
            return cls(FULLY_SUPPORTED, (0, 0), preferred_source)
        if variant.cuda is None:
            return cls(CPU_ONLY, (0, 0), preferred_source)
        return cls(FULLY_SUPPORTED if full else MINOR_COMPATIBLE, variant.cuda, preferred_source)

    def same_build(self, other: Preference) -> bool:
        return (self.support, self.cuda) == (other.support, other.cuda)


def resolve(machines: list[Machine], matrix: Matrix, request: Request,
            labels: list[str] | None = None) -> Resolution:
    """The plan for `machines`; installed packages' requirements (`request.holds`) constrain it, and
    when they hold it back from a newer build that fits the machine, the plan names them."""
    result = _resolve(machines, matrix, request, labels)
    if not request.holds and not request.ignored_holds:
        return result
    from torchsetup.neighbours import neighbour_notes, refused_by

    free = _resolve(machines, matrix, replace(request, holds=(), ignored_holds=()), labels) if request.holds \
        else result
    held_back = free.plan is not None and result.plan is not None and free.plan.torch != result.plan.torch
    if result.plan is not None and free.plan is not None and request.holds and held_back:
        held = tuple(refused_by(request.holds, free.plan.torch, free.plan.torchvision, free.plan.torchaudio))
        plan = replace(result.plan, held_by=held, newest_free=free.plan.torch)
        return replace(result, plan=replace(plan, notes=(*neighbour_notes(plan), *plan.notes)))
    if result.plan is None and free.plan is not None and request.holds:
        blocking = refused_by(request.holds, free.plan.torch, free.plan.torchvision, free.plan.torchaudio)
        return replace(result, error="no build fits this machine and the installed packages that depend on "
                       f"torch: {'; '.join(h.words() for h in blocking or request.holds)}",
                       hint=f"--ignore-dependents plans without them (torch {free.plan.torch} would fit this "
                       "machine) and names what it breaks")
    if result.plan is not None and request.ignored_holds:
        broken = tuple(refused_by(request.ignored_holds, result.plan.torch, result.plan.torchvision,
                                  result.plan.torchaudio))
        plan = replace(result.plan, breaks=broken)
        return replace(result, plan=replace(plan, notes=(*neighbour_notes(plan), *plan.notes)))
    return result


def _resolve(machines: list[Machine], matrix: Matrix, request: Request,
             labels: list[str] | None = None) -> Resolution:
    spec = parse_spec(request.torch)
    names = _labels(machines, labels)
    if request.command.python == "python" and machines and machines[0].python \
            and machines[0].python.executable:
        request = replace(request, command=replace(request.command,
                                                   python=machines[0].python.executable))
    targets = [target_from_machine(m, matrix, n, request.platform, request.python_version)
               for m, n in zip(machines, names, strict=True)]
    if request.allow_override:
        from torchsetup.rocm import with_override

        targets = [with_override(t, frozenset(g for row in matrix.gfx_lists for g in row.gfx)) for t in targets]
    jetsons = [t for t in targets if t.jetson]
    if jetsons and request.variant != "cpu":
        return Resolution(False, None, (), f"{jetsons[0].label}: {JETPACK}",
                          "Install NVIDIA's JetPack torch wheel, or pass --variant cpu for a CPU build.")
    families = {t.family for t in targets}
    forced_error = _forced_variant_error(matrix, request.variant, families)
    if forced_error:
        return forced_error
    fleet_has_gpu = any(t.gpu_state == GpuState.GPUS for t in targets)
    fleet_has_amd = any(t.amd_gpus or t.intel_gpus for t in targets)  # GPUs a ROCm or XPU build is for
    if request.allow_cpu and fleet_has_gpu and not request.variant:
        # CPU may win only where no GPU build fits: try without it first
        gpu_only = _resolve(machines, matrix, replace(request, allow_cpu=False), labels)
        if gpu_only.ok and gpu_only.plan is not None:
            note = "--allow-cpu was not needed: a GPU build fits, so that is the plan"
            return replace(gpu_only, plan=replace(gpu_only.plan, notes=(*gpu_only.plan.notes, note)))
        cpu_note = (f"no GPU build fits ({gpu_only.error}); this CPU build runs without the NVIDIA GPU "
                    "because --allow-cpu was given")
    else:
        cpu_note = None
    selection_notes = [note if len(machines) == 1 else f"{label}: {note}"
                       for m, label in zip(machines, names, strict=True) for note in m.gpu_notes]
    selection_notes += [note if len(targets) == 1 else f"{t.label}: {note}"
                        for t in targets for note in t.vendor_notes]
    unique = list({_signature(t): t for t in targets}.values())
    rejected: list[Rejection] = []
    skipped_for_cpu: list[Release] = []  # newer releases with no CPU-only build for these machines
    for release in matrix.releases:
        if spec is not None and not spec.contains(release.torch):
            continue
        if not release.variants or (request.torchvision and release.torchvision is None):
            what = ("its build variants are not established by the sources" if not release.variants
                    else "no torchvision is known for it (pass --no-torchvision for torch alone)")
            rejected.append(Rejection(release.torch, "*", f"torch {release.torch}: {what}", FailureKind.DATA))
            continue
        vision = release.torchvision if request.torchvision else None
        audio = release.torchaudio if request.torchaudio else None
        held = _refused(request, release.torch, vision, audio)
        if held:
            rejected.append(Rejection(release.torch, "*", "; ".join(h.words() for h in held),
                                      FailureKind.DEPENDENT, kinds=(FailureKind.DEPENDENT,)))
            continue
        passing = _candidates(matrix, release, request, unique, fleet_has_gpu, rejected)
        if not passing and not fleet_has_gpu and not fleet_has_amd and _gpu_only(rejected, release.torch):
            if spec is None:
                skipped_for_cpu.append(release)  # the default plan looks for a CPU build first
                continue
            # asked for by --torch: its CUDA build runs on a machine without a GPU, on the CPU
            passing = [p for p in _candidates(matrix, release, request, unique, True, []) if p[1].cuda]
        if not passing:
            continue
        passing.sort(key=lambda p: p[0], reverse=True)
        best, variant, notes = passing[0]
        if fleet_has_gpu and best.support == CPU_ONLY and not request.allow_cpu and not request.variant:
            for _, v, _ in passing:
                rejected.append(Rejection(release.torch, v.name, "a CPU-only build on a machine "
                                          "with an NVIDIA GPU (pass --allow-cpu)", FailureKind.CPU,
                                          kinds=(FailureKind.CPU,), pypi=v.form == VariantForm.PYPI))
            continue
        for pref, other, _ in passing[1:]:
            rejected.append(Rejection(release.torch, other.name, _why_not(best, pref, variant, other),
                                      FailureKind.PREFERENCE, pypi=other.form == VariantForm.PYPI))
        newer = _newer_fix(rejected, release.torch)
        if newer:
            notes.append(newer)
        notes = selection_notes + notes + ([cpu_note] if cpu_note and variant.cuda is None else [])
        if skipped_for_cpu:
            newest = skipped_for_cpu[0]
            platform = targets[0].platform
            builds = ", ".join(sorted({v.name for v in newest.variants if v.cuda and v.runs_on(platform)}))
            notes.append(f"torch {newest.torch} has no CPU-only build for {targets[0].platform}; its CUDA build "
                         f"({builds}) also runs without a GPU, on the CPU: --torch {newest.torch} plans it")
        elif variant.cuda and not fleet_has_gpu and not request.variant:
            notes.append(f"torch {release.torch} has no CPU-only build for {targets[0].platform}: its "
                         f"{variant.name} build runs here on the CPU")
        return Resolution(True, make_plan(release, variant, request, notes), tuple(rejected))
    return no_fit(targets, rejected, request.torch, request.allow_cpu, _newest_with_kernels(matrix, targets),
                  matrix.releases[0].torch, frozenset(g for row in matrix.gfx_lists for g in row.gfx))


Candidate = tuple[Preference, Variant, list[str]]


def _refused(request: Request, torch: str, vision: str | None, audio: str | None) -> list[Hold]:
    if not request.holds:
        return []
    from torchsetup.neighbours import refused_by

    return refused_by(request.holds, torch, vision, audio)


def _gpu_only(rejected: list[Rejection], torch: str) -> bool:
    """Every build of `torch` lost only because no GPU is visible."""
    mine = [r for r in rejected if r.torch == torch]
    return bool(mine) and all(set(r.kinds) == {FailureKind.GPU} for r in mine)


def _candidates(matrix: Matrix, release: Release, request: Request, targets: list[Target],
                fleet_has_gpu: bool, rejected: list[Rejection]) -> list[Candidate]:
    """The variants of one release that run on every target (rejections appended to `rejected`)."""
    passing: list[Candidate] = []
    if request.variant and not any(v.name == request.variant and all(v.runs_on(t.platform) for t in targets)
                                   for v in release.variants):
        has = ", ".join(sorted({v.name for v in release.variants
                                if all(v.runs_on(t.platform) for t in targets)})) or "none"
        where = ", ".join(sorted({t.platform for t in targets}))
        reason = f"torch {release.torch} has no {request.variant} build for {where} (it has: {has})"
        rejected.append(Rejection(release.torch, request.variant, reason, FailureKind.PLATFORM,
                                  kinds=(FailureKind.PLATFORM,)))
        return passing
    for variant in release.variants:
        if not all(variant.runs_on(t.platform) for t in targets):
            continue
        if request.variant and variant.name != request.variant:
            continue
        notes: list[str] = []
        full = True
        failure: Verdict | None = None
        for t in targets:
            verdict = check_variant(matrix, release, variant, t, fleet_has_gpu=fleet_has_gpu,
                                    forced=bool(request.variant), allow_cpu=request.allow_cpu,
                                    for_extensions=request.for_extensions,
                                    arch=cuda.arch_list_for(matrix, release.torch, variant.name, t.platform))
            if verdict.failure:
                failure = verdict
                break
            notes.extend(verdict.notes)
            full = full and verdict.full_support
        if failure is not None:
            kinds = tuple(dict.fromkeys(f.kind for f in failure.failures))
            rejected.append(Rejection(release.torch, variant.name, failure.failure or "",
                                      failure.kind, failure.needs_driver, kinds, variant.form == VariantForm.PYPI))
        else:
            passing.append((Preference.of(variant, full, bool(request.variant)), variant, notes))
    return passing


def _forced_variant_error(matrix: Matrix, variant: str | None, families: set[str]) -> Resolution | None:
    """A --variant that no release has, or that does not exist for these machines' platforms."""
    if not variant:
        return None
    hosts = {p.split("-")[0] for r in matrix.releases for v in r.variants if v.name == variant
             for p in v.platforms}
    if not hosts:  # a variant nobody ships is bad input (exit 2), not "no fit"
        raise UsageError(f"no release in the matrix has a {variant!r} build",
                         "Run `torchsetup matrix show` to see the variants.")
    missing = families - hosts
    if not missing:
        return None
    extra = " macOS gets the default PyPI build (MPS on Apple silicon)." if "macos" in missing else ""
    return Resolution(False, None, (), f"{variant} builds exist only for {', '.join(sorted(hosts))}; "
                      f"not for {', '.join(sorted(missing))}.{extra}", "Drop --variant to let torchsetup choose.")


def _why_not(best: Preference, pref: Preference, chosen: Variant, other: Variant) -> str:
    if pref.support == CPU_ONLY and best.support != CPU_ONLY:
        return f"CPU-only; {chosen.name} uses the GPU"
    if pref.support < best.support:
        return f"runs only through minor-version compatibility; {chosen.name} is fully supported"
    if pref.same_build(best):
        return ("the same build as PyPI's own, which needs no extra index" if other.form != VariantForm.PYPI
                else f"PyPI's copy of this build; --variant {chosen.name} names the PyTorch index's")
    return f"lower CUDA than {chosen.name}"


def _newer_fix(rejected: list[Rejection], chosen_torch: str) -> str | None:
    """When newer torch lost only to the driver, say which driver would unlock it."""
    for r in rejected:
        if r.torch != chosen_torch and r.needs_driver:
            return (f"newer torch needs a newer driver: with driver ≥ {r.needs_driver} torch {r.torch} "
                    f"({r.variant}) would fit")
    return None


def _newest_with_kernels(matrix: Matrix, targets: list[Target]) -> str | None:
    """The newest torch+variant with kernels for every GPU, whatever the driver says."""
    gpu_targets = [t for t in targets if t.gpu_state == GpuState.GPUS]
    if not gpu_targets:
        return None
    for release in matrix.releases:
        for variant in release.variants:
            if variant.cuda is None or not all(variant.runs_on(t.platform) for t in gpu_targets):
                continue
            ok = True
            for t in gpu_targets:
                arch = cuda.arch_list_for(matrix, release.torch, variant.name, t.platform)
                caps = [g.capability for g in t.gpus if g.capability]
                if arch is None or not all(cuda.covers(arch, c).ok for c in caps):
                    ok = False
                    break
            if ok:
                return f"{release.torch} ({variant.name})"
    return None


def _signature(t: Target) -> tuple[Any, ...]:
    return (t.system, t.platform, t.python, t.glibc, t.driver, t.driver_cuda, t.gpu_state,
            tuple(sorted({(g.name, g.compute_capability) for g in t.gpus})), t.toolkit, t.wsl,
            t.container, t.nvidia_error)


__all__ = ["Request", "Plan", "Rejection", "Resolution", "resolve"]
