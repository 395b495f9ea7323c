"""Inference over the bundled graph, on both backends: the obvious query gives the complete answer, and
``infer=false`` gives the asserted one. Expected numbers are computed from the asserted data in each test."""

from __future__ import annotations

from fastapi.testclient import TestClient

PREFIXES = (
    "PREFIX ioir: <https://w3id.org/ioir/ontology#> PREFIX org: <http://www.w3.org/ns/org#>\n"
    "PREFIX rdfs: <http://www.w3.org/2000/01/rdf-schema#>\n"
)
INFERRED = "https://w3id.org/ioir/graph/inferred"


def count(client: TestClient, where: str, *, infer: str | None = None, **params: str) -> int:
    """The number ``?n`` a ``SELECT (COUNT…) AS ?n`` query answers."""
    query = PREFIXES + where
    args = {"query": query, **params} | ({"infer": infer} if infer is not None else {})
    response = client.get("/sparql", params=args, headers={"Accept": "application/sparql-results+json"})
    assert response.status_code == 200, response.text
    return int(response.json()["results"]["bindings"][0]["n"]["value"])


def test_subclass_count_is_complete_with_inference(client: TestClient) -> None:
    """The issue's query: every cooperation instrument with inference, only the directly typed ones without."""
    direct = count(client, "SELECT (COUNT(DISTINCT ?i) AS ?n) { ?i a ioir:CooperationInstrument }", infer="false")
    full = count(
        client,
        "SELECT (COUNT(DISTINCT ?i) AS ?n) { ?i a/rdfs:subClassOf* ioir:CooperationInstrument }",
        infer="false",
    )
    assert 0 < direct < full
    query = "SELECT (COUNT(?i) AS ?n) { ?i a ioir:CooperationInstrument }"
    assert count(client, query) == full
    assert count(client, query, infer="true") == full
    assert count(client, query, infer="false") == direct


def test_inverse_property(client: TestClient) -> None:
    """A mandate authorizes every mission that has it as mandate (``owl:inverseOf``)."""
    both = "SELECT (COUNT(*) AS ?n) { SELECT DISTINCT ?m ?x { ?x ioir:hasMandate|^ioir:authorizes ?m } }"
    expected = count(client, both, infer="false")
    direct = count(client, "SELECT (COUNT(*) AS ?n) { ?m ioir:authorizes ?x }", infer="false")
    assert direct < expected
    assert count(client, "SELECT (COUNT(*) AS ?n) { ?m ioir:authorizes ?x }") == expected
    assert count(client, "SELECT (COUNT(*) AS ?n) { ?x ioir:hasMandate ?m }") == expected


def test_transitive_part(client: TestClient) -> None:
    """A unit of a body of an organization is a (transitive) sub-organization of the organization."""
    path = "(org:subOrganizationOf|org:unitOf|^org:hasSubOrganization|^org:hasUnit)+"
    expected = count(client, f"SELECT (COUNT(*) AS ?n) {{ SELECT DISTINCT ?a ?b {{ ?a {path} ?b }} }}", infer="false")
    one_step = count(
        client,
        "SELECT (COUNT(*) AS ?n) { SELECT DISTINCT ?a ?b { ?a org:subOrganizationOf|org:unitOf ?b } }",
        infer="false",
    )
    assert one_step < expected
    query = "SELECT (COUNT(*) AS ?n) { ?a org:transitiveSubOrganizationOf ?b }"
    assert count(client, query) == expected
    assert count(client, query, infer="false") == 0


def test_explicit_dataset_is_honoured(client: TestClient) -> None:
    """``default-graph-uri`` wins over the switch; ``GRAPH <inferred>`` still reads the entailments."""
    query = "SELECT (COUNT(*) AS ?n) { ?s ?p ?o }"
    inferred = count(client, query, infer="false", **{"default-graph-uri": INFERRED})
    assert inferred > 0
    assert count(client, f"SELECT (COUNT(*) AS ?n) {{ GRAPH <{INFERRED}> {{ ?s ?p ?o }} }}", infer="false") == inferred


def test_no_inferred_triple_is_asserted(client: TestClient) -> None:
    """The inferred graph holds only new triples: none of them is in another graph."""
    query = (
        f"SELECT (COUNT(*) AS ?n) {{ GRAPH <{INFERRED}> {{ ?s ?p ?o }} "
        f"GRAPH ?g {{ ?s ?p ?o }} FILTER(?g != <{INFERRED}>) }}"
    )
    assert count(client, query) == 0


def test_switch_is_announced_and_checked(client: TestClient) -> None:
    """The answer says whether it includes the inferred graph; a bad value is a 400."""
    query = PREFIXES + "ASK { ?s ?p ?o }"
    assert client.get("/sparql", params={"query": query}).headers["IOIR-Inference"] == "true"
    assert client.get("/sparql", params={"query": query, "infer": "false"}).headers["IOIR-Inference"] == "false"
    response = client.post("/sparql", data={"query": query, "infer": "false"})
    assert response.headers["IOIR-Inference"] == "false"
    bad = client.get("/sparql", params={"query": query, "infer": "maybe"})
    assert bad.status_code == 400
    assert "infer" in bad.json()["detail"]
