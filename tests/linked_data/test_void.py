"""``GET /.well-known/void`` and ``/void``: VoID + DCAT computed from the live store, checked against it."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from fastapi.testclient import TestClient
from pyoxigraph import Literal, QuerySolutions, RdfFormat, Store, parse

from ioir_kg.api.app import create_app
from ioir_kg.config import PROJECT_ROOT, Settings
from ioir_kg.namespaces import sparql_prologue
from tests.linked_data.test_resources import RDF_TYPES, link_header

DATASET = "https://w3id.org/ioir/void#dataset"


def load(response_body: bytes, media_type: str = "text/turtle") -> Store:
    """An in-memory store holding a VoID document."""
    store = Store()
    store.extend(parse(response_body, format=RDF_TYPES[media_type], base_iri="http://testserver/"))
    return store


def one(store: Store, query: str) -> str:
    """The single value of a one-row, one-column query."""
    result = store.query(sparql_prologue() + query)
    assert isinstance(result, QuerySolutions)
    rows = [row[0] for row in result]
    assert len(rows) == 1, rows
    return str(rows[0].value)


def live_count(client: TestClient, query: str) -> int:
    """A ``COUNT`` computed by the app's own SPARQL endpoint over the asserted graphs, which VoID describes."""
    response = client.get(
        "/sparql",
        params={"query": sparql_prologue() + query, "infer": "false"},
        headers={"Accept": "application/sparql-results+json"},
    )
    response.raise_for_status()
    binding = response.json()["results"]["bindings"][0]
    return int(next(iter(binding.values()))["value"])


@pytest.fixture(scope="module")
def void(client: TestClient) -> Store:
    """The VoID description of the bundled data, as Turtle from ``/.well-known/void``."""
    response = client.get("/.well-known/void")
    assert response.status_code == 200
    return load(response.content)


@pytest.mark.parametrize("path", ["/.well-known/void", "/void"])
@pytest.mark.parametrize("media_type", list(RDF_TYPES))
def test_void_is_negotiated_at_both_addresses(client: TestClient, path: str, media_type: str) -> None:
    response = client.get(path, headers={"Accept": media_type})
    assert response.status_code == 200
    assert response.headers["content-type"].split(";")[0] == media_type
    assert response.headers["vary"] == "Accept"
    assert set(link_header(response.headers["link"])) == set(RDF_TYPES)
    store = load(response.content, media_type)
    assert store.query(sparql_prologue() + f"ASK {{ <{DATASET}> a void:Dataset, dcat:Dataset }}")


def test_void_defaults_to_turtle_and_refuses_html_only(client: TestClient) -> None:
    assert client.get("/void").headers["content-type"] == "text/turtle; charset=utf-8"
    assert client.get("/void", headers={"Accept": "text/html"}).status_code == 406


def test_void_names_endpoint_dump_licence_space_and_sources(void: Store, client: TestClient) -> None:
    assert one(void, f"SELECT ?e {{ <{DATASET}> void:sparqlEndpoint ?e }}") == "http://testserver/sparql"
    assert one(void, f"SELECT ?d {{ <{DATASET}> void:dataDump ?d }}") == "http://testserver/dump.nq"
    assert (
        one(void, f"SELECT ?l {{ <{DATASET}> dcterms:license ?l }}") == "https://creativecommons.org/licenses/by/4.0/"
    )
    assert one(void, f"SELECT ?u {{ <{DATASET}> void:uriSpace ?u }}") == "https://w3id.org/ioir/id/"
    sources = one(void, f"SELECT (COUNT(?s) AS ?n) {{ <{DATASET}> dcterms:source ?s }}")
    assert int(sources) == live_count(client, "SELECT (COUNT(DISTINCT ?s) AS ?n) { ?s a ioir:SourceDocument }") == 5
    # the DCAT side: a distribution to download and a data service to query
    assert one(void, "SELECT ?u { ?d a dcat:Distribution ; dcat:downloadURL ?u }") == "http://testserver/dump.nq"
    assert one(
        void, f"SELECT ?u {{ ?s a dcat:DataService ; dcat:servesDataset <{DATASET}> ; dcat:endpointURL ?u }}"
    ) == ("http://testserver/sparql")
    # the addresses it names work
    assert client.get("/sparql", params={"query": "ASK {}"}).status_code == 200
    assert client.get("/dump.nq").status_code == 200


def test_void_counts_match_the_store(void: Store, client: TestClient) -> None:
    triples = live_count(client, "SELECT (COUNT(*) AS ?n) { SELECT DISTINCT ?s ?p ?o { ?s ?p ?o } }")
    assert int(one(void, f"SELECT ?n {{ <{DATASET}> void:triples ?n }}")) == triples
    entities = live_count(
        client, "SELECT (COUNT(DISTINCT ?s) AS ?n) { ?s ?p ?o FILTER(STRSTARTS(STR(?s), 'https://w3id.org/ioir/id/')) }"
    )
    assert int(one(void, f"SELECT ?n {{ <{DATASET}> void:entities ?n }}")) == entities > 1000
    missions = live_count(client, "SELECT (COUNT(DISTINCT ?m) AS ?n) { ?m a ioir:Mission }")
    assert int(
        one(void, f"SELECT ?n {{ <{DATASET}> void:classPartition [ void:class ioir:Mission ; void:entities ?n ] }}")
    ) == (missions)
    labels = live_count(client, "SELECT (COUNT(*) AS ?n) { SELECT DISTINCT ?s ?o { ?s skos:prefLabel ?o } }")
    partition = f"<{DATASET}> void:propertyPartition [ void:property skos:prefLabel ; void:triples ?n ]"
    assert int(one(void, f"SELECT ?n {{ {partition} }}")) == labels
    classes = live_count(client, "SELECT (COUNT(DISTINCT ?c) AS ?n) { ?s a ?c }")
    assert int(one(void, f"SELECT (COUNT(?p) AS ?n) {{ <{DATASET}> void:classPartition ?p }}")) == classes


def test_void_has_one_subset_per_named_graph_with_its_size(void: Store, client: TestClient) -> None:
    sd_name = "<http://www.w3.org/ns/sparql-service-description#name>"
    result = void.query(
        sparql_prologue() + f"SELECT ?g ?n {{ <{DATASET}> void:subset [ {sd_name} ?g ; void:triples ?n ] }}"
    )
    assert isinstance(result, QuerySolutions)
    sizes = {row["g"].value: int(row["n"].value) for row in result}
    assert "https://w3id.org/ioir/graph/data/entities" in sizes
    assert "https://w3id.org/ioir/graph/ontology/ioir" in sizes
    for graph, size in sizes.items():
        assert live_count(client, f"SELECT (COUNT(*) AS ?n) {{ GRAPH <{graph}> {{ ?s ?p ?o }} }}") == size, graph


def test_linkset_counts_the_verified_wikidata_links(void: Store) -> None:
    """One linkset per predicate counting the links of data/links/wikidata.ttl, both subsets of the committed one."""
    stated = {"sameAs": 0, "exactMatch": 0}
    for q in parse(path=str(PROJECT_ROOT / "data" / "links" / "wikidata.ttl"), format=RdfFormat.TURTLE):
        if q.object.value.startswith("http://www.wikidata.org/entity/"):
            name = q.predicate.value.rsplit("#", 1)[-1]
            if name in stated:
                stated[name] += 1
    assert stated["sameAs"] > 7
    assert stated["exactMatch"] > 0
    query = f"""SELECT ?p ?n ?space {{
        ?ls a void:Linkset ; void:subjectsTarget <{DATASET}> ; void:linkPredicate ?p ;
            void:objectsTarget ?target ; void:triples ?n .
        <{DATASET}> void:subset ?ls .
        ?target void:uriSpace ?space
        FILTER NOT EXISTS {{ ?ls void:subset ?part }} }} ORDER BY ?p"""
    result = void.query(sparql_prologue() + query)
    assert isinstance(result, QuerySolutions)
    rows = [(row["p"].value.rsplit("#", 1)[-1], int(row["n"].value), row["space"]) for row in result]
    space = Literal("http://www.wikidata.org/entity/")
    assert rows == [("sameAs", stated["sameAs"], space), ("exactMatch", stated["exactMatch"], space)]
    committed = "<https://w3id.org/ioir/id/linkset/wikidata>"
    total = one(void, f"SELECT ?n {{ {committed} void:triples ?n . <{DATASET}> void:subset {committed} }}")
    assert int(total) == sum(stated.values())
    assert one(void, f"SELECT (COUNT(?part) AS ?k) {{ {committed} void:subset ?part }}") == "2"


def test_public_url_names_the_deployment(make_settings: Callable[..., Settings]) -> None:
    settings = make_settings(public_url="https://kg.example.org", query_workers=1)
    assert settings.public_url == "https://kg.example.org/"
    with TestClient(create_app(settings)) as client:
        store = load(client.get("/void").content)
    assert one(store, f"SELECT ?e {{ <{DATASET}> void:sparqlEndpoint ?e }}") == "https://kg.example.org/sparql"
    assert one(store, f"SELECT ?d {{ <{DATASET}> void:dataDump ?d }}") == "https://kg.example.org/dump.nq"


def test_void_says_the_inferred_subset_holds_entailments(void: Store) -> None:
    description = one(
        void,
        "SELECT ?d { ?s <http://www.w3.org/ns/sparql-service-description#name> "
        "<https://w3id.org/ioir/graph/inferred> ; dcterms:description ?d }",
    )
    assert description.startswith("Entailments")
