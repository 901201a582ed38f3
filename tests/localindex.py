"""Tiny wheels built by the tests, served by real PEP 503 indexes on 127.0.0.1."""

from __future__ import annotations

import base64
import hashlib
import http.server
import threading
import time
import zipfile
from pathlib import Path


def _record_hash(data: bytes) -> str:
    return "sha256=" + base64.urlsafe_b64encode(hashlib.sha256(data).digest()).rstrip(b"=").decode()


def write_wheel(dest: Path, name: str, version: str, files: dict[str, bytes], requires: tuple[str, ...] = (),
                corrupt: str | None = None, tag: str = "py3-none-any") -> Path:
    """A real wheel (py3-none-any unless `tag` says otherwise) holding `files`, with METADATA, WHEEL and
    a RECORD of hashes. `corrupt`: the member whose CRC fails while pip extracts it."""
    dest.mkdir(parents=True, exist_ok=True)
    path = dest / f"{name}-{version}-{tag}.whl"
    info = f"{name}-{version}.dist-info"
    files = {**files,
             f"{info}/METADATA": (f"Metadata-Version: 2.1\nName: {name}\nVersion: {version}\n"
                                  + "".join(f"Requires-Dist: {r}\n" for r in requires)).encode(),
             f"{info}/WHEEL": b"Wheel-Version: 1.0\nGenerator: torchsetup-tests\nRoot-Is-Purelib: true\n"
                              + f"Tag: {tag}\n".encode()}
    record = "".join(f"{n},{_record_hash(d)},{len(d)}\n" for n, d in files.items()) + f"{info}/RECORD,,\n"
    with zipfile.ZipFile(path, "w", zipfile.ZIP_STORED) as zf:
        for n, d in files.items():
            zf.writestr(n, d)
        zf.writestr(f"{info}/RECORD", record)
    if corrupt:
        with zipfile.ZipFile(path) as zf:
            item = zf.getinfo(corrupt)
        raw = bytearray(path.read_bytes())
        start = item.header_offset + 30 + len(item.filename.encode()) + len(item.extra)
        raw[start + min(100, item.file_size - 1)] ^= 0xFF  # the CRC check fails when pip extracts it
        path.write_bytes(bytes(raw))
    return path


def build_wheel(dest: Path, name: str, version: str, requires: tuple[str, ...] = (),
                corrupt: bool = False, tag: str = "py3-none-any") -> Path:
    """A tiny wheel whose module says its version. `corrupt`: a payload that fails while pip installs it."""
    files = {f"{name}/__init__.py": f"__version__ = {version!r}\n".encode()}
    if corrupt:
        files[f"{name}/payload.bin"] = b"x" * 4096
    return write_wheel(dest, name, version, files, requires, f"{name}/payload.bin" if corrupt else None, tag)


class Index:
    """A PEP 503 index: `/<prefix>/<project>/` pages linking to wheels with #sha256=."""

    def __init__(self) -> None:
        self.routes: dict[str, list[Path]] = {}  # "/whl/cu124" -> wheels
        self.pages: dict[str, list[Path]] = {}  # "/pyg/torch-2.12.0+cpu.html" -> wheels: a find-links page
        self.requests: list[str] = []
        # wheel file name prefix -> (from which request of it on, seconds to wait before answering)
        self.delay: dict[str, tuple[int, float]] = {}
        index = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def log_message(self, *args: object) -> None:
                pass

            def do_GET(self, head: bool = False) -> None:  # noqa: N802
                index.requests.append(self.path)
                for prefix, (nth, seconds) in index.delay.items():
                    quoted = prefix.replace("+", "%2B")
                    if (quoted in self.path or prefix in self.path) and \
                            sum(quoted in r or prefix in r for r in index.requests) >= nth:
                        time.sleep(seconds)
                body, ctype = index.answer(self.path)
                self.send_response(200 if body is not None else 404)
                self.send_header("Content-Type", ctype)
                self.send_header("Content-Length", str(len(body or b"")))
                self.end_headers()
                if body is not None and not head:
                    self.wfile.write(body)

            def do_HEAD(self) -> None:  # noqa: N802 - uv asks before it downloads
                self.do_GET(head=True)

        self.httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}"
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)
        self.thread.start()

    def add(self, prefix: str, wheel: Path) -> None:
        self.routes.setdefault(prefix.rstrip("/"), []).append(wheel)

    def add_page(self, path: str, wheel: Path) -> None:
        self.pages.setdefault(path, []).append(wheel)

    def answer(self, path: str) -> tuple[bytes | None, str]:
        path = path.split("?")[0]
        page = self.pages.get(path.replace("%2B", "+"))
        if page is not None:  # a flat find-links page, as PyG serves them
            links = "".join(f'<a href="/files/{w.name.replace("+", "%2B")}">{w.name}</a><br>\n' for w in page)
            return f"<html><body>{links}</body></html>".encode(), "text/html"
        if path.startswith("/files/"):
            for wheels in [*self.routes.values(), *self.pages.values()]:
                for wheel in wheels:
                    if path.endswith("/" + wheel.name.replace("+", "%2B")) or path.endswith("/" + wheel.name):
                        return wheel.read_bytes(), "application/octet-stream"
            return None, "text/plain"
        prefix, _, project = path.rstrip("/").rpartition("/")
        wheels = [w for w in self.routes.get(prefix, [])
                  if w.name.split("-")[0].replace("_", "-").lower() == project.lower()]
        if not wheels:
            return None, "text/plain"
        links = "".join(
            f'<a href="/files/{w.name.replace("+", "%2B")}#sha256={hashlib.sha256(w.read_bytes()).hexdigest()}">'
            f"{w.name}</a><br>\n" for w in wheels)
        return f"<!DOCTYPE html><html><body>{links}</body></html>".encode(), "text/html"

    def stop(self) -> None:
        self.delay.clear()
        self.httpd.shutdown()
        self.httpd.server_close()
