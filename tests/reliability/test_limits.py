"""Every limit end to end, on a real uvicorn: body (413, every route), headers (431), query length (413) and
nesting (400), result rows, response size, time (503) — each a setting, each refusal a problem with a message."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import httpx
import pytest

from tests.reliability.server import ADMIN, CONTRIBUTOR_AUTH, Server, copy_store, start, stop

BODY_LIMIT = 64 * 1024
QUERY_CHARS = 5000
RESPONSE_CAP = 100_000
ROW_CAP = 1000
HEADER_LIMIT = 8192
PROBLEM = "application/problem+json"


@pytest.fixture(scope="module")
def limited(tmp_path_factory: pytest.TempPathFactory, seeded_store: Path) -> Iterator[Server]:
    """A server with small limits, so that each is reached with small requests."""
    folder = tmp_path_factory.mktemp("limited")
    env = {
        "IOIR_MAX_BODY_BYTES": str(BODY_LIMIT),
        "IOIR_MAX_QUERY_CHARS": str(QUERY_CHARS),
        "IOIR_MAX_RESPONSE_BYTES": str(RESPONSE_CAP),
        "IOIR_MAX_RESULT_ROWS": str(ROW_CAP),
        "IOIR_MAX_HEADER_BYTES": str(HEADER_LIMIT),
        "IOIR_QUERY_TIMEOUT": "2",
    }
    server = start(folder, copy_store(seeded_store, folder), env)
    try:
        yield server
    finally:
        stop(server)


def assert_problem(response: httpx.Response, status: int, *words: str) -> None:
    """The response is problem details with ``status`` and a detail naming each of ``words``."""
    assert response.status_code == status, response.text[:500]
    assert response.headers["content-type"].startswith(PROBLEM)
    body = response.json()
    assert body["status"] == status
    assert body["title"]
    for word in words:
        assert word in body["detail"], body["detail"]


def _chunks(size: int, piece: int = 8192) -> Iterator[bytes]:
    sent = 0
    while sent < size:
        yield b"#" * min(piece, size - sent)
        sent += piece


#: (method, path, headers): routes that read a body, and routes that never do.
BODY_ROUTES: list[tuple[str, str, dict[str, str]]] = [
    ("POST", "/sparql", {"Content-Type": "application/sparql-query"}),
    ("POST", "/sparql", {"Content-Type": "application/x-www-form-urlencoded"}),
    ("POST", "/sparql", {"Content-Type": "application/sparql-update", **ADMIN}),
    ("POST", "/validate", {"Content-Type": "text/turtle"}),
    ("POST", "/assertions", {"Content-Type": "text/turtle", **CONTRIBUTOR_AUTH}),
    ("PUT", "/rdf-graph-store?graph=https://example.org/big", {"Content-Type": "text/turtle", **ADMIN}),
    ("POST", "/rdf-graph-store?graph=https://example.org/big", {"Content-Type": "application/n-triples", **ADMIN}),
    ("PUT", "/rdf-graph-store?graph=https://example.org/big", {"Content-Type": "application/rdf+xml", **ADMIN}),
]
NO_BODY_ROUTES: list[tuple[str, str, dict[str, str]]] = [
    ("POST", "/health", {}),
    ("GET", "/id/org/nato", {}),
    ("DELETE", "/assertions/00000000-0000-0000-0000-000000000000", CONTRIBUTOR_AUTH),
    ("POST", "/no-such-route", {"Content-Type": "text/plain"}),
]


@pytest.mark.parametrize(("method", "path", "headers"), BODY_ROUTES + NO_BODY_ROUTES)
def test_a_declared_body_over_the_limit_is_refused_on_every_route(
    limited: Server, method: str, path: str, headers: dict[str, str]
) -> None:
    with limited.client() as client:
        response = client.request(method, path, content=b"#" * (BODY_LIMIT + 1), headers=headers)
    assert_problem(response, 413, str(BODY_LIMIT), "IOIR_MAX_BODY_BYTES")


@pytest.mark.parametrize(("method", "path", "headers"), BODY_ROUTES)
def test_a_chunked_body_is_cut_off_at_the_limit(
    limited: Server, method: str, path: str, headers: dict[str, str]
) -> None:
    with limited.client() as client:
        response = client.request(method, path, content=_chunks(4 * BODY_LIMIT), headers=headers)
    assert "content-length" not in {k.lower() for k in headers}
    assert_problem(response, 413, "IOIR_MAX_BODY_BYTES")


def test_a_body_within_the_limit_is_not_refused_for_its_size(limited: Server) -> None:
    query = "SELECT * WHERE { ?s ?p ?o } LIMIT 1 #"
    with limited.client() as client:
        response = client.post("/validate", content=b"# nothing\n" * 6000, headers={"Content-Type": "text/turtle"})
        assert response.status_code == 400  # parsed (it holds no triples), not refused for its size
        assert "no triples" in response.json()["detail"] or "empty" in response.json()["detail"]
        ok = client.post("/sparql", content=query, headers={"Content-Type": "application/sparql-query"})
    assert ok.status_code == 200


def test_headers_over_the_limit_get_431(limited: Server) -> None:
    with limited.client() as client:
        response = client.get("/health", headers={f"X-Padding-{i}": "x" * 100 for i in range(100)})
        assert_problem(response, 431, "IOIR_MAX_HEADER_BYTES")
        assert client.get("/health", headers={"X-Padding": "x" * 1000}).status_code == 200


def _padded(query: str, length: int) -> str:
    """``query`` followed by a comment, ``length`` characters in all."""
    return query + "\n#" + "x" * (length - len(query) - 2)


@pytest.mark.parametrize("how", ["get", "form", "body"])
def test_query_length_is_limited(limited: Server, how: str) -> None:
    base = "SELECT ?s WHERE { ?s a ?c } LIMIT 1"

    def send(client: httpx.Client, text: str) -> httpx.Response:
        if how == "get":
            return client.get("/sparql", params={"query": text})
        if how == "form":
            return client.post("/sparql", data={"query": text})
        return client.post("/sparql", content=text.encode(), headers={"Content-Type": "application/sparql-query"})

    with limited.client() as client:
        assert send(client, _padded(base, QUERY_CHARS)).status_code == 200
        assert_problem(send(client, _padded(base, QUERY_CHARS + 1)), 413, str(QUERY_CHARS), "IOIR_MAX_QUERY_CHARS")


@pytest.mark.parametrize(
    "text",
    [
        "SELECT * WHERE " + "{ " * 70 + "}" * 70,
        "SELECT * WHERE { FILTER(" + "(" * 70 + "true" + ")" * 70 + ") }",
        "SELECT * WHERE { ?s ?p " + "[ ?p " * 70 + "1" + " ]" * 70 + " }",
    ],
    ids=["groups", "parentheses", "blank-nodes"],
)
def test_deep_nesting_is_refused_before_parsing(limited: Server, text: str) -> None:
    with limited.client() as client:
        assert_problem(client.get("/sparql", params={"query": text}), 400, "IOIR_MAX_QUERY_DEPTH")
        update = "INSERT { <https://example.org/s> <https://example.org/p> 1 } WHERE " + text.partition("WHERE ")[2]
        response = client.post(
            "/sparql", content=update, headers={"Content-Type": "application/sparql-update", **ADMIN}
        )
        assert_problem(response, 400, "IOIR_MAX_QUERY_DEPTH")
        assert client.get("/health").status_code == 200


def _rows(count: int, width: int) -> str:
    """A query answering ``count`` rows, each a literal of ``width`` characters."""
    filler = "x" * width
    numbers = " ".join(str(n) for n in range(count))
    return f'SELECT ?v WHERE {{ VALUES ?n {{ {numbers} }} BIND(CONCAT(STR(?n), "{filler}") AS ?v) }}'


def test_result_rows_are_capped_and_flagged(limited: Server) -> None:
    with limited.client() as client:
        response = client.get("/sparql", params={"query": _rows(ROW_CAP + 200, 2)})
        assert response.status_code == 200
        assert len(response.json()["results"]["bindings"]) == ROW_CAP
        assert response.headers["IOIR-Row-Limit"] == str(ROW_CAP)
        assert response.headers["IOIR-Truncated"] == "true"
        whole = client.get("/sparql", params={"query": _rows(10, 2)})
        assert whole.headers["IOIR-Truncated"] == "false"


def test_a_whole_answer_over_the_response_cap_is_refused(limited: Server) -> None:
    # ~180 KB: sent whole by the endpoint (under its 256 KiB streaming threshold), with Content-Length
    with limited.client() as client:
        response = client.get("/sparql", params={"query": _rows(500, 300)})
        assert_problem(response, 422, str(RESPONSE_CAP), "IOIR_MAX_RESPONSE_BYTES")


def _drain(stream: httpx.Response, sizes: list[int]) -> Exception | None:
    """Read a streamed body, recording each chunk's size; the transport error that ended it, if any."""
    try:
        for chunk in stream.iter_bytes():
            sizes.append(len(chunk))
    except httpx.TransportError as exc:
        return exc
    return None


def test_a_streamed_answer_over_the_response_cap_is_cut_off_never_truncated_silently(limited: Server) -> None:
    counted: list[int] = []
    with limited.client() as client, client.stream("GET", "/sparql", params={"query": _rows(999, 400)}) as stream:
        assert stream.status_code == 200
        assert stream.headers["IOIR-Response-Limit"] == str(RESPONSE_CAP)
        assert "content-length" not in stream.headers
        error = _drain(stream, counted)
    assert isinstance(error, httpx.RemoteProtocolError), error
    received = sum(counted)
    assert 0 < received <= RESPONSE_CAP
    assert "response cut off" in limited.log_text()
    # the workers that produced those answers are free again: many queries in a row still answer
    with limited.client() as client:
        for _ in range(8):
            assert client.get("/sparql", params={"query": _rows(5, 5)}).status_code == 200


def test_the_dump_is_exempt_from_the_response_cap(limited: Server) -> None:
    with limited.client() as client:
        dump = client.get("/dump.nq")
        assert dump.status_code == 200
        assert len(dump.content) > RESPONSE_CAP
        assert dump.text.endswith(".\n")


FOREVER = (
    "SELECT (COUNT(*) AS ?n) WHERE { "
    + " ".join(f"VALUES ?v{i} {{ {' '.join(str(n) for n in range(200))} }}" for i in range(5))
    + " }"
)


def test_a_query_over_the_time_limit_gets_503_and_the_server_goes_on(limited: Server) -> None:
    with limited.client() as client:
        started = time.monotonic()
        response = client.get("/sparql", params={"query": FOREVER})
        elapsed = time.monotonic() - started
        assert_problem(response, 503)
        assert "timeout" in response.json()["title"].lower() or "time" in response.json()["detail"]
        assert elapsed < 10
        assert client.get("/sparql", params={"query": "ASK { ?s ?p ?o }"}).json()["boolean"] is True


#: Chains the parser recurses on, each as long as the default ``IOIR_MAX_QUERY_CHARS`` allows. With the
#: default 8 MiB stack each of them crashed a worker (SIGSEGV) at a few thousand links.
def _chain(head: str, link: str, tail: str, length: int = 99_000) -> str:
    return head + link * ((length - len(head) - len(tail)) // len(link)) + tail


CHAINS = {
    "not": _chain("ASK { FILTER(", "!", "true) }"),
    "or": _chain("ASK { FILTER(true", " || true", ") }"),
    "sum": _chain("ASK { FILTER(0", "+1", " > 0) }"),
    "union": _chain("SELECT * WHERE { { ?s ?p ?o }", " UNION { ?s ?p ?o }", " } LIMIT 1"),
    "objects": _chain("ASK { ?s ?p 0", ",0", " }"),
    "collection": _chain("ASK { ?s ?p (", "1 ", ") }"),
    "alternatives": _chain("ASK { ?s <urn:p>", "|<urn:p>", " ?o }"),
}


def test_long_operator_chains_never_crash_a_worker_or_the_server(live_server: Callable[..., Server]) -> None:
    server = live_server(IOIR_QUERY_TIMEOUT="2")
    answers: dict[str, tuple[int, str]] = {}
    with server.client() as client:
        for name, query in CHAINS.items():
            response = client.post("/sparql", content=query, headers={"Content-Type": "application/sparql-query"})
            answers[name] = (response.status_code, response.text[:200])
        update = _chain("INSERT { <urn:s> <urn:p> 1 } WHERE { FILTER(", "!", "true) }")
        response = client.post(
            "/sparql", content=update, headers={"Content-Type": "application/sparql-update", **ADMIN}
        )
        answers["update"] = (response.status_code, response.text[:200])
        assert client.get("/health").status_code == 200
    for name, (status, text) in answers.items():
        assert status in (200, 204, 400) or (status == 503 and "timeout" in text.lower()), (name, status, text)
        assert "stopped unexpectedly" not in text, (name, text)
    assert server.process.poll() is None


UPDATE_HEAD = "INSERT { <https://e/a> <https://e/b> 1 } WHERE { FILTER("
#: Updates the body limit (2 MiB) allows but the parser cannot take on any stack a thread gets: each of them
#: killed the server (SIGSEGV in the main process), as updates were bounded by the body limit only.
HUGE_UPDATES = {
    "not": UPDATE_HEAD + "!" * 500_000 + "true) }",
    "or": _chain(UPDATE_HEAD + "1", "||1", ") }", length=2_000_000),
    "and": _chain(UPDATE_HEAD + "1", "&&1", ") }", length=2_000_000),
    "collection": _chain("INSERT { <urn:s> <urn:p> 1 } WHERE { ?s ?p (", "1 ", ") }", length=2_000_000),
    "parentheses": UPDATE_HEAD + "(" * 400_000 + "true" + ")" * 400_000 + ") }",
}


def _update(client: httpx.Client, text: str, *, form: bool = False) -> httpx.Response:
    if form:
        return client.post("/sparql", data={"update": text}, headers=ADMIN)
    return client.post("/sparql", content=text.encode(), headers={"Content-Type": "application/sparql-update", **ADMIN})


def test_updates_past_what_the_parser_can_take_are_refused_and_the_server_stays_up(
    live_server: Callable[..., Server],
) -> None:
    server = live_server()
    with server.client(timeout=120) as client:
        for name, text in HUGE_UPDATES.items():
            assert len(text.encode()) <= 2 * 1024 * 1024, name
            response = _update(client, text)
            assert client.get("/health").status_code == 200, f"the server died on the {name!r} update"
            limit = "IOIR_MAX_QUERY_DEPTH" if name == "parentheses" else "IOIR_MAX_QUERY_CHARS"
            assert_problem(response, 400 if name == "parentheses" else 413, limit)
        assert_problem(_update(client, HUGE_UPDATES["not"][:1_500_000], form=True), 413, "IOIR_MAX_QUERY_CHARS")
        # at the limit: as long as a query may be, an update's chain is parsed (and applied) without harm
        at_limit = _chain(UPDATE_HEAD, "!", "true) }")
        assert _update(client, at_limit).status_code == 204
        assert client.get("/health").status_code == 200
    assert server.process.poll() is None


def test_bulk_data_updates_are_bounded_by_the_body_limit_only(live_server: Callable[..., Server]) -> None:
    """``INSERT DATA``/``DELETE DATA`` hold data, which the parser reads without recursing: 1.5 MB of it goes in."""
    server = live_server()
    triples = "".join(f'<urn:bulk:s{i}> <urn:bulk:p> "value {i}" .\n' for i in range(30_000))
    insert = f"PREFIX ex: <urn:bulk:>\nINSERT DATA {{ GRAPH <urn:bulk:g> {{\n{triples}}} }} ;\n"
    insert += "INSERT { GRAPH <urn:bulk:g> { ?s ex:seen true } } WHERE { GRAPH <urn:bulk:g> { ?s ex:p ?o } }"
    assert len(insert) > 1_000_000

    def in_graph(client: httpx.Client) -> int:  # read from the dump: the whole store as the server holds it
        return client.get("/dump.nq").text.count(" <urn:bulk:g> .\n")

    with server.client(timeout=120) as client:
        assert _update(client, insert).status_code == 204
        assert in_graph(client) == 60_000
        delete = f"DELETE DATA {{ GRAPH <urn:bulk:g> {{\n{triples}}} }}"
        assert _update(client, delete).status_code == 204
        assert in_graph(client) == 30_000


def test_concurrent_oversized_uploads_do_not_hold_the_server(limited: Server) -> None:
    """Sixteen clients sending 4x the body limit at once are all refused, and a query still answers."""
    statuses: list[int] = []

    def upload(index: int) -> None:  # sixteen clients (each its own address, its own share of the validator)
        with limited.client(source=f"127.0.0.{10 + index}") as client:
            response = client.post(
                "/validate", content=_chunks(4 * BODY_LIMIT), headers={"Content-Type": "text/turtle"}
            )
            statuses.append(response.status_code)

    threads = [threading.Thread(target=upload, args=(index,)) for index in range(16)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    assert statuses == [413] * 16
    with limited.client() as client:
        assert client.get("/sparql", params={"query": "ASK { ?s ?p ?o }"}).status_code == 200
