"""Renderers for people: plain lines and aligned tables (`textout`), imported only when output goes
to a person. Text from outside is cleaned of terminal control sequences; there is no markup to
escape (`[old]` is just text)."""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from torchsetup.quoting import quote
from torchsetup.textout import Out, clean

if TYPE_CHECKING:
    from types import TracebackType

    from torchsetup.install import InstallResult
    from torchsetup.matrix.store import Matrix, Release
    from torchsetup.probe.model import Machine
    from torchsetup.resolve import Resolution
    from torchsetup.verify import VerifyReport


def _out(stream: str = "stdout") -> Out:
    import sys

    return Out(sys.stderr if stream == "stderr" else sys.stdout)


def render_machine(machine: Machine) -> None:
    out = _out()
    o, p, nv, tk, inst = machine.os, machine.python, machine.nvidia, machine.cuda_toolkit, machine.installed
    rows: list[tuple[str, str]] = []
    if o is not None:
        flags = [name for name, on in (("WSL", o.wsl), ("container", o.container), ("Jetson", o.jetson)) if on]
        rows.append(("OS", f"{clean(o.system)} {clean(o.machine)}, {clean(o.libc)}"
                           + (f" ({', '.join(flags)})" if flags else "")))
    if p is not None:
        rows.append(("Python", f"{clean(p.version)}{' free-threaded' if p.free_threaded else ''}"
                               f"  {clean(p.executable)}"))
    if nv is not None:
        if nv.driver_version:
            rows.append(("NVIDIA driver", f"{clean(nv.driver_version)} (CUDA {clean(nv.cuda_driver_version)})"
                                          f"  via {clean(nv.source)}"))
        else:
            rows.append(("NVIDIA driver", "not found"))
        if nv.error:
            rows.append(("", clean(nv.error)))
    if tk is None:
        unknown = "unknown (not in the probe document)"
        rows.append(("CUDA toolkit", "not found" if machine.toolkit_probed else unknown))
    else:
        rows.append(("CUDA toolkit", f"{clean(tk.version)} ({clean(tk.nvcc or tk.home)})"))
    if inst is not None:
        rows.append(("Installed", f"torch {clean(inst.torch)}, torchvision {clean(inst.torchvision)}, "
                                  f"torchaudio {clean(inst.torchaudio)}"))
    for name, build in (machine.builds or {}).items():
        if build is not None:
            what = (build.variant or "build unknown") + (f", kernels {build.arch_list}" if build.arch_list else "")
            source = f"conda {build.conda_build}" if build.conda_build else clean(build.installer)
            rows.append((f"  {name}", f"{clean(build.version)}: {what} (from {source}, {clean(build.location)})"))
    rows.extend(("", clean(problem)) for problem in machine.install_problems or ())
    out.table(("", ""), rows, header=False)
    if nv is not None and nv.gpus:
        gpu_rows = []
        for g in nv.gpus:
            mem = f"{g.memory_total_mib} MiB" if g.memory_total_mib is not None else "—"
            mig = "—" if g.mig is None else ("on" if g.mig else "off")
            gpu_rows.append((str(g.index), clean(g.name), clean(g.compute_capability), mem, mig, clean(g.uuid)))
        out.table(("#", "name", "capability", "memory", "MIG", "UUID"), gpu_rows, title="GPUs")
    for warning in machine.warnings:
        out.line(out.style("warning: ", "yellow"), clean(warning))


def _variants_where(release: Release) -> str:
    """Each variant, with the OS families it is built for when that is not all of them: cpu(macos,windows)."""
    families: dict[str, set[str]] = {}
    for v in release.variants:
        families.setdefault(v.name, set()).update(p.split("-")[0] for p in v.platforms)
    every = {"linux", "windows", "macos"}
    return " ".join(name if where >= every else f"{name}({','.join(sorted(where))})"
                    for name, where in sorted(families.items())) or "unknown"


def render_matrix(matrix: Matrix, releases: list[Release]) -> None:
    rows = []
    for r in releases:
        linux = r.wheels.get("linux-x86_64")
        py = f"{linux.python[0]}–{linux.python[-1]}" if linux and linux.python else "unknown"
        rows.append((clean(r.torch), clean(r.torchvision), clean(r.torchaudio), _variants_where(r), py))
    columns = ("torch", "torchvision", "torchaudio", "variants (where not on every OS)", "python (linux-x86_64)")
    _out().table(columns, rows,
                 title=f"{len(releases)} release{'' if len(releases) == 1 else 's'}  ({clean(matrix.path)})")


class fetch_progress:  # noqa: N801 - used as a context manager
    """A transient progress line on stderr while sources are fetched (rich, loaded only here)."""

    def __enter__(self) -> Callable[[str], None]:
        from rich.console import Console
        from rich.progress import Progress, SpinnerColumn, TextColumn

        self._progress = Progress(SpinnerColumn(), TextColumn("{task.description}"),
                                  console=Console(stderr=True), transient=True)
        self._progress.__enter__()
        self._task = self._progress.add_task("reading sources")
        return self._update

    def _update(self, what: str) -> None:
        from rich.markup import escape

        self._progress.update(self._task, description=f"fetching {escape(clean(what))}")

    def __exit__(self, kind: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        self._progress.__exit__(None, None, None)


def render_resolution(res: Resolution, shell: str = "posix", stream: str = "stdout") -> None:
    out = _out(stream)
    plan = res.plan
    rejected = list(res.rejected)
    if plan is not None:
        out.line(out.style(f"torch {clean(plan.torch)}", "bold green"), f" ({clean(plan.label)})",
                 f"  torchvision {clean(plan.torchvision)}  torchaudio {clean(plan.torchaudio)}")
        out.line(out.style("command: ", "bold"), clean(quote(plan.command, shell)))
        for note in plan.notes:
            out.line(out.style("note: ", "yellow"), clean(note))
        near = [r for r in rejected if r.torch == plan.torch] or rejected[:6]
    else:
        near = rejected[:10]
    if near:
        rows = [(r.torch, f"{r.variant} (PyPI)" if r.pypi else r.variant, r.reason) for r in near[:10]]
        out.table(("torch", "variant", "reason"), rows,
                  title="nearest alternatives and why they lost")


def render_install(outcome: InstallResult) -> None:
    out = _out()
    plan = outcome.plan
    what = f"torch {clean(plan.torch)} ({clean(plan.label)})"
    for line in outcome.recovered:
        out.line(out.style(clean(line), "yellow"))
    if outcome.action == "already-installed":
        out.line(out.style("already installed: ", "green"), f"{what}; nothing to do")
    elif outcome.action == "installed":
        out.line(out.style("installed ", "green"), what)
    elif outcome.action == "failed":
        out.line(out.style("install failed: ", "red"), clean(outcome.error or ""))
        for line in outcome.restored or ():
            out.line(f"  restored: {clean(line)}")
        for line in outcome.not_restored or ():
            out.line(out.style("  not put back: ", "red"), clean(line))
    if outcome.verify is not None:
        from torchsetup.documents import verify_document

        render_verify_document(verify_document(outcome.verify), brief=True)


def render_verify(report: VerifyReport) -> None:
    from torchsetup.documents import verify_document

    render_verify_document(verify_document(report))


def render_verify_document(document: dict[str, Any], brief: bool = False) -> None:
    out = _out()
    ok = bool(document.get("ok"))
    head = out.style("OK", "bold green") if ok else out.style("FAILED", "bold red")
    reason = clean(document.get("cuda_unavailable_reason"))
    available = "yes" if document.get("cuda_available") else f"no ({reason})"
    out.line("smoke test " if brief else "", head, f"  torch {clean(document.get('torch'))}, "
             f"CUDA available: {available}")
    failing = [c for c in document.get("checks", []) if not c["ok"]]
    checks = failing if brief else document.get("checks", [])
    if not checks and not any(d.get("error") for d in document.get("devices", [])):
        return
    rows = [(check["name"], "ok" if check["ok"] else "fail", f"{check['seconds']:.3f}", check["detail"])
            for check in checks]
    rows += [(f"cuda:{device['index']} arch", "fail", "", device["error"])
             for device in document.get("devices", []) if device.get("error")]
    out.table(("check", "result", "seconds", "detail"), rows)


def _count(n: int, noun: str) -> str:
    return f"{n} {noun}" if n == 1 else f"{n} {noun}s"


def checked_line(machine: Machine) -> str:
    """What a doctor's verdict is about: the torch family and where it is installed, and the driver
    and the GPUs torch will use (after CUDA_VISIBLE_DEVICES and --gpus)."""
    inst = machine.installed
    recorded = ({"torch": inst.torch, "torchvision": inst.torchvision, "torchaudio": inst.torchaudio}
                if inst else {})
    family = []
    for name in ("torch", "torchvision", "torchaudio"):
        build = (machine.builds or {}).get(name)
        version = build.version if build is not None and build.version else recorded.get(name)
        family.append(f"{name} {clean(version)}" if version else f"no {name}")
    if machine.installed is None and not machine.builds:
        family = ["the torch family (not in the probe document)"]
    where = f" in {clean(machine.python.executable)}" if machine.python and machine.python.executable else ""
    return f"checked: {', '.join(family)}{where}; {_gpus_line(machine)}"


def _gpus_line(machine: Machine) -> str:
    from torchsetup.cuda import fmt_cap

    nv = machine.nvidia
    if nv is None:
        return "the NVIDIA driver and GPUs: not in the probe document"
    driver = f"driver {clean(nv.driver_version)}" if nv.driver_version else "no NVIDIA driver"
    if machine.gpus_hidden_from_torch:
        return f"{driver}, every GPU hidden by CUDA_VISIBLE_DEVICES"
    used = [g for g in nv.gpus if machine.gpu_selection is None or g.index in machine.gpu_selection]
    if not used:
        return f"{driver}, no NVIDIA GPU visible" if nv.driver_version else "no NVIDIA GPU visible"
    named: dict[str, int] = {}
    for gpu in used:
        cap = gpu.capability
        label = clean(gpu.name) + (f" ({fmt_cap(cap)})" if cap else " (capability unknown)")
        named[label] = named.get(label, 0) + 1
    shown = [f"{n} × {label}" if n > 1 else label for label, n in list(named.items())[:4]]
    more = f" and {len(named) - 4} more kinds" if len(named) > 4 else ""
    return f"{driver}, {', '.join(shown)}{more}"


def render_doctor(document: dict[str, Any], machine: Machine | None = None) -> None:
    out = _out()
    findings = document["findings"]
    errors = [f for f in findings if f["severity"] == "error"]
    unchecked = [f for f in findings if f["code"] == "not-checked"]
    warnings = [f for f in findings if f["severity"] == "warning" and f["code"] != "not-checked"]
    if errors:
        out.line(out.style(_count(len(errors), "problem"), "bold red"), " found",
                 f"; {_count(len(unchecked), 'thing')} could not be checked" if unchecked else "")
    elif unchecked:
        head = f"no problem found, but {_count(len(unchecked), 'thing')} could not be checked"
        out.line(out.style(head, "bold yellow"), " (listed below): this is not a clean bill of health")
    elif warnings:
        out.line(out.style(f"works, with {_count(len(warnings), 'warning')}", "bold yellow"))
    else:
        out.line(out.style("healthy", "bold green"), ": every check passed",
                 f" ({_count(len(findings), 'note')})" if findings else "")
    if machine is not None:
        out.line(checked_line(machine))
    colours = {"error": "red", "warning": "yellow", "info": "blue"}
    for f in findings:
        out.line(out.style(f["severity"], colours.get(f["severity"], "")), " ", out.style(f["code"], "bold"),
                 ": ", clean(f["message"]))
    if document.get("verify") is not None:
        out.line()
        render_verify_document(document["verify"])
    for fix in dict.fromkeys(f["fix"] for f in findings if f["fix"]):
        out.line("\nfix:")
        out.line(clean(fix))
