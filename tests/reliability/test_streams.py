"""Streams on a real uvicorn: many whole-store downloads at once, and clients that leave in the middle of an upload.

pyoxigraph's iterators belong to the thread that made them (reading one from another thread aborts the process),
and a client may drop its connection at any moment: neither may cost the server, or fill its log.
"""

from __future__ import annotations

import socket
import threading
import time
from concurrent.futures import ThreadPoolExecutor

import httpx

from tests.reliability.server import ADMIN, CONTRIBUTOR_AUTH, Server

PARALLEL_DUMPS = 20


def _download(server: Server, path: str, source: str | None = None) -> tuple[int, bytes] | str:
    try:
        with server.client(timeout=120, source=source) as client:
            response = client.get(path)
    except httpx.HTTPError as exc:
        return f"{type(exc).__name__}: {exc}"
    return response.status_code, response.content


def test_parallel_dumps_complete_identically_and_the_server_stays_up(shared_server: Server) -> None:
    start = threading.Barrier(PARALLEL_DUMPS)

    def download(n: int) -> tuple[int, bytes] | str:
        start.wait(30)
        return _download(shared_server, "/dump.nq", source=f"127.0.0.{10 + n}")  # each a client of its own

    with ThreadPoolExecutor(PARALLEL_DUMPS) as pool:
        results = list(pool.map(download, range(PARALLEL_DUMPS)))
    failures = [r for r in results if isinstance(r, str) or r[0] != 200]
    assert not failures, f"{len(failures)} of {PARALLEL_DUMPS} downloads failed: {str(failures[0])[:300]}"
    bodies = {r[1] for r in results if not isinstance(r, str)}
    assert len(bodies) == 1, "every download is the same document"
    body = bodies.pop()
    assert body.endswith(b" .\n")
    assert body.count(b"\n") > 1000
    with shared_server.client() as client:
        assert client.get("/health").status_code == 200
    assert shared_server.process.poll() is None
    assert "unsendable" not in shared_server.log_text()


#: (method, path, headers) of routes that read a request body, each behind its own kind of check.
UPLOADS = [
    ("POST", "/validate", {"Content-Type": "text/turtle"}),
    ("POST", "/assertions", {"Content-Type": "text/turtle", **CONTRIBUTOR_AUTH}),
    ("PUT", "/rdf-graph-store?graph=https://example.org/dropped", {"Content-Type": "text/turtle", **ADMIN}),
    ("POST", "/rdf-graph-store?graph=https://example.org/dropped", {"Content-Type": "application/n-triples", **ADMIN}),
    ("POST", "/sparql", {"Content-Type": "application/sparql-update", **ADMIN}),
    ("POST", "/sparql", {"Content-Type": "application/x-www-form-urlencoded", **ADMIN}),
    ("PUT", "/rdf-graph-store?graph=https://example.org/dropped", {"Content-Type": "application/rdf+xml", **ADMIN}),
]
#: What each upload sends of its body before it goes: whole statements, which must not be applied all the same.
SENT = {
    "text/turtle": b"<urn:dropped:s> <urn:dropped:p> 1 .\n",
    "application/n-triples": b"<urn:dropped:s> <urn:dropped:p> <urn:dropped:o> .\n",
    "application/sparql-update": b"INSERT DATA { <urn:dropped:s> <urn:dropped:p> 1 }\n",
    "application/x-www-form-urlencoded": b"update=INSERT+DATA+%7B+%3Curn:dropped:s%3E+%3Curn:dropped:p%3E+1+%7D",
    "application/rdf+xml": b'<rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#"/>',
}


def _drop_mid_upload(server: Server, method: str, path: str, headers: dict[str, str]) -> None:
    """Announce 100,000 bytes, send the start of the body, and close the connection."""
    lines = [f"{method} {path} HTTP/1.1", f"Host: 127.0.0.1:{server.port}", "Content-Length: 100000"]
    lines += [f"{name}: {value}" for name, value in headers.items()]
    with socket.create_connection(("127.0.0.1", server.port), timeout=10) as sock:
        sock.sendall(("\r\n".join(lines) + "\r\n\r\n").encode("latin-1") + SENT[headers["Content-Type"]])
        time.sleep(0.2)  # the route is reading the body when the client goes


def test_clients_that_leave_mid_upload_cost_no_traceback_and_change_nothing(shared_server: Server) -> None:
    before = len(shared_server.log_text())
    for _ in range(3):
        for method, path, headers in UPLOADS:
            _drop_mid_upload(shared_server, method, path, headers)
    time.sleep(1.0)
    with shared_server.client() as client:
        assert client.get("/health").status_code == 200
        assert b"urn:dropped:" not in client.get("/dump.nq").content, "an unfinished request body was applied"
    assert shared_server.process.poll() is None
    log = shared_server.log_text()[before:]
    assert "Traceback" not in log, log[:3000]
    assert "Exception in ASGI application" not in log, log[:3000]
    noisy = [line for line in log.splitlines() if "disconnect" in line.lower() or "closed the connection" in line]
    assert len(noisy) <= 3 * len(UPLOADS), noisy
