"""``/rdf-graph-store``: the SPARQL 1.1 Graph Store HTTP Protocol through the ASGI app."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from pyoxigraph import RdfFormat, parse

from tests.conftest import BACKENDS
from tests.sparql.sparql_helpers import AUTH, backend_client, make_client

EX = "http://gsp.example.org/"
TURTLE = f'@prefix ex: <{EX}> .\nex:a ex:p "one" ; ex:q [ ex:r 1 ] .\n'
GSP = "/rdf-graph-store"


@pytest.fixture(params=BACKENDS)
def client(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[TestClient]:
    """A fresh app over an empty dataset on each backend (the default graph is not the union here)."""
    with backend_client(request, tmp_path, union_default_graph=False) as test_client:
        yield test_client


def _put(client: TestClient, params: dict[str, str], body: str, media_type: str = "text/turtle") -> int:
    return client.put(GSP, params=params, content=body, headers={**AUTH, "Content-Type": media_type}).status_code


def _triples(client: TestClient, params: dict[str, str]) -> set[str]:
    response = client.get(GSP, params=params, headers={"Accept": "application/n-triples"})
    assert response.status_code == 200, response.text
    return {str(q.triple) for q in parse(response.content, RdfFormat.N_TRIPLES)}


def test_put_get_replace_delete_named_graph(client: TestClient) -> None:
    """PUT creates (201) then replaces (204); GET returns it; DELETE drops it (204, then 404)."""
    graph = {"graph": f"{EX}g"}
    assert _put(client, graph, TURTLE) == 201
    assert f'<{EX}a> <{EX}p> "one"' in _triples(client, graph)
    assert _put(client, graph, f'<{EX}b> <{EX}p> "2" .', "application/n-triples") == 204
    assert _triples(client, graph) == {f'<{EX}b> <{EX}p> "2"'}
    assert client.delete(GSP, params=graph, headers=AUTH).status_code == 204
    assert client.get(GSP, params=graph).status_code == 404
    assert client.delete(GSP, params=graph, headers=AUTH).status_code == 404


def test_post_merges(client: TestClient) -> None:
    """POST adds to the graph (201 when new), blank nodes of each body stay distinct."""
    graph = {"graph": f"{EX}merge"}
    headers = {**AUTH, "Content-Type": "text/turtle"}
    assert client.post(GSP, params=graph, content=f"_:x <{EX}p> 1 .", headers=headers).status_code == 201
    assert client.post(GSP, params=graph, content=f"_:x <{EX}p> 2 .", headers=headers).status_code == 204
    query = f"SELECT (COUNT(DISTINCT ?s) AS ?n) {{ GRAPH <{EX}merge> {{ ?s ?p ?o }} }}"
    answer = client.get("/sparql", params={"query": query}).json()
    assert answer["results"]["bindings"][0]["n"]["value"] == "2"


def test_default_graph(client: TestClient) -> None:
    """?default addresses the store's default graph: PUT 204, GET, DELETE empties it."""
    assert _put(client, {"default": ""}, TURTLE) == 204
    assert len(_triples(client, {"default": ""})) == 3
    assert client.delete(GSP, params={"default": ""}, headers=AUTH).status_code == 204
    assert _triples(client, {"default": ""}) == set()


@pytest.mark.parametrize(
    ("media_type", "body"),
    [
        ("application/ld+json", json.dumps({"@id": f"{EX}a", f"{EX}p": "one"})),
        (
            "application/rdf+xml",
            f'<rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#" xmlns:ex="{EX}">'
            f'<rdf:Description rdf:about="{EX}a"><ex:p>one</ex:p></rdf:Description></rdf:RDF>',
        ),
        ("application/n-triples", f'<{EX}a> <{EX}p> "one" .'),
        ("text/turtle; charset=utf-8", f'<{EX}a> <{EX}p> "one" .'),
        ("application/trig", f'<{EX}a> <{EX}p> "one" .'),
    ],
)
def test_body_formats(client: TestClient, media_type: str, body: str) -> None:
    """Every RDF syntax is accepted as a body."""
    assert _put(client, {"graph": f"{EX}fmt"}, body, media_type) == 201
    assert _triples(client, {"graph": f"{EX}fmt"}) == {f'<{EX}a> <{EX}p> "one"'}


def test_relative_iris_resolve_against_the_graph(client: TestClient) -> None:
    """Relative IRIs in the body resolve against the graph IRI."""
    assert _put(client, {"graph": f"{EX}dir/g"}, "<a> <p> <b> .") == 201
    assert _triples(client, {"graph": f"{EX}dir/g"}) == {f"<{EX}dir/a> <{EX}dir/p> <{EX}dir/b>"}


@pytest.mark.parametrize(
    ("accept", "fmt"),
    [
        (None, RdfFormat.TURTLE),
        ("application/ld+json", RdfFormat.JSON_LD),
        ("application/rdf+xml", RdfFormat.RDF_XML),
        ("application/n-quads", RdfFormat.N_QUADS),
        ("application/trig", RdfFormat.TRIG),
    ],
)
def test_get_negotiates(client: TestClient, accept: str | None, fmt: RdfFormat) -> None:
    """GET answers in the negotiated syntax; N-Quads and TriG keep the graph name."""
    graph = f"{EX}neg"
    assert _put(client, {"graph": graph}, TURTLE) == 201
    response = client.get(GSP, params={"graph": graph}, headers={"Accept": accept} if accept else {})
    assert response.status_code == 200, response.text
    assert response.headers["content-type"].split(";")[0] == fmt.media_type
    assert response.headers["vary"].startswith("Accept")
    quads = list(parse(response.content, fmt))
    assert len(quads) == 3
    names = {q.graph_name.value if fmt in (RdfFormat.N_QUADS, RdfFormat.TRIG) else "" for q in quads}
    assert names == ({graph} if fmt in (RdfFormat.N_QUADS, RdfFormat.TRIG) else {""})


def test_head_and_whole_dataset(client: TestClient) -> None:
    """HEAD answers headers only (404 for an unknown graph); no parameter means every graph as N-Quads."""
    assert _put(client, {"graph": f"{EX}h"}, TURTLE) == 201
    assert _put(client, {"default": ""}, f"<{EX}d> <{EX}p> 0 .") == 204
    head = client.head(GSP, params={"graph": f"{EX}h"}, headers={"Accept": "application/ld+json"})
    assert head.status_code == 200
    assert head.headers["content-type"] == "application/ld+json"
    assert head.content == b""
    assert client.head(GSP, params={"graph": f"{EX}none"}).status_code == 404
    dump = client.get(GSP)
    assert dump.headers["content-type"] == "application/n-quads"
    names = {
        q.graph_name.value if hasattr(q.graph_name, "value") else "" for q in parse(dump.content, RdfFormat.N_QUADS)
    }
    assert names == {f"{EX}h", ""}
    assert client.get(GSP, headers={"Accept": "text/turtle"}).status_code == 406


@pytest.mark.parametrize(
    ("method", "params", "headers", "body", "status"),
    [
        ("put", {"graph": f"{EX}x"}, {}, TURTLE, 401),
        ("put", {"graph": f"{EX}x"}, {"Authorization": "Bearer nope-nope-nope-nope"}, TURTLE, 401),
        ("post", {"graph": f"{EX}x"}, {}, TURTLE, 401),
        ("delete", {"graph": f"{EX}x"}, {}, None, 401),
        ("put", {"graph": f"{EX}x"}, {**AUTH, "Content-Type": "text/turtle"}, "<a> <b> .", 400),
        ("put", {"graph": f"{EX}x"}, {**AUTH, "Content-Type": "text/csv"}, TURTLE, 415),
        ("put", {"graph": f"{EX}x"}, AUTH, TURTLE, 415),
        ("put", {"graph": "relative"}, {**AUTH, "Content-Type": "text/turtle"}, TURTLE, 400),
        ("put", {"graph": f"{EX}x", "default": ""}, {**AUTH, "Content-Type": "text/turtle"}, TURTLE, 400),
        ("put", {}, {**AUTH, "Content-Type": "text/turtle"}, TURTLE, 400),
        (
            "put",
            {"graph": f"{EX}x"},
            {**AUTH, "Content-Type": "application/n-quads"},
            f"<{EX}s> <{EX}p> 1 <{EX}g> .",
            400,
        ),
        ("get", {"graph": f"{EX}x"}, {"Accept": "text/csv"}, None, 406),
        ("get", {"graph": f"{EX}never"}, {}, None, 404),
    ],
)
def test_refusals(
    client: TestClient, method: str, params: dict[str, str], headers: dict[str, str], body: str | None, status: int
) -> None:
    """Writes need the token; bad bodies, types and graph names are refused; nothing is written."""
    kwargs: dict[str, object] = {"params": params, "headers": headers}
    if body is not None:
        kwargs["content"] = body
    response = client.request(method.upper(), GSP, **kwargs)  # type: ignore[arg-type]
    assert response.status_code == status, response.text
    assert response.headers["content-type"] == "application/problem+json"
    assert client.get(GSP, params={"graph": f"{EX}x"}).status_code == 404


def test_body_limit(tmp_path: Path) -> None:
    """A body over IOIR_MAX_BODY_BYTES: 413, nothing written."""
    with make_client(tmp_path / "store", max_body_bytes=100) as small:
        body = f'<{EX}a> <{EX}p> "{"x" * 200}" .'
        status = _put(small, {"graph": f"{EX}big"}, body, "application/n-triples")
        assert status == 413
        assert small.get(GSP, params={"graph": f"{EX}big"}).status_code == 404


def test_reads_need_no_token_and_writes_are_forbidden_without_one(tmp_path: Path) -> None:
    """No admin token configured: writes 403, reads fine."""
    with make_client(tmp_path / "store", admin_token=None) as locked:
        assert _put(locked, {"graph": f"{EX}g"}, TURTLE) == 403
        assert locked.get(GSP).status_code == 200
