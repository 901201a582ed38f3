"""The doctor's findings about torch's neighbours: an installed package whose requirement on the
torch family is not met (`dependent-unsatisfied`), and a compiled extension built for another torch
minor, CUDA major or C++ ABI than the installed torch (`extension-torch-mismatch`). Pure."""

from __future__ import annotations

from typing import TYPE_CHECKING

from torchsetup.dependents import BuiltFor, Dependent, requirements_of, satisfied, torchao_needs
from torchsetup.doctor_findings import Finding, not_checked
from torchsetup.kinds import Severity

if TYPE_CHECKING:
    from torchsetup.probe.model import Machine

UNDEFINED = "expect `undefined symbol` at import"


def neighbour_findings(machine: Machine) -> list[Finding]:
    """Findings about the neighbours the probe found (`machine.dependents`, not None)."""
    installed = machine.installed
    torch = installed.torch if installed else None
    out: list[Finding] = []
    for dependent in machine.dependents or ():
        out += _unsatisfied(dependent, machine)
        if torch is not None:
            out += _built_for_another(dependent, machine, torch)
    return out


def _unsatisfied(dependent: Dependent, machine: Machine) -> list[Finding]:
    out = []
    who = f"{dependent.name} {dependent.version or ''}".strip()
    for requirement in requirements_of(dependent):
        package = requirement.name.lower()
        have = getattr(machine.installed, package, None) if machine.installed else None
        if have is None:
            out.append(Finding(Severity.ERROR, "dependent-unsatisfied",
                               f"{who} requires {requirement}, and {package} is not installed: it will fail"))
        elif not satisfied(requirement, have):
            out.append(Finding(Severity.ERROR, "dependent-unsatisfied",
                               f"{who} requires {requirement}; {package} {have} is installed: it will fail or "
                               "misbehave"))
    return out


def _torch_abi(machine: Machine, torch: str) -> bool | None:
    """The C++ ABI of the installed torch: PyPI's and the PyTorch index's wheels use the C++11 ABI
    from 2.7 (data/sources/torch-dependents.md); a conda or source build is not known here."""
    own = (machine.builds or {}).get("torch")
    if own is None or own.installer not in ("pip", "uv") or own.source_build or own.conda_build:
        return None
    return _minor(torch) >= (2, 7)


def _minor(version: str) -> tuple[int, ...]:
    parts = version.split("+")[0].split(".")[:2]
    return tuple(int(p) for p in parts if p.isdigit())


def _built_for_another(dependent: Dependent, machine: Machine, torch: str) -> list[Finding]:
    who = f"{dependent.name} {dependent.version or ''}".strip()
    own = (machine.builds or {}).get("torch")
    torch_cuda = own.cuda if own is not None else None
    needs = torchao_needs(dependent)
    if needs is not None:
        if _minor(torch) < _minor(needs):
            return [Finding(Severity.ERROR, "extension-torch-mismatch",
                            f"{who} loads its compiled kernels only with torch {needs} or later; torch {torch} is "
                            "installed: expect 'Skipping import of cpp extensions' and its slow fallbacks")]
        return []
    built = dependent.built_for
    if built is None:
        exact = any(str(r.specifier).startswith("==") and r.name.lower() == "torch"
                    for r in requirements_of(dependent))
        if dependent.compiled and not exact:
            return [not_checked(f"whether the compiled {who} matches torch {torch}: its files do not say which "
                                "torch it was built for")]
        return []
    abi = _torch_abi(machine, torch)
    problems = _differences(built, torch, torch_cuda, abi)
    if not problems:
        return []
    wanted = [f"torch {_minor_text(torch)}"]
    if torch_cuda and built.cuda:
        wanted.append(f"CUDA {torch_cuda.split('.')[0]}")
    if built.cxx11abi is not None and abi is not None:
        wanted.append(f"C++11 ABI {'TRUE' if abi else 'FALSE'}")
    return [Finding(Severity.ERROR, "extension-torch-mismatch",
                    f"{who} was built for {'; '.join(problems)}: {UNDEFINED}; it needs a build for "
                    f"{', '.join(wanted)}")]


def _minor_text(version: str) -> str:
    return ".".join(version.split("+")[0].split(".")[:2])


def _differences(built: BuiltFor, torch: str, torch_cuda: str | None, abi: bool | None) -> list[str]:
    out = []
    if built.torch and built.torch != _minor_text(torch):
        out.append(f"torch {built.torch} (torch {torch} is installed)")
    if built.cuda and torch_cuda:
        same = torch_cuda.split(".")[0] == built.cuda.split(".")[0] if "." not in built.cuda \
            else torch_cuda == built.cuda
        if not same:
            out.append(f"CUDA {built.cuda} (the installed torch has CUDA {torch_cuda})")
    elif built.cuda and own_is_cpu(torch_cuda, torch):
        out.append(f"CUDA {built.cuda} (the installed torch is a CPU build)")
    if built.cxx11abi is not None and abi is not None and built.cxx11abi != abi:
        out.append(f"the {'C++11' if built.cxx11abi else 'pre-C++11'} ABI (the installed torch uses the "
                   f"{'C++11' if abi else 'pre-C++11'} ABI)")
    return out


def own_is_cpu(torch_cuda: str | None, torch: str) -> bool:
    return torch_cuda is None and torch.endswith("+cpu")
