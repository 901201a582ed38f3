"""A live `matrix update` reads the requirements of torch's neighbours from the index its torch listing
came from: PEP 691 listings on a real 127.0.0.1 server that honours HTTP Range, the PEP 658 metadata
file where the listing says it is served, else the wheel's own METADATA read by range. The wheels are
built here with the real releases' names, versions and pins (as data/sources/pypi/extensions.json
records them); non-family requirements are added to show they are left out."""

from __future__ import annotations

import hashlib
import json
import zipfile
from collections.abc import Iterator
from pathlib import Path

import pytest
from conftest import SOURCES
from localindex import write_wheel
from rangeserver import RangeServer

from torchsetup.errors import EnvironmentUnusable
from torchsetup.matrix import load_matrix
from torchsetup.matrix.neighbourmeta import INDEX_PACKAGES
from torchsetup.matrix.sources import KNOWN
from torchsetup.matrix.update import update_matrix

PROBES = Path(__file__).parent / "fixtures" / "probes"
# (package, version, requirements in its METADATA, whether the index serves the METADATA beside it)
RELEASES = [
    ("vllm", "0.33.0", ("torch==2.14.0", "torchaudio==2.11.0", "torchvision==0.29.0", "numpy"), True),
    ("vllm", "0.34.0", ("torch==2.14.0", "torchaudio==2.11.0", "torchvision==0.29.0", "transformers>=4.56"),
     False),
    ("xformers", "0.0.35", ("torch>=2.10", "numpy"), True),
    ("torch_tensorrt", "2.14.0", ("torch<2.15.0,>=2.14.0", "tensorrt<10.15,>=10.14"), True),
    ("bitsandbytes", "0.50.2", ("torch<3,>=2.4", "numpy>=1.17"), False),
    ("torchao", "0.18.0", (), True),
]
# flash-attn: the index lists its releases as sdists alone (its wheels are GitHub release assets)
FLASH = ["2.8.2", "2.8.3", "2.8.3.post1", "2.8.3.post2"]
EXPECTED = {
    ("vllm", "0.33.0"): ["torch==2.14.0", "torchaudio==2.11.0", "torchvision==0.29.0"],
    ("vllm", "0.34.0"): ["torch==2.14.0", "torchaudio==2.11.0", "torchvision==0.29.0"],
    ("xformers", "0.0.35"): ["torch>=2.10"],
    ("torch-tensorrt", "2.14.0"): ["torch<2.15.0,>=2.14.0"],
    ("bitsandbytes", "0.50.2"): ["torch<3,>=2.4"],
    ("torchao", "0.18.0"): [],
    **{("flash-attn", version): [] for version in FLASH[1:]},  # the newest three: the 2.8.3 series
}


@pytest.fixture
def server() -> Iterator[RangeServer]:
    s = RangeServer()
    yield s
    s.stop()


def serve_index(server: RangeServer, tmp_path: Path, bad_metadata: bool = False) -> str:
    """The listings and files of RELEASES, plus what must never be read: a yanked release, a pre-release
    and an sdist. Returns the URL of torch's own listing (the saved copy) on the same index."""
    listings: dict[str, list[dict[str, object]]] = {name.replace("_", "-"): [] for name in INDEX_PACKAGES}
    for name, version, requires, beside in RELEASES:
        wheel = write_wheel(tmp_path / name, name, version, {f"{name}/__init__.py": b""}, requires)
        entry: dict[str, object] = {"filename": wheel.name, "url": server.add(f"/files/{wheel.name}", wheel),
                                    "hashes": {}, "requires-python": ">=3.10", "yanked": False}
        if beside:
            with zipfile.ZipFile(wheel) as zf:
                metadata = zf.read(f"{name}-{version}.dist-info/METADATA")
            server.add(f"/files/{wheel.name}.metadata", metadata)
            digest = hashlib.sha256(b"not this" if bad_metadata else metadata).hexdigest()
            entry["core-metadata"] = {"sha256": digest}
        listings[name.replace("_", "-")].append(entry)
    listings["vllm"] += [
        {"filename": "vllm-0.34.0.tar.gz", "url": server.url + "/files/vllm-0.34.0.tar.gz", "hashes": {}},
        {"filename": "vllm-0.35.0-cp38-abi3-manylinux_2_28_x86_64.whl", "hashes": {},
         "url": server.url + "/files/vllm-0.35.0-cp38-abi3-manylinux_2_28_x86_64.whl", "yanked": "broken"},
        {"filename": "vllm-0.36.0rc1-cp38-abi3-manylinux_2_28_x86_64.whl", "hashes": {},
         "url": server.url + "/files/vllm-0.36.0rc1-cp38-abi3-manylinux_2_28_x86_64.whl"}]
    listings["flash-attn"] = [{"filename": f"flash_attn-{v}.tar.gz", "hashes": {}, "requires-python": ">=3.9",
                               "url": f"{server.url}/files/flash_attn-{v}.tar.gz"} for v in FLASH]
    for name, files in listings.items():
        server.add_json(f"/simple/{name}/", {"meta": {"api-version": "1.1"}, "name": name, "files": files})
    return server.add_json("/simple/torch/", json.loads((SOURCES / "pypi" / "torch.simple.json").read_text()))


def offline_sources() -> list[str]:
    return [str(p) for p in SOURCES.rglob("*") if p.name in KNOWN
            and p.name not in ("torch.simple.json", "extensions.json")]


def test_a_live_update_reads_each_neighbours_requirements_from_the_index(server: RangeServer, tmp_path: Path,
                                                                          run_cli) -> None:
    torch_listing = serve_index(server, tmp_path)
    out, saved = tmp_path / "m.json", tmp_path / "extensions.json"
    progress: list[str] = []
    result = update_matrix([*offline_sources(), torch_listing], out, extensions_out=saved, allow_insecure=True,
                           progress=progress.append)

    rows = {(e.name, e.version): list(e.requires) for e in load_matrix(out).extensions}
    assert rows == EXPECTED  # no yanked release, no pre-release, no requirement outside the family
    how = {f"{r.name} {r.version}": (r.how, r.bytes_read) for r in result.neighbours_read}
    assert set(how) == {f"{name.replace('_', '-')} {version}" for name, version, _, _ in RELEASES} | {
        f"flash-attn {version}" for version in FLASH[1:]}
    assert how["flash-attn 2.8.3.post2"] == ("sdist only: not read", 0)
    metadata = server.files["/files/vllm-0.33.0-py3-none-any.whl.metadata"]
    assert how["vllm 0.33.0"] == ("metadata file", len(metadata) if isinstance(metadata, bytes) else -1)
    assert how["vllm 0.34.0"][0] == "wheel by range" and how["vllm 0.34.0"][1] > 0
    assert "reading the requirements of vllm 0.34.0" in progress
    vllm = next(e for e in load_matrix(out).extensions if e.version == "0.34.0")
    assert vllm.files == ("py3-none-any.whl", "sdist") and vllm.requires_python == ">=3.10"
    # a wheel whose METADATA is served beside it is never opened; the others only by range
    assert "/files/vllm-0.33.0-py3-none-any.whl" not in server.requests
    assert "/files/vllm-0.34.0-py3-none-any.whl.metadata" not in server.requests
    assert not any("0.35.0" in path or "rc1" in path or path.endswith(".tar.gz") for path in server.requests)
    flash = next(e for e in load_matrix(out).extensions if e.version == "2.8.3.post2")
    assert (flash.files, flash.requires_python) == (("sdist",), ">=3.9")
    source = next(s for s in load_matrix(out).sources if s["id"] == "extensions")
    assert source["address"].startswith(server.url + "/simple/<name>/")

    # the saved file, given back as an input, rebuilds the same table without the network
    server.files.clear()
    again = tmp_path / "again.json"
    update_matrix([*offline_sources(), str(saved), str(SOURCES / "pypi" / "torch.simple.json")], again)
    table = json.loads(out.read_text())["tables"]["extensions"]
    assert json.loads(again.read_text())["tables"]["extensions"] == table

    # what the rules make of it: vLLM's pins hold torch in the plan
    proc = run_cli("resolve", "--json", "--matrix", str(out), "--probe-file", str(PROBES / "h100-580.json"),
                   "--with", "vllm==0.34.0")
    plan = json.loads(proc.stdout)["plan"]
    assert (plan["torch"], plan["torchvision"], plan["torchaudio"]) == ("2.14.0", "0.29.0", "2.11.0")


def test_a_metadata_file_that_is_not_the_listed_one_stops_the_update(server: RangeServer, tmp_path: Path) -> None:
    torch_listing = serve_index(server, tmp_path, bad_metadata=True)
    out = tmp_path / "m.json"
    with pytest.raises(EnvironmentUnusable, match=r"vllm-0.33.0-py3-none-any.whl.metadata: its sha256 is not"):
        update_matrix([*offline_sources(), torch_listing], out, allow_insecure=True)
    assert not out.exists()
