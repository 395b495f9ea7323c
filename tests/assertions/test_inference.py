"""Accepting and retracting an assertion keep the inferred graph equal to a full recomputation (both backends)."""

from __future__ import annotations

from fastapi.testclient import TestClient

from ioir_kg.store.inference import asserted_triples, current_inferred, entailments, inferred_graph_iri
from tests.assertions.conftest import ALICE, PREFIXES, QUOTE, TURTLE


def _in_step(api: TestClient) -> set[object]:
    """The stored inferred graph, checked against the entailments recomputed from the asserted graphs."""
    store, settings = api.app.state.store, api.app.state.settings  # type: ignore[attr-defined]
    stored = current_inferred(store, settings)
    assert stored == entailments(asserted_triples(store, settings), settings)
    return stored  # type: ignore[return-value]


def test_accept_and_retract_keep_the_entailments_current(api: TestClient) -> None:
    before = _in_step(api)
    body = PREFIXES + (
        "<org/test-inference-org> a ioir:InternationalOrganization ;\n"
        ' skos:prefLabel "Test inference organization"@en .\n'
        "<body/test-inference-unit> a ioir:OrganizationalBody ;"
        ' skos:prefLabel "Test inference unit"@en ;\n'
        "    <http://www.w3.org/ns/org#unitOf> <org/test-inference-org> .\n"
    )
    response = api.post("/assertions", content=body, headers={**TURTLE, **ALICE}, params=QUOTE)
    assert response.status_code == 201, response.text
    after = _in_step(api)
    assert after > before
    inferred = inferred_graph_iri(api.app.state.settings)  # type: ignore[attr-defined]
    query = (
        f"ASK {{ GRAPH <{inferred}> {{ <https://w3id.org/ioir/id/body/test-inference-unit> "
        "<http://www.w3.org/ns/org#transitiveSubOrganizationOf> <https://w3id.org/ioir/id/org/test-inference-org> } }"
    )
    answer = api.get("/sparql", params={"query": query}, headers={"Accept": "application/sparql-results+json"})
    assert answer.json()["boolean"] is True
    retracted = api.delete(f"/assertions/{response.json()['id']}", headers=ALICE)
    assert retracted.status_code == 204, retracted.text
    assert _in_step(api) == before
