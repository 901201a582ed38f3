"""`matrix update` against a real HTTP server on 127.0.0.1: timeouts, 500s, truncation, layout."""

from __future__ import annotations

import contextlib
import http.server
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from conftest import SOURCES

from torchsetup.errors import EnvironmentUnusable
from torchsetup.matrix import load_matrix
from torchsetup.matrix.sources import fetch_url
from torchsetup.matrix.update import update_matrix

PAGE = (SOURCES / "previous-versions.pytorch-kr-mirror.md").read_bytes()


class Handler(http.server.BaseHTTPRequestHandler):
    hits: dict[str, int] = {}

    def log_message(self, *args: object) -> None:
        pass

    def do_GET(self) -> None:  # noqa: N802
        Handler.hits[self.path] = Handler.hits.get(self.path, 0) + 1
        if self.path == "/page.md":
            self._send(200, PAGE)
        elif self.path == "/flaky.md":  # 500 once, then the page
            self._send(500, b"oops") if Handler.hits[self.path] == 1 else self._send(200, PAGE)
        elif self.path == "/always500.md":
            self._send(500, b"oops")
        elif self.path == "/slow.md":
            time.sleep(3)
            self._send(200, PAGE)
        elif self.path == "/truncated.md":
            self.send_response(200)
            self.send_header("Content-Length", str(len(PAGE)))
            self.end_headers()
            with contextlib.suppress(BrokenPipeError, ConnectionResetError):
                self.wfile.write(PAGE[: len(PAGE) // 3])
        elif self.path == "/newlayout.md":
            self._send(200, b"<html><h3>v2.99.0</h3><p>Install with our new widget</p></html>")
        else:
            self._send(404, b"no")

    def _send(self, code: int, body: bytes) -> None:
        try:
            self.send_response(code)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)
        except (BrokenPipeError, ConnectionResetError):
            pass  # the client gave up (the timeout test)


@pytest.fixture(scope="module")
def server() -> Iterator[str]:
    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{httpd.server_address[1]}"
    httpd.shutdown()


@pytest.fixture
def current(tmp_path: Path) -> Path:
    out = tmp_path / "compat_matrix.json"
    update_matrix([str(SOURCES)], out)
    return out


def fast_fetch(url: str):  # type: ignore[no-untyped-def]
    return fetch_url(url, timeout=1, retries=2, backoff=0.05, allow_insecure=True)


def test_fetch_from_local_server_builds_a_matrix(server: str, tmp_path: Path) -> None:
    out = tmp_path / "m.json"
    result = update_matrix([f"{server}/page.md"], out, fetch=fast_fetch, allow_insecure=True)
    assert result.newest == "2.12.1" and load_matrix(out).by_version["2.5.1"].torchvision == "0.20.1"


def test_a_500_is_retried(server: str, tmp_path: Path) -> None:
    update_matrix([f"{server}/flaky.md"], tmp_path / "m.json", fetch=fast_fetch, allow_insecure=True)
    assert Handler.hits["/flaky.md"] == 2


@pytest.mark.parametrize("path,problem", [
    ("/always500.md", "HTTP 500 (after 2 tries)"),
    ("/slow.md", "timed out"),
    ("/truncated.md", "truncated body"),
    ("/newlayout.md", "not a usable previous-versions page"),
    ("/missing.md", "HTTP 404"),
])
def test_failures_leave_the_old_matrix_untouched(server: str, current: Path, path: str,
                                                 problem: str) -> None:
    before = current.read_bytes()
    with pytest.raises(EnvironmentUnusable) as info:
        update_matrix([f"{server}{path}"], current, fetch=fast_fetch, allow_insecure=True)
    assert problem in info.value.message
    assert current.read_bytes() == before
    assert not [p for p in current.parent.iterdir() if p.name.startswith(".compat_matrix")]


def test_losing_releases_is_refused_unless_forced(server: str, current: Path) -> None:
    before = current.read_bytes()
    with pytest.raises(EnvironmentUnusable) as info:
        # no PyPI-only releases
        update_matrix([f"{server}/page.md"], current, fetch=fast_fetch, allow_insecure=True)
    assert "would lose" in info.value.message and "2.13.0" in info.value.message
    assert current.read_bytes() == before
    result = update_matrix([f"{server}/page.md"], current, force=True, fetch=fast_fetch, allow_insecure=True)
    assert "2.13.0" in result.lost


def test_cli_update_failure_is_one_line(run_cli, server: str, current: Path) -> None:
    proc = run_cli("matrix", "update", "--from", f"{server}/newlayout.md", "--output", str(current),
                   "--allow-insecure-index")
    assert proc.returncode == 5 and "Traceback" not in proc.stderr
    assert "not a usable previous-versions page" in proc.stderr
