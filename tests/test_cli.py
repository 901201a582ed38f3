"""The command line as a person and a script meet it: pure JSON, questions on stderr, quoting for
the target's shell, narrow encodings, help that says the exit codes, and true messages."""

from __future__ import annotations

import json
import os
import pty
import subprocess
import sys
from pathlib import Path

from conftest import REPO, read_until

from torchsetup import documents

PROBES = Path(__file__).parent / "fixtures" / "probes"


def test_install_json_at_a_terminal_asks_on_stderr_and_prints_one_document(bare_venv: Path) -> None:
    controller, terminal = pty.openpty()
    env = dict(os.environ, PYTHONPATH=str(REPO), COLUMNS="200", TERM="dumb", NO_COLOR="1")
    child = subprocess.Popen([sys.executable, "-m", "torchsetup", "install", "--json", "--no-verify", "--python",
                              str(bare_venv), "--torch", "==2.5.1", "--variant", "cpu"],
                             stdin=terminal, stdout=subprocess.PIPE, stderr=terminal, env=env)
    os.close(terminal)
    seen = read_until(controller, b"Install this now?")
    os.write(controller, b"n\n")
    out, _ = child.communicate(timeout=60)
    assert child.returncode == 0
    document = json.loads(out)  # stdout holds the one document, nothing else
    assert document["schema"] == documents.INSTALL and document["action"] == "declined"
    assert document["plan"]["torch"] == "2.5.1" and document["ok"] is True
    assert b"torch 2.5.1" in seen  # the plan was shown on the terminal, not on stdout


def test_a_windows_plan_is_quoted_for_powershell(run_cli, tmp_path: Path) -> None:
    doc = json.loads((PROBES / "no-gpu.json").read_text())
    doc["os"].update(system="Windows", machine="AMD64", libc=None)
    doc["python"]["executable"] = "C:\\Program Files\\Python312\\python.exe"
    doc["python"]["version"] = "3.12.4"
    probe = tmp_path / "win.json"
    probe.write_text(json.dumps(doc))
    proc = run_cli("install", "--dry-run", "--probe-file", str(probe), "--torch", "==2.5.1")
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.startswith("& 'C:\\Program Files\\Python312\\python.exe' -m pip install torch==2.5.1")
    posix = run_cli("install", "--dry-run", "--probe-file", str(probe), "--torch", "==2.5.1", "--shell", "posix")
    assert posix.stdout.startswith("'C:\\Program Files\\Python312\\python.exe' -m pip")
    resolve = run_cli("resolve", "--probe-file", str(probe), "--torch", "==2.5.1")
    assert "command: & 'C:\\Program Files" in resolve.stdout


def test_an_ascii_only_stream_does_not_crash(run_cli) -> None:
    env = dict(os.environ, PYTHONIOENCODING="ascii")
    proc = run_cli("resolve", "--probe-file", str(PROBES / "rtx5090-570.json"), env=env)
    assert proc.returncode == 0 and "Traceback" not in proc.stderr
    assert "driver ? 580" in proc.stdout or "driver >= 580" in proc.stdout or "\\u2265" in proc.stdout


def test_matrix_update_writes_a_user_copy_and_show_names_the_file(run_cli, tmp_path: Path) -> None:
    env = dict(os.environ, TORCHSETUP_HOME=str(tmp_path))
    shipped = (REPO / "data" / "compat_matrix.json").read_bytes()
    proc = run_cli("matrix", "update", "--from", str(REPO / "data" / "sources"), env=env)
    assert proc.returncode == 0, proc.stderr
    assert (tmp_path / "compat_matrix.json").is_file()
    assert (REPO / "data" / "compat_matrix.json").read_bytes() == shipped  # the package's own file is left alone
    show = run_cli("matrix", "show", "--torch", "==2.5.1", env=env)
    assert str(tmp_path / "compat_matrix.json") in show.stdout.replace("\n", "")


def test_a_stale_virtual_env_is_named(run_cli, tmp_path: Path) -> None:
    env = dict(os.environ, VIRTUAL_ENV=str(tmp_path / "deleted-venv"))
    proc = run_cli("resolve", env=env)
    assert f"VIRTUAL_ENV={tmp_path / 'deleted-venv'} has no bin/python; it is ignored" in proc.stderr


def test_help_names_debug_and_the_exit_codes_and_errors_name_the_command(run_cli) -> None:
    top = " ".join(run_cli("--help", env=dict(os.environ, COLUMNS="200")).stdout.split())
    assert "--debug" in top and "3 no build fits" in top and "4 the install failed" in top
    install = " ".join(run_cli("install", "--help", env=dict(os.environ, COLUMNS="200")).stdout.split())
    assert "4 the install failed and the environment was restored" in install
    bad = run_cli("install", "--frobnicate")
    assert bad.returncode == 2 and "Run `torchsetup install --help`" in bad.stderr


def test_verify_without_torch_says_so(run_cli, bare_venv: Path) -> None:
    proc = run_cli("verify", "--json", "--python", str(bare_venv))
    assert proc.returncode == 1
    doc = json.loads(proc.stdout)
    assert doc["checks"][-1]["name"] == "import torch"
    assert "No module named 'torch'" in doc["checks"][-1]["detail"] and "exit 0" not in doc["checks"][-1]["detail"]


def test_install_explains_a_no_fit_as_resolve_does(run_cli) -> None:
    proc = run_cli("install", "--dry-run", "--probe-file", str(PROBES / "rtx5090-570.json"), "--torch", "<2.7")
    assert proc.returncode == 3
    assert "nearest alternatives" in proc.stderr and "fails only on the GPU's architecture" in proc.stderr
    assert proc.stdout == ""
