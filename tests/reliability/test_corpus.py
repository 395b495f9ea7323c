"""A corpus of malformed SPARQL, RDF, headers and encodings: each answers 4xx with a message, never 5xx.

The SPARQL and RDF cases are files under ``corpus/`` (the name says what is wrong); headers and encodings are tables
here, the protocol-level ones sent as raw bytes over a socket (what no HTTP client library would send). App-level
refusals are problem details with a ``detail``; requests that are not HTTP at all are refused by uvicorn itself with
a plain-text message.
"""

from __future__ import annotations

import socket
from pathlib import Path

import httpx
import pytest

from tests.reliability.server import ADMIN, CONTRIBUTOR_AUTH, Server

CORPUS = Path(__file__).parent / "corpus"
SPARQL_CASES = sorted((CORPUS / "sparql").glob("*.rq"))
RDF_CASES = sorted((CORPUS / "rdf").iterdir())
RDF_TYPES = {
    ".ttl": "text/turtle",
    ".nt": "application/n-triples",
    ".jsonld": "application/ld+json",
    ".rdf": "application/rdf+xml",
}


def assert_refused(response: httpx.Response, *, where: str) -> None:
    """A 4xx with problem details that say what is wrong."""
    assert 400 <= response.status_code < 500, (where, response.status_code, response.text[:300])
    assert response.headers["content-type"].startswith("application/problem+json"), where
    body = response.json()
    assert body["status"] == response.status_code, where
    assert body["title"], where
    assert len(body["detail"]) > 5, where


@pytest.mark.parametrize("case", SPARQL_CASES, ids=lambda p: p.stem)
def test_malformed_sparql_is_refused_with_a_message(shared_server: Server, case: Path) -> None:
    text = case.read_text(encoding="utf-8")
    with shared_server.client() as client:
        assert_refused(client.get("/sparql", params={"query": text}), where=f"GET {case.name}")
        assert_refused(client.post("/sparql", data={"query": text}), where=f"form {case.name}")
        body = client.post("/sparql", content=text.encode(), headers={"Content-Type": "application/sparql-query"})
        assert_refused(body, where=f"body {case.name}")
        update = client.post(
            "/sparql", content=text.encode(), headers={"Content-Type": "application/sparql-update", **ADMIN}
        )
        if case.stem not in ("update-as-query", "only-comment"):  # well-formed updates (the second one empty)
            assert_refused(update, where=f"update {case.name}")


@pytest.mark.parametrize("case", RDF_CASES, ids=lambda p: p.name)
def test_malformed_rdf_is_refused_with_a_message(shared_server: Server, case: Path) -> None:
    media_type = RDF_TYPES[case.suffix]
    body = case.read_bytes()
    with shared_server.client() as client:
        before = client.get("/health").json()["triples"]
        targets = [
            ("PUT", "/rdf-graph-store?graph=https://example.org/corpus", ADMIN),
            ("POST", "/rdf-graph-store?graph=https://example.org/corpus", ADMIN),
            ("POST", "/validate", {}),
            ("POST", "/assertions", CONTRIBUTOR_AUTH),
        ]
        for method, path, auth in targets:
            response = client.request(method, path, content=body, headers={"Content-Type": media_type, **auth})
            assert_refused(response, where=f"{method} {path} {case.name}")
        assert client.get("/health").json()["triples"] == before


#: Well-formed HTTP with values the app must refuse: (name, method, path, headers, body).
HEADER_CASES: list[tuple[str, str, str, dict[str, str], bytes]] = [
    ("content-type-garbage", "POST", "/sparql", {"Content-Type": ";;;=="}, b"ASK {}"),
    ("content-type-missing", "POST", "/sparql", {}, b"ASK {}"),
    ("unknown-charset", "POST", "/sparql", {"Content-Type": "application/sparql-query; charset=x-none"}, b"ASK {}"),
    ("nothing-acceptable", "GET", "/sparql?query=ASK%7B%7D", {"Accept": "image/png"}, b""),
    ("accept-q-zero", "GET", "/sparql?query=ASK%7B%7D", {"Accept": "*/*;q=0"}, b""),
    ("accept-garbage-only", "GET", "/id/org/nato", {"Accept": "garbage"}, b""),
    ("authorization-not-bearer", "PUT", "/rdf-graph-store?graph=urn:x", {"Authorization": "Digest x=y"}, b""),
    (
        "authorization-bearer-only",
        "POST",
        "/assertions",
        {"Authorization": "Bearer", "Content-Type": "text/turtle"},
        b"",
    ),
    ("graph-store-no-content-type", "PUT", "/rdf-graph-store?graph=urn:x", ADMIN, b"<urn:s> <urn:p> <urn:o> ."),
    ("graph-store-unknown-type", "PUT", "/rdf-graph-store?graph=urn:x", {**ADMIN, "Content-Type": "text/csv"}, b"a,b"),
    ("validate-unknown-type", "POST", "/validate", {"Content-Type": "application/json"}, b"{}"),
    ("huge-header", "GET", "/health", {"X-Filler": "x" * 70_000}, b""),
    ("many-headers", "GET", "/health", {f"X-H{i}": "v" * 60 for i in range(1200)}, b""),
]


@pytest.mark.parametrize(("name", "method", "path", "headers", "body"), HEADER_CASES, ids=[c[0] for c in HEADER_CASES])
def test_malformed_headers_are_refused_with_a_message(
    shared_server: Server, name: str, method: str, path: str, headers: dict[str, str], body: bytes
) -> None:
    with shared_server.client() as client:
        assert_refused(client.request(method, path, headers=headers, content=body), where=name)


#: Bodies and URLs in broken encodings: (name, method, path, content type, body).
ENCODING_CASES: list[tuple[str, str, str, str, bytes]] = [
    ("query-invalid-utf8", "POST", "/sparql", "application/sparql-query", b'ASK { ?s ?p "\xff\xfe" }'),
    ("query-overlong-utf8", "POST", "/sparql", "application/sparql-query", b'ASK { ?s ?p "\xc0\xaf" }'),
    ("query-surrogate-utf8", "POST", "/sparql", "application/sparql-query", b'ASK { ?s ?p "\xed\xa0\x80" }'),
    ("query-utf16-bom", "POST", "/sparql", "application/sparql-query", "ASK { ?s ?p ?o }".encode("utf-16")),
    ("form-raw-non-ascii", "POST", "/sparql", "application/x-www-form-urlencoded", b"query=ASK{\xe9}"),
    ("form-bad-percent", "POST", "/sparql", "application/x-www-form-urlencoded", b"query=%ZZ%"),
    ("form-nul", "POST", "/sparql", "application/x-www-form-urlencoded", b"query=ASK%00%7B%7D"),
    ("turtle-invalid-utf8", "POST", "/validate", "text/turtle", b'<org/x> <urn:p> "\xff" .'),
    ("turtle-utf16", "POST", "/validate", "text/turtle", '<org/x> <urn:p> "x" .'.encode("utf-16")),
    ("jsonld-utf16", "POST", "/validate", "application/ld+json", b"\xff\xfe{\x00}\x00"),
    ("url-nul-in-query", "GET", "/sparql?query=ASK%00%7B%7D", "", b""),
    ("url-nul-in-search", "GET", "/search?q=ab%00cd", "", b""),
    ("url-invalid-utf8", "GET", "/sparql?query=ASK%7B%3Fs%20%3Fp%20%22%FF%FE%22%7D", "", b""),
    ("path-nul", "GET", "/id/org/na%00to", "", b""),
    ("path-control", "GET", "/id/%18/0", "", b""),
    ("path-non-latin-1", "GET", "/id/org/%F3%B6%84%82", "", b""),
    ("path-invalid-utf8", "GET", "/id/org/%FF%FE", "", b""),
]


@pytest.mark.parametrize(
    ("name", "method", "path", "content_type", "body"), ENCODING_CASES, ids=[c[0] for c in ENCODING_CASES]
)
def test_broken_encodings_are_refused_with_a_message(
    shared_server: Server, name: str, method: str, path: str, content_type: str, body: bytes
) -> None:
    headers = {"Content-Type": content_type} if content_type else {}
    with shared_server.client() as client:
        assert_refused(client.request(method, path, headers=headers, content=body), where=name)


#: Requests that are not valid HTTP/1.1, as raw bytes.
RAW_CASES: dict[str, bytes] = {
    "not-http": b"HELLO\r\n\r\n",
    "bad-content-length": b"POST /sparql HTTP/1.1\r\nHost: x\r\nContent-Length: abc\r\n\r\n",
    "negative-content-length": b"POST /sparql HTTP/1.1\r\nHost: x\r\nContent-Length: -5\r\n\r\n",
    "two-content-lengths": b"POST /sparql HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\nContent-Length: 7\r\n\r\nabcde",
    "bad-chunk-size": b"POST /sparql HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\nZZ\r\nabc\r\n0\r\n\r\n",
    "nul-in-path": b"GET /he\x00alth HTTP/1.1\r\nHost: x\r\n\r\n",
    "space-in-header-name": b"GET /health HTTP/1.1\r\nHost: x\r\nBad Header: x\r\n\r\n",
    "bare-cr-in-header": b"GET /health HTTP/1.1\r\nHost: x\r\nX-A: a\rb\r\n\r\n",
    "no-header-end-then-close": b"GET /health HTTP/1.1\r\nHost: x\r\nX-A: a\r\n\r\n\r\nGARBAGE / HTTP/1.1\r\n\r\n",
    "bad-version": b"GET /health HTTP/9.9\r\nHost: x\r\n\r\n",
    "smuggling-te-and-cl": (
        b"POST /sparql HTTP/1.1\r\nHost: x\r\nContent-Length: 4\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\nGET"
    ),
}


def _raw(server: Server, data: bytes) -> bytes:
    with socket.create_connection(("127.0.0.1", server.port), timeout=10) as sock:
        sock.sendall(data)
        received = b""
        try:
            while chunk := sock.recv(65536):
                received += chunk
        except TimeoutError:
            pass
        return received


@pytest.mark.parametrize("name", list(RAW_CASES))
def test_requests_that_are_not_http_get_400_with_a_message(shared_server: Server, name: str) -> None:
    answer = _raw(shared_server, RAW_CASES[name])
    status_line, _, rest = answer.partition(b"\r\n")
    statuses = [int(line.split()[1]) for line in answer.split(b"\r\n") if line.startswith(b"HTTP/1.1 ")]
    assert statuses, (name, answer[:200])
    assert any(400 <= status < 500 for status in statuses), (name, answer[:300])
    assert not any(status >= 500 for status in statuses), (name, answer[:300])
    assert rest.partition(b"\r\n\r\n")[2].strip(), (name, answer[:300])  # a message, not an empty body
    assert status_line


def test_a_valid_query_that_aborts_pyoxigraph_costs_one_worker_only(shared_server: Server) -> None:
    """A pyoxigraph bug (ORDER BY over values without a total order aborts the process) stays in its worker."""
    text = (CORPUS / "order-by-abort.rq").read_text(encoding="utf-8")
    with shared_server.client() as client:
        response = client.get("/sparql", params={"query": text})
        assert response.status_code in (200, 503), response.text
        if response.status_code == 503:
            assert "worker" in response.json()["detail"]
        for _ in range(4):
            assert client.get("/sparql", params={"query": "ASK { ?s ?p ?o }"}).json()["boolean"] is True
    assert shared_server.process.poll() is None
