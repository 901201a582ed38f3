"""examples/fleet/ansible/playbook.yml run by real ansible-core (installed from the package index into
a throwaway environment; skipped with the reason when it cannot be) against two hosts on this machine
(`ansible_connection=local`), each with its own project folder, environment and recorded probe
document (recorded here by `torchsetup probe --json`). torch is the real CPU wheel of this machine,
served by an index on 127.0.0.1 standing in for the PyTorch cpu index; its dependencies come from
the package index."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from conftest import REPO, make_venv
from localindex import Index

pytestmark = pytest.mark.slow
PLAYBOOK = REPO / "examples" / "fleet" / "ansible" / "playbook.yml"
LOCAL_TORCH = sorted(Path(p) for p in [os.environ.get("TORCHSETUP_TEST_TORCH_WHEEL", "")] if p) or \
    sorted(Path("/opt/wheels").glob("torch-*+cpu-*.whl"))


@pytest.fixture(scope="module")
def tools(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, str]:
    """(ansible-playbook, uv)."""
    uv = shutil.which("uv") or str(Path(sys.executable).parent / "uv")
    if not Path(uv).exists():
        pytest.skip("uv is not installed (pip install uv)")
    env_dir = tmp_path_factory.mktemp("ansible") / "venv"
    made = subprocess.run([uv, "venv", "-q", str(env_dir)], capture_output=True, text=True)
    install = subprocess.run([uv, "pip", "install", "-q", "--python", str(env_dir / "bin" / "python"),
                              "ansible-core"], capture_output=True, text=True, timeout=600)
    if made.returncode or install.returncode:
        pytest.skip(f"could not install ansible-core: {(made.stderr + install.stderr).strip()[-300:]}")
    return env_dir / "bin" / "ansible-playbook", uv


def test_the_playbook_installs_every_host_and_fails_naming_the_host_whose_verify_fails(
        tools: tuple[Path, str], tmp_path: Path, run_cli) -> None:
    if not LOCAL_TORCH:
        pytest.skip("no CPU build of torch on this machine (/opt/wheels/torch-*+cpu-*.whl); "
                    "set TORCHSETUP_TEST_TORCH_WHEEL to one")
    playbook, uv = tools
    wheel = LOCAL_TORCH[-1]
    version = wheel.name.split("-")[1]
    index = Index()
    index.add("/whl/cpu", wheel)
    try:
        project = tmp_path / "controller" / "app"
        project.mkdir(parents=True)
        python = f"{sys.version_info[0]}.{sys.version_info[1]}"
        (project / "pyproject.toml").write_text('[project]\nname = "app"\nversion = "0.1.0"\n'
                                                f'requires-python = ">={python}"\ndependencies = ["torch"]\n')
        recorded = run_cli("probe", "--json")
        assert recorded.returncode == 0, recorded.stderr
        hosts = []
        for host in ("node-a", "node-b"):
            (tmp_path / host).mkdir()
            (tmp_path / host / "probe.json").write_text(recorded.stdout)
            hosts.append(f"{host} ansible_connection=local node_project_dir={tmp_path / host / 'app'} "
                         f"node_venv={tmp_path / host / 'venv'} "
                         f"torchsetup_probe_args='--probe-file {tmp_path / host / 'probe.json'}'")
        torchsetup = f"{sys.executable} -m torchsetup"
        common = (f"torchsetup='{torchsetup}'\nuv={uv}\nproject_dir={project}\nfleet_dir={tmp_path / 'fleet'}\n"
                  f"ansible_python_interpreter={playbook.parent / 'python'}\n"
                  f"torchsetup_plan_args='--torch =={version.split('+')[0]} --no-torchvision --no-torchaudio "
                  "--allow-insecure-index --index-base " + index.url + "/whl'\n")
        env = {k: v for k, v in os.environ.items() if not k.startswith(("UV_", "VIRTUAL_ENV", "PIP_"))}
        env.update(PYTHONPATH=str(REPO), UV_NO_CONFIG="1",
                   UV_CACHE_DIR=str(tmp_path / "uv-cache"), UV_PYTHON=sys.executable, UV_PYTHON_DOWNLOADS="never",
                   ANSIBLE_LOCAL_TEMP=str(tmp_path / "ansible-tmp"), ANSIBLE_HOME=str(tmp_path / "ansible-home"),
                   ANSIBLE_NOCOLOR="1", ANSIBLE_HOST_KEY_CHECKING="0")

        def play(extra_b: str = "") -> subprocess.CompletedProcess[str]:
            inventory = tmp_path / "inventory.ini"
            inventory.write_text("[torch_nodes]\n" + hosts[0] + "\n" + hosts[1] + extra_b + "\n\n"
                                 "[controller]\nlocalhost ansible_connection=local\n\n[all:vars]\n" + common)
            return subprocess.run([str(playbook), "-i", str(inventory), str(PLAYBOOK)], capture_output=True,
                                  text=True, env=env, timeout=900)

        first = play()
        assert first.returncode == 0, first.stdout[-3000:] + first.stderr[-2000:]
        text = (project / "pyproject.toml").read_text()
        assert 'url = "' + index.url + '/whl/cpu"' in text and f'"torch=={version.split("+")[0]}"' in text
        for host in ("node-a", "node-b"):
            doc = json.loads((tmp_path / "fleet" / "verify" / f"{host}.json").read_text())
            assert (doc["schema"], doc["ok"], doc["torch"]) == ("torchsetup.verify/1", True, version), doc
            assert (tmp_path / host / "app" / "uv.lock").read_text() == (project / "uv.lock").read_text()
        # node-b's verify made to fail: it is pointed at an interpreter without torch
        bare = make_venv(tmp_path / "bare")
        second = play(f" verify_python={bare}")
        assert second.returncode != 0
        assert "torchsetup verify failed on node-b" in second.stdout, second.stdout[-3000:]
        assert "torchsetup verify failed on node-a" not in second.stdout
        assert json.loads((tmp_path / "fleet" / "verify" / "node-a.json").read_text())["ok"] is True
        assert json.loads((tmp_path / "fleet" / "verify" / "node-b.json").read_text())["ok"] is False
    finally:
        index.stop()
