"""Intel GPUs found without Intel's tools, by Intel's own node-feature rule: PCI vendor 0x8086, class
0x0300 or 0x0380, with the `i915` or `xe` driver bound. The iGPU sits at 00:02.0; a discrete card on
its own bus. The device ID names the family the XPU wheels were built for (kernel i915/xe PCI IDs)."""

from __future__ import annotations

from pathlib import Path

from torchsetup.probe.pci import pci_devices
from torchsetup.probe.vendors import IntelGpu, IntelInfo

INTEL_VENDOR = "0x8086"
GPU_CLASSES = ("0x0300", "0x0380")
# device ID -> product family; kernel include/drm/intel/i915_pciids.h and xe_pciids (the reference's
# addendum), Arc A from torchruntime's table; families the XPU wheels name in PyTorch's docs
FAMILIES: tuple[tuple[str, frozenset[int]], ...] = (
    ("Intel Arc B-series (Battlemage)", frozenset({0xE202, 0xE20B, 0xE20C, 0xE20D, 0xE211, 0xE212})),
    ("Intel Arc A-series (Alchemist)", frozenset(range(0x5690, 0x56C0)) - {0x5695}),
    ("Intel Data Center GPU Max (Ponte Vecchio)",
     frozenset({0x0B69, 0x0B6E, *range(0x0BD0, 0x0BDC), 0x0BE0, 0x0BE1, 0x0BE5})),
    ("Intel Core Ultra 200V (Lunar Lake) graphics", frozenset({0x6420, 0x64A0, 0x64B0})),
    ("Intel Core Ultra Series 2 (Arrow Lake) graphics", frozenset({0x7D41, 0x7D51, 0x7D67, 0x7DD1, 0xB640})),
    ("Intel Core Ultra (Meteor Lake) graphics", frozenset({0x7D40, 0x7D45, 0x7D55, 0x7D60, 0x7DD5})),
    ("Intel Core Ultra Series 3 (Panther Lake) graphics", frozenset(range(0xB080, 0xB088))),
)
PRODUCTS = {0xE20B: "Intel Arc B580", 0xE20C: "Intel Arc B570", 0xE211: "Intel Arc Pro B60",
            0xE212: "Intel Arc Pro B50"}


def family_of(device_id: str | None) -> str | None:
    """The product family the XPU wheels know this device as; None for another Intel GPU (older
    integrated graphics: UHD, Iris Xe), which the wheels are not validated on."""
    if device_id is None:
        return None
    number = int(device_id, 16)
    return next((name for name, ids in FAMILIES if number in ids), None)


def probe_intel(root: Path = Path("/")) -> IntelInfo:
    found = [d for d in pci_devices(root) if d.vendor == INTEL_VENDOR and d.device_class.startswith(GPU_CLASSES)]
    gpus = []
    for i, device in enumerate(found):
        number = int(device.device_id, 16) if device.device_id else None
        name = PRODUCTS.get(number or 0) or family_of(device.device_id) or f"Intel GPU ({device.device_id})"
        gpus.append(IntelGpu(i, name, device.device_id, device.slot.endswith(":00:02.0"), device.driver))
    unbound = [g for g in gpus if g.driver not in ("i915", "xe")]
    error = (f"no i915 or xe driver is bound to {', '.join(g.name for g in unbound)}: torch cannot use it"
             if unbound else None)
    return IntelInfo("pci" if found else "none", tuple(gpus), error)
