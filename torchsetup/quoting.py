"""Quote an argv for a POSIX shell or PowerShell, so a printed command can be pasted as is."""

from __future__ import annotations

import re
import shlex

_PS_SAFE = re.compile(r"[A-Za-z0-9_./:=+,@\\-]+")
# PowerShell ends a single-quoted string at any of these (U+2018..U+201B as well as '): each is
# doubled inside one, which PowerShell reads as one literal character.
_PS_QUOTES = "'\u2018\u2019\u201a\u201b"


def posix(argv: list[str] | tuple[str, ...]) -> str:
    return shlex.join(argv)


def powershell_word(word: str) -> str:
    if word and _PS_SAFE.fullmatch(word):  # fullmatch: a trailing newline is not "safe"
        return word
    return "'" + "".join(c * 2 if c in _PS_QUOTES else c for c in word) + "'"  # nothing inside is expanded


def powershell(argv: list[str] | tuple[str, ...]) -> str:
    words = [powershell_word(w) for w in argv]
    if words and words[0].startswith("'"):
        words.insert(0, "&")  # a quoted command needs the call operator
    return " ".join(words)


def quote(argv: list[str] | tuple[str, ...], shell: str) -> str:
    return powershell(argv) if shell == "powershell" else posix(argv)
