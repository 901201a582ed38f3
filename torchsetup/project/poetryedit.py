"""The fleet's plan written the Poetry way: `[[tool.poetry.source]]` with `priority = "explicit"` per
variant, and torch/torchvision/torchaudio bound to their source (with markers where classes differ by
platform). Poetry has no conflicting extras, so classes on one platform cannot share one lock."""

from __future__ import annotations

from typing import TYPE_CHECKING

from torchsetup.errors import NoFitError
from torchsetup.project.pyproject import FAMILY
from torchsetup.project.uvedit import INDEX_PREFIX, fleet_requirements, replace_family

if TYPE_CHECKING:
    from tomlkit import TOMLDocument
    from tomlkit.items import Table

    from torchsetup.project.classes import Fleet


def write_poetry(doc: TOMLDocument, fleet: Fleet) -> None:
    import tomlkit

    if fleet.mode == "extras":
        same = sorted({c.platform for c in fleet.classes if c.extra})
        raise NoFitError(f"these machines need different builds on one platform ({', '.join(same)}: "
                         f"{', '.join(c.name for c in fleet.classes)}); Poetry cannot lock mutually exclusive "
                         "builds of torch in one project",
                         "Plan each class into its own project (one --probe-file folder per class), or use uv "
                         "(extras with conflicts).")
    if any(c.plan.with_ for c in fleet.classes):
        from torchsetup.errors import UsageError

        raise UsageError("--with is written into uv projects only so far, not Poetry's",
                         "Add the packages `torchsetup resolve --with …` plans to [tool.poetry.dependencies] "
                         "yourself.")
    poetry = doc["tool"]["poetry"]
    pep621 = "dependencies" in doc.get("project", {})
    if pep621:  # Poetry 2 with [project]: the requirement there, the source bound in tool.poetry
        replace_family(doc["project"]["dependencies"], fleet_requirements(fleet))
    if "dependencies" not in poetry:
        poetry["dependencies"] = tomlkit.table()
    deps = poetry["dependencies"]
    for name in FAMILY:
        constraints = []
        for cls in fleet.classes:
            version = getattr(cls.plan, name)
            if version is None:
                continue
            entry = tomlkit.inline_table()
            if not pep621:
                entry["version"] = version
            if cls.index_name:
                entry["source"] = cls.index_name
            if cls.marker:
                entry["markers"] = cls.marker
            if entry:
                constraints.append(entry)
        if not constraints:
            if name in deps:
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


def _write_sources(poetry: Table, fleet: Fleet) -> None:
    import tomlkit

    wanted = {c.index_name: c.plan.index_url for c in fleet.classes if c.index_name}
    current = poetry.get("source") or []
    kept = [s for s in current if not str(s.get("name", "")).startswith(INDEX_PREFIX)]
    entries = tomlkit.aot()
    for entry in kept:
        entries.append(entry)
    for name, url in wanted.items():
        table = tomlkit.table()
        table.update({"name": name, "url": url, "priority": "explicit"})
        table.add(tomlkit.nl())  # a blank line before whatever table follows
        entries.append(table)
    if "source" in poetry:
        del poetry["source"]
    if entries:
        poetry["source"] = entries
