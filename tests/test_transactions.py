"""Install transactions that cannot lose data: real pip into real venvs from 127.0.0.1 indexes, real
signals, real kills; after each case, the sha256 of every file under the environment's prefix (and
`pip freeze`) is compared with what it was. Where the installer is stood in for (a restore that
meets an immutable file), the stand-in is a direct write of the files, said so at the test."""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from conftest import REPO, isolated_pip_env, make_venv, read_until, wait_for
from localindex import Index, build_wheel, write_wheel

from torchsetup import transaction as txn
from torchsetup.installer import BackupAction, recover_leftovers
from torchsetup.journal import Journal, TxnState

pytestmark = pytest.mark.slow


def prefix_state(python: Path) -> dict[str, str]:
    """sha256 of every file under the environment's prefix, torchsetup's own folder aside."""
    prefix = python.parent.parent
    out = {}
    for path in sorted(prefix.rglob("*")):
        if ".torchsetup" in path.parts or "__pycache__" in path.parts:
            continue
        if path.is_symlink():
            out[str(path)] = "link:" + os.readlink(path)
        elif path.is_file():
            out[str(path)] = hashlib.sha256(path.read_bytes()).hexdigest()
    return out


def freeze(python: Path) -> str:
    return subprocess.run([str(python), "-m", "pip", "freeze", "--all"], capture_output=True, text=True,
                          env=isolated_pip_env(), check=True).stdout


@pytest.fixture(scope="module")
def wheels(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    d = tmp_path_factory.mktemp("txn-wheels")
    many = {f"torch/part_{i:04d}.py": f"X = {i}\n".encode() * 50 for i in range(1500)}
    return {
        "torch-2.5.1+cpu": write_wheel(d / "cpu", "torch", "2.5.1+cpu", {"torch/__init__.py": b"CPU = 1\n"}),
        "torch-2.5.1+cu124": write_wheel(d / "cu124", "torch", "2.5.1+cu124",
                                         {"torch/__init__.py": b"CUDA = 1\n", **many}, ("helper==1.0",)),
        "torchvision-0.20.1+cu124": build_wheel(d / "cu124", "torchvision", "0.20.1+cu124", ("torch==2.5.1",)),
        "torchvision-0.20.1+cpu": build_wheel(d / "cpu", "torchvision", "0.20.1+cpu", ("torch==2.5.1",)),
        # a dependency writing into every scheme: data (share/, etc/, over another package's file) and headers
        "helper-1.0": write_wheel(d / "pypi", "helper", "1.0", {
            "helper/__init__.py": b"",
            "helper-1.0.data/data/share/owner/config.json": b'{"owner": "overwritten by helper"}\n',
            "helper-1.0.data/data/etc/helper.conf": b"helper = 1\n",
            "helper-1.0.data/headers/helper.h": b"#define HELPER 1\n"}),
        "torchaudio-2.5.0+cu124": build_wheel(d / "cu124", "torchaudio", "2.5.0+cu124", ("torch==2.5.0",),
                                              corrupt=True),
        "torch-2.5.0+cu124": write_wheel(d / "cu124", "torch", "2.5.0+cu124", {"torch/__init__.py": b"OLD = 1\n"},
                                         ("helper==1.0",)),
        "torchvision-0.20.0+cu124": build_wheel(d / "cu124", "torchvision", "0.20.0+cu124", ("torch==2.5.0",)),
        "owner-1.0": write_wheel(d / "pypi", "owner", "1.0", {
            "owner/__init__.py": b"",
            "owner-1.0.data/data/share/owner/config.json": b'{"owner": "the original"}\n'}),
        "later-1.0": write_wheel(d / "pypi", "later", "1.0", {"later/__init__.py": b"LATER = 1\n"}),
    }


@pytest.fixture
def env(tmp_path: Path, wheels: dict[str, Path]):
    python = make_venv(tmp_path / "venv", with_pip=True)
    index = Index()
    for key, wheel in wheels.items():
        index.add(f"/whl/{key.split('+')[1]}" if "+" in key else "/simple", wheel)
    index.add("/whl/cu124", wheels["helper-1.0"])  # the PyTorch index carries torch's dependencies too
    subprocess.run([str(python), "-m", "pip", "install", "--quiet", "--no-deps", str(wheels["owner-1.0"]),
                    str(wheels["torch-2.5.1+cpu"]), str(wheels["torchvision-0.20.1+cpu"])],
                   check=True, env=isolated_pip_env())
    yield python, index
    index.stop()


def argv(python: Path, index: Index, torch: str, *extra: str) -> list[str]:
    return [sys.executable, "-m", "torchsetup", "install", "--yes", "--no-verify", "--python", str(python),
            "--torch", torch, "--variant", "cu124", "--no-torchaudio", "--index-base", f"{index.url}/whl",
            "--allow-insecure-index", *extra]


def cli_env(index: Index, **extra: str) -> dict[str, str]:
    return isolated_pip_env(PIP_INDEX_URL=f"{index.url}/simple", PYTHONPATH=str(REPO), **extra)


def test_a_failed_install_puts_back_every_scheme_byte_for_byte(env) -> None:
    """helper writes share/, etc/ and include/ and overwrites owner's share/owner/config.json; the
    install then fails (a corrupt torchaudio): every file under the prefix is as it was."""
    python, index = env
    before, frozen = prefix_state(python), freeze(python)
    proc = subprocess.run([a for a in argv(python, index, "==2.5.0", "--json") if a != "--no-torchaudio"],
                          capture_output=True, text=True, env=cli_env(index), timeout=300)
    assert proc.returncode == 4, proc.stderr
    doc = json.loads(proc.stdout)
    assert "every file is as it was" in doc["error"] and doc["not_restored"] == []
    assert prefix_state(python) == before and freeze(python) == frozen
    config = python.parent.parent / "share" / "owner" / "config.json"
    assert config.read_bytes() == b'{"owner": "the original"}\n'
    assert not (python.parent.parent / "etc" / "helper.conf").exists()


def test_index_strategy_already_satisfied_is_a_failure_not_installed(env) -> None:
    """torch 2.5.1+cpu is installed; the index strategy pins torch==2.5.1 without a local version,
    which pip finds satisfied: torchsetup must not report the cu124 build as installed."""
    python, index = env
    before = prefix_state(python)
    proc = subprocess.run([*argv(python, index, "==2.5.1", "--json"), "--index-strategy", "index"],
                          capture_output=True, text=True, env=cli_env(index), timeout=300)
    assert proc.returncode == 4, proc.stderr
    doc = json.loads(proc.stdout)
    assert doc["action"] == "failed" and doc["ok"] is False
    assert "torch is 2.5.1+cpu, not 2.5.1+cu124" in doc["error"]
    assert "use --index-strategy extra" in doc["error"]
    assert prefix_state(python) == before


def _kill_while_pip_writes(python: Path, index: Index) -> None:
    """torchsetup and its pip killed at once (power loss) while pip writes torch's files."""
    child = subprocess.Popen(argv(python, index, "==2.5.1"), stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
                             env=cli_env(index))
    read_until(child.stderr.fileno(), b"Installing collected packages")  # type: ignore[union-attr]
    time.sleep(0.3)
    pips = subprocess.run(["pgrep", "-f", f"{python} -m pip --isolated install"], capture_output=True, text=True)
    child.kill()
    child.wait()
    for pid in pips.stdout.split():
        os.killpg(int(pid), signal.SIGKILL)


def test_recovery_keeps_what_the_user_installed_since(env, wheels: dict[str, Path]) -> None:
    python, index = env
    before, frozen = prefix_state(python), freeze(python)
    _kill_while_pip_writes(python, index)
    # the user goes on: their own install after the killed run
    subprocess.run([str(python), "-m", "pip", "install", "--quiet", "--no-deps", str(wheels["later-1.0"])],
                   check=True, env=isolated_pip_env())
    index.routes.pop("/whl/cu124")  # the next run recovers, then fails to fetch
    proc = subprocess.run(argv(python, index, "==2.5.1"), capture_output=True, text=True, env=cli_env(index),
                          timeout=300)
    assert "recovered the install killed on" in proc.stderr, proc.stderr
    assert "later" not in proc.stderr  # the user's package is no business of the recovery
    now = prefix_state(python)
    added_by_user = {p: h for p, h in now.items() if p not in before}
    assert added_by_user and all("later" in p.rsplit("/venv/", 1)[1] for p in added_by_user), \
        [p for p in added_by_user if "later" not in p.rsplit("/venv/", 1)[1]]
    assert {p: h for p, h in now.items() if p in before} == before
    digest = hashlib.sha256(wheels["later-1.0"].read_bytes()).hexdigest()
    assert set(freeze(python).splitlines()) - set(frozen.splitlines()) == {
        f"later @ {wheels['later-1.0'].as_uri()}#sha256={digest}"}
    assert set(frozen.splitlines()) <= set(freeze(python).splitlines())


@pytest.mark.skipif(os.geteuid() != 0 or shutil.which("unshare") is None,
                    reason="needs root and unshare for a pid namespace")
def test_a_run_that_was_pid_1_and_was_killed_is_recovered(env) -> None:
    """torchsetup as PID 1 of a pid namespace (a container's entrypoint), SIGKILLed mid-write: PID 1
    is always "alive" to a pid check; the lock says the run is over."""
    python, index = env
    before = prefix_state(python)
    probe = subprocess.run(["unshare", "-pf", "--mount-proc", "true"], capture_output=True)
    if probe.returncode != 0:
        pytest.skip(f"unshare cannot make a pid namespace here: {probe.stderr.decode()[-200:]}")
    child = subprocess.Popen(["unshare", "-pf", "--mount-proc", *argv(python, index, "==2.5.1")],
                             stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, env=cli_env(index))
    seen = read_until(child.stderr.fileno(), b"Installing collected packages")  # type: ignore[union-attr]
    time.sleep(0.3)
    # the namespace's init is torchsetup itself: SIGKILL it, and the kernel kills all of the namespace
    init = subprocess.run(["pgrep", "-f", "--", f"-m torchsetup install --yes --no-verify --python {python}"],
                          capture_output=True, text=True).stdout.split()
    assert init, seen.decode(errors="replace")[-3000:]
    for pid in init:
        os.kill(int(pid), signal.SIGKILL)
    child.wait()
    wait_for(lambda: subprocess.run(["pgrep", "-f", f"{python} -m pip"], capture_output=True).returncode != 0)
    assert prefix_state(python) != before
    index.routes.pop("/whl/cu124")
    proc = subprocess.run(argv(python, index, "==2.5.1"), capture_output=True, text=True, env=cli_env(index),
                          timeout=300)
    assert "recovered the install killed on" in proc.stderr, proc.stderr
    assert prefix_state(python) == before


def test_a_non_writable_environment_is_refused_up_front(env) -> None:
    """The prefix cannot take the lock and the transaction (made immutable: root ignores permission
    bits): refused before anything is fetched, and nothing is written elsewhere instead."""
    python, index = env
    if os.geteuid() != 0 or shutil.which("chattr") is None:
        pytest.skip("needs root and chattr")
    prefix = python.parent.parent
    shutil.rmtree(prefix / ".torchsetup", ignore_errors=True)
    before = prefix_state(python)
    temporary = set(Path(os.environ.get("TMPDIR", "/tmp")).iterdir())
    subprocess.run(["chattr", "+i", str(prefix)], check=True)
    try:
        proc = subprocess.run(argv(python, index, "==2.5.1"), capture_output=True, text=True, env=cli_env(index),
                              timeout=300)
    finally:
        subprocess.run(["chattr", "-i", str(prefix)], check=True)
    assert proc.returncode == 2, proc.stderr
    assert f"cannot write to the environment {prefix} (owned by root); nothing was changed" in proc.stderr
    assert not index.requests  # refused before anything was fetched
    assert prefix_state(python) == before and not (prefix / ".torchsetup").exists()
    assert not {p for p in set(Path(os.environ.get("TMPDIR", "/tmp")).iterdir()) - temporary
                if "torchsetup" in p.name}


@pytest.mark.skipif(os.geteuid() != 0 or shutil.which("chattr") is None, reason="needs root and chattr")
def test_a_restore_that_meets_an_immutable_file_keeps_its_copy(tmp_path: Path, wheels: dict[str, Path]) -> None:
    """The transaction is real; the installer is stood in for by writing the new files directly (the
    narrowest seam: what pip would have written), and one of them is made immutable, as a DLL in use
    on Windows or a busy NFS file would be."""
    python = make_venv(tmp_path / "venv", with_pip=True)
    subprocess.run([str(python), "-m", "pip", "install", "--quiet", "--no-deps", str(wheels["owner-1.0"])],
                   check=True, env=isolated_pip_env())
    env = txn.environment_of(str(python))
    config = Path(env.prefix) / "share" / "owner" / "config.json"
    original = config.read_bytes()
    journal = txn.prepare(env, [str(wheels["helper-1.0"])], str(python), "helper 1.0")
    journal.write(TxnState.RUNNING)
    config.unlink()
    config.write_bytes(b'{"owner": "overwritten by helper"}\n')  # the stand-in for the installer
    subprocess.run(["chattr", "+i", str(config)], check=True)
    try:
        report = txn.undo(journal, env, recovering=False)
        txn.finish(journal, report)
        assert len(report.not_restored) == 1 and report.not_restored[0].startswith(f"{config}: ")
        assert "its copy is kept in" in report.not_restored[0]
        kept = Journal.read(Path(journal.folder))
        assert kept.state == TxnState.KEPT
        copy = Path(journal.folder) / next(s.copy for s in kept.saved if s.path == str(config))  # type: ignore[arg-type]
        assert copy.read_bytes() == original  # the backup survives the failed restore
        said: list[str] = []
        recover_leftovers(env, said.append, None)  # the next run: named, not re-applied
        assert "--recover" in said[0] and "--discard-backup" in said[0] and Path(journal.folder).exists()
    finally:
        subprocess.run(["chattr", "-i", str(config)], check=True)
    said = []
    recover_leftovers(env, said.append, BackupAction.RECOVER)
    assert said[0].startswith("recovered the install killed on"), said
    assert config.read_bytes() == original and not Path(journal.folder).exists()


def test_output_to_a_full_disk_is_an_error_and_a_closed_stdout_keeps_exit_4(env) -> None:
    python, index = env
    with open("/dev/full", "w") as full:
        proc = subprocess.run([sys.executable, "-m", "torchsetup", "resolve", "--json", "--probe-file",
                               str(REPO / "examples" / "rtx5090-570.json")], stdout=full, stderr=subprocess.PIPE,
                              text=True, env=cli_env(index))
    assert proc.returncode == 5 and "could not write the output: No space left on device" in proc.stderr
    failing = [a for a in argv(python, index, "==2.5.0") if a != "--no-torchaudio"]
    with open("/dev/full", "w") as full:
        proc = subprocess.run(failing, stdout=full, stderr=subprocess.PIPE, text=True, env=cli_env(index),
                              timeout=300)
    assert proc.returncode == 4, proc.stderr
    assert "every file is as it was" in proc.stderr


def test_the_journal_is_written_whole(tmp_path: Path) -> None:
    journal = Journal(folder=str(tmp_path), state=TxnState.PREPARED, python="python", plan="torch")
    journal.write(TxnState.RUNNING)
    assert Journal.read(tmp_path).state == TxnState.RUNNING
    assert not list(tmp_path.glob("*.tmp"))


def test_a_develop_installs_pth_rewritten_in_place_is_put_back(env, tmp_path: Path) -> None:
    """torch installed as a `setup.py develop` checkout (an egg-link and an entry in easy-install.pth,
    which pip rewrites in place when it uninstalls it); the replacing install fails: both are back
    byte for byte (a hard link would have been truncated with the file)."""
    python, index = env
    subprocess.run([str(python), "-m", "pip", "uninstall", "--yes", "--quiet", "torch"], check=True,
                   env=isolated_pip_env())
    checkout = tmp_path / "src" / "torch-dev"
    (checkout / "torch").mkdir(parents=True)
    (checkout / "torch" / "__init__.py").write_text("DEV = 1\n")
    (checkout / "torch.egg-info").mkdir()
    (checkout / "torch.egg-info" / "PKG-INFO").write_text("Metadata-Version: 2.1\nName: torch\nVersion: 2.5.1\n")
    site = next((python.parent.parent / "lib").glob("python3*/site-packages"))
    (site / "torch.egg-link").write_text(f"{checkout}\n.")
    (site / "easy-install.pth").write_text(f"/some/other/checkout\n{checkout}\n")
    before, frozen = prefix_state(python), freeze(python)
    assert "torch" in frozen  # pip sees the develop install
    proc = subprocess.run([a for a in argv(python, index, "==2.5.0", "--json") if a != "--no-torchaudio"],
                          capture_output=True, text=True, env=cli_env(index), timeout=300)
    assert proc.returncode == 4, proc.stderr
    assert prefix_state(python) == before and freeze(python) == frozen
    assert (site / "easy-install.pth").read_text() == f"/some/other/checkout\n{checkout}\n"


@pytest.mark.parametrize("variable", ["PIP_USER", "PIP_TARGET"])
def test_pip_user_or_target_cannot_send_the_install_elsewhere(env, tmp_path: Path, variable: str) -> None:
    python, index = env
    target = tmp_path / "elsewhere"
    value = "1" if variable == "PIP_USER" else str(target)
    home = tmp_path / "home"
    proc = subprocess.run(argv(python, index, "==2.5.1", "--json"), capture_output=True, text=True,
                          env=cli_env(index, **{variable: value}, HOME=str(home)), timeout=300)
    assert proc.returncode == 0, proc.stderr
    assert json.loads(proc.stdout)["action"] == "installed"
    assert "torch==2.5.1+cu124" in freeze(python)
    assert not target.exists() and not (home / ".local").exists()


def test_a_closed_stdout_keeps_exit_4_and_the_restore_message(env) -> None:
    python, index = env
    before = prefix_state(python)
    failing = [a for a in argv(python, index, "==2.5.0") if a != "--no-torchaudio"]
    command = " ".join(f"'{a}'" for a in failing) + " >&-"  # stdout closed, as `cmd >&-` leaves it
    proc = subprocess.run(["bash", "-c", command], capture_output=True, text=True, env=cli_env(index), timeout=300)
    assert proc.returncode == 4, proc.stderr[-2000:]
    assert "every file is as it was" in proc.stderr
    assert prefix_state(python) == before


def test_without_any_pip_uv_fetches_one_for_the_transaction(tmp_path: Path) -> None:
    """A uv venv has no pip, nor has torchsetup installed with `uv tool`: uv fetches pip into the
    transaction's folder, and that pip answers for the target. (Whether torchsetup's own interpreter
    has pip is given here: the one running this test has.)"""
    if shutil.which("uv") is None:
        pytest.skip("uv is not on PATH")
    from torchsetup.installer import pip_command

    target = make_venv(tmp_path / "uv-like")  # no pip
    folder = tmp_path / "txn"
    folder.mkdir()
    command = pip_command(str(target), folder, own_pip=False)
    assert command[:2] == [str(target), str(folder / "pip" / "pip")]
    said = subprocess.run([*command, "--version"], capture_output=True, text=True, check=True).stdout
    assert said.startswith("pip ") and str(folder) in said
