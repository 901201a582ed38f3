"""A file server on 127.0.0.1 that honours HTTP Range (bytes=a-b and bytes=-n) and counts what it
sends: the stand-in for the package index's file host in the matrix-learning tests and benchmark."""

from __future__ import annotations

import contextlib
import http.server
import json
import re
import threading
from pathlib import Path


class RangeServer:
    def __init__(self) -> None:
        self.files: dict[str, Path | bytes] = {}
        self.sent: dict[str, int] = {}
        self.requests: dict[str, int] = {}
        self.ignore_range = False  # a host that answers 200 with the whole file
        server = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def log_message(self, *args: object) -> None:
                pass

            def do_GET(self) -> None:  # noqa: N802
                server.requests[self.path] = server.requests.get(self.path, 0) + 1
                body = server.files.get(self.path)
                if body is None:
                    return self._answer(404, b"no such file", {})
                data = body.read_bytes() if isinstance(body, Path) else body
                wanted = re.fullmatch(r"bytes=(\d*)-(\d*)", self.headers.get("Range", ""))
                if wanted is None or server.ignore_range:
                    return self._answer(200, data, {"Content-Type": _kind(self.path)})
                first, last = wanted.groups()
                size = len(data)
                if first == "":
                    start, end = max(0, size - int(last)), size - 1
                else:
                    start, end = int(first), min(size - 1, int(last) if last else size - 1)
                return self._answer(206, data[start:end + 1], {"Content-Range": f"bytes {start}-{end}/{size}"})

            def _answer(self, code: int, body: bytes, headers: dict[str, str]) -> None:
                server.sent[self.path] = server.sent.get(self.path, 0) + len(body)
                with contextlib.suppress(BrokenPipeError, ConnectionResetError):
                    self.send_response(code)
                    for key, value in headers.items():
                        self.send_header(key, value)
                    self.send_header("Content-Length", str(len(body)))
                    self.end_headers()
                    self.wfile.write(body)

        self.httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}"
        threading.Thread(target=self.httpd.serve_forever, daemon=True).start()

    def add(self, path: str, body: Path | bytes) -> str:
        self.files[path] = body
        return self.url + path

    def add_json(self, path: str, document: object) -> str:
        return self.add(path, json.dumps(document).encode())

    def stop(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()


def _kind(path: str) -> str:
    return "application/vnd.pypi.simple.v1+json" if path.startswith("/simple/") else "application/octet-stream"
