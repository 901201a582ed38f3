"""The console script (and `python -m torchsetup`): `cli.main` without the interpreter's teardown.

A command that runs for a tenth of a second spends a fifth of that again, here, having the
interpreter free every module and object it loaded before the process may end; and the cyclic
garbage collector runs over and over while typer and the dataclasses are created at import, finding
nothing to free. So the collector is off while the CLI is imported (then on again, with what was
imported frozen out of its way), and once `main` has finished, both streams are flushed and the
process ends at once with its exit code (os._exit).

That is safe because nothing of torchsetup relies on teardown: files are written and closed inside
`with` blocks, children are waited for before a command returns, and torchsetup registers no atexit
handler. Whenever that is not so at the end (an atexit handler registered by a library, a thread
still running, a stream that cannot be flushed, an exception leaving `main`), the interpreter exits
the ordinary way. `cli.main` itself, which tests call in-process, is unchanged.
"""

from __future__ import annotations

import atexit
import gc
import os
import sys
import threading


def run() -> None:
    gc.disable()
    try:
        from torchsetup.cli import main
    finally:
        gc.freeze()  # what import created lives until exit: collections need not walk it again
        gc.enable()
    try:
        main()
    except SystemExit as exc:
        # sys.exit("text") prints the text: the ordinary exit does that
        if (exc.code is None or isinstance(exc.code, int)) and not teardown_needed() and flushed():
            os._exit(exc.code or 0)
        raise
    # main() ends every path in sys.exit; should it return, the interpreter exits as usual


def teardown_needed() -> bool:
    """Something that only the interpreter's own exit would run or wait for."""
    callbacks = getattr(atexit, "_ncallbacks", None)  # CPython; elsewhere, exit the ordinary way
    return callbacks is None or callbacks() > 0 or threading.active_count() > 1


def flushed() -> bool:
    for stream in (sys.stdout, sys.stderr):
        if stream is None:
            continue
        try:
            stream.flush()
        except (OSError, ValueError):  # a closed pipe: the ordinary exit reports it as before
            return False
    return True
