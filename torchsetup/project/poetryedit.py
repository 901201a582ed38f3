"""The fleet's plan written the Poetry way: `[[tool.poetry.source]]` with `priority = "explicit"` per
variant (and per PyG page: Poetry reads a single-page link source), torch/torchvision/torchaudio and
PyG's packages bound to their source, --with packages pinned (a release asset by its url), with
markers where classes differ by platform. Poetry has no conflicting extras, so classes on one
platform cannot share one lock."""

from __future__ import annotations

from typing import TYPE_CHECKING

from torchsetup.errors import NoFitError
from torchsetup.kinds import FAMILY
from torchsetup.project.uvedit import (
    INDEX_PREFIX,
    fleet_requirements,
    managed_names,
    replace_family,
    routes_of,
    to_a_page,
)

if TYPE_CHECKING:
    from tomlkit import TOMLDocument
    from tomlkit.items import InlineTable, Table

    from torchsetup.project.classes import Fleet, MachineClass


def write_poetry(doc: TOMLDocument, fleet: Fleet) -> None:
    import tomlkit

    if fleet.mode == "extras":
        same = sorted({c.platform for c in fleet.classes if c.extra})
        raise NoFitError(f"these machines need different builds on one platform ({', '.join(same)}: "
                         f"{', '.join(c.name for c in fleet.classes)}); Poetry cannot lock mutually exclusive "
                         "builds of torch in one project",
                         "Plan each class into its own project (one --probe-file folder per class), or use uv "
                         "(extras with conflicts).")
    poetry = doc["tool"]["poetry"]
    pep621 = "dependencies" in doc.get("project", {})
    if pep621:  # Poetry 2 with [project]: the requirements there, the sources bound in tool.poetry
        replace_family(doc["project"]["dependencies"], fleet_requirements(fleet), managed_names(fleet))
    if "dependencies" not in poetry:
        poetry["dependencies"] = tomlkit.table()
    deps = poetry["dependencies"]
    routed = [routes_of(cls) for cls in fleet.classes]
    written = [w.name for c in fleet.classes for w in c.plan.with_]
    stale = [str(name) for name, value in deps.items() if to_a_page(value)]  # a PyG page from an earlier run
    for name in dict.fromkeys([*FAMILY, *written, *stale]):
        constraints = []
        for cls, of_class in zip(fleet.classes, routed, strict=True):
            entry = _constraint(cls, name, of_class, pep621)
            if entry is not None and entry:
                constraints.append(entry)
        if not constraints:
            if name in deps and (name in FAMILY or name in stale):
                del deps[name]
            continue
        value: object = constraints[0] if len(constraints) > 1 or constraints[0].keys() - {"version"} \
            else constraints[0]["version"]
        if len(constraints) > 1:
            array = tomlkit.array()
            array.extend(constraints)
            array.multiline(True)
            value = array
        deps[name] = value
    _write_sources(poetry, fleet)


def _constraint(cls: MachineClass, name: str, routes: dict[str, tuple[str, str, str | None]],
                pep621: bool) -> InlineTable | None:
    """The class's constraint on `name` in [tool.poetry.dependencies] (None: the class has no such
    package): its version (or a release asset's url) unless [project] holds the requirement, its
    source, and the class's marker."""
    import tomlkit

    package = next((w for w in cls.plan.with_ if w.name == name), None)
    version = getattr(cls.plan, name) if name in FAMILY else package.version if package else None
    if version is None:
        return None
    entry = tomlkit.inline_table()
    if not pep621:
        if package is not None and package.source == "url":
            entry["url"] = package.url
        else:
            entry["version"] = "*" if package is not None and package.source == "find-links" else version
    if name in routes:
        entry["source"] = routes[name][0]
    if cls.marker:
        entry["markers"] = cls.marker
    return entry


def _write_sources(poetry: Table, fleet: Fleet) -> None:
    import tomlkit

    wanted = {name: url for c in fleet.classes for name, url, _form in routes_of(c).values()}
    current = poetry.get("source") or []
    kept = [s for s in current if not str(s.get("name", "")).startswith(INDEX_PREFIX)]
    entries = tomlkit.aot()
    for entry in kept:
        entries.append(entry)
    for at, (name, url) in enumerate(wanted.items(), 1):
        table = tomlkit.table()
        table.update({"name": name, "url": url, "priority": "explicit"})
        if at == len(wanted):
            table.add(tomlkit.nl())  # a blank line before whatever table follows
        entries.append(table)
    if "source" in poetry:
        del poetry["source"]
    if entries:
        poetry["source"] = entries
