"""A newcomer's first ten minutes, each stumble a test: the real CLI in child processes, real venvs,
a real `uv tool install`, and recorded probe documents (fixtures built by hand, not from a machine)."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from pathlib import Path

import pytest
from conftest import REPO, make_venv, site_packages

PROBES = REPO / "tests" / "fixtures" / "probes"
NO_GPU = str(PROBES / "no-gpu.json")


def env_without_environments(**extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in ("VIRTUAL_ENV", "CONDA_PREFIX")}
    env.update(extra)
    return env


# 1. torchsetup in a tool environment of its own (pipx, uv tool) targets the user's python3

@pytest.mark.slow
def test_a_uv_tool_install_targets_the_python3_on_path_not_its_own_environment(tmp_path: Path) -> None:
    uv = shutil.which("uv")
    if uv is None:
        pytest.skip("uv is not on PATH (pip install -e '.[test]' brings it)")
    tools, bins = tmp_path / "tools", tmp_path / "bin"
    env = env_without_environments(UV_TOOL_DIR=str(tools), UV_TOOL_BIN_DIR=str(bins), UV_NO_CONFIG="1")
    proc = subprocess.run([uv, "tool", "install", str(REPO)], capture_output=True, text=True, env=env, timeout=600)
    if proc.returncode != 0:
        pytest.skip(f"uv tool install could not run here: {proc.stderr.strip()[-300:]}")
    user = make_venv(tmp_path / "user", with_pip=False)  # the user's own python3, first on PATH
    run_env = env_without_environments(PATH=os.pathsep.join([str(bins), str(user.parent), "/usr/bin", "/bin"]))
    done = subprocess.run([str(bins / "torchsetup"), "install", "--dry-run"], capture_output=True, text=True,
                          env=run_env, timeout=120)
    assert done.returncode == 0, done.stderr
    python3 = str(user.parent / "python3")
    assert f"the target is {python3} (the python3 on PATH), not torchsetup's own environment" in done.stderr
    assert done.stdout.startswith(f"{python3} -m pip install torch==") or done.stdout.startswith("uv pip install")
    assert str(tools) not in done.stdout  # never the tool's own environment


def test_an_externally_managed_python_is_said(run_cli) -> None:
    system = Path("/usr/bin/python3")
    marker = list(Path("/usr/lib").glob("python3*/EXTERNALLY-MANAGED"))
    if not system.exists() or not marker:
        pytest.skip("no externally managed /usr/bin/python3 on this machine")
    proc = run_cli("install", "--dry-run", "--python", str(system))
    assert proc.returncode == 0, proc.stderr
    assert f"{system} is externally managed (PEP 668)" in proc.stderr and "python3 -m venv .venv" in proc.stderr


def test_a_target_without_pip_gets_uv_or_the_line_that_adds_pip(run_cli, bare_venv: Path, tmp_path: Path) -> None:
    uv = shutil.which("uv")
    if uv is not None:
        with_uv = run_cli("install", "--dry-run", "--python", str(bare_venv))
        assert with_uv.returncode == 0, with_uv.stderr
        assert "has no pip; uv is on PATH, so the command uses uv" in with_uv.stderr
        assert with_uv.stdout.startswith(f"uv pip install --python {bare_venv} torch==")
    no_uv_path = tmp_path / "bin"
    no_uv_path.mkdir()
    env = dict(os.environ, PATH=str(no_uv_path))
    without = run_cli("install", "--dry-run", "--python", str(bare_venv), env=env)
    assert without.returncode == 0, without.stderr
    assert f"has no pip; add it first with `{bare_venv} -m ensurepip`" in without.stderr
    assert without.stdout.startswith(f"{bare_venv} -m pip install torch==")


# 2. torch 2.15.0 (no CPU build for Linux) on a CPU-only Linux machine

def test_the_newest_release_without_a_cpu_build_is_named_and_can_be_asked_for(run_cli) -> None:
    default = run_cli("resolve", "--probe-file", NO_GPU)
    assert default.returncode == 0, default.stderr
    assert default.stdout.startswith("torch 2.14.1 (cpu)")
    assert "torch 2.15.0 has no CPU-only build for linux-x86_64; its CUDA build (cu132) also runs without a GPU" \
        in default.stdout
    asked = run_cli("resolve", "--json", "--probe-file", NO_GPU, "--torch", "2.15")
    assert asked.returncode == 0, asked.stderr
    plan = json.loads(asked.stdout)["plan"]
    assert (plan["torch"], plan["variant"]) == ("2.15.0", "cu132")
    assert any("has no CPU-only build for linux-x86_64: its cu132 build runs here on the CPU" in n
               for n in plan["notes"])
    cpu = run_cli("resolve", "--probe-file", NO_GPU, "--torch", "2.15", "--variant", "cpu")
    assert cpu.returncode == 3
    assert "torch 2.15.0 has no cpu build for linux-x86_64 (it has: cu132)" in cpu.stderr
    assert "no release" not in cpu.stderr  # it exists; it has no CPU build here
    shown = run_cli("matrix", "show", "--torch", "==2.15.0")
    row = next(line for line in shown.stdout.splitlines() if line.startswith("2.15.0"))
    assert "cpu(macos,windows)" in row and "cu132(linux)" in row


# 3. --allow-cpu is offered only where it leads somewhere

def test_allow_cpu_is_offered_only_where_a_cpu_build_lost(run_cli) -> None:
    offered = run_cli("resolve", "--probe-file", str(PROBES / "rtx5090-570.json"), "--torch", "==2.5.1")
    assert offered.returncode == 3 and "--allow-cpu → a CPU-only build" in offered.stderr
    taken = run_cli("resolve", "--json", "--probe-file", str(PROBES / "rtx5090-570.json"), "--torch", "==2.5.1",
                    "--allow-cpu")
    assert taken.returncode == 0, taken.stderr
    assert json.loads(taken.stdout)["plan"]["variant"] == "cpu"
    for probe in ("t4-470.json", "pascal-node.json"):  # 2.15.0 has no Linux CPU build: no dead end offered
        proc = run_cli("resolve", "--probe-file", str(PROBES / probe), "--torch", "2.15")
        assert proc.returncode == 3
        assert "--allow-cpu" not in proc.stderr, probe


# 4. bad input says what is wrong and what was meant

def test_a_folder_given_as_python_is_named_with_the_interpreter_inside(run_cli, tmp_path: Path) -> None:
    venv = make_venv(tmp_path / "venv").parent.parent
    proc = run_cli("probe", "--python", str(venv))
    assert proc.returncode == 5
    assert f"--python {venv} is a folder, not an interpreter" in proc.stderr
    assert f"--python {venv / 'bin' / 'python'}" in proc.stderr


def test_small_words_and_suggestions(run_cli, tmp_path: Path) -> None:
    missing = run_cli("resolve", "--probe-file", str(tmp_path / "nope.json"))
    assert missing.returncode == 2 and "nope.json: cannot read the probe file: no such file" in missing.stderr
    typo = run_cli("resolve", "--probe-file", NO_GPU, "--variant", "cuda12.1")
    assert typo.returncode == 2 and "Did you mean --variant cu121?" in typo.stderr
    future = run_cli("resolve", "--probe-file", NO_GPU, "--torch", "3.0")
    assert future.returncode == 3 and "The newest release the matrix knows is 2.15.0" in future.stderr
    series = json.loads(run_cli("resolve", "--json", "--probe-file", NO_GPU, "--torch", "2.4").stdout)
    exact = json.loads(run_cli("resolve", "--json", "--probe-file", NO_GPU, "--torch", "==2.4").stdout)
    assert series["plan"]["torch"] == "2.4.1" and exact["plan"]["torch"] == "2.4.0"
    one = run_cli("matrix", "show", "--torch", "==2.5.1")
    assert one.stdout.startswith("1 release  (")


def test_a_first_user_copy_of_the_shipped_sources_adds_nothing(run_cli, tmp_path: Path) -> None:
    env = dict(os.environ, TORCHSETUP_HOME=str(tmp_path / "home"))
    proc = run_cli("matrix", "update", "--from", str(REPO / "data" / "sources"), env=env)
    assert proc.returncode == 0, proc.stderr
    assert "(0 added, 0 lost)" in proc.stdout


# 5. a CPU-only container is told, not warned, that it has no GPU

def _container_probe(tmp_path: Path, pci_gpus: int | None) -> str:
    doc = json.loads((PROBES / "container-no-gpu.json").read_text())
    doc["os"]["container"] = True
    doc["nvidia"]["gpus"], doc["nvidia"]["driver_version"] = [], None
    doc["nvidia"]["error"] = "no NVIDIA driver visible: this container has no /dev/nvidia* devices"
    if pci_gpus is None:
        doc["nvidia"].pop("pci_gpus", None)
    else:
        doc["nvidia"]["pci_gpus"] = pci_gpus
    path = tmp_path / f"container-{pci_gpus}.json"
    path.write_text(json.dumps(doc))
    return str(path)


def test_gpu_not_visible_is_info_where_the_bus_has_no_nvidia_gpu(run_cli, tmp_path: Path) -> None:
    def severity(pci_gpus: int | None) -> str:
        doc = json.loads(run_cli("doctor", "--json", "--probe-file", _container_probe(tmp_path, pci_gpus)).stdout)
        found = [f["severity"] for f in doc["findings"] if f["code"] == "gpu-not-visible"]
        assert len(found) == 1, doc["findings"]
        return found[0]

    assert severity(0) == "info"  # nothing NVIDIA on the PCI bus: a CPU machine
    assert severity(None) == "warning"  # the bus was not read: a GPU may be there


# 6. a dry run over an installed torch says what it replaces

def test_a_dry_run_says_what_it_replaces(run_cli, tmp_path: Path) -> None:
    venv = make_venv(tmp_path / "venv")
    site = site_packages(venv)
    for name, version in (("torch", "2.13.0+cpu"), ("torchvision", "0.28.0+cpu")):
        info = site / f"{name}-{version}.dist-info"
        info.mkdir()
        (info / "METADATA").write_text(f"Metadata-Version: 2.1\nName: {name}\nVersion: {version}\n\n")
    proc = run_cli("install", "--dry-run", "--python", str(venv))
    assert proc.returncode == 0, proc.stderr
    assert "replaces torch 2.13.0+cpu → 2.14.1+cpu, torchvision 0.28.0+cpu → 0.29.1" in proc.stderr
    assert f"{venv} torch==2.14.1+cpu" in proc.stdout or f"{venv} -m pip install torch==2.14.1+cpu" in proc.stdout


def test_nothing_replaced_is_said_for_an_empty_environment(run_cli, bare_venv: Path) -> None:
    proc = run_cli("install", "--dry-run", "--python", str(bare_venv), "--installer", "pip")
    assert proc.returncode == 0, proc.stderr
    assert "replaces" not in proc.stderr


# 7. the fast part of the suite, as the README says

def test_the_readme_says_how_to_run_the_fast_tests() -> None:
    readme = (REPO / "README.md").read_text(encoding="utf-8")
    assert 'pytest -m "not slow"' in readme
