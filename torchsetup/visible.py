"""Which GPUs torch will use: CUDA_VISIBLE_DEVICES parsed the way torch parses it
(torch/cuda/__init__.py `_parse_visible_devices`), or `--gpus` (NVML indexes or UUIDs)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, replace

from torchsetup.cudarules import parse_visible_devices
from torchsetup.errors import UsageError
from torchsetup.probe.model import Gpu, Machine


@dataclass(frozen=True)
class GpuSelection:
    """The GPUs torch will use, and notes about the ones hidden."""

    indexes: tuple[int, ...]  # NVML indexes of the GPUs torch will use
    notes: tuple[str, ...]  # what was hidden, and how sure the mapping is
    hides_all: bool = False  # the setting hides every GPU from torch


def _by_uuid(gpus: tuple[Gpu, ...], prefix: str) -> Gpu | None:
    found = [g for g in gpus if g.uuid and g.uuid.startswith(prefix)]
    return found[0] if len(found) == 1 else None


def from_environment(gpus: tuple[Gpu, ...], value: str | None, device_order: str | None) -> GpuSelection | None:
    """CUDA_VISIBLE_DEVICES as torch reads it; None when it is unset (every GPU is used)."""
    if value is None or not gpus:
        return None
    parsed = parse_visible_devices(value)
    shown = f"CUDA_VISIBLE_DEVICES={value!r}"
    notes: list[str] = []
    chosen: list[Gpu] = []
    if parsed and isinstance(parsed[0], str) and parsed[0].startswith("MIG-"):
        return GpuSelection(tuple(g.index for g in gpus),
                            (f"{shown} names MIG instances, which the probe cannot map to GPUs: every GPU "
                             "was checked",))
    for elem in parsed:
        gpu = _by_uuid(gpus, elem) if isinstance(elem, str) else (gpus[elem] if elem < len(gpus) else None)
        if gpu is None:
            break  # CUDA stops at the first entry it cannot match
        chosen.append(gpu)
    if parsed and isinstance(parsed[0], int) and (device_order or "FASTEST_FIRST") != "PCI_BUS_ID" \
            and len({g.name for g in gpus}) > 1:
        notes.append(f"{shown} counts GPUs fastest first (CUDA_DEVICE_ORDER is not PCI_BUS_ID); the probe "
                     "assumed NVML's PCI order: set CUDA_DEVICE_ORDER=PCI_BUS_ID, or give UUIDs")
    return _selection(gpus, chosen, shown, notes)


def from_option(gpus: tuple[Gpu, ...], value: str) -> GpuSelection:
    """--gpus 0,2 or --gpus GPU-8f3c...: NVML indexes or UUID prefixes; anything else is exit 2."""
    chosen: list[Gpu] = []
    for elem in (e.strip() for e in value.split(",") if e.strip()):
        gpu = next((g for g in gpus if str(g.index) == elem), None) if elem.isdigit() else _by_uuid(gpus, elem)
        if gpu is None:
            have = ", ".join(f"{g.index} ({g.uuid or g.name})" for g in gpus) or "none"
            raise UsageError(f"--gpus: no GPU {elem!r} on this machine (GPUs: {have})",
                             "Give NVML indexes or UUIDs from `torchsetup probe`.")
        if gpu not in chosen:
            chosen.append(gpu)
    if not chosen:
        raise UsageError("--gpus: no GPU named", "Give NVML indexes or UUIDs, e.g. --gpus 0,2.")
    return _selection(gpus, chosen, f"--gpus {value}", [])


def _selection(gpus: tuple[Gpu, ...], chosen: list[Gpu], shown: str, notes: list[str]) -> GpuSelection:
    if not chosen:
        return GpuSelection(tuple(g.index for g in gpus),
                            (f"{shown} hides every GPU from torch (it will run on the CPU); every GPU was "
                             "checked as if it were visible: unset it to use them", *notes), hides_all=True)
    hidden = [g for g in gpus if g not in chosen]
    if hidden:
        notes.insert(0, f"{shown}: only {', '.join(f'GPU {g.index} ({g.name})' for g in chosen)} count; hidden: "
                        + ", ".join(f"GPU {g.index} ({g.name})" for g in hidden))
    return GpuSelection(tuple(g.index for g in chosen), tuple(notes))


def select_gpus(machine: Machine, option: str | None, environ: Mapping[str, str] | None) -> Machine:
    """The machine with only the GPUs torch will use marked: `option` (--gpus) first, else
    CUDA_VISIBLE_DEVICES from `environ` (None for a recorded machine: this one's variables say
    nothing about it)."""
    if environ is not None and option is None:
        machine = select_amd(machine, environ)
    gpus = machine.nvidia.gpus if machine.nvidia else ()
    selection: GpuSelection | None = None
    if option is not None:
        selection = from_option(gpus, option)
    elif environ is not None:
        selection = from_environment(gpus, environ.get("CUDA_VISIBLE_DEVICES"), environ.get("CUDA_DEVICE_ORDER"))
    if selection is None:
        return machine
    return replace(machine, gpu_selection=selection.indexes, gpu_notes=selection.notes,
                   gpus_hidden_from_torch=selection.hides_all)


def select_amd(machine: Machine, environ: Mapping[str, str]) -> Machine:
    """The AMD GPUs the ROCm runtime will show torch: ROCR_VISIBLE_DEVICES applies first (ROCr), then
    HIP_VISIBLE_DEVICES counts among what is left (HIP); each is a comma list of ordinals, read up to
    the first entry that is not one (as CUDA reads its variable). This machine's variables only."""
    amd = machine.amd
    if amd is None or not amd.gpus:
        return machine
    kept = list(amd.gpus)
    notes = []
    for name in ("ROCR_VISIBLE_DEVICES", "HIP_VISIBLE_DEVICES"):
        value = environ.get(name)
        if value is None:
            continue
        chosen = []
        for part in value.split(","):
            part = part.strip()
            if not part.isdigit() or int(part) >= len(kept):
                break
            chosen.append(kept[int(part)])
        hidden = [g for g in kept if g not in chosen]
        if hidden:
            notes.append(f"{name}={value!r} hides {', '.join(g.name for g in hidden)} from torch")
        kept = chosen
    if kept == list(amd.gpus):
        return machine
    return replace(machine, amd=replace(amd, gpus=tuple(kept)), gpu_notes=(*machine.gpu_notes, *notes))
