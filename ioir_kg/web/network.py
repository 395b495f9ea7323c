"""The inter-organizational network the ``/network`` page draws, read from the store with SPARQL.

The **network** has organizations (international organizations, states, bodies, NGOs) and missions as nodes, and
five kinds of edge, each computed by one query:

* ``dependency`` — a resource dependency, from the dependent to each provider, with its level, resource types,
  theatres and the period of its context (the mission or instrument it runs through);
* ``instrument`` — a cooperation instrument (declaration, memorandum, meeting …) between each pair of its parties
  (a pair where one party is a unit of the other is left out: the unit edge says it);
* ``liaison`` — a liaison arrangement, from the organization that sends the liaison post to the one hosting it
  (between its parties when the post is not described);
* ``mandate`` — from the body that issued a mandate to each mission it authorises;
* ``launch`` — from an organization to a mission it launched;

plus ``unit`` edges from a body or mission unit to its parent when both are shown. :func:`filter_network` keeps the
edges matching a :class:`Criteria` (level, resource type, theatre, period, kinds, or the neighbourhood of one
entity) and the nodes they touch.

>>> year_of("2003-01"), year_of("1999"), year_of("-0044"), year_of("n.d.")
(2003, 1999, -44, None)
"""

from __future__ import annotations

import re
import threading
import time
from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from pyoxigraph import Literal, NamedNode, QuerySolutions

from ioir_kg.config import Settings
from ioir_kg.linked_data.views import fallback_label, href_for
from ioir_kg.namespaces import IOIR, PREFIXES, RDF_TYPE, parse_entity_iri, sparql_prologue
from ioir_kg.sparql.competency import expand_curie
from ioir_kg.store.base import KnowledgeStore

#: Edge kinds in legend order, with their legend text.
EDGE_KINDS: dict[str, str] = {
    "dependency": "resource dependency (arrow: dependent → provider)",
    "instrument": "cooperation instrument between parties",
    "liaison": "liaison arrangement (arrow: sender → host)",
    "mandate": "mandate (arrow: issuing body → mission)",
    "launch": "launched the mission (arrow: organization → mission)",
    "unit": "unit of (arrow: unit → parent)",
}
#: Node kinds in legend order, with their legend text.
NODE_KINDS: dict[str, str] = {
    "io": "international organization",
    "state": "state",
    "body": "body or unit",
    "mission": "mission or operation",
    "ngo": "non-governmental organization",
    "other": "other actor",
}
#: The levels in the sources' order (macro, meso, micro); unknown levels follow.
LEVEL_ORDER = ("level-macro", "level-meso", "level-micro")
_YEAR = re.compile(r"^(-?\d{4})")
DCTERMS_DATE = PREFIXES["dcterms"] + "date"


def year_of(lexical: str | None) -> int | None:
    """The year of an ``xsd:date``, ``xsd:gYearMonth`` or ``xsd:gYear`` lexical form, else ``None``."""
    match = _YEAR.match(lexical or "")
    return int(match.group(1)) if match else None


def select_rows(
    store: KnowledgeStore, query: str, bindings: Mapping[str, NamedNode | Literal] | None = None
) -> list[dict[str, str]]:
    result = store.query(sparql_prologue() + query, bindings=bindings)
    assert isinstance(result, QuerySolutions)
    names = [v.value for v in result.variables]
    out = []
    for row in result:
        out.append({n: str(row[n].value) for n in names if row[n] is not None})
    return out


# -- the network ---------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Ref:
    """A concept or place an edge refers to: its IRI, its short key (``concept/level-meso``) and its label."""

    iri: str
    key: str
    label: str

    def to_json(self) -> dict[str, str]:
        """The reference as JSON."""
        return {"iri": self.iri, "key": self.key, "label": self.label}


@dataclass(frozen=True)
class Node:
    """An organization or mission of the network."""

    id: str
    label: str
    short: str
    kind: str
    href: str | None

    def to_json(self) -> dict[str, Any]:
        """The node as JSON (cytoscape's ``data``)."""
        return {"id": self.id, "label": self.label, "short": self.short, "kind": self.kind, "href": self.href}


@dataclass(frozen=True)
class Edge:
    """A relation between two nodes, with what the filters look at."""

    id: str
    source: str
    target: str
    kind: str
    rel: str
    label: str
    href: str | None
    type_label: str | None = None
    level: Ref | None = None
    resource_types: tuple[Ref, ...] = ()
    theatres: tuple[Ref, ...] = ()
    contexts: tuple[str, ...] = ()
    start: int | None = None
    end: int | None = None

    @property
    def period(self) -> str:
        """The years the relation spans, as shown (``2003``, ``2003–2008``, ``since 2013``, or empty)."""
        if self.start is None:
            return "" if self.end is None else f"until {self.end}"
        if self.end is None:
            return str(self.start) if self.kind in ("instrument", "mandate") else f"since {self.start}"
        return str(self.start) if self.start == self.end else f"{self.start}–{self.end}"

    def to_json(self) -> dict[str, Any]:
        """The edge as JSON (cytoscape's ``data``)."""
        return {
            "id": self.id,
            "source": self.source,
            "target": self.target,
            "kind": self.kind,
            "rel": self.rel,
            "label": self.label,
            "href": self.href,
            "typeLabel": self.type_label,
            "level": self.level.key.rpartition("/")[2] if self.level else None,
            "levelLabel": self.level.label if self.level else None,
            "resourceTypes": [r.label for r in self.resource_types],
            "theatres": [t.label for t in self.theatres],
            "start": self.start,
            "end": self.end,
            "period": self.period,
        }


@dataclass
class Network:
    """Nodes by IRI and the edges between them."""

    nodes: dict[str, Node]
    edges: list[Edge]
    units: dict[str, str] = field(default_factory=dict)  # unit IRI → parent IRI

    def facets(self) -> dict[str, list[Ref]]:
        """The levels, resource types and theatres the edges use, for the filter form."""
        levels: dict[str, Ref] = {}
        resources: dict[str, Ref] = {}
        theatres: dict[str, Ref] = {}
        for edge in self.edges:
            if edge.level:
                levels[edge.level.iri] = edge.level
            resources.update((r.iri, r) for r in edge.resource_types)
            theatres.update((t.iri, t) for t in edge.theatres)

        def level_rank(ref: Ref) -> tuple[int, str]:
            slug = ref.key.rpartition("/")[2]
            return (LEVEL_ORDER.index(slug) if slug in LEVEL_ORDER else len(LEVEL_ORDER), ref.label.casefold())

        return {
            "levels": sorted(levels.values(), key=level_rank),
            "resourceTypes": sorted(resources.values(), key=lambda r: r.label.casefold()),
            "theatres": sorted(theatres.values(), key=lambda r: r.label.casefold()),
        }

    def years(self) -> tuple[int, int] | None:
        """The first and last year any edge mentions."""
        years = [y for e in self.edges for y in (e.start, e.end) if y is not None]
        return (min(years), max(years)) if years else None

    def to_json(self) -> dict[str, Any]:
        """Nodes and edges as JSON, nodes sorted by label and edges by kind and label."""
        nodes = sorted(self.nodes.values(), key=lambda n: (n.label.casefold(), n.id))
        return {
            "nodes": [n.to_json() for n in nodes],
            "edges": [e.to_json() for e in self.edges],
        }


_ORGANIZATIONS = """SELECT ?n ?type WHERE {
  { SELECT DISTINCT ?type WHERE { ?type rdfs:subClassOf+ org:Organization } } ?n a ?type FILTER(isIRI(?n))
}"""
_LABELS = """SELECT ?n ?label WHERE { ?n skos:prefLabel ?label }"""
_ALT_LABELS = """SELECT ?n ?alt WHERE { ?n a/rdfs:subClassOf* org:Organization ; skos:altLabel ?alt }"""
_CLASSES = """SELECT ?c ?super ?label WHERE {
  ?c rdfs:subClassOf+ ?super FILTER(isIRI(?c) && isIRI(?super)) OPTIONAL { ?c rdfs:label ?label }
}"""
_UNITS = """SELECT ?unit ?parent WHERE { ?unit org:unitOf|org:subOrganizationOf ?parent . FILTER(isIRI(?parent)) }"""
# (Not a sub-select of the dependencies: Virtuoso 7.2 drops a row of that join.)
_DEPENDENCIES = """SELECT DISTINCT ?rel ?p ?o WHERE {
  ?rel a ioir:ResourceDependency .
  VALUES ?p { skos:prefLabel ioir:dependent ioir:provider ioir:dependencyLevel ioir:resourceType ioir:theatre
              ioir:context }
  ?rel ?p ?o
}"""
_CONTEXT_DATES = """SELECT ?rel ?p ?o WHERE {
  ?rel a ioir:ResourceDependency ; ioir:context ?ctx .
  VALUES ?p { ioir:startDate dcterms:date ioir:endDate } ?ctx ?p ?o
}"""
_INSTRUMENTS = """SELECT ?rel ?p ?o WHERE {
  { SELECT DISTINCT ?rel WHERE { ?rel a ?t . ?t rdfs:subClassOf* ioir:CooperationInstrument } }
  VALUES ?p { rdf:type skos:prefLabel ioir:party ioir:theatre dcterms:date ioir:startDate ioir:endDate } ?rel ?p ?o
}"""
_LIAISON_POSTS = (
    """SELECT ?rel ?sender ?host WHERE { ?rel ioir:liaisonPost ?post . ?post ioir:sentBy ?sender ; org:postIn ?host }"""
)
_MANDATES = """SELECT ?rel ?issuer ?mission ?date WHERE {
  ?rel ioir:issuedBy ?issuer . ?mission ioir:hasMandate|^ioir:authorizes ?rel . OPTIONAL { ?rel dcterms:date ?date }
}"""
_MISSIONS = """SELECT ?mission ?p ?o WHERE {
  { SELECT DISTINCT ?mission WHERE { ?mission a ?t . ?t rdfs:subClassOf* ioir:Mission } }
  VALUES ?p { ioir:launchedBy ioir:startDate ioir:endDate ioir:deployedIn } ?mission ?p ?o
}"""

_KIND_CLASSES = (
    ("io", "ioir:InternationalOrganization"),
    ("state", "ioir:State"),
    ("mission", "ioir:Mission"),
    ("ngo", "ioir:NonGovernmentalOrganization"),
    ("body", "org:OrganizationalUnit"),
)
#: How long a network read from a store without a write counter (the remote backend) is reused, in seconds.
REMOTE_CACHE_SECONDS = 30.0


def _short(label: str, alts: Sequence[str]) -> str:
    """The name shown on a node: the shortest acronym among the alternative labels, else the label."""
    acronyms = [a for a in alts if 2 <= len(a) <= 14 and " " not in a.strip() and sum(c.isupper() for c in a) >= 2]
    if acronyms:
        return min(acronyms, key=lambda a: (len(a), a))
    return label if len(label) <= 40 else label[:38].rstrip() + "…"


def _facts(rows: Iterable[dict[str, str]], key: str) -> dict[str, dict[str, list[str]]]:
    """``?rel ?p ?o`` rows as ``{rel: {p: [o, …]}}``."""
    out: dict[str, dict[str, list[str]]] = defaultdict(lambda: defaultdict(list))
    for row in rows:
        values = out[row[key]][row["p"]]
        if row["o"] not in values:
            values.append(row["o"])
    return out


class _Builder:
    """Collects edges between known nodes, merging the rows of one edge."""

    def __init__(self, settings: Settings, nodes: Mapping[str, Node], labels: Mapping[str, str]) -> None:
        self.settings = settings
        self.all_nodes = nodes
        self.labels = labels
        self.edges: dict[str, Edge] = {}

    def ref(self, iri: str) -> Ref:
        parsed = parse_entity_iri(self.settings.base_uri, iri)
        key = f"{parsed[0]}/{parsed[1]}" if parsed else iri
        return Ref(iri, key, self.labels.get(iri) or fallback_label(iri, self.settings))

    def refs(self, iris: Iterable[str]) -> tuple[Ref, ...]:
        return tuple(self.ref(i) for i in iris)

    def label(self, rel: str) -> str:
        return self.labels.get(rel) or fallback_label(rel, self.settings)

    def href(self, iri: str) -> str | None:
        return href_for(iri, self.settings)[0]

    def add(self, edge: Edge) -> None:
        if edge.source not in self.all_nodes or edge.target not in self.all_nodes or edge.source == edge.target:
            return
        self.edges.setdefault(edge.id, edge)


def _years(values: Iterable[str]) -> list[int]:
    return [y for y in (year_of(v) for v in values) if y is not None]


class NetworkCache:
    """The last network read from the store, reused until the store is written (one per app, on ``app.state``)."""

    def __init__(self) -> None:
        self._entry: tuple[int, object, float, Network] | None = None
        self._lock = threading.Lock()

    def network(self, store: KnowledgeStore, settings: Settings) -> Network:
        """The whole inter-organizational network of ``store``: from the cache while its write generation is the
        same (a store without one, the remote backend: for :data:`REMOTE_CACHE_SECONDS`)."""
        generation = getattr(store, "generation", None)
        now = time.monotonic()
        with self._lock:
            cached = self._entry
            if (
                cached is not None
                and cached[0] == id(store)
                and cached[1] == generation
                and (generation is not None or now - cached[2] < REMOTE_CACHE_SECONDS)
            ):
                return cached[3]
        built = read_network(store, settings)
        with self._lock:
            self._entry = (id(store), generation, now, built)  # one store per app: keep the newest only
        return built


def read_network(store: KnowledgeStore, settings: Settings) -> Network:
    """The whole inter-organizational network, read from the store (no cache: see :class:`NetworkCache`)."""
    supers: dict[str, set[str]] = defaultdict(set)
    class_labels: dict[str, str] = {}
    for row in select_rows(store, _CLASSES):
        supers[row["c"]].add(row["super"])
        if "label" in row:
            class_labels[row["c"]] = row["label"]
    labels = {row["n"]: row["label"] for row in select_rows(store, _LABELS)}
    alts: dict[str, list[str]] = defaultdict(list)
    for row in select_rows(store, _ALT_LABELS):
        alts[row["n"]].append(row["alt"])
    types: dict[str, set[str]] = defaultdict(set)
    for row in select_rows(store, _ORGANIZATIONS):
        types[row["n"]].add(row["type"])
    nodes: dict[str, Node] = {}
    for iri, its_types in types.items():
        closure = its_types | {s for t in its_types for s in supers.get(t, ())}
        kind = next((k for k, c in _KIND_CLASSES if expand_curie(c) in closure), "other")
        label = labels.get(iri) or fallback_label(iri, settings)
        nodes[iri] = Node(iri, label, _short(label, alts.get(iri, [])), kind, href_for(iri, settings)[0])
    units = {row["unit"]: row["parent"] for row in select_rows(store, _UNITS) if row["unit"] in nodes}
    build = _Builder(settings, nodes, labels)
    _dependencies(store, build)
    _instruments(store, build, units, supers, class_labels)
    _mandates_and_launches(store, build)
    present = {n for e in build.edges.values() for n in (e.source, e.target)}
    for unit, parent in units.items():
        if unit in present and parent in present:
            build.add(Edge(f"unit|{unit}|{parent}", unit, parent, "unit", unit, "unit of", nodes[unit].href))
    edges = sorted(build.edges.values(), key=lambda e: (list(EDGE_KINDS).index(e.kind), e.label.casefold(), e.id))
    return Network(nodes, edges, units)


def _dependencies(store: KnowledgeStore, build: _Builder) -> None:
    facts = _facts(select_rows(store, _DEPENDENCIES), "rel")
    context_dates = _facts(select_rows(store, _CONTEXT_DATES), "rel")
    for rel, f in facts.items():
        dates = context_dates.get(rel, {})
        starts = _years(dates.get(IOIR + "startDate", []) + dates.get(DCTERMS_DATE, []))
        ends = _years(dates.get(IOIR + "endDate", []))
        levels = f.get(IOIR + "dependencyLevel", [])
        for a in f.get(IOIR + "dependent", []):
            for b in f.get(IOIR + "provider", []):
                build.add(
                    Edge(
                        id=f"dependency|{rel}|{a}|{b}",
                        source=a,
                        target=b,
                        kind="dependency",
                        rel=rel,
                        label=build.label(rel),
                        href=build.href(rel),
                        level=build.ref(levels[0]) if levels else None,
                        resource_types=build.refs(f.get(IOIR + "resourceType", [])),
                        theatres=build.refs(f.get(IOIR + "theatre", [])),
                        contexts=tuple(f.get(IOIR + "context", [])),
                        start=min(starts, default=None),
                        end=max(ends, default=None),
                    )
                )


def _instruments(
    store: KnowledgeStore,
    build: _Builder,
    units: Mapping[str, str],
    supers: Mapping[str, set[str]],
    class_labels: Mapping[str, str],
) -> None:
    facts = _facts(select_rows(store, _INSTRUMENTS), "rel")
    posts: dict[str, list[tuple[str, str]]] = defaultdict(list)
    for row in select_rows(store, _LIAISON_POSTS):
        posts[row["rel"]].append((row["sender"], row["host"]))
    instrument, liaison_class = IOIR + "CooperationInstrument", IOIR + "LiaisonArrangement"
    for rel, f in facts.items():
        its_types = set(f.get(RDF_TYPE, []))
        closure = its_types | {s for t in its_types for s in supers.get(t, ())}
        specific = [
            t
            for t in its_types
            if instrument in supers.get(t, ())
            and not any(t in supers.get(other, ()) for other in its_types if other != t)
        ]
        kind = "liaison" if liaison_class in closure else "instrument"
        dates = _years(f.get(DCTERMS_DATE, []) + f.get(IOIR + "startDate", []))
        common: dict[str, Any] = {
            "rel": rel,
            "label": build.label(rel),
            "href": build.href(rel),
            "type_label": class_labels.get(sorted(specific)[0]) if specific else None,
            "theatres": build.refs(f.get(IOIR + "theatre", [])),
            "start": min(dates, default=None),
            "end": max(_years(f.get(IOIR + "endDate", [])), default=None),
        }
        if kind == "liaison" and posts.get(rel):
            for sender, host in sorted(set(posts[rel])):
                build.add(Edge(id=f"liaison|{rel}|{sender}|{host}", source=sender, target=host, kind=kind, **common))
            continue
        parties = sorted(p for p in set(f.get(IOIR + "party", [])) if p in build.all_nodes)
        for i, a in enumerate(parties):
            for b in parties[i + 1 :]:
                if not (is_within(a, b, units) or is_within(b, a, units)):
                    build.add(Edge(id=f"{kind}|{rel}|{a}|{b}", source=a, target=b, kind=kind, **common))


def is_within(unit: str, parent: str, units: Mapping[str, str]) -> bool:
    """Whether ``unit`` is (transitively) a unit of ``parent``."""
    seen: set[str] = set()
    current = units.get(unit)
    while current is not None and current not in seen:
        if current == parent:
            return True
        seen.add(current)
        current = units.get(current)
    return False


def _mandates_and_launches(store: KnowledgeStore, build: _Builder) -> None:
    missions = _facts(select_rows(store, _MISSIONS), "mission")
    for row in select_rows(store, _MANDATES):
        rel, issuer, mission = row["rel"], row["issuer"], row["mission"]
        year = year_of(row.get("date"))
        build.add(
            Edge(
                id=f"mandate|{rel}|{issuer}|{mission}",
                source=issuer,
                target=mission,
                kind="mandate",
                rel=rel,
                label=build.label(rel),
                href=build.href(rel),
                theatres=build.refs(missions.get(mission, {}).get(IOIR + "deployedIn", [])),
                start=year,
                end=year,
            )
        )
    for mission, f in missions.items():
        for org in f.get(IOIR + "launchedBy", []):
            build.add(
                Edge(
                    id=f"launch|{mission}|{org}",
                    source=org,
                    target=mission,
                    kind="launch",
                    rel=mission,
                    label=f"launched {build.label(mission)}",
                    href=build.href(mission),
                    theatres=build.refs(f.get(IOIR + "deployedIn", [])),
                    start=min(_years(f.get(IOIR + "startDate", [])), default=None),
                    end=max(_years(f.get(IOIR + "endDate", [])), default=None),
                )
            )
