"""The console entry (`torchsetup.console.run`, also `python -m torchsetup`): it ends the process
without the interpreter's teardown only when nothing is lost by that. Real child interpreters."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path

from torchsetup.console import flushed

REPO = Path(__file__).resolve().parent.parent


def run_entry(prelude: str, *args: str) -> subprocess.CompletedProcess[str]:
    """A child that runs `prelude`, then torchsetup's console entry with `args`."""
    code = textwrap.dedent(prelude) + textwrap.dedent(f"""
        import sys
        sys.argv = ["torchsetup", *{list(args)!r}]
        from torchsetup.console import run
        run()
        """)
    env = dict(os.environ, PYTHONPATH=str(REPO))
    return subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env,
                          timeout=120, stdin=subprocess.DEVNULL)


def test_a_document_larger_than_a_pipe_arrives_whole(run_cli: object) -> None:
    # matrix show --json is ~120 kB (a pipe holds 64 kB): all of it is flushed before the fast exit
    proc = run_cli("matrix", "show", "--json")  # type: ignore[operator]
    assert proc.returncode == 0, proc.stderr
    assert len(proc.stdout) > 65536
    document = json.loads(proc.stdout)
    assert document["schema"] == "torchsetup.matrix/1" and document["releases"]


def test_exit_codes_and_messages_pass_through() -> None:
    usage = run_entry("", "prob")
    assert usage.returncode == 2
    assert usage.stderr.startswith("torchsetup: error: No such command 'prob'.")
    assert usage.stdout == ""
    done = run_entry("", "--version")
    assert (done.returncode, done.stdout, done.stderr) == (0, "torchsetup 0.1.0\n", "")


def test_an_atexit_handler_still_runs() -> None:
    proc = run_entry("""
        import atexit
        atexit.register(lambda: print("atexit ran"))
        """, "--version")
    assert proc.returncode == 0
    assert proc.stdout == "torchsetup 0.1.0\natexit ran\n"


def test_a_running_thread_is_waited_for() -> None:
    proc = run_entry("""
        import threading, time
        def late():
            time.sleep(0.3)
            print("thread finished", flush=True)
        threading.Thread(target=late).start()
        """, "--version")
    assert proc.returncode == 0
    assert proc.stdout == "torchsetup 0.1.0\nthread finished\n"


def test_an_exception_leaving_main_is_a_traceback_with_debug() -> None:
    # --debug re-raises the root error: the ordinary exit prints the traceback, status 1
    proc = run_entry("", "probe", "--probe-file", "/nonexistent/probe.json", "--debug")
    assert proc.returncode == 1
    assert "Traceback (most recent call last)" in proc.stderr
    assert "/nonexistent/probe.json" in proc.stderr


def test_without_handlers_or_threads_the_teardown_is_skipped() -> None:
    # the point of the entry: a finaliser that only the interpreter's teardown would run does not
    # run (had it, the exit would have taken the slow way); the output is complete all the same
    proc = run_entry("""
        class Finalised:
            def __del__(self):
                print("teardown ran")
        kept = Finalised()
        """, "--version")
    assert (proc.returncode, proc.stdout, proc.stderr) == (0, "torchsetup 0.1.0\n", "")


def test_a_stream_that_cannot_be_flushed_means_the_ordinary_exit(monkeypatch: object) -> None:
    class ClosedPipe:
        def flush(self) -> None:
            raise BrokenPipeError(32, "Broken pipe")

    assert flushed()
    monkeypatch.setattr(sys, "stdout", ClosedPipe())  # type: ignore[attr-defined]
    assert not flushed()
