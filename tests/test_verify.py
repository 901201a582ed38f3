"""verify for real: the CPU build of torch this machine offers, in a venv the test creates; and
smoke children that hang or crash."""

from __future__ import annotations

import glob
import json
import os
import subprocess
from pathlib import Path

import pytest
from conftest import make_venv, site_packages

from torchsetup.verify import run_verify

pytestmark = pytest.mark.slow
LOCAL_TORCH = sorted(glob.glob(os.environ.get("TORCHSETUP_TEST_TORCH_WHEEL", "/opt/wheels/torch-*+cpu-*.whl")))


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


@pytest.fixture(scope="module")
def torch_venv(tmp_path_factory: pytest.TempPathFactory) -> Path:
    if not LOCAL_TORCH:
        pytest.skip("no CPU build of torch on this machine (/opt/wheels/torch-*+cpu-*.whl); "
                    "set TORCHSETUP_TEST_TORCH_WHEEL to one")
    python = make_venv(tmp_path_factory.mktemp("torch") / "venv", with_pip=True)
    proc = subprocess.run([str(python), "-m", "pip", "install", "--quiet", LOCAL_TORCH[-1]],
                          capture_output=True, text=True, timeout=900)
    if proc.returncode != 0:
        pytest.skip(f"could not install {LOCAL_TORCH[-1]}: {proc.stderr.strip()[-300:]}")
    return python


def test_verify_passes_on_the_real_cpu_build(torch_venv: Path, run_cli) -> None:
    proc = run_cli("verify", "--json", "--python", str(torch_venv))
    assert proc.returncode == 0, proc.stdout + proc.stderr
    doc = json.loads(proc.stdout)
    assert set(doc) >= {"schema", "ok", "torch", "cuda_available", "devices", "checks"}
    assert doc["schema"] == "torchsetup.verify/1" and doc["ok"] is True
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


def test_smoke_rules_match_torchs_own() -> None:
    import importlib.util

    from torchsetup.verify import SMOKE_SCRIPT

    spec = importlib.util.spec_from_file_location("smoke", SMOKE_SCRIPT)
    assert spec and spec.loader
    smoke = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(smoke)
    cu126 = ["sm_50", "sm_60", "sm_70", "sm_75", "sm_80", "sm_86", "sm_90"]
    assert smoke.arch_covers(cu126, 6, 1) and smoke.arch_covers(cu126, 8, 9)
    assert not smoke.arch_covers(cu126, 12, 0) and not smoke.arch_covers(cu126, 3, 7)
    assert smoke.arch_covers(["sm_90", "compute_90"], 12, 0)  # PTX JIT
    assert smoke.unavailable_reason(None, None, None, []) == "CPU-only build"
    assert smoke.unavailable_reason("12.4", None, "", []) == "CUDA_VISIBLE_DEVICES='' hides all devices"
    found = ("CUDA initialization: The NVIDIA driver on your system is too old (found version 11040). "
             "Please update your GPU driver\nmore")
    assert smoke.unavailable_reason("12.4", None, None, [found]).endswith("(found version 11040). "
                                                                           "Please update your GPU driver")
