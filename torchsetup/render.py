"""Renderers for people (rich). Imported only when output goes to a person."""

from __future__ import annotations

from rich.console import Console
from rich.table import Table

from torchsetup.matrix.store import Matrix, Release
from torchsetup.probe.model import Machine

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


def shell_line(argv: list[str] | tuple[str, ...]) -> str:
    import shlex

    return shlex.join(argv)


def render_resolution(res: object) -> None:
    plan = getattr(res, "plan", None)
    rejected = list(getattr(res, "rejected", ()))
    if plan is not None:
        console.print(f"[bold green]torch {plan.torch}[/bold green] ({plan.variant})"
                      f"  torchvision {_dash(plan.torchvision)}  torchaudio {_dash(plan.torchaudio)}")
        console.print(f"[bold]command:[/bold] {shell_line(plan.command)}", soft_wrap=True)
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
