"""The endpoint over the bundled knowledge graph (the shared, read-only ``client`` of ``tests/conftest.py``)."""

from __future__ import annotations

from fastapi.testclient import TestClient
from pyoxigraph import RdfFormat, parse

IOIR = "https://w3id.org/ioir/ontology#"
SD = "http://www.w3.org/ns/sparql-service-description#"


def test_query_over_the_bundled_data(client: TestClient) -> None:
    """The default graph is the union of the loaded graphs: the organizations are there."""
    query = f"SELECT (COUNT(DISTINCT ?o) AS ?n) {{ ?o a <{IOIR}InternationalOrganization> }}"
    response = client.get("/sparql", params={"query": query})
    assert response.status_code == 200
    assert int(response.json()["results"]["bindings"][0]["n"]["value"]) > 0


def test_service_description_lists_the_bundled_graphs(client: TestClient) -> None:
    """Every loaded graph appears in the service description with its size."""
    response = client.get("/sparql", headers={"Accept": "application/n-triples"})
    names = {q.object.value for q in parse(response.content, RdfFormat.N_TRIPLES) if q.predicate.value == SD + "name"}
    assert "https://w3id.org/ioir/graph/ontology/ioir" in names
    assert any(name.startswith("https://w3id.org/ioir/graph/data/") for name in names)


def test_graph_store_reads_a_bundled_graph(client: TestClient) -> None:
    """The ontology graph through the Graph Store Protocol, as Turtle."""
    response = client.get("/rdf-graph-store", params={"graph": "https://w3id.org/ioir/graph/ontology/ioir"})
    assert response.status_code == 200
    assert any(q.object.value == IOIR + "Mission" for q in parse(response.content, RdfFormat.TURTLE))
