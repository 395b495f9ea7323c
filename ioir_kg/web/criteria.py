"""Filtering the network (``/network?level=…&theatre=…``): the criteria a request names, and the part of the
network that matches them (:mod:`ioir_kg.web.network`)."""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass

from ioir_kg.sparql.competency import resolve_iri
from ioir_kg.web.network import EDGE_KINDS, Edge, Network, is_within

# -- filtering -----------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Criteria:
    """Which part of the network to show.

    ``level`` and ``resource_type`` (concept IRIs) only make sense for dependencies: choosing one shows dependencies
    alone. ``theatre`` keeps relations located there; ``start``/``end`` keep relations whose period overlaps the
    years (undated ones too when ``undated``); ``focus`` keeps the relations of one entity and of its units.
    """

    kinds: frozenset[str] = frozenset(EDGE_KINDS)
    level: str | None = None
    resource_type: str | None = None
    theatre: str | None = None
    start: int | None = None
    end: int | None = None
    undated: bool = True
    focus: str | None = None


def criteria_from(params: Mapping[str, str | list[str]], id_base: str) -> Criteria:
    """Criteria from URL parameters (``kind`` repeated; ``level``, ``resource``, ``theatre`` and ``focus`` as
    ``kind/slug`` or IRIs; ``from``/``to`` years; ``undated=0`` to drop undated relations). Unusable values are
    ignored: the form only offers valid ones."""

    def one(name: str) -> str | None:
        value = params.get(name)
        if isinstance(value, list):
            value = value[0] if value else None
        value = (value or "").strip()
        return value or None

    def iri(name: str) -> str | None:
        value = one(name)
        return resolve_iri(value, id_base) if value else None

    def year(name: str) -> int | None:
        value = one(name)
        return int(value) if value and re.fullmatch(r"-?\d{1,4}", value) else None

    raw_kinds = params.get("kind", [])
    kinds = frozenset(k for k in ([raw_kinds] if isinstance(raw_kinds, str) else raw_kinds) if k in EDGE_KINDS)
    return Criteria(
        kinds=kinds or frozenset(EDGE_KINDS),
        level=iri("level"),
        resource_type=iri("resource"),
        theatre=iri("theatre"),
        start=year("from"),
        end=year("to"),
        undated=one("undated") not in ("0", "false", "no"),
        focus=iri("focus"),
    )


def _keep(edge: Edge, c: Criteria, focus: set[str]) -> bool:
    if edge.kind not in c.kinds:
        return False
    if (c.level or c.resource_type) and edge.kind != "dependency":
        return False
    if c.level and (edge.level is None or edge.level.iri != c.level):
        return False
    if c.resource_type and all(r.iri != c.resource_type for r in edge.resource_types):
        return False
    if c.theatre and all(t.iri != c.theatre for t in edge.theatres):
        return False
    if (c.start is not None or c.end is not None) and not _in_period(edge, c):
        return False
    if focus:
        return edge.source in focus or edge.target in focus or any(ctx in focus for ctx in edge.contexts)
    return True


def _in_period(edge: Edge, c: Criteria) -> bool:
    """Whether the edge's years overlap the criteria's (an ongoing relation runs on; undated ones as asked)."""
    if edge.start is None and edge.end is None:
        return c.undated
    first = edge.start if edge.start is not None else edge.end
    last = edge.end if edge.end is not None else first
    if edge.kind in ("dependency", "liaison", "launch") and edge.end is None:
        last = 10_000  # ongoing since its start
    assert first is not None
    assert last is not None
    return not ((c.end is not None and first > c.end) or (c.start is not None and last < c.start))


def focus_set(net: Network, focus: str) -> set[str]:
    """The focus entity and its units, transitively."""
    members = {focus}
    for unit in net.units:
        if is_within(unit, focus, net.units):
            members.add(unit)
    return members


def filter_network(net: Network, criteria: Criteria) -> Network:
    """The edges matching ``criteria`` and the nodes they touch (the focus entity always)."""
    focus = focus_set(net, criteria.focus) if criteria.focus else set()
    edges = [e for e in net.edges if _keep(e, criteria, focus)]
    if focus:
        # contexts bring in edges between other organizations: show the mission or instrument they run through
        shown = {n for e in edges for n in (e.source, e.target)}
        edges += [
            e
            for e in net.edges
            if e.kind == "unit"
            and e.source in shown
            and e.target in shown
            and e not in edges
            and "unit" in criteria.kinds
        ]
    ids = {n for e in edges for n in (e.source, e.target)}
    if criteria.focus and criteria.focus in net.nodes:
        ids.add(criteria.focus)
    nodes = {iri: node for iri, node in net.nodes.items() if iri in ids}
    return Network(nodes, edges, {u: p for u, p in net.units.items() if u in ids})


def describe_criteria(criteria: Criteria, net: Network) -> list[str]:
    """The active filters in words, for the page's summary."""
    facets = net.facets()
    names = {r.iri: r.label for refs in facets.values() for r in refs}
    parts: list[str] = []
    if criteria.level:
        parts.append(f"level: {names.get(criteria.level, criteria.level)}")
    if criteria.resource_type:
        parts.append(f"resource type: {names.get(criteria.resource_type, criteria.resource_type)}")
    if criteria.theatre:
        parts.append(f"theatre: {names.get(criteria.theatre, criteria.theatre)}")
    if criteria.start is not None or criteria.end is not None:
        first = "…" if criteria.start is None else str(criteria.start)
        span = f"{first}–{'…' if criteria.end is None else criteria.end}"
        parts.append(f"period: {span}" + ("" if criteria.undated else ", dated relations only"))
    if criteria.kinds != frozenset(EDGE_KINDS):
        parts.append("relations: " + ", ".join(k for k in EDGE_KINDS if k in criteria.kinds))
    return parts
