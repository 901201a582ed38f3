"""AMD and Intel GPUs found in FAKE sysfs trees (a temporary root laid out as the kernel lays out
/sys/class/kfd and /sys/bus/pci; values from the kernel's tables in data/sources/rocm-xpu.md, not
recorded on machines), carried through the probe document, and planned by the resolver."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from torchsetup.documents import probe_document
from torchsetup.matrix import load_matrix
from torchsetup.probe.amd import gfx_of, probe_amd
from torchsetup.probe.intel import probe_intel
from torchsetup.probe.model import Machine, machine_from_document
from torchsetup.resolve import Request, resolve

PROBES = Path(__file__).parent / "fixtures" / "probes"
MI300X = (90402, 0x74A1, "MI300X")
RX7900XTX = (110000, 0x744C, "RX 7900 XTX")
RX6700XT = (100301, 0x73DF, "RX 6700 XT")
RYZEN_7840U = (110003, 0x15BF, "Ryzen 7840U iGPU")


def kfd(root: Path, *gpus: tuple[int, int, str], vram_mib: int = 24560) -> Path:
    nodes = root / "sys/class/kfd/kfd/topology/nodes"
    cpu = nodes / "0"
    cpu.mkdir(parents=True)
    (cpu / "properties").write_text("cpu_cores_count 16\nsimd_count 0\ngfx_target_version 0\nvendor_id 0\n")
    for number, (target, device, name) in enumerate(gpus, start=1):
        node = nodes / str(number)
        (node / "mem_banks/0").mkdir(parents=True)
        (node / "properties").write_text(f"cpu_cores_count 0\nsimd_count 192\nmax_slots_scratch_cu 32\n"
                                         f"gfx_target_version {target}\nvendor_id 4098\ndevice_id {device}\n"
                                         "location_id 768\ndomain 0\ndrm_render_minor 128\n")
        (node / "name").write_text(f"{name}\n")
        heap = 0 if name.endswith("iGPU") else 1
        (node / "mem_banks/0/properties").write_text(f"heap_type {heap}\nsize_in_bytes {vram_mib << 20}\n")
    (root / "dev").mkdir(exist_ok=True)
    (root / "dev/kfd").write_text("")
    return root


def pci(root: Path, slot: str, vendor: str, device: str, cls: str, driver: str | None) -> None:
    entry = root / "sys/bus/pci/devices" / slot
    entry.mkdir(parents=True)
    (entry / "vendor").write_text(vendor + "\n")
    (entry / "device").write_text(device + "\n")
    (entry / "class").write_text(cls + "\n")
    if driver:
        target = root / "sys/bus/pci/drivers" / driver
        target.mkdir(parents=True, exist_ok=True)
        os.symlink(target, entry / "driver")


def test_kfd_targets_decode_as_the_kernel_table_says() -> None:
    table = {90000: "gfx900", 90002: "gfx902", 90012: "gfx90c", 90006: "gfx906", 90008: "gfx908", 90010: "gfx90a",
             90402: "gfx942", 90500: "gfx950", 100100: "gfx1010", 100300: "gfx1030", 100301: "gfx1031",
             100302: "gfx1032", 100305: "gfx1035", 110000: "gfx1100", 110001: "gfx1101", 110003: "gfx1103",
             110500: "gfx1150", 120001: "gfx1201", 120500: "gfx1250", 80003: "gfx803"}
    assert {v: gfx_of(v) for v in table} == table
    assert gfx_of(0) is None and gfx_of(101600) is None  # a CPU node; a minor that is not one hex digit


def test_the_kfd_topology_gives_every_gpu_its_gfx_and_leaves_the_cpu_out(tmp_path: Path) -> None:
    root = kfd(tmp_path, RX7900XTX, RYZEN_7840U)
    (root / "opt/rocm/.info").mkdir(parents=True)
    (root / "opt/rocm/.info/version").write_text("7.2.1\n")
    info = probe_amd(root, {"HSA_OVERRIDE_GFX_VERSION": "11.0.0"})
    assert (info.source, info.rocm, info.hsa_override_gfx_version, info.error) == ("kfd", "7.2.1", "11.0.0", None)
    assert [(g.index, g.name, g.gfx, g.pci_id, g.memory_total_mib, g.integrated) for g in info.gpus] == [
        (0, "RX 7900 XTX", "gfx1100", "0x744c", 24560, False),
        (1, "Ryzen 7840U iGPU", "gfx1103", "0x15bf", None, True)]


def test_an_mi300x_that_is_a_processing_accelerator_on_the_pci_bus_is_found(tmp_path: Path) -> None:
    pci(tmp_path, "0000:c1:00.0", "0x1002", "0x74a1", "0x120000", None)  # MI300X: class 0x12, no KFD
    pci(tmp_path, "0000:c1:00.1", "0x1002", "0xab28", "0x040300", "snd_hda_intel")  # its audio: not a GPU
    info = probe_amd(tmp_path, {})
    assert info.source == "pci" and [(g.gfx, g.pci_id) for g in info.gpus] == [(None, "0x74a1")]
    assert info.error is not None and "no KFD topology" in info.error and "gfx target is not known" in info.error
    with_kfd = probe_amd(kfd(tmp_path, MI300X), {})
    assert [(g.name, g.gfx) for g in with_kfd.gpus] == [("MI300X", "gfx942")]


def test_intel_gpus_by_the_node_feature_rule(tmp_path: Path) -> None:
    pci(tmp_path, "0000:00:02.0", "0x8086", "0x7d55", "0x030000", "i915")  # Meteor Lake iGPU
    pci(tmp_path, "0000:03:00.0", "0x8086", "0xe20b", "0x030000", "xe")  # Arc B580
    pci(tmp_path, "0000:00:1f.3", "0x8086", "0x7e28", "0x040380", "snd_hda_intel")  # audio: not a GPU
    pci(tmp_path, "0000:04:00.0", "0x8086", "0x0bd5", "0x038000", None)  # Max 1550, no driver bound
    info = probe_intel(tmp_path)
    assert [(g.name, g.device_id, g.integrated, g.driver) for g in info.gpus] == [
        ("Intel Core Ultra (Meteor Lake) graphics", "0x7d55", True, "i915"),
        ("Intel Arc B580", "0xe20b", False, "xe"),
        ("Intel Data Center GPU Max (Ponte Vecchio)", "0x0bd5", False, None)]
    assert info.source == "pci" and info.error is not None and "no i915 or xe driver is bound" in info.error
    assert probe_intel(tmp_path / "nothing").source == "none"


def machine_with(tmp_path: Path, *gpus: tuple[int, int, str], base: str = "no-gpu", override: str | None = None
                 ) -> Machine:
    """A fixture probe document with the AMD section the census gives for a fake tree, read back
    through the document (so the reader is exercised too)."""
    doc = json.loads((PROBES / f"{base}.json").read_text())
    root = kfd(tmp_path / f"root-{len(list(tmp_path.iterdir()))}", *gpus)
    env = {"HSA_OVERRIDE_GFX_VERSION": override} if override else {}
    doc["amd"] = probe_document(Machine(amd=probe_amd(root, env)))["amd"]
    return machine_from_document(doc, "test")


def plan_for(machine: Machine, **request: object):
    return resolve([machine], load_matrix(None), Request(**request), ["amd-box"])  # type: ignore[arg-type]


def test_an_rx_7900_xtx_gets_the_newest_rocm_build_whose_list_has_gfx1100(tmp_path: Path) -> None:
    result = plan_for(machine_with(tmp_path, RX7900XTX))
    assert result.plan is not None and (result.plan.torch, result.plan.variant) == ("2.13.0", "rocm7.2")
    assert any(r.variant == "cpu" and "which has an AMD GPU" in r.reason for r in result.rejected)
    assert not any("has no CPU-only build" in n for n in result.plan.notes)


def test_an_rx_6700_xt_is_told_no_wheel_carries_gfx1031_and_the_ways_out(tmp_path: Path) -> None:
    result = plan_for(machine_with(tmp_path, RX6700XT))
    assert result.plan is None
    assert result.error == ("no build fits: no ROCm wheel on the PyTorch index carries gfx1031 "
                            "(RX 6700 XT on amd-box)")
    assert result.hint is not None
    assert result.hint.startswith("--allow-override → a plan that runs gfx1030 code on gfx1031 with "
                                  "HSA_OVERRIDE_GFX_VERSION=10.3.0")
    assert "--allow-cpu → a CPU-only build" in result.hint
    assert result.rejected[0].reason == "gfx1031 (RX 6700 XT) is not in rocm7.2's list (gfx900 … gfx1103)"
    allowed = plan_for(machine_with(tmp_path, RX6700XT), allow_override=True)
    assert allowed.plan is not None and allowed.plan.variant == "rocm7.2"
    assert any(n.startswith("planned for RX 6700 XT (gfx1031) as gfx1030: run torch with "
                            "HSA_OVERRIDE_GFX_VERSION=10.3.0 set") and "pytorch#132570" in n
               for n in allowed.plan.notes)
    carried = plan_for(machine_with(tmp_path, RX7900XTX), allow_override=True)  # nothing to override
    assert carried.plan is not None and not any("HSA_OVERRIDE" in n for n in carried.plan.notes)
    overridden = plan_for(machine_with(tmp_path, RX6700XT, override="10.3.0"))
    assert overridden.plan is not None and overridden.plan.variant == "rocm7.2"
    assert any(n.startswith("HSA_OVERRIDE_GFX_VERSION=10.3.0 is set: the ROCm runtime reports gfx1030")
               for n in overridden.plan.notes)


def test_an_amd_gpu_whose_gfx_is_unknown_is_not_planned_blind(tmp_path: Path) -> None:
    pci(tmp_path, "0000:c1:00.0", "0x1002", "0x74a1", "0x120000", None)
    doc = json.loads((PROBES / "no-gpu.json").read_text())
    doc["amd"] = probe_document(Machine(amd=probe_amd(tmp_path, {})))["amd"]
    result = plan_for(machine_from_document(doc, "test"))
    assert result.plan is None and "gfx target" in (result.error or "") and "not known" in (result.error or "")


def test_an_nvidia_gpu_beside_an_amd_igpu_is_planned_for_nvidia_and_says_so(tmp_path: Path) -> None:
    result = plan_for(machine_with(tmp_path, RYZEN_7840U, base="h100-580"))
    assert result.plan is not None and result.plan.variant.startswith("cu")
    assert any("AMD GPU(s) Ryzen 7840U iGPU (gfx1103) left out: one torch build cannot use NVIDIA and AMD"
               in n for n in result.plan.notes)


def test_a_discrete_amd_gpu_beside_an_amd_igpu_is_planned_for_the_discrete_one(tmp_path: Path) -> None:
    result = plan_for(machine_with(tmp_path, RX7900XTX, RYZEN_7840U))
    assert result.plan is not None and result.plan.variant == "rocm7.2"
    assert any("Ryzen 7840U iGPU (gfx1103), an integrated GPU, is left out" in n for n in result.plan.notes)


@pytest.mark.parametrize("field,value,message", [
    ("gfx", "1100", "amd.gpus[0].gfx: not like 'gfx1100'"),
    ("pci_id", 29772, "amd.gpus[0].pci_id: expected str, got int"),
    ("integrated", "no", "amd.gpus[0].integrated: expected bool, got str"),
])
def test_a_bad_amd_section_names_the_field(tmp_path: Path, field: str, value: object, message: str) -> None:
    from torchsetup.errors import UsageError

    doc = json.loads((PROBES / "no-gpu.json").read_text())
    doc["amd"] = {"source": "kfd", "gpus": [{"index": 0, "name": "x", "gfx": "gfx1100", field: value}]}
    with pytest.raises(UsageError) as caught:
        machine_from_document(doc, "box.json")
    assert caught.value.message.startswith(f"box.json: {message}")


def intel_machine(tmp_path: Path, *devices: tuple[str, str, str | None]) -> Machine:
    """no-gpu.json with the Intel section the census gives for fake PCI devices (slot, device id, driver)."""
    root = tmp_path / f"intel-{len(list(tmp_path.iterdir()))}"
    for slot, device, driver in devices:
        pci(root, slot, "0x8086", device, "0x030000", driver)
    doc = json.loads((PROBES / "no-gpu.json").read_text())
    doc["intel"] = probe_document(Machine(intel=probe_intel(root)))["intel"]
    return machine_from_document(doc, "test")


def test_an_arc_b580_gets_the_xpu_build_and_an_old_igpu_never_does(tmp_path: Path) -> None:
    arc = plan_for(intel_machine(tmp_path, ("0000:03:00.0", "0xe20b", "xe"), ("0000:00:02.0", "0x7d55", "i915")))
    assert arc.plan is not None and (arc.plan.torch, arc.plan.variant) == ("2.13.0", "xpu")
    assert arc.plan.index_url == "https://download.pytorch.org/whl/xpu"
    assert any("an integrated GPU, is left out" in n for n in arc.plan.notes)
    assert any(r.variant == "cpu" and "which has an Intel GPU (Intel Arc B580)" in r.reason for r in arc.rejected)
    old = plan_for(intel_machine(tmp_path, ("0000:00:02.0", "0x9a49", "i915")))  # Tiger Lake Iris Xe
    assert old.plan is not None and old.plan.variant != "xpu"
    assert any("is not a GPU the XPU wheels are built for" in n for n in old.plan.notes)
    unbound = plan_for(intel_machine(tmp_path, ("0000:03:00.0", "0xe20b", None)))
    assert unbound.plan is not None and unbound.plan.variant != "xpu"
    assert any("has no i915 or xe driver bound" in n for n in unbound.plan.notes)


def test_an_amd_dgpu_beside_an_intel_igpu_is_planned_for_rocm(tmp_path: Path) -> None:
    machine = machine_with(tmp_path, RX7900XTX)
    both = intel_machine(tmp_path, ("0000:00:02.0", "0x7d55", "i915"))
    from dataclasses import replace

    result = plan_for(replace(machine, intel=both.intel))
    assert result.plan is not None and result.plan.variant == "rocm7.2"
    assert any(n.startswith("Intel GPU(s) Intel Core Ultra (Meteor Lake) graphics left out")
               for n in result.plan.notes)


def doctor_of(machine: Machine, installed: str) -> list[tuple[str, str, str, str | None]]:
    from dataclasses import replace

    from torchsetup.doctor import examine
    from torchsetup.probe.model import Installed

    found = examine(replace(machine, installed=Installed(torch=installed), builds=None, dependents=(),
                            install_problems=()), load_matrix(None), "python", "amd-box")
    return [(f.severity.value, f.code, f.message, f.fix) for f in found if f.code != "not-checked"]


def test_doctor_judges_each_vendor_with_the_resolvers_rules(tmp_path: Path) -> None:
    rx7900 = machine_with(tmp_path, RX7900XTX)
    rocm_fix = ("/usr/bin/python3 -m pip install torch==2.13.0+rocm7.2 torchvision==0.28.0+rocm7.2 "
                "--extra-index-url https://download.pytorch.org/whl/rocm7.2")  # the fixture's interpreter
    assert doctor_of(rx7900, "2.13.0+rocm7.2") == []
    assert doctor_of(rx7900, "2.13.0+cpu") == [
        ("error", "cpu-build-on-gpu-machine", "torch 2.13.0+cpu is a CPU-only build, but this machine has "
         "RX 7900 XTX (gfx1100)", rocm_fix)]
    assert doctor_of(rx7900, "2.13.0+cu126") == [
        ("error", "cuda-build-without-gpu", "torch 2.13.0+cu126 (cu126, told by its version 2.13.0+cu126) is a "
         "CUDA build, but this machine's GPU is RX 7900 XTX (gfx1100), which it cannot use; torch will run on "
         "the CPU", rocm_fix)]
    rx6700 = doctor_of(machine_with(tmp_path, RX6700XT), "2.13.0+rocm7.2")
    assert rx6700[0] == ("error", "gpu-arch-not-in-build", "torch 2.13.0+rocm7.2: gfx1031 (RX 6700 XT) is not in "
                         "rocm7.2's list (gfx900 … gfx1103) (expect 'HIP error: invalid device function')", None)
    assert [f[1] for f in rx6700[1:]] == ["no-fix"]


def test_hip_and_rocr_visible_devices_are_read_as_the_runtime_reads_them(tmp_path: Path) -> None:
    from torchsetup.visible import select_gpus

    machine = machine_with(tmp_path, RX6700XT, RX7900XTX)
    assert plan_for(machine).plan is None  # the RX 6700 XT (gfx1031) counts: no ROCm wheel carries it
    only_7900 = select_gpus(machine, None, {"HIP_VISIBLE_DEVICES": "1"})
    assert [g.name for g in only_7900.amd.gpus] == ["RX 7900 XTX"]
    assert only_7900.gpu_notes == ("HIP_VISIBLE_DEVICES='1' hides RX 6700 XT from torch",)
    result = plan_for(only_7900)
    assert result.plan is not None and result.plan.variant == "rocm7.2"
    # ROCr first, then HIP among what ROCr left: ROCR=1,0 then HIP=1 is the RX 6700 XT again
    both = select_gpus(machine, None, {"ROCR_VISIBLE_DEVICES": "1,0", "HIP_VISIBLE_DEVICES": "1"})
    assert [g.name for g in both.amd.gpus] == ["RX 6700 XT"]
    assert select_gpus(machine, None, None) is machine  # a recorded machine: this one's variables say nothing


class FakeRegistry:
    """A FAKE of `winreg` (only Windows has the real one) holding the display class keys as Windows
    writes them (values from the kernel PCI ids in data/sources/rocm-xpu.md, not recorded on a machine)."""

    HKEY_LOCAL_MACHINE = "HKLM"

    def __init__(self, adapters: dict[str, dict[str, object]]) -> None:
        self.adapters = adapters

    def OpenKey(self, parent: object, path: str) -> object:  # noqa: N802 - winreg's names
        if parent == "HKLM":
            from torchsetup.probe.windows import DISPLAY_CLASS

            if path != DISPLAY_CLASS:
                raise OSError(2, "not found")
            return "class"
        if path not in self.adapters:
            raise OSError(2, "not found")
        return path

    def EnumKey(self, key: object, index: int) -> str:  # noqa: N802
        names = [*self.adapters, "Properties"]
        if index >= len(names):
            raise OSError(259, "no more data")
        return names[index]

    def QueryValueEx(self, key: str, name: str) -> tuple[object, int]:  # noqa: N802
        if name not in self.adapters[key]:
            raise OSError(2, "not found")
        return self.adapters[key][name], 1


def test_windows_lists_its_display_adapters_and_an_arc_gets_xpu(tmp_path: Path) -> None:
    from dataclasses import replace

    from torchsetup.probe.windows import probe_windows

    registry = FakeRegistry({
        "0000": {"DriverDesc": "Intel(R) Arc(TM) B580 Graphics", "MatchingDeviceId": "PCI\\VEN_8086&DEV_E20B",
                 "HardwareInformation.qwMemorySize": 12 << 30},
        "0001": {"DriverDesc": "Intel(R) Graphics", "MatchingDeviceId": "PCI\\VEN_8086&DEV_7D55&SUBSYS_0"},
        "0002": {"DriverDesc": "AMD Radeon RX 7900 XTX", "MatchingDeviceId": "pci\\ven_1002&dev_744c"},
        "0003": {"DriverDesc": "Microsoft Remote Display Adapter", "MatchingDeviceId": "SWD\\REMOTEDISPLAY"},
    })
    amd, intel = probe_windows(registry)
    assert [(g.name, g.device_id, g.integrated, g.driver) for g in intel.gpus] == [
        ("Intel(R) Arc(TM) B580 Graphics", "0xe20b", False, "windows"),
        ("Intel(R) Graphics", "0x7d55", True, "windows")]
    assert intel.source == "wmi"
    assert [(g.name, g.gfx, g.pci_id) for g in amd.gpus] == [("AMD Radeon RX 7900 XTX", None, "0x744c")]
    assert amd.error == "Windows has no KFD topology: the gfx target is not known"
    empty_amd, empty_intel = probe_windows(FakeRegistry({}))
    assert (empty_amd.source, empty_amd.gpus, empty_intel.source, empty_intel.gpus) == ("none", (), "none", ())
    doc = json.loads((PROBES / "h100-580.json").read_text())
    doc["os"].update(system="Windows", machine="AMD64", libc=None)
    doc.pop("nvidia")
    machine = replace(machine_from_document(doc, "test"), intel=intel)
    result = plan_for(machine)
    assert result.plan is not None and result.plan.variant == "xpu" and result.plan.torch == "2.13.0"


def test_every_gfx_row_of_the_matrix_plans_its_own_release_for_its_own_targets(tmp_path: Path) -> None:
    """For each ROCm build the matrix has a gfx list for: a card of a target only that list (among the
    release's ROCm builds) carries plans that build, and the newest release's build wins otherwise."""
    from dataclasses import replace

    from torchsetup.probe.vendors import AmdGpu, AmdInfo

    matrix = load_matrix(None)
    base = machine_from_document(json.loads((PROBES / "no-gpu.json").read_text()), "test")
    checked = 0
    for release in matrix.releases:
        for variant in release.variants:
            row = matrix.gfx_list(release.torch, variant.name)
            if row is None or not variant.runs_on("linux-x86_64"):
                continue
            for gfx in row.gfx:
                machine = replace(base, amd=AmdInfo("kfd", None, (AmdGpu(0, "card", gfx),)))
                result = resolve([machine], matrix, Request(torch=f"=={release.torch}", torchvision=False,
                                                            torchaudio=False), ["box"])
                assert result.plan is not None, (release.torch, variant.name, gfx, result.error)
                assert result.plan.variant.startswith("rocm")
                chosen = matrix.gfx_list(release.torch, result.plan.variant)
                assert chosen is not None and gfx in chosen.gfx
                checked += 1
    assert checked > 100


def test_nvidia_and_amd_dgpus_together_plan_the_vendor_with_more_memory_and_name_gpus(tmp_path: Path) -> None:
    from torchsetup.visible import select_gpus

    h100 = machine_with(tmp_path, RX7900XTX, base="h100-580")  # 80 GiB H100 beside a 24 GiB RX 7900 XTX
    result = plan_for(h100)
    assert result.plan is not None and result.plan.variant.startswith("cu")
    assert "AMD GPU(s) RX 7900 XTX (gfx1100) left out: one torch build cannot use NVIDIA and AMD GPUs together; " \
           "this plan is for the NVIDIA GPU(s), which have as much memory or more (--gpus chooses among them)" \
           in result.plan.notes
    big_amd = machine_with(tmp_path, MI300X, base="h100-580")  # an 80 GiB H100 beside a 192 GiB MI300X
    from dataclasses import replace

    big_amd = replace(big_amd, amd=replace(big_amd.amd, gpus=tuple(replace(g, memory_total_mib=196608)
                                                                     for g in big_amd.amd.gpus)))
    amd_plan = plan_for(big_amd)
    assert amd_plan.plan is not None and amd_plan.plan.variant == "rocm7.2", amd_plan.error
    assert any(n.startswith("NVIDIA GPU(s) NVIDIA H100 80GB HBM3 left out")
               and "--gpus (NVML indexes) plans for the NVIDIA" in n for n in amd_plan.plan.notes)
    assert any(r.variant.startswith("cu") and "left out of this plan: it is for the AMD ones" in r.reason
               for r in amd_plan.rejected)
    chosen = plan_for(select_gpus(big_amd, "0", None))  # --gpus 0: the NVIDIA GPU, as asked
    assert chosen.plan is not None and chosen.plan.variant.startswith("cu")
    # a CUDA build already installed there works on the H100: not an error, said as information
    found = doctor_of(big_amd, "2.13.0+cu126")
    assert [f[:2] for f in found if f[0] == "error"] == []
    assert [f[1] for f in found] == ["other-vendor-gpus"]
