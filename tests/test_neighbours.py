"""torch's neighbours with real pip into real venvs: wheels the tests build (a package pinning
`torch==X`, one with `torch>=X,<Y`, one whose marker excludes the target Python, a flash-attn-like
wheel with a `+cu12torch2.6cxx11abiTRUE` version and a `.so`, one whose import fails with
`undefined symbol`), installed with pip; the probe, resolve, install --dry-run, doctor and verify
run as the CLI, in child processes. The machine is a recorded document without a GPU (no-gpu.json),
with the venv's own probe facts merged in, so that every plan is a CPU plan here."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from conftest import REPO, isolated_pip_env, make_venv, site_packages
from localindex import write_wheel

pytestmark = pytest.mark.slow
PROBES = REPO / "tests" / "fixtures" / "probes"


def fake_torch(site: Path, version: str, cuda: str | None) -> None:
    """A torch distribution as a pip install leaves it: dist-info (INSTALLER pip, RECORD) and version.py."""
    info = site / f"torch-{version}.dist-info"
    info.mkdir()
    (info / "METADATA").write_text(f"Metadata-Version: 2.1\nName: torch\nVersion: {version}\n\n")
    (info / "INSTALLER").write_text("pip\n")
    (info / "RECORD").write_text("")
    (site / "torch").mkdir()
    (site / "torch" / "version.py").write_text(f"__version__ = '{version}'\ncuda = {cuda!r}\nhip = None\n")


@pytest.fixture(scope="module")
def wheels(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    d = tmp_path_factory.mktemp("neighbour-wheels")
    return {
        "pinned": write_wheel(d, "vllmlike", "0.33.0", {"vllmlike/__init__.py": b""},
                              ("torch==2.12.0", "torchvision==0.27.0")),
        "ranged": write_wheel(d, "ranged", "1.0", {"ranged/__init__.py": b""}, ("torch>=2.10,<2.13",)),
        "old-python-only": write_wheel(d, "oldpy", "1.0", {"oldpy/__init__.py": b""},
                                       ('torch==1.0.0; python_version < "3.8"',)),
        "malformed": write_wheel(d, "malformed", "1.0", {"malformed/__init__.py": b""}, ("torch (>=2.0",)),
        "flash": write_wheel(d, "flash_attn", "2.8.3+cu12torch2.6cxx11abiTRUE",
                             {"flash_attn/__init__.py": b"",
                              "flash_attn/flash_attn_2_cuda.cpython-311-x86_64-linux-gnu.so": b"\x7fELF"},
                             ("torch",)),
        "broken": write_wheel(d, "brokenext", "1.0", {
            "brokenext/__init__.py":
                b"raise ImportError('/x/brokenext/_C.so: undefined symbol: _ZN3c104cuda9SetDeviceEi')\n",
            "brokenext/_C.so": b"\x7fELF"}, ("torch>=2.0",)),
    }


def venv_with(tmp_path: Path, wheels: dict[str, Path], *names: str, torch: str = "2.13.0+cpu",
              cuda: str | None = None) -> Path:
    python = make_venv(tmp_path / "venv", with_pip=True)
    fake_torch(site_packages(python), torch, cuda)
    subprocess.run([str(python), "-m", "pip", "install", "--quiet", "--no-deps", "--no-index",
                    *(str(wheels[n]) for n in names)], check=True, env=isolated_pip_env())
    return python


def probe_file(tmp_path: Path, python: Path, run_cli) -> str:
    """no-gpu.json with the venv's own interpreter facts (installed, builds, dependents) from a real probe."""
    real = json.loads(run_cli("probe", "--json", "--python", str(python)).stdout)
    doc = json.loads((PROBES / "no-gpu.json").read_text())
    for key in ("python", "installed", "builds", "install_problems", "dependents"):
        doc[key] = real[key]
    doc["warnings"] = real["warnings"]
    path = tmp_path / "machine.json"
    path.write_text(json.dumps(doc))
    return str(path)


def test_the_probe_lists_neighbours_with_markers_applied(run_cli, tmp_path: Path, wheels: dict[str, Path]) -> None:
    python = venv_with(tmp_path, wheels, "pinned", "ranged", "old-python-only", "malformed", "flash")
    doc = json.loads(run_cli("probe", "--json", "--python", str(python)).stdout)
    found = {d["name"]: d for d in doc["dependents"]}
    assert set(found) == {"vllmlike", "ranged", "flash_attn"}  # oldpy's only requirement is for Python < 3.8
    assert found["vllmlike"]["requires"] == ["torch==2.12.0", "torchvision==0.27.0"]
    assert found["vllmlike"]["compiled"] is False and found["vllmlike"]["built_for"] is None
    assert found["flash_attn"]["compiled"] is True
    assert found["flash_attn"]["built_for"] == {"torch": "2.6", "cuda": "12", "cxx11abi": True}
    assert any("malformed: Requires-Dist 'torch (>=2.0' is not a valid requirement" in w for w in doc["warnings"])


def test_a_pin_holds_the_plan_and_is_named(run_cli, tmp_path: Path, wheels: dict[str, Path]) -> None:
    python = venv_with(tmp_path, wheels, "pinned")
    machine = probe_file(tmp_path, python, run_cli)
    resolved = run_cli("resolve", "--json", "--probe-file", machine)
    assert resolved.returncode == 0, resolved.stderr
    plan = json.loads(resolved.stdout)["plan"]
    assert (plan["torch"], plan["torchvision"]) == ("2.12.0", "0.27.0")
    assert plan["held_by"] == [{"name": "vllmlike", "version": "0.33.0", "requires": "torch==2.12.0"},
                               {"name": "vllmlike", "version": "0.33.0", "requires": "torchvision==0.27.0"}]
    dry = run_cli("install", "--dry-run", "--probe-file", machine)
    assert "torch==2.12.0+cpu" in dry.stdout
    assert "vllmlike 0.33.0 requires torch==2.12.0" in dry.stderr and "planning torch 2.12.0" in dry.stderr
    said = run_cli("resolve", "--probe-file", machine).stdout
    assert ("note: vllmlike 0.33.0 requires torch==2.12.0; vllmlike 0.33.0 requires torchvision==0.27.0: "
            "planning torch 2.12.0; the newest that fits this machine is 2.14.1") in said
    ignored = run_cli("resolve", "--json", "--probe-file", machine, "--ignore-dependents")
    plan = json.loads(ignored.stdout)["plan"]
    assert plan["torch"] != "2.12.0" and plan["held_by"] == []
    assert any(n.startswith("warning: this plan breaks vllmlike 0.33.0: it requires torch==2.12.0")
               for n in plan["notes"])


def test_a_pin_nothing_here_can_meet_is_exit_3_naming_it(run_cli, tmp_path: Path, wheels: dict[str, Path]) -> None:
    python = venv_with(tmp_path, wheels, "pinned")
    machine = probe_file(tmp_path, python, run_cli)
    proc = run_cli("resolve", "--probe-file", machine, "--torch", ">=2.13")
    assert proc.returncode == 3
    assert "vllmlike 0.33.0 requires torch==2.12.0" in proc.stderr
    assert "--ignore-dependents" in proc.stderr


def test_doctor_finds_an_unsatisfied_neighbour_and_a_mismatched_extension(run_cli, tmp_path: Path,
                                                                          wheels: dict[str, Path]) -> None:
    python = venv_with(tmp_path, wheels, "pinned", "flash", torch="2.8.0+cu128", cuda="12.8")
    machine = probe_file(tmp_path, python, run_cli)
    proc = run_cli("doctor", "--json", "--probe-file", machine)
    assert proc.returncode == 1, proc.stderr
    findings = json.loads(proc.stdout)["findings"]
    codes = [(f["code"], f["message"]) for f in findings if f["code"] in
             ("dependent-unsatisfied", "extension-torch-mismatch")]
    assert ("dependent-unsatisfied", "vllmlike 0.33.0 requires torch==2.12.0; torch 2.8.0+cu128 is installed: it "
            "will fail or misbehave") in codes
    mismatch = next(m for c, m in codes if c == "extension-torch-mismatch")
    assert mismatch.startswith("flash_attn 2.8.3+cu12torch2.6cxx11abiTRUE was built for torch 2.6 (torch "
                               "2.8.0+cu128 is installed)")
    assert "expect `undefined symbol` at import" in mismatch and "torch 2.8, CUDA 12, C++11 ABI TRUE" in mismatch
    fix = next(f["fix"] for f in findings if f["code"] == "dependent-unsatisfied")
    assert "torch==2.12.0" in fix  # the plan that satisfies vllmlike


def test_verify_dependents_says_the_failed_import(run_cli, tmp_path: Path, wheels: dict[str, Path]) -> None:
    python = venv_with(tmp_path, wheels, "broken")
    (site_packages(python) / "torch" / "__init__.py").write_text("__version__ = '2.13.0+cpu'\n")
    proc = run_cli("verify", "--json", "--dependents", "--python", str(python), "--timeout", "60")
    checks = {c["name"]: c for c in json.loads(proc.stdout)["checks"]}
    check = checks["import brokenext (brokenext)"]
    assert check["ok"] is False and "undefined symbol: _ZN3c104cuda9SetDeviceEi" in check["detail"]
    assert proc.returncode == 1


def test_two_thousand_distributions_are_read(tmp_path: Path) -> None:
    """The probe reads every distribution's metadata: 2,000 of them, 10 depending on torch."""
    python = make_venv(tmp_path / "venv")
    site = site_packages(python)
    for i in range(2000):
        info = site / f"pkg{i:04d}-1.0.dist-info"
        info.mkdir()
        requires = "Requires-Dist: torch>=2.0\n" if i % 200 == 0 else "Requires-Dist: numpy\n"
        (info / "METADATA").write_text(f"Metadata-Version: 2.1\nName: pkg{i:04d}\nVersion: 1.0\n{requires}\n")
        (info / "RECORD").write_text(f"pkg{i:04d}/__init__.py,,\n")
    env = dict(os.environ, PYTHONPATH=str(REPO))
    doc = json.loads(subprocess.run([sys.executable, "-m", "torchsetup", "probe", "--json", "--python",
                                     str(python)], capture_output=True, text=True, env=env, check=True).stdout)
    assert sorted(d["name"] for d in doc["dependents"]) == [f"pkg{i:04d}" for i in range(0, 2000, 200)]


def test_a_package_asked_for_with_with_is_imported_even_when_pure_python(tmp_path: Path,
                                                                        wheels: dict[str, Path]) -> None:
    """verify after `install --with`: the named packages are imported too, compiled or not."""
    from torchsetup.probe.interpreter import read_interpreter
    from torchsetup.verify import import_dependents

    (tmp_path / "pure").mkdir()
    said = b"raise ImportError('xFormers was built for PyTorch 2.10.0+cu128 (you have 2.13.0)')\n"
    broken_pure = write_wheel(tmp_path / "pure", "xformers", "0.0.35", {"xformers/__init__.py": said},
                              ("torch>=2.10",))
    python = venv_with(tmp_path, {"x": broken_pure, "ranged": wheels["ranged"]}, "x", "ranged")
    dependents = read_interpreter(str(python)).dependents
    assert import_dependents(str(python), dependents, 60) == []  # pure Python, not named: not imported
    checks = import_dependents(str(python), dependents, 60, frozenset({"xformers"}))
    assert [(c["name"], c["ok"]) for c in checks] == [("import xformers (xformers)", False)]
    assert "xFormers was built for PyTorch 2.10.0+cu128" in (checks[0]["detail"] or "")
