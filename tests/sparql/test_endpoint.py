"""``/sparql`` through the ASGI app: the SPARQL 1.1 Protocol, negotiation, errors, updates, CORS."""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from pyoxigraph import QueryBoolean, QueryResultsFormat, RdfFormat, parse, parse_query_results

from tests.conftest import backend_of
from tests.sparql.sparql_helpers import ADMIN_TOKEN, AUTH, make_client

EX = "http://ex.org/"
G1, G2 = f"{EX}g1", f"{EX}g2"
SELECT_ALL = "SELECT ?s ?p ?o WHERE { ?s ?p ?o } ORDER BY ?s ?p ?o"
DATA = {
    G1: f'<{EX}a> <{EX}p> "alpha"@en . <{EX}a> <{EX}q> <{EX}b> .',
    G2: f"<{EX}b> <{EX}p> 2 .",
}
FORM = "application/x-www-form-urlencoded"


@pytest.fixture(scope="module")
def client(empty_client: TestClient) -> TestClient:
    """The module's app with two named graphs and one default-graph triple (union default graph on)."""
    for graph, body in DATA.items():
        response = empty_client.put(
            "/rdf-graph-store", params={"graph": graph}, content=body, headers={**AUTH, "Content-Type": "text/turtle"}
        )
        assert response.status_code == 201, response.text
    response = empty_client.put(
        "/rdf-graph-store",
        params={"default": ""},
        content=f'<{EX}d> <{EX}p> "in default" .',
        headers={**AUTH, "Content-Type": "application/n-triples"},
    )
    assert response.status_code == 204
    return empty_client


def _rows(body: bytes, fmt: QueryResultsFormat = QueryResultsFormat.JSON) -> list[dict[str, str]]:
    result = parse_query_results(body, fmt)
    assert not isinstance(result, QueryBoolean)
    names = [v.value for v in result.variables]
    return [{n: str(row[n]) for n in names if row[n] is not None} for row in result]


# -- the three ways to send a query ----------------------------------------------------------------------


def test_get_post_form_and_post_body_agree(client: TestClient) -> None:
    """GET ?query=, POST form and POST application/sparql-query give the same JSON answer."""
    by_get = client.get("/sparql", params={"query": SELECT_ALL})
    by_form = client.post("/sparql", data={"query": SELECT_ALL})
    by_body = client.post("/sparql", content=SELECT_ALL, headers={"Content-Type": "application/sparql-query"})
    for response in (by_get, by_form, by_body):
        assert response.status_code == 200, response.text
        assert response.headers["content-type"] == "application/sparql-results+json"
        assert "Accept" in response.headers["vary"]
    assert by_get.content == by_form.content == by_body.content
    rows = _rows(by_get.content)
    assert len(rows) == 4  # union default graph: both named graphs and the default graph
    assert {"s": f"<{EX}a>", "p": f"<{EX}p>", "o": '"alpha"@en'} in rows


@pytest.mark.parametrize(
    ("params", "expected"),
    [
        ({"default-graph-uri": G1}, {f"<{EX}a>"}),
        ({"default-graph-uri": [G1, G2]}, {f"<{EX}a>", f"<{EX}b>"}),
        ({"named-graph-uri": G2}, set()),  # a dataset with only named graphs: empty default graph
    ],
)
def test_protocol_dataset(client: TestClient, params: dict[str, object], expected: set[str]) -> None:
    """``default-graph-uri`` sets the default graph (no union); ``named-graph-uri`` the named ones."""
    response = client.get("/sparql", params={"query": "SELECT DISTINCT ?s { ?s ?p ?o }", **params})
    assert response.status_code == 200, response.text
    assert {row["s"] for row in _rows(response.content)} == expected


def test_named_graph_uri_limits_graph_patterns(client: TestClient) -> None:
    """``GRAPH ?g`` sees only the named graphs of the protocol dataset, in a POST form too."""
    form = {"query": "SELECT ?g { GRAPH ?g { ?s ?p ?o } }", "named-graph-uri": G2}
    response = client.post("/sparql", data=form)
    assert {row["g"] for row in _rows(response.content)} == {f"<{G2}>"}


def test_dataset_in_the_url_with_a_query_body(client: TestClient) -> None:
    """With ``application/sparql-query``, the dataset parameters come in the URL."""
    response = client.post(
        "/sparql",
        params={"default-graph-uri": G2},
        content="SELECT ?o { ?s ?p ?o }",
        headers={"Content-Type": "application/sparql-query"},
    )
    assert [row["o"] for row in _rows(response.content)] == ['"2"^^<http://www.w3.org/2001/XMLSchema#integer>']


def test_relative_iris_resolve_against_the_entity_base(client: TestClient) -> None:
    """A query without BASE resolves relative IRIs against ``{base}id/`` (as the data files do)."""
    response = client.get("/sparql", params={"query": "SELECT ?x { BIND(<org/nato> AS ?x) }"})
    base = client.app.state.settings.base_uri  # type: ignore[attr-defined]
    assert _rows(response.content) == [{"x": f"<{base}id/org/nato>"}]


# -- result formats ---------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("accept", "media_type", "fmt"),
    [
        ("application/sparql-results+json", "application/sparql-results+json", QueryResultsFormat.JSON),
        ("application/sparql-results+xml", "application/sparql-results+xml", QueryResultsFormat.XML),
        ("text/tab-separated-values", "text/tab-separated-values", QueryResultsFormat.TSV),
        ("application/xml, */*;q=0.1", "application/sparql-results+xml", QueryResultsFormat.XML),
    ],
)
def test_select_formats(client: TestClient, accept: str, media_type: str, fmt: QueryResultsFormat) -> None:
    """Every SELECT format parses back to the same solutions."""
    response = client.get("/sparql", params={"query": SELECT_ALL}, headers={"Accept": accept})
    assert response.status_code == 200
    assert response.headers["content-type"].split(";")[0] == media_type
    reference = client.get("/sparql", params={"query": SELECT_ALL})
    assert _rows(response.content, fmt) == _rows(reference.content)


def test_csv(client: TestClient) -> None:
    """CSV: a header of variable names, plain values."""
    response = client.get("/sparql", params={"query": SELECT_ALL}, headers={"Accept": "text/csv"})
    assert response.headers["content-type"] == "text/csv; charset=utf-8"
    table = list(csv.reader(io.StringIO(response.text)))
    assert table[0] == ["s", "p", "o"]
    assert [f"{EX}a", f"{EX}p", "alpha"] in table


@pytest.mark.parametrize(
    ("accept", "fmt"),
    [
        ("text/turtle", RdfFormat.TURTLE),
        ("application/n-triples", RdfFormat.N_TRIPLES),
        ("application/ld+json", RdfFormat.JSON_LD),
        ("application/rdf+xml", RdfFormat.RDF_XML),
        ("application/n-quads", RdfFormat.N_QUADS),
        ("application/trig", RdfFormat.TRIG),
        (None, RdfFormat.TURTLE),
    ],
)
def test_construct_formats(client: TestClient, accept: str | None, fmt: RdfFormat) -> None:
    """CONSTRUCT answers in every RDF syntax, Turtle by default, with the query's prefixes."""
    query = f"PREFIX ex: <{EX}> CONSTRUCT {{ ?s ex:r ?o }} WHERE {{ GRAPH ?g {{ ?s ex:q ?o }} }}"
    headers = {"Accept": accept} if accept else {}
    response = client.get("/sparql", params={"query": query}, headers=headers)
    assert response.status_code == 200, response.text
    assert response.headers["content-type"].split(";")[0] == fmt.media_type
    triples = [q.triple for q in parse(response.content, fmt)]
    assert [str(t) for t in triples] == [f"<{EX}a> <{EX}r> <{EX}b>"]
    if fmt == RdfFormat.TURTLE:
        assert f"@prefix ex: <{EX}>" in response.text


def test_ask_and_describe(client: TestClient) -> None:
    """ASK answers a boolean in the results formats; DESCRIBE a graph."""
    ask = client.get("/sparql", params={"query": f"ASK {{ <{EX}a> ?p ?o }}"}, headers={"Accept": "text/*"})
    assert ask.headers["content-type"].startswith("text/csv")
    xml = client.get("/sparql", params={"query": "ASK { ?s ?p 3 }"}, headers={"Accept": "application/xml"})
    assert bool(parse_query_results(xml.content, QueryResultsFormat.XML)) is False
    describe = client.get("/sparql", params={"query": f"DESCRIBE <{EX}b>"}, headers={"Accept": "application/n-triples"})
    assert describe.status_code == 200
    assert f"<{EX}b> <{EX}p> " in describe.text


@pytest.mark.parametrize(
    ("query", "fmt", "media_type"),
    [
        (SELECT_ALL, "csv", "text/csv"),
        (SELECT_ALL, "json", "application/sparql-results+json"),
        ("CONSTRUCT WHERE { ?s ?p ?o }", "json", "application/ld+json"),
        ("CONSTRUCT WHERE { ?s ?p ?o }", "nt", "application/n-triples"),
        (SELECT_ALL, "application/sparql-results+xml", "application/sparql-results+xml"),
    ],
)
def test_format_parameter_overrides_accept(client: TestClient, query: str, fmt: str, media_type: str) -> None:
    """``format=`` wins over ``Accept`` (in the URL, or in a form)."""
    response = client.get("/sparql", params={"query": query, "format": fmt}, headers={"Accept": "image/png"})
    assert response.status_code == 200
    assert response.headers["content-type"].split(";")[0] == media_type
    form = client.post("/sparql", data={"query": query, "format": fmt})
    assert form.headers["content-type"].split(";")[0] == media_type


@pytest.mark.parametrize(
    ("query", "accept", "supported"),
    [
        (SELECT_ALL, "text/turtle", "application/sparql-results+json"),
        ("CONSTRUCT WHERE { ?s ?p ?o }", "text/csv", "text/turtle"),
        ("ASK {}", "application/sparql-results+json;q=0, application/sparql-results+xml;q=0, text/*;q=0", "text/csv"),
    ],
)
def test_not_acceptable(client: TestClient, query: str, accept: str, supported: str) -> None:
    """406 with problem details that list the supported media types; nothing is evaluated."""
    response = client.get("/sparql", params={"query": query}, headers={"Accept": accept})
    assert response.status_code == 406
    problem = response.json()
    assert response.headers["content-type"] == "application/problem+json"
    assert supported in problem["detail"]
    assert supported in {e["media_type"] for e in problem["errors"]}


def test_unknown_format_parameter_is_not_acceptable(client: TestClient) -> None:
    """``format=`` that fits nothing: 406."""
    response = client.get("/sparql", params={"query": SELECT_ALL, "format": "turtle"})
    assert response.status_code == 406


def test_sparqlwrapper_parameters_are_ignored(client: TestClient) -> None:
    """SPARQLWrapper sends output= and results= beside format=json: unknown parameters are ignored."""
    params = {"query": SELECT_ALL, "format": "json", "output": "json", "results": "json"}
    assert client.get("/sparql", params=params).status_code == 200


# -- errors -------------------------------------------------------------------------------------------------


def test_syntax_error_is_400_with_position(client: TestClient) -> None:
    """A syntax error: 400 problem details carrying the parser's message and line:column."""
    response = client.get("/sparql", params={"query": "SELECT * WHERE {\n  ?s ?p }"})
    assert response.status_code == 400
    problem = response.json()
    assert problem["title"] == "Bad SPARQL query"
    assert "2:" in problem["detail"]
    assert "expected" in problem["detail"]


@pytest.mark.parametrize(
    ("method", "kwargs", "status", "fragment"),
    [
        ("get", {"params": {"query": "SELECT * {}", "update": "CLEAR ALL"}}, 400, "not both"),
        ("get", {"params": {"update": "CLEAR ALL"}}, 400, "POST"),
        ("get", {"params": [("query", "ASK {}"), ("query", "ASK {}")]}, 400, "once"),
        ("get", {"params": {"query": "   "}}, 400, "empty"),
        ("get", {"params": {"query": "ASK {}", "default-graph-uri": "not an iri"}}, 400, "IRI"),
        ("post", {"content": "ASK {}", "headers": {"Content-Type": "text/plain"}}, 415, "application/sparql-query"),
        ("post", {"content": "ASK {}"}, 415, "Content-Type"),
        (
            "post",
            {"content": b"\xff\xfe", "headers": {"Content-Type": "application/sparql-query"}},
            400,
            "utf-8",
        ),
        (
            "post",
            {
                "params": {"query": "ASK {}"},
                "content": "ASK {}",
                "headers": {"Content-Type": "application/sparql-query"},
            },
            400,
            "body",
        ),
        ("get", {"params": {"query": "SELECT * { SERVICE <http://example.org/sparql> { ?s ?p ?o } }"}}, 400, "SERVICE"),
    ],
)
def test_bad_requests(client: TestClient, method: str, kwargs: dict[str, object], status: int, fragment: str) -> None:
    """Malformed protocol requests get problem details, never a 500."""
    response = getattr(client, method)("/sparql", **kwargs)
    assert response.status_code == status, response.text
    assert fragment in response.json()["detail"]


def test_body_limit(tmp_path: Path) -> None:
    """A body over IOIR_MAX_BODY_BYTES is refused with 413, in a form or as a raw query."""
    with make_client(tmp_path / "store", max_body_bytes=1000) as small:
        long_query = "ASK {}" + " " * 2000
        raw = small.post("/sparql", content=long_query, headers={"Content-Type": "application/sparql-query"})
        assert raw.status_code == 413
        assert small.post("/sparql", data={"query": long_query}).status_code == 413
        assert small.get("/sparql", params={"query": "ASK {}" + " " * 1000}).status_code == 413


def test_unknown_functions_are_evaluation_errors(client: TestClient) -> None:
    """SPARQL 1.1 §17.6: an unknown function leaves its variable unbound instead of failing the query.

    Virtuoso refuses the query instead (a documented difference of the remote backend): 400 naming the function.
    """
    query = "PREFIX f: <http://example.org/f#> SELECT ?x ?y { BIND(f:nothing(1) AS ?x) BIND(2 AS ?y) }"
    response = client.get("/sparql", params={"query": query})
    if backend_of(client) == "remote":
        assert response.status_code == 400
        assert "nothing" in response.json()["detail"]
        return
    assert response.status_code == 200
    assert _rows(response.content) == [{"y": '"2"^^<http://www.w3.org/2001/XMLSchema#integer>'}]


# -- the row cap and streaming -------------------------------------------------------------------------------


def _numbers(count: int) -> str:
    return " ".join(str(i) for i in range(count))


@pytest.fixture(scope="module")
def capped(tmp_path_factory: pytest.TempPathFactory) -> Iterator[TestClient]:
    """An app whose answers carry at most 5000 rows."""
    with make_client(tmp_path_factory.mktemp("capped") / "store", max_result_rows=5000) as client:
        yield client


@pytest.mark.parametrize(
    ("rows", "truncated"),
    [(4999, "false"), (5000, "false"), (5001, "true")],
)
def test_row_cap_flags_truncation(capped: TestClient, rows: int, truncated: str) -> None:
    """A small answer is sent whole: ``IOIR-Row-Limit`` and an exact ``IOIR-Truncated`` flag."""
    query = f"SELECT ?n {{ VALUES ?n {{ {_numbers(rows)} }} }}"
    response = capped.get("/sparql", params={"query": query}, headers={"Accept": "text/tab-separated-values"})
    assert response.status_code == 200
    assert response.headers["ioir-row-limit"] == "5000"
    assert response.headers["ioir-truncated"] == truncated
    assert len(response.text.splitlines()) == 1 + min(rows, 5000)


def test_row_cap_applies_to_graphs(capped: TestClient) -> None:
    """CONSTRUCT answers are capped in triples."""
    rows = _numbers(6000)
    query = f"CONSTRUCT {{ <u:s> <u:p> ?o }} WHERE {{ VALUES ?n {{ {rows} }} BIND(IRI(CONCAT('u:', STR(?n))) AS ?o) }}"
    response = capped.get("/sparql", params={"query": query}, headers={"Accept": "application/n-triples"})
    assert response.headers["ioir-truncated"] == "true"
    assert len(response.text.splitlines()) == 5000


def test_large_answers_are_streamed(capped: TestClient) -> None:
    """Past 256 KiB the answer streams (chunked, no Content-Length) and stops at the cap, still valid JSON."""
    query = f"SELECT ?a ?b {{ VALUES ?a {{ {_numbers(100)} }} VALUES ?b {{ {_numbers(100)} }} }}"
    with capped.stream("GET", "/sparql", params={"query": query}) as response:
        assert response.status_code == 200
        assert "content-length" not in response.headers
        assert response.headers["ioir-row-limit"] == "5000"
        assert "ioir-truncated" not in response.headers  # unknown when the head was sent
        body = b"".join(response.iter_bytes())
    assert len(json.loads(body)["results"]["bindings"]) == 5000


def test_uncapped_large_answer(client: TestClient) -> None:
    """With the default cap (100 000 rows) a 40 000-row answer arrives whole and in order."""
    query = f"SELECT ?a ?b {{ VALUES ?a {{ {_numbers(200)} }} VALUES ?b {{ {_numbers(200)} }} }} ORDER BY ?a ?b"
    response = client.get("/sparql", params={"query": query}, headers={"Accept": "text/csv"})
    lines = response.text.splitlines()
    assert len(lines) == 40_001
    assert lines[1] == "0,0"
    assert lines[-1] == "199,199"


# -- service description -----------------------------------------------------------------------------------------

SD = "http://www.w3.org/ns/sparql-service-description#"


def test_service_description_in_turtle_by_default(client: TestClient) -> None:
    """GET /sparql without a query: sd:Service in Turtle with formats, features and the named graphs."""
    response = client.get("/sparql")
    assert response.status_code == 200
    assert response.headers["content-type"] == "text/turtle; charset=utf-8"
    triples = [q.triple for q in parse(response.content, RdfFormat.TURTLE)]
    facts = {(str(t.predicate), str(t.object)) for t in triples}
    assert (f"<{SD}endpoint>", "<http://testserver/sparql>") in facts
    assert (f"<{SD}supportedLanguage>", f"<{SD}SPARQL11Query>") in facts
    assert (f"<{SD}feature>", f"<{SD}UnionDefaultGraph>") in facts
    assert (f"<{SD}resultFormat>", "<http://www.w3.org/ns/formats/SPARQL_Results_CSV>") in facts
    assert (f"<{SD}name>", f"<{G1}>") in facts
    assert (f"<{SD}name>", f"<{G2}>") in facts


@pytest.mark.parametrize("fmt", [RdfFormat.N_TRIPLES, RdfFormat.JSON_LD, RdfFormat.RDF_XML])
def test_service_description_formats(client: TestClient, fmt: RdfFormat) -> None:
    """The description is negotiated like any graph."""
    response = client.get("/sparql", headers={"Accept": fmt.media_type})
    assert response.headers["content-type"].split(";")[0] == fmt.media_type
    assert any(str(q.object) == f"<{SD}Service>" for q in parse(response.content, fmt))


def test_query_page_for_browsers(client: TestClient) -> None:
    """A browser's Accept gets the HTML query form, which submits to the endpoint."""
    accept = "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8"
    response = client.get("/sparql", headers={"Accept": accept})
    assert response.headers["content-type"].startswith("text/html")
    assert '<form method="get" action="http://testserver/sparql">' in response.text
    assert 'name="query"' in response.text


# -- updates -------------------------------------------------------------------------------------------------------


def test_updates_need_the_admin_token(client: TestClient) -> None:
    """No token or a wrong one: 401 with a Bearer challenge; nothing changes. Reads need no token."""
    update = f"INSERT DATA {{ GRAPH <{EX}refused> {{ <{EX}x> <{EX}y> 1 }} }}"
    for headers in ({}, {"Authorization": "Bearer wrong-token-0123456789"}, {"Authorization": f"Basic {ADMIN_TOKEN}"}):
        response = client.post("/sparql", data={"update": update}, headers=headers)
        assert response.status_code == 401
        assert response.headers["www-authenticate"].startswith("Bearer")
        assert ADMIN_TOKEN not in response.text
    ask = client.get("/sparql", params={"query": f"ASK {{ GRAPH <{EX}refused> {{ ?s ?p ?o }} }}"})
    assert json.loads(ask.content)["boolean"] is False


def test_update_with_token_is_applied_and_visible(client: TestClient) -> None:
    """With the token: 204, and the next query (on any worker) sees the change."""
    update = f"INSERT DATA {{ GRAPH <{EX}u2> {{ <{EX}x> <{EX}y> 1 }} }}"
    response = client.post("/sparql", content=update, headers={**AUTH, "Content-Type": "application/sparql-update"})
    assert response.status_code == 204
    for _ in range(4):  # every worker, not just the first
        ask = client.get("/sparql", params={"query": f"ASK {{ GRAPH <{EX}u2> {{ <{EX}x> ?p 1 }} }}"})
        assert json.loads(ask.content)["boolean"] is True


def test_update_is_atomic(client: TestClient) -> None:
    """A request of several operations whose last one fails leaves nothing behind.

    On Virtuoso each operation is applied on its own (a documented difference of the remote backend): the
    request fails, and what the operations before the failing one did stays.
    """
    update = f"INSERT DATA {{ GRAPH <{EX}atomic> {{ <{EX}x> <{EX}y> 1 }} }} ; CREATE GRAPH <{G1}>"
    response = client.post("/sparql", data={"update": update}, headers=AUTH)
    assert response.status_code == 400, response.text
    remote = backend_of(client) == "remote"
    assert "nothing was changed" in response.json()["detail"] or remote
    ask = client.get("/sparql", params={"query": f"ASK {{ GRAPH <{EX}atomic> {{ ?s ?p ?o }} }}"})
    assert json.loads(ask.content)["boolean"] is remote


@pytest.mark.parametrize(
    ("update", "fragment"),
    [
        ("LOAD <http://example.org/data.ttl>", "LOAD"),
        ("INSERT { ?s ?p ?o } WHERE { SERVICE <http://example.org/sparql> { ?s ?p ?o } }", "SERVICE"),
        ("INSERT DATA { <a> }", "syntax"),
        ("using", "syntax"),
    ],
)
def test_refused_updates(client: TestClient, update: str, fragment: str) -> None:
    """LOAD, unlisted SERVICE and syntax errors: 400, even with the token."""
    response = client.post("/sparql", data={"update": update}, headers=AUTH)
    assert response.status_code == 400
    assert fragment in response.json()["detail"]


def test_writes_are_forbidden_without_a_configured_token(tmp_path: Path) -> None:
    """No IOIR_ADMIN_TOKEN: every update is 403, whatever the request carries."""
    with make_client(tmp_path / "store", admin_token=None) as locked:
        response = locked.post("/sparql", data={"update": "CLEAR ALL"}, headers=AUTH)
        assert response.status_code == 403
        assert locked.get("/sparql", params={"query": "ASK {}"}).status_code == 200


# -- CORS ----------------------------------------------------------------------------------------------------------


def test_cors_for_queries(client: TestClient) -> None:
    """Queries answer cross-origin requests; preflights allow GET/POST without credentials or Authorization."""
    origin = {"Origin": "https://elsewhere.example"}
    response = client.get("/sparql", params={"query": "ASK {}"}, headers=origin)
    assert response.headers["access-control-allow-origin"] == "*"
    preflight = client.options(
        "/sparql",
        headers={**origin, "Access-Control-Request-Method": "POST", "Access-Control-Request-Headers": "content-type"},
    )
    assert preflight.status_code == 200
    assert "POST" in preflight.headers["access-control-allow-methods"]
    assert "access-control-allow-credentials" not in preflight.headers
    with_auth = client.options(
        "/sparql",
        headers={**origin, "Access-Control-Request-Method": "POST", "Access-Control-Request-Headers": "authorization"},
    )
    assert with_auth.status_code == 400
    gsp_write = client.options("/rdf-graph-store", headers={**origin, "Access-Control-Request-Method": "PUT"})
    assert gsp_write.status_code == 400
    health = client.get("/health", headers=origin)
    assert "access-control-allow-origin" not in health.headers
