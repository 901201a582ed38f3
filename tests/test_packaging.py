"""The package as users get it: a built wheel carries the matrix, and finds it once installed."""

from __future__ import annotations

import subprocess
import sys
import zipfile
from pathlib import Path

import pytest
from conftest import REPO, isolated_pip_env, make_venv

pytestmark = pytest.mark.slow


def test_the_wheel_ships_the_matrix_and_finds_it(tmp_path: Path) -> None:
    out = tmp_path / "dist"
    build = subprocess.run([sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation",
                            "-w", str(out), str(REPO)], capture_output=True, text=True,
                           env=isolated_pip_env())
    if build.returncode != 0 and "hatchling" in build.stderr:
        pytest.skip("hatchling is not installed (pip install -e '.[test]' brings it)")
    assert build.returncode == 0, build.stderr
    wheel = next(out.glob("torchsetup-*.whl"))
    with zipfile.ZipFile(wheel) as zf:
        names = zf.namelist()
        shipped = zf.read("torchsetup/data/compat_matrix.json")
        entry_points = next(zf.read(n).decode() for n in names if n.endswith(".dist-info/entry_points.txt"))
    assert "torchsetup = torchsetup.cli:main" in entry_points.splitlines()
    assert "torchsetup/smoke_script.py" in names and "torchsetup/interpreter_script.py" in names
    assert shipped == (REPO / "data" / "compat_matrix.json").read_bytes()
    python = make_venv(tmp_path / "venv", with_pip=True)
    inst = subprocess.run([str(python), "-m", "pip", "install", "--no-deps", str(wheel)],
                          capture_output=True, text=True, env=isolated_pip_env())
    assert inst.returncode == 0, inst.stderr
    script = ("from torchsetup.matrix.store import default_matrix_path, load_matrix\n"
              "p = default_matrix_path()\nprint(p)\nprint(len(load_matrix(p).releases))\n")
    found = subprocess.run([str(python), "-c", script], capture_output=True, text=True, cwd=tmp_path)
    assert found.returncode == 0, found.stderr
    path, count = found.stdout.split()
    assert "site-packages/torchsetup/data/compat_matrix.json" in path and int(count) > 50
