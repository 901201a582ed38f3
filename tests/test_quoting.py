"""Printed commands survive hostile paths: checked by a real POSIX shell, and PowerShell's rules."""

from __future__ import annotations

import subprocess

import pytest

from torchsetup.command import CommandOptions, Pins, install_argv
from torchsetup.quoting import posix, powershell, powershell_word

HOSTILE = [
    "/home/me/my envs/py 3.11/bin/python",
    "/tmp/it's/python",
    '/tmp/"quoted"/python',
    "/tmp/$HOME/`id`/python",
    "/tmp/ünïcödé/日本語/python",
    "C:\\Users\\Jo Smith\\venv\\Scripts\\python.exe",
]


def argv_for(python: str) -> list[str]:
    pins = Pins("cu124", "index-url", "https://download.pytorch.org/whl/cu124",
                ("torch==2.5.1", "torchvision==0.20.1"))
    return install_argv(pins, CommandOptions(python=python))


@pytest.mark.parametrize("path", HOSTILE)
def test_posix_quoting_round_trips_through_a_real_shell(path: str) -> None:
    argv = argv_for(path)
    line = posix(argv)
    out = subprocess.run(["sh", "-c", f"printf '%s\\0' {line}"], capture_output=True, check=True).stdout
    assert out.decode().split("\0")[:-1] == argv


@pytest.mark.parametrize("path", HOSTILE)
def test_powershell_quoting(path: str) -> None:
    line = powershell(argv_for(path))
    assert line.startswith("& '")  # a quoted command needs the call operator
    assert powershell_word(path) == "'" + path.replace("'", "''") + "'"
    assert "torch==2.5.1+cu124" in line.split() and "https://download.pytorch.org/whl/cu124" in line.split()


def test_powershell_leaves_plain_words_bare() -> None:
    assert powershell(["python", "-m", "pip", "install", "torch==2.5.1+cu124"]) == (
        "python -m pip install torch==2.5.1+cu124")
    assert powershell_word("$env:PATH") == "'$env:PATH'"  # single quotes: no expansion
    assert powershell_word("") == "''"


def test_argv_forms() -> None:
    base = ("torch==2.5.1", "torchvision==0.20.1")
    extra = install_argv(Pins("cu124", "index-url", "https://download.pytorch.org/whl/cu124", base),
                         CommandOptions(python="py"))
    assert extra == ["py", "-m", "pip", "install", "torch==2.5.1+cu124", "torchvision==0.20.1+cu124",
                     "--extra-index-url", "https://download.pytorch.org/whl/cu124"]
    index = install_argv(Pins("cu124", "index-url", "https://download.pytorch.org/whl/cu124", base),
                         CommandOptions(python="py", strategy="index", index_base="https://m.example/pt"))
    assert index == ["py", "-m", "pip", "install", "torch==2.5.1", "torchvision==0.20.1",
                     "--index-url", "https://m.example/pt/cu124"]
    old = install_argv(Pins("cu111", "find-links", "https://download.pytorch.org/whl/torch_stable.html",
                            ("torch==1.10.1+cu111",)), CommandOptions(python="py", installer="uv"))
    assert old == ["uv", "pip", "install", "--python", "py", "torch==1.10.1+cu111",
                   "--find-links", "https://download.pytorch.org/whl/torch_stable.html"]
    mac = install_argv(Pins("cpu", "pypi", None, base), CommandOptions(python="py"))
    assert mac == ["py", "-m", "pip", "install", "torch==2.5.1", "torchvision==0.20.1"]
