"""AMD GPUs found without ROCm: the kernel's KFD topology (what rocm_agent_enumerator itself reads)
gives each GPU's gfx target; the PCI bus (vendor 0x1002; display, 3D or processing-accelerator class:
an MI300X is a "processing accelerator") finds a GPU whose driver exposes no topology."""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path

from torchsetup.probe.pci import pci_devices
from torchsetup.probe.vendors import AmdGpu, AmdInfo

AMD_VENDOR = "0x1002"
AMD_VENDOR_ID = 4098  # the same, as KFD's vendor_id prints it
GPU_CLASSES = ("0x03", "0x12")  # display controllers (VGA, 3D, other), processing accelerators
# the integrated parts among KFD's targets (kernel kfd_device.c; TheRock's *-igpu families)
INTEGRATED_GFX = {"gfx801", "gfx902", "gfx90c", "gfx1033", "gfx1035", "gfx1036", "gfx1103", "gfx1150",
                  "gfx1151", "gfx1152", "gfx1153"}


def gfx_of(target_version: int) -> str | None:
    """KFD's gfx_target_version as the gfx name: major decimal, minor and stepping one hex digit each
    (rocm_agent_enumerator's readFromKFD): 110000 -> gfx1100, 90010 -> gfx90a, 100301 -> gfx1031."""
    if target_version <= 0:
        return None
    major, minor, step = (target_version // 10000) % 100, (target_version // 100) % 100, target_version % 100
    if minor > 15 or step > 15:
        return None
    return f"gfx{major}{minor:x}{step:x}"


def _properties(path: Path) -> dict[str, int]:
    out: dict[str, int] = {}
    try:
        text = path.read_text(encoding="ascii", errors="replace")
    except OSError:
        return out
    for line in text.splitlines():
        key, _, value = line.partition(" ")
        if value.strip().isdigit():
            out[key] = int(value.strip())
    return out


def _kfd_gpus(root: Path) -> list[AmdGpu] | None:
    """The GPU nodes of the KFD topology; None when there is no topology to read."""
    nodes = root / "sys/class/kfd/kfd/topology/nodes"
    try:
        entries = sorted((p for p in nodes.iterdir() if p.name.isdigit()), key=lambda p: int(p.name))
    except OSError:
        return None
    gpus: list[AmdGpu] = []
    for node in entries:
        props = _properties(node / "properties")
        gfx = gfx_of(props.get("gfx_target_version", 0))
        if gfx is None or props.get("vendor_id", AMD_VENDOR_ID) != AMD_VENDOR_ID:
            continue  # a CPU node (gfx_target_version 0), or another vendor's agent
        try:
            name = (node / "name").read_text(encoding="utf-8", errors="replace").strip()
        except OSError:
            name = ""
        device = props.get("device_id")
        memory = sum(bank.get("size_in_bytes", 0) for bank in
                     (_properties(p / "properties") for p in sorted((node / "mem_banks").glob("*")))
                     if bank.get("heap_type") in (1, 2))  # frame buffer, public and private
        gpus.append(AmdGpu(len(gpus), name or f"AMD GPU ({gfx})", gfx,
                           f"0x{device:04x}" if device is not None else None,
                           memory // (1024 * 1024) if memory else None, gfx in INTEGRATED_GFX))
    return gpus


def probe_amd(root: Path = Path("/"), environ: Mapping[str, str] | None = None) -> AmdInfo:
    env = os.environ if environ is None else environ
    override = env.get("HSA_OVERRIDE_GFX_VERSION") or None
    try:
        rocm: str | None = (root / "opt/rocm/.info/version").read_text(encoding="ascii").strip() or None
    except OSError:
        rocm = None
    kfd = _kfd_gpus(root)
    if kfd:
        return AmdInfo("kfd", rocm, tuple(kfd), override)
    on_bus = [d for d in pci_devices(root) if d.vendor == AMD_VENDOR and d.device_class.startswith(GPU_CLASSES)]
    if on_bus:
        gpus = tuple(AmdGpu(i, f"AMD GPU ({d.device_id}, PCI {d.slot})", None, d.device_id)
                     for i, d in enumerate(on_bus))
        why = "the kernel exposes no KFD topology" if kfd is None else "the KFD topology lists no GPU"
        module = "loaded" if (root / "sys/module/amdgpu").is_dir() else "not loaded"
        kfd_node = "present" if (root / "dev/kfd").exists() else "missing"
        return AmdInfo("pci", rocm, gpus, override, f"an AMD GPU is on the PCI bus, but {why} (amdgpu module "
                       f"{module}, /dev/kfd {kfd_node}): its gfx target is not known")
    return AmdInfo("none", rocm, (), override, None)
