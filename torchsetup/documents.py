"""Every JSON document torchsetup writes, built in one place that mirrors the outside contract
(contract.md: other tools read these; keys are never renamed or dropped without a new schema id).

Each builder takes the typed result of its stage; the schema ids are the constants below. Fields
torchsetup adds beyond the contract are marked `# added`. Imports only for type checking, so any
command can build its document without loading another stage.
"""

from __future__ import annotations

from dataclasses import fields
from typing import TYPE_CHECKING, Any

from torchsetup.schemas import DOCTOR, INSTALL, MATRIX, MATRIX_UPDATE, PROBE, PROJECT, RESOLVE, VERIFY
from torchsetup.urlgate import mask

if TYPE_CHECKING:
    from torchsetup.doctor_findings import Finding
    from torchsetup.install import InstallResult
    from torchsetup.matrix.store import Matrix, Release
    from torchsetup.matrix.update import UpdateResult
    from torchsetup.plan import Plan, Resolution
    from torchsetup.probe.model import Machine
    from torchsetup.project.outcome import ProjectOutcome
    from torchsetup.verify import VerifyReport

__all__ = ["PROBE", "PROJECT", "RESOLVE", "INSTALL", "DOCTOR", "VERIFY", "MATRIX", "MATRIX_UPDATE",
           "INSTALL_ACTIONS"]

INSTALL_ACTIONS = ("dry-run", "installed", "already-installed", "declined", "failed")  # kinds.InstallAction


def _fields(obj: object) -> dict[str, Any]:
    return {f.name: getattr(obj, f.name) for f in fields(obj)}  # type: ignore[arg-type]


def probe_document(machine: Machine) -> dict[str, Any]:
    """A key the machine does not know (a recorded document without it) stays out: missing = unknown."""
    doc: dict[str, Any] = {"schema": PROBE}
    if machine.os is not None:
        doc["os"] = _fields(machine.os)
    if machine.python is not None:
        doc["python"] = _fields(machine.python)
    if machine.nvidia is not None:
        nv = machine.nvidia
        doc["nvidia"] = {"driver_version": nv.driver_version, "cuda_driver_version": nv.cuda_driver_version,
                         "source": nv.source, "gpus": [_fields(g) for g in nv.gpus], "error": nv.error}
        if nv.pci_gpus is not None:
            doc["nvidia"]["pci_gpus"] = nv.pci_gpus  # added
    doc["cuda_toolkit"] = _fields(machine.cuda_toolkit) if machine.cuda_toolkit else None
    if machine.installed is not None:
        doc["installed"] = _fields(machine.installed)
    if machine.builds is not None:
        doc["builds"] = {name: _fields(b) if b is not None else None for name, b in machine.builds.items()}
    if machine.install_problems is not None:
        doc["install_problems"] = list(machine.install_problems)
    if machine.dependents is not None:
        doc["dependents"] = [
            {"name": d.name, "version": d.version, "requires": list(d.requires), "compiled": d.compiled,
             "built_for": _fields(d.built_for) if d.built_for is not None else None} for d in machine.dependents]
    if machine.amd is not None:
        doc["amd"] = {**_fields(machine.amd), "gpus": [_fields(g) for g in machine.amd.gpus]}
    if machine.intel is not None:
        doc["intel"] = {**_fields(machine.intel), "gpus": [_fields(g) for g in machine.intel.gpus]}
    doc["warnings"] = list(machine.warnings)
    return doc


def plan_document(plan: Plan) -> dict[str, Any]:
    """Credentials in an index address are masked here (`https://***@host`); the real argv keeps them."""
    return {"torch": plan.torch, "torchvision": plan.torchvision, "torchaudio": plan.torchaudio,
            "variant": plan.variant, "index_url": mask(plan.index_url) if plan.index_url else None,
            "command": [mask(word) for word in plan.command], "notes": [mask(note) for note in plan.notes],
            "held_by": [{"name": h.name, "version": h.version, "requires": h.requires} for h in plan.held_by],
            "with": [{"name": w.name, "version": w.version, "source": w.source, "url": w.url} for w in plan.with_]}


def resolve_document(res: Resolution) -> dict[str, Any]:
    return {"schema": RESOLVE, "ok": res.ok, "plan": plan_document(res.plan) if res.plan is not None else None,
            "rejected": [{"torch": r.torch, "variant": r.variant, "reason": r.reason} for r in res.rejected],
            "error": res.error}


def project_document(outcome: ProjectOutcome | None, error: str | None = None,
                     file: str | None = None, tool: str | None = None) -> dict[str, Any]:
    """`outcome` None: no plan (a machine fits no build, or the project cannot take the plan): `error` says why."""
    if outcome is None:
        return {"schema": PROJECT, "ok": False, "file": file, "tool": tool, "classes": [], "changed": False,
                "diff": "", "error": error, "written": False}
    classes = [{"name": c.name, "machines": list(c.machines), "marker": c.marker, "extra": c.extra,
                "platform": c.platform,  # added
                "plan": plan_document(c.plan)} for c in outcome.fleet.classes]
    return {"schema": PROJECT, "ok": True, "file": str(outcome.file), "tool": outcome.tool, "classes": classes,
            "changed": outcome.changed, "diff": outcome.diff, "error": None,
            "written": outcome.written,  # added: --write replaced the file
            "notes": list(outcome.fleet.notes)}  # added


def install_document(result: InstallResult | None, error: str | None = None) -> dict[str, Any]:
    """`result` None: nothing was planned (a no-fit), action `failed` with `error`."""
    if result is None:
        return {"schema": INSTALL, "ok": False, "action": "failed", "plan": None, "restored": None,
                "not_restored": None, "recovered": [], "verify": None, "error": error}
    return {"schema": INSTALL, "ok": result.ok, "action": result.action, "plan": plan_document(result.plan),
            "restored": list(result.restored) if result.restored is not None else None,
            "not_restored": list(result.not_restored) if result.not_restored is not None else None,
            "recovered": list(result.recovered),  # added: a backup found from a killed run, and what became of it
            "verify": verify_document(result.verify) if result.verify is not None else None, "error": result.error}


def verify_document(report: VerifyReport) -> dict[str, Any]:
    return {"schema": VERIFY, "ok": report.ok, "torch": report.torch, "cuda_available": report.cuda_available,
            "cuda_unavailable_reason": report.reason, "cuda": report.cuda, "hip": report.hip,  # added
            "devices": report.devices, "checks": report.checks}


def doctor_document(machine: Machine, findings: list[Finding], verify: dict[str, Any] | None = None
                    ) -> dict[str, Any]:
    """ok: no error finding, and the smoke test (when run) passed."""
    errors = any(f.severity == "error" for f in findings)  # Severity.ERROR, compared as its value
    ok = not errors and (verify is None or bool(verify["ok"]))
    document: dict[str, Any] = {
        "schema": DOCTOR, "ok": ok, "probe": probe_document(machine),
        "findings": [{"severity": f.severity, "code": f.code, "message": f.message, "fix": f.fix}
                     for f in findings]}
    if verify is not None:
        document["verify"] = verify  # added: with --verify
    return document


def matrix_document(matrix: Matrix, releases: list[Release]) -> dict[str, Any]:
    return {
        "schema": MATRIX,
        "matrix": matrix.path,
        "generated_at": matrix.generated_at,
        "releases": [
            {"torch": r.torch, "torchvision": r.torchvision, "torchaudio": r.torchaudio,
             "torchaudio_note": r.torchaudio_note, "source": r.source, "unknown": list(r.unknown),
             "variants": [{"name": v.name, "platforms": list(v.platforms), "index_url": v.index_url,
                           "form": v.form, "source": v.source} for v in r.variants],
             "python": {k: list(w.python) for k, w in r.wheels.items()}}
            for r in releases],
    }


def matrix_update_document(result: UpdateResult) -> dict[str, Any]:
    return {"schema": MATRIX_UPDATE, "output": result.output, "releases": result.releases,
            "added": list(result.added), "lost": list(result.lost), "newest": result.newest,
            "learned": [{"torch": x.torch, "platform": x.platform, "build": x.build, "requests": x.requests,
                         "bytes": x.bytes_read, "wheel_size": x.wheel_size} for x in result.learned],
            "left_for_next_run": list(result.left_for_next_run)}
