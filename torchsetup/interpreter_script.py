"""What the target interpreter is, run BY THE TARGET INTERPRETER as a script (never imported by
torchsetup): its version, free-threading, and what the torch family installed there is.

    python interpreter_script.py

Prints one Python literal (a dict of strings, numbers, booleans, None and lists), written with
`ascii()` so that a narrow console cannot garble it, and read back with `ast.literal_eval`: the
script imports nothing beyond `os` and `sys` for it (`json` would cost it `re`, a third of its
time). Standard library only, any Python from 3.7 on. The distribution
metadata is read from the *.dist-info / *.egg-info folders on sys.path (what importlib.metadata
reads), and each package says what it is in its own files: torch/version.py (cuda, hip,
git_version), the dist-info's INSTALLER, conda-meta/*.json, and for a CUDA torch the arch list
compiled into libtorch_python. Nothing of the family is ever imported.
"""

from __future__ import annotations

import os
import sys

# Annotations are never evaluated here (the script also runs on Pythons before 3.9, and imports no
# `typing`): a distribution found is (sys.path entry, dist-info folder, version); a conda-meta record
# is {version, build, channel, file}.

FAMILY = ("torch", "torchvision", "torchaudio")
VERSION_KEYS = ("__version__", "cuda", "hip", "git_version")
TORCH_PYTHON = ("libtorch_python.so", "torch_python.dll", "libtorch_python.dylib")


def search_path() -> list[str]:
    """sys.path as a `python -c` child has it: without this script's own folder."""
    paths = list(sys.path)
    here = os.path.dirname(os.path.abspath(__file__))
    if paths and not getattr(sys.flags, "safe_path", False) and os.path.abspath(paths[0]) == here:
        del paths[0]
    return [entry for entry in paths if entry and entry != "."]


def header_value(path: str, field: str) -> str | None:
    """The value of `field:` in a metadata file's header (None if absent or unreadable)."""
    try:
        with open(path, encoding="utf-8", errors="replace") as handle:
            for line in handle:
                if not line.strip():
                    break
                if line.startswith(field + ":"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return None


def first_line(path: str) -> str | None:
    try:
        with open(path, encoding="utf-8", errors="replace") as handle:
            return handle.readline().strip()
    except OSError:
        return None


def find_distributions(paths: list[str]) -> tuple[dict[str, list[tuple[str, str, str | None]]], list[str]]:
    """{name: [(sys.path entry, dist-info folder, version)]} for the family, in sys.path order,
    and the stashes pip leaves (`~orch`) while it replaces a package."""
    found: dict[str, list[tuple[str, str, str | None]]] = {name: [] for name in FAMILY}
    stashes: list[str] = []
    seen: set[str] = set()
    for entry in paths:
        if not os.path.isdir(entry):
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
                stashes.append(os.path.join(entry, folder))
                continue
            stem, _, kind = folder.rpartition(".")
            name = stem.split("-")[0].lower().replace("_", "-")
            if kind in ("dist-info", "egg-info") and name in found:
                metadata = os.path.join(entry, folder, "METADATA" if kind == "dist-info" else "PKG-INFO")
                found[name].append((entry, folder, header_value(metadata, "Version")))
    return found, stashes


def read_version_file(entry: str, package: str) -> dict[str, str | None] | None:
    """The assignments of `package/version.py` (`cuda: Optional[str] = '12.8'`, `hip = None`)."""
    try:
        with open(os.path.join(entry, package, "version.py"), encoding="utf-8", errors="replace") as handle:
            text = handle.read(65536)
    except OSError:
        return None
    values: dict[str, str | None] = {}
    for line in text.splitlines():
        if line[:1].isspace():
            continue
        key, equals, value = line.partition("=")
        key = key.split(":", 1)[0].strip()
        if not equals or key not in VERSION_KEYS or key in values:
            continue
        value = value.strip()
        if value == "None":
            values[key] = None
        elif len(value) >= 2 and value[0] in "'\"" and value[0] in value[1:]:
            values[key] = value[1:value.index(value[0], 1)]
    return values


def is_arch_word(word: bytes) -> bool:
    kind, _, number = word.partition(b"_")
    number = number[:-1] if number[-1:] in (b"a", b"f") else number
    return kind in (b"sm", b"compute") and number.isdigit() and 2 <= len(number) <= 3


def read_arch_list(entry: str) -> str | None:
    """The string behind torch.cuda.get_arch_list(): a C literal in torch_python."""
    for name in TORCH_PYTHON:
        path = os.path.join(entry, "torch", "lib", name)
        if not os.path.isfile(path):
            continue
        with open(path, "rb") as handle:
            import mmap

            try:
                view = mmap.mmap(handle.fileno(), 0, access=mmap.ACCESS_READ)
            except (OSError, ValueError):
                return None
            with view:
                start = view.find(b"sm_")
                while start >= 0:
                    end = view.find(b"\x00", start, start + 1024)
                    if (start == 0 or view[start - 1] == 0) and end > start and all(
                            is_arch_word(word) for word in view[start:end].split(b" ")):
                        return view[start:end].decode("ascii")
                    start = view.find(b"sm_", start + 3)
        return None
    return None


def read_conda_records(prefix: str) -> dict[str, dict[str, str | None]]:
    """{family name: the conda package record} from `conda-meta/` of this environment."""
    records: dict[str, dict[str, str | None]] = {}
    meta_dir = os.path.join(prefix, "conda-meta")
    if not os.path.isdir(meta_dir):
        return records
    for file_name in os.listdir(meta_dir):
        parts = file_name[:-5].rsplit("-", 2) if file_name.endswith(".json") else []
        if len(parts) != 3:
            continue
        owner = "torch" if parts[0] == "pytorch" else parts[0]
        if owner not in FAMILY:
            continue
        try:
            with open(os.path.join(meta_dir, file_name), encoding="utf-8") as handle:
                import json  # only where a conda environment has records

                record = json.load(handle)
            records[owner] = {"version": record.get("version"), "build": record.get("build"),
                              "channel": record.get("channel") or record.get("schannel"), "file": file_name}
        except (OSError, ValueError):
            records[owner] = {"version": None, "build": None, "channel": None, "file": file_name}
    return records


def describe_build(name: str, dists: list[tuple[str, str, str | None]],
                   conda: dict[str, str | None] | None) -> dict[str, object] | None:
    """What one installed package is, from its own files; None when it is not installed."""
    entry: str | None = None
    if dists:
        entry, folder, dist_version = dists[0]
        own = read_version_file(entry, name)
        installer = first_line(os.path.join(entry, folder, "INSTALLER"))
    elif conda is not None:
        dist_version, own, installer = conda["version"], None, None
    else:
        return None
    said = (installer or "").lower()
    kind = said if said in ("pip", "uv", "conda") else ("other" if installer else None)
    if conda is not None and kind is None:
        kind = "conda"
    values = own or {}
    build: dict[str, object] = {
        "version": values.get("__version__") or dist_version, "dist_version": dist_version,
        "cuda": values.get("cuda"), "hip": values.get("hip"), "git_version": values.get("git_version"),
        "version_file": own is not None, "cuda_known": own is not None and "cuda" in own,
        "installer": kind, "location": entry,
        "conda_build": conda["build"] if conda else None, "conda_channel": conda["channel"] if conda else None,
    }
    if name == "torch" and entry and values.get("cuda"):
        build["arch_list"] = read_arch_list(entry)
    return build


def install_problems(found: dict[str, list[tuple[str, str, str | None]]], conda: dict[str, dict[str, str | None]],
                     builds: dict[str, dict[str, object] | None], stashes: list[str]) -> list[str]:
    problems = []
    for name in FAMILY:
        dists = found[name]
        if len(dists) > 1:
            where = "; ".join(f"{name} {version} in {entry}" for entry, _, version in dists)
            problems.append(f"duplicate-install: {len(dists)} {name} installs on sys.path ({where}); "
                            "Python imports the first")
        record = conda.get(name)
        build = builds[name]
        if record is not None and build is not None and build["installer"] in ("pip", "uv"):
            problems.append(f"conda-pip-mix: {name} {build['dist_version']} was installed by {build['installer']} "
                            f"over conda's {str(record['file']).rsplit('-', 2)[0]} {record['version']} "
                            f"(build {record['build']}); both now own its files")
    for path in stashes:
        problems.append(f"interrupted-install: {path} was left by an interrupted pip run (pip moves the old "
                        "files there while it replaces a package)")
    return problems


def requirement_name(requirement: str) -> str:
    """The project name a Requires-Dist value starts with (`torch (>=2.4)`, `torch>=2.4; extra == 'x'`)."""
    end = len(requirement)
    for index, char in enumerate(requirement):
        if char in " ;<>=!~([@":
            end = index
            break
    return requirement[:end].strip().lower().replace("_", "-")


def find_dependents(paths: list[str]) -> list[dict[str, object]]:
    """Every installed distribution whose Requires-Dist names the torch family (markers are evaluated
    by the caller, which is given this interpreter's marker values), with whether it ships compiled
    code (a .so/.pyd in its RECORD) and its top-level modules."""
    out: list[dict[str, object]] = []
    seen: set[str] = set()
    for entry in paths:
        try:
            names = sorted(os.listdir(entry))
        except OSError:
            continue
        for folder in names:
            if not folder.endswith(".dist-info") or folder.startswith("~"):
                continue
            metadata = os.path.join(entry, folder, "METADATA")
            try:
                with open(metadata, encoding="utf-8", errors="replace") as handle:
                    head = handle.read(1 << 16).split("\n\n", 1)[0]
            except OSError:
                continue
            fields: dict[str, list[str]] = {}
            for line in head.splitlines():
                key, colon, value = line.partition(":")
                if colon and key in ("Name", "Version", "Requires-Dist"):
                    fields.setdefault(key, []).append(value.strip())
            name = (fields.get("Name") or [folder.split("-")[0]])[0]
            key = name.lower().replace("_", "-")
            if key in seen or key in FAMILY:
                continue
            seen.add(key)
            requires = [r for r in fields.get("Requires-Dist", []) if requirement_name(r) in FAMILY]
            if not requires and key not in ("torchao", "fbgemm-gpu", "fbgemm-gpu-genai"):
                continue  # (torchao and fbgemm-gpu are compiled against one torch but declare none)
            out.append({"name": name, "version": (fields.get("Version") or [""])[0] or None, "requires": requires,
                        **record_facts(os.path.join(entry, folder))})
    return out


def record_facts(dist_info: str) -> dict[str, object]:
    compiled = False
    top: set[str] = set()
    try:
        with open(os.path.join(dist_info, "RECORD"), encoding="utf-8", errors="replace") as handle:
            for line in handle:
                path = line.split(",", 1)[0]
                if path.endswith((".so", ".pyd")) or ".so." in path:
                    compiled = True
                first = path.split("/", 1)[0]
                if "/" in path and not first.endswith((".dist-info", ".data")) and not first.startswith(".."):
                    top.add(first)
                elif path.endswith(".py") and "/" not in path:
                    top.add(path[:-3])
    except OSError:
        return {"compiled": None, "modules": []}
    return {"compiled": compiled, "modules": sorted(top)}


def marker_environment() -> dict[str, str]:
    """The values PEP 508 markers are evaluated with, for this interpreter."""
    import platform

    implementation = sys.implementation
    version = "{}.{}.{}".format(*implementation.version[:3])
    return {"implementation_name": implementation.name, "implementation_version": version,
            "os_name": os.name, "platform_machine": platform.machine(), "platform_release": platform.release(),
            "platform_system": platform.system(), "platform_version": platform.version(),
            "python_full_version": platform.python_version(), "platform_python_implementation":
            platform.python_implementation(), "python_version": "{}.{}".format(*sys.version_info[:2]),
            "sys_platform": sys.platform}


def is_free_threaded() -> bool:
    if hasattr(sys, "abiflags"):
        return "t" in sys.abiflags
    import sysconfig  # Windows before 3.14 has no abiflags

    return bool(sysconfig.get_config_var("Py_GIL_DISABLED"))


def is_externally_managed() -> bool:
    """PEP 668: the interpreter's distributor manages its packages (pip refuses outside a venv)."""
    if sys.prefix != getattr(sys, "base_prefix", sys.prefix):
        return False
    import sysconfig

    return os.path.isfile(os.path.join(sysconfig.get_path("stdlib"), "EXTERNALLY-MANAGED"))


def has_pip(paths: list[str]) -> bool:
    """Whether `python -m pip` finds pip: its package folder on the search path. (Asking
    importlib's finders instead runs every meta-path hook a .pth file installed, such as
    setuptools' distutils hack, which imports traceback to answer.)"""
    return any(os.path.isfile(os.path.join(entry, "pip", "__init__.py")) for entry in paths)


def main() -> None:
    paths = search_path()
    found, stashes = find_distributions(paths)
    dependents = find_dependents(paths)
    conda = read_conda_records(sys.prefix)
    builds = {name: describe_build(name, found[name], conda.get(name)) for name in FAMILY}
    result = {
        "executable": sys.executable,
        "version": "{}.{}.{}".format(*sys.version_info[:3]),
        "free_threaded": is_free_threaded(),
        "pip": has_pip(paths),
        "externally_managed": is_externally_managed(),
        "installed": {name: found[name][0][2] if found[name] else None for name in FAMILY},
        "builds": builds,
        "install_problems": install_problems(found, conda, builds, stashes),
        "dependents": dependents,
        "marker_environment": marker_environment() if dependents else {},
    }
    sys.stdout.write(ascii(result) + "\n")


if __name__ == "__main__":
    main()
