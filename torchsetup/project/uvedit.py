"""The fleet's plan written the uv way (uv's PyTorch guide): `[[tool.uv.index]]` per variant with
`explicit = true`, `[tool.uv.sources]` routing torch/torchvision/torchaudio to them (by marker, or by
extra with `[tool.uv] conflicts`), and the family's requirements where the project keeps them."""

from __future__ import annotations

from typing import TYPE_CHECKING

from torchsetup.errors import UsageError
from torchsetup.kinds import FAMILY
from torchsetup.project.pyproject import family_requirements, requirement_name

if TYPE_CHECKING:
    from collections.abc import Sequence

    from tomlkit import TOMLDocument
    from tomlkit.items import Array, Table

    from torchsetup.project.classes import Fleet, MachineClass

INDEX_PREFIX = "pytorch-"  # the indexes torchsetup writes, and replaces on the next run
PAGE_PREFIX = INDEX_PREFIX + "pyg-"  # PyG's pages among them (flat indexes)


def requirements(cls: MachineClass, marker: str | None) -> list[str]:
    plan = cls.plan
    pins = [("torch", plan.torch), ("torchvision", plan.torchvision), ("torchaudio", plan.torchaudio)]
    suffix = f" ; {marker}" if marker else ""
    out = [f"{name}=={version}{suffix}" for name, version in pins if version]
    for package in plan.with_:  # --with: a pin from the index, a release asset by its address, or
        # a PyG package by name (its page, a flat index routed in [tool.uv.sources], holds its builds)
        direct = {"url": f"{package.name} @ {package.url}", "find-links": package.name}.get(
            package.source, f"{package.name}=={package.version}")
        out.append(direct + suffix)
    return out


def page_index_name(url: str) -> str:
    """PyG's page as a uv index name: ".../torch-2.12.0+cu130.html" -> "pytorch-pyg-torch-2.12.0-cu130"
    (uv takes letters, digits, '-', '_' and '.' in a name; the prefix marks the indexes torchsetup writes)."""
    page = url.rsplit("/", 1)[-1].removesuffix(".html").replace("+", "-")
    return PAGE_PREFIX + page


def routes_of(cls: MachineClass) -> dict[str, tuple[str, str, str | None]]:
    """{package: (index name, url, format)} for the class: the family's index (None: PyPI's own
    build) and, for PyG's packages, the page of its torch and variant as a flat index."""
    routes: dict[str, tuple[str, str, str | None]] = {}
    if cls.index_name and cls.plan.index_url:
        routes.update({name: (cls.index_name, cls.plan.index_url, None) for name in FAMILY
                       if getattr(cls.plan, name) is not None})
    for package in cls.plan.with_:
        if package.source == "find-links" and package.url:
            routes[package.name] = (page_index_name(package.url), package.url, "flat")
    return routes


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
    routed = any(routes_of(c) for c in fleet.classes) or fleet.mode == "extras"
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

    wanted = {name: (url, form) for c in fleet.classes for name, url, form in routes_of(c).values()}
    current = uv.get("index")
    kept = [entry for entry in (current or []) if not str(entry.get("name", "")).startswith(INDEX_PREFIX)]
    ours = [entry for entry in (current or []) if str(entry.get("name", "")).startswith(INDEX_PREFIX)]
    if [(e.get("name"), e.get("url"), e.get("format"), e.get("explicit")) for e in ours] == \
            [(name, url, form, True) for name, (url, form) in wanted.items()]:
        return
    entries = tomlkit.aot()
    for entry in kept:
        entries.append(entry)
    for name, (url, form) in wanted.items():
        table = tomlkit.table()
        table.update({"name": name, "url": url, **({"format": form} if form else {}), "explicit": True})
        entries.append(table)
    if "index" in uv:
        del uv["index"]
    if entries:
        uv["index"] = entries


def _write_sources(uv: Table, fleet: Fleet) -> None:
    import tomlkit

    sources = _table(uv, "sources")
    routed = [routes_of(cls) for cls in fleet.classes]
    stale = {str(name) for name, value in sources.items() if to_a_page(value)}  # PyG's, from an earlier run
    for name in dict.fromkeys([*FAMILY, *(n for r in routed for n in r), *sorted(stale)]):
        routes = []
        for cls, of_class in zip(fleet.classes, routed, strict=True):
            if name not in of_class:
                continue
            route = tomlkit.inline_table()
            route["index"] = of_class[name][0]
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


def to_a_page(value: object) -> bool:
    """Whether a [tool.uv.sources] value (`index = …`) or a Poetry dependency (`source = …`) routes to
    a PyG page torchsetup wrote."""
    items = value if isinstance(value, list) else [value]
    names = [str(item.get("index") or item.get("source") or "") for item in items if isinstance(item, dict)]
    return any(name.startswith(PAGE_PREFIX) for name in names)


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
