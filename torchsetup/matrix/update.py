"""matrix update: read the sources, learn new releases from their wheels, write the matrix atomically."""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import TYPE_CHECKING, Any

from torchsetup.errors import EnvironmentUnusable, UsageError
from torchsetup.matrix.store import (
    MAX_MATRIX,
    default_matrix_path,
    load_matrix,
    parse_matrix,
    write_atomically,
    write_text_atomically,
)

if TYPE_CHECKING:
    from torchsetup.fetch import Fetched
    from torchsetup.matrix.inputs import Inputs
    from torchsetup.matrix.neighbourmeta import NeighbourRelease
    from torchsetup.matrix.wheelpeek import RangeReader

@dataclass(frozen=True)
class LearnedSummary:
    """One wheel `matrix update` read a release's build from, and what that cost."""

    torch: str
    platform: str
    build: str
    requests: int
    bytes_read: int
    wheel_size: int | None


@dataclass(frozen=True)
class UpdateResult:
    """What `matrix update` wrote: the file, the releases added and lost, what it learned."""

    output: str
    releases: int
    added: tuple[str, ...]
    lost: tuple[str, ...]
    newest: str
    learned: tuple[LearnedSummary, ...] = ()
    left_for_next_run: tuple[str, ...] = ()  # new releases beyond this run's cap
    neighbours_read: tuple[NeighbourRelease, ...] = ()  # a live update: each neighbour release read


def update_matrix(specs: list[str], output: Path, force: bool = False,
                  fetch: Callable[[str], Fetched] | None = None,
                  progress: Callable[[str], None] | None = None,
                  now: datetime | None = None, learn: bool = True,
                  learned_out: Path | None = None, allow_insecure: bool = False,
                  extensions_out: Path | None = None,
                  reader_for: Callable[[str], RangeReader] | None = None) -> UpdateResult:
    """Fetch/read, parse, learn new releases from their wheels, sanity-check against the current
    file, then write atomically."""
    from torchsetup.matrix.build import build_matrix
    from torchsetup.matrix.sources import collect

    if output.is_dir():
        raise UsageError(f"--output {output} is a folder", "Give the path of the matrix file to write.")
    inputs = collect(specs, fetch, progress, allow_insecure)
    learned: tuple[LearnedSummary, ...] = ()
    left: tuple[str, ...] = ()
    if learn:
        learned, left = _learn_new_releases(inputs, progress, learned_out, allow_insecure)
    neighbours = _read_neighbours(inputs, specs, fetch, reader_for, progress, extensions_out, allow_insecure)
    stamp = (now or datetime.now(timezone.utc)).replace(microsecond=0).isoformat()
    try:
        document = build_matrix(inputs, stamp)
    except (KeyError, TypeError, AttributeError, ValueError, IndexError) as exc:
        named = ", ".join(src.file for src in inputs.sources())
        raise UsageError(f"an input has an unexpected shape ({type(exc).__name__}: {str(exc)[:200]}); "
                         f"inputs: {named[:300]}",
                         "Pass the files `matrix update` knows (see data/sources/README.md).") from exc
    if not document["tables"].get("extensions"):
        _carry_extensions(document, output if output.exists() else default_matrix_path())
    new = parse_matrix(document, "the rebuilt matrix")  # the result must load
    old_versions = _versions_in(output) if output.exists() else set()
    # "added" is said against the matrix in use when there was no file here (a first user copy adds nothing new)
    known = old_versions if output.exists() else _versions_in(default_matrix_path())
    new_versions = {r.torch for r in new.releases}
    from packaging.version import Version

    lost = tuple(sorted(old_versions - new_versions, key=Version))
    if lost and not force:
        raise EnvironmentUnusable(
            f"the rebuilt matrix would lose {len(lost)} release(s) the current one has "
            f"({', '.join(lost[:5])}{'...' if len(lost) > 5 else ''}); {output} left untouched",
            "Check the sources, or pass --force to accept the smaller matrix.")
    size = len(json.dumps(document))
    if size > MAX_MATRIX:
        raise EnvironmentUnusable(f"the rebuilt matrix would be {size:,} bytes, more than its loader reads "
                                  f"({MAX_MATRIX:,}); {output} left untouched", "Check the sources.")
    write_atomically(output, document)
    return UpdateResult(str(output), len(new.releases), tuple(sorted(new_versions - known, key=Version)),
                        lost, new.releases[0].torch, learned, left, neighbours)


def _carry_extensions(document: dict[str, Any], current: Path) -> None:
    """Without the neighbours' metadata among the inputs (a live update reads torch's sources only),
    the current matrix's extensions table is kept, with the sources it came from."""
    try:
        old = json.loads(current.read_text(encoding="utf-8"))
        rows = old["tables"]["extensions"]
        ids = {row["source"] for row in rows}
        kept = [s for s in old["sources"] if s.get("id") in ids]
    except (OSError, ValueError, KeyError, TypeError):
        return
    document["tables"]["extensions"] = rows
    document["sources"] += [s for s in kept if s not in document["sources"]]


def _read_neighbours(inputs: Inputs, specs: list[str], fetch: Callable[[str], Fetched] | None,
                     reader_for: Callable[[str], RangeReader] | None, progress: Callable[[str], None] | None,
                     extensions_out: Path | None, allow_insecure: bool) -> tuple[NeighbourRelease, ...]:
    """When torch's listing was fetched from an index (a live update) and no extensions.json was
    given, the neighbours' requirements are read from that same index."""
    from functools import partial

    from torchsetup.matrix import neighbourmeta
    from torchsetup.matrix.inputs import SourceInput
    from torchsetup.matrix.sources import KNOWN, fetch_url
    from torchsetup.matrix.wheelpeek import RangeReader
    from torchsetup.urlgate import mask

    listing = next((s for s in specs if "://" in s and s.rstrip("/").endswith("/torch")), None)
    if inputs.extensions is not None or listing is None or "torch" not in inputs.pypi_simple:
        return ()
    index = listing.rstrip("/")[:-len("torch")]
    document, read = neighbourmeta.read_neighbours(
        index, fetch or partial(fetch_url, allow_insecure=allow_insecure),
        reader_for or partial(RangeReader, allow_insecure=allow_insecure), progress, allow_insecure)
    text = json.dumps(document, indent=1) + "\n"
    inputs.extensions = (SourceInput("extensions", KNOWN["extensions.json"][0], document["source"],
                                     f"{mask(index)}<name>/", document["retrieved"], text), document)
    if extensions_out is not None:
        write_text_atomically(extensions_out, text)
    return tuple(read)


def _versions_in(path: Path) -> set[str]:
    try:
        return {r.torch for r in load_matrix(path).releases}
    except EnvironmentUnusable:
        return set()  # an unusable old file may be replaced


def _learn_new_releases(inputs: Inputs, progress: Callable[[str], None] | None,
                        learned_out: Path | None, allow_insecure: bool
                        ) -> tuple[tuple[LearnedSummary, ...], tuple[str, ...]]:
    """When torch's index listing was fetched (not a saved copy) and no learned-builds file was
    given, read the builds of the releases no knowledge row covers out of their wheels."""
    from torchsetup.matrix import learn
    from torchsetup.matrix.inputs import SourceInput
    from torchsetup.matrix.pypibuilds import build_name

    torch_index = inputs.pypi_simple.get("torch")
    if torch_index is None or inputs.learned is not None or "://" not in torch_index[0].file:
        return (), ()  # a saved copy is rebuilt offline: only a fetched listing is learned from
    try:
        document, read, left = learn.learn(torch_index[1], progress, allow_insecure=allow_insecure)
    except (KeyError, TypeError, AttributeError, ValueError) as exc:
        raise EnvironmentUnusable(f"{torch_index[0].file}: torch's index listing has an unexpected shape "
                                  f"({type(exc).__name__}: {str(exc)[:200]})", "Retry later.") from exc
    if left and progress:
        progress(f"{len(left)} more new release(s) left for the next run: {', '.join(left[:5])}"
                 + ("..." if len(left) > 5 else ""))
    if not read:
        return (), tuple(left)
    text = learn.document_text(document)
    inputs.learned = (SourceInput("learned-builds", "Builds read out of new torch wheels by `matrix update`",
                                  "torch/version.py and METADATA of each wheel (range requests; URL per entry)",
                                  "learned-builds.json", datetime.now(timezone.utc).date().isoformat(), text),
                      document)
    if learned_out is not None:
        write_text_atomically(learned_out, text)
    summaries = tuple(LearnedSummary(version, w.platform, build_name(w.cuda, w.hip), w.requests, w.bytes_read,
                                w.size)
                 for version, platforms in document["learned_builds"].items()
                 for w in read if w.url in {p["wheel"] for p in platforms.values()} and w.platform in platforms)

    return summaries, tuple(left)
