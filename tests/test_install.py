"""install for real: pip (and uv) into venvs the tests create, from PEP 503 indexes on 127.0.0.1."""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path

import pytest
from conftest import LOCAL_TORCH as LOCAL_WHEELS
from conftest import isolated_pip_env, make_venv, read_until
from localindex import Index, build_wheel

from torchsetup import documents

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def wheels(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    d = tmp_path_factory.mktemp("wheels")
    out = {}
    for local in ("cu124", "cpu"):
        out[f"torch-2.5.1+{local}"] = build_wheel(d / local, "torch", f"2.5.1+{local}")
        out[f"torchvision-0.20.1+{local}"] = build_wheel(d / local, "torchvision", f"0.20.1+{local}",
                                                         ("torch==2.5.1",))
        out[f"torchaudio-2.5.1+{local}"] = build_wheel(d / local, "torchaudio", f"2.5.1+{local}",
                                                       ("torch==2.5.1",))
    out["torch-2.5.0+cu124"] = build_wheel(d / "cu124", "torch", "2.5.0+cu124")
    out["torchvision-0.20.0+cu124"] = build_wheel(d / "cu124", "torchvision", "0.20.0+cu124",
                                                  ("torch==2.5.0",))
    out["torchaudio-2.5.0+cu124"] = build_wheel(d / "cu124-broken", "torchaudio", "2.5.0+cu124",
                                                ("torch==2.5.0",), corrupt=True)
    out["torch-2.5.1"] = build_wheel(d / "pypi", "torch", "2.5.1")
    out["torchvision-0.20.1"] = build_wheel(d / "pypi", "torchvision", "0.20.1", ("torch==2.5.1",))
    out["torchaudio-2.5.1"] = build_wheel(d / "pypi", "torchaudio", "2.5.1", ("torch==2.5.1",))
    return out


@pytest.fixture
def indexes(wheels: dict[str, Path]):
    """The PyTorch index (/whl/<variant>/) and a primary index (/simple/) with a plain torch 2.5.1."""
    pytorch, primary = Index(), Index()
    for key, wheel in wheels.items():
        if "+" in key:
            pytorch.add(f"/whl/{key.split('+')[1]}", wheel)
        else:
            primary.add("/simple", wheel)
    yield pytorch, primary
    pytorch.stop()
    primary.stop()


@pytest.fixture
def venv(tmp_path: Path) -> Path:
    return make_venv(tmp_path / "target env", with_pip=True)  # a space in the path on purpose


def cli_env(primary: Index) -> dict[str, str]:
    return isolated_pip_env(PIP_INDEX_URL=f"{primary.url}/simple", UV_INDEX_URL=f"{primary.url}/simple",
                            UV_NO_CACHE="1", UV_NO_CONFIG="1")


def install(run_cli, venv: Path, pytorch: Index, primary: Index, *extra: str):
    return run_cli("install", "--yes", "--no-verify", "--json", "--python", str(venv),
                   "--index-base", f"{pytorch.url}/whl", "--allow-insecure-index", *extra,
                   env=cli_env(primary))


def freeze(venv: Path) -> str:
    return subprocess.run([str(venv), "-m", "pip", "freeze", "--all"], capture_output=True, text=True,
                          env=isolated_pip_env(), check=True).stdout


def installed(venv: Path) -> dict[str, str]:
    lines = [line.split("==") for line in freeze(venv).splitlines() if "==" in line]
    return {name.lower(): version for name, version in lines}


def test_extra_index_strategy_ends_with_the_cuda_build(run_cli, venv: Path, indexes) -> None:
    pytorch, primary = indexes
    proc = install(run_cli, venv, pytorch, primary, "--torch", "==2.5.1", "--variant", "cu124")
    assert proc.returncode == 0, proc.stderr
    doc = json.loads(proc.stdout)
    assert doc["action"] == "installed" and doc["ok"] is True
    assert doc["plan"]["command"] == [
        str(venv), "-m", "pip", "install", "torch==2.5.1+cu124", "torchvision==0.20.1+cu124",
        "torchaudio==2.5.1+cu124", "--extra-index-url", f"{pytorch.url}/whl/cu124"]
    got = installed(venv)
    assert (got["torch"], got["torchvision"], got["torchaudio"]) == (
        "2.5.1+cu124", "0.20.1+cu124", "2.5.1+cu124")
    assert any(r.startswith("/simple/") for r in primary.requests)  # the primary index was asked too

    # the same command again: nothing to do, and no index needed at all
    pytorch.stop()
    primary.stop()
    again = install(run_cli, venv, pytorch, primary, "--torch", "==2.5.1", "--variant", "cu124")
    assert again.returncode == 0, again.stderr
    assert json.loads(again.stdout)["action"] == "already-installed"
    human = run_cli("install", "--yes", "--python", str(venv), "--torch", "==2.5.1", "--variant", "cu124",
                    "--index-base", f"{pytorch.url}/whl", "--allow-insecure-index", env=cli_env(primary))
    # nothing to install, but the smoke test still runs: these test wheels are no real torch
    assert human.returncode == 1 and "already installed" in human.stdout and "FAILED" in human.stdout


def test_index_url_strategy(run_cli, venv: Path, indexes) -> None:
    pytorch, primary = indexes
    proc = install(run_cli, venv, pytorch, primary, "--torch", "==2.5.1", "--variant", "cpu",
                   "--index-strategy", "index", "--no-torchaudio")
    assert proc.returncode == 0, proc.stderr
    doc = json.loads(proc.stdout)
    assert doc["plan"]["command"][-2:] == ["--index-url", f"{pytorch.url}/whl/cpu"]
    assert "torch==2.5.1" in doc["plan"]["command"]
    assert installed(venv)["torch"] == "2.5.1+cpu" and "torchaudio" not in installed(venv)
    assert not any(r.startswith("/simple/") for r in primary.requests)


def test_failed_install_restores_the_environment_exactly(run_cli, venv: Path, indexes,
                                                         wheels: dict[str, Path]) -> None:
    pytorch, primary = indexes
    first = install(run_cli, venv, pytorch, primary, "--torch", "==2.5.1", "--variant", "cpu")
    assert first.returncode == 0, first.stderr
    before = freeze(venv)
    assert "torch==2.5.1+cpu" in before
    pytorch.add("/whl/cu124", wheels["torchaudio-2.5.0+cu124"])  # a wheel broken on purpose
    proc = install(run_cli, venv, pytorch, primary, "--torch", "==2.5.0", "--variant", "cu124")
    assert proc.returncode == 4, proc.stderr
    doc = json.loads(proc.stdout)
    assert doc["action"] == "failed" and doc["ok"] is False
    assert "exited with status" in doc["error"]
    assert freeze(venv) == before
    assert "put back torchvision 0.20.1+cpu" in " | ".join(doc["restored"])  # pip stopped before torch
    human = run_cli("install", "--yes", "--no-verify", "--python", str(venv), "--torch", "==2.5.0",
                    "--variant", "cu124", "--index-base", f"{pytorch.url}/whl", "--allow-insecure-index",
                    env=cli_env(primary))
    assert human.returncode == 4 and "restored: put back torchvision 0.20.1+cpu" in human.stdout
    # pip's own traceback streams through; torchsetup adds one line and a hint, no traceback
    assert "torchsetup: error: " in human.stderr
    assert "/torchsetup/" not in human.stderr
    assert freeze(venv) == before


def test_non_interactive_without_yes_refuses(run_cli, venv: Path, indexes) -> None:
    pytorch, primary = indexes
    proc = run_cli("install", "--python", str(venv), "--torch", "==2.5.1", "--variant", "cpu",
                   "--index-base", f"{pytorch.url}/whl", "--allow-insecure-index", env=cli_env(primary))
    assert proc.returncode == 2 and "--yes" in proc.stderr
    assert "torch" not in installed(venv)


def test_plain_http_mirror_is_refused_without_the_flag(run_cli, venv: Path) -> None:
    proc = run_cli("install", "--dry-run", "--python", str(venv), "--index-base", "http://mirror.example/whl")
    assert proc.returncode == 2 and "--allow-insecure-index" in proc.stderr


@pytest.mark.skipif(shutil.which("uv") is None, reason="uv is not installed")
def test_uv_installs_the_same_plan(run_cli, venv: Path, indexes) -> None:
    pytorch, primary = indexes
    proc = install(run_cli, venv, pytorch, primary, "--torch", "==2.5.1", "--variant", "cu124",
                   "--installer", "uv")
    assert proc.returncode == 0, proc.stderr
    doc = json.loads(proc.stdout)
    assert doc["plan"]["command"][:5] == ["uv", "pip", "install", "--python", str(venv)]
    assert installed(venv)["torch"] == "2.5.1+cu124"


def test_at_a_terminal_it_asks_first_and_no_changes_nothing(venv: Path, indexes) -> None:
    import os
    import pty
    import sys

    from conftest import REPO

    pytorch, primary = indexes
    env = cli_env(primary)
    env["PYTHONPATH"] = str(REPO)
    env.update(COLUMNS="200", NO_COLOR="1", TERM="dumb")
    controller, terminal = pty.openpty()
    child = subprocess.Popen(
        [sys.executable, "-m", "torchsetup", "install", "--no-verify", "--python", str(venv), "--torch",
         "==2.5.1", "--variant", "cpu", "--index-base", f"{pytorch.url}/whl", "--allow-insecure-index"],
        stdin=terminal, stdout=terminal, stderr=terminal, env=env)
    os.close(terminal)
    seen = read_until(controller, b"Install this now?")
    os.write(controller, b"n\n")
    while True:
        try:
            chunk = os.read(controller, 4096)
        except OSError:
            break
        if not chunk:
            break
        seen += chunk
    assert child.wait(timeout=60) == 0
    import re

    text = re.sub(r"\x1b\[[0-9;]*m", "", seen.decode(errors="replace"))
    assert "torch 2.5.1 (cpu)" in text and "torch==2.5.1+cpu" in text and "nothing installed" in text
    assert "torch" not in installed(venv)
    assert not any("/whl/" in r for r in pytorch.requests)  # nothing was fetched before the answer


def test_ctrl_c_during_the_install_restores_and_exits_4(venv: Path, indexes,
                                                        wheels: dict[str, Path]) -> None:
    import os
    import signal
    import sys
    import time

    from conftest import REPO

    pytorch, primary = indexes
    env = cli_env(primary)
    env["PYTHONPATH"] = str(REPO)
    first = subprocess.run([sys.executable, "-m", "torchsetup", "install", "--yes", "--no-verify", "--python",
                            str(venv), "--torch", "==2.5.1", "--variant", "cpu", "--index-base",
                            f"{pytorch.url}/whl", "--allow-insecure-index"], capture_output=True, text=True,
                           env=env)
    assert first.returncode == 0, first.stderr
    before = freeze(venv)
    # the download of torchaudio hangs: Ctrl-C arrives then
    pytorch.delay["torchaudio-2.5.1+cu124"] = (1, 30.0)
    child = subprocess.Popen([sys.executable, "-m", "torchsetup", "install", "--yes", "--no-verify", "--json",
                              "--python", str(venv), "--torch", "==2.5.1", "--variant", "cu124",
                              "--index-base", f"{pytorch.url}/whl", "--allow-insecure-index"],
                             stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env,
                             start_new_session=True)
    deadline = time.monotonic() + 60
    while sum(r.startswith("/files/torchaudio-2.5.1%2Bcu124") for r in pytorch.requests) < 1:
        assert time.monotonic() < deadline and child.poll() is None
        time.sleep(0.1)
    os.killpg(child.pid, signal.SIGINT)  # what a terminal's Ctrl-C does: the whole group
    out, err = child.communicate(timeout=60)
    assert child.returncode == 4, (out, err, pytorch.requests)
    doc = json.loads(out)
    assert doc["action"] == "failed" and "interrupted" in doc["error"]
    assert freeze(venv) == before


def test_a_failing_smoke_test_after_install_is_exit_1(run_cli, venv: Path, indexes) -> None:
    pytorch, primary = indexes
    proc = run_cli("install", "--yes", "--json", "--python", str(venv), "--torch", "==2.5.1", "--variant",
                   "cpu", "--index-base", f"{pytorch.url}/whl", "--allow-insecure-index", "--timeout", "60",
                   env=cli_env(primary))
    assert proc.returncode == 1, proc.stderr
    doc = json.loads(proc.stdout)
    assert doc["action"] == "installed" and doc["ok"] is False  # installed, but it is no real torch
    assert doc["verify"]["schema"] == documents.VERIFY and doc["verify"]["ok"] is False
    assert installed(venv)["torch"] == "2.5.1+cpu"


# the conftest list honours TORCHSETUP_TEST_TORCH_WHEEL
LOCAL_TORCH = [Path(w) for w in LOCAL_WHEELS if Path(w).name.startswith("torch-2.13.0+cpu-")]
NO_TORCH_WHEEL = "no CPU torch 2.13.0 wheel on this machine (/opt/wheels, or TORCHSETUP_TEST_TORCH_WHEEL)"


@pytest.mark.skipif(not LOCAL_TORCH, reason=NO_TORCH_WHEEL)
def test_real_torch_from_a_local_pytorch_index_then_verified(run_cli, venv: Path) -> None:
    """The real CPU torch, served as the PyTorch index on 127.0.0.1; its dependencies come from
    the package index this machine is configured with; then the smoke test runs for real."""
    pytorch = Index()
    pytorch.add("/whl/cpu", LOCAL_TORCH[-1])
    try:
        proc = run_cli("install", "--yes", "--json", "--python", str(venv), "--torch", "==2.13.0",
                       "--variant", "cpu", "--no-torchvision", "--index-base", f"{pytorch.url}/whl",
                       "--allow-insecure-index", timeout=900)
    finally:
        pytorch.stop()
    if proc.returncode != 0 and "No matching distribution" in proc.stderr:
        pytest.skip("torch's dependencies are not reachable from this machine's package index")
    assert proc.returncode == 0, proc.stderr[-2000:]
    doc = json.loads(proc.stdout)
    assert doc["plan"]["command"][4:6] == ["torch==2.13.0+cpu", "--extra-index-url"]
    assert doc["action"] == "installed" and doc["verify"]["ok"] is True
    assert doc["verify"]["cuda_unavailable_reason"] == "CPU-only build"


def test_with_installs_the_package_in_the_same_run_as_torch(run_cli, venv: Path, tmp_path: Path) -> None:
    """--with xformers: stand-ins with the real names, versions and pins (xformers 0.0.33.post2 pins
    torch==2.9.1, as its METADATA on the package index does), one installer run."""
    pytorch, primary = Index(), Index()
    pytorch.add("/whl/cpu", build_wheel(tmp_path / "cpu", "torch", "2.9.1+cpu"))
    pytorch.add("/whl/cpu", build_wheel(tmp_path / "cpu", "torchvision", "0.24.1+cpu", ("torch==2.9.1",)))
    primary.add("/simple", build_wheel(tmp_path / "pypi", "xformers", "0.0.33.post2", ("torch==2.9.1",)))
    try:
        proc = install(run_cli, venv, pytorch, primary, "--torch", "2.9", "--variant", "cpu", "--no-torchaudio",
                       "--with", "xformers")
    finally:
        pytorch.stop()
        primary.stop()
    assert proc.returncode == 0, proc.stderr
    doc = json.loads(proc.stdout)
    assert doc["action"] == "installed"
    assert doc["plan"]["with"] == [{"name": "xformers", "version": "0.0.33.post2", "source": "pypi", "url": None}]
    assert doc["plan"]["command"][4:] == ["torch==2.9.1+cpu", "torchvision==0.24.1+cpu", "--extra-index-url",
                                          f"{pytorch.url}/whl/cpu", "xformers==0.0.33.post2"]
    have = installed(venv)
    assert (have["torch"], have["torchvision"], have["xformers"]) == ("2.9.1+cpu", "0.24.1+cpu", "0.0.33.post2")


def test_with_a_pyg_package_comes_from_the_find_links_page_of_the_planned_torch(run_cli, venv: Path,
                                                                              tmp_path: Path) -> None:
    """PyG's page (torch-2.12.0+cpu.html) on 127.0.0.1 through $TORCHSETUP_PYG_PAGES, with a stand-in
    under PyG's own local-version naming (torch_scatter-2.1.2+pt212cpu)."""
    pytorch, primary = Index(), Index()
    pytorch.add("/whl/cpu", build_wheel(tmp_path / "cpu", "torch", "2.12.1+cpu"))
    primary.add_page("/pyg/torch-2.12.0+cpu.html",
                     build_wheel(tmp_path / "pyg", "torch_scatter", "2.1.2+pt212cpu", ("torch",)))
    try:
        env = dict(cli_env(primary), TORCHSETUP_PYG_PAGES=f"{primary.url}/pyg")
        proc = run_cli("install", "--yes", "--no-verify", "--json", "--python", str(venv), "--index-base",
                       f"{pytorch.url}/whl", "--allow-insecure-index", "--torch", "2.12", "--variant", "cpu",
                       "--no-torchvision", "--no-torchaudio", "--with", "torch-scatter", env=env)
    finally:
        pytorch.stop()
        primary.stop()
    assert proc.returncode == 0, proc.stderr
    doc = json.loads(proc.stdout)
    page = f"{primary.url}/pyg/torch-2.12.0+cpu.html"
    assert doc["plan"]["command"][4:] == ["torch==2.12.1+cpu", "--extra-index-url", f"{pytorch.url}/whl/cpu",
                                          "-f", page, "torch-scatter"]
    have = installed(venv)
    assert (have["torch"], have["torch_scatter"]) == ("2.12.1+cpu", "2.1.2+pt212cpu")  # pip freeze spelling


def test_with_flash_attn_installs_its_release_asset_by_url_with_torch(run_cli, venv: Path, tmp_path: Path) -> None:
    """--with flash-attn where a stand-in nvidia-smi (a real child process on PATH; this machine has no
    NVML) reports an H100 on driver 580: torch 2.10.0 cu130 from the PyTorch index and the exact release
    asset from a stand-in for GitHub's release host ($TORCHSETUP_FLASH_ATTN_RELEASES on 127.0.0.1), in
    one pip run. The stand-in asset has the real naming, for the Python that runs the tests."""
    import os
    import sys

    if Path("/dev/nvidiactl").exists() or Path("/proc/driver/nvidia").exists():
        pytest.skip("this machine has an NVIDIA driver: the stand-in nvidia-smi would not be asked")
    py = f"{sys.version_info.major}{sys.version_info.minor}"
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    smi = bin_dir / "nvidia-smi"
    smi.write_text("#!/bin/sh\ncase \"$1\" in\n  --query-gpu=*) cat <<'OUT'\n"
                   "0, NVIDIA H100 80GB HBM3, GPU-3e7a9c1b-5d2f-4b8a-9c6e-1f0a2b3c4d5e, 9.0, 81559, Disabled, "
                   "580.65.06\nOUT\n;;\n  *) echo 'Driver Version: 580.65.06      CUDA Version: 13.0';;\nesac\n")
    smi.chmod(0o755)
    pytorch, primary, releases = Index(), Index(), Index()
    pytorch.add("/whl/cu130", build_wheel(tmp_path / "cu130", "torch", "2.10.0+cu130"))
    primary.add("/simple", build_wheel(tmp_path / "pypi", "einops", "0.8.1"))
    asset = build_wheel(tmp_path / "gh", "flash_attn", "2.8.3.post2+cu13torch2.10cxx11abiTRUE",
                        ("torch", "einops"), tag=f"cp{py}-cp{py}-linux_x86_64")
    releases.add("/assets", asset)
    base = f"{releases.url}/files/Dao-AILab/flash-attention/releases/download"
    try:
        env = dict(cli_env(primary), TORCHSETUP_FLASH_ATTN_RELEASES=base,
                   PATH=f"{bin_dir}{os.pathsep}{os.environ['PATH']}")
        proc = run_cli("install", "--yes", "--no-verify", "--json", "--python", str(venv), "--index-base",
                       f"{pytorch.url}/whl", "--allow-insecure-index", "--no-torchvision", "--no-torchaudio",
                       "--with", "flash-attn", env=env)
    finally:
        for index in (pytorch, primary, releases):
            index.stop()
    assert proc.returncode == 0, proc.stderr
    doc = json.loads(proc.stdout)
    url = f"{base}/v2.8.3.post2/{asset.name}"
    assert doc["plan"]["with"] == [{"name": "flash-attn", "version": "2.8.3.post2", "source": "url", "url": url}]
    assert (doc["plan"]["torch"], doc["plan"]["variant"]) == ("2.10.0", "cu130")
    assert doc["plan"]["command"][4:] == ["torch==2.10.0+cu130", "--extra-index-url", f"{pytorch.url}/whl/cu130",
                                          url]
    assert doc["action"] == "installed"
    have = installed(venv)
    assert (have["torch"], have["flash_attn"], have["einops"]) == (
        "2.10.0+cu130", "2.8.3.post2+cu13torch2.10cxx11abitrue", "0.8.1")  # pip freeze's spelling
    # fetched once, by pip download; the offline steps take the saved file
    assert [r for r in releases.requests if r.endswith(".whl")] == [
        f"/files/Dao-AILab/flash-attention/releases/download/v2.8.3.post2/{asset.name}"]
