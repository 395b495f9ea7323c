"""``POST /validate`` and ``/assertions`` through the real app: tokens, body formats and limits, report formats,
provenance, paging, reading, retracting, concurrent submissions and a restart."""

from __future__ import annotations

import json
import threading
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from rdflib import Graph, Literal, Namespace, URIRef
from rdflib.namespace import PROV, RDF, SH

from ioir_kg.api.app import create_app
from tests.assertions.conftest import (
    ADMIN,
    ALICE,
    BOB,
    PREFIXES,
    QUOTE,
    TURTLE,
    dependency,
    settings_for,
)

IOIR = Namespace("https://w3id.org/ioir/ontology#")
ID = "https://w3id.org/ioir/id/"


def submit(client: TestClient, body: str, headers: dict[str, str] = ALICE, **params: str) -> dict[str, object]:
    """Submit ``body`` with the default quote; assert it was accepted and return the record."""
    response = client.post("/assertions", content=body, headers={**TURTLE, **headers}, params={**QUOTE, **params})
    assert response.status_code == 201, response.text
    record: dict[str, object] = response.json()
    return record


def ask(client: TestClient, query: str) -> bool:
    """The answer of an ``ASK`` query through ``/sparql``."""
    answer = client.get("/sparql", params={"query": query}, headers={"Accept": "application/sparql-results+json"})
    assert answer.status_code == 200, answer.text
    result: bool = answer.json()["boolean"]
    return result


# -- tokens --------------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("headers", "status"),
    [({}, 401), ({"Authorization": "Bearer wrong-token-wrong-token"}, 401), ({"Authorization": "Basic abc"}, 401)],
)
def test_submissions_need_a_token(api: TestClient, headers: dict[str, str], status: int) -> None:
    response = api.post("/assertions", content=dependency("no-token"), headers={**TURTLE, **headers}, params=QUOTE)
    assert response.status_code == status
    assert response.headers["www-authenticate"].startswith("Bearer")
    assert response.headers["content-type"].startswith("application/problem+json")
    assert "wrong-token" not in response.text


def test_submissions_are_refused_without_configured_tokens(fresh_store: Path) -> None:
    settings = settings_for(fresh_store, admin_token=None, contributor_tokens=[])
    with TestClient(create_app(settings)) as client:
        response = client.post("/assertions", content=dependency("x"), headers={**TURTLE, **ALICE}, params=QUOTE)
        assert response.status_code == 403
        assert client.post("/validate", content=dependency("x"), headers=TURTLE, params=QUOTE).status_code == 200


def test_admin_may_credit_a_contributor_but_contributors_only_themselves(api: TestClient) -> None:
    record = submit(api, dependency("credited-to-bob"), ADMIN, contributor="bob")
    assert record["contributor"] == "bob"
    refused = api.post(
        "/assertions",
        content=dependency("alice-as-bob"),
        headers={**TURTLE, **ALICE},
        params={**QUOTE, "contributor": "bob"},
    )
    assert refused.status_code == 403


# -- bodies --------------------------------------------------------------------------------------------------------


def test_json_ld_and_n_triples_bodies(api: TestClient) -> None:
    jsonld = {
        "@context": {"ioir": "https://w3id.org/ioir/ontology#", "skos": "http://www.w3.org/2004/02/skos/core#"},
        "@id": f"{ID}dependency/test-json-ld",
        "@type": "ioir:ResourceDependency",
        "skos:prefLabel": {"@value": "A dependency sent as JSON-LD", "@language": "en"},
        "ioir:dependent": {"@id": f"{ID}org/eu"},
        "ioir:provider": {"@id": f"{ID}org/nato"},
        "ioir:resourceType": {"@id": f"{ID}concept/resource-information"},
        "ioir:dependencyLevel": {"@id": f"{ID}concept/level-micro"},
    }
    headers = {**ALICE, "Content-Type": "application/ld+json"}
    response = api.post("/assertions", content=json.dumps(jsonld), headers=headers, params=QUOTE)
    assert response.status_code == 201, response.text

    nt = (
        f"<{ID}dependency/test-n-triples> <{RDF}type> <{IOIR}ResourceDependency> .\n"
        f'<{ID}dependency/test-n-triples> <http://www.w3.org/2004/02/skos/core#prefLabel> "N-Triples"@en .\n'
        f"<{ID}dependency/test-n-triples> <{IOIR}dependent> <{ID}org/eu> .\n"
        f"<{ID}dependency/test-n-triples> <{IOIR}provider> <{ID}org/un> .\n"
        f"<{ID}dependency/test-n-triples> <{IOIR}resourceType> <{ID}concept/resource-funding> .\n"
        f"<{ID}dependency/test-n-triples> <{IOIR}dependencyLevel> <{ID}concept/level-micro> .\n"
    )
    headers = {**ALICE, "Content-Type": "application/n-triples"}
    assert api.post("/assertions", content=nt, headers=headers, params=QUOTE).status_code == 201


def test_json_ld_never_fetches_a_remote_context(api: TestClient) -> None:
    body = json.dumps({"@context": "http://schema.org/", "@id": f"{ID}org/x", "name": "X"})
    response = api.post("/validate", content=body, headers={"Content-Type": "application/ld+json"})
    assert response.status_code == 400
    assert response.json()["errors"][0]["rule"] == "syntax"


def test_named_graphs_are_refused(api: TestClient) -> None:
    body = json.dumps(
        {
            "@id": "http://example.org/my-graph",
            "@graph": [{"@id": f"{ID}org/eu", f"{IOIR}headquarters": {"@id": f"{ID}place/brussels"}}],
        }
    )
    response = api.post("/validate", content=body, headers={"Content-Type": "application/ld+json"})
    assert response.status_code == 200
    assert {r["rule"] for r in response.json()["results"]} == {"no-named-graphs"}


def test_other_media_types_are_refused(api: TestClient) -> None:
    response = api.post("/validate", content="<a> <b> <c> <d> .", headers={"Content-Type": "application/n-quads"})
    assert response.status_code == 415
    assert api.post("/validate", content="x").status_code == 415


def test_a_body_over_the_byte_limit_is_refused(fresh_store: Path) -> None:
    with TestClient(create_app(settings_for(fresh_store, max_body_bytes=2048))) as client:
        body = dependency("big") + "#" + "x" * 4096 + "\n"
        response = client.post("/assertions", content=body, headers={**TURTLE, **ALICE}, params=QUOTE)
        assert response.status_code == 413
        assert client.post("/validate", content=body, headers=TURTLE).status_code == 413


def test_quote_needs_its_source_and_must_be_verbatim(api: TestClient) -> None:
    body = dependency("misquoted")
    missing = api.post("/validate", content=body, headers=TURTLE, params={"quote": "a quote without a source"})
    assert missing.status_code == 422
    unknown = api.post("/validate", content=body, headers=TURTLE, params={"source": "s9", "quote": "x"})
    assert unknown.status_code == 422
    wrong = api.post(
        "/validate", content=body, headers=TURTLE, params={"source": "s001", "quote": QUOTE["quote"]}
    ).json()
    assert wrong["conforms"] is False
    assert {r["rule"] for r in wrong["results"]} == {"verbatim-quote"}


# -- reports -------------------------------------------------------------------------------------------------------

BAD = PREFIXES + (
    '<mission/test-report-mission> a ioir:Mission ; skos:prefLabel "Report mission"@en ;\n'
    "    ioir:launchedBy <person/javier-solana> .\n"
)


def test_report_in_json_turtle_and_html(api: TestClient) -> None:
    report = api.post("/validate", content=BAD, headers=TURTLE, params=QUOTE).json()
    assert report["conforms"] is False
    launched = [r for r in report["results"] if r["rule"] == "S05"]
    assert launched
    assert launched[0]["focus"] == f"{ID}mission/test-report-mission"
    assert launched[0]["path"] == f"{IOIR}launchedBy"
    assert launched[0]["value"] == f"{ID}person/javier-solana"
    assert launched[0]["source"] == "https://w3id.org/ioir/ontology/shapes#S05"
    assert "launching organization of a mission must be" in launched[0]["explanation"]
    assert "“Javier Solana” is a person" in launched[0]["explanation"]
    assert report["consistency"]["reasoner"] == "axioms"

    turtle = api.post("/validate", content=BAD, headers={**TURTLE, "Accept": "text/turtle"}, params=QUOTE)
    assert turtle.headers["content-type"].startswith("text/turtle")
    graph = Graph().parse(data=turtle.text, format="turtle")
    (node,) = graph.subjects(RDF.type, SH.ValidationReport)
    assert graph.value(node, SH.conforms) == Literal(False)
    foci = {graph.value(r, SH.focusNode) for r in graph.objects(node, SH.result)}
    assert URIRef(f"{ID}mission/test-report-mission") in foci

    page = api.post("/validate", content=BAD, headers=TURTLE, params={**QUOTE, "format": "html"})
    assert page.headers["content-type"].startswith("text/html")
    assert "<table>" in page.text
    assert "Javier Solana" in page.text

    assert api.post("/validate", content=BAD, headers={**TURTLE, "Accept": "image/png"}).status_code == 406


def test_rejection_is_problem_json_with_the_report(api: TestClient) -> None:
    response = api.post("/assertions", content=BAD, headers={**TURTLE, **ALICE}, params=QUOTE)
    assert response.status_code == 422
    problem = response.json()
    assert problem["title"] == "Assertion rejected"
    assert "nothing was written" in problem["detail"]
    assert {"S05", "owl:disjointWith"} <= {e["rule"] for e in problem["errors"]}


# -- provenance, reading, paging -----------------------------------------------------------------------------------


def test_accepted_assertion_has_provenance_and_evidence(api: TestClient) -> None:
    record = submit(api, dependency("with-provenance"), comment="checked against the source")
    graph = URIRef(str(record["graph"]))
    turtle = api.get(str(record["location"]), headers={"Accept": "text/turtle"})
    assert turtle.status_code == 200
    assert turtle.headers["content-type"].startswith("text/turtle")
    data = Graph().parse(data=turtle.text, format="turtle")
    assert data.value(graph, PROV.wasAttributedTo) == URIRef(f"{ID}contributor/alice")
    assert data.value(graph, PROV.generatedAtTime) is not None
    evidence = data.value(graph, PROV.wasDerivedFrom)
    assert evidence == URIRef(f"{ID}evidence/assertion-{record['id']}")
    assert str(data.value(evidence, PROV.value)) == QUOTE["quote"]
    assert (URIRef(f"{ID}dependency/with-provenance"), IOIR.evidence, evidence) in data

    as_json = api.get(str(record["location"]), headers={"Accept": "application/json"}).json()
    assert as_json["quote"] == QUOTE["quote"]
    assert as_json["source"] == f"{ID}source/s002"
    assert as_json["comment"] == "checked against the source"
    assert as_json["triples"] == record["triples"]
    assert "ioir:dependent" in as_json["turtle"]


def test_listing_is_paged_newest_first(api: TestClient) -> None:
    ids = [submit(api, dependency(f"paged-{n}"))["id"] for n in range(3)]
    first = api.get("/assertions", params={"per_page": 2})
    assert first.status_code == 200
    body = first.json()
    assert body["total"] >= 3
    assert [item["id"] for item in body["items"]] == ids[::-1][:2]
    assert 'rel="next"' in first.headers["link"]
    second = api.get(body["next"]).json()
    assert second["page"] == 2
    assert second["items"][0]["id"] == ids[0]
    assert api.get("/assertions", params={"per_page": 0}).status_code == 422


def test_unknown_assertions_are_404(api: TestClient) -> None:
    assert api.get("/assertions/00000000-0000-4000-8000-000000000000").status_code == 404
    assert api.get("/assertions/not-a-uuid").status_code == 404
    assert api.delete("/assertions/00000000-0000-4000-8000-000000000000", headers=ADMIN).status_code == 404


# -- retracting ----------------------------------------------------------------------------------------------------


def test_retract_by_submitter_or_admin_only(api: TestClient) -> None:
    record = submit(api, dependency("retracted"))
    location = str(record["location"])
    assert api.delete(location, headers=BOB).status_code == 403
    assert api.delete(location).status_code == 401
    assert ask(api, f"ASK {{ <{ID}dependency/retracted> ?p ?o }}") is True
    assert api.delete(location, headers=ALICE).status_code == 204
    assert api.get(location).status_code == 404
    assert ask(api, f"ASK {{ <{ID}dependency/retracted> ?p ?o }}") is False
    again = submit(api, dependency("retracted-by-admin"))
    assert api.delete(str(again["location"]), headers=ADMIN).status_code == 204


def test_retracting_what_others_build_on_is_a_conflict(api: TestClient) -> None:
    place = submit(api, PREFIXES + '<place/test-conflict-region> a ioir:Region ; skos:prefLabel "Conflict region"@en .')
    user = submit(api, dependency("on-the-region", extra="; ioir:theatre <place/test-conflict-region> "))
    conflict = api.delete(str(place["location"]), headers=ADMIN)
    assert conflict.status_code == 409
    assert conflict.json()["errors"][0] == {"entity": f"{ID}place/test-conflict-region", "graph": user["graph"]}
    assert api.delete(str(user["location"]), headers=ADMIN).status_code == 204
    assert api.delete(str(place["location"]), headers=ADMIN).status_code == 204


# -- writes: atomic, serialised, durable ---------------------------------------------------------------------------


def test_concurrent_submissions_do_not_interleave(fresh_store: Path) -> None:
    """Submissions race to give one new dependency its single formalisation, each a different one: one wins."""
    with TestClient(create_app(settings_for(fresh_store))) as client:
        submit(client, dependency("race"))
        levels = ["high", "low"]
        statuses: list[int] = []
        barrier = threading.Barrier(len(levels))

        def race(level: str) -> None:
            body = PREFIXES + f"<dependency/race> ioir:formalisation <concept/formalisation-{level}> ."
            barrier.wait()
            response = client.post("/assertions", content=body, headers={**TURTLE, **ALICE}, params=QUOTE)
            statuses.append(response.status_code)

        threads = [threading.Thread(target=race, args=(level,)) for level in levels]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        assert sorted(statuses) == [201, 422]
        count = f"SELECT (COUNT(?l) AS ?n) WHERE {{ <{ID}dependency/race> <{IOIR}formalisation> ?l }}"
        rows = client.get("/sparql", params={"query": count}).json()["results"]["bindings"]
        assert rows[0]["n"]["value"] == "1"


def test_accepted_assertions_survive_a_restart(fresh_store: Path) -> None:
    settings = settings_for(fresh_store)
    with TestClient(create_app(settings)) as client:
        record = submit(client, dependency("durable"))
    with TestClient(create_app(settings)) as client:
        reread = client.get(str(record["location"]), headers={"Accept": "application/json"})
        assert reread.status_code == 200
        assert reread.json()["triples"] == record["triples"]
        assert ask(client, f"ASK {{ GRAPH <{record['graph']}> {{ <{ID}dependency/durable> ?p ?o }} }}") is True
        assert record["id"] in [item["id"] for item in client.get("/assertions").json()["items"]]
