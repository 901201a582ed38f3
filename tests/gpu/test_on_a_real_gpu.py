"""Checks only a machine with an NVIDIA GPU can make, run there as one command:

    PYTHONPATH=. python -m pytest -m gpu -x

with that machine's own torch. The probe and verify documents are written to $OUT when it is set,
to be committed under tests/fixtures/recorded/ with their provenance. Skipped elsewhere.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from torchsetup.probe.pci import gpu_kinds

HAS_GPU = shutil.which("nvidia-smi") is not None and "nvidia" in gpu_kinds()
pytestmark = [pytest.mark.gpu, pytest.mark.skipif(not HAS_GPU, reason="no NVIDIA GPU visible on this machine")]
OUT = os.environ.get("OUT")


def record(name: str, document: dict) -> None:
    if OUT:
        Path(OUT, name).write_text(json.dumps(document, indent=1) + "\n")


def smi() -> list[dict[str, str]]:
    fields = ["index", "uuid", "name", "compute_cap", "driver_version"]
    out = subprocess.run(["nvidia-smi", f"--query-gpu={','.join(fields)}", "--format=csv,noheader"],
                         capture_output=True, text=True, timeout=60, check=True).stdout
    return [dict(zip(fields, (c.strip() for c in line.split(",")), strict=True))
            for line in out.splitlines() if line.strip()]


@pytest.fixture(scope="module")
def probe(run_cli_module) -> dict:
    proc = run_cli_module("probe", "--json", "--python", sys.executable)
    assert proc.returncode == 0, proc.stderr
    document = json.loads(proc.stdout)
    record("probe.json", document)
    return document


def test_probe_equals_nvidia_smi(probe: dict) -> None:
    rows = smi()
    nv = probe["nvidia"]
    assert nv["source"] == "nvml" and nv["error"] is None
    assert nv["driver_version"] == rows[0]["driver_version"]
    assert [(g["index"], g["uuid"], g["compute_capability"], g["name"]) for g in nv["gpus"]] == [
        (int(r["index"]), r["uuid"], r["compute_cap"], r["name"]) for r in rows]
    assert probe["builds"]["torch"]["cuda"] is not None


def test_verify_passes_and_joins_the_probe_by_uuid(probe: dict, run_cli_module) -> None:
    proc = run_cli_module("verify", "--json", "--python", sys.executable, "--timeout", "300", timeout=400)
    document = json.loads(proc.stdout)
    record("verify.json", document)
    assert proc.returncode == 0 and document["ok"] is True, document["checks"]
    assert document["cuda_available"] is True
    uuids = {g["uuid"] for g in probe["nvidia"]["gpus"]}
    assert document["devices"] and all(d["uuid"] in uuids and d["ok"] for d in document["devices"])


def test_verify_with_every_gpu_hidden_fails_with_the_reason(run_cli_module) -> None:
    env = dict(os.environ, CUDA_VISIBLE_DEVICES="")
    proc = run_cli_module("verify", "--json", "--python", sys.executable, env=env)
    document = json.loads(proc.stdout)
    record("verify-hidden.json", document)
    assert proc.returncode == 1 and document["ok"] is False
    gpu = next(c for c in document["checks"] if c["name"] == "GPU available")
    assert "CUDA_VISIBLE_DEVICES='' hides all devices" in gpu["detail"]


def test_doctor_on_this_torch_has_no_error(run_cli_module) -> None:
    proc = run_cli_module("doctor", "--json", "--python", sys.executable, "--verify", timeout=400)
    document = json.loads(proc.stdout)
    record("doctor.json", document)
    errors = [f for f in document["findings"] if f["severity"] == "error"]
    assert errors == [] and proc.returncode == 0


def test_resolve_plans_a_build_with_kernels_for_this_gpu(probe: dict, run_cli_module) -> None:
    from torchsetup import cuda
    from torchsetup.matrix import load_matrix

    proc = run_cli_module("resolve", "--json", "--python", sys.executable)
    document = json.loads(proc.stdout)
    record("resolve.json", document)
    assert proc.returncode == 0, proc.stderr
    plan = document["plan"]
    arch = cuda.arch_list_for(load_matrix(), plan["torch"], plan["variant"], "linux-x86_64")
    assert arch is not None
    for gpu in probe["nvidia"]["gpus"]:
        major, minor = (int(x) for x in gpu["compute_capability"].split("."))
        assert cuda.covers(arch, (major, minor)).ok
