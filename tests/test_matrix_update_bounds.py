"""`matrix update` against hostile servers on 127.0.0.1, each run in a child interpreter whose peak
memory (ru_maxrss) and time are measured here: a compression bomb as torch/version.py, a range
answer that never ends, headers dripped a byte at a time, and a listing of 100,000 releases."""

from __future__ import annotations

import http.server
import json
import os
import subprocess
import sys
import textwrap
import threading
import time
import zipfile
from collections.abc import Iterator
from pathlib import Path

import pytest
from conftest import REPO, SOURCES
from rangeserver import RangeServer

from torchsetup.matrix.sources import KNOWN

pytestmark = pytest.mark.slow
PEAK_RSS_MB = 300


def run_update(urls: list[str], out: Path, setup: str = ""
               ) -> tuple[subprocess.CompletedProcess[str], float, float]:
    """update_matrix in a child: (its result, its own peak RSS in MB, seconds it took). The child
    reports its own ru_maxrss: this process's RUSAGE_CHILDREN would be the largest of every child
    the test run ever waited for."""
    files = [str(p) for p in SOURCES.rglob("*") if p.name in KNOWN and p.name != "torch.simple.json"]
    code = textwrap.dedent(f"""
        import resource, sys
        {setup}
        from pathlib import Path
        from torchsetup.errors import TorchsetupError
        from torchsetup.matrix.update import update_matrix
        code = 0
        try:
            update_matrix({files + urls!r}, Path({str(out)!r}), allow_insecure=True)
            print("written")
        except TorchsetupError as exc:
            print("refused:", exc.message)
            code = 5
        sys.stderr.write("peak-kib %d\\n" % resource.getrusage(resource.RUSAGE_SELF).ru_maxrss)
        sys.exit(code)
        """)
    started = time.monotonic()
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=300,
                          env=dict(os.environ, PYTHONPATH=str(REPO)))
    took = time.monotonic() - started
    reported = [line for line in proc.stderr.splitlines() if line.startswith("peak-kib ")]
    assert reported, proc.stderr[-2000:]
    return proc, int(reported[-1].split()[1]) / 1024, took


def listing_with(server: RangeServer, files: list[tuple[str, str]], versions: list[str]) -> str:
    torch_index = json.loads((SOURCES / "pypi" / "torch.simple.json").read_text())
    for filename, url in files:
        torch_index["files"].append({"filename": filename, "url": url, "hashes": {},
                                     "upload-time": "2026-12-01T10:00:00Z", "yanked": False})
    torch_index["versions"] += versions
    return server.add_json("/simple/torch/", torch_index)


@pytest.fixture
def server() -> Iterator[RangeServer]:
    s = RangeServer()
    yield s
    s.stop()


def test_a_compression_bomb_as_version_py_is_refused_in_bounded_memory(server: RangeServer,
                                                                        tmp_path: Path) -> None:
    wheel = tmp_path / "torch-2.16.0-cp312-cp312-manylinux_2_28_x86_64.whl"
    with zipfile.ZipFile(wheel, "w", zipfile.ZIP_DEFLATED) as zf:
        with zf.open("torch/version.py", "w") as member:  # 512 MiB of zeros, about 0.5 MB packed
            block = b"\0" * (1 << 20)
            for _ in range(512):
                member.write(block)
        zf.writestr("torch-2.16.0.dist-info/METADATA", "Name: torch\nVersion: 2.16.0\n")
    url = server.add(f"/files/{wheel.name}", wheel)
    proc, peak, took = run_update([listing_with(server, [(wheel.name, url)], ["2.16.0"])], tmp_path / "m.json")
    assert proc.returncode == 5, proc.stdout + proc.stderr
    assert "torch/version.py is" in proc.stdout or "unpacks to more than" in proc.stdout, proc.stdout
    assert peak < PEAK_RSS_MB, f"peak RSS {peak:.0f} MB"
    assert not (tmp_path / "m.json").exists()


class _Hostile(http.server.BaseHTTPRequestHandler):
    mode = "endless"

    def log_message(self, *args: object) -> None:
        pass

    def do_GET(self) -> None:  # noqa: N802
        try:
            if self.mode == "drip":  # the status line, a byte every 2 s
                for byte in b"HTTP/1.1 206 Partial Content\r\n":
                    self.wfile.write(bytes([byte]))
                    self.wfile.flush()
                    time.sleep(2)
                return
            self.send_response(206)
            self.send_header("Content-Range", "bytes 0-1023/200000000")
            self.end_headers()
            chunk = b"x" * 65536
            deadline = time.monotonic() + 120
            while time.monotonic() < deadline:  # bounded: the test's server stops by itself
                self.wfile.write(chunk)
        except (BrokenPipeError, ConnectionResetError):
            pass


def hostile_server(mode: str) -> tuple[http.server.ThreadingHTTPServer, str]:
    handler = type("Handler", (_Hostile,), {"mode": mode})
    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    httpd.daemon_threads = True
    threading.Thread(target=httpd.serve_forever, daemon=True).start()
    return httpd, f"http://127.0.0.1:{httpd.server_address[1]}"


@pytest.mark.parametrize("mode,setup,said", [
    ("endless", "", "the answer is longer than"),
    ("drip", "import torchsetup.matrix.wheelpeek as w; w.ANSWER_DEADLINE = 6.0", "no answer within 6 s"),
])
def test_a_range_answer_is_bounded_in_size_and_time(server: RangeServer, tmp_path: Path, mode: str, setup: str,
                                                    said: str) -> None:
    """`setup` shortens the answer deadline for the drip case (60 s by default) so the test is short;
    the bound is the code's own."""
    httpd, base = hostile_server(mode)
    try:
        name = "torch-2.16.0-cp312-cp312-manylinux_2_28_x86_64.whl"
        proc, peak, took = run_update([listing_with(server, [(name, f"{base}/files/{name}")], ["2.16.0"])],
                                      tmp_path / "m.json", setup)
    finally:
        httpd.shutdown()
    assert proc.returncode == 5 and said in proc.stdout, proc.stdout + proc.stderr
    assert peak < PEAK_RSS_MB, f"peak RSS {peak:.0f} MB"
    assert took < 60, f"{took:.0f} s"
    assert not (tmp_path / "m.json").exists()


def test_a_listing_of_100000_releases_is_not_read(server: RangeServer, tmp_path: Path) -> None:
    versions = [f"9.{i // 1000}.{i % 1000}" for i in range(100_000)]
    files = [(f"torch-{v}-cp312-cp312-macosx_11_0_arm64.whl", f"{server.url}/files/none") for v in versions]
    proc, peak, took = run_update([listing_with(server, files, versions)], tmp_path / "m.json")
    assert proc.returncode == 5 and "lists 100,0" in proc.stdout and "not read" in proc.stdout, proc.stdout
    assert peak < PEAK_RSS_MB, f"peak RSS {peak:.0f} MB"
    assert not (tmp_path / "m.json").exists()


def test_learning_stops_at_its_cap_and_names_the_rest(monkeypatch: pytest.MonkeyPatch) -> None:
    """The cap itself, over a listing of made-up releases whose wheels are read by a stand-in reader
    (the network is another test's)."""
    from torchsetup.matrix import learn
    from torchsetup.matrix.learn import LearnedWheel

    read: list[str] = []

    def fake_peek(url: str, filename: str, platform: str, reader: object) -> LearnedWheel:
        read.append(filename)
        version = f"{filename.split('-')[1]}+cpu"
        return LearnedWheel(platform, filename, url, version, None, None, None, (), 1, 1, 1)

    monkeypatch.setattr(learn, "peek", fake_peek)
    versions = [f"3.{i}.0" for i in range(20)]
    simple = {"name": "torch", "versions": versions, "files": [
        {"filename": f"torch-{v}-cp312-cp312-win_amd64.whl", "url": f"https://files.example/{v}.whl",
         "hashes": {}, "yanked": False} for v in versions]}
    document, _, left = learn.learn(simple, reader_for=lambda url: object())  # type: ignore[arg-type,return-value]
    assert len(document["learned_builds"]) == learn.MAX_NEW_RELEASES == len(read)
    assert left == [f"3.{i}.0" for i in range(11, -1, -1)]  # newest first: the oldest wait
    assert set(document["learned_builds"]) == {f"3.{i}.0" for i in range(12, 20)}

