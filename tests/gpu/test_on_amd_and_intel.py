"""Checks only a machine with an AMD GPU (ROCm torch) or an Intel GPU (XPU torch) can make, run there
as one command with that machine's own torch:

    PYTHONPATH=. python -m pytest -m gpu -x tests/gpu/test_on_amd_and_intel.py

The probe and verify documents are written to $OUT when it is set, to be committed under
tests/fixtures/recorded/ with their provenance. Skipped elsewhere (marked by vendor).
"""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path

import pytest

from torchsetup.probe.amd import probe_amd
from torchsetup.probe.intel import family_of, probe_intel

AMD = probe_amd(Path("/"), os.environ)
INTEL = probe_intel(Path("/"))
HAS_AMD = AMD.source == "kfd" and bool(AMD.gpus)
HAS_INTEL = any(family_of(g.device_id) and g.driver in ("xe", "i915") for g in INTEL.gpus)
OUT = os.environ.get("OUT")


def record(name: str, document: dict) -> None:
    if OUT:
        Path(OUT, name).write_text(json.dumps(document, indent=1) + "\n")


def _torch_facts() -> dict:
    import subprocess

    script = ("import json, torch; v = torch.version; print(json.dumps({'hip': getattr(v, 'hip', None), "
              "'xpu': getattr(v, 'xpu', None), 'arch': torch.cuda.get_arch_list() if getattr(v, 'hip', None) "
              "else [], 'gcn': [torch.cuda.get_device_properties(i).gcnArchName.split(':')[0] "
              "for i in range(torch.cuda.device_count())] if getattr(v, 'hip', None) else []}))")
    out = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=300, check=True)
    return json.loads(out.stdout)


@pytest.mark.gpu
@pytest.mark.amd
@pytest.mark.skipif(not HAS_AMD, reason="no AMD GPU in the KFD topology of this machine")
def test_the_census_finds_what_rocm_torch_finds(run_cli_module) -> None:
    proc = run_cli_module("probe", "--json", "--python", sys.executable)
    document = json.loads(proc.stdout)
    record("probe-amd.json", document)
    facts = _torch_facts()
    assert facts["hip"], "this check needs a ROCm build of torch"
    override = document["amd"]["hsa_override_gfx_version"]
    if not override:
        assert sorted(g["gfx"] for g in document["amd"]["gpus"]) == sorted(facts["gcn"])
    verify = run_cli_module("verify", "--json", "--python", sys.executable, "--timeout", "300", timeout=400)
    doc = json.loads(verify.stdout)
    record("verify-amd.json", doc)
    assert verify.returncode == 0 and doc["ok"] is True, doc["checks"]


@pytest.mark.gpu
@pytest.mark.intel
@pytest.mark.skipif(not HAS_INTEL, reason="no Intel GPU the XPU wheels are built for on this machine")
def test_verify_passes_on_the_xpu_build(run_cli_module) -> None:
    facts = _torch_facts()
    assert facts["xpu"], "this check needs an XPU build of torch"
    proc = run_cli_module("verify", "--json", "--python", sys.executable, "--timeout", "300", timeout=400)
    doc = json.loads(proc.stdout)
    record("verify-intel.json", doc)
    assert proc.returncode == 0 and doc["ok"] is True, doc["checks"]
    assert [c["name"] for c in doc["checks"] if c["name"].startswith("xpu:0")] == [
        "xpu:0: allocate", "xpu:0: matmul", "xpu:0: conv2d"]
