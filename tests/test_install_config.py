"""The installer's own configuration passes the same gate as the plan's index, and credentials never
show: the real CLI in child processes, with pip and uv configuration given by environment variables
and real configuration files in a temporary home."""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path

from conftest import REPO

PROBE = str(REPO / "examples" / "rtx5090-570.json")
PYTHON = sys.executable  # an interpreter with pip: the plan stays pip's


def clean_env(tmp_path: Path, **extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PIP_", "UV_"))}
    env.update(HOME=str(tmp_path), XDG_CONFIG_HOME=str(tmp_path / ".config"),
               XDG_CONFIG_DIRS=str(tmp_path / "xdg"))
    env.update(extra)
    return env


def test_an_http_index_from_pips_configuration_is_refused(run_cli, tmp_path: Path) -> None:
    env = clean_env(tmp_path, PIP_EXTRA_INDEX_URL="http://mirror.example/simple")
    proc = run_cli("install", "--dry-run", "--python", PYTHON, "--installer", "pip", env=env)
    assert proc.returncode == 2
    assert ("the extra index from PIP_EXTRA_INDEX_URL: refusing plain http: http://mirror.example/simple"
            in proc.stderr)
    allowed = run_cli("install", "--dry-run", "--python", PYTHON, "--installer", "pip",
                      "--allow-insecure-index", env=env)
    assert allowed.returncode == 0, allowed.stderr


def test_a_config_file_index_is_named_and_the_index_strategy_leaves_it_out(run_cli, tmp_path: Path) -> None:
    config = tmp_path / ".config" / "pip" / "pip.conf"
    config.parent.mkdir(parents=True)
    config.write_text("[global]\nextra-index-url = https://user:hunter2@private.example/simple\n")
    env = clean_env(tmp_path)
    extra = run_cli("resolve", "--json", "--python", PYTHON, "--installer", "pip", env=env)
    assert extra.returncode == 0, extra.stderr
    notes = json.loads(extra.stdout)["plan"]["notes"]
    assert any(f"https://***@private.example/simple (extra, from {config})" in n for n in notes), notes
    index = run_cli("resolve", "--json", "--python", PYTHON, "--installer", "pip",
                    "--index-strategy", "index", env=env)
    plan = json.loads(index.stdout)["plan"]
    assert plan["command"][:4] == [PYTHON, "-m", "pip", "--isolated"]
    assert any("runs pip with --isolated" in n for n in plan["notes"])
    assert "hunter2" not in extra.stdout + extra.stderr + index.stdout + index.stderr


def test_credentials_never_show_in_any_output(run_cli, tmp_path: Path) -> None:
    base = "https://alice:s3cret@mirror.example/whl"
    env = clean_env(tmp_path)
    outputs = [run_cli(*args, "--probe-file", PROBE, "--index-base", base, env=env) for args in (
        ("resolve",), ("resolve", "--json"), ("install", "--dry-run"), ("install", "--dry-run", "--json"),
        ("install", "--dry-run", "--format", "requirements"))]
    for proc in outputs:
        assert proc.returncode == 0, proc.stderr
        assert "s3cret" not in proc.stdout + proc.stderr and "alice" not in proc.stdout + proc.stderr
    assert "https://***@mirror.example/whl/cu128" in outputs[2].stdout
    bad = run_cli("resolve", "--probe-file", PROBE, "--index-base", "http://alice:s3cret@mirror.example/whl",
                  "--debug", env=env)
    assert bad.returncode == 2 and "s3cret" not in bad.stderr and "Traceback" in bad.stderr


def test_uvs_configuration_counts_for_uv(run_cli, tmp_path: Path) -> None:
    uv_toml = tmp_path / ".config" / "uv" / "uv.toml"
    uv_toml.parent.mkdir(parents=True)
    uv_toml.write_text('[[index]]\nurl = "http://uv-mirror.example/simple"\n')
    env = clean_env(tmp_path)
    proc = run_cli("resolve", "--python", PYTHON, "--installer", "uv", env=env)
    assert proc.returncode == 2 and f"the extra index from {uv_toml}: refusing plain http" in proc.stderr
    pip = run_cli("resolve", "--python", PYTHON, "--installer", "pip", env=env)
    assert pip.returncode == 0, pip.stderr  # uv's file is no business of pip
