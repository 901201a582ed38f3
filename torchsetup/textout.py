"""Plain text for people: lines, colour only at a terminal, and aligned tables.

No markup language: a string is printed as it is, so text from outside (paths, GPU names, error
strings) cannot change the view; `clean` drops terminal control sequences from it. Colour is ANSI
SGR, used only when the stream is a terminal, `NO_COLOR` is unset and `TERM` is not `dumb`.
Kept free of rich: a plain line needs no rendering library.
"""

from __future__ import annotations

import os
import re
import sys
from collections.abc import Sequence
from typing import TextIO

from torchsetup.errors import OutputLost

_CONTROL = re.compile(r"\x1b\[[0-?]*[ -/]*[@-~]|\x1b\][^\x07\x1b]*(?:\x07|\x1b\\)|[\x00-\x08\x0b-\x1f\x7f-\x9f]")
_SGR = {"bold": "1", "red": "31", "green": "32", "yellow": "33", "blue": "34"}


def clean(value: object) -> str:
    """Outside text without terminal control sequences or credentials in addresses; None (unknown) as
    a dash."""
    from torchsetup.urlgate import mask

    return mask(_CONTROL.sub("", "—" if value is None else str(value)))


def wants_colour(stream: TextIO) -> bool:
    if os.environ.get("NO_COLOR") or os.environ.get("TERM") == "dumb":
        return False
    isatty = getattr(stream, "isatty", None)
    return bool(isatty and isatty())


def write(text: str, stream: TextIO | None = None) -> None:
    """Write to `stream` (stdout by default); a failure of standard output is OutputLost."""
    target = sys.stdout if stream is None else stream
    if target is None:  # standard output was closed when torchsetup started
        raise OutputLost(OSError(9, "standard output is closed"))
    try:
        target.write(text)
    except OSError as exc:
        if target is sys.stdout:
            raise OutputLost(exc) from exc
        raise


class Out:
    """One output stream: `line()` writes a line made of plain and styled pieces."""

    def __init__(self, stream: TextIO | None = None) -> None:
        self.stream = stream if stream is not None else sys.stdout
        self.colour = self.stream is not None and wants_colour(self.stream)

    def style(self, text: str, style: str) -> str:
        """`text` in `style` ("bold red", "green", ...) — the codes only at a colour terminal."""
        codes = ";".join(_SGR[word] for word in style.split() if word in _SGR)
        return f"\x1b[{codes}m{text}\x1b[0m" if self.colour and codes else text

    def line(self, *pieces: str) -> None:
        write("".join(pieces) + "\n", self.stream)

    def table(self, columns: Sequence[str], rows: Sequence[Sequence[str]], title: str | None = None,
              header: bool = True) -> None:
        """Columns padded to their widest cell (the last one is not padded); cells are cleaned."""
        cells = [[clean(cell) for cell in row] for row in rows]
        shown = [list(columns), *cells] if header else cells
        widths = [max((len(row[i]) for row in shown), default=0) for i in range(len(columns))]
        if title is not None:
            self.line(self.style(clean(title), "bold"))
        for number, row in enumerate(shown):
            padded = [cell.ljust(widths[i]) if i < len(row) - 1 else cell for i, cell in enumerate(row)]
            text = "  ".join(padded).rstrip()
            self.line(self.style(text, "bold") if header and number == 0 else text)
