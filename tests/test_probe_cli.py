"""The probe command as a whole process: real interpreter child, JSON document, probe files."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from conftest import REPO, site_packages
from hypothesis import given, settings
from hypothesis import strategies as st

from torchsetup import documents
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
    assert set(doc) == PROBE_KEYS and doc["schema"] == documents.PROBE
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


# The interpreter child writes its JSON without importing json (start-up cost); the encoder it runs
# is the text below, exec'd here exactly as the child runs it, and its output is read by json.
def _child_encoder():  # type: ignore[no-untyped-def]
    from torchsetup.probe.interpreter import _ENCODE

    namespace: dict[str, object] = {}
    exec(_ENCODE, namespace)  # noqa: S102 - the child's own code, as it runs there
    return namespace["encode"]


_JSON_VALUES = st.recursive(
    st.none() | st.booleans() | st.integers() | st.text(st.characters(codec=None), max_size=30),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner, max_size=4),
    max_leaves=20)


@settings(max_examples=300, deadline=None)
@given(_JSON_VALUES)
def test_the_child_encoder_writes_json_that_reads_back_the_same(value: object) -> None:
    text = _child_encoder()(value)
    assert text.isascii()  # the child's stdout may be a narrow console
    assert json.loads(text) == value


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
    script = f"import sys; sys.path.insert(0, {str(site)!r})\n"
    from torchsetup.probe.interpreter import _SCRIPT

    proc = subprocess.run([sys.executable, "-c", script + _SCRIPT], capture_output=True, text=True, timeout=60,
                          check=True)
    build = json.loads(proc.stdout)["builds"]["torch"]
    assert (build["version"], build["cuda"], build["hip"], build["git_version"], build["cuda_known"]) == (
        "2.1.0+cu121", "12.1", None, "abc", True)
    assert build["location"] == str(site)


def test_torchsetups_own_interpreter_is_read_in_process_as_a_child_would_read_it(tmp_path: Path) -> None:
    """When the target is the interpreter running torchsetup, the facts are read without a child
    process; they must be exactly what a child reads. A real venv with a torch distribution runs
    torchsetup itself (in-process), and the test's interpreter probes the same venv (a child)."""
    from conftest import make_venv

    from torchsetup.probe.interpreter import read_in_process, same_interpreter

    venv = make_venv(tmp_path / "venv")
    install_fake_dist(venv, "torch", "2.8.0")
    (site_packages(venv) / "~orch-2.7.0.dist-info").mkdir()  # and an install problem to report
    ours = site_packages(Path(sys.executable))  # typer & co for the venv's torchsetup, for both runs alike
    env = {k: v for k, v in os.environ.items() if k not in ("VIRTUAL_ENV", "CONDA_PREFIX", "PYTHONPATH")}
    env["PYTHONPATH"] = os.pathsep.join([str(REPO), str(ours)])
    inside = subprocess.run([str(venv), "-m", "torchsetup", "probe", "--json"], capture_output=True, text=True,
                            env=env, timeout=120, check=True)
    child = subprocess.run([sys.executable, "-m", "torchsetup", "probe", "--json", "--python", str(venv)],
                           capture_output=True, text=True, env=env, timeout=120, check=True)
    a, b = json.loads(inside.stdout), json.loads(child.stdout)
    for key in ("python", "installed", "builds", "install_problems"):
        assert a[key] == b[key], key
    assert a["installed"]["torch"] == "2.8.0" and a["install_problems"][0].startswith("interrupted-install")
    assert same_interpreter(sys.executable) and not same_interpreter(str(venv))
    assert read_in_process() == read_interpreter(sys.executable)  # this test's own interpreter, both ways


def test_the_venvs_python_is_the_python3_a_console_script_runs(tmp_path: Path) -> None:
    """pip writes console scripts with `#!.../bin/python3`; an activated venv names `.../bin/python`.
    Both are one interpreter (one file, one folder, one pyvenv.cfg): read in-process, and reported
    by the name asked for, exactly as a child started by that name reports itself. The base
    interpreter the venv's links lead to is another environment: not the same."""
    from conftest import make_venv

    venv = make_venv(tmp_path / "venv")  # bin/python -> python3 -> the base interpreter
    install_fake_dist(venv, "torch", "2.8.0")
    python3 = venv.parent / "python3"
    ours = site_packages(Path(sys.executable))
    env = {k: v for k, v in os.environ.items() if k not in ("CONDA_PREFIX", "PYTHONPATH")}
    env.update(VIRTUAL_ENV=str(venv.parent.parent), PYTHONPATH=os.pathsep.join([str(REPO), str(ours)]))
    check = ("import os, sys\nfrom torchsetup.probe.interpreter import same_interpreter\n"
             "print(same_interpreter(sys.argv[1]), same_interpreter(os.path.realpath(sys.argv[1])))\n")
    said = subprocess.run([str(python3), "-c", check, str(venv)], capture_output=True, text=True, env=env,
                          timeout=60, check=True).stdout.split()
    assert said == ["True", "False"]
    inside = subprocess.run([str(python3), "-m", "torchsetup", "probe", "--json"], capture_output=True,
                            text=True, env=env, timeout=120, check=True)
    child = subprocess.run([sys.executable, "-m", "torchsetup", "probe", "--json", "--python", str(venv)],
                           capture_output=True, text=True, env=env, timeout=120, check=True)
    a, b = json.loads(inside.stdout), json.loads(child.stdout)
    assert a["python"]["executable"] == str(venv)  # the venv's python, as VIRTUAL_ENV names it
    for key in ("python", "installed", "builds", "install_problems"):
        assert a[key] == b[key], key


def test_a_failing_in_process_read_falls_back_to_a_child(monkeypatch) -> None:
    """The in-process script is replaced by one that fails (the only fake here); the child that
    answers instead is real, and the machine says what the child read."""
    import torchsetup.probe.machine as machine_mod

    def broken(python: str | None = None) -> None:
        raise RuntimeError(f"in-process read of {python} failed")

    monkeypatch.setattr(machine_mod, "read_in_process", broken)
    machine = machine_mod.probe_machine(sys.executable)
    facts = read_interpreter(sys.executable)
    assert (machine.python, machine.installed, machine.builds) == (facts.python, facts.installed, facts.builds)
