"""The gfx targets each ROCm build of torch carries (PYTORCH_ROCM_ARCH, what `get_arch_list()` prints),
and the ways out for a card none of them carries. Knowledge rows from data/sources/rocm-xpu.md §2,
each with its source and that source's confidence; no wheel was opened to measure them."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class GfxRow:
    torch: tuple[str, ...]  # torch minors, "2.7"
    variants: tuple[str, ...]  # rocm6.2.4, rocm6.3
    gfx: tuple[str, ...]
    source: str
    confidence: str


_G5 = ("gfx900", "gfx906", "gfx908", "gfx90a", "gfx1030")
_G7 = (*_G5[:4], "gfx1030", "gfx1100", "gfx942")
_G8 = ("gfx900", "gfx906", "gfx908", "gfx90a", "gfx942", "gfx1030", "gfx1100", "gfx1101")
_G11 = (*_G8, "gfx1102", "gfx1200", "gfx1201")
_G14 = ("gfx900", "gfx906", "gfx908", "gfx90a", "gfx942", "gfx950", "gfx1030", "gfx1100", "gfx1101", "gfx1102",
        "gfx1150", "gfx1151", "gfx1200", "gfx1201")
_COMMON_214 = ("gfx908", "gfx90a", "gfx942", "gfx950", "gfx1030", "gfx1100", "gfx1101", "gfx1102", "gfx1103",
               "gfx1200", "gfx1201", "gfx1150", "gfx1151")
_REF = "rocm-xpu.md §2"

GFX_ROWS = (
    GfxRow(torch=("2.0",), variants=("rocm5.3", "rocm5.4.2"), gfx=_G5, source=f"{_REF} (BLD-2.0)",
           confidence="medium (script)"),
    GfxRow(torch=("2.1", "2.2"), variants=("rocm5.5", "rocm5.6", "rocm5.7"), gfx=(*_G5, "gfx1100"),
           source=f"{_REF} (BLD-2.1/2.2 build_docker.sh)", confidence="medium (script)"),
    GfxRow(torch=("2.3",), variants=("rocm5.7",), gfx=(*_G5, "gfx1100"), source=f"{_REF} (BLD-2.3)",
           confidence="medium (script)"),
    GfxRow(torch=("2.3",), variants=("rocm6.0",), gfx=(*_G5, "gfx1100", "gfx942"), source=f"{_REF} (BLD-2.3)",
           confidence="medium (script)"),
    GfxRow(torch=("2.4",), variants=("rocm6.0", "rocm6.1"), gfx=_G7,
           source=f"{_REF} (BLD-2.4; 2.4.1+rocm6.0 measured)", confidence="high (6.0 measured)"),
    GfxRow(torch=("2.5",), variants=("rocm6.1", "rocm6.2"), gfx=_G7,
           source=f"{_REF} (build.sh @1fca82d4; 2.5.1+rocm6.2 measured in uv#14086)", confidence="high"),
    GfxRow(torch=("2.6",), variants=("rocm6.1", "rocm6.2.4"), gfx=_G8, source=f"{_REF} (PR #141667)",
           confidence="medium"),
    GfxRow(torch=("2.7",), variants=("rocm6.2.4", "rocm6.3"), gfx=_G11,
           source=f"{_REF} (PR #147761, #148562; measured in uv#14086)", confidence="high"),
    GfxRow(torch=("2.8", "2.9"), variants=("rocm6.3", "rocm6.4"), gfx=_G11, source=f"{_REF} (HFK → build.sh)",
           confidence="medium"),
    GfxRow(torch=("2.10",), variants=("rocm7.0", "rocm7.1"), gfx=_G14, source=f"{_REF} (PR #167299; HFK)",
           confidence="medium-high"),
    GfxRow(torch=("2.11", "2.12"), variants=("rocm7.1", "rocm7.2"), gfx=_G14,
           source=f"{_REF} (HFK; rocm7.2 measured in uv PR #18730)", confidence="high"),
    GfxRow(torch=("2.13",), variants=("rocm7.1", "rocm7.2"), gfx=(*_G14, "gfx1103"),
           source=f"{_REF} (PR #179653, inferred)", confidence="low-medium (inferred)"),
    GfxRow(torch=("2.14",), variants=("rocm7.2",), gfx=("gfx900", "gfx906", *_COMMON_214),
           source=f"{_REF} (build.sh @027375bf, main after 2.14)", confidence="medium"),
    GfxRow(torch=("2.14",), variants=("rocm7.14",), gfx=_COMMON_214,
           source=f"{_REF} (build.sh @027375bf, main after 2.14)", confidence="medium"),
)

# HSA_OVERRIDE_GFX_VERSION the sources document for a card family: (targets, value, the code it runs, the risk)
OVERRIDES = (
    (("gfx1031", "gfx1032", "gfx1034", "gfx1035", "gfx1036"), "10.3.0", "gfx1030",
     "unofficial (AMD: 'meant for internal debugging'); reports of 'invalid device function' and memory "
     "faults on gfx1031 (pytorch#132570, ROCm/MIOpen#3540)"),
    (("gfx1101", "gfx1102", "gfx1103"), "11.0.0", "gfx1100",
     "unofficial; on gfx1103 it causes GPU page faults and hard hangs (pytorch PR #179653)"),
)
# AMD's own per-family nightly indexes (ROCm/TheRock therock_amdgpu_targets.cmake): not the PyTorch index
THEROCK_FAMILIES = {"gfx908": "gfx90X-dcgpu", "gfx90a": "gfx90X-dcgpu", "gfx906": "gfx90X-dgpu",
                    "gfx942": "gfx94X-dcgpu", "gfx950": "gfx950-dcgpu", "gfx1010": "gfx101X-dgpu",
                    "gfx1011": "gfx101X-dgpu", "gfx1012": "gfx101X-dgpu", "gfx1030": "gfx103X-dgpu",
                    "gfx1032": "gfx103X-dgpu", "gfx1035": "gfx103X-igpu", "gfx1036": "gfx103X-igpu",
                    "gfx1100": "gfx110X-dgpu", "gfx1101": "gfx110X-dgpu", "gfx1102": "gfx110X-dgpu",
                    "gfx1103": "gfx110X-igpu", "gfx1150": "gfx115X-igpu", "gfx1151": "gfx115X-igpu",
                    "gfx1152": "gfx115X-igpu", "gfx1153": "gfx115X-igpu", "gfx1200": "gfx120X-all",
                    "gfx1201": "gfx120X-all"}


def gfx_row(torch: str, variant: str) -> GfxRow | None:
    minor = ".".join(torch.split(".")[:2])
    return next((row for row in GFX_ROWS if minor in row.torch and variant in row.variants), None)


def describe(row: GfxRow) -> str:
    return f"{row.gfx[0]} … {row.gfx[-1]}" if len(row.gfx) > 2 else ", ".join(row.gfx)


def ways_out(gfx: str) -> list[str]:
    """What a user with a card no PyTorch-index ROCm wheel carries can do, each with what it costs."""
    out = []
    for targets, value, runs, risk in OVERRIDES:
        if gfx in targets:
            out.append(f"HSA_OVERRIDE_GFX_VERSION={value} makes the runtime run {runs} code on {gfx} ({risk}); "
                       f"set it and plan again, and the GPU is judged as {runs}")
    family = THEROCK_FAMILIES.get(gfx)
    if family:
        out.append(f"AMD's own wheels for {family} (ROCm TheRock, https://rocm.nightlies.amd.com/v2/{family}/; "
                   "not the PyTorch index, not validated by PyTorch)")
    else:
        out.append(f"no AMD-hosted wheel family lists {gfx} either (ROCm TheRock)")
    return out
