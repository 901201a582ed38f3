"""What is installed, read from the packages' own files in real venvs (real pip installs of wheels
built here), and the doctor's judgement of it as a whole process."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import pytest
from conftest import REPO, isolated_pip_env, make_venv, site_packages
from localindex import write_wheel

from torchsetup.probe.interpreter import read_interpreter

pytestmark = pytest.mark.slow


def torch_wheel(dest: Path, version: str, cuda: str | None, name: str = "torch", arch: str | None = None) -> Path:
    """A real wheel shaped like torch's: <name>/version.py saying what the build is, and an
    __init__ that raises, proving nobody imports it. `arch`: a torch/lib/libtorch_python.so (a blob,
    not a library) holding that get_arch_list() string as a C literal among other strings."""
    files = {
        f"{name}/__init__.py": b"raise RuntimeError('must not be imported')\n",
        f"{name}/version.py": (f"from typing import Optional\n__version__ = '{version}'\ndebug = False\n"
                               f"cuda: Optional[str] = {cuda!r}\ngit_version = '{'ab' * 20}'\n"
                               "hip: Optional[str] = None\n").encode()}
    if arch is not None:
        files[f"{name}/lib/libtorch_python.so"] = (b"\x7fELF" + bytes(range(256)) * 4000 + b"\x00cusm_80 x\x00"
                                                   + b"\x00" + arch.encode() + b"\x00" + b"\x00sm_ trailing\x00")
    return write_wheel(dest, name, version, files)


@pytest.fixture
def venv(tmp_path: Path) -> Path:
    return make_venv(tmp_path / "venv", with_pip=True)


def pip_install(python: Path, wheel: Path) -> None:
    subprocess.run([str(python), "-m", "pip", "install", "--quiet", "--no-deps", "--no-index", str(wheel)],
                   check=True, capture_output=True, env=isolated_pip_env(), timeout=300)


def test_a_plain_2_8_0_is_cu128_by_its_own_version_py(venv: Path, tmp_path: Path, run_cli) -> None:
    pip_install(venv, torch_wheel(tmp_path / "w", "2.8.0", "12.8"))
    facts = read_interpreter(str(venv))
    assert facts.installed.torch == "2.8.0"
    build = facts.builds["torch"]
    assert build is not None
    assert (build.version, build.cuda, build.hip, build.installer, build.variant) == (
        "2.8.0", "12.8", None, "pip", "cu128")
    assert build.location == str(site_packages(venv)) and build.git_version == "ab" * 20
    assert facts.builds["torchvision"] is None and facts.install_problems == ()
    proc = run_cli("doctor", "--json", "--python", str(venv))
    doc = json.loads(proc.stdout)
    assert doc["probe"]["builds"]["torch"]["cuda"] == "12.8"
    cuda = [f for f in doc["findings"] if f["code"] == "cuda-build-without-gpu"]  # this machine has no GPU
    assert cuda and "(cu128, told by its torch/version.py (cuda = '12.8'))" in cuda[0]["message"]
    assert [f for f in doc["findings"] if f["severity"] == "error"] == []


def test_shadowing_leftovers_and_conda_records_are_found(venv: Path, tmp_path: Path, run_cli) -> None:
    pip_install(venv, torch_wheel(tmp_path / "w", "2.13.0+cpu", None))
    site = site_packages(venv)
    # a second torch on sys.path (a .pth pointing at another folder), pip's stash, a conda record
    other = tmp_path / "elsewhere"
    (other / "torch-2.5.1.dist-info").mkdir(parents=True)
    (other / "torch-2.5.1.dist-info" / "METADATA").write_text("Name: torch\nVersion: 2.5.1\n")
    (site / "zz-elsewhere.pth").write_text(str(other) + "\n")
    (site / "~orch-2.12.0.dist-info").mkdir()
    meta = venv.parent.parent / "conda-meta"
    meta.mkdir()
    (meta / "pytorch-2.1.0-py3.11_cuda12.1_cudnn8.9.2_0.json").write_text(json.dumps(
        {"name": "pytorch", "version": "2.1.0", "build": "py3.11_cuda12.1_cudnn8.9.2_0", "channel": "pytorch"}))
    facts = read_interpreter(str(venv))
    codes = sorted(p.split(":")[0] for p in facts.install_problems)
    assert codes == ["conda-pip-mix", "duplicate-install", "interrupted-install"]
    assert facts.installed.torch == "2.13.0+cpu"  # the first on sys.path is the one Python imports
    assert facts.builds["torch"].conda_build == "py3.11_cuda12.1_cudnn8.9.2_0"
    proc = run_cli("doctor", "--json", "--python", str(venv))
    assert proc.returncode == 1
    found = {f["code"]: f["severity"] for f in json.loads(proc.stdout)["findings"]}
    assert found["duplicate-install"] == found["interrupted-install"] == "error"
    assert found["conda-pip-mix"] == "warning"


def doctor_on_an_rtx5090(run_cli, venv: Path, tmp_path: Path) -> dict:  # type: ignore[type-arg]
    """This machine has no GPU: the probe of the venv is real (its builds read by the child), the
    GPU and driver come from the recorded RTX 5090 example (a fake machine, said so)."""
    probe = json.loads(run_cli("probe", "--json", "--python", str(venv)).stdout)
    recorded = json.loads((REPO / "examples" / "rtx5090-570.json").read_text())
    probe.update(os=recorded["os"], nvidia=recorded["nvidia"])
    (tmp_path / "probe.json").write_text(json.dumps(probe))
    return json.loads(run_cli("doctor", "--json", "--probe-file", str(tmp_path / "probe.json")).stdout)


@pytest.mark.parametrize(("version", "arch", "arch_error"), [
    ("2.6.0a0+git1a2b3c4", "sm_86 sm_90", True),  # a source build for Ampere/Hopper only
    ("2.6.0a0+git1a2b3c4", "sm_80 sm_90 sm_100 sm_120 compute_120", False),
    ("2.6.0+cu126", "sm_80 sm_90 sm_100 sm_120", False),  # its own list wins over the matrix's sm_50..sm_90
])
def test_the_kernels_compiled_into_torch_are_what_the_doctor_judges(
        venv: Path, tmp_path: Path, run_cli, version: str, arch: str, arch_error: bool) -> None:
    pip_install(venv, torch_wheel(tmp_path / "w", version, "12.6", arch=arch))
    build = read_interpreter(str(venv)).builds["torch"]
    assert build is not None and build.arch_list == arch
    doc = doctor_on_an_rtx5090(run_cli, venv, tmp_path)
    assert doc["probe"]["builds"]["torch"]["arch_list"] == arch
    errors = {f["code"]: f["message"] for f in doc["findings"] if f["severity"] == "error"}
    kernels_unchecked = [f for f in doc["findings"] if f["code"] == "not-checked" and "kernel" in f["message"]]
    assert kernels_unchecked == []  # the list was read: nothing about kernels is left unknown
    if arch_error:
        assert set(errors) == {"gpu-arch-not-in-build"}
        message = errors["gpu-arch-not-in-build"]
        assert "is sm_120;" in message
        assert "has sm_86..sm_90 (its own list, read from the installed library)" in message
    else:
        assert set(errors) == set()


def test_a_cpu_build_is_not_scanned_for_kernels(venv: Path, tmp_path: Path) -> None:
    """Only a CUDA build (its version.py says cuda = '…') has the string; a CPU build costs no scan."""
    pip_install(venv, torch_wheel(tmp_path / "w", "2.13.0+cpu", None, arch="sm_80"))
    build = read_interpreter(str(venv)).builds["torch"]
    assert build is not None and build.cuda is None and build.arch_list is None
