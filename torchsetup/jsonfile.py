"""Reading a JSON document from a file given by a user: bounded, and every failure one error naming it."""

from __future__ import annotations

import json
from pathlib import Path

from torchsetup.errors import TorchsetupError


def read_json_file(path: str | Path, what: str, limit: int, hint: str, error: type[TorchsetupError]) -> object:
    """A regular file of at most `limit` bytes, decoded as JSON; any problem is `error` naming the
    file (a folder, /dev/zero, a FIFO, invalid UTF-8, nesting deep enough to exhaust the stack)."""
    file = Path(path)
    try:
        if not file.exists():
            raise error(f"{path}: cannot read the {what}: no such file", hint)
        if not file.is_file():
            raise error(f"{path}: cannot read the {what}: not a regular file (a {what} is a JSON document)", hint)
        with file.open("rb") as handle:
            raw = handle.read(limit + 1)
    except OSError as exc:
        raise error(f"{path}: cannot read the {what}: {exc.strerror}", hint) from exc
    if len(raw) > limit:
        raise error(f"{path}: larger than {limit // (1024 * 1024)} MiB: not a {what}", hint)
    try:
        return json.loads(raw.decode("utf-8"))
    except (ValueError, RecursionError) as exc:
        reason = "nested too deeply" if isinstance(exc, RecursionError) else str(exc)[:200]
        raise error(f"{path}: not valid JSON, truncated or corrupt ({reason})", hint) from exc
