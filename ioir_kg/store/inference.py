"""Materialised entailments: the OWL 2 RL consequences of the ontology over the data, in a graph of their own.

The asserted graphs (every graph but this one, the SHACL shapes and the ontology's checks) go through the
``reasonable`` reasoner (OWL 2 RL, in Rust; chosen over ``owlrl`` on the figures of ``bench/inference_bench.py``);
what it derives is kept when it is *new* and *about the data*, and written to ``{base}graph/inferred``, replacing
what was there. Asserted graphs are never written.

Kept (see :func:`keep`): triples whose subject is an IRI of the data (not a class or property of the ontology,
not a blank node), with ``rdf:type`` to a class outside the RDF/RDFS/OWL vocabularies, or with a property outside
those vocabularies, or ``owl:sameAs`` between two entities of the graph. So sub-class, sub-property, domain and
range (only to named classes, never on literals), inverse, symmetric and transitive properties, equivalent classes
and properties all show; the T-box consequences (``rdfs:subClassOf`` closure, ``owl:Thing`` types …) do not.

``owl:sameAs`` is handled deliberately: the links to Wikidata and ISO 3166 (``data/links/``) state
``owl:sameAs`` to IRIs outside the graph; OWL 2 RL would copy every statement of an entity onto its Wikidata
item and back. Only ``owl:sameAs`` between two IRIs under ``{base}id/`` reaches the reasoner.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from typing import Any

from pyoxigraph import BlankNode, Literal, NamedNode, Quad, Triple

from ioir_kg.config import Settings
from ioir_kg.store.base import KnowledgeStore

RDF = "http://www.w3.org/1999/02/22-rdf-syntax-ns#"
RDFS = "http://www.w3.org/2000/01/rdf-schema#"
OWL = "http://www.w3.org/2002/07/owl#"
XSD_STRING = "http://www.w3.org/2001/XMLSchema#string"
RDF_TYPE = NamedNode(RDF + "type")
OWL_SAME_AS = NamedNode(OWL + "sameAs")
#: The vocabularies whose own terms never appear in a kept inference (but ``rdf:type`` and ``owl:sameAs``).
LOGICAL = (RDF, RDFS, OWL)
#: Types and predicates that make their subject part of the ontology (the T-box), not of the data.
_SCHEMA_TYPES = frozenset(
    NamedNode(OWL + t)
    for t in (
        *("Class", "Ontology", "ObjectProperty", "DatatypeProperty", "AnnotationProperty", "TransitiveProperty"),
        *("SymmetricProperty", "FunctionalProperty", "InverseFunctionalProperty", "IrreflexiveProperty"),
        *("AsymmetricProperty", "ReflexiveProperty", "Restriction", "AllDisjointClasses"),
    )
) | {NamedNode(RDFS + "Class"), NamedNode(RDFS + "Datatype"), NamedNode(RDF + "Property")}
#: Predicates of the RDF/RDFS vocabularies that describe data, kept like any other (``skos:prefLabel`` is a
#: sub-property of ``rdfs:label``).
_DATA_PREDICATES = frozenset(NamedNode(RDFS + p) for p in ("label", "comment", "seeAlso"))
#: Predicates whose subject is part of the ontology.
_SCHEMA_PREDICATES = frozenset(NamedNode(RDFS + p) for p in ("subClassOf", "subPropertyOf", "domain", "range"))
#: OWL predicates between individuals (the data), not axioms.
_INDIVIDUAL_PREDICATES = frozenset({OWL_SAME_AS, NamedNode(OWL + "differentFrom")})
#: The graphs (local names under ``{base}graph/``) that never reach the reasoner besides the inferred one.
NOT_REASONED = ("ontology/shapes", "ontology/checks/")
_LITERAL = "urn:ioir:literal:"
#: The reasoners :func:`entailments` can run (the first is the default).
REASONERS = ("reasonable", "owlrl")

log = logging.getLogger("ioir_kg.inference")


def inferred_graph_iri(settings: Settings) -> str:
    """The graph of the materialised entailments: ``{base}graph/inferred``."""
    return f"{settings.graph_base}inferred"


def is_reasoned_graph(graph: str, settings: Settings) -> bool:
    """Whether the asserted graph ``graph`` (``""``: the default graph) is input of the reasoner.

    >>> s = Settings()
    >>> [is_reasoned_graph(s.graph_base + g, s) for g in ("data/entities", "ontology/shapes", "inferred")]
    [True, False, False]
    """
    if graph == inferred_graph_iri(settings) or graph.startswith("urn:ioir:"):
        return False
    return not any(graph.startswith(settings.graph_base + local) for local in NOT_REASONED)


def asserted_triples(store: KnowledgeStore, settings: Settings) -> set[Triple]:
    """Every triple of the graphs the reasoner reads (see :func:`is_reasoned_graph`)."""
    found: set[Triple] = set()
    for quad in store.quads():
        name = quad.graph_name
        if is_reasoned_graph(name.value if isinstance(name, NamedNode) else "", settings):
            found.add(quad.triple)
    return found


# -- the reasoners -----------------------------------------------------------------------------------------------


def _to_rdflib(term: Any) -> Any:
    from rdflib import BNode, URIRef
    from rdflib import Literal as RLiteral

    if isinstance(term, NamedNode):
        return URIRef(term.value)
    if isinstance(term, BlankNode):
        return BNode(term.value)
    if term.language:
        return RLiteral(term.value, lang=term.language, normalize=False)
    datatype = term.datatype.value
    return RLiteral(term.value, datatype=None if datatype == XSD_STRING else URIRef(datatype), normalize=False)


def _from_rdflib(term: Any) -> NamedNode | BlankNode | Literal | None:
    from rdflib import BNode, URIRef
    from rdflib import Literal as RLiteral

    try:
        if isinstance(term, URIRef):
            return NamedNode(str(term))
        if isinstance(term, BNode):
            return BlankNode(str(term))
        if isinstance(term, RLiteral):
            if term.language:
                return Literal(str(term), language=term.language)
            if term.datatype is not None and str(term.datatype) != XSD_STRING:
                return Literal(str(term), datatype=NamedNode(str(term.datatype)))
            return Literal(str(term))
    except ValueError:  # an IRI or language tag pyoxigraph refuses: not ours to keep
        return None
    return None


def run_reasoner(name: str, triples: Iterable[Triple]) -> Iterator[Triple]:
    """Every triple the reasoner ``name`` (see :data:`REASONERS`) holds after OWL 2 RL closure of ``triples``.

    Literals reach the reasoner as placeholder IRIs (``urn:ioir:literal:{n}``) and come back as the very same
    pyoxigraph literals: no lexical form is normalised on the way, and a literal never becomes a subject.
    """
    literals: dict[Literal, int] = {}

    def encode(term: Any) -> Any:
        if isinstance(term, Literal):
            return _to_rdflib(NamedNode(f"{_LITERAL}{literals.setdefault(term, len(literals))}"))
        return _to_rdflib(term)

    rows = [(encode(t.subject), encode(t.predicate), encode(t.object)) for t in triples]
    decoded = {index: literal for literal, index in literals.items()}

    def decode(term: Any) -> Any:
        found = _from_rdflib(term)
        if isinstance(found, NamedNode) and found.value.startswith(_LITERAL):
            return decoded.get(int(found.value[len(_LITERAL) :]))
        return found

    if name == "reasonable":
        import reasonable

        reasoner = reasonable.PyReasoner()
        reasoner.from_graph(rows)
        closure: Iterable[Any] = reasoner.reason()
    elif name == "owlrl":
        import owlrl
        from rdflib import Graph

        graph = Graph()
        for row in rows:
            graph.add(row)
        owlrl.DeductiveClosure(owlrl.OWLRL_Semantics, rdfs_closure=False, axiomatic_triples=False).expand(graph)
        closure = graph
    else:
        raise ValueError(f"unknown reasoner {name!r}: use one of {', '.join(REASONERS)}")
    for s, p, o in closure:
        subject, predicate, obj = decode(s), decode(p), decode(o)
        if isinstance(subject, NamedNode | BlankNode) and isinstance(predicate, NamedNode) and obj is not None:
            yield Triple(subject, predicate, obj)


def reasoner_input(asserted: Iterable[Triple], settings: Settings) -> list[Triple]:
    """The triples given to the reasoner: ``owl:sameAs`` only between two entities of the graph (``{base}id/``)."""
    base = settings.id_base
    return [
        t
        for t in asserted
        if t.predicate != OWL_SAME_AS
        or (
            isinstance(t.subject, NamedNode)
            and t.subject.value.startswith(base)
            and isinstance(t.object, NamedNode)
            and t.object.value.startswith(base)
        )
    ]


def schema_terms(asserted: Iterable[Triple]) -> set[Any]:
    """The classes and properties the asserted triples declare or axiomatise (the T-box's subjects)."""
    terms: set[Any] = set()
    for t in asserted:
        if (
            (t.predicate == RDF_TYPE and t.object in _SCHEMA_TYPES)
            or t.predicate in _SCHEMA_PREDICATES
            or (t.predicate.value.startswith(OWL) and t.predicate not in _INDIVIDUAL_PREDICATES)
        ):
            terms.add(t.subject)
    return terms


def keep(t: Triple, schema: set[Any], base: str) -> bool:
    """Whether an inference is about the data (see the module's documentation)."""
    if not isinstance(t.subject, NamedNode) or isinstance(t.object, BlankNode) or t.subject in schema:
        return False
    if t.predicate == RDF_TYPE:
        return isinstance(t.object, NamedNode) and not t.object.value.startswith(LOGICAL)
    if t.predicate == OWL_SAME_AS:
        return (
            isinstance(t.object, NamedNode)
            and t.subject != t.object
            and t.object.value.startswith(base)
            and (t.subject.value.startswith(base))
        )
    return t.predicate in _DATA_PREDICATES or not t.predicate.value.startswith(LOGICAL)


def entailments(asserted: set[Triple], settings: Settings, *, reasoner: str = REASONERS[0]) -> set[Triple]:
    """The new triples about the data that the ontology entails from ``asserted`` (none of them asserted)."""
    schema = schema_terms(asserted)
    return {
        t
        for t in run_reasoner(reasoner, reasoner_input(asserted, settings))
        if t not in asserted and keep(t, schema, settings.id_base)
    }


@dataclass(frozen=True)
class Materialisation:
    """What one materialisation did: triples asserted and inferred, whether the graph changed, seconds taken."""

    graph: str
    asserted: int
    inferred: int
    changed: bool
    seconds: float
    reasoner: str = REASONERS[0]


def current_inferred(store: KnowledgeStore, settings: Settings) -> set[Triple]:
    """The triples of the stored inferred graph."""
    graph = inferred_graph_iri(settings)
    return {q.triple for q in store.quads(graph)} if store.has_graph(graph) else set()


def materialise(store: KnowledgeStore, settings: Settings, *, reasoner: str = REASONERS[0]) -> Materialisation:
    """Recompute the entailments of the whole store and replace the inferred graph when they changed.

    The whole graph is recomputed (``reasonable`` re-materialises fully after any removal, and a retraction or a
    replaced file removes triples); ``bench/inference_bench.py`` measures what it costs.
    """
    started = time.perf_counter()
    graph = inferred_graph_iri(settings)
    size = store.status().triples
    if size > settings.inference_max_triples:
        # The reasoner holds the whole closure in memory (about 21 GB at a million triples, bench/README.md):
        # above the limit there is no inferred graph rather than an out-of-memory kill.
        log.warning(
            "inference skipped: %d triples in the store, more than IOIR_INFERENCE_MAX_TRIPLES=%d",
            size,
            settings.inference_max_triples,
        )
        if store.has_graph(graph):
            store.drop_graph(graph)
        return Materialisation(graph, size, 0, False, time.perf_counter() - started, reasoner)
    asserted = asserted_triples(store, settings)
    inferred = entailments(asserted, settings, reasoner=reasoner)
    current = current_inferred(store, settings)
    changed = inferred != current
    if changed and not inferred:
        store.drop_graph(graph)
    elif changed:
        # Only the difference is written: an accepted assertion changes a few entailments, and rewriting the whole
        # graph each time made the store compact under the query workers' read-only views.
        gone = current - inferred
        if gone:
            store.update(f"DELETE DATA {{ GRAPH <{graph}> {{ {' . '.join(str(t) for t in gone)} }} }}")
        store.add_quads(Quad(t.subject, t.predicate, t.object, NamedNode(graph)) for t in inferred - current)
    return Materialisation(graph, len(asserted), len(inferred), changed, time.perf_counter() - started, reasoner)
