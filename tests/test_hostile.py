"""Hostile input: every case gets the contract's exit code and one clear line, never a traceback
or "internal error"; and nothing hostile reaches pip's argv, a requirements file, a shell or a
terminal unquoted."""

from __future__ import annotations

import gzip
import http.server
import json
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from conftest import SOURCES

from torchsetup.errors import EnvironmentUnusable, UsageError
from torchsetup.fetch import get
from torchsetup.quoting import powershell
from torchsetup.urlgate import check_redirect, check_url, mask

PROBES = Path(__file__).parent / "fixtures" / "probes"


def probe_doc(**nvidia: object) -> dict:
    doc = json.loads((PROBES / "rtx5090-570.json").read_text())
    doc["nvidia"].update(nvidia)
    return doc


def write(tmp_path: Path, name: str, content: str | bytes) -> str:
    path = tmp_path / name
    path.write_bytes(content if isinstance(content, bytes) else content.encode())
    return str(path)


def deep(n: int) -> str:
    return "[" * n + "]" * n


# (what, argv builder(tmp_path) -> argv, extra env, exit code, a fragment of the one-line error)
CASES = [
    ("deeply nested probe JSON", lambda d: ["resolve", "--probe-file", write(d, "p.json", deep(100000))],
     {}, 2, "nested too deeply"),
    ("probe file is /dev/zero", lambda d: ["resolve", "--probe-file", "/dev/zero"], {}, 2, "not a regular file"),
    ("probe file is a folder", lambda d: ["resolve", "--probe-file", str(d)], {}, 2, "not a regular file"),
    ("probe file not UTF-8", lambda d: ["resolve", "--probe-file", write(d, "p.json", b"\xff\xfe{}")], {}, 2,
     "not valid JSON"),
    ("gpus: 0", lambda d: ["resolve", "--probe-file", write(d, "p.json", json.dumps(probe_doc(gpus=0)))], {}, 2,
     "nvidia.gpus: expected a list, got int"),
    ("negative memory", lambda d: ["resolve", "--probe-file", write(d, "p.json", json.dumps(probe_doc(gpus=[
        {"index": 0, "name": "x", "compute_capability": "8.6", "memory_total_mib": -5}])))], {}, 2,
     "memory_total_mib: out of range"),
    ("full-width capability", lambda d: ["resolve", "--probe-file", write(d, "p.json", json.dumps(probe_doc(gpus=[
        {"index": 0, "name": "x", "compute_capability": "８.６"}])))], {}, 2, "not a capability"),
    ("driver with a newline", lambda d: ["resolve", "--probe-file", write(d, "p.json", json.dumps(probe_doc(
        driver_version="570.1\n--trusted-host evil")))], {}, 2, "nvidia.driver_version: not a version"),
    ("blank --torch", lambda d: ["resolve", "--torch", "   ", "--probe-file", str(PROBES / "no-gpu.json")], {}, 2,
     "--torch is empty"),
    ("bad --torch", lambda d: ["resolve", "--torch", "==banana!", "--probe-file", str(PROBES / "no-gpu.json")], {},
     2, "invalid torch specifier"),
    ("probe timeout nan", lambda d: ["probe", "--json"], {"TORCHSETUP_PROBE_TIMEOUT": "nan"}, 2,
     "TORCHSETUP_PROBE_TIMEOUT='nan'"),
    ("verify timeout nan", lambda d: ["verify", "--timeout", "nan"], {}, 2, "positive number of seconds"),
    ("verify timeout -1", lambda d: ["verify", "--timeout", "-1"], {}, 2, "positive number of seconds"),
    ("index base with a newline", lambda d: ["install", "--dry-run", "--format", "requirements", "--probe-file",
                                             str(PROBES / "no-gpu.json"), "--index-base",
                                             "https://m.example/whl\n--index-url http://evil/"], {}, 2,
     "whitespace or control characters"),
    ("index base from the environment", lambda d: ["install", "--dry-run", "--probe-file",
                                                   str(PROBES / "no-gpu.json")],
     {"TORCHSETUP_INDEX_BASE": "http://m.example/whl"}, 2, "refusing plain http"),
    ("index base without a host", lambda d: ["install", "--dry-run", "--probe-file", str(PROBES / "no-gpu.json"),
                                             "--index-base", "https:///whl"], {}, 2, "names no host"),
    ("--from http", lambda d: ["matrix", "update", "--from", "http://127.0.0.1:9/x.md", "--output",
                               str(d / "m.json")], {}, 2, "refusing plain http"),
    ("--output a folder", lambda d: ["matrix", "update", "--from", str(SOURCES), "--output", str(d)], {}, 2,
     "is a folder"),
    ("--from a wrong-shaped file",
     lambda d: ["matrix", "update", "--from", str(SOURCES / "previous-versions.md"), "--from",
                write(d, "torch.simple.json", '{"name": "torch", "files": 7}'), "--output", str(d / "m.json")],
     {}, 2, "unexpected shape"),
    ("--from JSON of no kind",
     lambda d: ["matrix", "update", "--from", write(d, "x.json", "[1, 2]"), "--output", str(d / "m.json")],
     {}, 2, "JSON of an unknown kind"),
    ("matrix: banana", lambda d: ["matrix", "show", "--matrix", write(d, "m.json", _matrix(torch="banana"))],
     {}, 5, "releases[0].torch: not a version"),
    ("matrix: duplicate", lambda d: ["matrix", "show", "--matrix", write(d, "m.json", _matrix(duplicate=True))],
     {}, 5, "a duplicate"),
    ("matrix: http index", lambda d: ["matrix", "show", "--matrix", write(d, "m.json", _matrix(
        index="http://evil.example/whl"))], {}, 5, "refusing plain http"),
    ("matrix: a string for a list", lambda d: ["matrix", "show", "--matrix", write(d, "m.json", _matrix(
        platforms="linux"))], {}, 5, "expected a list of strings"),
    ("matrix: /dev/zero", lambda d: ["matrix", "show", "--matrix", "/dev/zero"], {}, 5, "not a regular file"),
    ("unknown variant", lambda d: ["resolve", "--variant", "cu999", "--probe-file", str(PROBES / "no-gpu.json")],
     {}, 2, "no release in the matrix has a 'cu999' build"),
    ("not a variant name", lambda d: ["resolve", "--variant", "xpu9", "--probe-file", str(PROBES / "no-gpu.json")],
     {}, 2, "not a variant name: 'xpu9'"),
    ("--gpus that do not exist", lambda d: ["resolve", "--gpus", "7", "--probe-file",
                                            str(PROBES / "mixed-1080-4090.json")], {}, 2, "--gpus: no GPU '7'"),
    ("lock wait not a number", lambda d: ["install", "--yes", "--probe-file", str(PROBES / "no-gpu.json"),
                                          "--dry-run"], {"TORCHSETUP_LOCK_WAIT": "soon"}, 0, ""),
    ("--installer uv without uv", lambda d: ["resolve", "--installer", "uv", "--probe-file",
                                             str(PROBES / "no-gpu.json")], {"PATH": "/nonexistent"}, 2,
     "--installer uv: uv is not on PATH"),
    ("TORCHSETUP_HOME names a file", lambda d: ["matrix", "update", "--from", str(SOURCES)],
     {"TORCHSETUP_HOME": str(Path(__file__))}, 2, "is a file, not a folder"),
    ("--debug keeps the exit code", lambda d: ["resolve", "--variant", "cu999", "--probe-file",
                                               str(PROBES / "no-gpu.json"), "--debug"], {}, 2,
     "no release in the matrix has a 'cu999' build"),
]


def _matrix(torch: str = "2.5.1", duplicate: bool = False, index: str | None = None,
            platforms: object = None) -> str:
    document = json.loads((Path(__file__).parent.parent / "data" / "compat_matrix.json").read_text())
    release = next(r for r in document["releases"] if r["torch"] == "2.5.1")
    release["torch"] = torch
    if index:
        release["variants"][0]["index_url"] = index
    if platforms is not None:
        release["variants"][0]["platforms"] = platforms
    document["releases"] = [release, release] if duplicate else [release]
    return json.dumps(document)


@pytest.mark.parametrize("argv,env,code,fragment", [c[1:] for c in CASES], ids=[c[0] for c in CASES])
def test_hostile_input(run_cli, tmp_path: Path, argv, env, code: int, fragment: str) -> None:
    import os

    proc = run_cli(*argv(tmp_path), env={**os.environ, **env})
    assert proc.returncode == code, (proc.stdout[-500:], proc.stderr[-1500:])
    assert ("Traceback" not in proc.stderr or "--debug" in argv(tmp_path)) and "internal error" not in proc.stderr
    if code:
        assert fragment in proc.stderr, proc.stderr
        assert len([line for line in proc.stderr.splitlines() if line.startswith("torchsetup: error:")]) == 1


def test_powershell_quotes_cannot_be_broken_out_of() -> None:
    for hostile in ("C:\\Users\\x\u2019; Remove-Item -Recurse C:\\ ;\u2018", "a'b", "x\u201ay\u201bz",
                    "venv\\python.exe\n", "$(whoami)", "`n"):
        word = powershell(["py", hostile]).split(" ", 1)[1]
        assert word.startswith("'") and word.endswith("'")
        inner = word[1:-1]
        for quote in "'\u2018\u2019\u201a\u201b":  # every quote PowerShell ends a string at comes doubled
            assert inner.replace(quote * 2, "").count(quote) == 0
    assert powershell(["py", "ok"]) == "py ok"


def test_untrusted_text_is_shown_as_text(run_cli, tmp_path: Path) -> None:
    doc = probe_doc(gpus=[{"index": 0, "name": "GPU [/bold] \x1b[31mred\x1b[0m", "compute_capability": "12.0"}])
    doc["python"]["executable"] = "/opt/[old]/bin/python"
    f = write(tmp_path, "p.json", json.dumps(doc))
    human = run_cli("resolve", "--probe-file", f)
    assert human.returncode == 0, human.stderr
    assert "'/opt/[old]/bin/python' -m pip install" in human.stdout  # quoted as a shell needs, [old] kept
    probe = run_cli("probe", "--probe-file", f)
    assert probe.returncode == 0 and "GPU [/bold] red" in probe.stdout and "\x1b[31m" not in probe.stdout


def test_requirements_output_holds_only_options_and_pins(run_cli) -> None:
    proc = run_cli("install", "--dry-run", "--format", "requirements", "--probe-file",
                   str(PROBES / "rtx5090-570.json"))
    assert proc.returncode == 0
    assert proc.stdout.splitlines() == ["--extra-index-url https://download.pytorch.org/whl/cu128",
                                        "torch==2.11.0+cu128", "torchvision==0.26.0+cu128",
                                        "torchaudio==2.11.0+cu128"]


def test_credentials_are_masked_in_messages_and_sources(tmp_path: Path, server: str) -> None:
    from torchsetup.matrix.update import update_matrix

    secret = server.replace("http://", "http://alice:s3cret@")
    with pytest.raises(EnvironmentUnusable) as info:
        get(f"{secret}/missing", allow_insecure=True, retries=1)
    assert "s3cret" not in info.value.message and "***@" in info.value.message
    out = tmp_path / "m.json"
    update_matrix([f"{secret}/page.md"], out, allow_insecure=True, force=True, learn=False)
    text = out.read_text()
    assert "s3cret" not in text and "alice" not in text
    assert mask("see https://u:p@h/x and http://v@w/") == "see https://***@h/x and http://***@w/"


def test_the_url_gate() -> None:
    assert check_url("https://download.pytorch.org/whl", "x") == "https://download.pytorch.org/whl"
    for bad in ("http://h/", "ftp://h/", "https://", "https://h/\n", "https://h/ x", "https://h:99999/",
                "--trusted-host", "javascript:alert(1)"):
        with pytest.raises(UsageError):
            check_url(bad, "x")
    with pytest.raises(UsageError, match="refusing to leave https"):
        check_redirect("https://a.example/x", "http://b.example/x", allow_insecure=True)
    assert check_redirect("https://a.example/x", "https://b.example/y", False) == "https://b.example/y"


# ------------------------------------------------------------------ fetching from a hostile server

PAGE = (SOURCES / "previous-versions.pytorch-kr-mirror.md").read_bytes()


class Hostile(http.server.BaseHTTPRequestHandler):
    def log_message(self, *args: object) -> None:
        pass

    def do_GET(self) -> None:  # noqa: N802
        if self.path == "/page.md":
            return self._send(PAGE)
        if self.path == "/gzip.md":
            body = gzip.compress(PAGE)
            return self._send(body, {"Content-Encoding": "gzip"})
        if self.path == "/to-file":
            return self._send(b"", status=302, headers={"Location": "file:///etc/passwd"})
        if self.path == "/loop":
            return self._send(b"", status=302, headers={"Location": "/loop"})
        if self.path == "/drip":
            self.send_response(200)
            self.send_header("Content-Length", "1000")
            self.end_headers()
            try:
                for _ in range(1000):
                    self.wfile.write(b"x")
                    self.wfile.flush()
                    time.sleep(0.2)
            except OSError:
                pass
            return None
        if self.path == "/huge":
            self.send_response(200)
            self.send_header("Content-Length", str(3 * 1024 ** 3))
            self.end_headers()
            try:
                for _ in range(3 * 1024):
                    self.wfile.write(b"\0" * 1024 * 1024)
            except OSError:
                pass
            return None
        return self._send(b"no", status=404)

    def _send(self, body: bytes, headers: dict[str, str] | None = None, status: int = 200) -> None:
        try:
            self.send_response(status)
            for key, value in (headers or {}).items():
                self.send_header(key, value)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)
        except OSError:
            pass


@pytest.fixture(scope="module")
def server() -> Iterator[str]:
    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Hostile)
    threading.Thread(target=httpd.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{httpd.server_address[1]}"
    httpd.shutdown()


def test_gzip_bodies_are_decoded_not_called_truncated(server: str) -> None:
    assert get(f"{server}/gzip.md", allow_insecure=True).body == PAGE


def test_a_redirect_off_the_web_is_refused(server: str) -> None:
    with pytest.raises(UsageError, match="not an https:// address"):
        get(f"{server}/to-file", allow_insecure=True)
    with pytest.raises(UsageError, match="more than 5 redirects"):
        get(f"{server}/loop", allow_insecure=True)


def test_a_drip_feed_is_stopped_at_the_deadline(server: str) -> None:
    started = time.monotonic()
    with pytest.raises(EnvironmentUnusable, match="still sending after 2 s"):
        get(f"{server}/drip", allow_insecure=True, deadline=2, retries=1)
    assert time.monotonic() - started < 10


def test_a_huge_body_is_stopped_at_the_cap(server: str) -> None:
    started = time.monotonic()
    with pytest.raises(EnvironmentUnusable, match="more than 8 MiB"):
        get(f"{server}/huge", allow_insecure=True, max_bytes=8 * 1024 * 1024, retries=1)
    assert time.monotonic() - started < 30
