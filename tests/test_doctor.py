"""doctor over installed situations taken from real reports, each from a probe document.

Every case names the findings it must give and asserts that no other error (nor an unexpected
warning) comes with them.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from torchsetup import documents
from torchsetup.doctor import diagnose, examine
from torchsetup.matrix import load_matrix
from torchsetup.probe.model import machine_from_document
from torchsetup.resolve import Request, resolve
from torchsetup.visible import select_gpus

PROBES = Path(__file__).parent / "fixtures" / "probes"
MATRIX = load_matrix()


def probe(name: str, torch: str | None = None, torchvision: str | None = None,
          torchaudio: str | None = None, builds: dict[str, Any] | None = None,
          problems: list[str] | None = None, **changes: Any) -> dict[str, Any]:
    """A recorded machine with an install on it. Without `builds`, a torch with a local version gets
    what a current probe reads from its torch/version.py (+cu126: cuda '12.6'; +cpu: None), and a
    plain version none (as from an older probe document)."""
    doc = json.loads((PROBES / f"{name}.json").read_text())
    doc["installed"] = {"torch": torch, "torchvision": torchvision, "torchaudio": torchaudio}
    doc["install_problems"] = problems or []
    doc["dependents"] = []  # a current probe reads them: none here
    local = torch.partition("+")[2] if torch else ""
    if builds is None and local.startswith(("cu", "cpu")):
        cuda = f"{local[2:-1]}.{local[-1]}" if local.startswith("cu") and local[2:].isdigit() else None
        builds = {"torch": torch_build(torch, cuda)} if local == "cpu" or cuda else None  # type: ignore[arg-type]
    if builds is not None:
        doc["builds"] = {n: builds.get(n) for n in ("torch", "torchvision", "torchaudio")}
    for path, value in changes.items():
        section, key = path.split("__")
        if doc.get(section) is None:
            doc[section] = {}
        doc[section][key] = value
    return doc


def torch_build(version: str, cuda: str | None, **extra: Any) -> dict[str, Any]:
    """What the probe reads out of an installed torch's own torch/version.py."""
    return {"version": version, "cuda": cuda, "hip": None, "installer": "pip", "location": "/site",
            "git_version": "0" * 40, "dist_version": version.split("+")[0], "version_file": True,
            "cuda_known": True, **extra}


RTX3070 = {"index": 0, "name": "NVIDIA GeForce RTX 3070", "uuid": None, "compute_capability": "8.6",
           "memory_total_mib": 8192, "mig": False}
NO_CC = {"index": 0, "name": "NVIDIA Mystery GPU", "uuid": None, "compute_capability": None,
         "memory_total_mib": None, "mig": None}
H100 = {"index": 0, "name": "NVIDIA H100 PCIe", "uuid": None, "compute_capability": "9.0",
        "memory_total_mib": 81559, "mig": False}

# (probe document, {code: (severity, [facts])}) — exactly these errors and warnings, no others
CASES = [
    ("not installed", probe("no-gpu"), {"torch-not-installed": ("error", ["not installed"])}),
    ("cpu build on a GPU", probe("rtx5090-570", "2.11.0+cpu", "0.26.0+cpu"),
     {"cpu-build-on-gpu-machine": ("error", ["2.11.0+cpu is a CPU-only build", "NVIDIA GeForce RTX 5090"])}),
    ("driver too old", probe("t4-470", "2.6.0+cu126", "0.21.0+cu126"),
     {"driver-too-old-for-build": ("error", ["cu126 needs driver ≥ 525.60.13", "470.182.03",
                                             "found version 11040"])}),
    ("arch missing", probe("rtx5090-570", "2.6.0+cu126", "0.21.0+cu126"),
     {"gpu-arch-not-in-build": ("error", ["NVIDIA GeForce RTX 5090 is sm_120; 2.6.0+cu126 has sm_50..sm_90",
                                          "no kernel image"])}),
    ("wrong torchvision", probe("gtx1080ti-575", "2.6.0+cu126", "0.20.1+cu124"),
     {"companion-mismatch": ("error", ["torchvision 0.20.1+cu124 is built for torch 2.5.1",
                                       "pairs with torchvision 0.21.0", "cu124 build; torch is cu126",
                                       "torchvision::nms"])}),
    ("+cpu torch, plain torchvision, no driver", probe("no-gpu", "2.13.0+cpu", "0.28.0"),
     {"companion-mismatch": ("error", ["torchvision 0.28.0 is a cu130 build (the default build on PyPI for "
                                       "linux-x86_64); torch is cpu"])}),
    ("python nobody ships", probe("no-gpu", "2.5.1+cpu", python__version="3.16.0"),
     {"python-unsupported": ("error", ["no torch release in the matrix has a wheel for CPython 3.16"])}),
    ("toolkit for extensions", probe("gtx1080ti-575", "2.5.1+cu124", cuda_toolkit__version="13.0"),
     {"toolkit-mismatch-for-extensions": ("warning", ["toolkit 13.0 cannot build extensions", "CUDA 12"])}),
    ("driver/library mismatch", probe("no-gpu", "2.5.1+cu124", nvidia__driver_version="550.54.14",
                                      nvidia__source="procfs",
                                      nvidia__error="driver/library version mismatch: reboot"),
     {"gpu-not-visible": ("error", ["version mismatch"])}),
    ("container without devices", probe("container-no-gpu", "2.5.1+cu124"),
     {"gpu-not-visible": ("warning", ["/dev/nvidia*"]),
      "cuda-build-without-gpu": ("warning", ["2.5.1+cu124 (cu124", "no NVIDIA GPU is visible", "/dev/nvidia*"])}),
    ("a release nobody knows", probe("no-gpu", "2.99.0"),
     {"not-checked": ("warning", ["2.99.0 is not in the matrix", "which build torch 2.99.0 is",
                                  "what the installed torch is"])}),
    ("a variant nobody knows", probe("no-gpu", "2.5.1+cu999"),
     {"not-checked": ("warning", ["the matrix knows no cu999 build of 2.5.1"]),
      "cuda-build-without-gpu": ("warning", [])}),
    # the drifted copies: WSL minimums, PTX-only coverage, a GPU without a capability
    ("WSL uses Windows' minimum", probe("wsl2-4090", "2.5.1+cu121", "0.20.1+cu121",
                                        nvidia__driver_version="527.41", nvidia__cuda_driver_version="12.0"),
     {"driver-too-old-for-build": ("error", ["cu121 needs driver ≥ 528.33", "527.41"])}),
    ("PTX only, driver cannot JIT", probe("no-gpu", "1.9.0+cu111", os__system="Windows", os__machine="AMD64",
                                          os__libc=None, python__version="3.9.13", nvidia__driver_version="452.39",
                                          nvidia__cuda_driver_version="11.0", nvidia__source="nvml",
                                          nvidia__gpus=[H100], nvidia__error=None),
     {"driver-too-old-for-build": ("error", ["sm_90) would run 1.9.0+cu111 only through compute_37 PTX JIT",
                                             "CUDA ≥ 11.1"])}),
    ("no capability reported", probe("gtx1080ti-575", "2.5.1+cu124", nvidia__gpus=[NO_CC]),
     {"not-checked": ("warning", ["GPU 0 (NVIDIA Mystery GPU), which reported no compute capability"])}),
    # the checks a missing table used to turn into "healthy"
    ("1.7.1 on an RTX 3070", probe("gtx1080ti-575", "1.7.1", python__version="3.8.10", nvidia__gpus=[RTX3070]),
     {"gpu-arch-not-in-build": ("error", ["NVIDIA GeForce RTX 3070 is sm_86; 1.7.1+cu102 has sm_37..sm_75"]),
      "not-checked": ("warning", ["what the installed torch is", "judged from PyPI's build of 1.7.1"])}),
    # faults that hold whatever the probe lacks
    ("470 driver, no GPU listed, cu121", probe("no-gpu", "2.1.0+cu121", nvidia__driver_version="470.182.03",
                                               nvidia__source="procfs", nvidia__gpus=[],
                                               nvidia__error="nvidia-smi answered but lists no GPU"),
     {"driver-too-old-for-build": ("error", ["cu121 needs driver ≥ 525.60.13", "470.182.03"]),
      "gpu-not-visible": ("error", ["lists no GPU"])}),
    ("ROCm build on NVIDIA", probe("rtx5090-570", "2.5.1+rocm6.2",
                                   builds={"torch": torch_build("2.5.1+rocm6.2", None, hip="6.2.41133")}),
     {"rocm-build-on-nvidia": ("error", ["ROCm build for AMD GPUs", "NVIDIA GeForce RTX 5090"])}),
    # what version strings cannot tell
    ("plain 2.8.0 said CUDA by its version.py", probe("rtx5090-570", "2.8.0", "0.23.0",
                                                      builds={"torch": torch_build("2.8.0+cu128", "12.8")}), {}),
    ("an old CPU wheel without +cpu",
     probe("gtx1080ti-575", "2.5.1", builds={"torch": torch_build("2.5.1", None)}),
     {"cpu-build-on-gpu-machine": ("error", ["2.5.1 is a CPU-only build"])}),
    ("a source build", probe("h100-580", "2.6.0a0+git1a2b3c4",
                             builds={"torch": torch_build("2.6.0a0+git1a2b3c4", "12.6", installer="other")}),
     {"source-build": ("info", ["built from source"]),
      "not-checked": ("warning", ["no GPU architecture list is known for 2.6.0a0+cu126",
                                  "2.6.0a0+git1a2b3c4 is not in the matrix"])}),
    ("a conda build", probe("h100-580", "2.1.0", builds={"torch": torch_build(
        "2.1.0", "12.1", installer="conda", conda_build="py3.11_cuda12.1_cudnn8.9.2_0", conda_channel="pytorch")},
        python__version="3.11.7"),
     {"conda-build": ("info", ["conda (pytorch, build py3.11_cuda12.1_cudnn8.9.2_0)"]),
      "not-checked": ("warning", ["no GPU architecture list is known for 2.1.0+cu121"])}),
    ("two torch installs", probe("no-gpu", "2.13.0+cpu", problems=[
        "duplicate-install: 2 torch installs on sys.path (torch 2.13.0+cpu in /a; torch 2.5.1 in /b)"]),
     {"duplicate-install": ("error", ["2 torch installs"])}),
    ("pip interrupted", probe("no-gpu", "2.13.0+cpu", problems=[
        "interrupted-install: /site/~orch-2.13.0+cpu.dist-info was left by an interrupted pip run"]),
     {"interrupted-install": ("error", ["~orch"])}),
    ("conda and pip", probe("no-gpu", "2.13.0+cpu", problems=["conda-pip-mix: torch 2.13.0+cpu was installed by "
                                                              "pip over conda's pytorch 2.1.0"]),
     {"conda-pip-mix": ("warning", ["over conda's pytorch"])}),
]


@pytest.mark.parametrize("doc,expected", [c[1:] for c in CASES], ids=[c[0] for c in CASES])
def test_findings(doc: dict[str, Any], expected: dict[str, tuple[str, list[str]]]) -> None:
    findings = diagnose(machine_from_document(doc, "case"), MATRIX)
    for code, (severity, facts) in expected.items():
        match = [f for f in findings if f.code == code]
        assert match, [(f.code, f.message) for f in findings]
        assert {f.severity for f in match} == {severity}
        text = " | ".join(f.message for f in match)
        for fact in facts:
            assert fact in text, text
    unexpected = [(f.code, f.message) for f in findings if f.severity in ("error", "warning")
                  and f.code not in expected]
    assert unexpected == []


def test_a_document_without_builds_says_what_it_did_not_check() -> None:
    doc = probe("rtx5090-570", "2.11.0+cu128", "0.26.0+cu128", "2.11.0+cu128")
    del doc["builds"], doc["install_problems"]
    findings = diagnose(machine_from_document(doc, "old"), MATRIX)
    assert [f for f in findings if f.severity == "error"] == []
    assert {f.message.split(" (")[0] for f in findings if f.code == "not-checked"} == {
        "not checked: what the installed torch is", "not checked: duplicate installs, pip's leftovers and "
        "conda/pip mixes"}


def test_healthy_install_has_no_error_and_no_warning() -> None:
    doc = probe("rtx5090-570", "2.11.0+cu128", "0.26.0+cu128", "2.11.0+cu128",
                builds={"torch": torch_build("2.11.0+cu128", "12.8")})
    findings = diagnose(machine_from_document(doc, "ok"), MATRIX)
    assert [f for f in findings if f.severity in ("error", "warning")] == []


def test_torchaudio_2_11_with_a_later_torch_is_accepted() -> None:
    doc = probe("gtx1080ti-575", "2.14.1+cu126", "0.29.1+cu126", "2.11.0+cu126")
    codes = {f.code for f in diagnose(machine_from_document(doc, "later"), MATRIX)}
    assert "companion-mismatch" not in codes


def test_only_the_gpus_torch_uses_count() -> None:
    doc = probe("mixed-1080-4090", "2.8.0+cu128", "0.23.0+cu128")
    both = machine_from_document(doc, "mixed")
    assert {f.code for f in diagnose(both, MATRIX) if f.severity == "error"} == {"gpu-arch-not-in-build"}
    only_4090 = select_gpus(both, "0", None)
    findings = diagnose(only_4090, MATRIX)
    assert [f for f in findings if f.severity == "error"] == []
    assert any(f.code == "gpus-selected" and "hidden: GPU 1 (NVIDIA GeForce GTX 1080)" in f.message
               for f in findings)
    env = select_gpus(both, None, {"CUDA_VISIBLE_DEVICES": "0", "CUDA_DEVICE_ORDER": "PCI_BUS_ID"})
    assert env.gpu_selection == (0,)
    plan = resolve([env], MATRIX, Request()).plan
    assert (plan.torch, plan.variant) == ("2.15.0", "cu132") or plan.variant.startswith("cu1")
    assert any("hidden: GPU 1 (NVIDIA GeForce GTX 1080)" in n for n in plan.notes)
    hidden = select_gpus(both, None, {"CUDA_VISIBLE_DEVICES": ""})
    assert hidden.gpus_hidden_from_torch and any("hides every GPU" in n for n in hidden.gpu_notes)


def test_the_fix_says_it_is_a_downgrade_and_which_driver_gives_newer() -> None:
    doc = probe("rtx5090-570", "2.13.0+cpu")
    findings = examine(machine_from_document(doc, "5090"), MATRIX, "/usr/bin/python3")
    cpu = next(f for f in findings if f.code == "cpu-build-on-gpu-machine")
    assert cpu.fix is not None and "torch==2.11.0+cu128" in cpu.fix
    note = next(f for f in findings if f.code == "fix-is-downgrade")
    assert "older than the installed 2.13.0+cpu" in note.message and "with driver ≥ 580" in note.message


def test_a_driver_library_mismatch_is_fixed_by_a_reboot_not_pip() -> None:
    doc = probe("no-gpu", "2.5.1+cu124", nvidia__driver_version="550.54.14", nvidia__source="procfs",
                nvidia__error="driver/library version mismatch: reboot")
    findings = examine(machine_from_document(doc, "m"), MATRIX, "/usr/bin/python3")
    mismatch = next(f for f in findings if f.code == "gpu-not-visible")
    assert mismatch.fix is not None and mismatch.fix.startswith("reboot") and "pip" not in mismatch.fix


def test_cli_doctor_carries_the_fix_from_the_resolver(run_cli, tmp_path: Path) -> None:
    f = tmp_path / "p.json"
    f.write_text(json.dumps(probe("rtx5090-570", "2.6.0+cu126", "0.21.0+cu126")))
    proc = run_cli("doctor", "--json", "--probe-file", str(f))
    assert proc.returncode == 1, proc.stderr
    doc = json.loads(proc.stdout)
    assert set(doc) == {"schema", "ok", "probe", "findings"} and doc["schema"] == documents.DOCTOR
    arch = next(x for x in doc["findings"] if x["code"] == "gpu-arch-not-in-build")
    assert set(arch) == {"severity", "code", "message", "fix"}
    assert arch["fix"] == ("/usr/bin/python3 -m pip install torch==2.11.0+cu128 torchvision==0.26.0+cu128 "
                           "torchaudio==2.11.0+cu128 --extra-index-url https://download.pytorch.org/whl/cu128")
    human = run_cli("doctor", "--probe-file", str(f))
    lines = human.stdout.splitlines()
    assert human.returncode == 1 and "problem" in lines[0]
    assert lines[-1].startswith("/usr/bin/python3 -m pip install torch==2.11.0+cu128")


def test_cli_doctor_healthy_is_exit_0(run_cli, tmp_path: Path) -> None:
    f = tmp_path / "p.json"
    f.write_text(json.dumps(probe("rtx5090-570", "2.11.0+cu128", "0.26.0+cu128", "2.11.0+cu128",
                                  builds={"torch": torch_build("2.11.0+cu128", "12.8")})))
    proc = run_cli("doctor", "--probe-file", str(f))
    assert proc.returncode == 0 and proc.stdout.startswith("healthy"), proc.stdout


def test_cli_doctor_never_says_healthy_with_checks_not_made(run_cli, tmp_path: Path) -> None:
    f = tmp_path / "p.json"
    f.write_text(json.dumps(probe("no-gpu", "2.99.0")))
    proc = run_cli("doctor", "--probe-file", str(f))
    assert proc.returncode == 0
    assert "healthy" not in proc.stdout and "could not be checked" in proc.stdout.splitlines()[0]


def test_the_doctor_says_what_its_verdict_is_about(run_cli, tmp_path: Path) -> None:
    """The line under the summary: the family's versions (from builds, else the dist-infos), where,
    the driver and the GPUs torch will use; what a recorded document lacks is said missing."""
    from torchsetup.render import checked_line

    mixed = machine_from_document(probe("mixed-1080-4090", "2.8.0+cu128", "0.23.0+cu128"), "mixed")
    assert checked_line(mixed) == (
        "checked: torch 2.8.0+cu128, torchvision 0.23.0+cu128, no torchaudio in /usr/bin/python3; "
        "driver 550.54.14, NVIDIA GeForce RTX 4090 (sm_89), NVIDIA GeForce GTX 1080 (sm_61)")
    assert checked_line(select_gpus(mixed, "0", None)).endswith(
        "; driver 550.54.14, NVIDIA GeForce RTX 4090 (sm_89)")
    assert checked_line(select_gpus(mixed, None, {"CUDA_VISIBLE_DEVICES": ""})).endswith(
        "; driver 550.54.14, every GPU hidden by CUDA_VISIBLE_DEVICES")
    node = machine_from_document(probe("h100-node", "2.9.0+cu128"), "node")
    assert checked_line(node).endswith("; driver 580.65.06, 8 × NVIDIA H100 80GB HBM3 (sm_90)"), checked_line(node)
    # the version torch's own files give wins over the dist-info's (a source build keeps its name)
    own = {"torch": torch_build("2.6.0a0+git1a2b3c", None)}
    source = machine_from_document(probe("no-gpu", "2.6.0", builds=own), "src")
    assert checked_line(source) == ("checked: torch 2.6.0a0+git1a2b3c, no torchvision, no torchaudio in "
                                    "/usr/bin/python3; no NVIDIA GPU visible")
    bare = machine_from_document({"schema": "torchsetup.probe/1"}, "bare")
    assert checked_line(bare) == ("checked: the torch family (not in the probe document); "
                                  "the NVIDIA driver and GPUs: not in the probe document")
    f = tmp_path / "p.json"
    f.write_text(json.dumps(probe("mixed-1080-4090", "2.8.0+cu128", "0.23.0+cu128")))
    lines = run_cli("doctor", "--probe-file", str(f), "--gpus", "0").stdout.splitlines()
    assert lines[1] == ("checked: torch 2.8.0+cu128, torchvision 0.23.0+cu128, no torchaudio in /usr/bin/python3; "
                        "driver 550.54.14, NVIDIA GeForce RTX 4090 (sm_89)")
    assert not any(line.startswith("checked:") for line in
                   run_cli("doctor", "--json", "--probe-file", str(f)).stdout.splitlines())


def _doctor_of(run_cli, tmp_path: Path, fixture: str, installed: str, **os_fields: object) -> list[dict[str, str]]:
    """doctor over a fixture probe document (fixtures/probes, written by hand) with another torch in it,
    without `builds` (as an older probe, or a document written by hand, has it)."""
    doc = json.loads((Path(__file__).parent / "fixtures" / "probes" / f"{fixture}.json").read_text())
    doc["os"].update(os_fields)
    doc["installed"] = {"torch": installed, "torchvision": None, "torchaudio": None}
    doc.pop("builds", None)
    path = tmp_path / f"{fixture}-{installed}.json"
    path.write_text(json.dumps(doc))
    return json.loads(run_cli("doctor", "--json", "--probe-file", str(path)).stdout)["findings"]


def test_a_jetpack_torch_is_never_called_cpu_only(run_cli, tmp_path: Path) -> None:
    findings = _doctor_of(run_cli, tmp_path, "jetson-orin", "2.0.0a0+ec3941ad.nv23.02")
    assert [f for f in findings if f["severity"] == "error"] == []
    assert not any("CPU-only" in f["message"] for f in findings)
    jetpack = [f for f in findings if "NVIDIA's JetPack build for Jetson" in f["message"]]
    assert [f["code"] for f in jetpack] == ["not-checked"] and jetpack[0]["severity"] == "warning"


def test_a_low_confidence_arch_list_is_never_a_silent_pass(run_cli, tmp_path: Path) -> None:
    """Windows 2.8 cu128: the sources disagree about sm_61; a GTX 1080 Ti user reports "no kernel image"."""
    findings = _doctor_of(run_cli, tmp_path, "gtx1080ti-575", "2.8.0+cu128", system="Windows", machine="AMD64",
                          libc=None)
    doubt = [f for f in findings if f["message"].startswith("not checked for certain: the GPU kernels of torch "
                                                             "2.8.0+cu128 on windows-x86_64")]
    assert len(doubt) == 1 and doubt[0]["severity"] == "warning" and doubt[0]["code"] == "not-checked"
    assert "low-medium" in doubt[0]["message"]
    linux = _doctor_of(run_cli, tmp_path, "gtx1080ti-575", "2.8.0+cu126")  # a list of high confidence: no doubt
    assert not any(f["message"].startswith("not checked for certain") for f in linux)
