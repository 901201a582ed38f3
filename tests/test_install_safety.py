"""A failed or interrupted install leaves the environment exactly as it was, proven from outside:
after each case `pip freeze`, `pip check` and the sha256 of every file in the environment's
site-packages and bin folders equal what they were before. Real pip, real signals, a real pty."""

from __future__ import annotations

import hashlib
import json
import os
import pty
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from conftest import REPO, isolated_pip_env, make_venv, site_packages, wait_for
from localindex import Index, build_wheel, write_wheel

pytestmark = pytest.mark.slow


def wheel_with(dest: Path, name: str, version: str, files: dict[str, bytes], requires: tuple[str, ...] = (),
               corrupt: str | None = None) -> Path:
    return write_wheel(dest, name, version, files, requires, corrupt)


def many_files(package: str, count: int, tag: str) -> dict[str, bytes]:
    """A package big enough that pip takes a while to write it (to interrupt it mid-way)."""
    out = {f"{package}/__init__.py": f"TAG = {tag!r}\n".encode()}
    out.update({f"{package}/data/part_{i:05d}.py": f"X = {i}  # {tag}\n".encode() * 40 for i in range(count)})
    return out


@pytest.fixture(scope="module")
def wheels(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    d = tmp_path_factory.mktemp("safety-wheels")
    return {
        "torch-2.5.1+cpu": wheel_with(d / "cpu", "torch", "2.5.1+cpu", many_files("torch", 50, "cpu")),
        "torchvision-0.20.1+cpu": build_wheel(d / "cpu", "torchvision", "0.20.1+cpu", ("torch==2.5.1",)),
        "torch-2.5.1+cu124": wheel_with(d / "cu124", "torch", "2.5.1+cu124",
                                        {**many_files("torch", 3000, "cu124"),
                                         "nvidia/__init__.py": b"# the torch wheel's own copy\n"}),
        "torchvision-0.20.1+cu124": build_wheel(d / "cu124", "torchvision", "0.20.1+cu124", ("torch==2.5.1",)),
        "torch-2.5.0+cu124": wheel_with(d / "cu124", "torch", "2.5.0+cu124",
                                        {**many_files("torch", 200, "broken"),
                                         "nvidia/__init__.py": b"# torch 2.5.0's copy\n"},
                                        corrupt="torch/data/part_00150.py"),
        "torchvision-0.20.0+cu124": build_wheel(d / "cu124", "torchvision", "0.20.0+cu124", ("torch==2.5.0",)),
        "nvidia-base-1.0": wheel_with(d / "pypi", "nvidia_base", "1.0",
                                      {"nvidia/__init__.py": b"# owned by nvidia-base\n",
                                       "nvidia/base/__init__.py": b"VALUE = 1\n"}),
    }


@pytest.fixture
def env(tmp_path: Path, wheels: dict[str, Path]):
    """A venv with torch 2.5.1+cpu, torchvision and a package owning nvidia/__init__.py, plus the
    PyTorch index (/whl/<variant>) on 127.0.0.1."""
    python = make_venv(tmp_path / "venv", with_pip=True)
    index = Index()
    for key, wheel in wheels.items():
        index.add(f"/whl/{key.split('+')[1]}" if "+" in key else "/simple", wheel)
    pip = [str(python), "-m", "pip", "install", "--quiet", "--no-deps"]
    subprocess.run([*pip, str(wheels["nvidia-base-1.0"]), str(wheels["torch-2.5.1+cpu"]),
                    str(wheels["torchvision-0.20.1+cpu"])], check=True, env=isolated_pip_env())
    yield python, index
    index.stop()


def state(python: Path) -> dict[str, object]:
    """What the environment is, seen from outside torchsetup."""
    run = {"env": isolated_pip_env(), "capture_output": True, "text": True}
    freeze = subprocess.run([str(python), "-m", "pip", "freeze", "--all"], **run).stdout  # type: ignore[call-overload]
    check = subprocess.run([str(python), "-m", "pip", "check"], **run)  # type: ignore[call-overload]
    hashes = {}
    for root in (site_packages(python), python.parent):
        for path in sorted(root.rglob("*")):
            if path.is_file() and not path.is_symlink() and "__pycache__" not in path.parts:
                hashes[str(path)] = hashlib.sha256(path.read_bytes()).hexdigest()
    return {"freeze": freeze, "check": (check.returncode, check.stdout), "files": hashes}


def argv(python: Path, index: Index, torch: str, *extra: str) -> list[str]:
    return [sys.executable, "-m", "torchsetup", "install", "--yes", "--no-verify", "--python", str(python),
            "--torch", torch, "--variant", "cu124", "--no-torchaudio", "--index-base", f"{index.url}/whl",
            "--allow-insecure-index",
            *extra]


def cli_env(index: Index, **extra: str) -> dict[str, str]:
    return isolated_pip_env(PIP_INDEX_URL=f"{index.url}/simple", PYTHONPATH=str(REPO), **extra)


def test_a_wheel_failing_midway_with_a_shared_namespace_file(env) -> None:
    python, index = env
    before = state(python)
    proc = subprocess.run(argv(python, index, "==2.5.0", "--json"), capture_output=True, text=True,
                          env=cli_env(index), timeout=300)
    assert proc.returncode == 4, proc.stderr
    doc = json.loads(proc.stdout)
    assert "every file is as it was" in doc["error"]
    assert state(python) == before
    assert (site_packages(python) / "nvidia/__init__.py").read_bytes() == b"# owned by nvidia-base\n"


def _pty_install(python: Path, index: Index, when: str) -> tuple[int, str]:
    """Run the install at a real terminal and press Ctrl-C when `when` appears in its output."""
    pid, fd = pty.fork()
    if pid == 0:  # the child: torchsetup, with the pty as its controlling terminal
        os.environ.clear()
        os.environ.update(cli_env(index, COLUMNS="200", TERM="dumb", NO_COLOR="1"))
        os.execv(sys.executable, argv(python, index, "==2.5.1"))
    seen = b""
    pressed = False
    while True:
        try:
            chunk = os.read(fd, 4096)
        except OSError:
            break
        if not chunk:
            break
        seen += chunk
        if not pressed and when.encode() in seen:
            os.write(fd, b"\x03")  # the terminal sends SIGINT to its foreground process group
            pressed = True
    _, status = os.waitpid(pid, 0)
    return os.waitstatus_to_exitcode(status), seen.decode(errors="replace")


@pytest.mark.parametrize("moment,delay", [
    ("while pip resolves", ("/whl/cu124/torch/", 1, 20.0)),
    ("while torch downloads", ("torch-2.5.1+cu124", 1, 20.0)),
    ("while pip writes files", None),
])
def test_ctrl_c_at_a_terminal_at_several_moments(env, moment: str, delay) -> None:
    python, index = env
    before = state(python)
    if delay:
        index.delay[delay[0]] = delay[1:]
        marker = "Looking in indexes"
    else:
        marker = "Installing collected packages"
    code, output = _pty_install(python, index, marker)
    assert code == 4, output[-2000:]
    # fetching is the only network step: stopped there, nothing had changed; stopped while pip writes,
    # every file is put back
    said = "while fetching the wheels; nothing was changed" if delay else "every file is as it was"
    assert "interrupted (Ctrl-C)" in output and said in output, output[-3000:]
    assert state(python) == before, moment


def test_sigterm_stops_pip_restores_and_exits_4(env) -> None:
    python, index = env
    before = state(python)
    index.delay["torch-2.5.1+cu124"] = (1, 30.0)
    child = subprocess.Popen(argv(python, index, "==2.5.1", "--json"), stdout=subprocess.PIPE,
                             stderr=subprocess.PIPE, text=True, env=cli_env(index))
    wait_for(lambda: any("torch-2.5.1%2Bcu124" in r for r in index.requests))
    child.send_signal(signal.SIGTERM)  # CI cancellation, docker stop, timeout
    out, err = child.communicate(timeout=60)
    assert child.returncode == 4, err
    doc = json.loads(out)
    assert doc["error"] == "terminated (SIGTERM) while fetching the wheels; nothing was changed"
    assert state(python) == before
    leftover = python.parent.parent / ".torchsetup"
    assert not list(leftover.glob("txn-*")) and not list(leftover.glob("download-*"))  # nothing left behind


def test_two_installs_into_one_environment_at_once(env) -> None:
    python, index = env
    index.delay["torch-2.5.1+cu124"] = (1, 8.0)
    first = subprocess.Popen(argv(python, index, "==2.5.1", "--json"), stdout=subprocess.PIPE,
                             stderr=subprocess.PIPE, text=True, env=cli_env(index))
    wait_for(lambda: any("torch-2.5.1%2Bcu124" in r for r in index.requests))
    second = subprocess.run(argv(python, index, "==2.5.1", "--json"), capture_output=True, text=True,
                            env=cli_env(index, TORCHSETUP_LOCK_WAIT="1"), timeout=120)
    assert second.returncode == 2
    assert f"another torchsetup install is running in {python.parent.parent}" in second.stderr
    assert f"pid {first.pid}" in second.stderr
    out, err = first.communicate(timeout=300)
    assert first.returncode == 0, err
    assert json.loads(out)["action"] == "installed"
    assert "torch==2.5.1+cu124" in state(python)["freeze"]  # type: ignore[operator]


def test_a_killed_runs_backup_is_found_and_restored_by_the_next(env) -> None:
    python, index = env
    before = state(python)
    child = subprocess.Popen(argv(python, index, "==2.5.1"), stdout=subprocess.DEVNULL,
                             stderr=subprocess.PIPE, env=cli_env(index))
    seen = b""
    while b"Installing collected packages" not in seen:
        chunk = os.read(child.stderr.fileno(), 4096)  # type: ignore[union-attr]
        assert chunk, seen
        seen += chunk
    time.sleep(0.3)  # pip is writing torch's 3,000 files now
    # power loss: torchsetup and its pip die at once, nothing is restored
    pips = subprocess.run(["pgrep", "-f", f"{python} -m pip --isolated install"], capture_output=True, text=True)
    child.kill()
    child.wait()
    for pid in pips.stdout.split():
        os.killpg(int(pid), signal.SIGKILL)
    leftover = python.parent.parent / ".torchsetup"
    journals = [json.loads((f / "journal.json").read_text()) for f in leftover.glob("txn-*")]
    assert [j["state"] for j in journals] == ["running"] and state(python) != before  # half installed
    dry = subprocess.run(argv(python, index, "==2.5.1", "--dry-run"), capture_output=True, text=True,
                         env=cli_env(index), timeout=120)
    assert dry.returncode == 0 and list(leftover.glob("txn-*"))  # a dry run changes nothing
    index.routes.pop("/whl/cu124")  # the next real run fails at once, after it has recovered
    proc = subprocess.run(argv(python, index, "==2.5.1"), capture_output=True, text=True, env=cli_env(index),
                          timeout=300)
    assert "recovered the install killed on" in proc.stderr, proc.stderr
    assert "left as they are" not in proc.stderr  # nobody changed anything since: all of it was undone
    assert state(python) == before
    assert not list(leftover.glob("txn-*"))
