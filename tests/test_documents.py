"""The JSON documents against the outside contract: schema ids and keys, written out here by hand
from contract.md (a rename in torchsetup/documents.py must fail this file), built from real stage
results (a real resolve of a probe file, a real doctor judgement, the real CLI)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from conftest import REPO

from torchsetup import documents
from torchsetup.doctor import examine
from torchsetup.install import InstallResult
from torchsetup.kinds import InstallAction
from torchsetup.matrix import load_matrix
from torchsetup.probe.model import load_probe_file, machine_from_document
from torchsetup.resolve import Request, resolve
from torchsetup.verify import VerifyReport

EXAMPLE = REPO / "examples" / "rtx5090-570.json"
MATRIX = load_matrix()

# contract.md, copied by hand: the ids and the keys other tools read
CONTRACT_IDS = {"PROBE": "torchsetup.probe/1", "RESOLVE": "torchsetup.resolve/1",
                "INSTALL": "torchsetup.install/1", "DOCTOR": "torchsetup.doctor/1",
                "VERIFY": "torchsetup.verify/1", "PROJECT": "torchsetup.project/1"}
PROBE_KEYS = {"schema", "os", "python", "nvidia", "cuda_toolkit", "installed", "builds", "install_problems",
              "dependents", "amd", "intel", "warnings"}
DEPENDENT_KEYS = {"name", "version", "requires", "compiled", "built_for"}
OS_KEYS = {"system", "machine", "libc", "wsl", "container", "jetson"}
NVIDIA_KEYS = {"driver_version", "cuda_driver_version", "source", "gpus", "error"}
GPU_KEYS = {"index", "name", "uuid", "compute_capability", "memory_total_mib", "mig"}
BUILD_KEYS = {"version", "cuda", "hip", "installer", "location"}
RESOLVE_KEYS = {"schema", "ok", "plan", "rejected", "error"}
PLAN_KEYS = {"torch", "torchvision", "torchaudio", "variant", "index_url", "command", "notes", "held_by", "with"}
INSTALL_KEYS = {"schema", "ok", "action", "plan", "restored", "not_restored", "verify", "error"}
DOCTOR_KEYS = {"schema", "ok", "probe", "findings"}
FINDING_KEYS = {"severity", "code", "message", "fix"}
VERIFY_KEYS = {"schema", "ok", "torch", "cuda_available", "devices", "checks"}
# what torchsetup adds (README), and nothing else
ADDED = {"install": {"recovered"}, "verify": {"cuda_unavailable_reason", "cuda", "hip"}}


def test_schema_ids_are_the_contracts() -> None:
    assert {name: getattr(documents, name) for name in CONTRACT_IDS} == CONTRACT_IDS
    assert documents.INSTALL_ACTIONS == ("dry-run", "installed", "already-installed", "declined", "failed")
    assert tuple(action.value for action in InstallAction) == documents.INSTALL_ACTIONS


def test_probe_document_keys_and_a_round_trip() -> None:
    machine = load_probe_file(str(REPO / "examples" / "rtx5090-with-2.6.0.json"))
    doc = documents.probe_document(machine)
    assert set(doc) <= PROBE_KEYS and {"schema", "os", "nvidia", "warnings"} <= set(doc)
    assert set(doc["os"]) == OS_KEYS and set(doc["nvidia"]) == NVIDIA_KEYS
    assert all(set(g) == GPU_KEYS for g in doc["nvidia"]["gpus"]) and doc["nvidia"]["gpus"]
    for build in (doc.get("builds") or {}).values():
        assert build is None or set(build) >= BUILD_KEYS
    assert documents.probe_document(machine_from_document(doc, "again")) == doc  # the reader reads the writer


def test_resolve_install_and_doctor_documents_from_real_results() -> None:
    machine = load_probe_file(str(EXAMPLE))
    res = resolve([machine], MATRIX, Request(), ["rtx5090-570.json"])
    doc = documents.resolve_document(res)
    assert set(doc) == RESOLVE_KEYS and set(doc["plan"]) == PLAN_KEYS and doc["ok"] is True
    assert all(set(r) == {"torch", "variant", "reason"} for r in doc["rejected"]) and doc["rejected"]
    assert res.plan is not None
    install = documents.install_document(InstallResult(True, InstallAction.DRY_RUN, res.plan))
    assert set(install) == INSTALL_KEYS | ADDED["install"] and install["plan"] == doc["plan"]
    assert install["plan"]["command"] == list(res.plan.command)  # argv, exactly what would run
    assert json.loads(json.dumps(install))["action"] == "dry-run"  # the contract's word, as JSON writes it
    with pytest.raises(ValueError, match="'upgraded' is not a valid InstallAction"):
        InstallAction("upgraded")  # not a contract action: no such member
    failed = documents.install_document(None, error="no build fits")
    assert set(failed) == INSTALL_KEYS | ADDED["install"] and failed["action"] == "failed" and not failed["ok"]
    findings = examine(load_probe_file(str(REPO / "examples" / "rtx5090-with-2.6.0.json")), MATRIX, "python",
                       "rtx5090-with-2.6.0.json", "posix")
    doctor = documents.doctor_document(machine, findings)
    assert set(doctor) == DOCTOR_KEYS and doctor["ok"] is False  # sm_120 is not in 2.6.0+cu126
    assert all(set(f) == FINDING_KEYS for f in doctor["findings"])
    with_verify = documents.doctor_document(machine, [], {"ok": False})
    assert with_verify["ok"] is False and with_verify["verify"] == {"ok": False}


def test_verify_document_keys() -> None:
    report = VerifyReport(torch="2.13.0+cpu", checks=[{"name": "import torch", "ok": True, "detail": None,
                                                       "seconds": 1.0}])
    doc = documents.verify_document(report)
    assert set(doc) == VERIFY_KEYS | ADDED["verify"] and doc["ok"] is True and doc["schema"] == documents.VERIFY


def test_every_json_command_prints_one_document_with_its_schema(run_cli, tmp_path: Path) -> None:
    """What other tools actually read: the CLI's stdout, one document, the contract's id."""
    cases = {
        ("probe", "--json", "--probe-file", str(EXAMPLE)): documents.PROBE,
        ("resolve", "--json", "--probe-file", str(EXAMPLE)): documents.RESOLVE,
        ("install", "--json", "--dry-run", "--probe-file", str(EXAMPLE)): documents.INSTALL,
        ("doctor", "--json", "--probe-file", str(EXAMPLE)): documents.DOCTOR,
        ("matrix", "show", "--json", "--torch", "==2.5.1"): documents.MATRIX,
    }
    for argv, schema in cases.items():
        proc = run_cli(*argv)
        assert proc.returncode in (0, 1), (argv, proc.stderr)
        assert json.loads(proc.stdout)["schema"] == schema, argv


def test_project_document_keys(run_cli, tmp_path: Path) -> None:
    (tmp_path / "pyproject.toml").write_text('[project]\nname = "a"\nversion = "1"\ndependencies = ["torch"]\n')
    probe = str(Path(__file__).parent / "fixtures" / "probes" / "pascal-node.json")
    proc = run_cli("project", "--project", str(tmp_path), "--probe-file", probe, "--json")
    doc = json.loads(proc.stdout)
    assert list(doc) == ["schema", "ok", "file", "tool", "classes", "changed", "diff", "error", "written", "notes"]
    assert (doc["schema"], doc["ok"], doc["tool"], doc["changed"], doc["written"]) == (
        "torchsetup.project/1", True, "uv", True, False)
    assert [list(c) for c in doc["classes"]] == [["name", "machines", "marker", "extra", "platform", "plan"]]
    assert list(doc["classes"][0]["plan"]) == ["torch", "torchvision", "torchaudio", "variant", "index_url",
                                                "command", "notes", "held_by", "with"]
    jetson = str(Path(__file__).parent / "fixtures" / "probes" / "jetson-orin.json")
    failed = run_cli("project", "--project", str(tmp_path), "--probe-file", probe, "--probe-file", jetson,
                     "--json")
    assert failed.returncode == 3
    bad = json.loads(failed.stdout)
    assert (bad["ok"], bad["classes"], bad["changed"]) == (False, [], False)
    assert bad["error"].startswith("jetson-orin.json:")
