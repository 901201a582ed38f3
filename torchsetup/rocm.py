"""The ways out for an AMD card that no ROCm wheel on the PyTorch index carries: the override the
sources document for its family (with its risk) and AMD's own per-family wheels. Rows from
data/sources/rocm-xpu.md §2 and its addendum. (The gfx lists themselves are matrix tables.)"""

from __future__ import annotations

from dataclasses import replace
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from torchsetup.rules import Target

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


def with_override(t: Target, carried: frozenset[str]) -> Target:
    """--allow-override: each AMD GPU no ROCm wheel carries, with a documented override for its family,
    judged as the target the override makes the runtime report; the plan names the variable and the risk."""
    if t.amd_override:
        return t  # the variable is already set: the probe judged the overridden target
    gpus, notes = [], []
    for name, gfx in t.amd_gpus:
        found = next(((value, runs, risk) for targets, value, runs, risk in OVERRIDES
                      if gfx in targets and gfx not in carried), None)
        if found is None:
            gpus.append((name, gfx))
            continue
        value, runs, risk = found
        gpus.append((name, runs))
        notes.append(f"planned for {name} ({gfx}) as {runs}: run torch with HSA_OVERRIDE_GFX_VERSION={value} "
                     f"set (export HSA_OVERRIDE_GFX_VERSION={value}); {risk}")
    if not notes:
        return t
    return replace(t, amd_gpus=tuple(gpus), vendor_notes=(*t.vendor_notes, *notes))


def ways_out(gfx: str) -> list[str]:
    """What a user with a card no PyTorch-index ROCm wheel carries can do, each with what it costs."""
    out = []
    for targets, value, runs, risk in OVERRIDES:
        if gfx in targets:
            out.append(f"--allow-override → a plan that runs {runs} code on {gfx} with HSA_OVERRIDE_GFX_VERSION="
                       f"{value} ({risk})")
    family = THEROCK_FAMILIES.get(gfx)
    if family:
        out.append(f"AMD's own wheels for {family} (ROCm TheRock, https://rocm.nightlies.amd.com/v2/{family}/; "
                   "not the PyTorch index, not validated by PyTorch)")
    else:
        out.append(f"no AMD-hosted wheel family lists {gfx} either (ROCm TheRock)")
    return out
