"""HTTP GET for `matrix update`: every address through the URL gate (redirects too, one hop at a
time), timeouts per read and a deadline for the whole body (a server sending a byte every 2 s
cannot hold it for hours), a size cap, gzip decoded, bounded retries for 5xx and connection
errors, and a truncated body told apart from a compressed one."""

from __future__ import annotations

import contextlib
import socket
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import TypeVar
from urllib.parse import urljoin

from torchsetup.errors import EnvironmentUnusable, UsageError
from torchsetup.urlgate import check_redirect, check_url, mask

T = TypeVar("T")
MAX_BYTES = 64 * 1024 * 1024  # the biggest source today (torch's PEP 691 JSON) is 0.4 MB
DEADLINE = 120.0
MAX_REDIRECTS = 5


@dataclass(frozen=True)
class Fetched:
    """One fetched source: its final address, bytes and when it was read."""

    url: str  # where the body finally came from (after redirects)
    body: bytes
    content_type: str


class _Retry(Exception):
    pass


def _abort(response) -> None:  # type: ignore[no-untyped-def]
    """Shut the socket down under a read that is blocked in another thread, then close."""
    sock = getattr(getattr(response.raw, "connection", None), "sock", None)
    if sock is None:  # http.client hands the socket to the response it is reading
        fp = getattr(getattr(response.raw, "_fp", None), "fp", None)
        sock = getattr(getattr(fp, "raw", None), "_sock", None)
    if sock is not None:
        with contextlib.suppress(OSError):
            sock.shutdown(socket.SHUT_RDWR)
    with contextlib.suppress(Exception):
        response.close()


def within_deadline(call: Callable[[], T], deadline: float, url: str) -> T:
    """`call()` (a request whose headers may drip one byte at a time, each read within its own
    timeout) bounded as a whole: after `deadline` seconds it is abandoned, with a clear error."""
    outcome: list[T] = []
    failure: list[BaseException] = []

    def run() -> None:
        try:
            outcome.append(call())
        except BaseException as exc:  # handed to the caller's thread
            failure.append(exc)

    worker = threading.Thread(target=run, daemon=True)
    worker.start()
    worker.join(deadline)
    if worker.is_alive():
        raise EnvironmentUnusable(f"{mask(url)}: no answer within {deadline:g} s; stopped",
                                  "Retry later, or pass a saved copy with --from FILE.")
    if failure:
        raise failure[0]
    return outcome[0]


def bounded_body(response, max_bytes: int, deadline: float, url: str,  # type: ignore[no-untyped-def]
                 too_long: str, hint: str) -> bytes:
    """The body of a streamed response: at most `max_bytes` (else `too_long`, said of `url`), within
    `deadline` seconds (a drip-feed is cut off); a broken connection is the requests error it is."""
    import requests

    timer = threading.Timer(deadline, _abort, (response,))
    timer.start()
    started = time.monotonic()
    chunks, size = [], 0
    try:
        for chunk in response.iter_content(65536):
            size += len(chunk)
            if size > max_bytes:
                raise EnvironmentUnusable(f"{mask(url)}: {too_long}", hint)
            chunks.append(chunk)
    except (requests.RequestException, AttributeError, ValueError, OSError) as exc:
        if time.monotonic() - started >= deadline - 0.5:
            raise EnvironmentUnusable(f"{mask(url)}: still sending after {deadline:g} s; stopped", hint) from exc
        raise
    finally:
        timer.cancel()
        response.close()
    return b"".join(chunks)


def get(url: str, *, accept: str = "*/*", timeout: float = 20.0, retries: int = 3, backoff: float = 0.5,
        deadline: float = DEADLINE, max_bytes: int = MAX_BYTES, allow_insecure: bool = False) -> Fetched:
    import requests

    check_url(url, "the source address", allow_insecure)
    last = ""
    for attempt in range(retries):
        try:
            return _once(requests, url, accept, timeout, deadline, max_bytes, allow_insecure)
        except _Retry as exc:
            last = str(exc)
        except requests.RequestException as exc:
            last = "timed out" if isinstance(exc, requests.Timeout) else f"{type(exc).__name__}: {mask(str(exc))}"
        if attempt + 1 < retries:
            time.sleep(backoff * (2**attempt))
    raise EnvironmentUnusable(f"{mask(url)}: {last} (after {retries} tries)",
                              "Retry later, or pass saved copies with --from FILE.")


def _once(requests, url: str, accept: str, timeout: float, deadline: float, max_bytes: int,  # type: ignore[no-untyped-def]
          allow_insecure: bool) -> Fetched:
    session = requests.Session()
    current = url
    for _ in range(MAX_REDIRECTS + 1):
        response = within_deadline(lambda target=current: session.get(  # type: ignore[misc]
            target, headers={"Accept": accept, "Accept-Encoding": "gzip"}, stream=True, allow_redirects=False,
            timeout=timeout), deadline, current)
        if response.is_redirect:
            target = urljoin(current, response.headers.get("Location", ""))
            response.close()
            current = check_redirect(current, target, allow_insecure)
            continue
        break
    else:
        raise UsageError(f"{mask(url)}: more than {MAX_REDIRECTS} redirects", None)
    with response:
        if response.status_code >= 500:
            raise _Retry(f"HTTP {response.status_code}")
        if response.status_code != 200:
            raise EnvironmentUnusable(f"{mask(current)}: HTTP {response.status_code}",
                                      "Check the URL given to --from.")
        too_long = f"more than {max_bytes // (1024 * 1024)} MiB; not a matrix source"
        try:
            body = bounded_body(response, max_bytes, deadline, current, too_long,
                                "Check --from; retry later, or pass a saved copy with --from FILE.")
        except (requests.RequestException, AttributeError, ValueError, OSError) as exc:
            raise _Retry("truncated body") from exc
        wire = response.raw.tell() if hasattr(response.raw, "tell") else None
        declared = response.headers.get("Content-Length")
        if declared and declared.isdigit() and wire is not None and int(declared) != wire:
            raise _Retry("truncated body")
        return Fetched(current, body, response.headers.get("Content-Type", ""))
