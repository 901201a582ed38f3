"""The probe command as a whole process: real interpreter child, JSON document, probe files."""

from __future__ import annotations

import json
from pathlib import Path

from conftest import site_packages

from torchsetup.probe.interpreter import read_interpreter

PROBE_KEYS = {"schema", "os", "python", "nvidia", "cuda_toolkit", "installed", "builds", "install_problems",
              "warnings"}


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
    assert set(doc) == PROBE_KEYS and doc["schema"] == "torchsetup.probe/1"
    assert set(doc["nvidia"]) - {"pci_gpus"} == {"driver_version", "cuda_driver_version", "source", "gpus",
                                                 "error"}
    assert set(doc["os"]) == {"system", "machine", "libc", "wsl", "container", "jetson"}
    assert set(doc["python"]) == {"executable", "version", "free_threaded"}
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
