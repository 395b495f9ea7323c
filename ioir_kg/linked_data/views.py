"""HTML pages for people: an entity's description turned into labelled, grouped, linked sections.

Templates live in ``ioir_kg/web/templates`` and are rendered by one jinja2 environment with autoescaping
on, so labels, quotes and IRIs from the data are always escaped. Links go to this server for entities
(``/id/{kind}/{slug}``) and ontology terms (``/ontology#Term``); other IRIs link out only when they are
``http(s)``, so no data value can become a ``javascript:`` link.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Any

import jinja2
from pyoxigraph import BlankNode, Literal, NamedNode, Triple

from ioir_kg import __version__
from ioir_kg.config import Settings
from ioir_kg.linked_data.rdf import PAGE_FORMATS, alternate_url, compact_iri
from ioir_kg.linked_data.resource import Description
from ioir_kg.namespaces import IOIR, ONTOLOGY_IRI, PREFIXES, RDF_TYPE, parse_entity_iri
from ioir_kg.sparql.negotiation import Format
from ioir_kg.store.base import KnowledgeStore
from ioir_kg.store.explanation import Explainer, show_triple

TEMPLATES_DIR = Path(__file__).resolve().parent.parent / "web" / "templates"
STATIC_DIR = Path(__file__).resolve().parent.parent / "web" / "static"

RDFS_LABEL = PREFIXES["rdfs"] + "label"
SKOS = PREFIXES["skos"]
PREF_LABEL = SKOS + "prefLabel"
ALT_LABEL = SKOS + "altLabel"
DEFINITION = SKOS + "definition"
DESCRIPTION = PREFIXES["dcterms"] + "description"
EVIDENCE = IOIR + "evidence"
LOCATOR = IOIR + "locator"
PROV_VALUE = PREFIXES["prov"] + "value"
SOURCE = PREFIXES["dcterms"] + "source"
TITLE = PREFIXES["dcterms"] + "title"
IDENTIFIER = PREFIXES["dcterms"] + "identifier"
SAME_AS = PREFIXES["owl"] + "sameAs"
EXACT_MATCH = SKOS + "exactMatch"
CLOSE_MATCH = SKOS + "closeMatch"
#: Identity links to other datasets, and whether the project verifies them (ARCHITECTURE.md, "Linked Data"):
#: a verified link is one of the linkset (data/links/) with a record naming at least two corroborating sources.
EXTERNAL_LINKS: Mapping[str, bool] = {SAME_AS: True, EXACT_MATCH: True, CLOSE_MATCH: False}
LINK_SUBJECT = PREFIXES["dcterms"] + "subject"
LINK_TARGET = PREFIXES["dcterms"] + "references"
DERIVED_FROM = PREFIXES["prov"] + "wasDerivedFrom"
DATE = PREFIXES["dcterms"] + "date"
COMMENT = PREFIXES["rdfs"] + "comment"
WIKIDATA_ENTITY = "http://www.wikidata.org/entity/"
#: Entity kinds whose page shows their neighbourhood in the network view (``/network?focus=kind/slug``, framed).
NETWORK_KINDS = frozenset({"org", "state", "body", "mission"})
#: Shown in the page header rather than among the properties.
_HEADER_PREDICATES = frozenset({RDF_TYPE, RDFS_LABEL, PREF_LABEL, ALT_LABEL, DEFINITION, EVIDENCE})


@lru_cache(maxsize=1)
def environment() -> jinja2.Environment:
    """The jinja2 environment of the site's templates (autoescaping everything, undefined names fail)."""
    env = jinja2.Environment(
        loader=jinja2.FileSystemLoader(TEMPLATES_DIR),
        autoescape=True,
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.globals["version"] = __version__
    return env


def render(template: str, **context: Any) -> str:
    """Render one template of ``web/templates`` with ``context``."""
    return environment().get_template(template).render(**context)


# -- the view model ---------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Link:
    """A resource as shown: its label, its IRI, and where a click goes (``None``: not a safe link)."""

    iri: str
    label: str
    href: str | None
    local: bool


@dataclass(frozen=True)
class Value:
    """One value of a property: a resource or a literal (with its language or datatype)."""

    text: str
    link: Link | None = None
    lang: str | None = None
    datatype: str | None = None


@dataclass
class Group:
    """The values of one property, under the property's label."""

    predicate: Link
    values: list[Value] = field(default_factory=list)


@dataclass(frozen=True)
class EvidenceItem:
    """A quote supporting the entity, with its source and where in the source it is."""

    node: Link
    quote: str | None
    source: Link | None
    source_file: str | None
    locator: str | None


@dataclass(frozen=True)
class ExternalLink:
    """An identity link to another dataset, with the record of its corroboration when the linkset has one."""

    predicate: Link
    target: Link
    verified: bool
    #: The name(s) the corroborating sources give the target.
    target_label: str | None = None
    #: The link's record (``/id/link/…``), its sources, the date of corroboration and the rule applied.
    record: Link | None = None
    sources: tuple[Link, ...] = ()
    date: str | None = None
    rule: str | None = None


@dataclass(frozen=True)
class Alternate:
    """Another representation of the page."""

    label: str
    media_type: str
    href: str


@dataclass
class EntityPage:
    """Everything ``entity.html`` shows."""

    iri: str
    label: str
    kind: str | None
    alt_labels: list[str]
    definitions: list[str]
    types: list[Link]
    properties: list[Group]
    incoming: list[Group]
    evidence: list[EvidenceItem]
    external: list[ExternalLink]
    alternates: list[Alternate]
    #: The page's network view (``/network?focus=kind/slug&embed=1``) for organizations and missions.
    network: str | None = None
    #: The entity's inferred statements (from ``{base}graph/inferred``), each with its rule and premises.
    inferred: list[InferredItem] = field(default_factory=list)


@dataclass(frozen=True)
class InferredItem:
    """One inferred statement about the entity: property, value, the rules used and the asserted premises."""

    predicate: Link
    value: Value
    rules: list[str]
    premises: list[str]


class Labels:
    """Labels of the resources a description mentions: ``skos:prefLabel``, then ``rdfs:label``; English first."""

    def __init__(self, triples: Iterable[Triple]) -> None:
        self._best: dict[str, tuple[int, str]] = {}
        for t in triples:
            if isinstance(t.object, Literal) and t.predicate.value in (PREF_LABEL, RDFS_LABEL):
                lang = t.object.language
                rank = (0 if t.predicate.value == PREF_LABEL else 1) + (0 if lang in (None, "en") else 2)
                key = _key(t.subject)
                if key not in self._best or rank < self._best[key][0]:
                    self._best[key] = (rank, t.object.value)

    def get(self, iri: str) -> str | None:
        """The best label of ``iri``, if the description has one."""
        best = self._best.get(iri)
        return best[1] if best else None


def _key(term: object) -> str:
    if isinstance(term, NamedNode):
        return term.value
    if isinstance(term, BlankNode):
        return f"_:{term.value}"
    return str(term)


def href_for(iri: str, settings: Settings) -> tuple[str | None, bool]:
    """Where a link to ``iri`` goes, and whether it stays on this server.

    >>> s = Settings()
    >>> href_for("https://w3id.org/ioir/id/org/nato", s), href_for("https://w3id.org/ioir/ontology#Mission", s)
    (('/id/org/nato', True), ('/ontology#Mission', True))
    >>> href_for("http://www.wikidata.org/entity/Q7184", s), href_for("javascript:alert(1)", s)
    (('http://www.wikidata.org/entity/Q7184', False), (None, False))
    """
    parsed = parse_entity_iri(settings.base_uri, iri)
    if parsed is not None:
        return f"/id/{parsed[0]}/{parsed[1]}", True
    if iri.startswith(IOIR) and len(iri) > len(IOIR):
        return f"/ontology#{iri[len(IOIR) :]}", True
    if iri == ONTOLOGY_IRI:
        return "/ontology", True
    if iri.startswith(("http://", "https://")):
        return iri, False
    return None, False


def link_for(term: NamedNode | BlankNode, labels: Labels, settings: Settings) -> Link:
    """A :class:`Link` for a resource: its label, else a CURIE or the IRI's path under the base."""
    if isinstance(term, BlankNode):
        return Link(f"_:{term.value}", labels.get(f"_:{term.value}") or "(anonymous resource)", None, False)
    iri = term.value
    href, local = href_for(iri, settings)
    label = labels.get(iri) or fallback_label(iri, settings)
    return Link(iri, label, href, local)


def fallback_label(iri: str, settings: Settings) -> str:
    """A readable name for an unlabelled IRI: ``kind/slug`` under the base, a CURIE, or the IRI.

    >>> fallback_label("https://w3id.org/ioir/id/evidence/s001-x", Settings()), fallback_label(RDF_TYPE, Settings())
    ('evidence/s001-x', 'rdf:type')
    """
    if iri.startswith(settings.id_base):
        return iri[len(settings.id_base) :]
    return compact_iri(iri, PREFIXES) or iri


def _value(term: object, labels: Labels, settings: Settings) -> Value:
    if isinstance(term, Literal):
        datatype = term.datatype.value
        if term.language or datatype == PREFIXES["xsd"] + "string":
            return Value(term.value, lang=term.language)
        return Value(term.value, datatype=compact_iri(datatype, PREFIXES) or datatype)
    if isinstance(term, NamedNode | BlankNode):
        link = link_for(term, labels, settings)
        return Value(link.label, link=link)
    return Value(str(term))


def _groups(pairs: Iterable[tuple[NamedNode, Value]], labels: Labels, settings: Settings) -> list[Group]:
    groups: dict[str, Group] = {}
    for predicate, value in pairs:
        group = groups.setdefault(predicate.value, Group(link_for(predicate, labels, settings)))
        if value not in group.values:
            group.values.append(value)
    for group in groups.values():
        group.values.sort(key=lambda v: (v.text.casefold(), v.link.iri if v.link else ""))
    return sorted(groups.values(), key=lambda g: g.predicate.label.casefold())


def entity_page(description: Description, settings: Settings, path: str) -> EntityPage:
    """The view model of an entity's page."""
    triples = description.triples
    labels = Labels(triples)
    me = NamedNode(description.iri)
    own = [t for t in triples if t.subject == me]
    literals: dict[str, list[str]] = defaultdict(list)
    for t in own:
        if isinstance(t.object, Literal) and t.predicate.value in (ALT_LABEL, DEFINITION):
            literals[t.predicate.value].append(t.object.value)
    types = sorted(
        (
            link_for(t.object, labels, settings)
            for t in own
            if t.predicate.value == RDF_TYPE and isinstance(t.object, NamedNode | BlankNode)
        ),
        key=lambda link: link.label.casefold(),
    )
    properties = _groups(
        (
            (t.predicate, _value(t.object, labels, settings))
            for t in own
            if t.predicate.value not in _HEADER_PREDICATES and t.predicate.value not in EXTERNAL_LINKS
        ),
        labels,
        settings,
    )
    external = [
        _external_link(t.predicate, t.object, triples, me, labels, settings)
        for t in own
        if t.predicate.value in EXTERNAL_LINKS and isinstance(t.object, NamedNode)
    ]
    external.sort(key=lambda e: (not e.verified, e.target.iri))
    records = {e.record.iri for e in external if e.record}
    incoming = _groups(
        (
            (t.predicate, _value(t.subject, labels, settings))
            for t in triples
            if t.object == me and t.subject != me and _key(t.subject) not in records
        ),
        labels,
        settings,
    )
    parsed = parse_entity_iri(settings.base_uri, description.iri)
    return EntityPage(
        iri=description.iri,
        label=labels.get(description.iri) or fallback_label(description.iri, settings),
        kind=(parse_entity_iri(settings.base_uri, description.iri) or (None,))[0],
        alt_labels=sorted(set(literals[ALT_LABEL]), key=str.casefold),
        definitions=literals[DEFINITION],
        types=types,
        properties=properties,
        incoming=incoming,
        evidence=evidence_items(triples, me, labels, settings),
        external=external,
        alternates=alternates(path, PAGE_FORMATS),
        network=f"/network?focus={parsed[0]}/{parsed[1]}" if parsed and parsed[0] in NETWORK_KINDS else None,
    )


def _is_node(term: object) -> bool:
    return isinstance(term, NamedNode | BlankNode)


def _external_link(
    predicate: NamedNode,
    target: NamedNode,
    triples: Sequence[Triple],
    me: NamedNode,
    labels: Labels,
    settings: Settings,
) -> ExternalLink:
    """The link ``me predicate target`` with the record the linkset keeps of it (sources, date, rule), if any."""
    facts: dict[str, dict[str, list[object]]] = defaultdict(lambda: defaultdict(list))
    for t in triples:
        facts[_key(t.subject)][t.predicate.value].append(t.object)
    record = next(
        (
            subject
            for subject, values in sorted(facts.items())
            if me in values.get(LINK_SUBJECT, []) and target in values.get(LINK_TARGET, [])
        ),
        None,
    )
    verified = EXTERNAL_LINKS[predicate.value]
    if record is None:
        return ExternalLink(link_for(predicate, labels, settings), _external(target), False, labels.get(target.value))
    values = facts[record]
    sources = tuple(
        Link(s.value, _source_name(s.value), *href_for(s.value, settings))
        for s in sorted(values.get(DERIVED_FROM, []), key=str)
        if isinstance(s, NamedNode)
    )
    return ExternalLink(
        link_for(predicate, labels, settings),
        _external(target),
        verified and len(sources) >= 2,
        labels.get(target.value),
        link_for(NamedNode(record), labels, settings),
        sources,
        _first_literal(values.get(DATE, [])),
        _first_literal(values.get(COMMENT, [])),
    )


def _source_name(iri: str) -> str:
    """A short name for a corroborating source: ``owner/repository`` for a GitHub file, else the host.

    >>> _source_name("https://github.com/owid/owid-grapher/blob/abc/file.ts"), _source_name("https://example.org/x")
    ('owid/owid-grapher', 'example.org')
    """
    parts = iri.split("/")
    if len(parts) > 4 and parts[2] == "github.com":
        return f"{parts[3]}/{parts[4]}"
    return parts[2] if len(parts) > 2 else iri


def _external(term: NamedNode) -> Link:
    iri = term.value
    label = f"Wikidata {iri[len(WIKIDATA_ENTITY) :]}" if iri.startswith(WIKIDATA_ENTITY) else iri
    href = iri if iri.startswith(("http://", "https://")) else None
    return Link(iri, label, href, False)


def evidence_items(triples: Sequence[Triple], me: NamedNode, labels: Labels, settings: Settings) -> list[EvidenceItem]:
    """The entity's evidence: each node's quote, source (label and file name) and locator."""
    by_subject: dict[str, dict[str, list[object]]] = defaultdict(lambda: defaultdict(list))
    for t in triples:
        by_subject[_key(t.subject)][t.predicate.value].append(t.object)
    items: list[EvidenceItem] = []
    for t in triples:
        if t.subject != me or t.predicate.value != EVIDENCE or not _is_node(t.object):
            continue
        node = by_subject.get(_key(t.object), {})
        sources = [s for s in node.get(SOURCE, []) if isinstance(s, NamedNode)]
        source = sources[0] if sources else None
        source_facts = by_subject.get(source.value, {}) if source else {}
        items.append(
            EvidenceItem(
                node=link_for(t.object, labels, settings),  # type: ignore[arg-type]
                quote=_first_literal(node.get(PROV_VALUE, [])),
                source=link_for(source, labels, settings) if source else None,
                source_file=_first_literal(source_facts.get(IDENTIFIER, [])),
                locator=_first_literal(node.get(LOCATOR, [])),
            )
        )
    items.sort(key=lambda e: (e.source.label if e.source else "", e.quote or ""))
    return list(dict.fromkeys(items))


def _first_literal(values: Sequence[object]) -> str | None:
    literals = sorted(v.value for v in values if isinstance(v, Literal))
    return literals[0] if literals else None


def alternates(path: str, offers: Sequence[Format]) -> list[Alternate]:
    """The page's other representations, for the ``<link rel="alternate">`` elements and the format links."""
    names = {"text/turtle": "Turtle", "application/ld+json": "JSON-LD", "application/n-triples": "N-Triples"}
    names |= {"application/rdf+xml": "RDF/XML", "text/html": "HTML"}
    return [Alternate(names.get(f.media_type, f.media_type), f.media_type, alternate_url(path, f)) for f in offers]


def render_entity(description: Description, settings: Settings, path: str, store: KnowledgeStore | None = None) -> str:
    """The HTML page of an entity (with its inferred statements, explained, when ``store`` is given)."""
    page = entity_page(description, settings, path)
    if store is not None:
        page.inferred = inferred_items(store, settings, description)
    return render("entity.html", page=page, title=None)


def inferred_items(store: KnowledgeStore, settings: Settings, description: Description) -> list[InferredItem]:
    """The entity's inferred statements, each explained (:mod:`ioir_kg.store.explanation`)."""
    labels = Labels(description.triples)
    items = []
    for e in Explainer(store, settings).inferred_about(NamedNode(description.iri)):
        d = e.derivation
        items.append(
            InferredItem(
                predicate=link_for(e.triple.predicate, labels, settings),
                value=_value(e.triple.object, labels, settings),
                rules=d.rules() if d else ["OWL 2 RL"],
                premises=[show_triple(p.triple) for p in d.asserted()] if d else [],
            )
        )
    return items


def render_not_found(message: str, *, path: str) -> str:
    """The HTML page answering 404."""
    return render("not_found.html", message=message, path=path, title="Not found")
