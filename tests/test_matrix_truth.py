"""What every release really ships: the matrix against the measurements in data/sources/.

The oracle of the build table is the measured report itself (its §1b rows, parsed here), not the
knowledge table the matrix is built from.
"""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from conftest import REPO, SOURCES

from torchsetup import cuda
from torchsetup.command import CommandOptions
from torchsetup.doctor import diagnose, identify
from torchsetup.matrix import load_matrix
from torchsetup.probe.model import Installed, Machine, load_probe_file, machine_from_document
from torchsetup.resolve import Request, resolve

MATRIX = load_matrix()
PROBES = Path(__file__).parent / "fixtures" / "probes"
REPORT = (SOURCES / "pypi-builds-and-arch-lists.md").read_text()
INDEX = json.loads((SOURCES / "pypi" / "torch.simple.json").read_text())
PYPI_RELEASES = [v for v in INDEX["versions"] if re.fullmatch(r"\d+\.\d+\.\d+", v)]


def _measured_linux_x86_64() -> dict[str, str]:
    """{torch: build} from §1b: `| 2.8.0 | date | wheel | 2.8.0+cu128 / '12.8' | ...`."""
    out = {}
    for version, cuda_text in re.findall(r"^\| (\d+\.\d+\.\d+) \| [\d-]+ \| `torch-[^`]+` \| \S+ / '([\d.]+)'",
                                         REPORT, re.MULTILINE):
        major, minor = cuda_text.split(".")[:2]
        out[version] = f"cu{major}{minor}"
    return out


MEASURED = _measured_linux_x86_64()


def _windows(version: str) -> str | None:
    """§1a: PyPI's first Windows wheels are 1.7.0, and every one is X+cpu."""
    return "cpu" if cuda.parse_cuda(version) >= (1, 7) else None  # type: ignore[operator]


def _aarch64(version: str) -> str | None:
    """§1a/§1c: CPU 1.8.0-2.10.0 (none for 1.9.1), cu130 2.11.0-2.14.1, cu132 2.15.0."""
    if version == "1.9.1" or cuda.parse_cuda(version) < (1, 8):  # type: ignore[operator]
        return None
    if version == "2.15.0":
        return "cu132"
    return "cu130" if cuda.parse_cuda(version) >= (2, 11) else "cpu"  # type: ignore[operator]


def test_the_report_measures_all_52_releases() -> None:
    assert len(PYPI_RELEASES) == 52 and set(MEASURED) == set(PYPI_RELEASES)


@pytest.mark.parametrize("version", PYPI_RELEASES)
def test_pypi_build_of_every_release_and_platform(version: str) -> None:
    release = MATRIX.by_version[version]
    expected = {"linux-x86_64": MEASURED[version], "windows-x86_64": _windows(version),
                "linux-aarch64": _aarch64(version)}
    for platform, build in expected.items():
        assert release.pypi_build(platform) == build, (version, platform)
        judged = identify(Machine(installed=Installed(torch=version)), MATRIX, platform)  # a plain install
        plain = judged.variant if judged else None
        assert (plain.name if plain else None) == build, (version, platform)
        if plain is not None:
            assert plain.index_url is None and plain.form == "pypi"


@pytest.mark.parametrize("version", PYPI_RELEASES)
def test_doctor_names_the_build_of_any_plain_install(version: str) -> None:
    doc = json.loads((PROBES / "no-gpu.json").read_text())
    doc["installed"] = {"torch": version, "torchvision": None, "torchaudio": None}
    findings = diagnose(machine_from_document(doc, "plain"), MATRIX)
    assert not [f for f in findings if "which build" in f.message or "knows no" in f.message]


def test_plain_2_14_0_with_torchvision_0_29_0_is_healthy() -> None:
    doc = json.loads((PROBES / "h100-580.json").read_text())
    doc["installed"] = {"torch": "2.14.0", "torchvision": "0.29.0", "torchaudio": None}
    findings = diagnose(machine_from_document(doc, "h100"), MATRIX)
    assert [f for f in findings if f.severity == "error"] == []
    assert MATRIX.by_version["2.14.0"].torchvision == "0.29.0"
    assert MATRIX.by_version["2.14.1"].torchvision == "0.29.1"


def test_2_15_0_on_an_h100_with_driver_580(run_cli) -> None:
    for spec in ("==2.15.0", None):
        args = ["resolve", "--json", "--probe-file", str(PROBES / "h100-580.json")]
        proc = run_cli(*args, *(["--torch", spec] if spec else []))
        assert proc.returncode == 0, proc.stderr
        plan = json.loads(proc.stdout)["plan"]
        assert (plan["torch"], plan["torchvision"], plan["torchaudio"], plan["variant"]) == (
            "2.15.0", "0.29.2", "2.11.1", "cu132")
        assert plan["index_url"] is None
        assert plan["command"] == ["/usr/bin/python3", "-m", "pip", "install", "torch==2.15.0",
                                   "torchvision==0.29.2", "torchaudio==2.11.1"]
        assert any("PyPI's own build" in n for n in plan["notes"])


def test_a_driver_that_runs_only_cuda_10_gets_the_newest_build_that_runs() -> None:
    machine = load_probe_file(str(PROBES / "t4-418-py38.json"))
    res = resolve([machine], MATRIX, Request(), ["t4-418"])
    assert res.ok, res.error
    assert (res.plan.torch, res.plan.variant) == ("1.8.1", "cu101")
    assert res.plan.command[4:] == ("torch==1.8.1+cu101", "torchvision==0.9.1+cu101", "torchaudio==0.8.1",
                                    "-f", "https://download.pytorch.org/whl/torch_stable.html")
    reasons = {(r.torch, r.variant): r.reason for r in res.rejected}
    assert "cu102 needs driver ≥ 440.33" in reasons[("1.9.0", "cu102")]


def test_py3_none_companions_are_found_under_both_index_strategies() -> None:
    machine = load_probe_file(str(PROBES / "h100-580.json"))
    for strategy, tail in (
            ("extra", ["torch==2.14.1+cu132", "torchvision==0.29.1+cu132",
                       "--extra-index-url", "https://download.pytorch.org/whl/cu132"]),
            ("index", ["torch==2.14.1", "torchvision==0.29.1",
                       "--index-url", "https://download.pytorch.org/whl/cu132"])):
        res = resolve([machine], MATRIX, Request(torch="==2.14.1", variant="cu132", torchaudio=False,
                                                 command=CommandOptions(strategy=strategy)))
        assert list(res.plan.command[4:]) == tail
    # 2.15.0's companions are py3-none: no +cuXYZ build exists, so none is pinned, and under the
    # `index` strategy PyPI joins as the one extra index while torch keeps its local version
    release = MATRIX.by_version["2.15.0"]
    assert set(release.pure_companions) == {"torchvision", "torchaudio"}
    from torchsetup.command import Pins, install_argv

    pins = Pins("cu132", "index-url", "https://download.pytorch.org/whl/cu132",
                ("torch==2.15.0", "torchvision==0.29.2", "torchaudio==2.11.1"), release.pure_companions)
    assert install_argv(pins, CommandOptions(python="py"))[4:] == [
        "torch==2.15.0+cu132", "torchvision==0.29.2", "torchaudio==2.11.1",
        "--extra-index-url", "https://download.pytorch.org/whl/cu132"]
    assert install_argv(pins, CommandOptions(python="py", strategy="index"))[4:] == [
        "torch==2.15.0+cu132", "torchvision==0.29.2", "torchaudio==2.11.1",
        "--index-url", "https://download.pytorch.org/whl/cu132", "--extra-index-url", "https://pypi.org/simple"]


def test_companions_come_from_evidence_with_their_confidence() -> None:
    document = json.loads((REPO / "data" / "compat_matrix.json").read_text())
    records = {r["torch"]: r for r in document["releases"]}
    expected = {  # torch: (torchvision, torchaudio), companion-evidence.md and audio-compat.rst
        "1.2.0": ("0.4.0", "0.3.0"), "1.3.0": ("0.4.1", "0.3.1"), "1.3.1": ("0.4.2", "0.3.2"),
        "1.4.0": ("0.5.0", "0.4.0"), "1.5.0": ("0.6.0", "0.5.0"), "1.5.1": ("0.6.1", "0.5.1"),
        "1.6.0": ("0.7.0", "0.6.0"), "2.14.0": ("0.29.0", None), "2.14.1": ("0.29.1", None),
        "2.15.0": ("0.29.2", "2.11.1"), "2.13.0": ("0.28.0", None)}
    for torch, (vision, audio) in expected.items():
        record = records[torch]
        assert (record["torchvision"], record["torchaudio"]) == (vision, audio), torch
        for name in ("torchvision", "torchaudio"):
            pairing = record["companions"][name]
            assert (pairing or {}).get("version") == record[name]
            if pairing:
                assert pairing["source"] and pairing["confidence"]
    assert records["2.13.0"]["companions"]["torchvision"]["confidence"] == "high (the wheel's own pin)"
    assert records["1.3.1"]["companions"]["torchaudio"]["confidence"].startswith("low")
    assert records["2.15.0"]["companions"]["torchvision"]["confidence"].startswith("medium (uploaded")


def test_page_lines_pinning_another_releases_torchvision_are_corrected() -> None:
    for torch, companion in (("1.10.1", "0.11.2"), ("1.10.0", "0.11.0")):
        rocm = next(v for v in MATRIX.by_version[torch].variants if v.name == "rocm4.0.1")
        assert rocm.torchvision_pin == f"{companion}+rocm4.0.1"


@pytest.mark.parametrize("torch,variant,platform,sass,ptx,confidence", [
    ("1.0.0", "cu90", "linux-x86_64", "3.5 5.0 6.0 7.0", "5.0", "high (measured"),
    ("1.3.0", "cu101", "linux-x86_64", "3.5 5.0 6.0 6.1 7.0 7.5", "5.0", "high (measured"),
    ("1.3.1", "cu101", "linux-x86_64", "3.7 5.0 6.0 6.1 7.0 7.5", "3.7", "high (measured"),
    ("1.6.0", "cu102", "linux-x86_64", "3.7 5.0 6.0 7.0 7.5", "", "high (measured"),
    ("1.8.1", "cu101", "linux-x86_64", "3.7 5.0 6.0 7.0", "", "high (script"),
    ("1.7.1", "cu110", "windows-x86_64", "3.7 5.0 6.0 6.1 7.0 7.5 8.0", "3.7", "high (script"),
    ("2.13.0", "cu130", "linux-x86_64", "7.5 8.0 8.6 9.0 10.0 12.0", "", "high (measured"),
    ("2.11.0", "cu130", "linux-aarch64", "8.0 9.0 10.0 11.0 12.0", "", "high (measured"),
    ("2.8.0", "cu128", "windows-x86_64", "6.1 7.0 7.5 8.0 8.6 9.0 10.0 12.0", "", "low-medium"),
    ("2.10.0", "cu128", "windows-x86_64", "7.0 7.5 8.0 8.6 9.0 10.0 12.0", "", "low"),
    ("2.7.1", "cu118", "linux-x86_64", "3.7 5.0 6.0 7.0 7.5 8.0 8.6 9.0", "", "medium (inferred)"),
    ("2.15.0", "cu132", "linux-x86_64", "7.5 8.0 8.6 9.0 10.0 12.0", "", "high (measured"),
])
def test_arch_lists_with_their_confidence(torch, variant, platform, sass, ptx, confidence) -> None:
    arch = cuda.arch_list_for(MATRIX, torch, variant, platform)
    assert arch is not None
    assert sorted(arch.sass) == sorted(cuda.parse_cuda(x) for x in sass.split())
    assert list(arch.ptx) == [cuda.parse_cuda(x) for x in ptx.split()]
    assert arch.confidence.startswith(confidence) and arch.source


def test_every_cuda_variant_of_1_0_to_1_7_has_an_arch_list() -> None:
    missing = [(r.torch, v.name, p) for r in MATRIX.releases if cuda.parse_cuda(r.torch) < (1, 8)  # type: ignore[operator]
               for v in r.variants if v.cuda for p in ("linux-x86_64", "windows-x86_64")
               if v.runs_on(p) and cuda.arch_list_for(MATRIX, r.torch, v.name, p) is None]
    assert missing == []


@pytest.mark.parametrize("variant,linux,windows", [
    ("cu80", "375.26", "376.51"), ("cu90", "384.81", "385.54"), ("cu92", "396.37", "398.26"),
    ("cu100", "410.48", "411.31"), ("cu110", "450.51.05", "451.48"), ("cu111", "450.80.02", "452.39")])
def test_driver_minimums(variant: str, linux: str, windows: str) -> None:
    minimum = cuda.min_driver_for(MATRIX, variant)
    assert minimum is not None
    assert (minimum.for_system("Linux")[0], minimum.for_system("Windows")[0]) == (linux, windows)


def test_regenerates_exactly_from_a_clone_with_nothing_beside_it(tmp_path: Path) -> None:
    """A copy of the project alone in an empty folder rebuilds the shipped matrix byte for byte."""
    clone = tmp_path / "alone" / "torchsetup"
    shutil.copytree(REPO / "torchsetup", clone / "torchsetup")
    shutil.copytree(REPO / "data" / "sources", clone / "data" / "sources")
    out = tmp_path / "m.json"
    proc = subprocess.run([sys.executable, "-m", "torchsetup", "matrix", "update", "--from", "data/sources",
                           "--output", str(out)], cwd=clone, capture_output=True, text=True, timeout=120,
                          env={"PATH": "/usr/bin:/bin", "PYTHONPATH": str(clone)})
    assert proc.returncode == 0, proc.stderr
    built, shipped = json.loads(out.read_text()), json.loads((REPO / "data" / "compat_matrix.json").read_text())
    built.pop("generated_at"), shipped.pop("generated_at")
    assert built == shipped
    assert not (tmp_path / "alone" / "shared").exists()


def test_nothing_points_outside_the_project() -> None:
    outside = "../" + "shared"
    offenders = [str(p.relative_to(REPO)) for folder in ("torchsetup", "tests", "benchmarks")
                 for p in (REPO / folder).rglob("*") if p.suffix in (".py", ".md", ".json")
                 and outside in p.read_text(errors="replace")]
    offenders += ["README.md"] if outside in (REPO / "README.md").read_text() else []
    assert offenders == []


def test_a_low_confidence_arch_list_is_used_with_a_note() -> None:
    machine = load_probe_file(str(PROBES / "h100-580.json"))
    res = resolve([machine], MATRIX, Request(torch="==2.10.0", variant="cu128", platform="windows-x86_64"))
    assert res.ok, res.error
    assert any(n.startswith("the arch list of 2.10.0+cu128 on windows-x86_64 is not verified")
               and "low (inferred)" in n for n in res.plan.notes)
    linux = resolve([machine], MATRIX, Request(torch="==2.10.0", variant="cu128"))
    assert not any("not verified" in n for n in linux.plan.notes)  # measured from the wheel
