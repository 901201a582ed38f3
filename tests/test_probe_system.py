"""OS facts and the CUDA toolkit, read under a root folder the test lays out, and real `nvcc`
stand-ins run as child processes."""

from __future__ import annotations

import json
import os
import stat
import sys
from pathlib import Path

from conftest import wait_for
from fakenvml import FakeNvml

from torchsetup.probe.machine import probe_machine
from torchsetup.probe.system import has_nvidia_device_nodes, is_container, is_jetson, is_wsl
from torchsetup.probe.toolkit import read_toolkit, start_toolkit_read


def write(path: Path, text: str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)
    return path


def test_wsl_from_the_kernel_release(tmp_path: Path) -> None:
    assert not is_wsl(tmp_path, {})
    write(tmp_path / "proc/sys/kernel/osrelease", "5.15.153.1-microsoft-standard-WSL2\n")
    assert is_wsl(tmp_path, {})
    assert is_wsl(Path("/nonexistent"), {"WSL_DISTRO_NAME": "Ubuntu"})


def test_container_markers(tmp_path: Path) -> None:
    assert not is_container(tmp_path, {})
    write(tmp_path / "proc/1/cgroup", "0::/kubepods/besteffort/pod1234/abcd\n")
    assert is_container(tmp_path, {})
    other = tmp_path / "other"
    write(other / "run/.containerenv", "")
    assert is_container(other, {})


def test_jetson_needs_aarch64_and_tegra(tmp_path: Path) -> None:
    write(tmp_path / "etc/nv_tegra_release", "# R36 (release), REVISION: 3.0\n")
    assert is_jetson(tmp_path, "aarch64")
    assert not is_jetson(tmp_path, "x86_64")
    model = tmp_path / "orin"
    write(model / "proc/device-tree/model", "NVIDIA Jetson AGX Orin Developer Kit\x00")
    assert is_jetson(model, "aarch64")


def test_device_nodes(tmp_path: Path) -> None:
    assert not has_nvidia_device_nodes(tmp_path)
    write(tmp_path / "dev/nvidia0", "")
    assert has_nvidia_device_nodes(tmp_path)


def fake_nvcc(bin_dir: Path, release: str) -> Path:
    script = write(bin_dir / "nvcc", "#!/bin/sh\n"
                   "echo 'nvcc: NVIDIA (R) Cuda compiler driver'\n"
                   f"echo 'Cuda compilation tools, release {release}, V{release}.85'\n")
    script.chmod(script.stat().st_mode | stat.S_IEXEC)
    return script


def test_toolkit_from_nvcc_on_path_with_version_json(tmp_path: Path) -> None:
    home = tmp_path / "usr/local/cuda-12.4"
    nvcc = fake_nvcc(home / "bin", "12.4")
    write(home / "version.json", json.dumps({"cuda": {"name": "CUDA SDK", "version": "12.4.1"}}))
    tk = read_toolkit({"PATH": str(home / "bin")}, root=tmp_path)
    assert tk is not None and (tk.version, tk.nvcc, tk.home) == ("12.4", str(nvcc), str(home))


def test_toolkit_from_nvcc_output_alone(tmp_path: Path) -> None:
    nvcc = fake_nvcc(tmp_path / "bin", "11.8")
    tk = read_toolkit({"PATH": str(tmp_path / "bin")}, root=tmp_path / "empty")
    assert tk is not None and (tk.version, tk.nvcc, tk.home) == ("11.8", str(nvcc), None)


def gated_nvcc(bin_dir: Path, release: str) -> Path:
    """An nvcc that says it started (its pid in `started`) and answers only once `go` exists."""
    script = write(bin_dir / "nvcc", "#!/bin/sh\n"
                   f"echo $$ > '{bin_dir}/started'\n"
                   f"while [ ! -e '{bin_dir}/go' ]; do sleep 0.01; done\n"
                   f"echo 'Cuda compilation tools, release {release}, V{release}.85'\n")
    script.chmod(script.stat().st_mode | stat.S_IEXEC)
    return script


def started_pid(path: Path) -> str:
    wait_for(lambda: path.exists() and path.read_text().strip())
    return path.read_text().strip()


def test_nvcc_runs_while_the_rest_is_probed(tmp_path: Path) -> None:
    # nvcc without a version.json beside it is started by start_toolkit_read and answers only after
    # the caller has gone on (here: created `go`): the toolkit costs no wall time of its own.
    bin_dir = tmp_path / "bin"
    nvcc = gated_nvcc(bin_dir, "13.0")
    pending = start_toolkit_read({"PATH": str(bin_dir)}, root=tmp_path / "empty")
    started_pid(bin_dir / "started")  # running before anyone asked for the answer
    (bin_dir / "go").touch()
    tk = pending.answer()
    assert tk is not None and (tk.version, tk.nvcc, tk.home) == ("13.0", str(nvcc), None)


def test_an_abandoned_toolkit_read_stops_its_nvcc(tmp_path: Path) -> None:
    bin_dir = tmp_path / "bin"
    gated_nvcc(bin_dir, "13.0")  # never given `go`: it would wait forever
    pending = start_toolkit_read({"PATH": str(bin_dir)}, root=tmp_path / "empty")
    pid = int(started_pid(bin_dir / "started"))
    pending.abandon()
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return
    raise AssertionError(f"nvcc (pid {pid}) still runs after abandon()")


def test_nvcc_failing_to_start_leaves_the_version_unknown(tmp_path: Path) -> None:
    nvcc = write(tmp_path / "bin/nvcc", "#!/nonexistent/interpreter\n")
    nvcc.chmod(nvcc.stat().st_mode | stat.S_IEXEC)
    tk = read_toolkit({"PATH": str(tmp_path / "bin")}, root=tmp_path / "empty")
    assert tk is not None and (tk.version, tk.nvcc, tk.home) == (None, str(nvcc), None)


def test_toolkit_from_cuda_home_and_usr_local(tmp_path: Path) -> None:
    home = tmp_path / "opt/cuda"
    write(home / "version.json", json.dumps({"cuda": {"version": "13.0.2"}}))
    tk = read_toolkit({"PATH": "", "CUDA_HOME": str(home)}, root=tmp_path / "empty")
    assert tk is not None and (tk.version, tk.home) == ("13.0", str(home))
    write(tmp_path / "usr/local/cuda-12.6/version.json", json.dumps({"cuda": {"version": "12.6.3"}}))
    tk = read_toolkit({"PATH": ""}, root=tmp_path)
    assert tk is not None and tk.version == "12.6"
    assert read_toolkit({"PATH": ""}, root=tmp_path / "nothing") is None


def test_probe_never_imports_torch_in_process(bare_venv: Path) -> None:
    probe_machine(str(bare_venv), nvml_lib=FakeNvml.named("570-rtx5090"))
    assert "torch" not in sys.modules
