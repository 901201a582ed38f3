"""`matrix show` and `matrix update`: read or rebuild the version matrix."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from torchsetup.cli_options import InsecureOpt, JsonOpt, MatrixOpt, emit_json
from torchsetup.textout import write

matrix_app = typer.Typer(no_args_is_help=True, add_completion=False, help="Read or rebuild the version matrix.",
                         rich_markup_mode=None)


@matrix_app.command("show")
def matrix_show(
    torch: Annotated[str | None, typer.Option("--torch", help="PEP 440 specifier, e.g. '>=2.4'.")] = None,
    json_out: JsonOpt = False,
    matrix: MatrixOpt = None,
) -> None:
    """List releases with their companions and variants."""
    from torchsetup.documents import matrix_document
    from torchsetup.matrix import load_matrix
    from torchsetup.matrix.view import select_releases

    loaded = load_matrix(matrix)
    releases = select_releases(loaded, torch)
    if json_out:
        emit_json(matrix_document(loaded, releases))
    else:
        from torchsetup.render import render_matrix

        render_matrix(loaded, releases)


@matrix_app.command("update")
def matrix_update(
    sources: Annotated[list[str] | None, typer.Option(
        "--from", help="A file, folder or URL to read (repeatable). Default: the live sources.")] = None,
    output: Annotated[str | None, typer.Option("--output", help="Where to write the matrix.")] = None,
    force: Annotated[bool, typer.Option("--force", help="Accept a matrix that loses releases.")] = False,
    learned_out: Annotated[str | None, typer.Option(
        "--learned-out", help="Save the builds read out of new wheels (learned-builds.json) here.")] = None,
    extensions_out: Annotated[str | None, typer.Option(
        "--extensions-out", help="Save the neighbours' requirements read from the index (extensions.json) "
                                 "here.")] = None,
    allow_insecure_index: InsecureOpt = False,
    json_out: JsonOpt = False,
) -> None:
    """Fetch and parse the sources, learn new releases from their wheels, read the requirements of
    torch's neighbours (vLLM, xformers, ...) from the same index, and write the matrix."""
    from torchsetup.matrix.sources import DEFAULT_URLS
    from torchsetup.matrix.store import user_matrix_path
    from torchsetup.matrix.update import update_matrix

    target = Path(output) if output else user_matrix_path()
    specs = list(sources) if sources else list(DEFAULT_URLS)
    saved = Path(learned_out) if learned_out else None
    neighbours = Path(extensions_out) if extensions_out else None
    if json_out:
        result = update_matrix(specs, target, force=force, learned_out=saved, allow_insecure=allow_insecure_index,
                               extensions_out=neighbours)
    else:
        from torchsetup.render import fetch_progress

        with fetch_progress() as progress:
            result = update_matrix(specs, target, force=force, progress=progress, learned_out=saved,
                                   allow_insecure=allow_insecure_index, extensions_out=neighbours)
    if json_out:
        from torchsetup.documents import matrix_update_document

        emit_json(matrix_update_document(result))
    else:
        for x in result.learned:
            write(f"learned torch {x.torch} on {x.platform}: {x.build} ({x.requests} requests, "
                             f"{x.bytes_read:,} bytes of a {x.wheel_size or 0:,}-byte wheel)\n")
        if result.neighbours_read:
            read = result.neighbours_read
            names = ", ".join(dict.fromkeys(r.name for r in read))
            wheels = [r for r in read if r.metadata_of is not None]
            write(f"read the requirements of {len(read)} releases of torch's neighbours ({names}): "
                  f"{len(wheels)} wheels' METADATA, {sum(r.bytes_read for r in wheels):,} bytes"
                  f"{f'; {len(read) - len(wheels)} with an sdist alone' if len(wheels) < len(read) else ''}\n")
        write(f"wrote {result.output}: {result.releases} releases, newest {result.newest}"
                         f" ({len(result.added)} added, {len(result.lost)} lost)\n")
