"""The fixed query mix, the entity pages and competency queries, and the 50-triple assertion.

Every query names entities of the synthetic graph (:mod:`bench.generate`) chosen from its size, so the
same scale always sends the same texts. The competency queries are the project's own ``queries/*.rq``
with their arguments bound exactly as the server binds them (a ``VALUES`` block), so peers receive the
same text that ioir-kg evaluates.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlencode

from pyoxigraph import Literal, NamedNode

from bench.generate import ID, GenStats
from ioir_kg.sparql.competency import load_catalogue
from ioir_kg.store.bindings import inject_values

PROJECT = Path(__file__).resolve().parent.parent
PREFIXES = """PREFIX ioir: <https://w3id.org/ioir/ontology#>
PREFIX org: <http://www.w3.org/ns/org#>
PREFIX skos: <http://www.w3.org/2004/02/skos/core#>
PREFIX rdfs: <http://www.w3.org/2000/01/rdf-schema#>
PREFIX dcterms: <http://purl.org/dc/terms/>
"""
RESULTS_JSON = "application/sparql-results+json"
N_TRIPLES = "application/n-triples"


@dataclass(frozen=True)
class Query:
    """One SPARQL query of the mix: a short name, its text and the media type to ask for."""

    name: str
    sparql: str
    accept: str = RESULTS_JSON
    what: str = ""


@dataclass(frozen=True)
class Page:
    """An ioir-kg request (entity page, competency query, search) and the SPARQL a peer answers instead."""

    name: str
    path: str
    accept: str
    peer: Query
    what: str = ""
    params: dict[str, str] = field(default_factory=dict)


def picks(stats: GenStats) -> tuple[int, int]:
    """The two organizations the queries name: one a third of the way in, and the one after it."""
    a = stats.blocks // 3
    return a, (a + 1) % stats.blocks


def competency_text(name: str, args: dict[str, NamedNode | Literal]) -> str:
    """The text of ``queries/NAME.rq`` with ``args`` bound as the server binds them."""
    query = load_catalogue(PROJECT / "queries")[name]
    return inject_values(query.sparql, args)


def sparql_mix(stats: GenStats) -> list[Query]:
    """The ten ``/sparql`` queries: seven shapes plus three competency queries."""
    a, b = picks(stats)
    org_a, org_b = NamedNode(stats.org(a)), NamedNode(stats.org(b))
    word = stats.org_label(a).split()[0]
    theme = stats.org_label(a).split()[1]
    return [
        Query(
            "acronym",
            PREFIXES
            + f'SELECT ?org ?name WHERE {{ ?org skos:altLabel "{stats.acronym(a)}"@en ; skos:prefLabel ?name }}',
            what="lookup by acronym",
        ),
        Query(
            "instruments-pair",
            PREFIXES
            + f"SELECT ?i ?type ?date WHERE {{ ?i ioir:party {org_a}, {org_b} ; a ?type ."
            + " OPTIONAL { ?i dcterms:date ?date } }",
            what="instruments between two organizations",
        ),
        Query(
            "deps-by-level",
            PREFIXES
            + "SELECT ?level (COUNT(?d) AS ?n) WHERE { ?d a ioir:ResourceDependency ; ioir:dependencyLevel ?level }"
            + " GROUP BY ?level ORDER BY ?level",
            what="dependencies grouped by level, with counts",
        ),
        Query(
            "path-3hop",
            PREFIXES
            + f"SELECT ?mission ?mandate ?body ?bodyLabel WHERE {{ ?mission ioir:launchedBy {org_a} ;"
            + " ioir:hasMandate ?mandate . ?mandate ioir:issuedBy ?body . ?body skos:prefLabel ?bodyLabel }",
            what="organization → mission → mandate → issuing body",
        ),
        Query(
            "label-regex",
            PREFIXES
            + "SELECT ?s ?label WHERE { ?s skos:prefLabel ?label"
            + f' FILTER(REGEX(?label, "{word.lower()} {theme.lower()}", "i")) }}',
            what="text filter over all labels (REGEX)",
        ),
        Query("describe", f"DESCRIBE {org_a}", accept=N_TRIPLES, what="description of one entity"),
        Query(
            "class-counts",
            "SELECT ?class (COUNT(?s) AS ?n) WHERE { ?s a ?class } GROUP BY ?class ORDER BY DESC(?n) ?class",
            what="aggregate over the whole graph",
        ),
        Query(
            "cq-search",
            competency_text("search", {"text": Literal(stats.acronym(a))}),
            what="competency: search (REGEX-free CONTAINS over labels)",
        ),
        Query(
            "cq-instruments-between",
            competency_text("instruments-between", {"a": org_a, "b": org_b}),
            what="competency: instruments between two organizations",
        ),
        Query(
            "cq-missions-by-org",
            competency_text("missions-by-organization", {"org": org_a}),
            what="competency: missions launched by an organization",
        ),
    ]


DESCRIBE_PAGE = """PREFIX ioir: <https://w3id.org/ioir/ontology#>
PREFIX skos: <http://www.w3.org/2004/02/skos/core#>
PREFIX rdfs: <http://www.w3.org/2000/01/rdf-schema#>
CONSTRUCT { ?iri ?p ?o . ?o skos:prefLabel ?ol . ?s ?pin ?iri . ?s skos:prefLabel ?sl . ?ev ?evp ?evo }
WHERE {
  VALUES ?iri { IRI }
  { ?iri ?p ?o . OPTIONAL { ?o skos:prefLabel ?ol } }
  UNION { ?s ?pin ?iri . OPTIONAL { ?s skos:prefLabel ?sl } }
  UNION { ?iri ioir:evidence ?ev . ?ev ?evp ?evo }
}"""


def pages(stats: GenStats) -> list[Page]:
    """Entity pages, competency queries through ``/queries/…`` and the search box, with the peers' equivalent."""
    a, b = picks(stats)
    org_a, org_b = stats.org(a), stats.org(b)
    slug = org_a[len(ID) :]
    entity = Query("entity", DESCRIBE_PAGE.replace("IRI", f"<{org_a}>"), accept=N_TRIPLES)
    acronym = stats.acronym(a)
    search = Query("search", competency_text("search", {"text": Literal(acronym)}))
    between = Query(
        "instruments-between", competency_text("instruments-between", {"a": NamedNode(org_a), "b": NamedNode(org_b)})
    )
    missions = Query("missions-by-org", competency_text("missions-by-organization", {"org": NamedNode(org_a)}))
    return [
        Page("/id (HTML)", f"/id/{slug}", "text/html", entity, "entity page (HTML)"),
        Page("/id (Turtle)", f"/id/{slug}", "text/turtle", entity, "entity description (Turtle)"),
        Page("/search (box)", "/search?" + urlencode({"q": acronym}), "application/json", search, "search box"),
        Page(
            "/queries/search",
            "/queries/search?" + urlencode({"text": acronym}),
            RESULTS_JSON,
            search,
            "competency: search by name or acronym",
        ),
        Page(
            "/queries/instruments-between",
            "/queries/instruments-between?" + urlencode({"a": org_a[len(ID) :], "b": org_b[len(ID) :]}),
            RESULTS_JSON,
            between,
            "competency: instruments between two organizations",
        ),
        Page(
            "/queries/missions-by-org",
            "/queries/missions-by-organization?" + urlencode({"org": slug}),
            RESULTS_JSON,
            missions,
            "competency: missions launched by an organization",
        ),
    ]


def assertion_body(stats: GenStats, *, serial: int = 0) -> str:
    """A Turtle assertion of about 50 triples: five new dependencies between stored organizations, citing a stored
    evidence node."""
    a, _ = picks(stats)
    lines = [
        "@base <https://w3id.org/ioir/id/> .",
        "@prefix ioir: <https://w3id.org/ioir/ontology#> .",
        "@prefix skos: <http://www.w3.org/2004/02/skos/core#> .",
        "@prefix dcterms: <http://purl.org/dc/terms/> .",
        "@prefix prov: <http://www.w3.org/ns/prov#> .",
        "@prefix xsd: <http://www.w3.org/2001/XMLSchema#> .",
    ]
    levels = ("level-macro", "level-meso", "level-micro")
    for k in range(5):
        provider = (a + 7 * (k + 1)) % stats.blocks
        node = f"<dependency/bench-{serial}-{k}>"
        lines.append(
            f"{node} a ioir:ResourceDependency ;\n"
            f'  skos:prefLabel "Benchmark dependency {serial}-{k} of organization {a} on {provider}"@en ;\n'
            f"  ioir:dependent <org/syn-o{a}> ; ioir:provider <org/syn-o{provider}> ;\n"
            f"  ioir:resourceType <concept/resource-logistics> ; ioir:dependencyLevel <concept/{levels[k % 3]}> ;\n"
            f"  ioir:theatre <place/syn-p{k}> ; ioir:context <mission/syn-m{a}-0> ;\n"
            f"  ioir:evidence <evidence/syn-{a}-0> ."  # a stored evidence node: the synthetic sources have no text
        )
    lines.append(f'<dependency/bench-{serial}-0> ioir:startDate "2015"^^xsd:gYear .')
    lines.append(f'<dependency/bench-{serial}-1> ioir:startDate "2016"^^xsd:gYear .')
    return "\n".join(lines) + "\n"
