"""doctor over installed situations taken from real reports, each from a probe document."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from torchsetup.doctor import diagnose
from torchsetup.matrix import load_matrix
from torchsetup.probe.model import machine_from_document

PROBES = Path(__file__).parent / "fixtures" / "probes"
MATRIX = load_matrix()


def probe(name: str, torch: str | None = None, torchvision: str | None = None,
          torchaudio: str | None = None, **changes: Any) -> dict[str, Any]:
    doc = json.loads((PROBES / f"{name}.json").read_text())
    doc["installed"] = {"torch": torch, "torchvision": torchvision, "torchaudio": torchaudio}
    for path, value in changes.items():
        section, key = path.split("__")
        if doc.get(section) is None:
            doc[section] = {}
        doc[section][key] = value
    return doc


# (probe document, code, severity, facts the message must name)
CASES = [
    (probe("no-gpu"), "torch-not-installed", "error", ["not installed"]),
    (probe("rtx5090-570", "2.11.0+cpu", "0.26.0+cpu"), "cpu-build-on-gpu-machine", "error",
     ["2.11.0+cpu is a CPU-only build", "NVIDIA GeForce RTX 5090"]),
    (probe("t4-470", "2.6.0+cu126", "0.21.0+cu126"), "driver-too-old-for-build", "error",
     ["2.6.0+cu126 needs driver ≥ 525.60.13", "470.182.03", "found version 11040"]),
    (probe("rtx5090-570", "2.6.0+cu126", "0.21.0+cu126"), "gpu-arch-not-in-build", "error",
     ["NVIDIA GeForce RTX 5090 is sm_120; 2.6.0+cu126 has sm_50..sm_90", "no kernel image"]),
    (probe("gtx1080ti-575", "2.6.0+cu126", "0.20.1+cu124"), "companion-mismatch", "error",
     ["torchvision 0.20.1+cu124 is built for torch 2.5.1", "pairs with torchvision 0.21.0",
      "cu124 build; torch is cu126", "torchvision::nms"]),
    (probe("no-gpu", "2.13.0+cpu", "0.28.0"), "companion-mismatch", "error",
     ["torchvision 0.28.0 is a cu130 build (the default build on PyPI for linux-x86_64); torch is cpu"]),
    (probe("no-gpu", "2.5.1+cpu", python__version="3.16.0"), "python-unsupported", "error",
     ["no torch release in the matrix has a wheel for CPython 3.16"]),
    (probe("gtx1080ti-575", "2.5.1+cu124", cuda_toolkit__version="13.0"),
     "toolkit-mismatch-for-extensions", "warning", ["toolkit is 13.0", "CUDA 12.4"]),
    (probe("no-gpu", "2.5.1+cu124", nvidia__driver_version="550.54.14", nvidia__source="procfs",
           nvidia__error="driver/library version mismatch: reboot"), "gpu-not-visible", "error",
     ["version mismatch"]),
    (probe("container-no-gpu", "2.5.1+cu124"), "gpu-not-visible", "warning", ["/dev/nvidia*"]),
    (probe("no-gpu", "2.99.0"), "unknown-build", "warning", ["2.99.0 is not in the matrix"]),
    (probe("no-gpu", "2.5.1+cu999"), "unknown-build", "warning", ["no cu999 build of 2.5.1"]),
]


@pytest.mark.parametrize("doc,code,severity,facts", CASES)
def test_findings(doc, code: str, severity: str, facts: list[str]) -> None:
    findings = diagnose(machine_from_document(doc, "case"), MATRIX)
    match = [f for f in findings if f.code == code]
    assert match, [f.code for f in findings]
    assert match[0].severity == severity
    for fact in facts:
        assert fact in match[0].message, match[0].message


def test_healthy_install_has_no_error() -> None:
    doc = probe("rtx5090-570", "2.11.0+cu128", "0.26.0+cu128", "2.11.0+cu128")
    findings = diagnose(machine_from_document(doc, "ok"), MATRIX)
    assert [f for f in findings if f.severity == "error"] == []


def test_torchaudio_2_11_with_a_later_torch_is_accepted() -> None:
    doc = probe("gtx1080ti-575", "2.14.1+cu126", "0.29.1+cu126", "2.11.0+cu126")
    codes = {f.code for f in diagnose(machine_from_document(doc, "later"), MATRIX)}
    assert "companion-mismatch" not in codes


def test_cli_doctor_carries_the_fix_from_the_resolver(run_cli, tmp_path: Path) -> None:
    f = tmp_path / "p.json"
    f.write_text(json.dumps(probe("rtx5090-570", "2.6.0+cu126", "0.21.0+cu126")))
    proc = run_cli("doctor", "--json", "--probe-file", str(f))
    assert proc.returncode == 1, proc.stderr
    doc = json.loads(proc.stdout)
    assert set(doc) == {"schema", "ok", "probe", "findings"} and doc["schema"] == "torchsetup.doctor/1"
    arch = next(x for x in doc["findings"] if x["code"] == "gpu-arch-not-in-build")
    assert set(arch) == {"severity", "code", "message", "fix"}
    assert arch["fix"] == ("/usr/bin/python3 -m pip install torch==2.11.0+cu128 torchvision==0.26.0+cu128 "
                           "torchaudio==2.11.0+cu128 --extra-index-url https://download.pytorch.org/whl/cu128")
    human = run_cli("doctor", "--probe-file", str(f))
    lines = human.stdout.splitlines()
    assert human.returncode == 1 and "problem(s) with this torch install" in lines[0]
    assert lines[-1].startswith("/usr/bin/python3 -m pip install torch==2.11.0+cu128")


def test_cli_doctor_healthy_is_exit_0(run_cli, tmp_path: Path) -> None:
    f = tmp_path / "p.json"
    f.write_text(json.dumps(probe("rtx5090-570", "2.11.0+cu128", "0.26.0+cu128", "2.11.0+cu128")))
    proc = run_cli("doctor", "--probe-file", str(f))
    assert proc.returncode == 0 and proc.stdout.startswith("healthy")
