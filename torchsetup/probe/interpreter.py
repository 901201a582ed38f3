"""The target interpreter, asked in a child process: version, free-threading, installed torch family.

Package versions come from distribution metadata (importlib.metadata); torch is never imported.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from torchsetup import children
from torchsetup.errors import EnvironmentUnusable
from torchsetup.probe.model import Build, Installed, PythonInfo, build_from_record

FAMILY = ("torch", "torchvision", "torchaudio")


@dataclass(frozen=True)
class InterpreterFacts:
    """What the target interpreter's child process reported."""

    python: PythonInfo
    installed: Installed
    builds: dict[str, Build | None]
    install_problems: tuple[str, ...]

# The distribution metadata is read straight from the *.dist-info / *.egg-info folders on
# sys.path (what importlib.metadata does, without importing it: ~30 ms less per probe), and each
# package says what it is in its own files: torch/version.py (cuda, hip, git_version), the
# dist-info's INSTALLER, conda-meta/*.json. Nothing of the family is ever imported.
_ENCODE = r"""
def encode(value):  # JSON (ASCII only) without importing json: ~4 ms less per probe
    if value is None or value is True or value is False:
        return {None: "null", True: "true", False: "false"}[value]
    if isinstance(value, int):
        return str(value)
    if isinstance(value, str):
        out = []
        for ch in value:
            code = ord(ch)
            if ch in '"\\':
                out.append("\\" + ch)
            elif 0x20 <= code < 0x7f:
                out.append(ch)
            elif code > 0xffff:
                code -= 0x10000
                out.append("\\u%04x\\u%04x" % (0xd800 + (code >> 10), 0xdc00 + (code & 0x3ff)))
            else:
                out.append("\\u%04x" % code)
        return '"' + "".join(out) + '"'
    if isinstance(value, dict):
        return "{" + ", ".join(encode(str(k)) + ": " + encode(v) for k, v in value.items()) + "}"
    return "[" + ", ".join(encode(v) for v in value) + "]"
"""

# The string behind torch.cuda.get_arch_list() is a C literal in torch_python: found with mmap.find
# (30 ms for the 30 MB library of torch 2.13, page cache warm), for CUDA builds only.
_ARCH_SCAN = r"""
import os
def arch_word(word):
    kind, _, number = word.partition(b"_")
    number = number[:-1] if number[-1:] in (b"a", b"f") else number
    return kind in (b"sm", b"compute") and number.isdigit() and 2 <= len(number) <= 3
def arch_flags(entry):
    # the string behind torch.cuda.get_arch_list(), a literal in torch_python (~30 ms for 30 MB)
    import mmap
    for name in ("libtorch_python.so", "torch_python.dll", "libtorch_python.dylib"):
        try:
            handle = open(os.path.join(entry, "torch", "lib", name), "rb")
        except OSError:
            continue
        with handle:
            try:
                view = mmap.mmap(handle.fileno(), 0, access=mmap.ACCESS_READ)
            except (OSError, ValueError):
                return None
            with view:
                start = view.find(b"sm_")
                while start >= 0:
                    end = view.find(b"\x00", start, start + 1024)
                    if (start == 0 or view[start - 1] == 0) and end > start and all(
                            arch_word(word) for word in view[start:end].split(b" ")):
                        return view[start:end].decode("ascii")
                    start = view.find(b"sm_", start + 3)
        return None
    return None
"""

_SCRIPT = r"""
import sys, os
PATHS = globals().get("PATHS", sys.path)  # given when this runs inside torchsetup's own interpreter
FAMILY = ("torch", "torchvision", "torchaudio")
found = dict((n, []) for n in FAMILY)
stash = []
def first_line(path, prefix=None):
    try:
        with open(path, encoding="utf-8", errors="replace") as handle:
            for line in handle:
                if prefix is None:
                    return line.strip()
                if line.startswith(prefix):
                    return line.split(":", 1)[1].strip()
                if not line.strip():
                    break
    except OSError:
        pass
    return None
seen = set()
for entry in PATHS:
    if not entry or entry == "." or not os.path.isdir(entry):
        continue
    real = os.path.realpath(entry)
    if real in seen:
        continue
    seen.add(real)
    try:
        names = sorted(os.listdir(entry))
    except OSError:
        continue
    for folder in names:
        if folder.startswith("~") and folder[1:].lower().startswith("orch"):
            stash.append(os.path.join(entry, folder))  # pip moves torch* to ~orch* while it works
            continue
        stem, dot, kind = folder.rpartition(".")
        name = stem.split("-")[0].lower().replace("_", "-")
        if kind in ("dist-info", "egg-info") and name in found:
            meta = os.path.join(entry, folder, "METADATA" if kind == "dist-info" else "PKG-INFO")
            found[name].append((entry, folder, first_line(meta, "Version:")))
def version_py(entry, package):
    try:
        with open(os.path.join(entry, package, "version.py"), encoding="utf-8", errors="replace") as h:
            text = h.read(65536)
    except OSError:
        return None
    out = {}
    for line in text.splitlines():  # `cuda: Optional[str] = '12.8'`, `__version__ = "2.8.0"`, `hip = None`
        if line[:1].isspace():
            continue
        key, eq, value = line.partition("=")
        key = key.split(":", 1)[0].strip()
        if not eq or key not in ("__version__", "cuda", "hip", "git_version") or key in out:
            continue
        value = value.strip()
        if value == "None":
            out[key] = None
        elif len(value) >= 2 and value[0] in "'\"" and value[0] in value[1:]:
            out[key] = value[1:value.index(value[0], 1)]
    return out
""" + _ARCH_SCAN + r"""conda = {}
meta_dir = os.path.join(sys.prefix, "conda-meta")
if os.path.isdir(meta_dir):
    import json
    for f in os.listdir(meta_dir):
        parts = f[:-5].rsplit("-", 2) if f.endswith(".json") else []
        owner = {"pytorch": "torch", "torch": "torch"}.get(parts[0], parts[0]) if len(parts) == 3 else None
        if owner in FAMILY:
            try:
                with open(os.path.join(meta_dir, f), encoding="utf-8") as h:
                    record = json.load(h)
                conda[owner] = {"version": record.get("version"), "build": record.get("build"),
                                "channel": record.get("channel") or record.get("schannel"), "file": f}
            except (OSError, ValueError):
                conda[owner] = {"version": None, "build": None, "channel": None, "file": f}
builds = {}
problems = []
for name in FAMILY:
    dists = found[name]
    record = conda.get(name)
    if not dists and record is None:
        builds[name] = None
        continue
    entry, folder, dist_version = dists[0] if dists else (None, None, record["version"])
    own = version_py(entry, name) if entry else None
    installer = first_line(os.path.join(entry, folder, "INSTALLER")) if folder else None
    kind = (installer or "").lower()
    kind = kind if kind in ("pip", "uv", "conda") else ("other" if installer else None)
    if record is not None and kind is None:
        kind = "conda"
    builds[name] = {
        "version": (own or {}).get("__version__") or dist_version, "dist_version": dist_version,
        "cuda": (own or {}).get("cuda"), "hip": (own or {}).get("hip"),
        "git_version": (own or {}).get("git_version"), "version_file": own is not None,
        "cuda_known": own is not None and "cuda" in own,
        "installer": kind, "location": entry,
        "conda_build": record and record["build"], "conda_channel": record and record["channel"]}
    if name == "torch" and entry and (own or {}).get("cuda"):
        builds[name]["arch_list"] = arch_flags(entry)
    if len(dists) > 1:
        where = "; ".join("%s %s in %s" % (name, d[2], d[0]) for d in dists)
        problems.append("duplicate-install: %d %s installs on sys.path (%s); Python imports the first"
                        % (len(dists), name, where))
    if record is not None and kind in ("pip", "uv"):
        problems.append("conda-pip-mix: %s %s was installed by %s over conda's %s %s (build %s); "
                        "both now own its files" % (name, dist_version, kind, record["file"].rsplit("-", 2)[0],
                                                     record["version"], record["build"]))
for path in stash:
    problems.append("interrupted-install: %s was left by an interrupted pip run (pip moves the old "
                    "files there while it replaces a package)" % path)
""" + _ENCODE + r"""if hasattr(sys, "abiflags"):
    free_threaded = "t" in sys.abiflags
else:  # Windows before 3.14 has no abiflags
    import sysconfig
    free_threaded = bool(sysconfig.get_config_var("Py_GIL_DISABLED"))
print(encode({
    "executable": sys.executable,
    "version": "%d.%d.%d" % sys.version_info[:3],
    "free_threaded": free_threaded,
    "installed": dict((n, found[n][0][2] if found[n] else None) for n in FAMILY),
    "builds": builds,
    "install_problems": problems,
}))
"""


def stale_environments(environ: Mapping[str, str] | None = None) -> list[str]:
    """VIRTUAL_ENV / CONDA_PREFIX that name a folder without an interpreter (a deleted venv)."""
    env = os.environ if environ is None else environ
    bindir, exe = ("Scripts", "python.exe") if sys.platform == "win32" else ("bin", "python")
    return [f"{var}={env[var]} has no {bindir}/{exe}; it is ignored" for var in ("VIRTUAL_ENV", "CONDA_PREFIX")
            if env.get(var) and not (Path(env[var]) / bindir / exe).exists()]


def default_python(environ: Mapping[str, str] | None = None) -> str:
    """The active virtual environment's, else the active conda environment's, else ours."""
    env = os.environ if environ is None else environ
    bindir = "Scripts" if sys.platform == "win32" else "bin"
    exe = "python.exe" if sys.platform == "win32" else "python"
    for var in ("VIRTUAL_ENV", "CONDA_PREFIX"):
        prefix = env.get(var)
        if prefix and (Path(prefix) / bindir / exe).exists():
            return str(Path(prefix) / bindir / exe)
    return sys.executable


def start_interpreter_probe(python: str) -> subprocess.Popen[str]:
    """Start the child now; collect it with `finish_interpreter_probe` (probing goes on meanwhile)."""
    hint = "Pass --python with the path of a working Python interpreter."
    if not Path(python).exists():
        raise EnvironmentUnusable(f"target interpreter not found: {python}", hint)
    try:
        return children.start([python, "-c", _SCRIPT])
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
    try:
        data = json.loads(stdout.strip().splitlines()[-1])
    except (ValueError, IndexError) as exc:
        said = (stderr.strip().splitlines() or ["no output"])[-1]
        raise EnvironmentUnusable(
            f"target interpreter {python} is broken (exit {child.returncode}): {said}", hint
        ) from exc
    return _facts(data)


def same_interpreter(python: str) -> bool:
    """`python` is the interpreter running torchsetup, started as a child would be (no -I, -E, -s, -S):
    its facts can be read here, without a child process (~25 ms of CPU less). The same path, or
    another name for the same file in the same folder (a venv's `python` beside the `python3` a
    console script's shebang names): the folder decides the environment (its pyvenv.cfg), so the
    base interpreter that a venv's links point to is another interpreter."""
    flags = sys.flags
    if not sys.executable or flags.isolated or flags.ignore_environment or flags.no_user_site or flags.no_site:
        return False

    def norm(path: str) -> str:
        return os.path.normcase(os.path.abspath(path))

    target, ours = norm(python), norm(sys.executable)
    if target == ours:
        return True
    if os.path.dirname(target) != os.path.dirname(ours):
        return False
    try:
        return os.path.samefile(target, ours)
    except OSError:
        return False


def read_in_process(python: str | None = None) -> InterpreterFacts:
    """The child's script run in this interpreter, over the sys.path a `python -c` child would have:
    without the entry Python put first for the running script (the child's is "", which it skips).
    `python`, the path the interpreter was asked for by, is the executable reported, as a child
    started by that path would report it."""
    import contextlib
    import io

    paths = list(sys.path) if getattr(sys.flags, "safe_path", False) else list(sys.path[1:])
    printed = io.StringIO()
    with contextlib.redirect_stdout(printed):
        exec(_SCRIPT, {"__name__": "torchsetup_interpreter_probe", "PATHS": paths})  # noqa: S102 - our script
    data = json.loads(printed.getvalue().strip().splitlines()[-1])
    if python is not None:
        data["executable"] = python
    return _facts(data)


def _facts(data: dict[str, Any]) -> InterpreterFacts:
    info = PythonInfo(executable=data.get("executable"), version=data.get("version"),
                      free_threaded=bool(data.get("free_threaded")))
    inst = data.get("installed") or {}
    builds = {name: build_from_record(record) for name, record in (data.get("builds") or {}).items()
              if name in FAMILY}
    return InterpreterFacts(info, Installed(**{name: inst.get(name) for name in FAMILY}), builds,
                            tuple(str(p) for p in data.get("install_problems") or ()))


def read_interpreter(python: str, timeout: float = 20.0) -> InterpreterFacts:
    return finish_interpreter_probe(start_interpreter_probe(python), python, timeout)
