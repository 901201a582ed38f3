"""The resolver over real situations (probe documents built from the facts in data/sources/)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from torchsetup import cuda, documents
from torchsetup.documents import resolve_document
from torchsetup.matrix import load_matrix
from torchsetup.probe.model import load_probe_file
from torchsetup.resolve import Request, resolve

PROBES = Path(__file__).parent / "fixtures" / "probes"
MATRIX = load_matrix()


def plan_for(*names: str, **request: object):
    machines = [load_probe_file(str(PROBES / f"{n}.json")) for n in names]
    return resolve(machines, MATRIX, Request(**request), [n for n in names])  # type: ignore[arg-type]


def rejection(res, torch: str, variant: str) -> str:
    return next(r.reason for r in res.rejected if r.torch == torch and r.variant == variant)


# (probe(s), request, torch, variant, (torch, variant, reason fragment) of the key rejection)
CASES = [
    (("rtx5090-570",), {}, "2.11.0", "cu128",
     ("2.11.0", "cu130", "cu130 needs driver ≥ 580 for CUDA 13; rtx5090-570 has 570.133.07")),
    (("rtx5090-570",), {}, "2.11.0", "cu128",
     ("2.11.0", "cu126", "NVIDIA GeForce RTX 5090 is sm_120; 2.11.0+cu126 has sm_50..sm_90")),
    (("gtx1080ti-575",), {}, "2.14.1", "cu126",
     ("2.14.1", "cu130", "NVIDIA GeForce GTX 1080 Ti is sm_61; 2.14.1+cu130 has sm_75..sm_120")),
    (("k80-470",), {}, "2.7.1", "cu118",
     ("2.14.1", "cu126", "Tesla K80 is sm_37; 2.14.1+cu126 has sm_50..sm_90")),
    (("t4-470",), {}, "2.7.1", "cu118",
     ("2.7.1", "cu126", "cu126 needs driver ≥ 525.60.13 for CUDA 12; t4-470 has 470.182.03")),
    (("8xa100-centos7",), {}, "2.6.0", "cu118",
     ("2.7.0", "cu126", "torch 2.7.0 needs glibc ≥ 2.28 (manylinux_2_28); 8xa100-centos7 has glibc 2.17")),
    (("py314t-h100",), {}, "2.15.0", "cu132", None),
    (("py314t-h100",), {"torch": "<2.15"}, "2.14.1", "cu130",
     ("2.14.1", "cpu", "a CPU-only build on py314t-h100, which has an NVIDIA GPU")),
    (("macos-arm64",), {}, "2.15.0", "cpu", None),
    (("wsl2-4090",), {}, "2.14.1", "cu126",
     ("2.14.1", "cu130", "cu130 needs driver ≥ 580 for CUDA 13; wsl2-4090 has 560.35.03")),
    (("mixed-1080-4090",), {}, "2.14.1", "cu126",
     ("2.14.1", "cu130", "NVIDIA GeForce GTX 1080 is sm_61; 2.14.1+cu130 has sm_75..sm_120")),
    (("h100-node", "pascal-node"), {}, "2.14.1", "cu126",
     ("2.14.1", "cu130", "Tesla P100-PCIE-16GB is sm_60; 2.14.1+cu130 has sm_75..sm_120")),
    (("no-gpu",), {}, "2.14.1", "cpu",
     ("2.14.1", "cu126", "no NVIDIA GPU is visible on no-gpu")),
]


@pytest.mark.parametrize("names,request_kw,torch,variant,key", CASES)
def test_situations(names, request_kw, torch, variant, key) -> None:
    res = plan_for(*names, **request_kw)
    assert res.ok, res.error
    assert (res.plan.torch, res.plan.variant) == (torch, variant)
    if key is not None:
        assert key[2] in rejection(res, key[0], key[1])


def test_rtx5090_on_an_old_pin_is_a_no_fit_with_the_way_out() -> None:
    res = plan_for("rtx5090-570", torch=">=2.4,<2.7")
    assert not res.ok and res.plan is None
    assert "sm_120" in rejection(res, "2.6.0", "cu126")
    assert "the newest torch with kernels for these GPUs is 2.15.0 (cu132)" in (res.hint or "")


def test_minor_compatible_only_says_so() -> None:
    res = plan_for("mixed-1080-4090")
    assert any("minor-version compatibility only" in n and "CUDA ≥ 12.6" in n for n in res.plan.notes)
    full = plan_for("gtx1080ti-575")
    assert not any("minor-version" in n for n in full.plan.notes)


def test_k80_gets_only_a_release_whose_cu118_kept_sm37() -> None:
    res = plan_for("k80-470")
    arch = cuda.arch_list_for(MATRIX, res.plan.torch, res.plan.variant, "linux-x86_64")
    assert arch is not None and (3, 7) in arch.sass


def test_driver_470_gets_cu11x_only() -> None:
    for name in ("k80-470", "t4-470"):
        assert plan_for(name).plan.variant.startswith("cu11")


def test_gpu_with_no_cuda_fit_does_not_fall_back_to_cpu_silently() -> None:
    res = plan_for("rtx5090-570", torch="==2.5.1")
    assert not res.ok and "--allow-cpu" in (res.hint or "")
    cpu = plan_for("rtx5090-570", torch="==2.5.1", allow_cpu=True)
    assert cpu.ok and cpu.plan.variant == "cpu"


def test_python_version_without_wheel_names_the_python() -> None:
    res = plan_for("no-gpu", torch="==1.12.0", python_version="3.11")
    assert not res.ok
    assert "no wheel for CPython 3.11 on linux-x86_64 (it has 3.7–3.10)" in (res.error or "")


def test_free_threaded_python_needs_a_t_wheel() -> None:
    res = plan_for("py314t-h100", torch="==2.5.1")
    assert not res.ok and "free-threaded CPython 3.14" in (res.error or "")


def test_macos_forced_cuda_is_a_clear_error() -> None:
    res = plan_for("macos-arm64", variant="cu128")
    assert not res.ok and "cu128 builds exist only for linux, windows" in (res.error or "")
    assert "MPS" in (res.error or "")


def test_macos_plan_uses_the_default_index() -> None:
    res = plan_for("macos-arm64")
    assert res.plan.index_url is None
    assert res.plan.command == ("/usr/bin/python3", "-m", "pip", "install", "torch==2.15.0",
                                "torchvision==0.29.2", "torchaudio==2.11.1")


def test_wsl_uses_the_windows_driver_minimum_and_says_so() -> None:
    res = plan_for("wsl2-4090")
    assert any(n.startswith("WSL: CUDA comes from the Windows driver (560.35.03)") for n in res.plan.notes)
    machine = json.loads((PROBES / "wsl2-4090.json").read_text())
    machine["nvidia"]["driver_version"], machine["nvidia"]["cuda_driver_version"] = "527.41", "12.0"
    from torchsetup.probe.model import machine_from_document

    old = resolve([machine_from_document(machine, "w")], MATRIX, Request(), ["wsl-527"])
    # 527.41 passes Linux's 12.x minimum (525.60.13) but not Windows' (528.33)
    assert "cu126 needs driver ≥ 528.33 for CUDA 12; wsl-527 has 527.41" in rejection(old, "2.14.1", "cu126")


def test_jetson_is_sent_to_jetpack() -> None:
    res = plan_for("jetson-orin")
    assert not res.ok and "JetPack" in (res.error or "")


def test_container_without_gpu_access_says_what_is_missing() -> None:
    res = plan_for("container-no-gpu")
    assert res.plan.variant == "cpu"
    assert any("/dev/nvidia*" in note for note in res.plan.notes)


def test_for_extensions_matches_the_toolkit_major() -> None:
    machine = json.loads((PROBES / "gtx1080ti-575.json").read_text())
    machine["cuda_toolkit"] = {"version": "13.0", "nvcc": "/usr/local/cuda/bin/nvcc", "home": None}
    machine["nvidia"]["driver_version"], machine["nvidia"]["cuda_driver_version"] = "580.65.06", "13.0"
    from torchsetup.probe.model import machine_from_document

    m = machine_from_document(machine, "toolkit13")
    res = resolve([m], MATRIX, Request(for_extensions=True), ["toolkit13"])
    # a GTX 1080 Ti needs cu126 (sm_60), a CUDA 12 build: nvcc 13.0 cannot build against it
    assert not res.ok
    assert "cannot build extensions against a CUDA 12 torch (cu126)" in rejection(res, "2.14.1", "cu126")
    assert resolve([m], MATRIX, Request(), ["toolkit13"]).plan.variant == "cu126"


def test_exact_argv_extra_index_strategy_pins_local_versions() -> None:
    res = plan_for("rtx5090-570")
    assert res.plan.command == (
        "/usr/bin/python3", "-m", "pip", "install", "torch==2.11.0+cu128",
        "torchvision==0.26.0+cu128", "torchaudio==2.11.0+cu128",
        "--extra-index-url", "https://download.pytorch.org/whl/cu128")


def test_old_release_uses_the_form_its_page_gives() -> None:
    res = plan_for("k80-470", torch="==1.10.1", python_version="3.8")
    assert res.plan.variant == "cu111"
    assert res.plan.command[-2:] == ("-f", "https://download.pytorch.org/whl/cu111/torch_stable.html")
    assert "torch==1.10.1+cu111" in res.plan.command


def test_resolve_document_keys() -> None:
    doc = resolve_document(plan_for("rtx5090-570"))
    assert set(doc) == {"schema", "ok", "plan", "rejected", "error"}
    assert doc["schema"] == documents.RESOLVE
    assert set(doc["plan"]) == {"torch", "torchvision", "torchaudio", "variant", "index_url",
                                "command", "notes", "held_by", "with"}
    assert set(doc["rejected"][0]) == {"torch", "variant", "reason"}


def test_cli_resolve_json_and_exit_codes(run_cli) -> None:
    ok = run_cli("resolve", "--json", "--probe-file", str(PROBES / "rtx5090-570.json"))
    assert ok.returncode == 0, ok.stderr
    assert json.loads(ok.stdout)["plan"]["variant"] == "cu128"
    nofit = run_cli("resolve", "--probe-file", str(PROBES / "jetson-orin.json"))
    assert nofit.returncode == 3 and "JetPack" in nofit.stderr and "Traceback" not in nofit.stderr
    bad = run_cli("resolve", "--torch", "~~2", "--probe-file", str(PROBES / "no-gpu.json"))
    assert bad.returncode == 2 and "invalid torch specifier" in bad.stderr


def test_no_fit_for_an_old_driver_names_the_driver_to_upgrade_to() -> None:
    res = plan_for("t4-470", torch="==2.14.1")
    assert not res.ok
    assert "driver ≥ 525.60.13 → torch 2.14.1 (cu126)" in (res.hint or "")
    assert "--allow-cpu → a CPU-only build: torch runs, but without the NVIDIA GPU" in (res.hint or "")
    assert "--allow-cpu" in (res.hint or "")


def test_a_probe_document_without_nvidia_facts_says_so() -> None:
    from torchsetup.probe.model import machine_from_document

    doc = {"schema": "torchsetup.probe/1", "os": {"system": "Linux", "machine": "x86_64",
                                                  "libc": "glibc 2.36"}, "python": {"version": "3.12.3"}}
    res = resolve([machine_from_document(doc, "min")], MATRIX, Request(), ["min.json"])
    assert res.plan.variant == "cpu"
    assert "min.json: the probe document says nothing about NVIDIA GPUs (no nvidia section)" in res.plan.notes


def test_allow_cpu_never_trades_a_working_gpu_build_for_a_newer_cpu_one() -> None:
    res = plan_for("rtx5090-570", allow_cpu=True)
    assert (res.plan.torch, res.plan.variant) == ("2.11.0", "cu128")
    assert any("--allow-cpu was not needed" in n for n in res.plan.notes)
    cpu = plan_for("t4-470", torch="==2.14.1", allow_cpu=True)  # no GPU build of 2.14.1 runs on driver 470
    assert cpu.plan.variant == "cpu"
    assert any(n.startswith("no GPU build fits (") and "without the NVIDIA GPU" in n for n in cpu.plan.notes)


def test_the_no_fit_headline_names_what_no_candidate_passes_and_the_nearest_come_first() -> None:
    res = plan_for("py314t-h100", torch="==2.5.1")
    assert res.error and res.error.startswith("no build fits: every candidate fails on the Python version")
    old = plan_for("rtx5090-570", torch=">=2.4,<2.7")
    assert old.error and "every candidate fails on the GPU's architecture" in old.error
    assert old.rejected[0].kinds == ("arch",)  # the nearest first, not the newest
    assert "the newest torch with kernels for these GPUs is 2.15.0 (cu132)" in (old.hint or "")


def test_a_wedged_driver_is_a_reason_to_stop_not_a_cpu_plan() -> None:
    machine = json.loads((PROBES / "no-gpu.json").read_text())
    wedged = "nvidia-smi hung and was stopped; the driver may be wedged (check dmesg, reboot)"
    machine["nvidia"].update(driver_version="550.54.14", source="procfs", error=wedged)
    from torchsetup.probe.model import machine_from_document

    res = resolve([machine_from_document(machine, "wedged")], MATRIX, Request())
    assert not res.ok and "hung" in (res.error or "")
