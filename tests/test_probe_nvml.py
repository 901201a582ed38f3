"""NVML through the one seam (a replayed `pynvml`), and the fallbacks behind it."""

from __future__ import annotations

import json
import os
import stat
import time
from pathlib import Path

import pytest
from fakenvml import FakeNvml

from torchsetup.probe.machine import probe_nvidia
from torchsetup.probe.model import OSInfo
from torchsetup.probe.nvml import cuda_version_from_int, read_nvml

HOST = OSInfo(system="Linux", machine="x86_64", libc="glibc 2.36", wsl=False, container=False,
              jetson=False)


def nvidia_for(name: str, tmp_path: Path, os_info: OSInfo = HOST):
    env = {"PATH": str(tmp_path / "empty-bin")}
    return probe_nvidia(os_info, FakeNvml.named(name), env, root=tmp_path, timeout=2)


@pytest.mark.parametrize("value,text", [(12040, "12.4"), (11040, "11.4"), (13000, "13.0"),
                                        (12080, "12.8"), (0, None)])
def test_cuda_version_decoding(value: int, text: str | None) -> None:
    assert cuda_version_from_int(value) == text


def test_470_with_one_pascal(tmp_path: Path) -> None:
    nv, warnings = nvidia_for("470-gtx1080", tmp_path)
    assert (nv.source, nv.driver_version, nv.cuda_driver_version) == ("nvml", "470.182.03", "11.4")
    assert [(g.name, g.compute_capability, g.memory_total_mib) for g in nv.gpus] == [
        ("NVIDIA GeForce GTX 1080", "6.1", 8192)]
    assert nv.gpus[0].mig is None and nv.error is None
    assert warnings == ()  # MIG "not supported" on a GeForce is an answer, not a warning


def test_535_with_eight_a100(tmp_path: Path) -> None:
    nv, warnings = nvidia_for("535-8xa100", tmp_path)
    assert nv.cuda_driver_version == "12.2"
    assert [g.index for g in nv.gpus] == list(range(8))
    assert {g.compute_capability for g in nv.gpus} == {"8.0"}
    assert all(g.mig is False and g.memory_total_mib == 81920 for g in nv.gpus)
    assert len({g.uuid for g in nv.gpus}) == 8 and warnings == ()


def test_570_with_rtx5090(tmp_path: Path) -> None:
    nv, _ = nvidia_for("570-rtx5090", tmp_path)
    assert (nv.driver_version, nv.cuda_driver_version) == ("570.133.07", "12.8")
    assert nv.gpus[0].compute_capability == "12.0"
    assert nv.gpus[0].capability == (12, 0)


def test_mixed_gtx1080_and_rtx4090(tmp_path: Path) -> None:
    nv, _ = nvidia_for("mixed-1080-4090", tmp_path)
    assert [(g.index, g.compute_capability) for g in nv.gpus] == [(0, "8.9"), (1, "6.1")]


def test_mig_enabled_a100(tmp_path: Path) -> None:
    nv, _ = nvidia_for("mig-a100", tmp_path)
    assert nv.gpus[0].mig is True


def test_unsupported_field_is_quietly_null(tmp_path: Path) -> None:
    nv, warnings = nvidia_for("field-not-supported", tmp_path)
    gpu = nv.gpus[0]
    assert gpu.uuid is None and gpu.mig is None
    assert (gpu.name, gpu.compute_capability, gpu.memory_total_mib) == ("Tesla T4", "7.5", 15360)
    assert warnings == ()


def test_other_field_errors_are_null_plus_a_warning() -> None:
    import pynvml

    reading = FakeNvml.named("470-gtx1080").reading
    reading["devices"][0]["errors"] = {"uuid": pynvml.NVML_ERROR_UNKNOWN}
    result = read_nvml(FakeNvml(reading))
    assert result.gpus[0].uuid is None and len(result.warnings) == 1
    assert result.warnings[0].startswith("NVML: GPU 0 UUID:")


def test_a_driver_without_the_v2_call_falls_back_on_the_call(tmp_path: Path) -> None:
    reading = FakeNvml.named("570-rtx5090").reading
    reading["no_v2"] = True
    result = read_nvml(FakeNvml(reading))
    assert result.cuda_driver_version == "12.8" and result.warnings == ()


def test_a_name_in_odd_bytes_is_decoded_safely() -> None:
    reading = FakeNvml.named("470-gtx1080").reading
    reading["devices"][0].update(name="Quadro \xe9", name_bytes=True)  # latin-1 bytes, not UTF-8
    result = read_nvml(FakeNvml(reading))
    assert result.gpus[0].name == "Quadro \ufffd"


def test_lost_gpu_does_not_sink_the_others(tmp_path: Path) -> None:
    nv, warnings = nvidia_for("lost-gpu", tmp_path)
    assert [g.index for g in nv.gpus] == [0, 2]
    assert any("GPU 1: cannot be reached" in w for w in warnings)


def test_nvml_is_shut_down_after_reading() -> None:
    lib = FakeNvml.named("mig-a100")
    read_nvml(lib)
    assert lib.shutdown_called


def test_no_driver_at_all(tmp_path: Path) -> None:
    nv, warnings = nvidia_for("no-driver", tmp_path)
    assert (nv.source, nv.driver_version, nv.gpus) == ("none", None, ())
    assert nv.error is not None and nv.error.startswith("no NVIDIA driver found")
    assert warnings and "NVML unavailable" in warnings[0]


def test_driver_library_mismatch_says_reboot(tmp_path: Path) -> None:
    nv, _ = nvidia_for("driver-mismatch", tmp_path)
    assert nv.error is not None and "version mismatch" in nv.error and "reboot" in nv.error


def test_container_without_gpu_access_is_not_no_gpu(tmp_path: Path) -> None:
    container = OSInfo(system="Linux", machine="x86_64", container=True, wsl=False, jetson=False)
    nv, _ = nvidia_for("no-driver", tmp_path, container)
    assert nv.error is not None and "/dev/nvidia*" in nv.error and "--gpus all" in nv.error


def test_wsl_without_gpu_names_the_windows_driver(tmp_path: Path) -> None:
    wsl = OSInfo(system="Linux", machine="x86_64", container=False, wsl=True, jetson=False)
    nv, _ = nvidia_for("no-driver", tmp_path, wsl)
    assert nv.error is not None and "WSL" in nv.error and "Windows driver" in nv.error


def test_procfs_gives_the_driver_alone(tmp_path: Path) -> None:
    version = tmp_path / "proc/driver/nvidia/version"
    version.parent.mkdir(parents=True)
    version.write_text("NVRM version: NVIDIA UNIX x86_64 Kernel Module  535.104.05  "
                       "Sat Aug 19 01:15:15 UTC 2023\nGCC version:  gcc version 12.2.0\n")
    nv, _ = nvidia_for("no-driver", tmp_path)
    assert (nv.source, nv.driver_version, nv.gpus) == ("procfs", "535.104.05", ())
    assert nv.error is not None and "535.104.05 is loaded but NVML cannot be used" in nv.error


def test_sys_module_version_when_proc_is_absent(tmp_path: Path) -> None:
    version = tmp_path / "sys/module/nvidia/version"
    version.parent.mkdir(parents=True)
    version.write_text("550.54.14\n")
    nv, _ = nvidia_for("no-driver", tmp_path)
    assert (nv.source, nv.driver_version) == ("procfs", "550.54.14")


# ----------------------------------------------------------- nvidia-smi, as real child processes

SMI_REAL = """\
0, NVIDIA GeForce RTX 4090, GPU-3e7a9c1b-5d2f-4b8a-9c6e-1f0a2b3c4d5e, 8.9, 24564, [N/A], 550.54.14
1, NVIDIA GeForce GTX 1080, GPU-8b2d4f6a-1c3e-4d5f-a7b9-c0d1e2f3a4b5, 6.1, 8192, [N/A], 550.54.14
"""
SMI_BANNER = """\
+-----------------------------------------------------------------------------------------+
| NVIDIA-SMI 550.54.14              Driver Version: 550.54.14      CUDA Version: 12.4     |
+-----------------------------------------------------------------------------------------+
"""


def fake_smi(bin_dir: Path, query_output: str, exit_code: int = 0, sleep: float = 0) -> None:
    bin_dir.mkdir(parents=True, exist_ok=True)
    script = bin_dir / "nvidia-smi"
    script.write_text(
        "#!/bin/sh\n"
        + (f"sleep {sleep}\n" if sleep else "")
        + 'case "$1" in\n'
        + f"  --query-gpu=*) cat <<'OUT'\n{query_output}OUT\n exit {exit_code};;\n"
        + f"  *) cat <<'OUT'\n{SMI_BANNER}OUT\n;;\nesac\n"
    )
    script.chmod(script.stat().st_mode | stat.S_IEXEC)


def smi_probe(tmp_path: Path, os_info: OSInfo = HOST, timeout: float = 2):
    env = {"PATH": f"{tmp_path / 'bin'}{os.pathsep}/usr/bin:/bin"}
    return probe_nvidia(os_info, FakeNvml.named("no-driver"), env, root=tmp_path, timeout=timeout)


def test_nvidia_smi_real_format_two_gpus(tmp_path: Path) -> None:
    fake_smi(tmp_path / "bin", SMI_REAL)
    nv, _ = smi_probe(tmp_path)
    assert (nv.source, nv.driver_version, nv.cuda_driver_version) == ("nvidia-smi", "550.54.14", "12.4")
    assert [(g.index, g.name, g.compute_capability, g.memory_total_mib, g.mig) for g in nv.gpus] == [
        (0, "NVIDIA GeForce RTX 4090", "8.9", 24564, None),
        (1, "NVIDIA GeForce GTX 1080", "6.1", 8192, None)]
    assert nv.error is None


def test_nvidia_smi_na_and_insufficient_permissions_fields(tmp_path: Path) -> None:
    fake_smi(tmp_path / "bin",
             "0, Tesla T4, [Insufficient Permissions], [N/A], [N/A], Disabled, 535.104.05\n")
    nv, warnings = smi_probe(tmp_path)
    gpu = nv.gpus[0]
    assert (gpu.name, gpu.uuid, gpu.compute_capability, gpu.memory_total_mib, gpu.mig) == (
        "Tesla T4", None, None, None, False)
    assert "nvidia-smi: GPU 0 compute_cap: not available" in warnings


def test_nvidia_smi_exit_18_is_a_mismatch(tmp_path: Path) -> None:
    fake_smi(tmp_path / "bin", "Failed to initialize NVML: Driver/library version mismatch\n",
             exit_code=18)
    nv, _ = smi_probe(tmp_path)
    assert nv.source == "none" and nv.gpus == ()
    assert nv.error is not None and "version mismatch" in nv.error


def test_nvidia_smi_that_hangs_times_out(tmp_path: Path) -> None:
    fake_smi(tmp_path / "bin", SMI_REAL, sleep=30)
    started = time.monotonic()
    nv, warnings = smi_probe(tmp_path, timeout=1)
    assert time.monotonic() - started < 10
    assert nv.gpus == () and "did not answer within 1 s" in " ".join(warnings)
    assert nv.error is not None and "hung" in nv.error


def test_wsl_nvidia_smi_location_is_used(tmp_path: Path) -> None:
    fake_smi(tmp_path / "usr/lib/wsl/lib", SMI_REAL)
    wsl = OSInfo(system="Linux", machine="x86_64", container=False, wsl=True, jetson=False)
    nv, _ = smi_probe(tmp_path, wsl)
    assert nv.source == "nvidia-smi" and len(nv.gpus) == 2


def test_nvml_is_not_loaded_without_a_kernel_module(tmp_path: Path) -> None:
    import sys

    sys.modules.pop("pynvml", None)
    nv, warnings = probe_nvidia(HOST, None, {"PATH": str(tmp_path / "none")}, root=tmp_path, timeout=2)
    assert "pynvml" not in sys.modules
    assert nv.source == "none" and "no NVIDIA kernel module loaded" in warnings[0]


# ----------------------------------------------------------- GPU truth: the bus, broken rows, forks


def pci_device(root: Path, slot: str, vendor: str, klass: str) -> None:
    device = root / "sys/bus/pci/devices" / slot
    device.mkdir(parents=True)
    (device / "vendor").write_text(vendor + "\n")
    (device / "class").write_text(klass + "\n")


def test_a_gpu_on_the_bus_without_a_driver_is_not_no_gpu(tmp_path: Path, run_cli) -> None:
    pci_device(tmp_path, "0000:00:02.0", "0x8086", "0x030000")  # an Intel iGPU: not ours
    pci_device(tmp_path, "0000:01:00.0", "0x10de", "0x030000")  # an NVIDIA GPU, driver not loaded
    pci_device(tmp_path, "0000:01:00.1", "0x10de", "0x040300")  # its HDMI audio: not a GPU
    nv, _ = nvidia_for("no-driver", tmp_path)
    assert nv.pci_gpus == 1 and nv.gpus == ()
    assert nv.error is not None and nv.error.startswith("1 NVIDIA GPU(s) on the PCI bus (0000:01:00.0)")
    assert "kernel module is not loaded" in nv.error and "Secure Boot" in nv.error
    doc = json.loads((Path(__file__).parent / "fixtures/probes/no-gpu.json").read_text())
    doc["nvidia"].update(pci_gpus=1, error=nv.error)
    probe_file = tmp_path / "p.json"
    probe_file.write_text(json.dumps(doc))
    no_fit = run_cli("resolve", "--probe-file", str(probe_file))
    assert no_fit.returncode == 3 and "driver cannot be used" in no_fit.stderr
    assert run_cli("resolve", "--probe-file", str(probe_file), "--allow-cpu").returncode == 0


def test_one_failing_gpu_row_keeps_the_gpus_that_answered(tmp_path: Path) -> None:
    rows = (SMI_REAL.splitlines()[0] + "\n"
            + "Unable to determine the device handle for GPU 0000:3B:00.0: Unknown Error\n")
    fake_smi(tmp_path / "bin", rows, exit_code=15)
    nv, warnings = smi_probe(tmp_path)
    assert [g.name for g in nv.gpus] == ["NVIDIA GeForce RTX 4090"] and nv.source == "nvidia-smi"
    assert any("exited 15 but listed 1 GPU(s)" in w and "Unknown Error" in w for w in warnings)


def test_nvidia_smi_output_that_is_not_utf8_is_decoded_safely(tmp_path: Path) -> None:
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    script = bin_dir / "nvidia-smi"
    script.write_bytes(b"#!/bin/sh\nprintf '0, Quadro \\351, GPU-1, 7.5, 8192, [N/A], 535.104.05\\n'\n")
    script.chmod(0o755)
    nv, _ = smi_probe(tmp_path)
    assert nv.gpus[0].name == "Quadro \ufffd"


def test_a_forking_nvidia_smi_cannot_outlive_its_timeout(tmp_path: Path) -> None:
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    script = bin_dir / "nvidia-smi"
    # the grandchild keeps stdout open: only killing the whole process group ends the wait
    script.write_text("#!/bin/sh\nsleep 60 &\nsleep 60\n")
    script.chmod(0o755)
    started = time.monotonic()
    nv, warnings = smi_probe(tmp_path, timeout=1)
    assert time.monotonic() - started < 8
    assert "did not answer within 1 s" in " ".join(warnings)


def test_nvml_is_tried_on_native_windows(tmp_path: Path) -> None:
    """No Linux kernel-module gate on Windows: NVML (nvml.dll) is what answers there."""
    windows = OSInfo(system="Windows", machine="AMD64", container=False, wsl=False, jetson=False)
    nv, _ = probe_nvidia(windows, FakeNvml.named("570-rtx5090"), {"PATH": ""}, root=tmp_path, timeout=2)
    assert nv.source == "nvml" and nv.gpus[0].compute_capability == "12.0"
    _, warnings = probe_nvidia(windows, None, {"PATH": ""}, root=tmp_path, timeout=2)
    assert not any("no NVIDIA kernel module loaded" in w for w in warnings)  # the library itself was asked
