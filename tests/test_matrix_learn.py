"""`matrix update` learns a new torch release from its own wheels, over a real 127.0.0.1 server that
honours HTTP Range: the CPU torch 2.13.0 wheel on this machine, and torch-like wheels built here."""

from __future__ import annotations

import json
import os
import zipfile
from collections.abc import Iterator
from pathlib import Path

import pytest
from conftest import LOCAL_TORCH as LOCAL_WHEELS
from conftest import SOURCES
from rangeserver import RangeServer

from torchsetup.errors import EnvironmentUnusable
from torchsetup.matrix import load_matrix
from torchsetup.matrix.learn import peek
from torchsetup.matrix.sources import KNOWN
from torchsetup.matrix.update import update_matrix
from torchsetup.matrix.wheelpeek import RangeReader, parse_version_py

# the conftest list honours TORCHSETUP_TEST_TORCH_WHEEL
LOCAL_TORCH = [Path(w) for w in LOCAL_WHEELS if Path(w).name.startswith("torch-2.13.0+cpu-")]
NO_TORCH_WHEEL = "no CPU torch 2.13.0 wheel on this machine (/opt/wheels, or TORCHSETUP_TEST_TORCH_WHEEL)"


def torch_like_wheel(dest: Path, version: str, cuda: str | None, tag: str, filler: int = 3000) -> Path:
    """A wheel laid out like torch's: version.py, METADATA naming its CUDA runtime, thousands of
    members and a big payload that must never be downloaded."""
    path = dest / f"torch-{version}-cp312-cp312-{tag}.whl"
    info = f"torch-{version}.dist-info"
    requires = f"Requires-Dist: cuda-toolkit[cudart]=={cuda}.2; platform_system == \"Linux\"\n" if cuda else ""
    local = f"+cu{cuda.replace('.', '')}" if cuda else "+cpu"
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as zf:
        zf.writestr("torch/lib/libtorch_cuda.so", os.urandom(3_000_000), compress_type=zipfile.ZIP_STORED)
        for i in range(filler):
            zf.writestr(f"torch/include/header_{i:05d}.h", f"// {i}\n")
        zf.writestr("torch/version.py", (
            "from typing import Optional\n\n__all__ = ['__version__', 'debug', 'cuda', 'git_version', 'hip']\n"
            f"__version__ = '{version}{local}'\ndebug = False\n"
            f"cuda: Optional[str] = {cuda!r}\ngit_version = 'abc123'\nhip: Optional[str] = None\n"))
        zf.writestr(f"{info}/METADATA", f"Metadata-Version: 2.1\nName: torch\nVersion: {version}\n{requires}")
    return path


@pytest.fixture
def server() -> Iterator[RangeServer]:
    s = RangeServer()
    yield s
    s.stop()


@pytest.mark.skipif(not LOCAL_TORCH, reason=NO_TORCH_WHEEL)
def test_version_py_of_the_real_190_mb_wheel_costs_under_one_percent(server: RangeServer) -> None:
    wheel = LOCAL_TORCH[0]
    url = server.add(f"/files/{wheel.name}", wheel)
    found = peek(url, wheel.name, "linux-x86_64", RangeReader(url, allow_insecure=True))
    assert (found.version, found.cuda, found.hip) == ("2.13.0+cpu", None, None)
    assert found.git_version and len(found.git_version) == 40
    assert found.size == wheel.stat().st_size > 100_000_000
    assert found.bytes_read == server.sent[f"/files/{wheel.name}"] < found.size / 100
    assert found.requests == server.requests[f"/files/{wheel.name}"] <= 5


def test_a_host_that_ignores_range_is_refused_not_downloaded(server: RangeServer, tmp_path: Path) -> None:
    wheel = torch_like_wheel(tmp_path, "2.16.0", "13.2", "manylinux_2_28_x86_64")
    url = server.add(f"/files/{wheel.name}", wheel)
    server.ignore_range = True
    with pytest.raises(EnvironmentUnusable) as info:
        RangeReader(url, retries=1).tail(1024)
    assert "HTTP 200 to a range request" in info.value.message


def test_version_py_parsed_as_text() -> None:
    text = "__version__ = '2.8.0+cu128'\ncuda: Optional[str] = '12.8'\nhip = None\ngit_version = 'a1'\n"
    assert parse_version_py(text) == {"version": "2.8.0+cu128", "cuda": "12.8", "hip": None, "git_version": "a1"}
    assert parse_version_py("this is not python (") == {"version": None, "cuda": None, "hip": None,
                                                      "git_version": None}


def test_matrix_update_learns_a_release_it_has_never_seen(server: RangeServer, tmp_path: Path) -> None:
    torch_index = json.loads((SOURCES / "pypi" / "torch.simple.json").read_text())
    vision_index = json.loads((SOURCES / "pypi" / "torchvision.simple.json").read_text())
    for tag, cuda in (("manylinux_2_28_x86_64", "13.2"), ("manylinux_2_28_aarch64", "13.2"),
                      ("win_amd64", None)):
        wheel = torch_like_wheel(tmp_path, "2.16.0", cuda, tag)
        torch_index["files"].append({"filename": wheel.name, "url": server.add(f"/files/{wheel.name}", wheel),
                                     "hashes": {}, "upload-time": "2026-12-01T10:00:00Z", "yanked": False})
    torch_index["versions"].append("2.16.0")
    vision_index["files"].append({"filename": "torchvision-0.30.0-py3-none-any.whl", "url": "unused",
                                  "hashes": {}, "upload-time": "2026-12-01T10:05:00Z", "yanked": False})
    urls = [server.add_json("/simple/torch/", torch_index), server.add_json("/simple/torchvision/", vision_index)]
    files = [str(p) for p in SOURCES.rglob("*") if p.name in KNOWN
             and p.name not in ("torch.simple.json", "torchvision.simple.json")]
    out, saved = tmp_path / "m.json", tmp_path / "learned-builds.json"
    progress: list[str] = []
    result = update_matrix(files + urls, out, learned_out=saved, progress=progress.append, allow_insecure=True)

    assert result.added and "2.16.0" in {r.torch for r in load_matrix(out).releases}
    assert {(x.torch, x.platform, x.build) for x in result.learned} == {
        ("2.16.0", "linux-x86_64", "cu132"), ("2.16.0", "linux-aarch64", "cu132"),
        ("2.16.0", "windows-x86_64", "cpu")}
    for x in result.learned:
        assert x.bytes_read < 1_500_000 and x.wheel_size and x.bytes_read < x.wheel_size / 2
    release = load_matrix(out).by_version["2.16.0"]
    assert release.pypi_build("linux-x86_64") == "cu132" and release.pypi_build("windows-x86_64") == "cpu"
    assert (release.torchvision, release.pure_companions) == ("0.30.0", ("torchvision",))
    assert any("reading torch/version.py of torch-2.16.0" in line for line in progress)
    learned = json.loads(saved.read_text())["learned_builds"]["2.16.0"]
    assert learned["linux-x86_64"]["version"] == "2.16.0+cu132"
    assert learned["linux-x86_64"]["requires"] == ['cuda-toolkit[cudart]==13.2.2; platform_system == "Linux"']
    # only releases no knowledge row covers were read: the 52 known ones cost no request
    assert set(server.requests) == {"/simple/torch/", "/simple/torchvision/"} | {
        f"/files/torch-2.16.0-cp312-cp312-{t}.whl"
        for t in ("manylinux_2_28_x86_64", "manylinux_2_28_aarch64", "win_amd64")}
    # the saved file, given back as an input, rebuilds the same matrix without the network
    server.files.clear()
    (tmp_path / "torch.simple.json").write_text(json.dumps(torch_index))
    again = tmp_path / "again.json"
    update_matrix([*files, str(saved), str(tmp_path / "torch.simple.json")], again)
    first, second = json.loads(out.read_text()), json.loads(again.read_text())
    assert first["releases"][0]["pypi_builds"] == second["releases"][0]["pypi_builds"]
    assert first["releases"][0]["pypi_builds"]["linux-x86_64"]["build"] == "cu132"
