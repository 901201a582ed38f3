"""The fleet's plan written the uv way (uv's PyTorch guide): `[[tool.uv.index]]` per variant with
`explicit = true`, `[tool.uv.sources]` routing torch/torchvision/torchaudio to them (by marker, or by
extra with `[tool.uv] conflicts`), and the family's requirements where the project keeps them."""

from __future__ import annotations

from typing import TYPE_CHECKING

from torchsetup.errors import UsageError
from torchsetup.project.pyproject import FAMILY, family_requirements, requirement_name

if TYPE_CHECKING:
    from collections.abc import Sequence

    from tomlkit import TOMLDocument
    from tomlkit.items import Array, Table

    from torchsetup.project.classes import Fleet, MachineClass

INDEX_PREFIX = "pytorch-"  # the indexes torchsetup writes, and replaces on the next run


def requirements(cls: MachineClass, marker: str | None) -> list[str]:
    plan = cls.plan
    pins = [("torch", plan.torch), ("torchvision", plan.torchvision), ("torchaudio", plan.torchaudio)]
    suffix = f" ; {marker}" if marker else ""
    out = [f"{name}=={version}{suffix}" for name, version in pins if version]
    for package in plan.with_:  # --with: a pin from the index, or the release asset by its address
        if package.source == "find-links":
            raise UsageError(f"--with {package.name}: PyG's find-links pages are not written into projects yet",
                             "Add the page to the project yourself (uv: an index with format = \"flat\").")
        direct = f"{package.name} @ {package.url}" if package.source == "url" else \
            f"{package.name}=={package.version}"
        out.append(direct + (f" ; {marker}" if marker else ""))
    return out


def managed_names(fleet: Fleet) -> set[str]:
    """The requirements `project` writes and replaces: the torch family and the --with packages."""
    return set(FAMILY) | {w.name for c in fleet.classes for w in c.plan.with_}


def fleet_requirements(fleet: Fleet) -> list[str]:
    """One set of pins when every class pins the same releases; one per class (with its marker) otherwise."""
    plain = [requirements(c, None) for c in fleet.classes]
    if all(p == plain[0] for p in plain):
        return plain[0]
    return [r for c in fleet.classes for r in requirements(c, c.marker)]


def write_uv(doc: TOMLDocument, fleet: Fleet, group: str | None) -> None:
    import tomlkit

    project = doc.get("project")
    if project is None:
        raise UsageError("pyproject.toml has no [project] table: uv needs one",
                         "Run `uv init --bare` in the project first.")
    optional = project.get("optional-dependencies")
    ours_before = _torch_only_extras(optional)
    if fleet.mode == "extras":
        for values in _dependency_lists(doc, group):
            replace_family(values, [], managed_names(fleet))
        if optional is None:
            optional = tomlkit.table()
            project["optional-dependencies"] = optional
        names = {c.extra for c in fleet.classes}
        for old in ours_before - names:
            del optional[old]
        for cls in fleet.classes:
            assert cls.extra is not None
            values = optional.get(cls.extra)
            if values is None:
                values = tomlkit.array()
                optional[cls.extra] = values
            replace_family(values, requirements(cls, None), managed_names(fleet))
    else:
        for old in ours_before:
            del optional[old]
        if optional is not None and not optional:
            del project["optional-dependencies"]
        replace_family(_target_list(doc, group), fleet_requirements(fleet), managed_names(fleet))
    routed = any(c.index_name for c in fleet.classes) or fleet.mode == "extras"
    if not routed and "uv" not in doc.get("tool", {}):
        return  # nothing to route, and no uv table to clean up
    # [tool.uv] appears as a header only when it holds a key of its own (conflicts)
    uv = _table(_table(doc, "tool", super_table=True), "uv", super_table=fleet.mode != "extras")
    _write_indexes(uv, fleet)
    _write_sources(uv, fleet)
    _write_conflicts(uv, fleet, ours_before)
    if not uv:
        del doc["tool"]["uv"]
        if not doc["tool"]:
            del doc["tool"]


def replace_family(values: Array, new: list[str], names: set[str] | None = None) -> None:
    """The family's (and `names`') requirements in `values` replaced by `new`, where the first stood."""
    names = names or set(FAMILY)
    positions = [i for i, v in enumerate(values) if isinstance(v, str) and requirement_name(v) in names]
    at = positions[0] if positions else len(values)
    for i in reversed(positions):
        del values[i]
    for offset, text in enumerate(new):
        values.insert(at + offset, text)


def _torch_only_extras(optional: Table | None) -> set[str]:
    """Extras that hold the torch family and nothing else: written by torchsetup (or the uv guide's way)."""
    if optional is None:
        return set()
    return {str(name) for name, values in optional.items()
            if isinstance(values, list) and values and len(family_requirements(values)) == len(values)}


def _dependency_lists(doc: TOMLDocument, group: str | None) -> list[Array]:
    project = doc["project"]
    lists = [project["dependencies"]] if "dependencies" in project else []
    if group and group in doc.get("dependency-groups", {}):
        lists.append(doc["dependency-groups"][group])
    return lists


def _target_list(doc: TOMLDocument, group: str | None) -> Array:
    import tomlkit

    if group:
        groups = _table(doc, "dependency-groups")
        if group not in groups:
            groups[group] = tomlkit.array()
        return groups[group]
    project = doc["project"]
    if "dependencies" not in project:
        project["dependencies"] = tomlkit.array()
    return project["dependencies"]


def _table(parent: TOMLDocument | Table, key: str, super_table: bool = False) -> Table:
    import tomlkit

    if key not in parent:
        parent[key] = tomlkit.table(is_super_table=super_table)
    return parent[key]


def _write_indexes(uv: Table, fleet: Fleet) -> None:
    import tomlkit

    wanted = {c.index_name: c.plan.index_url for c in fleet.classes if c.index_name}
    current = uv.get("index")
    kept = [entry for entry in (current or []) if not str(entry.get("name", "")).startswith(INDEX_PREFIX)]
    ours = [entry for entry in (current or []) if str(entry.get("name", "")).startswith(INDEX_PREFIX)]
    if [(e.get("name"), e.get("url"), e.get("explicit")) for e in ours] == \
            [(name, url, True) for name, url in wanted.items()]:
        return
    entries = tomlkit.aot()
    for entry in kept:
        entries.append(entry)
    for name, url in wanted.items():
        table = tomlkit.table()
        table.update({"name": name, "url": url, "explicit": True})
        entries.append(table)
    if "index" in uv:
        del uv["index"]
    if entries:
        uv["index"] = entries


def _write_sources(uv: Table, fleet: Fleet) -> None:
    import tomlkit

    sources = _table(uv, "sources")
    for name in FAMILY:
        routes = []
        for cls in fleet.classes:
            if cls.index_name is None or getattr(cls.plan, name) is None:
                continue
            route = tomlkit.inline_table()
            route["index"] = cls.index_name
            if cls.extra:
                route["extra"] = cls.extra
            elif cls.marker:
                route["marker"] = cls.marker
            routes.append(route)
        if not routes:
            if name in sources:
                del sources[name]
            continue
        value: object = routes[0] if len(routes) == 1 else _multiline(routes)
        if sources.get(name) != (routes[0] if len(routes) == 1 else routes):
            sources[name] = value
    if not sources:
        del uv["sources"]


def _multiline(items: Sequence[object]) -> Array:
    import tomlkit

    array = tomlkit.array()
    array.extend(items)
    array.multiline(True)
    return array


def _write_conflicts(uv: Table, fleet: Fleet, ours_before: set[str]) -> None:
    ours = {c.extra for c in fleet.classes if c.extra} | ours_before
    current = uv.get("conflicts") or []
    kept = [group for group in current if not any(item.get("extra") in ours for item in group)]
    wanted = []
    if fleet.mode == "extras":
        import tomlkit

        group = tomlkit.array()
        for cls in fleet.classes:
            item = tomlkit.inline_table()
            item["extra"] = cls.extra
            group.append(item)
        wanted = [group]
    if [list(map(dict, g)) for g in current] == [list(map(dict, g)) for g in kept + wanted]:
        return
    if "conflicts" in uv:
        del uv["conflicts"]
    if kept or wanted:
        uv["conflicts"] = _multiline([*kept, *wanted])
