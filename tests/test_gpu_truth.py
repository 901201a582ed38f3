"""GPU truth without a GPU: the smoke test driven through a fake torch.cuda layered on the real CPU
torch (tests/fake_cuda/sitecustomize.py), and the arch rule compared with the real torch's own."""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest

from torchsetup import cudarules
from torchsetup.documents import verify_document
from torchsetup.verify import run_verify

pytestmark = pytest.mark.slow
FAKE = Path(__file__).parent / "fake_cuda"
A100 = {"name": "NVIDIA A100-SXM4-80GB", "major": 8, "minor": 0,
        "uuid": "3e7a9c1b-5d2f-4b8a-9c6e-1f0a2b3c4d5e"}
RTX5090 = {"name": "NVIDIA GeForce RTX 5090", "major": 12, "minor": 0,
           "uuid": "8b2d4f6a-1c3e-4d5f-a7b9-c0d1e2f3a4b5"}
CU128 = ["sm_70", "sm_75", "sm_80", "sm_86", "sm_90", "sm_100", "sm_120"]
CU126 = ["sm_50", "sm_60", "sm_70", "sm_75", "sm_80", "sm_86", "sm_90"]


def fake_verify(torch_venv: Path, monkeypatch: pytest.MonkeyPatch, fake: dict[str, Any],
                expect: tuple[str, ...] = ("nvidia",), timeout: float = 120, **env: str) -> dict[str, Any]:
    monkeypatch.setenv("PYTHONPATH", str(FAKE))
    monkeypatch.setenv("TORCHSETUP_FAKE_CUDA", json.dumps(fake))
    for key, value in env.items():
        monkeypatch.setenv(key, value)
    return verify_document(run_verify(str(torch_venv), timeout, expect=expect))


def failed(doc: dict[str, Any]) -> dict[str, str]:
    return {c["name"]: c["detail"] for c in doc["checks"] if not c["ok"]}


def test_a_working_gpu_passes_with_tf32_on_by_default(torch_venv: Path, monkeypatch) -> None:
    doc = fake_verify(torch_venv, monkeypatch, {"arch": CU128, "devices": [A100]})
    assert doc["ok"] is True, doc["checks"]
    assert doc["cuda_available"] is True
    names = [c["name"] for c in doc["checks"]]
    assert names == ["import torch", "GPU available", "cuda:0: allocate", "cuda:0: matmul", "cuda:0: conv2d"]
    assert doc["devices"] == [{"index": 0, "name": "NVIDIA A100-SXM4-80GB", "capability": "8.0",
                               "uuid": "GPU-3e7a9c1b-5d2f-4b8a-9c6e-1f0a2b3c4d5e", "ok": True, "error": None}]
    conv = next(c for c in doc["checks"] if c["name"] == "cuda:0: conv2d")
    assert conv["detail"].startswith("conv2d via cuDNN 91000")


def test_the_fake_emulates_tf32_errors_that_would_fail_the_check(torch_venv: Path) -> None:
    """The oracle for the test above: with TF32 left on, the same convolution misses the tolerance."""
    script = ("import torch, torch.nn.functional as F\n"
              "x=torch.randn(2,3,32,32,dtype=torch.float64); w=torch.randn(8,3,3,3,dtype=torch.float64)\n"
              "ref=F.conv2d(x,w,padding=1)\n"
              "y=F.conv2d(x.to('cuda:0').float(), w.to('cuda:0').float(), padding=1).double()\n"
              "print(float((y-ref).abs().max()))\n")
    env = dict(os.environ, PYTHONPATH=str(FAKE),
               TORCHSETUP_FAKE_CUDA=json.dumps({"arch": CU128, "devices": [A100]}))
    out = subprocess.run([str(torch_venv), "-c", script], capture_output=True, text=True, env=env, timeout=120)
    assert out.returncode == 0, out.stderr
    assert float(out.stdout) > 1e-3


def test_tf32_is_off_inside_the_checks_and_restored_after() -> None:
    from torchsetup import smoke_script

    flags = SimpleNamespace(cuda=SimpleNamespace(matmul=SimpleNamespace(allow_tf32=True)),
                            cudnn=SimpleNamespace(allow_tf32=True))
    torch = SimpleNamespace(backends=flags)
    with smoke_script.NoTF32(torch):
        assert (flags.cuda.matmul.allow_tf32, flags.cudnn.allow_tf32) == (False, False)
    assert (flags.cuda.matmul.allow_tf32, flags.cudnn.allow_tf32) == (True, True)


@pytest.mark.parametrize("fake,env,reason", [
    ({"arch": CU128, "devices": [A100], "warning": "CUDA initialization: The NVIDIA driver on your system is "
      "too old (found version 11040). Please update your GPU driver"}, {}, "found version 11040"),
    ({"arch": CU128, "devices": [A100]}, {"CUDA_VISIBLE_DEVICES": ""}, "CUDA_VISIBLE_DEVICES='' hides all"),
    ({"arch": CU128, "devices": [A100]}, {"CUDA_VISIBLE_DEVICES": "0,0"}, "CUDA_VISIBLE_DEVICES='0,0' hides"),
    ({"arch": CU128, "devices": []}, {}, "no CUDA device visible"),  # NVML sees it, CUDA does not (MIG, libcuda)
])
def test_a_cuda_build_that_cannot_use_the_gpu_fails(torch_venv: Path, monkeypatch, fake, env, reason) -> None:
    doc = fake_verify(torch_venv, monkeypatch, fake, **env)
    assert doc["ok"] is False and doc["cuda_available"] is False
    assert reason in failed(doc)["GPU available"]
    assert "cannot use it" in failed(doc)["GPU available"]


def test_without_a_gpu_on_the_machine_the_cpu_checks_pass(torch_venv: Path, monkeypatch) -> None:
    doc = fake_verify(torch_venv, monkeypatch, {"arch": CU128, "devices": []}, expect=())
    assert doc["ok"] is True
    gpu = next(c for c in doc["checks"] if c["name"] == "GPU available")
    assert gpu["detail"].startswith("not available (") and "checks ran on the CPU" in gpu["detail"]


def test_one_broken_device_does_not_stop_the_next(torch_venv: Path, monkeypatch) -> None:
    broken = dict(A100, fail="props")
    doc = fake_verify(torch_venv, monkeypatch, {"arch": CU128, "devices": [broken, RTX5090]})
    assert doc["ok"] is False
    assert [d["ok"] for d in doc["devices"]] == [False, True]
    assert "unspecified launch failure" in doc["devices"][0]["error"]
    passed = {c["name"] for c in doc["checks"] if c["ok"]}
    assert {"cuda:1: allocate", "cuda:1: matmul", "cuda:1: conv2d"} <= passed


def test_a_gpu_the_build_has_no_kernels_for_is_a_device_error(torch_venv: Path, monkeypatch) -> None:
    doc = fake_verify(torch_venv, monkeypatch, {"arch": CU126, "devices": [RTX5090]})
    assert doc["ok"] is False
    assert "NVIDIA GeForce RTX 5090 is sm_120; this build has sm_50" in doc["devices"][0]["error"]


def test_rocm_builds_name_gfx_and_miopen_and_skip_the_cuda_arch_rule(torch_venv: Path, monkeypatch) -> None:
    mi250 = {"name": "AMD Instinct MI250X", "major": 9, "minor": 0, "gcn": "gfx90a:sramecc+:xnack-"}
    doc = fake_verify(torch_venv, monkeypatch, {"hip": "6.2.41133", "arch": ["gfx90a", "gfx942"],
                                                "devices": [mi250]}, expect=("amd",))
    assert doc["ok"] is True, doc["checks"]
    assert doc["devices"][0]["capability"] == "gfx90a:sramecc+:xnack-" and doc["devices"][0]["error"] is None
    conv = next(c for c in doc["checks"] if c["name"] == "cuda:0: conv2d")
    assert "MIOpen" in conv["detail"] and "cuDNN" not in conv["detail"]


def test_cudnn_missing_is_said_in_words(torch_venv: Path, monkeypatch) -> None:
    doc = fake_verify(torch_venv, monkeypatch, {"arch": CU128, "devices": [A100], "cudnn": None})
    conv = next(c for c in doc["checks"] if c["name"] == "cuda:0: conv2d")
    assert "cuDNN not available" in conv["detail"] and "None" not in conv["detail"]


def test_a_hung_check_reports_its_real_time_and_the_group_is_killed(torch_venv: Path, monkeypatch) -> None:
    doc = fake_verify(torch_venv, monkeypatch, {"arch": CU128, "devices": [dict(A100, hang="matmul")]},
                      timeout=20)
    hung = doc["checks"][-1]
    assert hung["name"] == "cuda:0: matmul" and hung["ok"] is False
    assert hung["detail"].startswith("hung: killed after 20 s")
    assert 5 <= hung["seconds"] <= 25  # the time from its start to the kill, not 0.0


def test_verify_joins_devices_to_the_probe_by_uuid(torch_venv: Path, monkeypatch, run_cli, tmp_path) -> None:
    monkeypatch.setenv("PYTHONPATH", str(FAKE))
    monkeypatch.setenv("TORCHSETUP_FAKE_CUDA", json.dumps({"arch": CU128, "devices": [RTX5090, A100]}))
    from torchsetup.doctor_findings import join_devices
    from torchsetup.probe.model import Gpu

    probe_gpus = (Gpu(0, "NVIDIA A100-SXM4-80GB", "GPU-" + A100["uuid"], "8.0"),
                  Gpu(1, "NVIDIA GeForce RTX 5090", "GPU-" + RTX5090["uuid"], "12.0"))
    doc = verify_document(run_verify(str(torch_venv), 120, expect=("nvidia",)))
    joined = join_devices(doc["devices"], probe_gpus)
    assert [(f.code, f.message) for f in joined] == [
        ("device-map", "cuda:0 is GPU 1 (NVIDIA GeForce RTX 5090) by UUID"),
        ("device-map", "cuda:1 is GPU 0 (NVIDIA A100-SXM4-80GB) by UUID")]


# ------------------------------------------------------------------ the arch rule against torch's


def test_the_arch_rule_is_torchs_own_on_a_grid(torch_venv: Path) -> None:
    """Every code SM torch knows x every device capability from 3.0 to 13.9: our SASS rule and
    torch.cuda._code_compatible_with_device (read from the real torch 2.13 install) agree."""
    script = ("import json, torch.cuda as c\n"
              "codes = sorted(c.DEVICE_REQUIREMENT)\n"
              "devices = [m * 10 + n for m in range(3, 14) for n in range(10)]\n"
              "print(json.dumps({'codes': codes, 'grid': [[d, k, c._code_compatible_with_device(d, k)]"
              " for k in codes for d in devices],"
              " 'extract': [c._extract_arch_version(a)"
              " for a in ('sm_90a', 'sm_100f', 'sm_120', 'compute_90')]}))\n")
    out = subprocess.run([str(torch_venv), "-c", script], capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr
    torch = json.loads(out.stdout)
    assert {50, 53, 62, 72, 87, 101, 110, 121} <= set(torch["codes"])
    disagree = [(d, k, ok) for d, k, ok in torch["grid"] if cudarules.sass_runs_on(k, d) != ok]
    assert disagree == []
    assert [cudarules.arch_code(a)[1] for a in ("sm_90a", "sm_100f", "sm_120", "compute_90")] == torch["extract"]


def test_integrated_parts_suffixes_ptx_and_empty_lists() -> None:
    assert cudarules.coverage(["sm_80", "sm_86"], 8, 7) == ("none", None)  # Orin (8.7) runs no dGPU sm_8x
    assert cudarules.coverage(["sm_87"], 8, 7) == ("sass", "sm_87")
    assert cudarules.coverage(["sm_90a"], 9, 0) == ("sass", "sm_90")
    assert cudarules.coverage(["sm_90", "compute_90"], 12, 0) == ("ptx", "compute_90")  # JIT
    assert cudarules.coverage(["compute_90a"], 12, 0) == ("none", None)  # arch-specific PTX
    assert cudarules.coverage([], 8, 0) == ("unknown", None)  # a build that does not say


@pytest.mark.parametrize("value,parsed", [
    ("0,2", [0, 2]), ("1gpu2,2ampere", [1, 2]), ("0,0", []), ("-1,0", []), ("0,-1,1", [0]), ("", []),
    ("GPU-8b2d,GPU-3e7a", ["GPU-8b2d", "GPU-3e7a"]), ("GPU-8b2d,1", ["GPU-8b2d"]), ("MIG-1,MIG-1", []),
])
def test_cuda_visible_devices_is_parsed_as_torch_parses_it(value: str, parsed: list) -> None:
    assert cudarules.parse_visible_devices(value) == parsed


def test_a_rocm_build_is_checked_by_gfx_target(torch_venv: Path, monkeypatch) -> None:
    """A FAKE torch.cuda over HIP (tests/fake_cuda): gcnArchName carries feature suffixes; the base name
    must be in the build's own gfx list, else HIP's 'invalid device function'."""
    rocm_arch = ["gfx900", "gfx906", "gfx908", "gfx90a", "gfx942", "gfx1030", "gfx1100"]
    rx7900 = {"name": "AMD Radeon RX 7900 XTX", "major": 11, "minor": 0, "gcn": "gfx1100"}
    doc = fake_verify(torch_venv, monkeypatch, {"hip": "6.4.0", "arch": rocm_arch, "devices": [rx7900]},
                      expect=("amd",))
    assert doc["ok"] is True, doc["checks"]
    assert [(d["name"], d["capability"], d["ok"]) for d in doc["devices"]] == [
        ("AMD Radeon RX 7900 XTX", "gfx1100", True)]
    conv = next(c for c in doc["checks"] if c["name"] == "cuda:0: conv2d")
    assert conv["detail"].startswith("conv2d via MIOpen")
    rx6700 = {"name": "AMD Radeon RX 6700 XT", "major": 10, "minor": 3, "gcn": "gfx1031:xnack-"}
    bad = fake_verify(torch_venv, monkeypatch, {"hip": "6.4.0", "arch": rocm_arch, "devices": [rx6700]},
                      expect=("amd",))
    assert bad["ok"] is False
    has = ", ".join(rocm_arch)
    assert bad["devices"][0]["error"] == (f"AMD Radeon RX 6700 XT is gfx1031; this build has {has} "
                                          "(expect 'HIP error: invalid device function')")


def test_an_xpu_build_is_checked_on_its_xpu_devices(torch_venv: Path, monkeypatch) -> None:
    """A FAKE torch.xpu (tests/fake_cuda) on the real CPU torch: the checks run on xpu:0 against float64."""
    arc = {"name": "Intel(R) Arc(TM) B580 Graphics"}
    doc = fake_verify(torch_venv, monkeypatch, {"xpu": {"devices": [arc]}}, expect=("intel",))
    assert doc["ok"] is True, doc["checks"]
    assert [c["name"] for c in doc["checks"]] == ["import torch", "GPU available", "xpu:0: allocate",
                                                  "xpu:0: matmul", "xpu:0: conv2d"]
    assert [(d["index"], d["name"]) for d in doc["devices"]] == [(0, "Intel(R) Arc(TM) B580 Graphics")]
    none = fake_verify(torch_venv, monkeypatch, {"xpu": {"devices": []}}, expect=("intel",))
    assert none["ok"] is False
    assert failed(none)["GPU available"].startswith("RuntimeError: this machine has an Intel GPU, but this XPU "
                                                    "build")
    elsewhere = fake_verify(torch_venv, monkeypatch, {"xpu": {"devices": []}}, expect=())
    assert elsewhere["ok"] is True and "conv2d" in [c["name"] for c in elsewhere["checks"]]


def test_xformers_asked_for_with_with_runs_one_attention_call_on_the_gpu(torch_venv: Path, monkeypatch,
                                                                        tmp_path: Path) -> None:
    """After `install --with xformers`: its import, then one memory_efficient_attention call on cuda:0 (a
    FAKE torch.cuda over the real CPU torch; a stand-in xformers whose operator is missing, as a wheel
    built for another torch says it)."""
    from torchsetup.dependents import Dependent
    from torchsetup.verify import import_dependents

    package = tmp_path / "site" / "xformers"
    package.mkdir(parents=True)
    (package / "__init__.py").write_text("")
    (package / "ops.py").write_text("def memory_efficient_attention(q, k, v):\n    return q\n")
    monkeypatch.setenv("PYTHONPATH", f"{FAKE}{os.pathsep}{tmp_path / 'site'}")
    monkeypatch.setenv("TORCHSETUP_FAKE_CUDA", json.dumps({"arch": CU128, "devices": [A100]}))
    xformers = (Dependent("xformers", "0.0.35", ("torch>=2.10",), False, None, ("xformers",)),)
    ok = import_dependents(str(torch_venv), xformers, 120, frozenset({"xformers"}))
    assert [(c["name"], c["ok"], c["detail"]) for c in ok] == [
        ("import xformers (xformers)", True, "memory_efficient_attention ran on cuda:0")]
    (package / "ops.py").write_text("def memory_efficient_attention(q, k, v):\n    raise NotImplementedError("
                                    "'No operator found for `memory_efficient_attention_forward` with inputs')\n")
    bad = import_dependents(str(torch_venv), xformers, 120, frozenset({"xformers"}))
    assert bad[0]["ok"] is False
    assert "No operator found for `memory_efficient_attention_forward`" in bad[0]["detail"]
    assert import_dependents(str(torch_venv), xformers, 120) == []  # not asked for, pure Python: not imported
