"""The probe command as a whole process: real interpreter child, JSON document, probe files."""

from __future__ import annotations

import ast
import json
import os
import subprocess
import sys
from pathlib import Path

from conftest import site_packages

from torchsetup import documents
from torchsetup.probe.interpreter import read_interpreter

PROBE_KEYS = {"schema", "os", "python", "nvidia", "cuda_toolkit", "installed", "builds", "install_problems",
              "dependents", "amd", "intel", "warnings"}


def install_fake_dist(python: Path, name: str, version: str, broken_import: bool = True) -> None:
    """A real distribution's metadata; its module raises on import, proving nobody imports it."""
    sp = site_packages(python)
    info = sp / f"{name}-{version}.dist-info"
    info.mkdir(parents=True, exist_ok=True)
    (info / "METADATA").write_text(f"Metadata-Version: 2.1\nName: {name}\nVersion: {version}\n")
    (info / "RECORD").write_text("")
    if broken_import:
        (sp / name).mkdir(exist_ok=True)
        (sp / name / "__init__.py").write_text("raise RuntimeError('torch must not be imported')\n")


def test_interpreter_probe_reads_metadata_of_a_second_interpreter(bare_venv: Path) -> None:
    install_fake_dist(bare_venv, "torch", "2.5.1+cu124")
    install_fake_dist(bare_venv, "torchvision", "0.20.1+cu124")
    facts = read_interpreter(str(bare_venv))
    info, installed = facts.python, facts.installed
    assert info.executable is not None and Path(info.executable).parent == bare_venv.parent
    assert info.free_threaded is False and info.minor_version is not None
    assert (installed.torch, installed.torchvision, installed.torchaudio) == (
        "2.5.1+cu124", "0.20.1+cu124", None)


def test_probe_json_is_the_document_alone(run_cli, bare_venv: Path) -> None:
    proc = run_cli("probe", "--json", "--python", str(bare_venv))
    assert proc.returncode == 0, proc.stderr
    doc = json.loads(proc.stdout)
    assert set(doc) == PROBE_KEYS and doc["schema"] == documents.PROBE
    assert set(doc["nvidia"]) - {"pci_gpus"} == {"driver_version", "cuda_driver_version", "source", "gpus",
                                                 "error"}
    assert set(doc["os"]) == {"system", "machine", "libc", "wsl", "container", "jetson"}
    assert set(doc["python"]) == {"executable", "version", "free_threaded", "pip", "externally_managed"}
    assert list(doc["amd"]) == ["source", "rocm", "gpus", "hsa_override_gfx_version", "error"]
    assert list(doc["intel"]) == ["source", "gpus", "error"]
    assert doc["installed"]["torch"] == "2.5.1+cu124"
    assert doc["os"]["libc"].startswith("glibc ")


def test_probe_on_this_machine_says_what_the_driver_is_in_words(run_cli) -> None:
    """Holds on a machine with an NVIDIA GPU and on one without."""
    from torchsetup.probe.pci import gpu_kinds

    proc = run_cli("probe")
    assert proc.returncode == 0, proc.stderr
    assert "Python" in proc.stdout and "glibc" in proc.stdout
    if "nvidia" in gpu_kinds():
        assert "NVIDIA driver" in proc.stdout and ("GPUs" in proc.stdout or "cannot be used" in proc.stdout)
    else:
        assert "not found" in proc.stdout and "no NVIDIA driver" in proc.stdout


def test_missing_interpreter_is_exit_5(run_cli, tmp_path: Path) -> None:
    proc = run_cli("probe", "--python", str(tmp_path / "nope"))
    assert proc.returncode == 5
    assert "target interpreter not found" in proc.stderr and "Traceback" not in proc.stderr
    debug = run_cli("--debug", "probe", "--python", str(tmp_path / "nope"))
    assert "Traceback" in debug.stderr and "EnvironmentUnusable" in debug.stderr


def test_broken_interpreter_is_exit_5(run_cli, tmp_path: Path) -> None:
    broken = tmp_path / "python"
    broken.write_text("#!/bin/sh\necho 'error while loading shared libraries' >&2\nexit 127\n")
    broken.chmod(0o755)
    proc = run_cli("probe", "--python", str(broken))
    assert proc.returncode == 5
    assert "is broken (exit 127)" in proc.stderr and "shared libraries" in proc.stderr


def test_probe_file_round_trip(run_cli, tmp_path: Path) -> None:
    recorded = json.loads((Path(__file__).parent / "fixtures/probes/8xa100-centos7.json").read_text())
    f = tmp_path / "p.json"
    f.write_text(json.dumps(recorded))
    proc = run_cli("probe", "--json", "--probe-file", str(f))
    assert proc.returncode == 0, proc.stderr
    doc = json.loads(proc.stdout)
    assert doc["nvidia"]["gpus"] == recorded["nvidia"]["gpus"]
    assert doc["os"] == recorded["os"]


def test_bad_probe_files_are_exit_2_naming_file_and_problem(run_cli, tmp_path: Path) -> None:
    cases = {
        "trunc.json": ('{"schema": "torchsetup.probe/1", "os": {', "not valid JSON"),
        "schema.json": ('{"schema": "torchsetup.probe/9"}', "expected 'torchsetup.probe/1'"),
        "cc.json": ('{"schema": "torchsetup.probe/1", "nvidia": {"gpus": [{"index": 0, "name": "x",'
                    ' "compute_capability": "sm_86"}]}}', "nvidia.gpus[0].compute_capability"),
        "type.json": ('{"schema": "torchsetup.probe/1", "os": {"wsl": "yes"}}', "os.wsl: expected bool"),
    }
    for name, (text, problem) in cases.items():
        f = tmp_path / name
        f.write_text(text)
        proc = run_cli("probe", "--probe-file", str(f))
        assert proc.returncode == 2, (name, proc.stderr)
        assert str(f) in proc.stderr and problem in proc.stderr, proc.stderr
        assert "Traceback" not in proc.stderr


def test_unknown_option_is_exit_2(run_cli) -> None:
    proc = run_cli("probe", "--frobnicate")
    assert proc.returncode == 2 and "--frobnicate" in proc.stderr


def test_version_and_bare_help(run_cli) -> None:
    from torchsetup import __version__

    version = run_cli("--version")
    assert version.returncode == 0 and version.stdout.strip() == f"torchsetup {__version__}"
    bare = run_cli()
    assert bare.returncode == 0 and "probe" in bare.stdout and "doctor" in bare.stdout


def test_the_child_reads_version_py_as_text_in_every_spelling(tmp_path: Path) -> None:
    """Spellings seen in real torch/version.py files, and lines that must not be taken."""
    site = tmp_path / 'sit\u00e9 "q" \\ \U0001d11e'  # the location comes back through the child's encoder
    (site / "torch").mkdir(parents=True)
    (site / "torch-2.1.0.dist-info").mkdir()
    (site / "torch-2.1.0.dist-info" / "METADATA").write_text("Name: torch\nVersion: 2.1.0\n\n")
    (site / "torch" / "version.py").write_text(
        "from typing import Optional\n"
        "__all__ = ['__version__', 'debug', 'cuda', 'git_version', 'hip']\n"
        "if False:\n    cuda = '99.9'\n"  # indented: not the module's own value
        "__version__ = \"2.1.0+cu121\"\ndebug = False\n"
        "cuda: Optional[str] = '12.1'\ngit_version = 'abc'\nhip: Optional[str] = None\n"
        "cuda = '11.8'\n")  # a second assignment: the first one counts, as it did with the regex
    from torchsetup.probe.interpreter import INTERPRETER_SCRIPT

    env = dict(os.environ, PYTHONPATH=str(site))
    proc = subprocess.run([sys.executable, str(INTERPRETER_SCRIPT)], capture_output=True, text=True, timeout=60,
                          check=True, env=env)
    build = ast.literal_eval(proc.stdout)["builds"]["torch"]
    assert (build["version"], build["cuda"], build["hip"], build["git_version"], build["cuda_known"]) == (
        "2.1.0+cu121", "12.1", None, "abc", True)
    assert build["location"] == str(site)
    assert proc.stdout.isascii()  # the literal is written with ascii(): no console can garble it


def test_the_script_does_not_read_its_own_folder(tmp_path: Path) -> None:
    """Python puts a script's folder first on sys.path; a `python -c` child has no such entry. The
    interpreter script drops it: a torch distribution beside the script is not the target's."""
    from torchsetup.probe.interpreter import INTERPRETER_SCRIPT

    folder = tmp_path / "scripts"
    (folder / "torch-9.9.9.dist-info").mkdir(parents=True)
    (folder / "torch-9.9.9.dist-info" / "METADATA").write_text("Name: torch\nVersion: 9.9.9\n\n")
    copy = folder / INTERPRETER_SCRIPT.name
    copy.write_text(INTERPRETER_SCRIPT.read_text())
    env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}
    beside = ast.literal_eval(subprocess.run([sys.executable, str(copy)], capture_output=True, text=True, env=env,
                                       timeout=60, check=True).stdout)
    assert beside["installed"]["torch"] is None and beside["builds"]["torch"] is None
    env["PYTHONPATH"] = str(folder)  # the same folder, named by the user: it counts
    named = ast.literal_eval(subprocess.run([sys.executable, str(copy)], capture_output=True, text=True, env=env,
                                      timeout=60, check=True).stdout)
    assert named["installed"]["torch"] == "9.9.9"
