"""verify: run the smoke script in the target interpreter, survive its crashes and hangs."""

from __future__ import annotations

import json
import subprocess
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from torchsetup.errors import EnvironmentUnusable

VERIFY_SCHEMA = "torchsetup.verify/1"
SMOKE_SCRIPT = Path(__file__).with_name("smoke_script.py")


@dataclass
class VerifyReport:
    torch: str | None = None
    cuda_available: bool = False
    reason: str | None = None  # why CUDA is not available
    cuda: str | None = None
    devices: list[dict[str, Any]] = field(default_factory=list)
    checks: list[dict[str, Any]] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return bool(self.checks) and all(c["ok"] for c in self.checks) and all(
            d["ok"] for d in self.devices)


def run_verify(python: str, timeout: float = 120.0, script: Path = SMOKE_SCRIPT) -> VerifyReport:
    if not Path(python).exists():
        raise EnvironmentUnusable(f"target interpreter not found: {python}",
                                  "Pass --python with the path of a working Python interpreter.")
    report = VerifyReport()
    started: dict[str, float] = {}
    lines: list[str] = []
    try:
        child = subprocess.Popen([python, "-u", str(script)], stdout=subprocess.PIPE,
                                 stderr=subprocess.PIPE, text=True)
    except OSError as exc:
        raise EnvironmentUnusable(f"cannot run {python}: {exc.strerror}",
                                  "Pass --python with a working interpreter.") from exc
    stderr: list[str] = []
    reader = threading.Thread(target=lambda: lines.extend(iter(child.stdout.readline, "")),  # type: ignore[union-attr]
                              daemon=True)
    err_reader = threading.Thread(target=lambda: stderr.append(child.stderr.read()),  # type: ignore[union-attr]
                                  daemon=True)
    reader.start()
    err_reader.start()
    hung = False
    try:
        child.wait(timeout=timeout)
    except subprocess.TimeoutExpired:
        child.kill()
        child.wait()
        hung = True
    reader.join(5)
    err_reader.join(5)
    done = False
    pending: str | None = None
    for line in lines:
        try:
            event = json.loads(line)
        except ValueError:
            continue
        kind = event.get("event")
        if kind == "start":
            pending = event["check"]
            started[pending] = time.monotonic()
        elif kind == "check":
            pending = None
            report.checks.append({k: event[k] for k in ("name", "ok", "detail", "seconds")})
        elif kind == "info":
            report.torch, report.cuda = event.get("torch"), event.get("cuda")
            report.cuda_available, report.reason = bool(event.get("cuda_available")), event.get("reason")
        elif kind == "device":
            report.devices.append({"index": event["index"], "name": event["name"],
                                   "capability": event["capability"], "ok": event["error"] is None,
                                   "error": event["error"]})
        elif kind == "done":
            done = True
    if not done:
        tail = (stderr[0].strip().splitlines() or [""])[-1] if stderr else ""
        if hung:
            why = f"hung: killed after {timeout:g} s"
        else:
            why = f"the smoke process died (exit {child.returncode})" + (f": {tail}" if tail else "")
        began = started.get(pending or "", time.monotonic())
        report.checks.append({"name": pending or "smoke test", "ok": False, "detail": why,
                              "seconds": round(time.monotonic() - began, 3)})
    return report


def verify_document(report: VerifyReport) -> dict[str, Any]:
    return {"schema": VERIFY_SCHEMA, "ok": report.ok, "torch": report.torch,
            "cuda_available": report.cuda_available, "cuda_unavailable_reason": report.reason,
            "cuda": report.cuda, "devices": report.devices, "checks": report.checks}
