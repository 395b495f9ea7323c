"""What ``GET /sparql`` without a query answers: the SPARQL 1.1 Service Description, or a query page.

The description (``sd:Service``) names the endpoint, the languages (query; update with a token), every
result format, the features (``sd:UnionDefaultGraph`` when the default graph is the union of the named
graphs) and the default dataset with its named graphs and their sizes (``void:triples``).

The page for ``text/html`` is the web interface's SPARQL editor (YASGUI, see
:func:`ioir_kg.web.pages.sparql_editor_page`), with a plain form that works without JavaScript.
"""

from __future__ import annotations

from collections.abc import Sequence

from pyoxigraph import BlankNode, Literal, NamedNode, QueryResultsFormat, Triple

from ioir_kg.config import Settings
from ioir_kg.namespaces import RDF_TYPE_NODE as RDF_TYPE
from ioir_kg.sparql.negotiation import GRAPH_FORMATS, HTML, JSON_LD, N_TRIPLES, RDF_XML, TURTLE
from ioir_kg.store.base import GraphInfo

SD = "http://www.w3.org/ns/sparql-service-description#"
VOID = "http://rdfs.org/ns/void#"
DCTERMS = "http://purl.org/dc/terms/"
XSD_INTEGER = NamedNode("http://www.w3.org/2001/XMLSchema#integer")
PREFIXES = {"sd": SD, "void": VOID, "dcterms": DCTERMS}
#: Representations of ``GET /sparql`` without a query, Turtle first.
DESCRIPTION_FORMATS = (TURTLE, N_TRIPLES, JSON_LD, RDF_XML, HTML)


def _sd(local: str) -> NamedNode:
    return NamedNode(SD + local)


def description(
    endpoint: str, settings: Settings, graphs: Sequence[GraphInfo], default_triples: int | None
) -> list[Triple]:
    """The service description of the endpoint at ``endpoint`` as triples.

    >>> from ioir_kg.config import Settings
    >>> triples = description("http://h/sparql", Settings(), [GraphInfo("http://g", 3)], None)
    >>> Triple(NamedNode("http://h/sparql"), _sd("feature"), _sd("UnionDefaultGraph")) in triples
    True
    """
    service = NamedNode(endpoint)
    dataset, default_graph = BlankNode(), BlankNode()
    triples = [
        Triple(service, RDF_TYPE, _sd("Service")),
        Triple(service, _sd("endpoint"), NamedNode(endpoint)),
        Triple(service, NamedNode(DCTERMS + "title"), Literal("ioir-kg SPARQL endpoint", language="en")),
        Triple(service, _sd("supportedLanguage"), _sd("SPARQL11Query")),
        Triple(service, _sd("supportedLanguage"), _sd("SPARQL11Update")),
        Triple(service, _sd("defaultEntailmentRegime"), NamedNode("http://www.w3.org/ns/entailment/Simple")),
        Triple(service, _sd("defaultDataset"), dataset),
        Triple(dataset, RDF_TYPE, _sd("Dataset")),
        Triple(dataset, _sd("defaultGraph"), default_graph),
        Triple(default_graph, RDF_TYPE, _sd("Graph")),
    ]
    formats = [*(f.iri for f in _RESULT_FORMATS), *(f.rdf_format.iri for f in GRAPH_FORMATS)]
    triples += [Triple(service, _sd("resultFormat"), NamedNode(iri)) for iri in formats]
    if settings.union_default_graph:
        triples.append(Triple(service, _sd("feature"), _sd("UnionDefaultGraph")))
    if settings.service_allowlist:
        triples.append(Triple(service, _sd("feature"), _sd("BasicFederatedQuery")))
    if default_triples is not None:
        triples.append(Triple(default_graph, NamedNode(VOID + "triples"), _count(default_triples)))
    for info in graphs:
        named, graph = BlankNode(), BlankNode()
        triples += [
            Triple(dataset, _sd("namedGraph"), named),
            Triple(named, RDF_TYPE, _sd("NamedGraph")),
            Triple(named, _sd("name"), NamedNode(info.iri)),
            Triple(named, _sd("graph"), graph),
            Triple(graph, RDF_TYPE, _sd("Graph")),
            Triple(graph, NamedNode(VOID + "triples"), _count(info.triples)),
        ]
    return triples


_RESULT_FORMATS = (QueryResultsFormat.JSON, QueryResultsFormat.XML, QueryResultsFormat.CSV, QueryResultsFormat.TSV)


def _count(value: int) -> Literal:
    return Literal(str(value), datatype=XSD_INTEGER)
