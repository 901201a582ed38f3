"""matrix: the release/variant table — load, validate, scrape, rebuild."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path

from torchsetup.errors import EnvironmentUnusable
from torchsetup.matrix.store import Matrix, load_matrix, parse_matrix, write_atomically

__all__ = ["Matrix", "load_matrix", "update_matrix", "UpdateResult"]


@dataclass(frozen=True)
class UpdateResult:
    output: str
    releases: int
    added: tuple[str, ...]
    lost: tuple[str, ...]
    newest: str


def update_matrix(specs: list[str], output: Path, force: bool = False,
                  fetch: Callable[[str], str] | None = None,
                  progress: Callable[[str], None] | None = None,
                  now: datetime | None = None) -> UpdateResult:
    """Fetch/read, parse, sanity-check against the current file, then write atomically."""
    from torchsetup.matrix.build import build_matrix
    from torchsetup.matrix.sources import collect, fetch_url

    inputs = collect(specs, fetch or fetch_url, progress)
    stamp = (now or datetime.now(timezone.utc)).replace(microsecond=0).isoformat()
    document = build_matrix(inputs, stamp)
    new = parse_matrix(document, "the rebuilt matrix")  # the result must load
    old_versions: set[str] = set()
    if output.exists():
        try:
            old_versions = {r.torch for r in load_matrix(output).releases}
        except EnvironmentUnusable:
            old_versions = set()  # an unusable old file may be replaced
    new_versions = {r.torch for r in new.releases}
    from packaging.version import Version

    lost = tuple(sorted(old_versions - new_versions, key=Version))
    if lost and not force:
        raise EnvironmentUnusable(
            f"the rebuilt matrix would lose {len(lost)} release(s) the current one has "
            f"({', '.join(lost[:5])}{'...' if len(lost) > 5 else ''}); {output} left untouched",
            "Check the sources, or pass --force to accept the smaller matrix.")
    write_atomically(output, document)
    return UpdateResult(str(output), len(new.releases), tuple(sorted(new_versions - old_versions, key=Version)),
                        lost, new.releases[0].torch)
