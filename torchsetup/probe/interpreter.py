"""The target interpreter, asked in a child process: version, free-threading, installed torch family.

The child runs `interpreter_script.py` (package versions from distribution metadata, each package's
build from its own files); torch is never imported.
"""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from torchsetup import children
from torchsetup.errors import EnvironmentUnusable
from torchsetup.kinds import FAMILY
from torchsetup.probe.model import Build, Installed, PythonInfo, build_from_record

if TYPE_CHECKING:
    from torchsetup.dependents import Dependent

INTERPRETER_SCRIPT = Path(__file__).resolve().parent.parent / "interpreter_script.py"
# The script is imported (so that its compiled bytecode is reused: a script run by path is compiled
# anew every time) from its folder, which then leaves sys.path before it reads sys.path.
_RUN_SCRIPT = ("import sys; sys.path.insert(0, sys.argv[1]); import interpreter_script; "
               "del sys.path[0]; interpreter_script.main()")


@dataclass(frozen=True)
class InterpreterFacts:
    """What the target interpreter's child process reported."""

    python: PythonInfo
    installed: Installed
    builds: dict[str, Build | None]
    install_problems: tuple[str, ...]
    dependents: tuple[Dependent, ...] = ()
    warnings: tuple[str, ...] = ()  # requirements of neighbours that could not be read

def stale_environments(environ: Mapping[str, str] | None = None) -> list[str]:
    """VIRTUAL_ENV / CONDA_PREFIX that name a folder without an interpreter (a deleted venv)."""
    env = os.environ if environ is None else environ
    bindir, exe = ("Scripts", "python.exe") if sys.platform == "win32" else ("bin", "python")
    return [f"{var}={env[var]} has no {bindir}/{exe}; it is ignored" for var in ("VIRTUAL_ENV", "CONDA_PREFIX")
            if env.get(var) and not (Path(env[var]) / bindir / exe).exists()]


def default_python(environ: Mapping[str, str] | None = None) -> str:
    """The target when --python is not given; `target_note` says why, where it is not obvious."""
    return choose_default_python(environ)[0]


def choose_default_python(environ: Mapping[str, str] | None = None) -> tuple[str, str | None]:
    """(interpreter, a note or None): the active virtual environment's, else the active conda
    environment's; else, when torchsetup runs from an environment of its own (pipx, uv tool, a venv
    not activated), the `python3` (or `python`) on PATH, which is the user's; else the one running
    torchsetup."""
    env = os.environ if environ is None else environ
    bindir = "Scripts" if sys.platform == "win32" else "bin"
    exe = "python.exe" if sys.platform == "win32" else "python"
    for var in ("VIRTUAL_ENV", "CONDA_PREFIX"):
        prefix = env.get(var)
        if prefix and (Path(prefix) / bindir / exe).exists():
            return str(Path(prefix) / bindir / exe), None
    if sys.prefix == sys.base_prefix:
        return sys.executable, None  # torchsetup was installed into a plain interpreter: that one
    import shutil

    own = os.path.normcase(os.path.realpath(sys.prefix))
    for name in ("python3", "python"):
        found = shutil.which(name, path=env.get("PATH"))
        if found is None:
            continue
        if _prefix_of(found) == own:
            return sys.executable, None  # PATH leads to torchsetup's own environment: the user chose it
        return found, (f"no virtual or conda environment is active: the target is {found} (the {name} on "
                       f"PATH), not torchsetup's own environment {sys.prefix}; activate an environment or pass "
                       "--python to choose another")
    return sys.executable, (f"no virtual or conda environment is active and no python3 is on PATH: the target is "
                            f"torchsetup's own environment {sys.prefix}; pass --python to choose another")


def _prefix_of(python: str) -> str:
    """The environment a python executable belongs to: the folder above bin/ (a venv's or an install's)."""
    return os.path.normcase(os.path.realpath(os.path.dirname(os.path.dirname(os.path.abspath(python)))))


def start_interpreter_probe(python: str) -> subprocess.Popen[str]:
    """Start the child now; collect it with `finish_interpreter_probe` (the rest is probed meanwhile)."""
    hint = "Pass --python with the path of a working Python interpreter."
    if not Path(python).exists():
        raise EnvironmentUnusable(f"target interpreter not found: {python}", hint)
    if Path(python).is_dir():
        bindir, exe = ("Scripts", "python.exe") if sys.platform == "win32" else ("bin", "python")
        raise EnvironmentUnusable(f"--python {python} is a folder, not an interpreter",
                                  f"Pass the interpreter inside it, e.g. --python {Path(python) / bindir / exe}.")
    try:
        return children.start([python, "-c", _RUN_SCRIPT, str(INTERPRETER_SCRIPT.parent)])
    except OSError as exc:
        raise EnvironmentUnusable(f"target interpreter {python} cannot run: {exc.strerror}",
                                  hint) from exc


def finish_interpreter_probe(child: subprocess.Popen[str], python: str,
                             timeout: float = 20.0) -> InterpreterFacts:
    hint = "Pass --python with the path of a working Python interpreter."
    try:
        stdout, stderr = children.finish(child, timeout)
    except subprocess.TimeoutExpired as exc:
        raise EnvironmentUnusable(f"target interpreter {python} did not answer in {timeout:g} s",
                                  hint) from exc
    import ast

    try:
        data = ast.literal_eval(stdout.strip().splitlines()[-1])  # the literal the script printed
        if not isinstance(data, dict):
            raise ValueError("not a dict")
    except (ValueError, IndexError, SyntaxError, MemoryError, RecursionError) as exc:
        said = (stderr.strip().splitlines() or ["no output"])[-1]
        raise EnvironmentUnusable(
            f"target interpreter {python} is broken (exit {child.returncode}): {said}", hint
        ) from exc
    return _facts(data)


def _facts(data: dict[str, Any]) -> InterpreterFacts:
    info = PythonInfo(executable=data.get("executable"), version=data.get("version"),
                      free_threaded=bool(data.get("free_threaded")), pip=data.get("pip"),
                      externally_managed=data.get("externally_managed"))
    inst = data.get("installed") or {}
    builds = {name: build_from_record(record) for name, record in (data.get("builds") or {}).items()
              if name in FAMILY}
    environment = {str(k): str(v) for k, v in (data.get("marker_environment") or {}).items()}
    dependents: list[Dependent] = []
    warnings: list[str] = []
    records = data.get("dependents") or ()
    if records:
        from torchsetup.dependents import from_child
    for record in records:
        dependent, said = from_child(record, environment)
        warnings += said
        if dependent is not None:
            dependents.append(dependent)
    return InterpreterFacts(info, Installed(**{name: inst.get(name) for name in FAMILY}), builds,
                            tuple(str(p) for p in data.get("install_problems") or ()), tuple(dependents),
                            tuple(warnings))


def read_interpreter(python: str, timeout: float = 20.0) -> InterpreterFacts:
    return finish_interpreter_probe(start_interpreter_probe(python), python, timeout)
