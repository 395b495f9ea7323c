"""What the pages show, read from the store with SPARQL: counts, search suggestions and the assertion form's
choices (the network: :mod:`ioir_kg.web.network`, its filters: :mod:`ioir_kg.web.criteria`)."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from pyoxigraph import NamedNode, QuerySolutions

from ioir_kg.config import Settings
from ioir_kg.linked_data.views import fallback_label, href_for
from ioir_kg.namespaces import IOIR, parse_entity_iri
from ioir_kg.sparql.competency import CompetencyQuery, Param, choices, expand_curie, run_competency
from ioir_kg.store.base import KnowledgeStore
from ioir_kg.web.network import select_rows

# -- counts -------------------------------------------------------------------------------------------------------

#: What the home page counts: (key, label, class), each instance counted once.
COUNTED: tuple[tuple[str, str, str], ...] = (
    ("organizations", "international organizations", "ioir:InternationalOrganization"),
    ("states", "states", "ioir:State"),
    ("bodies", "bodies and units", "org:OrganizationalUnit"),
    ("missions", "missions and operations", "ioir:Mission"),
    ("mandates", "mandates", "ioir:Mandate"),
    ("instruments", "cooperation instruments", "ioir:CooperationInstrument"),
    ("dependencies", "resource dependencies", "ioir:ResourceDependency"),
    ("evidence", "verbatim quotes", "ioir:Evidence"),
    ("sources", "source documents", "ioir:SourceDocument"),
)


@dataclass(frozen=True)
class Count:
    """One figure of the home page."""

    key: str
    label: str
    value: int


def counts(store: KnowledgeStore) -> list[Count]:
    """How many entities of each :data:`COUNTED` class the graph holds (one query)."""
    values = " ".join(f'("{key}" {cls})' for key, _, cls in COUNTED)
    query = f"""SELECT ?what (COUNT(DISTINCT ?x) AS ?n) WHERE {{
  VALUES (?what ?cls) {{ {values} }}
  ?x a/rdfs:subClassOf* ?cls .
}} GROUP BY ?what"""
    found = {row["what"]: int(row["n"]) for row in select_rows(store, query)}
    return [Count(key, label, found.get(key, 0)) for key, label, _ in COUNTED]


def labels_of(store: KnowledgeStore, iris: Iterable[str]) -> dict[str, str]:
    """The English ``skos:prefLabel`` of each IRI that has one (one query)."""
    wanted = sorted({i for i in iris if i.startswith(("http://", "https://"))})
    if not wanted:
        return {}
    values = " ".join(str(NamedNode(i)) for i in wanted)
    query = f"""SELECT ?n ?label WHERE {{ VALUES ?n {{ {values} }} ?n skos:prefLabel ?label
  FILTER(langMatches(lang(?label), "en") || lang(?label) = "") }}"""
    return {row["n"]: row["label"] for row in select_rows(store, query)}


# -- search suggestions ------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Suggestion:
    """An entity whose name or acronym contains the text typed."""

    iri: str
    href: str | None
    label: str
    type_label: str
    alt_labels: str
    exact: bool

    def to_json(self) -> dict[str, Any]:
        """The suggestion as JSON."""
        return {
            "iri": self.iri,
            "href": self.href,
            "label": self.label,
            "typeLabel": self.type_label,
            "altLabels": self.alt_labels,
            "exact": self.exact,
        }


def search(
    query: CompetencyQuery, text: str, store: KnowledgeStore, settings: Settings, *, limit: int = 10
) -> list[Suggestion]:
    """Entities matching ``text`` by name or acronym (the ``search`` competency query), exact matches first."""
    result = run_competency(query, {"text": text}, store, settings.id_base)
    assert isinstance(result, QuerySolutions)
    out: list[Suggestion] = []
    seen: set[str] = set()
    for row in result:
        entity = row["entity"]
        if not isinstance(entity, NamedNode) or entity.value in seen:
            continue
        seen.add(entity.value)
        label, type_label, alts, match = (row[v] for v in ("label", "typeLabel", "altLabels", "match"))
        out.append(
            Suggestion(
                iri=entity.value,
                href=href_for(entity.value, settings)[0],
                label=label.value if label is not None else fallback_label(entity.value, settings),
                type_label=type_label.value if type_label is not None else "",
                alt_labels=alts.value if alts is not None else "",
                exact=match is not None and match.value == "0",
            )
        )
        if len(out) >= limit:
            break
    return out


# -- the assertion form ------------------------------------------------------------------------------------------


def _choices_of(store: KnowledgeStore, settings: Settings, kind: str, target: str) -> list[tuple[str, str]]:
    """``(kind/slug or IRI, label)`` pairs of the entities of a class (``kind="iri"``) or concepts of a scheme."""
    if kind == "iri":
        param = Param("x", "iri", "x", cls=expand_curie(target))
    else:
        param = Param("x", "concept", "x", scheme=target)
    out = []
    for choice in choices(store, param, settings.id_base):
        parsed = parse_entity_iri(settings.base_uri, choice.iri)
        acronyms = sorted(a for a in choice.alt_labels if len(a) <= 12 and a != choice.label)
        label = f"{choice.label} ({acronyms[0]})" if acronyms else choice.label
        out.append((f"{parsed[0]}/{parsed[1]}" if parsed else choice.iri, label))
    return out


_INSTRUMENT_TYPES = """SELECT ?c ?label WHERE {
  ?c rdfs:subClassOf+ ioir:CooperationInstrument ; rdfs:label ?label . FILTER(STRSTARTS(STR(?c), STR(ioir:)))
} ORDER BY LCASE(STR(?label))"""


@dataclass(frozen=True)
class AssertionForm:
    """The choices of the guided assertion form, read from the graph, as ``(value, label)`` pairs."""

    organizations: list[tuple[str, str]]
    missions: list[tuple[str, str]]
    places: list[tuple[str, str]]
    levels: list[tuple[str, str]]
    resource_types: list[tuple[str, str]]
    instrument_types: list[tuple[str, str]]
    sources: list[tuple[str, str]]


def assertion_choices(store: KnowledgeStore, settings: Settings) -> AssertionForm:
    """The choices of the guided assertion form: organizations, missions, places, levels, resource types,
    instrument types and source documents."""
    missions = _choices_of(store, settings, "iri", "ioir:Mission")
    mission_keys = {key for key, _ in missions}
    organizations = [c for c in _choices_of(store, settings, "iri", "org:Organization") if c[0] not in mission_keys]
    types = [(row["c"].removeprefix(IOIR), row["label"]) for row in select_rows(store, _INSTRUMENT_TYPES)]
    return AssertionForm(
        organizations=organizations,
        missions=missions,
        places=_choices_of(store, settings, "iri", "ioir:Place"),
        levels=_choices_of(store, settings, "concept", "scheme/dependency-levels"),
        resource_types=_choices_of(store, settings, "concept", "scheme/resource-types"),
        instrument_types=[t for t in types if t[0] not in ("DocumentInstrument", "CooperationPractice")],
        sources=_choices_of(store, settings, "iri", "ioir:SourceDocument"),
    )
