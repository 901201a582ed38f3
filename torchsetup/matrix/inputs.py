"""What the matrix is built from: each source read, with its origin."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from typing import Any

from torchsetup.matrix.scrape import PageRelease, parse_previous_versions


@dataclass(frozen=True)
class SourceInput:
    """One input of the matrix build, with its origin for the matrix's `sources` list."""

    id: str
    name: str
    address: str
    file: str
    retrieved: str | None
    text: str

    def record(self) -> dict[str, Any]:
        return {"id": self.id, "name": self.name, "address": self.address, "file": self.file,
                "retrieved": self.retrieved,
                "sha256": hashlib.sha256(self.text.encode("utf-8")).hexdigest()}


@dataclass
class Inputs:
    """Everything the matrix is built from, already read (and, for JSON, decoded)."""

    pages: list[tuple[SourceInput, list[PageRelease]]] = field(default_factory=list)
    published: tuple[SourceInput, dict[str, Any]] | None = None
    build_matrix: tuple[SourceInput, dict[str, Any]] | None = None
    pypi_simple: dict[str, tuple[SourceInput, dict[str, Any]]] = field(default_factory=dict)
    companion_metadata: tuple[SourceInput, dict[str, Any]] | None = None
    pypi_info: dict[str, tuple[SourceInput, dict[str, Any]]] = field(default_factory=dict)
    extra_sources: list[SourceInput] = field(default_factory=list)
    learned: tuple[SourceInput, dict[str, Any]] | None = None
    extensions: tuple[SourceInput, dict[str, Any]] | None = None

    def sources(self) -> list[SourceInput]:
        out = [s for s, _ in self.pages]
        out += [x[0] for x in (self.published, self.build_matrix, self.companion_metadata, self.learned,
                                self.extensions) if x]
        out += [s for s, _ in self.pypi_simple.values()] + [s for s, _ in self.pypi_info.values()]
        return out + self.extra_sources


def page_inputs(source: SourceInput) -> tuple[SourceInput, list[PageRelease]]:
    return source, parse_previous_versions(source.text)
