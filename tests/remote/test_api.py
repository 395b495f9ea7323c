"""The HTTP API through the real ASGI app, on the embedded store and on Virtuoso, each answer compared with the
embedded store's (``embedded_client``): SPARQL protocol, graph store, competency queries, entity pages, VoID, dump,
pages; then what happens when the remote server fails. (The ``client`` fixture runs each test on
both backends; writes are tested on both by tests/sparql and tests/assertions.)"""

from __future__ import annotations

import csv
import io
from collections.abc import Callable
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from pyoxigraph import BlankNode, QueryResultsFormat, RdfFormat, parse, parse_query_results

from ioir_kg.api.app import create_app
from ioir_kg.config import Settings
from tests.backends import ADMIN_TOKEN, AUTH

ID = "https://w3id.org/ioir/id/"
ONTOLOGY_GRAPH = "https://w3id.org/ioir/graph/ontology/ioir"
JSON = {"Accept": "application/sparql-results+json"}
HERE = Path(__file__).resolve().parent
VALID = HERE.parent / "assertions" / "valid"
INVALID = HERE.parent / "assertions" / "invalid"


def _solutions(body: bytes, fmt: QueryResultsFormat = QueryResultsFormat.JSON) -> list[tuple[str, ...]]:
    result = parse_query_results(body, fmt)
    names = [v.value for v in result.variables]  # type: ignore[union-attr]
    return [tuple("" if row[n] is None else str(row[n]) for n in names) for row in result]  # type: ignore[union-attr]


def _triples(body: bytes, fmt: RdfFormat) -> set[str]:
    """Triples as text, blank nodes blanked out (their labels differ between stores)."""
    out = set()
    for quad in parse(body, fmt):
        terms = [quad.subject, quad.predicate, quad.object]
        out.add(" ".join("_:b" if isinstance(t, BlankNode) else str(t) for t in terms))
    return out


# -- reading the bundled data ----------------------------------------------------------------------------------


def test_health_reports_the_backend_and_the_same_size(client: TestClient, embedded_client: TestClient) -> None:
    body = client.get("/health").json()
    assert body["status"] == "ok"
    assert body["backend"] == client.app.state.store.backend  # type: ignore[attr-defined]
    assert body["triples"] == embedded_client.get("/health").json()["triples"]


QUERY = """PREFIX skos: <http://www.w3.org/2004/02/skos/core#> PREFIX ioir: <https://w3id.org/ioir/ontology#>
SELECT ?org ?label WHERE { ?org a ioir:InternationalOrganization ; skos:prefLabel ?label } ORDER BY ?label"""


@pytest.mark.parametrize(
    ("accept", "fmt"),
    [
        ("application/sparql-results+json", QueryResultsFormat.JSON),
        ("application/sparql-results+xml", QueryResultsFormat.XML),
        ("text/tab-separated-values", QueryResultsFormat.TSV),
        ("text/csv", QueryResultsFormat.CSV),
    ],
)
def test_sparql_select_in_every_format(
    client: TestClient, embedded_client: TestClient, accept: str, fmt: QueryResultsFormat
) -> None:
    response = client.get("/sparql", params={"query": QUERY}, headers={"Accept": accept})
    assert response.status_code == 200, response.text
    assert response.headers["content-type"].split(";")[0] == accept
    reference = embedded_client.get("/sparql", params={"query": QUERY}, headers={"Accept": accept})
    if fmt == QueryResultsFormat.CSV:
        assert list(csv.reader(io.StringIO(response.text))) == list(csv.reader(io.StringIO(reference.text)))
    else:
        assert _solutions(response.content, fmt) == _solutions(reference.content, fmt)
    assert len(_solutions(reference.content, QueryResultsFormat.JSON) if fmt == QueryResultsFormat.JSON else [1]) > 0


def test_sparql_post_construct_ask_and_dataset(client: TestClient, embedded_client: TestClient) -> None:
    construct = f"CONSTRUCT {{ <{ID}org/nato> ?p ?o }} WHERE {{ <{ID}org/nato> ?p ?o }}"
    for accept, fmt in (("text/turtle", RdfFormat.TURTLE), ("application/n-triples", RdfFormat.N_TRIPLES)):
        response = client.post("/sparql", data={"query": construct}, headers={"Accept": accept})
        assert response.status_code == 200
        reference = embedded_client.post("/sparql", data={"query": construct}, headers={"Accept": accept})
        assert _triples(response.content, fmt) == _triples(reference.content, fmt)
    ask = client.post(
        "/sparql",
        content=f"ASK {{ <{ID}org/nato> ?p ?o }}",
        headers={**JSON, "Content-Type": "application/sparql-query"},
    )
    assert ask.json()["boolean"] is True
    count = "SELECT (COUNT(*) AS ?n) WHERE { ?s ?p ?o }"
    params = {"query": count, "default-graph-uri": ONTOLOGY_GRAPH}
    assert _solutions(client.get("/sparql", params=params).content) == _solutions(
        embedded_client.get("/sparql", params=params).content
    )
    named = {"query": "SELECT DISTINCT ?g WHERE { GRAPH ?g { ?s ?p ?o } }", "named-graph-uri": ONTOLOGY_GRAPH}
    assert _solutions(client.get("/sparql", params=named).content) == [(f"<{ONTOLOGY_GRAPH}>",)]


@pytest.mark.parametrize(
    ("params", "status", "fragment"),
    [
        ({"query": "SELECT * WHERE { ?s ?p }"}, 400, ""),
        ({"query": "SELECT * { SERVICE <http://example.org/sparql> { ?s ?p ?o } }"}, 400, "SERVICE"),
        ({"update": "CLEAR ALL"}, 400, "POST"),
    ],
)
def test_sparql_errors_are_problem_details(
    client: TestClient, params: dict[str, str], status: int, fragment: str
) -> None:
    response = client.get("/sparql", params=params)
    assert response.status_code == status
    assert response.headers["content-type"] == "application/problem+json"
    assert fragment in response.json()["detail"]


def test_competency_queries_over_http(client: TestClient, embedded_client: TestClient) -> None:
    assert client.get("/queries").json() == embedded_client.get("/queries").json()
    for name, params in (("mission-successions", {}), ("instruments-between", {"a": "EU", "b": "NATO"})):
        response = client.get(f"/queries/{name}", params=params, headers=JSON)
        assert response.status_code == 200, response.text
        assert _solutions(response.content) == _solutions(
            embedded_client.get(f"/queries/{name}", params=params, headers=JSON).content
        )
    refused = client.get("/queries/missions-in-country", params={"place": "org/nato"})
    assert refused.status_code == 422


@pytest.mark.parametrize(
    ("accept", "fmt"), [("text/turtle", RdfFormat.TURTLE), ("application/ld+json", RdfFormat.JSON_LD)]
)
def test_entity_pages(client: TestClient, embedded_client: TestClient, accept: str, fmt: RdfFormat) -> None:
    for path in ("/id/org/nato", "/id/mission/eupm"):
        response = client.get(path, headers={"Accept": accept})
        assert response.status_code == 200, response.text
        assert response.headers["vary"].startswith("Accept")
        assert _triples(response.content, fmt) == _triples(
            embedded_client.get(path, headers={"Accept": accept}).content, fmt
        )
    page = client.get("/id/org/nato", headers={"Accept": "text/html"})
    assert page.status_code == 200
    assert "North Atlantic Treaty Organization" in page.text
    assert client.get("/id/org/no-such-org", headers={"Accept": "text/turtle"}).status_code == 404


def test_graph_store_void_dump_and_pages(client: TestClient, embedded_client: TestClient) -> None:
    nt = {"Accept": "application/n-triples"}
    graph = {"graph": ONTOLOGY_GRAPH}
    got = client.get("/rdf-graph-store", params=graph, headers=nt)
    assert got.status_code == 200
    assert _triples(got.content, RdfFormat.N_TRIPLES) == _triples(
        embedded_client.get("/rdf-graph-store", params=graph, headers=nt).content, RdfFormat.N_TRIPLES
    )
    void = client.get("/void", headers={"Accept": "text/turtle"})
    assert void.status_code == 200
    assert "void:sparqlEndpoint" in void.text or "sparqlEndpoint" in void.text
    dump = client.get("/dump.nq")
    assert dump.status_code == 200
    assert len(list(parse(dump.content, RdfFormat.N_QUADS))) == embedded_client.get("/health").json()["triples"]
    for path in ("/", "/network", "/queries/instruments-between"):
        assert client.get(path, headers={"Accept": "text/html"}).status_code == 200
    assert _unordered(client.get("/network/data").json()) == _unordered(embedded_client.get("/network/data").json())


def _unordered(value: object) -> object:
    """``value`` with its lists of strings or of numbers sorted (built from answers whose order SPARQL leaves open)."""
    if isinstance(value, dict):
        return {k: _unordered(v) for k, v in value.items()}
    if isinstance(value, list):
        items = [_unordered(v) for v in value]
        scalars = all(isinstance(v, str) for v in items) or all(isinstance(v, int | float) for v in items)
        return sorted(items) if scalars else items  # type: ignore[type-var]
    return value


# -- failures of the remote server ----------------------------------------------------------------------------


def test_a_remote_server_that_is_down_is_a_503(make_settings: Callable[..., Settings]) -> None:
    settings = make_settings(
        backend="remote",
        load_bundled=False,
        remote_query_url="http://127.0.0.1:9/sparql",
        remote_update_url="http://127.0.0.1:9/sparql-auth",
        remote_user="ioir",
        remote_password="secret-password",
        admin_token=ADMIN_TOKEN,
    )
    with TestClient(create_app(settings)) as down:
        health = down.get("/health")
        assert health.status_code == 503
        assert health.json()["status"] == "degraded"
        query = down.get("/sparql", params={"query": "ASK {}"})
        assert query.status_code == 503
        assert query.headers["content-type"] == "application/problem+json"
        assert "secret-password" not in query.text
        write = down.put(
            "/rdf-graph-store",
            params={"graph": "urn:g"},
            content="<urn:a> <urn:b> <urn:c> .",
            headers={**AUTH, "Content-Type": "text/turtle"},
        )
        assert write.status_code == 503


def test_a_long_query_over_http_is_a_503(remote_bundled: Settings) -> None:
    settings = remote_bundled.model_copy(update={"load_bundled": False, "query_timeout": 1.0})
    with TestClient(create_app(settings)) as slow:
        response = slow.get(
            "/sparql", params={"query": "SELECT (COUNT(*) AS ?n) WHERE { ?a ?p ?b . ?c ?q ?d . ?e ?r ?f }"}
        )
        assert response.status_code == 503
        assert response.json()["title"] == "Query timeout"
