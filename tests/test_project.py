"""`torchsetup project` with real uv against PEP 503 indexes on 127.0.0.1 standing in for the PyTorch
indexes (cpu, cu126, cu130) and for PyPI: stand-in wheels of torch and torchvision 2.14.1 / 0.29.1
whose torch/version.py says their build. The probe documents are the fixtures in fixtures/probes
(written by hand from driver tables, not recorded), and one Windows document derived from one of them."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from localindex import Index, write_wheel

PROBES = Path(__file__).parent / "fixtures" / "probes"
TORCH, VISION = "2.14.1", "0.29.1"
BUILDS = {"cpu": None, "cu126": "12.6", "cu130": "13.0"}


def stand_in(dest: Path, name: str, version: str, cuda: str | None) -> Path:
    files = {f"{name}/__init__.py": f"__version__ = {version!r}\n".encode(),
             f"{name}/version.py": (f"__version__ = '{version}'\ncuda = {cuda!r}\nhip = None\n"
                                    f"git_version = '{'ab' * 20}'\n").encode()}
    return write_wheel(dest, name, version, files, ("torch==2.14.1",) if name == "torchvision" else ())


@pytest.fixture(scope="module")
def index(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Index]:
    wheels = tmp_path_factory.mktemp("wheels")
    served = Index()
    for variant, cuda in BUILDS.items():
        served.add(f"/whl/{variant}", stand_in(wheels / variant, "torch", f"{TORCH}+{variant}", cuda))
        served.add(f"/whl/{variant}", stand_in(wheels / variant, "torchvision", f"{VISION}+{variant}", cuda))
    # PyPI's own 2.14.1 for Linux is the cu130 build (as the matrix records it)
    served.add("/pypi", stand_in(wheels / "pypi", "torch", TORCH, "13.0"))
    served.add("/pypi", stand_in(wheels / "pypi", "torchvision", VISION, "13.0"))
    # vLLM 0.33.0 and what it pins (its METADATA on the package index: torch==2.14.0, torchvision==0.29.0,
    # torchaudio==2.11.0); stand-ins under those names and versions
    served.add("/pypi", stand_in(wheels / "pypi", "torch", "2.14.0", "13.0"))
    served.add("/pypi", write_wheel(wheels / "pypi", "torchvision", "0.29.0", {"torchvision/__init__.py": b""},
                                    ("torch==2.14.0",)))
    served.add("/pypi", write_wheel(wheels / "pypi", "torchaudio", "2.11.0", {"torchaudio/__init__.py": b""},
                                    ("torch",)))
    served.add("/pypi", write_wheel(wheels / "pypi", "vllm", "0.33.0", {"vllm/__init__.py": b""},
                                    ("torch==2.14.0", "torchvision==0.29.0", "torchaudio==2.11.0")))
    yield served
    served.stop()


def uv_path() -> str:
    found = shutil.which("uv") or str(Path(sys.executable).parent / "uv")
    if not Path(found).exists():
        pytest.skip("uv is not installed (pip install uv)")
    return found


def uv_env(index: Index, tmp: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("UV_", "PIP_", "VIRTUAL_ENV"))}
    env.update(UV_DEFAULT_INDEX=f"{index.url}/pypi", UV_CACHE_DIR=str(tmp / "uv-cache"), UV_NO_CONFIG="1",
               UV_PYTHON=sys.executable, UV_PYTHON_DOWNLOADS="never", TORCHSETUP_INDEX_BASE=f"{index.url}/whl")
    return env


def uv(index: Index, project: Path, *args: str) -> subprocess.CompletedProcess[str]:
    proc = subprocess.run([uv_path(), *args], cwd=project, capture_output=True, text=True,
                          env=uv_env(index, project.parent), timeout=300)
    assert proc.returncode == 0, proc.stderr
    return proc


def new_project(tmp: Path, extra_text: str = "") -> Path:
    project = tmp / "app"
    project.mkdir()
    (project / "pyproject.toml").write_text(
        '[project]\nname = "app"\nversion = "0.1.0"\nrequires-python = ">=3.10"\n'
        "# what the app needs\n"
        'dependencies = [\n    "torch>=2.4",  # any recent torch\n]\n' + extra_text)
    return project


def windows_probe(tmp: Path) -> Path:
    """h100-580.json as if Windows had answered (derived from the fixture, not recorded)."""
    doc = json.loads((PROBES / "h100-580.json").read_text())
    doc["os"].update(system="Windows", machine="AMD64", libc=None)
    path = tmp / "windows-h100.json"
    path.write_text(json.dumps(doc))
    return path


def this_machine_probe(run_cli, tmp: Path) -> Path:
    proc = run_cli("probe", "--json")
    assert proc.returncode == 0, proc.stderr
    doc = json.loads(proc.stdout)
    assert not (doc.get("nvidia") or {}).get("gpus"), "these tests expect a machine without an NVIDIA GPU"
    path = tmp / "this-machine.json"
    path.write_text(proc.stdout)
    return path


def installed(project: Path) -> dict[str, str]:
    python = project / ".venv" / "bin" / "python"
    out = subprocess.run([str(python), "-c", "import torch.version as v, torchvision.version as w; "
                          "print(v.__version__, v.cuda, w.__version__)"],
                         capture_output=True, text=True, check=True).stdout.split()
    return {"torch": out[0], "cuda": out[1], "torchvision": out[2]}


def locked(project: Path) -> set[tuple[str, str, str]]:
    """(name, version, registry) of every torch family package in uv.lock."""
    import tomllib

    data = tomllib.loads((project / "uv.lock").read_text())
    return {(p["name"], p["version"], p["source"].get("registry", "").rsplit("/", 1)[-1])
            for p in data["package"] if p["name"] in ("torch", "torchvision")}


def project_cli(run_cli, index: Index, project: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "TORCHSETUP_INDEX_BASE": f"{index.url}/whl"}
    return run_cli("project", "--project", str(project), "--allow-insecure-index", *args, env=env)


pytestmark = pytest.mark.slow


def test_one_machine_written_locked_and_synced_then_nothing_changes(run_cli, index: Index, tmp_path: Path) -> None:
    project = new_project(tmp_path)
    before = (project / "pyproject.toml").read_text()
    mine = this_machine_probe(run_cli, tmp_path)
    shown = project_cli(run_cli, index, project, "--probe-file", str(mine), "--torch", TORCH)
    assert shown.returncode == 0, shown.stderr
    assert (project / "pyproject.toml").read_text() == before  # a diff is shown, nothing written
    assert '-    "torch>=2.4",  # any recent torch' in shown.stdout
    assert '+    "torch==2.14.1",' in shown.stdout and "(not written: pass --write)" in shown.stdout
    written = project_cli(run_cli, index, project, "--probe-file", str(mine), "--torch", TORCH, "--write",
                          "--json")
    doc = json.loads(written.stdout)
    assert (doc["schema"], doc["ok"], doc["tool"], doc["changed"], doc["written"]) == (
        "torchsetup.project/1", True, "uv", True, True)
    assert [(c["name"], c["marker"], c["extra"], c["plan"]["torch"]) for c in doc["classes"]] == [
        ("cpu", None, None, TORCH)]
    text = (project / "pyproject.toml").read_text()
    pins = '    "torch==2.14.1",\n    "torchvision==0.29.1"\n]\n'
    assert text == before.replace('    "torch>=2.4",  # any recent torch\n]\n', pins) + (
        '\n[[tool.uv.index]]\nname = "pytorch-cpu"\nurl = "' + index.url + '/whl/cpu"\nexplicit = true\n\n'
        '[tool.uv.sources]\ntorch = {index = "pytorch-cpu"}\ntorchvision = {index = "pytorch-cpu"}\n')
    assert not (project / "pyproject.toml.bak").exists()
    uv(index, project, "lock")
    assert locked(project) == {("torch", f"{TORCH}+cpu", "cpu"), ("torchvision", f"{VISION}+cpu", "cpu")}
    uv(index, project, "sync")
    assert installed(project) == {"torch": f"{TORCH}+cpu", "cuda": "None", "torchvision": f"{VISION}+cpu"}
    again = uv(index, project, "sync")
    assert "Installed" not in again.stderr and "Uninstalled" not in again.stderr, again.stderr
    run = uv(index, project, "run", "python", "-c", "import torch")
    assert "Installed" not in run.stderr and "Uninstalled" not in run.stderr, run.stderr
    unchanged = (project / "pyproject.toml").read_bytes()
    rerun = project_cli(run_cli, index, project, "--probe-file", str(mine), "--write")  # its torch==2.14.1 holds
    assert rerun.returncode == 0 and "nothing to change" in rerun.stdout
    assert (project / "pyproject.toml").read_bytes() == unchanged
    doctor = run_cli("doctor", "--json", "--python", str(project / ".venv" / "bin" / "python"))
    findings = json.loads(doctor.stdout)["findings"]
    assert [f for f in findings if f["severity"] == "error"] == [], findings


def test_three_platforms_get_markers_in_one_universal_lock(run_cli, index: Index, tmp_path: Path) -> None:
    project = new_project(tmp_path)
    files = [str(PROBES / "h100-580.json"), str(PROBES / "macos-arm64.json"), str(windows_probe(tmp_path))]
    proc = project_cli(run_cli, index, project, *[a for f in files for a in ("--probe-file", f)], "--torch", TORCH,
                       "--write", "--json")
    doc = json.loads(proc.stdout)
    assert sorted((c["platform"], c["plan"]["variant"], c["marker"], c["extra"]) for c in doc["classes"]) == [
        ("linux-x86_64", "cu130", "sys_platform == 'linux'", None),
        ("macos-arm64", "cpu", "sys_platform == 'darwin'", None),
        ("windows-x86_64", "cu130", "sys_platform == 'win32'", None)]
    text = (project / "pyproject.toml").read_text()
    assert "[tool.uv.sources]" in text and "conflicts" not in text
    assert '{index = "pytorch-cu130", marker = "sys_platform == \'win32\'"}' in text
    uv(index, project, "lock")
    # Linux and macOS take PyPI's own build (cu130 on Linux, CPU on macOS); Windows the cu130 index's
    assert locked(project) == {("torch", TORCH, "pypi"), ("torchvision", VISION, "pypi"),
                               ("torch", f"{TORCH}+cu130", "cu130"), ("torchvision", f"{VISION}+cu130", "cu130")}
    uv(index, project, "sync")
    assert installed(project) == {"torch": TORCH, "cuda": "13.0", "torchvision": VISION}


def test_two_linux_classes_get_extras_with_conflicts_and_which_names_them(run_cli, index: Index,
                                                                        tmp_path: Path) -> None:
    project = new_project(tmp_path, '\n[tool.ruff]\nline-length = 100  # kept\n')
    fleet = tmp_path / "fleet"
    fleet.mkdir()
    shutil.copy(this_machine_probe(run_cli, tmp_path), fleet / "ci-runner.json")
    shutil.copy(PROBES / "pascal-node.json", fleet / "p100-node.json")
    proc = project_cli(run_cli, index, project, "--probe-file", str(fleet), "--torch", TORCH, "--write", "--json")
    doc = json.loads(proc.stdout)
    assert [(c["name"], c["extra"], c["machines"]) for c in doc["classes"]] == [
        ("cpu", "cpu", ["ci-runner.json"]), ("cu126", "cu126", ["p100-node.json"])]
    text = (project / "pyproject.toml").read_text()
    assert "line-length = 100  # kept" in text and "[tool.uv]\nconflicts" in text
    which = project_cli(run_cli, index, project, "--which", "--probe-file", str(PROBES / "pascal-node.json"))
    assert (which.returncode, which.stdout) == (0, "cu126\n"), which.stderr
    mine = project_cli(run_cli, index, project, "--which")
    assert (mine.returncode, mine.stdout) == (0, "cpu\n"), mine.stderr
    h100 = project_cli(run_cli, index, project, "--which", "--probe-file", str(PROBES / "k80-470.json"))
    assert h100.returncode == 3 and h100.stdout == "" and "no class of the project fits" in h100.stderr
    uv(index, project, "lock")
    assert locked(project) == {("torch", f"{TORCH}+cpu", "cpu"), ("torchvision", f"{VISION}+cpu", "cpu"),
                               ("torch", f"{TORCH}+cu126", "cu126"), ("torchvision", f"{VISION}+cu126", "cu126")}
    uv(index, project, "sync", "--extra", "cu126")
    assert installed(project)["torch"] == f"{TORCH}+cu126"
    uv(index, project, "sync", "--extra", "cpu")
    assert installed(project) == {"torch": f"{TORCH}+cpu", "cuda": "None", "torchvision": f"{VISION}+cpu"}
    again = uv(index, project, "sync", "--extra", "cpu")
    assert "Installed" not in again.stderr and "Uninstalled" not in again.stderr, again.stderr


def test_doctor_says_when_the_projects_lock_would_undo_the_fix(run_cli, index: Index, tmp_path: Path) -> None:
    project = new_project(tmp_path)
    h100 = str(PROBES / "h100-580.json")

    def doctor() -> list[dict[str, str]]:
        proc = run_cli("doctor", "--json", "--probe-file", h100, "--project", str(project))
        assert proc.returncode == 1, proc.stderr
        return json.loads(proc.stdout)["findings"]

    # no lock yet, no source: `uv sync` takes torch from the default index (PyPI's 2.15.0 is cu132 on Linux:
    # it runs on the H100), so the project does not undo the fix
    assert [f for f in doctor() if f["code"] == "project-undoes-fix"] == []
    project_cli(run_cli, index, project, "--probe-file", str(PROBES / "no-gpu.json"), "--torch", TORCH, "--write")
    uv(index, project, "lock")  # a lock made for a CPU machine: torch 2.14.1+cpu
    found = doctor()
    undo = [f for f in found if f["code"] == "project-undoes-fix"]
    assert len(undo) == 1 and undo[0]["severity"] == "error"
    assert undo[0]["message"].startswith("uv.lock would install torch 2.14.1+cpu here, and torch 2.14.1+cpu is a "
                                         "CPU-only build"), undo[0]["message"]
    fix = "torchsetup project --write, then uv lock && uv sync"
    assert undo[0]["fix"] == fix
    # the reinstall fix pip would give is the project's fix instead
    assert [f["fix"] for f in found if f["code"] == "torch-not-installed"] == [fix]
    project_cli(run_cli, index, project, "--probe-file", h100, "--torch", TORCH, "--write")
    uv(index, project, "lock")  # now PyPI's 2.14.1 (cu130), which runs on the H100
    assert [f for f in doctor() if f["code"] == "project-undoes-fix"] == []


@pytest.fixture(scope="module")
def poetry(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Real Poetry from the package index, in a throwaway environment (skipped when it cannot be installed)."""
    env_dir = tmp_path_factory.mktemp("poetry") / "venv"
    made = subprocess.run([uv_path(), "venv", "-q", str(env_dir)], capture_output=True, text=True)
    install = subprocess.run([uv_path(), "pip", "install", "-q", "--python", str(env_dir / "bin" / "python"),
                              "poetry"], capture_output=True, text=True, timeout=600)
    if made.returncode or install.returncode:
        pytest.skip(f"could not install Poetry: {(made.stderr + install.stderr).strip()[-300:]}")
    return env_dir / "bin" / "poetry"


def run_poetry(poetry: Path, project: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("POETRY_", "VIRTUAL_ENV", "PIP_"))}
    env.update(POETRY_VIRTUALENVS_IN_PROJECT="true", POETRY_CACHE_DIR=str(project.parent / "poetry-cache"),
               POETRY_CONFIG_DIR=str(project.parent / "poetry-config"), POETRY_NO_INTERACTION="1")
    proc = subprocess.run([str(poetry), *args], cwd=project, capture_output=True, text=True, env=env, timeout=600)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    return proc


POETRY_PROJECT = """[tool.poetry]
name = "app"
version = "0.1.0"
description = ""
authors = ["A <a@example.com>"]
package-mode = false

[tool.poetry.dependencies]
python = "^3.10"
torch = "^2.4"  # the backbone

[build-system]
requires = ["poetry-core"]
build-backend = "poetry.core.masonry.api"
"""


def test_a_poetry_project_binds_torch_to_its_source_and_poetry_installs_it(
        run_cli, index: Index, poetry: Path, tmp_path: Path) -> None:
    project = tmp_path / "app"
    project.mkdir()
    (project / "pyproject.toml").write_text(POETRY_PROJECT)
    p100 = str(PROBES / "pascal-node.json")
    proc = project_cli(run_cli, index, project, "--probe-file", p100, "--torch", TORCH, "--write", "--json")
    doc = json.loads(proc.stdout)
    assert (doc["tool"], [c["plan"]["variant"] for c in doc["classes"]]) == ("poetry", ["cu126"]), proc.stderr
    text = (project / "pyproject.toml").read_text()
    assert text == POETRY_PROJECT.replace(
        'torch = "^2.4"  # the backbone\n',
        'torch = {version = "2.14.1", source = "pytorch-cu126"}  # the backbone\n'
        'torchvision = {version = "0.29.1", source = "pytorch-cu126"}\n\n'
        '[[tool.poetry.source]]\nname = "pytorch-cu126"\nurl = "' + index.url + '/whl/cu126"\n'
        'priority = "explicit"\n'), text
    run_poetry(poetry, project, "lock")
    lock = (project / "poetry.lock").read_text()
    assert 'version = "2.14.1+cu126"' in lock and f'url = "{index.url}/whl/cu126"' in lock
    run_poetry(poetry, project, "install")
    assert installed(project) == {"torch": f"{TORCH}+cu126", "cuda": "12.6", "torchvision": f"{VISION}+cu126"}
    again = run_poetry(poetry, project, "install")
    assert "No dependencies to install or update" in again.stdout, again.stdout
    unchanged = (project / "pyproject.toml").read_bytes()
    rerun = project_cli(run_cli, index, project, "--probe-file", p100, "--write")  # its pin 2.14.1 holds
    assert rerun.returncode == 0 and "nothing to change" in rerun.stdout, rerun.stdout + rerun.stderr
    assert (project / "pyproject.toml").read_bytes() == unchanged
    # two classes on one platform: Poetry has no conflicting extras, so it is refused with the way out
    two = project_cli(run_cli, index, project, "--probe-file", p100, "--probe-file",
                      str(PROBES / "no-gpu.json"), "--torch", TORCH, "--write")
    assert two.returncode == 3 and "Poetry cannot lock mutually exclusive builds" in two.stderr
    assert (project / "pyproject.toml").read_bytes() == unchanged


def test_a_poetry_project_for_two_platforms_gets_markers(run_cli, index: Index, poetry: Path,
                                                         tmp_path: Path) -> None:
    project = tmp_path / "app"
    project.mkdir()
    (project / "pyproject.toml").write_text(POETRY_PROJECT)
    proc = project_cli(run_cli, index, project, "--probe-file", str(PROBES / "pascal-node.json"),
                       "--probe-file", str(windows_probe(tmp_path)), "--torch", TORCH, "--write")
    assert proc.returncode == 0, proc.stderr
    text = (project / "pyproject.toml").read_text()
    assert '{version = "2.14.1", source = "pytorch-cu126", markers = "sys_platform == \'linux\'"}' in text
    assert '{version = "2.14.1", source = "pytorch-cu130", markers = "sys_platform == \'win32\'"}' in text
    run_poetry(poetry, project, "lock")
    lock = (project / "poetry.lock").read_text()
    assert 'version = "2.14.1+cu126"' in lock and 'version = "2.14.1+cu130"' in lock


def test_a_poetry_2_project_with_pep_621_dependencies_binds_the_source_only(
        run_cli, index: Index, poetry: Path, tmp_path: Path) -> None:
    project = tmp_path / "app"
    project.mkdir()
    (project / "pyproject.toml").write_text(
        '[project]\nname = "app"\nversion = "0.1.0"\nrequires-python = ">=3.10"\n'
        'dependencies = ["torch>=2.4"]\n\n[tool.poetry]\npackage-mode = false\n')
    proc = project_cli(run_cli, index, project, "--probe-file", str(PROBES / "pascal-node.json"), "--torch", TORCH,
                       "--write")
    assert proc.returncode == 0, proc.stderr
    text = (project / "pyproject.toml").read_text()
    assert 'dependencies = ["torch==2.14.1", "torchvision==0.29.1"]' in text
    assert 'torch = {source = "pytorch-cu126"}' in text and 'torchvision = {source = "pytorch-cu126"}' in text
    run_poetry(poetry, project, "lock")
    run_poetry(poetry, project, "install")
    assert installed(project) == {"torch": f"{TORCH}+cu126", "cuda": "12.6", "torchvision": f"{VISION}+cu126"}


def test_a_neighbour_pins_the_plan_where_it_is_installed_and_is_named_where_it_is_not(run_cli,
                                                                                      tmp_path: Path) -> None:
    project = tmp_path / "app"
    project.mkdir()
    (project / "pyproject.toml").write_text('[project]\nname = "app"\nversion = "0.1.0"\n'
                                            'dependencies = ["vllm==0.33.0", "torch"]\n')
    examples = Path(__file__).parent.parent / "examples"
    held = json.loads(run_cli("project", "--project", str(project), "--probe-file",
                              str(examples / "h100-with-vllm.json"), "--json").stdout)
    plan = held["classes"][0]["plan"]
    assert (plan["torch"], plan["torchvision"]) == ("2.14.0", "0.29.0")
    assert [h["requires"] for h in plan["held_by"]] == ["torch==2.14.0", "torchvision==0.29.0",
                                                        "torchaudio==2.11.0"]
    assert not any(n.startswith("not checked") for n in held["notes"])
    free = json.loads(run_cli("project", "--project", str(project), "--probe-file",
                              str(PROBES / "h100-580.json"), "--json").stdout)
    assert free["classes"][0]["plan"]["held_by"] == []
    assert [n for n in free["notes"] if n.startswith("not checked")] == [
        "not checked: the requirements on torch of vllm (in the project, installed in no environment probed "
        "here: install them, or record a probe where they are)"]


def test_with_writes_the_package_pinned_with_torch_and_the_lock_installs_both(run_cli, index: Index,
                                                                             tmp_path: Path) -> None:
    project = new_project(tmp_path)
    text = (project / "pyproject.toml").read_text().replace('"torch>=2.4",', '"vllm>=0.30",\n    "torch>=2.4",')
    (project / "pyproject.toml").write_text(text)
    proc = project_cli(run_cli, index, project, "--probe-file", str(PROBES / "h100-580.json"),
                       "--with", "vllm==0.33.0", "--write", "--json")
    doc = json.loads(proc.stdout)
    assert doc["ok"] is True, proc.stderr
    assert doc["classes"][0]["plan"]["with"] == [{"name": "vllm", "version": "0.33.0", "source": "pypi",
                                                  "url": None}]
    written = (project / "pyproject.toml").read_text()
    assert ('dependencies = [\n    "torch==2.14.0",\n    "torchvision==0.29.0",\n    "torchaudio==2.11.0",\n'
            '    "vllm==0.33.0"\n]') in written  # torchaudio: vLLM's pin (the matrix pairs none with 2.14.0)
    assert "vllm>=0.30" not in written
    uv(index, project, "lock")
    uv(index, project, "sync")
    python = project / ".venv" / "bin" / "python"
    out = subprocess.run([str(python), "-c", "import importlib.metadata as m; print(m.version('vllm'), "
                          "m.version('torch'))"], capture_output=True, text=True, check=True).stdout.split()
    assert out == ["0.33.0", "2.14.0"]


def test_with_a_pyg_package_writes_its_page_as_a_flat_index_and_the_lock_installs_from_it(
        run_cli, index: Index, tmp_path: Path) -> None:
    """PyG's page for the planned torch and variant (torch-2.12.0+cpu.html, a stand-in on 127.0.0.1
    through $TORCHSETUP_PYG_PAGES) becomes a uv index with format = "flat", explicit, and
    torch-scatter is routed to it; real uv locks and installs the build from that page."""
    wheels = tmp_path / "wheels"
    index.add("/whl/cpu", stand_in(wheels, "torch", "2.12.1+cpu", None))
    index.add("/whl/cpu", write_wheel(wheels, "torchvision", "0.27.1+cpu", {"torchvision/__init__.py": b""},
                                      ("torch==2.12.1",)))
    index.add_page("/pyg/torch-2.12.0+cpu.html", write_wheel(wheels, "torch_scatter", "2.1.2+pt212cpu",
                                                             {"torch_scatter/__init__.py": b""}, ("torch",)))
    index.add_page("/pyg/torch-2.12.0+cpu.html", write_wheel(wheels, "torch_sparse", "0.6.18+pt212cpu",
                                                             {"torch_sparse/__init__.py": b""}, ("torch",)))
    project = new_project(tmp_path)
    probe = this_machine_probe(run_cli, tmp_path)
    env = {**os.environ, "TORCHSETUP_INDEX_BASE": f"{index.url}/whl", "TORCHSETUP_PYG_PAGES": f"{index.url}/pyg"}
    proc = run_cli("project", "--project", str(project), "--allow-insecure-index", "--probe-file", str(probe),
                   "--with", "torch-scatter", "--write", "--json", env=env)
    doc = json.loads(proc.stdout)
    assert doc["ok"] is True, proc.stderr
    page = f"{index.url}/pyg/torch-2.12.0+cpu.html"
    assert doc["classes"][0]["plan"]["with"] == [{"name": "torch-scatter", "version": "from the page",
                                                  "source": "find-links", "url": page}]
    written = (project / "pyproject.toml").read_text()
    assert 'dependencies = [\n    "torch==2.12.1",\n    "torchvision==0.27.1",\n    "torch-scatter"\n]' in written
    assert (f'[[tool.uv.index]]\nname = "pytorch-pyg-torch-2.12.0-cpu"\nurl = "{page}"\nformat = "flat"\n'
            'explicit = true\n') in written
    assert 'torch-scatter = {index = "pytorch-pyg-torch-2.12.0-cpu"}' in written
    uv(index, project, "lock")
    uv(index, project, "sync")
    python = project / ".venv" / "bin" / "python"
    script = "import importlib.metadata as m; print(m.version('torch'), m.version('torch-scatter'))"
    out = subprocess.run([str(python), "-c", script], capture_output=True, text=True, check=True).stdout.split()
    assert out == ["2.12.1+cpu", "2.1.2+pt212cpu"]
    # written again without --with: the project lists torch-scatter, so its page still follows the plan
    again = run_cli("project", "--project", str(project), "--allow-insecure-index", "--probe-file", str(probe),
                    "--json", env=env)
    redone = json.loads(again.stdout)
    assert redone["ok"] is True and redone["changed"] is False, again.stderr
    assert ("torch-scatter: in the project; planned from PyG's page of the planned torch, as --with "
            "torch-scatter does") in redone["notes"]
    assert (project / "pyproject.toml").read_text() == written


def test_a_poetry_project_gets_the_with_packages_bound_to_their_sources_and_poetry_installs_them(
        run_cli, index: Index, poetry: Path, tmp_path: Path) -> None:
    """--with torch-scatter --with flash-attn in a classic Poetry project: PyG's page (a stand-in on
    127.0.0.1) becomes a single-page link source the package is bound to; flash-attn's release asset
    (a stand-in, for a machine whose probe document says an H100 on driver 580 and this Python) its
    url. Real Poetry locks and installs from them (nothing here comes from PyPI: the project has no
    other dependency, and the stand-ins require only torch)."""
    wheels = tmp_path / "wheels"
    py = f"{sys.version_info.major}{sys.version_info.minor}"
    index.add("/whl/cu130", stand_in(wheels, "torch", "2.10.0+cu130", "13.0"))
    asset = write_wheel(wheels / "gh", "flash_attn", "2.8.3.post2+cu13torch2.10cxx11abiTRUE",
                        {"flash_attn/__init__.py": b""}, ("torch",), tag=f"cp{py}-cp{py}-linux_x86_64")
    index.add("/assets", asset)
    index.add_page("/pyg/torch-2.10.0+cu130.html", write_wheel(wheels, "torch_scatter", "2.1.2+pt210cu130",
                                                               {"torch_scatter/__init__.py": b""}, ("torch",)))
    probe = json.loads((PROBES / "h100-580.json").read_text())
    probe["python"]["version"] = ".".join(map(str, sys.version_info[:3]))
    (tmp_path / "h100.json").write_text(json.dumps(probe))
    project = tmp_path / "app"
    project.mkdir()
    (project / "pyproject.toml").write_text(POETRY_PROJECT)
    releases = f"{index.url}/files/Dao-AILab/flash-attention/releases/download"
    env = {**os.environ, "TORCHSETUP_INDEX_BASE": f"{index.url}/whl", "TORCHSETUP_PYG_PAGES": f"{index.url}/pyg",
           "TORCHSETUP_FLASH_ATTN_RELEASES": releases}
    proc = run_cli("project", "--project", str(project), "--allow-insecure-index", "--probe-file",
                   str(tmp_path / "h100.json"), "--no-torchvision", "--no-torchaudio", "--with", "flash-attn",
                   "--with", "torch-scatter", "--write", "--json", env=env)
    doc = json.loads(proc.stdout)
    assert doc["ok"] is True, proc.stderr
    page = f"{index.url}/pyg/torch-2.10.0+cu130.html"
    url = f"{releases}/v2.8.3.post2/{asset.name}"
    text = (project / "pyproject.toml").read_text()
    assert text == POETRY_PROJECT.replace(
        'torch = "^2.4"  # the backbone\n',
        'torch = {version = "2.10.0", source = "pytorch-cu130"}  # the backbone\n'
        f'flash-attn = {{url = "{url}"}}\n'
        'torch-scatter = {version = "*", source = "pytorch-pyg-torch-2.10.0-cu130"}\n\n'
        '[[tool.poetry.source]]\nname = "pytorch-cu130"\nurl = "' + index.url + '/whl/cu130"\n'
        'priority = "explicit"\n\n'
        '[[tool.poetry.source]]\nname = "pytorch-pyg-torch-2.10.0-cu130"\nurl = "' + page + '"\n'
        'priority = "explicit"\n'), text
    run_poetry(poetry, project, "lock")
    run_poetry(poetry, project, "install")
    python = project / ".venv" / "bin" / "python"
    script = ("import importlib.metadata as m; print(*(m.version(n) for n in "
              "('torch', 'flash-attn', 'torch-scatter')))")
    out = subprocess.run([str(python), "-c", script], capture_output=True, text=True, check=True).stdout.split()
    assert out == ["2.10.0+cu130", "2.8.3.post2+cu13torch2.10cxx11abiTRUE", "2.1.2+pt210cu130"]
    # again without --with: the project's own pins and its PyG package (still on its page) leave it as it is
    again = run_cli("project", "--project", str(project), "--allow-insecure-index", "--probe-file",
                    str(tmp_path / "h100.json"), "--no-torchvision", "--no-torchaudio", "--write", "--json",
                    env=env)
    assert json.loads(again.stdout)["changed"] is False, again.stderr
    assert (project / "pyproject.toml").read_text() == text
