"""`--with PKG[SPEC]`: torch's neighbours planned together with torch. Each named package's releases
(the matrix's `extensions` table: their requirements on the family as the package index gives them)
become constraints of the plan, newest release first, with the package's own facts checked beside:
its platforms, its Python range, its GPU floor, and, for flash-attn, the release assets it publishes.
Facts: data/sources/torch-dependents.md."""

from __future__ import annotations

import re
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING

from torchsetup.errors import UsageError
from torchsetup.plan import Hold, Plan, Resolution, WithPackage

if TYPE_CHECKING:
    from collections.abc import Mapping

    from packaging.specifiers import SpecifierSet

    from torchsetup.matrix.store import ExtensionRelease, Matrix
    from torchsetup.probe.model import Machine
    from torchsetup.resolve import Request
    from torchsetup.rules import Target


@dataclass(frozen=True)
class Package:
    """Where a neighbour's builds live, and what it needs of the GPU (torch-dependents.md §1 and §3)."""

    name: str
    source: str  # pypi | url (a GitHub release asset)
    gpu_floor: tuple[int, int] | None  # the oldest compute capability its kernels run on
    needs_cuda: bool  # only CUDA builds of torch (its wheels are CUDA builds)
    why: str


PACKAGES = {
    "vllm": Package("vllm", "pypi", (7, 5), True, "vLLM: GPU compute capability ≥ 7.5; ROCm through its docker "
                    "image only"),
    "xformers": Package("xformers", "pypi", None, False, "xformers: one wheel per exact torch up to 0.0.34, the "
                        "stable ABI (torch ≥ 2.10) from 0.0.35"),
    "torch-tensorrt": Package("torch-tensorrt", "pypi", None, True, "torch-tensorrt: one torch minor per release"),
    "bitsandbytes": Package("bitsandbytes", "pypi", None, False, "bitsandbytes: one wheel for every backend"),
    "torchao": Package("torchao", "pypi", None, False, "torchao: no torch requirement declared; its kernels load "
                       "only from the torch its release line names on (pytorch/ao#2919)"),
    "flash-attn": Package("flash-attn", "url", (8, 0), True, "flash-attn 2: GitHub release assets only (PyPI has "
                          "the sdist, which compiles for hours); kernels for sm_80 and newer"),
    "torch-scatter": Package("torch-scatter", "find-links", None, False, "PyG's compiled packages: wheels on "
                             "data.pyg.org pages keyed by torch X.Y.0 and its variant"),
    "torch-sparse": Package("torch-sparse", "find-links", None, False, "PyG's compiled packages"),
    "torch-cluster": Package("torch-cluster", "find-links", None, False, "PyG's compiled packages"),
    "pyg-lib": Package("pyg-lib", "find-links", None, False, "PyG's compiled packages"),
}
# PyG's find-links pages (torch-dependents.md §1): keyed by torch X.Y.0 and the variant; no wheels after
# torch 2.12 (the 2.13 pages list none, rusty1s/pytorch_scatter#513); Linux and Windows (inferred)
PYG_PAGES = "https://data.pyg.org/whl"  # a mirror: $TORCHSETUP_PYG_PAGES
PYG_PAGE = "{base}/torch-{minor}.0+{variant}.html"
PYG_LAST_TORCH = "2.12"
PYG_PLATFORMS = ("linux-x86_64", "windows-x86_64")
# flash-attn's release matrix (.github/workflows/publish.yml at HEAD, torch-dependents.md §1)
FLASH_TORCH = ("2.6", "2.7", "2.8", "2.9", "2.10")
FLASH_CUDA13_FROM = (2, 9)
FLASH_PYTHONS = ("3.10", "3.11", "3.12", "3.13")
FLASH_PLATFORMS = {"linux-x86_64": "x86_64", "linux-aarch64": "aarch64"}
# a mirror: $TORCHSETUP_FLASH_ATTN_RELEASES
FLASH_RELEASES = "https://github.com/Dao-AILab/flash-attention/releases/download"
FLASH_URL = ("{base}/v{version}/flash_attn-{version}+cu{cuda}torch{torch}cxx11abi{abi}-cp{py}-cp{py}"
             "-linux_{arch}.whl")


@dataclass(frozen=True)
class Mirrors:
    """Where the release assets and PyG's pages are fetched from (checked at the edge, cli_plan)."""

    flash_attn: str = FLASH_RELEASES
    pyg: str = PYG_PAGES


@dataclass(frozen=True)
class Wanted:
    name: str
    spec: SpecifierSet | None


def parse_wanted(texts: tuple[str, ...]) -> tuple[Wanted, ...]:
    from packaging.requirements import InvalidRequirement, Requirement

    out = []
    for text in texts:
        try:
            req = Requirement(text)
        except InvalidRequirement as exc:
            raise UsageError(f"--with {text!r}: not a requirement ({exc})",
                             "Use e.g. --with vllm==0.33.0.") from exc
        name = re.sub(r"[-_.]+", "-", req.name).lower()
        if name not in PACKAGES:
            raise UsageError(f"--with {text!r}: torchsetup does not plan {name} with torch",
                             f"It plans {', '.join(sorted(PACKAGES))}; install others after torch.")
        out.append(Wanted(name, req.specifier if str(req.specifier) else None))
    return tuple(out)


def _releases(matrix: Matrix, wanted: Wanted) -> list[ExtensionRelease]:
    from packaging.version import Version

    from torchsetup.matrix.store import ExtensionRelease

    if PACKAGES[wanted.name].source == "find-links":  # one entry: whatever the page for the planned torch has
        minor = int(PYG_LAST_TORCH.split(".")[1])
        return [ExtensionRelease(wanted.name, "", (f"torch<2.{minor + 1}",), None, (), "torch-dependents.md")]
    found = [e for e in matrix.extensions if e.name == wanted.name
             and (wanted.spec is None or wanted.spec.contains(e.version, prereleases=True))]
    return sorted(found, key=lambda e: Version(e.version), reverse=True)


def _requirements(release: ExtensionRelease, environment: Mapping[str, str]) -> tuple[str, ...]:
    """The release's requirements on the family with their markers judged on the target, as an installed
    neighbour's are (dependents.from_child); torchao's kernel floor from the doctor's own table."""
    from torchsetup.dependents import from_child, torchao_needs

    if release.name == "flash-attn":
        return (f"torch>={FLASH_TORCH[0]},<2.{int(FLASH_TORCH[-1].split('.')[1]) + 1}",)
    record = {"name": release.name, "version": release.version, "requires": list(release.requires)}
    dependent, _ = from_child(record, {**environment, "platform_release": ""})  # desktop wheels, not Jetson's
    if dependent is None:
        return ()
    needs = torchao_needs(dependent)
    return (f"torch>={needs}",) if needs else dependent.requires


def _torchao_known(release: ExtensionRelease) -> bool:
    from torchsetup.dependents import TORCHAO_TORCH

    return ".".join(release.version.split(".")[:2]) in TORCHAO_TORCH


def _static_refusal(package: Package, release: ExtensionRelease, targets: list[Target]) -> str | None:
    """Why this release cannot run on these machines, whatever torch is planned (None: it can)."""
    from packaging.specifiers import InvalidSpecifier, SpecifierSet

    label = f"{release.name} {release.version}"
    if release.name == "torchao" and not _torchao_known(release):
        return f"{label}: the torch its kernels load on is not known (not checked), so it is not chosen"
    for t in targets:
        if package.gpu_floor is not None:
            if not t.gpus:
                return f"{label} needs an NVIDIA GPU ({package.why}); {t.label} has none"
            low = [(g.name, g.capability) for g in t.gpus
                   if g.capability is not None and g.capability < package.gpu_floor]
            if low:
                name, (major, minor) = low[0]
                return f"{label} has no kernels for {name} (sm_{major}{minor}): {package.why}"
        if PACKAGES[release.name].source == "find-links":
            if t.platform not in PYG_PLATFORMS:
                return f"{release.name}: PyG publishes no wheels for {t.platform}"
        elif release.name == "flash-attn":
            if t.platform not in FLASH_PLATFORMS:
                return f"{label} publishes no release assets for {t.platform} (Linux x86_64 and aarch64 only)"
            if t.python and t.python.rstrip("t") not in FLASH_PYTHONS:
                return f"{label} publishes no assets for Python {t.python} (CPython {', '.join(FLASH_PYTHONS)})"
        elif not _publishes_for(release, t.platform):
            return f"{label} publishes no wheel for {t.platform}"
        if release.requires_python and t.python:
            try:
                if not SpecifierSet(release.requires_python).contains(t.python.rstrip("t") + ".0"):
                    return f"{label} needs Python {release.requires_python}; {t.label} has {t.python}"
            except InvalidSpecifier:
                pass
    return None


PLATFORM_TAGS = {"linux-x86_64": ("manylinux", "x86_64"), "linux-aarch64": ("manylinux", "aarch64"),
                 "windows-x86_64": ("win_amd64",), "macos-arm64": ("macosx", "arm64"),
                 "macos-x86_64": ("macosx", "x86_64")}


def _publishes_for(release: ExtensionRelease, platform: str) -> bool:
    """Whether one of the release's wheels is for `platform` (a py3-none-any wheel is for every one)."""
    wanted = PLATFORM_TAGS.get(platform, (platform,))
    return any(tag.endswith("none-any.whl") or all(part in tag for part in wanted) for tag in release.files)


def _flash_asset(release: ExtensionRelease, plan: Plan, target: Target, base: str
                 ) -> tuple[str | None, str | None]:
    """(asset URL, None) for the plan, or (None, why there is none)."""
    from torchsetup.kinds import Backend, BackendKind

    backend = Backend.of(plan.variant)
    minor = ".".join(plan.torch.split(".")[:2])
    if backend.kind != BackendKind.CUDA or not backend.version:
        return None, f"flash-attn {release.version} publishes CUDA builds only; the plan is {plan.variant}"
    cuda = backend.version[0]
    torch_minor = tuple(int(x) for x in minor.split("."))
    if cuda == 13 and torch_minor < FLASH_CUDA13_FROM:
        return None, f"flash-attn {release.version} has CUDA 13 assets only for torch ≥ 2.9"
    if cuda not in (12, 13):
        return None, f"flash-attn {release.version} publishes CUDA 12 and 13 assets; the plan is {plan.variant}"
    python = (target.python or "3.12").rstrip("t").replace(".", "")
    url = FLASH_URL.format(base=base.rstrip("/"), version=release.version, cuda=cuda, torch=minor,
                           abi="FALSE" if minor == "2.6" else "TRUE", py=python,
                           arch=FLASH_PLATFORMS.get(target.platform, "x86_64"))
    return url, None


def plan_with(machines: list[Machine], matrix: Matrix, request: Request, wanted: tuple[Wanted, ...],
              labels: list[str] | None = None, mirrors: Mirrors = Mirrors()) -> Resolution:
    """The plan for torch and every wanted package together, newest release of each first."""
    from torchsetup.resolve import resolve
    from torchsetup.rules import marker_environment, target_from_machine

    names = labels or [f"machine {i + 1}" for i in range(len(machines))]
    targets = [target_from_machine(m, matrix, n, request.platform, request.python_version)
               for m, n in zip(machines, names, strict=True)]
    holds = list(request.holds)
    environment = marker_environment(machines[0])
    chosen: list[WithPackage] = []
    result: Resolution | None = None
    for want in wanted:
        package = PACKAGES[want.name]
        releases = _releases(matrix, want)
        if not releases:
            return Resolution(False, None, (), f"no release of {want.name} the matrix knows matches "
                              f"{want.spec or 'any version'}", "Run `torchsetup matrix update`, or relax the "
                              "specifier.")
        reasons = []
        for release in releases:
            refusal = _static_refusal(package, release, targets)
            if refusal:
                reasons.append(refusal)
                continue
            extra = [Hold(release.name, release.version, r) for r in _requirements(release, environment)]
            attempt = resolve(machines, matrix, replace(request, holds=tuple(holds + extra)), labels)
            if attempt.plan is None:
                reasons.append(_no_torch_for(matrix, release, extra, request.torch) or
                               f"{release.name} {release.version}: {attempt.error}")
                continue
            url, why_not = (None, None)
            if release.name == "flash-attn":
                url, why_not = _flash_asset(release, attempt.plan, targets[0], mirrors.flash_attn)
                if why_not:
                    reasons.append(why_not)
                    continue
            holds += extra
            if package.source == "find-links":
                minor = ".".join(attempt.plan.torch.split(".")[:2])
                page = PYG_PAGE.format(base=mirrors.pyg.rstrip("/"), minor=minor, variant=attempt.plan.variant)
                chosen.append(WithPackage(release.name, "from the page", "find-links", page, release.name))
            else:
                chosen.append(WithPackage(release.name, release.version, package.source, url,
                                          url or f"{release.name}=={release.version}"))
            result = attempt
            break
        else:
            hint = _ways_out(want.name, reasons)
            if request.torch is not None:  # the user's --torch may be what stands in the way
                free = plan_with(machines, matrix, replace(request, torch=None), wanted, labels, mirrors)
                if free.plan is not None:
                    combo = " + ".join(f"{w.name} {w.version}" for w in free.plan.with_)
                    hint = (f"newest combination that has one: torch {free.plan.torch} {free.plan.variant} + "
                            f"{combo}; {hint}")
            return Resolution(False, None, (), f"no build fits with {want.name}: {reasons[0]}", hint)
    assert result is not None and result.plan is not None
    plan = result.plan
    pages = list(dict.fromkeys(w.url for w in chosen if w.source == "find-links" and w.url))
    uv = plan.command[:1] == ("uv",)
    links = [arg for page in pages for arg in ("--find-links" if uv else "-f", page)]
    command = (*plan.command, *links, *(w.requirement for w in chosen))
    notes = [f"{w.name}: the wheel PyG's page {w.url} lists for this torch (its versions are not in the matrix)"
             if w.source == "find-links" else
             f"{w.name} {w.version}: the release asset {w.url}, installed by its address without a hash to pin "
             "(the release publishes no checksum)" if w.url else f"{w.name} {w.version}: from PyPI"
             for w in chosen]
    return replace(result, plan=replace(plan, with_=tuple(chosen), command=command,
                                        notes=(*plan.notes, *notes)))


def _no_torch_for(matrix: Matrix, release: ExtensionRelease, holds: list[Hold], torch: str | None) -> str | None:
    """'flash-attn 2.8.3 has no wheel for torch 2.11 (its releases cover torch 2.6–2.10)' when no torch
    release the user's --torch allows meets the package's own requirement."""
    from packaging.requirements import Requirement

    from torchsetup.matrix.view import parse_spec

    wanted = parse_spec(torch)
    needs = [Requirement(h.requires).specifier for h in holds if Requirement(h.requires).name == "torch"]
    if torch is None or wanted is None or not needs or any(
            wanted.contains(r.torch) and all(n.contains(r.torch) for n in needs) for r in matrix.releases):
        return None
    covers = "; ".join(h.requires for h in holds)
    if release.name == "flash-attn":
        covers = f"its release assets cover torch {FLASH_TORCH[0]}–{FLASH_TORCH[-1]}"
    elif PACKAGES[release.name].source == "find-links":
        covers = f"PyG's pages list no wheels after torch {PYG_LAST_TORCH}"
    label = f"{release.name} {release.version}".strip()
    return f"{label} has no wheel for torch {torch.lstrip('=')} ({covers})"


def _ways_out(name: str, reasons: list[str]) -> str:
    ways = ["an older torch (--torch)", f"a release of {name} that fits (--with '{name}<…')"]
    if name == "flash-attn":
        ways += ["build it from source (needs nvcc of torch's CUDA major.minor; takes long)",
                 "FlashAttention 4 (flash-attn-4: pure Python, JIT, no torch ABI coupling)"]
    more = f" (and {len(reasons) - 1} more releases refused)" if len(reasons) > 1 else ""
    return "; ".join(ways) + more
