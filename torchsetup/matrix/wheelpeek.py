"""Read single members out of a remote wheel with HTTP range requests, never the whole file.

A wheel is a zip: its end record (the last 64 KiB at most) gives the central directory's place
(about 1.2 MB for torch's 12,000 files), and each directory entry the place of one member. So
`torch/version.py` and METADATA of a 190 MB wheel cost three or four requests and about 1 MB.
"""

from __future__ import annotations

import ast
import struct
import time
import zlib
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urljoin

from torchsetup.errors import EnvironmentUnusable
from torchsetup.fetch import bounded_body, within_deadline
from torchsetup.urlgate import check_redirect, mask

_EOCD = b"PK\x05\x06"
_EOCD64_LOCATOR = b"PK\x06\x07"
_CENTRAL = b"PK\x01\x02"
_LOCAL = b"PK\x03\x04"
_TAIL = 65536 + 22  # the end record plus the longest zip comment
MAX_MEMBER = 4 * 1024 * 1024  # version.py and METADATA are small; refuse anything absurd, packed or not
MAX_ANSWER = 8 * 1024 * 1024  # a range answer is never read past this (a server may ignore the range's end)
ANSWER_DEADLINE = 60.0  # seconds for one range answer, headers and body together


@dataclass
class RangeReader:
    """One remote file, read piece by piece; counts what it asked for."""

    url: str
    timeout: float = 20.0
    retries: int = 3
    backoff: float = 0.5
    size: int | None = None
    allow_insecure: bool = False
    requests: int = 0
    bytes_read: int = 0
    _session: Any = field(default=None, repr=False)

    def _get(self, header: str) -> tuple[bytes, str]:
        import requests

        if self._session is None:
            self._session = requests.Session()
        last = ""
        for attempt in range(self.retries):
            try:
                self.requests += 1
                response = within_deadline(lambda: self._session.get(
                    self.url, headers={"Range": header, "Accept-Encoding": "identity"}, timeout=self.timeout,
                    allow_redirects=False, stream=True), ANSWER_DEADLINE, self.url)
                if response.is_redirect:  # one hop at a time, through the gate
                    response.close()
                    target = urljoin(self.url, response.headers.get("Location", ""))
                    self.url = check_redirect(self.url, target, self.allow_insecure)
                    continue
                if response.status_code == 206:
                    body = bounded_body(response, MAX_ANSWER, ANSWER_DEADLINE, self.url,
                                        f"the answer is longer than {MAX_ANSWER:,} bytes; stopped",
                                        "Check the server: a range answer is never that long.")
                    self.bytes_read += len(body)
                    return body, response.headers.get("Content-Range", "")
                response.close()
                if response.status_code < 500:
                    raise EnvironmentUnusable(
                        f"{self.url}: the server answered HTTP {response.status_code} to a range "
                        "request (a whole wheel is never downloaded)",
                        "Use an index whose file host honours HTTP Range requests.")
                last = f"HTTP {response.status_code}"
            except requests.RequestException as exc:
                last = f"{type(exc).__name__}: {exc}"
            if attempt + 1 < self.retries:
                time.sleep(self.backoff * (2**attempt))
        raise EnvironmentUnusable(f"{mask(self.url)}: {last} (after {self.retries} tries)",
                                  "Retry later; the current matrix was left as it is.")

    def tail(self, length: int) -> tuple[int, bytes]:
        """(offset of the returned bytes, the last `length` bytes); learns the file size."""
        data, content_range = self._get(f"bytes=-{length}")
        total = content_range.rpartition("/")[2]
        if not total.isdigit():
            raise EnvironmentUnusable(f"{self.url}: no file size in the range answer ({content_range!r})",
                                      "Use an index whose file host honours HTTP Range requests.")
        self.size = int(total)
        return self.size - len(data), data

    def read(self, start: int, length: int) -> bytes:
        data, _ = self._get(f"bytes={start}-{start + length - 1}")
        return data


@dataclass(frozen=True)
class Member:
    """One member of a remote wheel's central directory."""

    name: str
    method: int
    compressed: int
    size: int
    offset: int


def _end_record(base: int, tail: bytes, reader: RangeReader) -> tuple[int, int]:
    """(central directory offset, size), zip64 included."""
    at = tail.rfind(_EOCD)
    if at < 0:
        raise EnvironmentUnusable(f"{reader.url}: not a zip file (no end record)", "Check the wheel URL.")
    _, _, _, _, cd_size, cd_offset, _ = struct.unpack("<HHHHIIH", tail[at + 4:at + 22])
    if cd_offset == 0xFFFFFFFF or cd_size == 0xFFFFFFFF:
        locator = tail.rfind(_EOCD64_LOCATOR, 0, at)
        (record64,) = struct.unpack("<Q", tail[locator + 8:locator + 16])
        raw = tail[record64 - base:record64 - base + 56] if record64 >= base else reader.read(record64, 56)
        cd_size, cd_offset = struct.unpack("<QQ", raw[40:56])
    return cd_offset, cd_size


def _members(directory: bytes) -> list[Member]:
    out, at = [], 0
    while directory.startswith(_CENTRAL, at):
        (method, compressed, size, name_len, extra_len, comment_len, offset) = struct.unpack(
            "<H8xIIHHH8xI", directory[at + 10:at + 46])
        name = directory[at + 46:at + 46 + name_len].decode("utf-8", "replace")
        extra = directory[at + 46 + name_len:at + 46 + name_len + extra_len]
        if 0xFFFFFFFF in (compressed, size, offset):
            compressed, size, offset = _zip64_extra(extra, compressed, size, offset)
        out.append(Member(name, method, compressed, size, offset))
        at += 46 + name_len + extra_len + comment_len
    return out


def _zip64_extra(extra: bytes, compressed: int, size: int, offset: int) -> tuple[int, int, int]:
    at = 0
    while at + 4 <= len(extra):
        tag, length = struct.unpack("<HH", extra[at:at + 4])
        if tag == 1:
            values = list(struct.unpack(f"<{length // 8}Q", extra[at + 4:at + 4 + length // 8 * 8]))
            if size == 0xFFFFFFFF:
                size = values.pop(0)
            if compressed == 0xFFFFFFFF:
                compressed = values.pop(0)
            if offset == 0xFFFFFFFF:
                offset = values.pop(0)
        at += 4 + length
    return compressed, size, offset


def read_members(reader: RangeReader, wanted: Any) -> dict[str, bytes]:
    """{name: content} of the members for which `wanted(name)` is true."""
    base, tail = reader.tail(_TAIL)
    cd_offset, cd_size = _end_record(base, tail, reader)
    directory = tail[cd_offset - base:cd_offset - base + cd_size] if cd_offset >= base \
        else reader.read(cd_offset, cd_size)
    out = {}
    for member in _members(directory):
        if not wanted(member.name):
            continue
        if member.compressed > MAX_MEMBER or member.size > MAX_MEMBER:
            raise EnvironmentUnusable(f"{reader.url}: {member.name} is {member.compressed} bytes",
                                      "That is not a torch wheel's version file.")
        head = reader.read(member.offset, 30 + len(member.name.encode()) + 256 + member.compressed)
        if not head.startswith(_LOCAL):
            raise EnvironmentUnusable(f"{reader.url}: broken zip entry {member.name}", "Check the wheel URL.")
        name_len, extra_len = struct.unpack("<HH", head[26:30])
        start = 30 + name_len + extra_len
        data = head[start:start + member.compressed]
        if len(data) < member.compressed:
            data += reader.read(member.offset + start + len(data), member.compressed - len(data))
        out[member.name] = _inflate(data, reader.url, member.name) if member.method == 8 else data[:MAX_MEMBER]
    return out


def _inflate(data: bytes, url: str, name: str) -> bytes:
    """Deflated data, never more than MAX_MEMBER bytes of output (a small bomb cannot fill memory)."""
    inflater = zlib.decompressobj(-15)
    try:
        out = inflater.decompress(data, MAX_MEMBER)
    except zlib.error as exc:
        raise EnvironmentUnusable(f"{mask(url)}: {name} is not valid deflate data ({exc})",
                                  "Check the wheel.") from exc
    if inflater.unconsumed_tail:
        raise EnvironmentUnusable(f"{mask(url)}: {name} unpacks to more than {MAX_MEMBER // (1024 * 1024)} MiB",
                                  "That is not a torch wheel's version file.")
    return out


def parse_version_py(text: str) -> dict[str, str | None]:
    """`__version__`, `cuda`, `hip`, `git_version` assigned as literals in torch/version.py."""
    found: dict[str, str | None] = {"version": None, "cuda": None, "hip": None, "git_version": None}
    names = {"__version__": "version", "cuda": "cuda", "hip": "hip", "git_version": "git_version"}
    try:
        tree = ast.parse(text)
    except SyntaxError:
        return found
    for node in tree.body:
        targets = node.targets if isinstance(node, ast.Assign) else \
            [node.target] if isinstance(node, ast.AnnAssign) else []
        value = getattr(node, "value", None)
        for target in targets:
            if isinstance(target, ast.Name) and target.id in names and isinstance(value, ast.Constant):
                found[names[target.id]] = value.value if isinstance(value.value, str) else None
    return found
