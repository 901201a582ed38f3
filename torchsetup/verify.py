"""verify: run the smoke script in the target interpreter, survive its crashes and hangs.

The child runs in a process group of its own; on a timeout the whole group is killed and waited
for with a bound, so a wedged GPU (a child stuck in the driver) cannot hang torchsetup.
"""

from __future__ import annotations

import json
import math
import signal
import subprocess
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from torchsetup import children
from torchsetup.children import KILL_GRACE
from torchsetup.errors import EnvironmentUnusable, Stopped, UsageError
from torchsetup.stopping import Interrupted, raise_interrupted, signals

if TYPE_CHECKING:
    from torchsetup.dependents import Dependent
    from torchsetup.probe.model import Machine

SMOKE_SCRIPT = Path(__file__).with_name("smoke_script.py")


@dataclass
class VerifyReport:
    """What the smoke test found: per check and per device."""

    torch: str | None = None
    cuda_available: bool = False
    reason: str | None = None  # why CUDA is not available
    cuda: str | None = None
    hip: str | None = None
    devices: list[dict[str, Any]] = field(default_factory=list)
    checks: list[dict[str, Any]] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return bool(self.checks) and all(c["ok"] for c in self.checks) and all(
            d["ok"] for d in self.devices)


def check_timeout(timeout: float) -> float:
    if not math.isfinite(timeout) or timeout <= 0:
        raise UsageError(f"--timeout must be a positive number of seconds, not {timeout:g}",
                         "Use e.g. --timeout 300.")
    return timeout


def expected_gpus(machine: Machine) -> tuple[str, ...]:
    """The GPU kinds a machine has, as the probe found them without torch: a CUDA build that
    cannot use them fails the smoke test instead of passing on the CPU."""
    from torchsetup.probe.pci import gpu_kinds

    kinds = list(gpu_kinds())
    nv = machine.nvidia
    if nv is not None and (nv.gpus or nv.pci_gpus) and "nvidia" not in kinds:
        kinds.insert(0, "nvidia")
    if machine.amd is not None and machine.amd.gpus and "amd" not in kinds:
        kinds.append("amd")
    if machine.intel is not None and any(g.driver in ("xe", "i915", "windows") for g in machine.intel.gpus):
        from torchsetup.probe.intel import family_of

        if any(family_of(g.device_id) for g in machine.intel.gpus):
            kinds.append("intel")
    return tuple(kinds)


def census_kinds() -> tuple[str, ...]:
    """This machine's GPU kinds from the census `probe` makes (NVML, nvidia-smi, the kernel's files,
    PCI, device nodes), without the interpreter child: `verify` alone expects what `probe` finds."""
    import os

    from torchsetup.probe.machine import probe_nvidia, probe_other_vendors, probe_timeout
    from torchsetup.probe.model import Machine
    from torchsetup.probe.system import read_os

    os_info = read_os()
    nvidia, _ = probe_nvidia(os_info, timeout=probe_timeout(os.environ))
    amd, intel = probe_other_vendors(os_info, os.environ, Path("/"))
    return expected_gpus(Machine(os=os_info, nvidia=nvidia, amd=amd, intel=intel))


def run_verify(python: str, timeout: float = 120.0, script: Path = SMOKE_SCRIPT,
               expect: tuple[str, ...] = ()) -> VerifyReport:
    check_timeout(timeout)
    if not Path(python).exists():
        raise EnvironmentUnusable(f"target interpreter not found: {python}",
                                  "Pass --python with the path of a working Python interpreter.")
    argv = [python, "-u", str(script), *(["--expect", ",".join(expect)] if expect else [])]
    try:
        child = children.start(argv)
    except OSError as exc:
        raise EnvironmentUnusable(f"cannot run {python}: {exc.strerror}",
                                  "Pass --python with a working interpreter.") from exc
    lines: list[tuple[float, str]] = []  # (arrival time, line): a hung check's real elapsed time
    stderr: list[str] = []

    def read_out() -> None:
        for line in iter(child.stdout.readline, ""):  # type: ignore[union-attr]
            lines.append((time.monotonic(), line))

    reader = threading.Thread(target=read_out, daemon=True)
    err_reader = threading.Thread(target=lambda: stderr.append(child.stderr.read()),  # type: ignore[union-attr]
                                  daemon=True)
    reader.start()
    err_reader.start()
    hung = stuck = False
    try:
        with signals(raise_interrupted):
            child.wait(timeout=timeout)
    except subprocess.TimeoutExpired:
        hung = True
        stuck = not children.kill_group(child)
    except Interrupted as exc:  # Ctrl-C, SIGTERM, SIGHUP: the smoke test's whole group goes first
        with signals(signal.SIG_IGN):
            children.kill_group(child)
        raise Stopped(exc.signum, f"{exc.words}: the smoke test was stopped") from exc
    ended = time.monotonic()
    reader.join(2)
    err_reader.join(2)
    return _report(list(lines), stderr, child.returncode, hung, stuck, timeout, ended)


def _report(lines: list[tuple[float, str]], stderr: list[str], code: int | None, hung: bool, stuck: bool,
            timeout: float, ended: float) -> VerifyReport:
    report = VerifyReport()
    done = False
    pending: tuple[str, float] | None = None
    for arrived, line in lines:
        try:
            event = json.loads(line)
        except ValueError:
            continue
        kind = event.get("event")
        if kind == "start":
            pending = (event["check"], arrived)
        elif kind == "check":
            pending = None
            report.checks.append({k: event[k] for k in ("name", "ok", "detail", "seconds")})
        elif kind == "info":
            report.torch, report.cuda, report.hip = event.get("torch"), event.get("cuda"), event.get("hip")
            report.cuda_available, report.reason = bool(event.get("cuda_available")), event.get("reason")
        elif kind == "device":
            report.devices.append({"index": event["index"], "name": event["name"],
                                   "capability": event.get("capability"), "uuid": event.get("uuid"),
                                   "ok": event.get("error") is None, "error": event.get("error")})
        elif kind == "done":
            done = True
    if not done:
        tail = (stderr[0].strip().splitlines() or [""])[-1] if stderr else ""
        if hung:
            why = f"hung: killed after {timeout:g} s"
            if stuck:
                why += f"; the process did not exit within {KILL_GRACE:g} s more (stuck in the driver?)"
        else:
            why = f"the smoke process died (exit {code})" + (f": {tail}" if tail else "")
            if code == 0:
                why = "the smoke process stopped without a result (exit 0)" + (f": {tail}" if tail else "")
        name, began = pending if pending else ("smoke test", lines[0][0] if lines else ended)
        report.checks.append({"name": name, "ok": False, "detail": why, "seconds": round(ended - began, 3)})
    return report


_SAID = ("undefined symbol", "was built for PyTorch", "Skipping import of cpp extensions", "version mismatch")
# one tiny call where a package has one that needs no download, run after its import on a GPU
TINY_CALLS = {
    "xformers": ("import torch, xformers.ops as ops\n"
                 "if torch.cuda.is_available():\n"
                 "    q = torch.randn(1, 8, 2, 16, device='cuda', dtype=torch.float16)\n"
                 "    ops.memory_efficient_attention(q, q, q)\n"
                 "    print('memory_efficient_attention ran on cuda:0')\n"),
}


def import_dependents(python: str, dependents: tuple[Dependent, ...],
                      timeout: float = 120.0, named: frozenset[str] = frozenset()) -> list[dict[str, Any]]:
    """One check per compiled neighbour, and per package asked for with --with (`named`): its top-level
    modules imported in a child of their own, with their own time limit; a failure said in words (the
    `undefined symbol`, xformers' "built for PyTorch …", torchao's "Skipping import of cpp extensions")."""
    checks = []
    for dependent in dependents:
        modules = [m for m in dependent.modules if m.isidentifier()]
        wanted = dependent.compiled or dependent.name.replace("_", "-").lower() in named
        if not wanted or not modules:
            continue
        started = time.monotonic()
        code = "import importlib, sys\nfor name in sys.argv[1:]:\n    importlib.import_module(name)\n"
        tiny = TINY_CALLS.get(dependent.name.replace("_", "-").lower())
        if tiny and dependent.name.replace("_", "-").lower() in named:
            code += tiny
        try:
            proc = children.run([python, "-c", code, *modules], timeout)
            lines = [line.strip() for line in (proc.stderr + proc.stdout).splitlines() if line.strip()]
            warned = next((line for line in lines if any(k in line for k in _SAID)), None)
            ok = proc.returncode == 0 and warned is None
            ran = next((line for line in lines if line.endswith("ran on cuda:0")), None)
            detail = ran if ok else (warned or (lines or [f"exit {proc.returncode}"])[-1])
        except subprocess.TimeoutExpired:
            ok, detail = False, f"hung: killed after {timeout:g} s"
        checks.append({"name": f"import {dependent.name} ({', '.join(modules)})", "ok": ok,
                       "detail": detail[:500] if detail else None,
                       "seconds": round(time.monotonic() - started, 3)})
    return checks
