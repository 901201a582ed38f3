"""verify for real: the CPU build of torch this machine offers, in a venv the test creates; and
smoke children that hang or crash."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest
from conftest import REPO, make_venv, site_packages, wait_for

from torchsetup import documents
from torchsetup.verify import run_verify

pytestmark = pytest.mark.slow


def fake_torch_venv(tmp_path: Path, body: str) -> Path:
    python = make_venv(tmp_path / "venv")
    pkg = site_packages(python) / "torch"
    pkg.mkdir()
    (pkg / "__init__.py").write_text(body)
    return python


def test_a_hanging_smoke_child_is_killed_and_reported(tmp_path: Path) -> None:
    python = fake_torch_venv(tmp_path, "import time\ntime.sleep(120)\n")
    report = run_verify(str(python), timeout=2)
    assert not report.ok
    assert report.checks[-1]["name"] == "import torch"
    assert report.checks[-1]["detail"] == "hung: killed after 2 s"


def test_a_crashing_check_is_that_check_failing(tmp_path: Path, run_cli) -> None:
    python = fake_torch_venv(tmp_path, "import os\nos.abort()\n")
    proc = run_cli("verify", "--json", "--python", str(python), "--timeout", "20")
    assert proc.returncode == 1, proc.stderr
    doc = json.loads(proc.stdout)
    assert doc["checks"][-1]["name"] == "import torch"
    assert doc["checks"][-1]["detail"].startswith("the smoke process died (exit -6")


def test_verify_passes_on_the_real_cpu_build(torch_venv: Path, run_cli) -> None:
    proc = run_cli("verify", "--json", "--python", str(torch_venv))
    assert proc.returncode == 0, proc.stdout + proc.stderr
    doc = json.loads(proc.stdout)
    assert set(doc) >= {"schema", "ok", "torch", "cuda_available", "devices", "checks"}
    assert doc["schema"] == documents.VERIFY and doc["ok"] is True
    assert doc["torch"].endswith("+cpu") and doc["cuda_available"] is False
    assert doc["cuda_unavailable_reason"] == "CPU-only build"
    names = [c["name"] for c in doc["checks"]]
    assert names == ["import torch", "allocate", "matmul", "conv2d"]
    assert all(c["ok"] and c["seconds"] >= 0 for c in doc["checks"])
    assert set(doc["checks"][0]) == {"name", "ok", "detail", "seconds"}


def test_doctor_on_the_real_install_is_healthy(torch_venv: Path, run_cli) -> None:
    proc = run_cli("doctor", "--json", "--python", str(torch_venv))
    doc = json.loads(proc.stdout)
    assert doc["probe"]["installed"]["torch"].endswith("+cpu")
    assert not [f for f in doc["findings"] if f["severity"] == "error"], doc["findings"]


def test_a_torchvision_from_another_torch_is_caught(torch_venv: Path, run_cli) -> None:
    # PyPI's torchvision for 2.13.0 is built against the CUDA build of torch, not +cpu
    proc = subprocess.run([str(torch_venv), "-m", "pip", "install", "--quiet", "--no-deps",
                           "torchvision==0.28.0"], capture_output=True, text=True, timeout=600)
    if proc.returncode != 0:
        pytest.skip(f"torchvision 0.28.0 could not be installed here: {proc.stderr.strip()[-200:]}")
    try:
        _torchvision_from_another_torch_is_caught(torch_venv, run_cli)
    finally:  # the venv is shared by the session: leave it as it was
        subprocess.run([str(torch_venv), "-m", "pip", "uninstall", "--quiet", "--yes", "torchvision"],
                       capture_output=True, timeout=300)


def _torchvision_from_another_torch_is_caught(torch_venv: Path, run_cli) -> None:  # type: ignore[no-untyped-def]
    verify = run_cli("verify", "--json", "--python", str(torch_venv))
    assert verify.returncode == 1
    doc = json.loads(verify.stdout)
    failed = [c for c in doc["checks"] if not c["ok"]]
    assert failed and failed[0]["name"] in ("import torchvision", "torchvision nms")
    assert "torchvision::nms does not exist" in failed[0]["detail"]
    doctor = run_cli("doctor", "--verify", "--json", "--python", str(torch_venv))
    assert doctor.returncode == 1
    report = json.loads(doctor.stdout)
    assert report["verify"]["ok"] is False
    # doctor sees it from metadata alone too: PyPI's 0.28.0 is the cu130 build, torch is +cpu
    mismatch = next(f for f in report["findings"] if f["code"] == "companion-mismatch")
    assert "torchvision 0.28.0 is a cu130 build" in mismatch["message"] and mismatch["fix"]


def test_the_real_cpu_build_says_it_has_no_cuda_in_its_version_py(torch_venv: Path, run_cli) -> None:
    from torchsetup.probe.interpreter import read_interpreter

    build = read_interpreter(str(torch_venv)).builds["torch"]
    assert build is not None
    assert (build.version, build.cuda, build.hip, build.cuda_known, build.variant) == (
        "2.13.0+cpu", None, None, True, "cpu")
    assert build.installer == "pip" and build.git_version and len(build.git_version) == 40
    proc = run_cli("doctor", "--json", "--python", str(torch_venv))
    doc = json.loads(proc.stdout)
    assert doc["probe"]["builds"]["torch"]["cuda"] is None
    assert [f for f in doc["findings"] if f["severity"] == "error"] == [], doc["findings"]


@pytest.mark.parametrize("signum,code", [(signal.SIGINT, 130), (signal.SIGTERM, 143), (signal.SIGHUP, 129)])
def test_a_stopped_verify_leaves_no_child(tmp_path: Path, signum: int, code: int) -> None:
    """torchsetup verify stopped while its smoke child hangs in `import torch` (a wedged GPU): the
    child's whole group is gone before torchsetup exits, with the shell's code for that signal."""
    marker = tmp_path / "started"
    python = fake_torch_venv(tmp_path, f"open({str(marker)!r}, 'w').close()\nimport time\ntime.sleep(300)\n")
    env = dict(os.environ, PYTHONPATH=str(REPO))
    proc = subprocess.Popen([sys.executable, "-m", "torchsetup", "verify", "--python", str(python)],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env)
    wait_for(marker.exists)
    proc.send_signal(signum)
    _, err = proc.communicate(timeout=60)
    assert proc.returncode == code, err
    assert "the smoke test was stopped" in err
    left = subprocess.run(["pgrep", "-f", "smoke_script.py"], capture_output=True, text=True).stdout.split()
    assert not left, f"smoke children left running: {left}"


def test_verify_alone_expects_the_gpus_only_nvidia_smi_reports(torch_venv: Path, run_cli,
                                                               tmp_path: Path) -> None:
    """A stand-in nvidia-smi (a real child process) reports two A100s on a machine without /dev/nvidia*
    (as on WSL2); torch is the real CPU torch with a FAKE torch.cuda (tests/fake_cuda) saying it is a
    CUDA 12.8 build that sees no device. verify alone must fail it, as install's smoke test does."""
    if Path("/dev/nvidiactl").exists() or Path("/proc/driver/nvidia").exists():
        pytest.skip("this machine has an NVIDIA driver")
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    smi = bin_dir / "nvidia-smi"
    smi.write_text("#!/bin/sh\ncase \"$1\" in\n  --query-gpu=*) cat <<'OUT'\n"
                   "0, NVIDIA A100-SXM4-80GB, GPU-3e7a9c1b-5d2f-4b8a-9c6e-1f0a2b3c4d5e, 8.0, 81920, Disabled, "
                   "550.54.14\n"
                   "1, NVIDIA A100-SXM4-80GB, GPU-8b2d4f6a-1c3e-4d5f-a7b9-c0d1e2f3a4b5, 8.0, 81920, Disabled, "
                   "550.54.14\n"
                   "OUT\n;;\n  *) echo 'Driver Version: 550.54.14      CUDA Version: 12.4';;\nesac\n")
    smi.chmod(0o755)
    fake = Path(__file__).parent / "fake_cuda"
    env = dict(os.environ, PATH=f"{bin_dir}{os.pathsep}{os.environ['PATH']}",
               PYTHONPATH=f"{REPO}{os.pathsep}{fake}",
               TORCHSETUP_FAKE_CUDA=json.dumps({"build_cuda": "12.8", "arch": ["sm_80"], "devices": []}))
    proc = run_cli("verify", "--json", "--python", str(torch_venv), env=env)
    doc = json.loads(proc.stdout)
    assert proc.returncode == 1 and doc["ok"] is False, doc
    gpu = [c for c in doc["checks"] if c["name"] == "GPU available"]
    assert gpu and gpu[0]["ok"] is False
    assert "this machine has an NVIDIA GPU, but this CUDA build of torch cannot use it" in gpu[0]["detail"]
    without = dict(env, PATH=os.environ["PATH"])  # no census finds a GPU: the same torch passes on the CPU
    assert json.loads(run_cli("verify", "--json", "--python", str(torch_venv), env=without).stdout)["ok"] is True
