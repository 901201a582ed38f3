"""Renderers for people (rich). Imported only when output goes to a person."""

from __future__ import annotations

from typing import Any

from rich.console import Console
from rich.table import Table
from rich.text import Text

from torchsetup.matrix.store import Matrix, Release
from torchsetup.probe.model import Machine
from torchsetup.quoting import posix

console = Console()


def _dash(value: object) -> str:
    return "—" if value is None else str(value)


def render_machine(machine: Machine) -> None:
    o, p, nv, tk, inst = machine.os, machine.python, machine.nvidia, machine.cuda_toolkit, machine.installed
    top = Table.grid(padding=(0, 2))
    top.add_column(style="bold")
    top.add_column()
    if o is not None:
        flags = [name for name, on in (("WSL", o.wsl), ("container", o.container), ("Jetson", o.jetson)) if on]
        top.add_row("OS", f"{_dash(o.system)} {_dash(o.machine)}, {_dash(o.libc)}"
                    + (f" ({', '.join(flags)})" if flags else ""))
    if p is not None:
        top.add_row("Python", f"{_dash(p.version)}{' free-threaded' if p.free_threaded else ''}"
                    f"  {_dash(p.executable)}")
    if nv is not None:
        if nv.driver_version:
            top.add_row("NVIDIA driver", f"{nv.driver_version} (CUDA {_dash(nv.cuda_driver_version)})"
                        f"  via {nv.source}")
        else:
            top.add_row("NVIDIA driver", "[red]not found[/red]")
        if nv.error:
            top.add_row("", f"[yellow]{nv.error}[/yellow]")
    top.add_row("CUDA toolkit",
                f"{tk.version} ({_dash(tk.nvcc or tk.home)})" if tk else "none found")
    if inst is not None:
        top.add_row("Installed", f"torch {_dash(inst.torch)}, torchvision {_dash(inst.torchvision)}, "
                    f"torchaudio {_dash(inst.torchaudio)}")
    for name, build in (machine.builds or {}).items():
        if build is not None:
            what = build.variant or "build unknown"
            source = f"conda {build.conda_build}" if build.conda_build else _dash(build.installer)
            where = f"from {source}, {_dash(build.location)}"
            top.add_row(f"  {name}", Text(f"{_dash(build.version)}: {what} ({where})"))
    for problem in machine.install_problems or ():
        top.add_row("", Text(problem, style="red"))
    console.print(top)
    if nv is not None and nv.gpus:
        table = Table(title="GPUs", title_justify="left")
        for col in ("#", "name", "capability", "memory", "MIG", "UUID"):
            table.add_column(col)
        for g in nv.gpus:
            mem = f"{g.memory_total_mib} MiB" if g.memory_total_mib is not None else "—"
            mig = "—" if g.mig is None else ("on" if g.mig else "off")
            table.add_row(str(g.index), g.name, _dash(g.compute_capability), mem, mig, _dash(g.uuid))
        console.print(table)
    for warning in machine.warnings:
        console.print(f"[yellow]warning:[/yellow] {warning}")


def render_matrix(matrix: Matrix, releases: list[Release]) -> None:
    table = Table(title=f"{len(releases)} releases  ({matrix.path})",
                  title_justify="left")
    for col in ("torch", "torchvision", "torchaudio", "variants", "python (linux-x86_64)"):
        table.add_column(col)
    for r in releases:
        linux = r.wheels.get("linux-x86_64")
        py = f"{linux.python[0]}–{linux.python[-1]}" if linux and linux.python else "unknown"
        names = sorted({v.name for v in r.variants}) or ["unknown"]
        table.add_row(r.torch, _dash(r.torchvision), _dash(r.torchaudio), " ".join(names), py)
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
        self._progress.update(self._task, description=f"fetching {what}")

    def __exit__(self, *exc: object) -> None:
        self._progress.__exit__(None, None, None)


def render_resolution(res: object) -> None:
    plan = getattr(res, "plan", None)
    rejected = list(getattr(res, "rejected", ()))
    if plan is not None:
        console.print(f"[bold green]torch {plan.torch}[/bold green] ({plan.variant})"
                      f"  torchvision {_dash(plan.torchvision)}  torchaudio {_dash(plan.torchaudio)}")
        console.print(f"[bold]command:[/bold] {posix(plan.command)}", soft_wrap=True)
        for note in plan.notes:
            console.print(f"[yellow]note:[/yellow] {note}")
        near = [r for r in rejected if r.torch == plan.torch] or rejected[:6]
    else:
        near = rejected[:10]
    if near:
        table = Table(title="nearest alternatives and why they lost", title_justify="left")
        for col in ("torch", "variant", "reason"):
            table.add_column(col)
        for r in near[:10]:
            table.add_row(r.torch, r.variant, r.reason)
        console.print(table)


def render_install(outcome: object) -> None:
    action = getattr(outcome, "action", "")
    plan = getattr(outcome, "plan", None)
    what = f"torch {plan.torch} ({plan.variant})" if plan else "the plan"
    if action == "already-installed":
        console.print(f"[green]already installed:[/green] {what}; nothing to do")
    elif action == "installed":
        console.print(f"[green]installed[/green] {what}")
    elif action == "failed":
        console.print(f"[red]install failed:[/red] {getattr(outcome, 'error', '')}")
        for line in getattr(outcome, "restored", None) or ():
            console.print(f"  restored: {line}")
    verify = getattr(outcome, "verify", None)
    if verify:
        status = "[green]passed[/green]" if verify["ok"] else "[red]FAILED[/red]"
        console.print(f"smoke test {status}")


def render_verify(report: object) -> None:
    ok = getattr(report, "ok", False)
    console.print(("[bold green]OK[/bold green]" if ok else "[bold red]FAILED[/bold red]")
                  + f"  torch {_dash(getattr(report, 'torch', None))}, CUDA available: "
                  + ("yes" if getattr(report, "cuda_available", False)
                     else f"no ({_dash(getattr(report, 'reason', None))})"))
    table = Table()
    for col in ("check", "result", "seconds", "detail"):
        table.add_column(col)
    for check in getattr(report, "checks", []):
        table.add_row(check["name"], "[green]ok[/green]" if check["ok"] else "[red]fail[/red]",
                      f"{check['seconds']:.3f}", _dash(check["detail"]))
    for device in getattr(report, "devices", []):
        if device["error"]:
            table.add_row(f"cuda:{device['index']} arch", "[red]fail[/red]", "", device["error"])
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
        console.print(f"[{colour}]{f['severity']}[/{colour}] [bold]{f['code']}[/bold]: {f['message']}")
    fixes = {f["fix"] for f in findings if f["fix"]}
    for fix in fixes:
        console.print("\nfix:")
        console.print(fix, soft_wrap=True, markup=False, highlight=False)
