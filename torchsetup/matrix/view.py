"""Selecting and presenting matrix releases (shared by `matrix show` and other commands)."""

from __future__ import annotations

import re
from typing import TYPE_CHECKING

from torchsetup.errors import UsageError
from torchsetup.matrix.store import Matrix, Release

if TYPE_CHECKING:
    from packaging.specifiers import SpecifierSet


def parse_spec(spec: str | None) -> SpecifierSet | None:
    if spec is None:
        return None
    from packaging.specifiers import InvalidSpecifier, SpecifierSet

    text = spec.strip()
    if not text:
        raise UsageError("--torch is empty", "Use a PEP 440 specifier such as '==2.5.1' or '>=2.4,<2.7'.")
    if re.fullmatch(r"\d+\.\d+", text):
        text = f"=={text}.*"  # a bare 2.4 is the 2.4 series; ==2.4 is exactly 2.4.0
    elif text[0].isdigit():
        text = "==" + text
    try:
        return SpecifierSet(text)
    except InvalidSpecifier as exc:
        raise UsageError(f"invalid torch specifier {spec!r}",
                         "Use a PEP 440 specifier such as '==2.5.1' or '>=2.4,<2.7'.") from exc


def select_releases(matrix: Matrix, spec: str | None) -> list[Release]:
    wanted = parse_spec(spec)
    chosen = [r for r in matrix.releases if wanted is None or wanted.contains(r.torch)]
    if spec and not chosen:
        raise UsageError(f"no release in the matrix matches {spec!r}",
                         f"The matrix covers {matrix.releases[-1].torch} to {matrix.releases[0].torch}.")
    return chosen
