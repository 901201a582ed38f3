"""`--with`: torch's neighbours planned with torch, from the matrix's `extensions` table (the
requirements the package index gives, data/sources/pypi/extensions.json) and the packages' own facts.
Probe documents: the fixtures in fixtures/probes (written by hand, not recorded) and a Windows one
derived from the WSL2 RTX 4090 fixture."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

PROBES = Path(__file__).parent / "fixtures" / "probes"
FLASH = ("https://github.com/Dao-AILab/flash-attention/releases/download/v2.8.3.post2/"
         "flash_attn-2.8.3.post2+cu13torch2.10cxx11abiTRUE-cp312-cp312-linux_x86_64.whl")


def resolve_json(run_cli, probe: Path, *args: str) -> tuple[int, dict]:
    proc = run_cli("resolve", "--json", "--probe-file", str(probe), *args)
    return proc.returncode, json.loads(proc.stdout)


def windows_4090(tmp_path: Path) -> Path:
    doc = json.loads((PROBES / "wsl2-4090.json").read_text())
    doc["os"].update(system="Windows", machine="AMD64", libc=None, wsl=False)
    path = tmp_path / "windows-4090.json"
    path.write_text(json.dumps(doc))
    return path


def test_vllm_pins_torch_and_the_plan_says_vllm_holds_it(run_cli) -> None:
    code, doc = resolve_json(run_cli, PROBES / "h100-580.json", "--with", "vllm==0.33.0")
    plan = doc["plan"]
    assert code == 0 and (plan["torch"], plan["torchvision"], plan["torchaudio"], plan["variant"]) == (
        "2.14.0", "0.29.0", "2.11.0", "cu130")
    assert plan["with"] == [{"name": "vllm", "version": "0.33.0", "source": "pypi", "url": None}]
    assert plan["command"][4:] == ["torch==2.14.0", "torchvision==0.29.0", "torchaudio==2.11.0", "vllm==0.33.0"]
    # the matrix pairs no torchaudio with 2.14.0: vLLM's own pin is taken, and said
    assert "torchaudio 2.11.0: vllm 0.33.0 pins it; the matrix pairs no torchaudio release with torch 2.14.0" \
        in plan["notes"]
    assert not any("has no torchaudio release" in n for n in plan["notes"])
    assert [h["requires"] for h in plan["held_by"]] == ["torch==2.14.0", "torchaudio==2.11.0",
                                                        "torchvision==0.29.0"]
    assert any("planning torch 2.14.0; the newest that fits this machine is 2.15.0" in n for n in plan["notes"])


def test_flash_attn_gets_a_torch_minor_it_publishes_and_the_exact_asset(run_cli, tmp_path: Path) -> None:
    code, doc = resolve_json(run_cli, PROBES / "h100-580.json", "--with", "flash-attn")
    plan = doc["plan"]
    assert code == 0 and (plan["torch"], plan["variant"]) == ("2.10.0", "cu130")
    assert plan["with"] == [{"name": "flash-attn", "version": "2.8.3.post2", "source": "url", "url": FLASH}]
    assert f"flash-attn 2.8.3.post2: the release asset {FLASH}, installed by its address without a hash to pin " \
        "(the release publishes no checksum)" in plan["notes"]
    assert plan["command"][-1] == FLASH
    t4 = run_cli("resolve", "--probe-file", str(PROBES / "t4-470.json"), "--with", "flash-attn")
    assert t4.returncode == 3
    assert "flash-attn 2.8.3.post2 has no kernels for Tesla T4 (sm_75): flash-attn 2" in t4.stderr
    assert "FlashAttention 4 (flash-attn-4: pure Python" in t4.stderr
    windows = run_cli("resolve", "--probe-file", str(windows_4090(tmp_path)), "--with", "flash-attn")
    assert windows.returncode == 3
    assert "flash-attn 2.8.3.post2 publishes no release assets for windows-x86_64" in windows.stderr


def test_xformers_is_the_release_whose_pin_fits_the_plan(run_cli) -> None:
    code, doc = resolve_json(run_cli, PROBES / "no-gpu.json", "--with", "xformers", "--torch", "2.9.1")
    assert code == 0 and doc["plan"]["torch"] == "2.9.1"
    assert doc["plan"]["with"] == [{"name": "xformers", "version": "0.0.33.post2", "source": "pypi", "url": None}]
    code, doc = resolve_json(run_cli, PROBES / "no-gpu.json", "--with", "xformers", "--torch", "2.8.0")
    assert code == 0 and doc["plan"]["with"][0]["version"] == "0.0.32.post2"
    code, doc = resolve_json(run_cli, PROBES / "no-gpu.json", "--with", "xformers")  # 0.0.35: torch>=2.10
    assert code == 0 and doc["plan"]["with"][0]["version"] == "0.0.35"


@pytest.mark.parametrize("package,version,torch", [
    ("torchao", "0.14.1", "2.9.1"), ("torch-tensorrt", "2.12.1", "2.12.1"), ("bitsandbytes", "0.50.2", "2.9.1")])
def test_each_package_is_held_to_the_torch_it_needs(run_cli, package: str, version: str, torch: str) -> None:
    code, doc = resolve_json(run_cli, PROBES / "h100-580.json", "--with", package, "--torch", f"=={torch}")
    assert code == 0, doc
    assert doc["plan"]["torch"] == torch and doc["plan"]["with"][0]["version"] == version


def test_a_package_that_cannot_run_here_is_refused_with_the_reason(run_cli, tmp_path: Path) -> None:
    windows = run_cli("resolve", "--probe-file", str(windows_4090(tmp_path)), "--with", "vllm")
    assert windows.returncode == 3 and "vllm 0.34.0 publishes no wheel for windows-x86_64" in windows.stderr
    cpu = run_cli("resolve", "--probe-file", str(PROBES / "no-gpu.json"), "--with", "vllm")
    assert cpu.returncode == 3 and "vllm 0.34.0 needs an NVIDIA GPU" in cpu.stderr
    unknown = run_cli("resolve", "--probe-file", str(PROBES / "no-gpu.json"), "--with", "numpy")
    assert unknown.returncode == 2 and "torchsetup does not plan numpy with torch" in unknown.stderr
    bad = run_cli("resolve", "--probe-file", str(PROBES / "no-gpu.json"), "--with", "vllm===")
    assert bad.returncode == 2 and "--with 'vllm===': not a requirement" in bad.stderr


def test_a_torch_the_package_has_no_wheel_for_is_said_with_the_newest_combination(run_cli) -> None:
    proc = run_cli("resolve", "--probe-file", str(PROBES / "h100-580.json"), "--torch", "2.11",
                   "--with", "flash-attn")
    assert proc.returncode == 3
    assert ("no build fits with flash-attn: flash-attn 2.8.3.post2 has no wheel for torch 2.11 (its release "
            "assets cover torch 2.6–2.10)") in proc.stderr
    assert "hint: newest combination that has one: torch 2.10.0 cu130 + flash-attn 2.8.3.post2;" in proc.stderr


def test_pyg_packages_come_from_the_page_of_the_planned_torch(run_cli) -> None:
    code, doc = resolve_json(run_cli, PROBES / "h100-580.json", "--with", "torch-scatter")
    plan = doc["plan"]
    page = "https://data.pyg.org/whl/torch-2.12.0+cu130.html"
    assert code == 0 and plan["torch"] == "2.12.1"
    assert plan["with"] == [{"name": "torch-scatter", "version": "from the page", "source": "find-links",
                             "url": page}]
    assert plan["command"][-3:] == ["-f", page, "torch-scatter"]
    late = run_cli("resolve", "--probe-file", str(PROBES / "h100-580.json"), "--torch", "2.13",
                   "--with", "torch-scatter")
    assert late.returncode == 3
    assert "torch-scatter has no wheel for torch 2.13 (PyG's pages list no wheels after torch 2.12)" in late.stderr


def test_the_asset_and_page_addresses_follow_their_mirrors_through_the_url_gate(run_cli) -> None:
    import os

    env = dict(os.environ, TORCHSETUP_FLASH_ATTN_RELEASES="https://mirror.example/fa/")
    h100 = str(PROBES / "h100-580.json")
    proc = run_cli("resolve", "--json", "--probe-file", h100, "--with", "flash-attn", env=env)
    url = json.loads(proc.stdout)["plan"]["with"][0]["url"]
    assert url == FLASH.replace("https://github.com/Dao-AILab/flash-attention/releases/download",
                                "https://mirror.example/fa")
    plain = dict(os.environ, TORCHSETUP_PYG_PAGES="http://mirror.example/pyg")
    refused = run_cli("resolve", "--probe-file", h100, "--with", "torch-scatter", env=plain)
    assert refused.returncode == 2 and "TORCHSETUP_PYG_PAGES: refusing plain http" in refused.stderr


def test_matrix_update_reads_the_pins_from_the_saved_index_metadata(tmp_path: Path, run_cli) -> None:
    """The shipped matrix's extensions table is what `matrix update --from data/sources` makes of the
    saved copy of the package index's metadata (data/sources/pypi/extensions.json)."""
    sources = Path(__file__).parent.parent / "data" / "sources"
    out = tmp_path / "matrix.json"
    proc = run_cli("matrix", "update", "--from", str(sources), "--output", str(out))
    assert proc.returncode == 0, proc.stderr
    rows = {(e["name"], e["version"]): e for e in json.loads(out.read_text())["tables"]["extensions"]}
    saved = json.loads((sources / "pypi" / "extensions.json").read_text())["releases"]
    assert len(rows) == len(saved)
    assert rows[("vllm", "0.33.0")]["requires"] == ["torch==2.14.0", "torchaudio==2.11.0", "torchvision==0.29.0"]
    assert rows[("xformers", "0.0.35")]["requires"] == ["torch>=2.10"]
    assert rows[("torch-tensorrt", "2.14.0")]["requires"] == ["torch<2.15.0,>=2.14.0"]
    assert rows[("torchao", "0.18.0")]["requires"] == []  # it declares none
    assert {r["source"] for r in rows.values()} == {"extensions"}
    sources_list = json.loads(out.read_text())["sources"]
    assert any(s["id"] == "extensions" and s["file"].endswith("extensions.json") for s in sources_list)


def test_an_update_without_the_neighbours_metadata_keeps_the_current_table(tmp_path: Path, run_cli) -> None:
    """A live `matrix update` reads torch's own sources only: the extensions table (and its source) of the
    matrix in use are kept, not dropped."""
    import shutil

    sources = tmp_path / "sources"
    shutil.copytree(Path(__file__).parent.parent / "data" / "sources", sources)
    (sources / "pypi" / "extensions.json").unlink()
    out = tmp_path / "matrix.json"
    proc = run_cli("matrix", "update", "--from", str(sources), "--output", str(out))
    assert proc.returncode == 0, proc.stderr
    built = json.loads(out.read_text())
    shipped = json.loads((Path(__file__).parent.parent / "data" / "compat_matrix.json").read_text())
    assert built["tables"]["extensions"] == shipped["tables"]["extensions"]
    assert [s for s in built["sources"] if s["id"] == "extensions"] == \
        [s for s in shipped["sources"] if s["id"] == "extensions"]
