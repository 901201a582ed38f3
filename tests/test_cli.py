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


def test_the_top_help_lists_every_command_with_its_own_first_help_line(run_cli) -> None:
    """`torchsetup --help` lists the registry's summaries without importing the commands: each
    summary must be the first paragraph of the command's own help, and a misspelt command is still
    recognised."""
    from torchsetup.cli import COMMANDS

    env = dict(os.environ, COLUMNS="300")
    top = " ".join(run_cli("--help", env=env).stdout.split("Commands:")[1].split())
    expected = " ".join(f"{name} {info.summary}" for name, info in COMMANDS.items())
    assert top == expected
    assert list(COMMANDS) == ["probe", "resolve", "install", "verify", "doctor", "matrix", "project"]
    for name, info in COMMANDS.items():
        own = run_cli(name, "--help", env=env)
        assert own.returncode == 0, own.stderr
        first = " ".join(own.stdout.split("\n\n")[1].split())  # the paragraph after "Usage: ..."
        assert first == info.summary, (name, info.summary, first)
    typo = run_cli("resovle")
    assert typo.returncode == 2 and "Did you mean 'resolve'?" in typo.stderr
    # the root's --help before a command name is still the root's help, every command listed
    assert run_cli("--help", "probe", env=env).stdout == run_cli("--help", env=env).stdout


def test_colour_only_at_a_terminal_and_never_with_no_color(tmp_path: Path) -> None:
    """textout: ANSI colour on a real pty, none through a pipe or with NO_COLOR."""
    script = ("import sys; from torchsetup.textout import Out; o = Out(sys.stdout); "
              "o.line(o.style('torch 2.11.0', 'bold green'), ' plain [old] text')")
    env = dict(os.environ, PYTHONPATH=str(REPO), TERM="xterm")
    env.pop("NO_COLOR", None)
    piped = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, env=env, check=True)
    assert piped.stdout == "torch 2.11.0 plain [old] text\n"
    for extra, coloured in (({}, True), ({"NO_COLOR": "1"}, False), ({"TERM": "dumb"}, False)):
        pid, fd = pty.fork()
        if pid == 0:  # the child: stdout is the pty
            os.execve(sys.executable, [sys.executable, "-c", script], {**env, **extra})
        seen = read_until(fd, b"text")
        os.waitpid(pid, 0)
        text = seen.decode().replace("\r\n", "\n")
        assert ("\x1b[1;32mtorch 2.11.0\x1b[0m" in text) is coloured, (extra, text)
        assert "plain [old] text" in text


def test_every_example_in_the_readme_and_docs_is_what_the_command_prints(run_cli) -> None:
    """Every `$ torchsetup ...` block of the README and of docs/, run as typed: the text shown is
    exactly what the command prints. Each runs on a recorded probe document (examples/), so none
    holds a path or a time of this machine; a block that does not is an error here."""
    files = [REPO / "README.md", *sorted((REPO / "docs").glob("*.md"))]
    examples = []
    for path in files:
        text = path.read_text(encoding="utf-8")
        for block in text.split("```\n$ torchsetup ")[1:]:
            line, body = block.split("\n", 1)
            examples.append((path.name, line, body.split("```")[0]))
    assert len(examples) >= 4 and {name for name, _, _ in examples} >= {"README.md", "rules.md"}
    for name, line, shown in examples:
        assert "--probe-file examples/" in line, f"{name}: `torchsetup {line}` depends on this machine"
        proc = run_cli(*line.split())
        assert proc.stdout == shown, f"{name}'s `torchsetup {line}` no longer matches:\n{proc.stdout}"


def test_the_readme_is_for_users() -> None:
    text = (REPO / "README.md").read_text(encoding="utf-8")
    assert len(text.splitlines()) <= 200
    for history in ("this session", "this round", "this stop", "last stop", "today", "No GPU has run"):
        assert history not in text, history
