"""Renderers for people (rich). Imported only when output goes to a person.

Every piece of text that comes from outside (paths, GPU names, error strings, versions, install
lines) is shown as text: rich markup in it is escaped and control characters (terminal escape
sequences) are dropped, so `[old]` stays visible and `[/` cannot break the view.
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING, Any

from rich.console import Console
from rich.markup import escape
from rich.table import Table
from rich.text import Text

from torchsetup.quoting import quote

if TYPE_CHECKING:
    from torchsetup.install import InstallResult
    from torchsetup.matrix.store import Matrix, Release
    from torchsetup.probe.model import Machine
    from torchsetup.resolve import Resolution
    from torchsetup.verify import VerifyReport

console = Console()
_CONTROL = re.compile(r"\x1b\[[0-?]*[ -/]*[@-~]|\x1b\][^\x07\x1b]*(?:\x07|\x1b\\)|[\x00-\x08\x0b-\x1f\x7f-\x9f]")


def clean(value: object) -> str:
    """Outside text without terminal control sequences."""
    return _CONTROL.sub("", "—" if value is None else str(value))


def t(value: object) -> str:
    """Outside text, safe inside a markup string."""
    return escape(clean(value))


def _dash(value: object) -> str:
    return t(value)


def render_machine(machine: Machine) -> None:
    o, p, nv, tk, inst = machine.os, machine.python, machine.nvidia, machine.cuda_toolkit, machine.installed
    top = Table.grid(padding=(0, 2))
    top.add_column(style="bold")
    top.add_column()
    if o is not None:
        flags = [name for name, on in (("WSL", o.wsl), ("container", o.container), ("Jetson", o.jetson)) if on]
        top.add_row("OS", Text(f"{clean(o.system)} {clean(o.machine)}, {clean(o.libc)}"
                               + (f" ({', '.join(flags)})" if flags else "")))
    if p is not None:
        top.add_row("Python", Text(f"{clean(p.version)}{' free-threaded' if p.free_threaded else ''}"
                                   f"  {clean(p.executable)}"))
    if nv is not None:
        if nv.driver_version:
            top.add_row("NVIDIA driver", Text(f"{clean(nv.driver_version)} (CUDA {clean(nv.cuda_driver_version)})"
                                              f"  via {clean(nv.source)}"))
        else:
            top.add_row("NVIDIA driver", Text("not found", style="red"))
        if nv.error:
            top.add_row("", Text(clean(nv.error), style="yellow"))
    if tk is None:
        unknown = "unknown (not in the probe document)"
        top.add_row("CUDA toolkit", "not found" if machine.toolkit_probed else unknown)
    else:
        top.add_row("CUDA toolkit", Text(f"{clean(tk.version)} ({clean(tk.nvcc or tk.home)})"))
    if inst is not None:
        top.add_row("Installed", Text(f"torch {clean(inst.torch)}, torchvision {clean(inst.torchvision)}, "
                                      f"torchaudio {clean(inst.torchaudio)}"))
    for name, build in (machine.builds or {}).items():
        if build is not None:
            what = build.variant or "build unknown"
            source = f"conda {build.conda_build}" if build.conda_build else clean(build.installer)
            where = f"from {source}, {clean(build.location)}"
            top.add_row(f"  {name}", Text(f"{clean(build.version)}: {what} ({where})"))
    for problem in machine.install_problems or ():
        top.add_row("", Text(clean(problem), style="red"))
    console.print(top)
    if nv is not None and nv.gpus:
        table = Table(title="GPUs", title_justify="left")
        for col in ("#", "name", "capability", "memory", "MIG", "UUID"):
            table.add_column(col)
        for g in nv.gpus:
            mem = f"{g.memory_total_mib} MiB" if g.memory_total_mib is not None else "—"
            mig = "—" if g.mig is None else ("on" if g.mig else "off")
            table.add_row(str(g.index), Text(clean(g.name)), Text(clean(g.compute_capability)), mem, mig,
                          Text(clean(g.uuid)))
        console.print(table)
    for warning in machine.warnings:
        console.print(Text.assemble(("warning: ", "yellow"), clean(warning)))


def render_matrix(matrix: Matrix, releases: list[Release]) -> None:
    table = Table(title=Text(f"{len(releases)} releases  ({clean(matrix.path)})"), title_justify="left")
    for col in ("torch", "torchvision", "torchaudio", "variants", "python (linux-x86_64)"):
        table.add_column(col)
    for r in releases:
        linux = r.wheels.get("linux-x86_64")
        py = f"{linux.python[0]}–{linux.python[-1]}" if linux and linux.python else "unknown"
        names = sorted({v.name for v in r.variants}) or ["unknown"]
        table.add_row(*(Text(clean(x)) for x in (r.torch, r.torchvision, r.torchaudio, " ".join(names), py)))
    console.print(table)


class fetch_progress:  # noqa: N801 - used as a context manager
    """A transient progress line on stderr while sources are fetched."""

    def __enter__(self):  # type: ignore[no-untyped-def]
        from rich.progress import Progress, SpinnerColumn, TextColumn

        self._progress = Progress(SpinnerColumn(), TextColumn("{task.description}"),
                                  console=Console(stderr=True), transient=True)
        self._progress.__enter__()
        self._task = self._progress.add_task("reading sources")
        return self._update

    def _update(self, what: str) -> None:
        self._progress.update(self._task, description=f"fetching {t(what)}")

    def __exit__(self, *exc: object) -> None:
        self._progress.__exit__(None, None, None)


def render_resolution(res: Resolution, shell: str = "posix", stream: str = "stdout") -> None:
    out = Console(stderr=True) if stream == "stderr" else console
    plan = res.plan
    rejected = list(res.rejected)
    if plan is not None:
        out.print(f"[bold green]torch {t(plan.torch)}[/bold green] ({t(plan.label)})"
                      f"  torchvision {t(plan.torchvision)}  torchaudio {t(plan.torchaudio)}")
        out.print(Text.assemble(("command: ", "bold"), clean(quote(plan.command, shell))), soft_wrap=True)
        for note in plan.notes:
            out.print(Text.assemble(("note: ", "yellow"), clean(note)))
        near = [r for r in rejected if r.torch == plan.torch] or rejected[:6]
    else:
        near = rejected[:10]
    if near:
        table = Table(title="nearest alternatives and why they lost", title_justify="left")
        for col in ("torch", "variant", "reason"):
            table.add_column(col)
        for r in near[:10]:
            table.add_row(Text(clean(r.torch)), Text(clean(r.variant)), Text(clean(r.reason)))
        out.print(table)


def render_install(outcome: InstallResult) -> None:
    plan = outcome.plan
    what = f"torch {clean(plan.torch)} ({clean(plan.label)})"
    for line in outcome.recovered:
        console.print(Text(clean(line), style="yellow"))
    if outcome.action == "already-installed":
        console.print(Text.assemble(("already installed: ", "green"), f"{what}; nothing to do"))
    elif outcome.action == "installed":
        console.print(Text.assemble(("installed ", "green"), what))
    elif outcome.action == "failed":
        console.print(Text.assemble(("install failed: ", "red"), clean(outcome.error or "")))
        for line in outcome.restored or ():
            console.print(Text(f"  restored: {clean(line)}"))
    if outcome.verify:
        render_verify_document(outcome.verify, brief=True)


def render_verify(report: VerifyReport) -> None:
    from torchsetup.verify import verify_document

    render_verify_document(verify_document(report))


def render_verify_document(document: dict[str, Any], brief: bool = False) -> None:
    ok = bool(document.get("ok"))
    head = "[bold green]OK[/bold green]" if ok else "[bold red]FAILED[/bold red]"
    available = "yes" if document.get("cuda_available") else f"no ({t(document.get('cuda_unavailable_reason'))})"
    console.print(("smoke test " if brief else "") + f"{head}  torch {t(document.get('torch'))}, "
                  f"CUDA available: {available}")
    failing = [c for c in document.get("checks", []) if not c["ok"]]
    checks = failing if brief else document.get("checks", [])
    if not checks and not any(d.get("error") for d in document.get("devices", [])):
        return
    table = Table()
    for col in ("check", "result", "seconds", "detail"):
        table.add_column(col)
    for check in checks:
        table.add_row(Text(clean(check["name"])), Text("ok", "green") if check["ok"] else Text("fail", "red"),
                      f"{check['seconds']:.3f}", Text(clean(check["detail"])))
    for device in document.get("devices", []):
        if device.get("error"):
            table.add_row(f"cuda:{device['index']} arch", Text("fail", "red"), "", Text(clean(device["error"])))
    console.print(table)


def render_doctor(document: dict[str, Any]) -> None:
    findings = document["findings"]
    errors = [f for f in findings if f["severity"] == "error"]
    unchecked = [f for f in findings if f["code"] == "not-checked"]
    warnings = [f for f in findings if f["severity"] == "warning" and f["code"] != "not-checked"]
    if errors:
        count = "1 problem" if len(errors) == 1 else f"{len(errors)} problems"
        console.print(f"[bold red]{count}[/bold red] with this torch install"
                      + (f"; {len(unchecked)} thing(s) could not be checked" if unchecked else ""))
    elif unchecked:
        console.print(f"[bold yellow]no problem found, but {len(unchecked)} thing(s) could not be checked"
                      "[/bold yellow] (listed below): this is not a clean bill of health")
    elif warnings:
        console.print(f"[bold yellow]works, with {len(warnings)} warning(s)[/bold yellow]")
    else:
        console.print("[bold green]healthy[/bold green]: every check passed"
                      + (f" ({len(findings)} note(s))" if findings else ""))
    colours = {"error": "red", "warning": "yellow", "info": "blue"}
    for f in findings:
        colour = colours.get(f["severity"], "white")
        console.print(Text.assemble((f["severity"], colour), " ", (f["code"], "bold"), ": ", clean(f["message"])))
    if document.get("verify") is not None:
        console.print()
        render_verify_document(document["verify"])
    fixes = list(dict.fromkeys(f["fix"] for f in findings if f["fix"]))
    for fix in fixes:
        console.print("\nfix:")
        console.print(Text(clean(fix)), soft_wrap=True)
