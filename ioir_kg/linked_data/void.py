"""The dataset described in VoID and DCAT, computed from the live store at each request.

The description names the SPARQL endpoint and the dump, the URI space, the size (triples, entities,
distinct subjects and objects, classes, properties), one partition per class and per property, one
subset per named graph, the licence and the source documents, and one ``void:Linkset`` per link
predicate and target dataset for the verified identity links (``owl:sameAs``, ``skos:exactMatch``)
from the project's entities to other datasets — Wikidata for the bundled data. A linkset committed with the data
(``data/links/wikidata.ttl``: a ``void:Linkset`` whose ``void:objectsTarget`` has a ``void:uriSpace``) is named as
the subset holding the per-predicate linksets of its target, with its total number of links.
"""

from __future__ import annotations

import re
from collections import Counter
from dataclasses import dataclass
from urllib.parse import urlsplit

from pyoxigraph import BlankNode, Literal, NamedNode, QuerySolutions, Triple

from ioir_kg import __version__
from ioir_kg.config import Settings
from ioir_kg.linked_data.rdf import compact_iri
from ioir_kg.linked_data.resource import union_dataset
from ioir_kg.namespaces import IOIR, ONTOLOGY_IRI, PREFIXES, sparql_prologue
from ioir_kg.store.base import KnowledgeStore, QueryDataset, Term
from ioir_kg.store.inference import inferred_graph_iri

VOID = PREFIXES["void"]
DCAT = PREFIXES["dcat"]
DCTERMS = PREFIXES["dcterms"]
#: What VoID says of the subset ``{base}graph/inferred``.
INFERRED_DESCRIPTION = (
    "Entailments: the OWL 2 RL consequences of the ontology over the asserted graphs, materialised by the reasoner "
    "and recomputed after every load, accepted assertion and retraction. No statement here is asserted; "
    "/dump.nq?inferred=false and SPARQL's infer=false leave this graph out."
)
RDF = PREFIXES["rdf"]
XSD = PREFIXES["xsd"]
FOAF = PREFIXES["foaf"]
SD = "http://www.w3.org/ns/sparql-service-description#"
FORMATS_NS = "http://www.w3.org/ns/formats/"
#: Prefixes of the VoID document.
VOID_PREFIXES: dict[str, str] = {
    "void": VOID,
    "dcat": DCAT,
    "dcterms": DCTERMS,
    "foaf": FOAF,
    "sd": SD,
    "xsd": XSD,
    "rdf": RDF,
    "owl": PREFIXES["owl"],
    "skos": PREFIXES["skos"],
    "ioir": IOIR,
}
#: The link predicates counted in linksets (verified identity links: ARCHITECTURE.md, "Linked Data").
LINK_PREDICATES: tuple[str, ...] = (PREFIXES["owl"] + "sameAs", PREFIXES["skos"] + "exactMatch")
#: Datasets the links may point into: URI space → (name, homepage, SPARQL endpoint).
KNOWN_TARGETS: dict[str, tuple[str, str, str | None]] = {
    "http://www.wikidata.org/entity/": ("wikidata", "https://www.wikidata.org/", "https://query.wikidata.org/sparql"),
}
#: Vocabularies the data uses.
VOCABULARIES = ("ioir", "org", "prov", "skos", "dcterms", "foaf", "schema", "owl")

_P = sparql_prologue()
_TOTALS = (
    _P + "SELECT (COUNT(*) AS ?triples) (COUNT(DISTINCT ?s) AS ?subjects) (COUNT(DISTINCT ?o) AS ?objects)"
    " (COUNT(DISTINCT ?p) AS ?properties) WHERE { SELECT DISTINCT ?s ?p ?o WHERE { ?s ?p ?o } }"
)
_ENTITIES = _P + "SELECT (COUNT(DISTINCT ?s) AS ?n) WHERE { ?s ?p ?o FILTER(STRSTARTS(STR(?s), ?base)) }"
_CLASSES = _P + "SELECT ?c (COUNT(DISTINCT ?s) AS ?n) WHERE { ?s a ?c } GROUP BY ?c ORDER BY ?c"
_PROPERTIES = (
    _P + "SELECT ?p (COUNT(*) AS ?n) WHERE { SELECT DISTINCT ?s ?p ?o WHERE { ?s ?p ?o } } GROUP BY ?p ORDER BY ?p"
)
_LINKS = (
    _P + "SELECT DISTINCT ?s ?p ?o WHERE { ?s ?p ?o FILTER(?p IN (owl:sameAs, skos:exactMatch) && isIRI(?o)"
    " && STRSTARTS(STR(?s), ?base) && !STRSTARTS(STR(?o), ?base)) }"
)
_COMMITTED = _P + (
    "SELECT DISTINCT ?ls ?space WHERE { ?ls a void:Linkset ; void:objectsTarget ?t . ?t void:uriSpace ?space }"
    " ORDER BY ?ls"
)
_SOURCES = _P + "SELECT DISTINCT ?src WHERE { ?src a ioir:SourceDocument } ORDER BY ?src"
_EXAMPLES = _P + "SELECT DISTINCT ?s WHERE { ?s a ioir:InternationalOrganization ; owl:sameAs ?x } ORDER BY ?s LIMIT 3"


@dataclass(frozen=True)
class Linkset:
    """Links of one predicate from the project's entities into one target dataset."""

    predicate: str
    target_space: str
    triples: int


def _rows(store: KnowledgeStore, sparql: str, dataset: QueryDataset | None, **bindings: Term) -> QuerySolutions:
    result = store.query(sparql, bindings=bindings or None, dataset=dataset)
    assert isinstance(result, QuerySolutions)
    return result


def _int(value: int) -> Literal:
    return Literal(str(value), datatype=NamedNode(XSD + "integer"))


def target_space(iri: str) -> str:
    """The URI space a link target belongs to: a known dataset's, else ``scheme://host/``.

    >>> target_space("http://www.wikidata.org/entity/Q7184"), target_space("https://viaf.org/viaf/123")
    ('http://www.wikidata.org/entity/', 'https://viaf.org/')
    """
    for space in KNOWN_TARGETS:
        if iri.startswith(space):
            return space
    parts = urlsplit(iri)
    return f"{parts.scheme}://{parts.netloc}/"


def linksets(store: KnowledgeStore, settings: Settings, dataset: QueryDataset | None = None) -> list[Linkset]:
    """The identity links from the project's entities to other datasets, counted by predicate and target."""
    counts: Counter[tuple[str, str]] = Counter()
    for row in _rows(store, _LINKS, dataset, base=Literal(settings.id_base)):
        counts[(row["p"].value, target_space(row["o"].value))] += 1
    return [Linkset(p, space, n) for (p, space), n in sorted(counts.items())]


def void_triples(store: KnowledgeStore, settings: Settings, public_url: str) -> list[Triple]:
    """The VoID + DCAT description of the store's content; ``public_url`` is this deployment's root URL."""
    dataset = union_dataset(store, settings)
    base = settings.base_uri
    me = NamedNode(f"{base}void#dataset")
    doc = NamedNode(f"{public_url}void")
    endpoint = NamedNode(f"{public_url}sparql")
    dump = NamedNode(f"{public_url}dump.nq")
    service = NamedNode(f"{base}void#sparql-service")
    distribution = NamedNode(f"{base}void#dump")
    out: list[Triple] = []

    def add(s: NamedNode | BlankNode, p: str, o: NamedNode | BlankNode | Literal) -> None:
        out.append(Triple(s, NamedNode(p), o))

    def en(text: str) -> Literal:
        return Literal(text, language="en")

    add(doc, RDF + "type", NamedNode(VOID + "DatasetDescription"))
    add(doc, DCTERMS + "title", en("Description of the ioir-kg dataset"))
    add(doc, FOAF + "primaryTopic", me)

    add(me, RDF + "type", NamedNode(VOID + "Dataset"))
    add(me, RDF + "type", NamedNode(DCAT + "Dataset"))
    add(me, DCTERMS + "title", en("ioir-kg: inter-organizational relations in international security"))
    add(
        me,
        DCTERMS + "description",
        en(
            "International organizations (UN, EU, NATO, AU, OSCE and others), their bodies, missions, mandates, "
            "cooperation instruments and the resources they draw from each other, each fact traced to a source "
            "document by a verbatim quote."
        ),
    )
    add(me, DCTERMS + "license", NamedNode(settings.dataset_license))
    add(me, DCTERMS + "creator", en("ioir-kg contributors"))
    add(me, DCAT + "version", Literal(__version__))
    add(me, DCTERMS + "conformsTo", NamedNode(ONTOLOGY_IRI))
    add(me, DCAT + "landingPage", NamedNode(public_url))
    for keyword in ("international organizations", "inter-organizational relations", "peace operations"):
        add(me, DCAT + "keyword", en(keyword))
    add(me, VOID + "uriSpace", Literal(settings.id_base))
    add(me, VOID + "sparqlEndpoint", endpoint)
    add(me, VOID + "dataDump", dump)
    for prefix in VOCABULARIES:
        add(me, VOID + "vocabulary", NamedNode(PREFIXES[prefix]))
    for fmt in ("N-Quads", "Turtle", "JSON-LD", "N-Triples", "RDF_XML"):
        add(me, VOID + "feature", NamedNode(FORMATS_NS + fmt))
    for row in _rows(store, _EXAMPLES, dataset):
        add(me, VOID + "exampleResource", row["s"])

    totals = next(iter(_rows(store, _TOTALS, dataset)))
    for key, prop in (
        ("triples", "triples"),
        ("subjects", "distinctSubjects"),
        ("objects", "distinctObjects"),
        ("properties", "properties"),
    ):
        add(me, VOID + prop, _int(int(totals[key].value)))
    entities = next(iter(_rows(store, _ENTITIES, dataset, base=Literal(settings.id_base))))
    add(me, VOID + "entities", _int(int(entities["n"].value)))

    names = _Names(f"{base}void#")
    classes = list(_rows(store, _CLASSES, dataset))
    add(me, VOID + "classes", _int(len(classes)))
    for row in classes:
        part = names.node("class", row["c"])
        add(me, VOID + "classPartition", part)
        add(part, VOID + "class", row["c"])
        add(part, VOID + "entities", _int(int(row["n"].value)))
    for row in _rows(store, _PROPERTIES, dataset):
        part = names.node("property", row["p"])
        add(me, VOID + "propertyPartition", part)
        add(part, VOID + "property", row["p"])
        add(part, VOID + "triples", _int(int(row["n"].value)))

    for info in store.graphs():
        graph = info.iri[len(settings.graph_base) :] if info.iri.startswith(settings.graph_base) else info.iri
        subset = names.node("graph", Literal(graph))
        add(me, VOID + "subset", subset)
        add(subset, RDF + "type", NamedNode(VOID + "Dataset"))
        add(subset, SD + "name", NamedNode(info.iri))
        add(subset, VOID + "triples", _int(info.triples))
        if info.iri == inferred_graph_iri(settings):
            add(subset, DCTERMS + "title", en("Inferred statements"))
            add(subset, DCTERMS + "description", en(INFERRED_DESCRIPTION))

    for row in _rows(store, _SOURCES, dataset):
        add(me, DCTERMS + "source", row["src"])

    committed = {row["space"].value: row["ls"] for row in _rows(store, _COMMITTED, dataset)}
    out += _linkset_triples(me, base, linksets(store, settings, dataset), committed)

    add(distribution, RDF + "type", NamedNode(DCAT + "Distribution"))
    add(me, DCAT + "distribution", distribution)
    add(distribution, DCTERMS + "title", en("All graphs as N-Quads"))
    add(distribution, DCAT + "downloadURL", dump)
    add(distribution, DCAT + "accessURL", dump)
    add(distribution, DCAT + "mediaType", NamedNode("https://www.iana.org/assignments/media-types/application/n-quads"))
    add(distribution, DCTERMS + "license", NamedNode(settings.dataset_license))

    add(service, RDF + "type", NamedNode(DCAT + "DataService"))
    add(service, DCTERMS + "title", en("ioir-kg SPARQL 1.1 endpoint"))
    add(service, DCAT + "endpointURL", endpoint)
    add(service, DCAT + "endpointDescription", endpoint)
    add(service, DCAT + "servesDataset", me)
    add(service, DCTERMS + "conformsTo", NamedNode("https://www.w3.org/TR/sparql11-protocol/"))
    return out


class _Names:
    """Readable fragment IRIs for partitions and subsets (``void#class-ioir-Mission``), unique in a document."""

    def __init__(self, prefix: str) -> None:
        self.prefix = prefix
        self.used: set[str] = set()

    def node(self, kind: str, term: object) -> NamedNode | BlankNode:
        """A node named after ``term`` (a CURIE where there is one); a blank node for blank nodes."""
        if isinstance(term, BlankNode):
            return BlankNode()
        value = getattr(term, "value", str(term))
        readable = compact_iri(value, PREFIXES) or value
        name = f"{kind}-" + "-".join(part for part in re.split(r"[^A-Za-z0-9_.]+", readable) if part)
        candidate, n = name, 1
        while candidate in self.used:
            n += 1
            candidate = f"{name}-{n}"
        self.used.add(candidate)
        return NamedNode(self.prefix + candidate)


def _linkset_triples(
    me: NamedNode, base: str, sets: list[Linkset], committed: dict[str, NamedNode] | None = None
) -> list[Triple]:
    out: list[Triple] = []
    described: set[str] = set()

    def add(s: NamedNode, p: str, o: NamedNode | Literal) -> None:
        out.append(Triple(s, NamedNode(p), o))

    for space, whole in sorted((committed or {}).items()):
        of_target = [ls for ls in sets if ls.target_space == space]
        if not of_target:
            continue
        name = KNOWN_TARGETS.get(space, (_slug(space), None, None))[0]
        add(me, VOID + "subset", whole)
        add(whole, RDF + "type", NamedNode(VOID + "Linkset"))
        add(whole, VOID + "subjectsTarget", me)
        add(whole, VOID + "objectsTarget", NamedNode(f"{base}void#{name}"))
        add(whole, VOID + "triples", _int(sum(ls.triples for ls in of_target)))
        for ls in of_target:
            add(whole, VOID + "linkPredicate", NamedNode(ls.predicate))
            add(whole, VOID + "subset", NamedNode(f"{base}void#links-{name}-{ls.predicate.rsplit('#', 1)[-1]}"))

    for linkset in sets:
        name, homepage, sparql = KNOWN_TARGETS.get(linkset.target_space, (_slug(linkset.target_space), None, None))
        predicate_name = linkset.predicate.rsplit("#", 1)[-1]
        node = NamedNode(f"{base}void#links-{name}-{predicate_name}")
        target = NamedNode(f"{base}void#{name}")
        add(me, VOID + "subset", node)
        add(node, RDF + "type", NamedNode(VOID + "Linkset"))
        add(node, VOID + "subjectsTarget", me)
        add(node, VOID + "objectsTarget", target)
        add(node, VOID + "linkPredicate", NamedNode(linkset.predicate))
        add(node, VOID + "triples", _int(linkset.triples))
        if target.value not in described:
            described.add(target.value)
            add(target, RDF + "type", NamedNode(VOID + "Dataset"))
            add(target, VOID + "uriSpace", Literal(linkset.target_space))
            if homepage:
                add(target, FOAF + "homepage", NamedNode(homepage))
            if sparql:
                add(target, VOID + "sparqlEndpoint", NamedNode(sparql))
    return out


def _slug(space: str) -> str:
    host = urlsplit(space).netloc or space
    return "".join(c if c.isalnum() else "-" for c in host).strip("-") or "target"
