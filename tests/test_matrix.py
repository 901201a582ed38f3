"""The scraper on the real page copies, the enrichment parsers, loading, and the shipped file."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from conftest import REPO, SOURCES

from torchsetup.errors import EnvironmentUnusable
from torchsetup.matrix import load_matrix
from torchsetup.matrix.companions import exact_pin
from torchsetup.matrix.enrich import (
    parse_markdown_listing,
    parse_simple_html,
    parse_wheel_filename,
    selector_variants,
    torch_requirement,
)
from torchsetup.matrix.scrape import count_release_headings, parse_previous_versions
from torchsetup.matrix.update import update_matrix

KR = SOURCES / "previous-versions.pytorch-kr-mirror.md"
UPSTREAM = SOURCES / "previous-versions.md"
SHIPPED = REPO / "data" / "compat_matrix.json"
INPUTS = [str(SOURCES)]


@pytest.fixture(scope="module")
def kr() -> dict:
    return {r.version: r for r in parse_previous_versions(KR.read_text())}


def test_both_page_copies_parse_every_release_heading() -> None:
    for page in (KR, UPSTREAM):
        text = page.read_text()
        releases = parse_previous_versions(text)
        assert len(releases) == count_release_headings(text) > 30
        assert len({r.version for r in releases}) == len(releases)


def test_2_5_1(kr: dict) -> None:
    r = kr["2.5.1"]
    assert (r.torchvision, r.torchaudio) == ("0.20.1", "2.5.1")
    linux = {v.name for v in r.variants if "linux" in v.platforms}
    assert linux == {"cu118", "cu121", "cu124", "rocm6.1", "rocm6.2", "cpu"}
    cu124 = next(v for v in r.variants if v.name == "cu124")
    assert (cu124.form, cu124.url) == ("index-url", "https://download.pytorch.org/whl/cu124")
    assert [v.platforms for v in r.variants if v.name.startswith("rocm")] == [("linux",), ("linux",)]


def test_1_12_0_cu102_local_version_with_extra_index(kr: dict) -> None:
    cu102 = next(v for v in kr["1.12.0"].variants if v.name == "cu102")
    assert (cu102.torch, cu102.torchvision, cu102.torchaudio) == ("1.12.0+cu102", "0.13.0+cu102", "0.12.0")
    assert (cu102.form, cu102.url) == ("extra-index-url", "https://download.pytorch.org/whl/cu102")


def test_1_10_find_links_form(kr: dict) -> None:
    for version in ("1.10.0", "1.10.1"):
        forms = {(v.form, v.url) for v in kr[version].variants if v.name != "cpu" or v.url}
        assert forms == {("find-links", "https://download.pytorch.org/whl/torch_stable.html")}
    rocm401 = next(v for v in kr["1.10.1"].variants if v.name == "rocm4.0.1")
    assert rocm401.torchvision == "0.10.2+rocm4.0.1"  # the page's own per-variant companion


def test_2_11_0_variants(kr: dict) -> None:
    names = {v.name for v in kr["2.11.0"].variants if "linux" in v.platforms}
    assert names == {"cu126", "cu128", "cu130", "rocm7.2", "cpu"}


def test_release_without_torchaudio_has_none(kr: dict) -> None:
    assert kr["2.12.1"].torchaudio is None and kr["1.4.0"].torchaudio is None
    assert kr["1.4.0"].torchvision == "0.5.0"


def test_lts_heading_and_plain_pypi_lines(kr: dict) -> None:
    lts = kr["1.8.2"]
    assert lts.title == "v1.8.2 with LTS support"
    assert {v.url for v in lts.variants} == {f"https://download.pytorch.org/whl/lts/1.8/{n}"
                                             for n in ("cu102", "cu111", "cpu")}
    cu101 = next(v for v in kr["1.4.0"].variants if v.name == "cu101")
    assert (cu101.form, cu101.url, cu101.line) == ("pypi", None, "pip install torch==1.4.0 torchvision==0.5.0")
    download = next(v for v in kr["1.0.0"].variants if v.name == "cu80")
    assert download.form == "download"
    assert download.url == "https://download.pytorch.org/whl/cu80/torch_stable.html"


def test_changed_layout_is_refused() -> None:
    from torchsetup.matrix.scrape import PageFormatError

    with pytest.raises(PageFormatError):
        parse_previous_versions("<html><body><h3>v2.5.1</h3><pre>pip install torch</pre></body></html>")


def test_simple_index_parsers_on_the_real_samples() -> None:
    html = (SOURCES / "simple-index-sample.html").read_text()
    wheels = parse_simple_html(html, "https://download.pytorch.org/whl/torch/")
    assert wheels and all(w.version == "2.7.0+cu128" and w.local == "cu128" for w in wheels)
    assert all(w.url and w.url.startswith("https://download.pytorch.org/whl/cu128/") for w in wheels)
    listing = parse_markdown_listing((SOURCES / "simple-index-listing.cu124-torch-2.5.1.md").read_text())
    assert listing and all(w.sha256 and len(w.sha256) == 64 for w in listing)
    assert {w.local for w in listing if w.local} == {"cu124"}


def test_wheel_filename_tags() -> None:
    w = parse_wheel_filename("torch-2.13.0-cp314-cp314t-manylinux_2_28_x86_64.whl")
    assert w is not None and w.python_tags == ("3.14t",) and w.platform_tags == ("manylinux_2_28_x86_64",)
    w = parse_wheel_filename("torch-2.5.1%2Bcu124-cp312-cp312-win_amd64.whl")
    assert w is not None and (w.version, w.python_tags) == ("2.5.1+cu124", ("3.12",))


def test_companion_pairing_from_requires_dist() -> None:
    pins = [("0.28.0", "==2.13.0", "meta"), ("0.29.2", ">=2.14.0", "info")]
    found = exact_pin(pins, "2.13.0")
    assert found is not None and found.companion == "0.28.0" and found.confidence.startswith("high")
    assert exact_pin(pins, "2.14.1") is None  # a lower bound pairs nothing by itself
    assert torch_requirement("Requires-Dist: numpy\nRequires-Dist: torch (==2.13.0)\n") == "==2.13.0"
    assert torch_requirement("Requires-Dist: torch>=2.14.0\n") == ">=2.14.0"


def test_selector_data_names_the_pypi_default_build() -> None:
    data = json.loads((SOURCES / "published_versions.json").read_text())
    variants = {name: index for name, index, _ in selector_variants(data["versions"]["2.13.0"])}
    assert variants["cu130"] is None  # plain `pip3 install torch` is the cu130 build
    assert variants["cu126"] == "https://download.pytorch.org/whl/cu126"


# ---------------------------------------------------------------- the shipped matrix


def test_shipped_matrix_is_exactly_what_the_code_builds(tmp_path: Path) -> None:
    out = tmp_path / "m.json"
    update_matrix(INPUTS, out)
    built, shipped = json.loads(out.read_text()), json.loads(SHIPPED.read_text())
    built.pop("generated_at"), shipped.pop("generated_at")
    assert built == shipped, "data/compat_matrix.json is stale: regenerate it (README)"


def test_shipped_matrix_covers_every_page_release_and_beyond() -> None:
    matrix = load_matrix()
    versions = set(matrix.by_version)
    if KR.exists():
        assert {r.version for r in parse_previous_versions(KR.read_text())} <= versions
    assert {"2.13.0", "2.14.1", "1.0.0"} <= versions
    r213 = matrix.by_version["2.13.0"]
    assert r213.torchvision == "0.28.0" and r213.torchaudio is None
    assert "pytorch-index-variants" in matrix.by_version["2.15.0"].unknown
    ids = {s["id"] for s in matrix.sources}
    assert all(r.source in ids for r in matrix.releases)
    assert all(a.source for a in matrix.arch_lists)


@pytest.mark.parametrize("content,problem", [
    ('{"schema": "torchsetup.matrix/1", "releases": [', "truncated or corrupt"),
    ('{"schema": "torchsetup.matrix/7", "releases": []}', "unknown matrix schema"),
    ('{"schema": "torchsetup.matrix/1", "releases": [{"torch": "2.5.1"}]}', "malformed matrix"),
])
def test_bad_matrix_files_name_file_and_problem(tmp_path: Path, content: str, problem: str) -> None:
    bad = tmp_path / "m.json"
    bad.write_text(content)
    with pytest.raises(EnvironmentUnusable) as info:
        load_matrix(bad)
    assert str(bad) in info.value.message and problem in info.value.message


def test_bad_matrix_is_exit_5_without_traceback(run_cli, tmp_path: Path) -> None:
    bad = tmp_path / "m.json"
    bad.write_text("{")
    proc = run_cli("matrix", "show", "--matrix", str(bad))
    assert proc.returncode == 5 and str(bad) in proc.stderr and "Traceback" not in proc.stderr


def test_matrix_show_json(run_cli) -> None:
    proc = run_cli("matrix", "show", "--torch", "==2.5.1", "--json")
    assert proc.returncode == 0, proc.stderr
    doc = json.loads(proc.stdout)
    assert [r["torch"] for r in doc["releases"]] == ["2.5.1"]
    assert {"cu118", "cu121", "cu124", "cpu"} <= {v["name"] for v in doc["releases"][0]["variants"]}


def test_pypi_builds_are_per_platform() -> None:
    matrix = load_matrix()
    r213 = matrix.by_version["2.13.0"]
    pypi = {(v.name, p) for v in r213.variants if v.index_url is None for p in v.platforms}
    # Linux's plain `pip install torch` is cu130 (x86_64 and aarch64), Windows' the CPU build
    assert pypi == {("cu130", "linux-x86_64"), ("cu130", "linux-aarch64"), ("cpu", "windows-x86_64"),
                    ("cpu", "macos-arm64")}
    windows_cu130 = next(v for v in r213.variants if v.name == "cu130" and "windows" in v.platforms)
    assert windows_cu130.index_url == "https://download.pytorch.org/whl/cu130"
    cu117 = next(v for v in matrix.by_version["2.0.0"].variants if v.name == "cu117" and v.index_url is None)
    assert cu117.platforms == ("linux-x86_64",)


def test_selector_only_release_takes_its_pins_from_the_selector() -> None:
    r = load_matrix().by_version["1.10.2"]  # on PyPI and in the selector, not on the page
    assert (r.torchvision, r.torchaudio) == ("0.11.3", "0.10.2")
    cu113 = next(v for v in r.variants if v.name == "cu113")
    assert (cu113.torch_pin, cu113.form) == ("1.10.2+cu113", "find-links")
