"""Slow clients, on a real uvicorn over real sockets: a request must arrive within ``IOIR_CLIENT_TIMEOUT``.

A client that sends part of its headers, or its headers and part of a body, then stalls, used to hold its
connection for ever (uvicorn has no such timeout; its keep-alive timer stops at the first byte). Now the server
closes it (with ``408`` when nothing has been answered on it), while everyone else is served meanwhile.

The bounds only prove that the timeout fires: closed no earlier than the timeout, and well before the 30 s a
stalled client waits here.
"""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from tests.reliability.server import Server, copy_store, start, stop

TIMEOUT = 2.0
#: How long a stalled client waits for the server to act before the test gives up.
PATIENCE = 30.0


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory, seeded_store: Path) -> Iterator[Server]:
    """One server with IOIR_CLIENT_TIMEOUT=2 for the module."""
    folder = tmp_path_factory.mktemp("slow-clients")
    running = start(folder, copy_store(seeded_store, folder), {"IOIR_CLIENT_TIMEOUT": str(TIMEOUT)})
    try:
        yield running
    finally:
        stop(running)


def _connect(server: Server) -> socket.socket:
    sock = socket.create_connection(("127.0.0.1", server.port), timeout=PATIENCE)
    sock.settimeout(PATIENCE)
    return sock


def _until_closed(sock: socket.socket) -> tuple[bytes, float]:
    """Everything the server sends until it closes the connection, and when it closed (monotonic)."""
    received = b""
    while True:
        try:
            chunk = sock.recv(65536)
        except TimeoutError:
            pytest.fail(f"the server kept a stalled connection open for {PATIENCE:g} s (received {received[:200]!r})")
        except ConnectionResetError:
            return received, time.monotonic()
        if not chunk:
            return received, time.monotonic()
        received += chunk


def _problem(received: bytes) -> dict[str, object]:
    head, _, body = received.partition(b"\r\n\r\n")
    assert head.startswith(b"HTTP/1.1 408"), head
    assert b"application/problem+json" in head.lower()
    problem: dict[str, object] = json.loads(body)
    return problem


def test_partial_headers_are_cut_off_while_others_are_served(server: Server) -> None:
    sock = _connect(server)
    sock.sendall(b"GET /health HTTP/1.1\r\nHost: 127.0.0.1\r\nAccept: applic")
    started = time.monotonic()
    with server.client(timeout=10) as client:  # meanwhile, everyone else is served
        assert client.get("/health").status_code == 200
    received, closed = _until_closed(sock)
    sock.close()
    assert TIMEOUT - 0.2 <= closed - started < TIMEOUT + 10
    problem = _problem(received)
    assert "IOIR_CLIENT_TIMEOUT" in str(problem["detail"])


def test_a_body_that_stops_coming_gets_408(server: Server) -> None:
    sock = _connect(server)
    body = b"query=" + b"ASK%7B%7D" + b"&pad=" + b"x" * 20
    head = (
        f"POST /sparql HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/x-www-form-urlencoded\r\n"
        f"Content-Length: {len(body) + 1000}\r\n\r\n"
    ).encode()
    sock.sendall(head + body)
    started = time.monotonic()
    received, closed = _until_closed(sock)
    sock.close()
    assert TIMEOUT - 0.2 <= closed - started < TIMEOUT + 10
    assert _problem(received)["status"] == 408


def test_one_byte_at_a_time_does_not_keep_a_connection(server: Server) -> None:
    """Each byte used to restart uvicorn's keep-alive timer; the deadline counts from the request's first byte."""
    sock = _connect(server)
    request = b"GET /health HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Slow: " + b"a" * 200
    started = time.monotonic()
    closed_at = None
    for byte in request:
        try:
            sock.sendall(bytes([byte]))
        except (BrokenPipeError, ConnectionResetError):
            closed_at = time.monotonic()
            break
        time.sleep(0.1)
        if time.monotonic() - started > PATIENCE:
            break
    if closed_at is None:
        _, closed_at = _until_closed(sock)
    sock.close()
    assert closed_at - started < TIMEOUT + 10


def test_a_kept_alive_connection_must_send_its_next_request_in_time(server: Server) -> None:
    sock = _connect(server)
    sock.sendall(b"GET /health HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n")
    first = b""
    while b"\r\n\r\n" not in first:
        first += sock.recv(65536)
    head, _, body = first.partition(b"\r\n\r\n")
    assert head.startswith(b"HTTP/1.1 200")
    length = int(next(line for line in head.lower().split(b"\r\n") if line.startswith(b"content-length:"))[15:])
    while len(body) < length:  # the whole first answer, so that what follows is the server's next move
        body += sock.recv(65536)
    sock.sendall(b"GET /health HTTP/1.1\r\nHo")
    started = time.monotonic()
    received, closed = _until_closed(sock)
    sock.close()
    assert TIMEOUT - 0.2 <= closed - started < TIMEOUT + 10
    assert _problem(received)["status"] == 408


def test_a_client_answered_before_its_body_arrived_gets_no_second_answer(server: Server) -> None:
    """A write without a token is refused (401) before its body is read; the body never comes: the connection is
    closed at the timeout, without a 408 after the 401 (one request, one answer)."""
    sock = _connect(server)
    sock.sendall(
        b"POST /assertions HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: text/turtle\r\nContent-Length: 500\r\n\r\n"
    )
    started = time.monotonic()
    received, closed = _until_closed(sock)
    sock.close()
    assert received.startswith(b"HTTP/1.1 401"), received[:200]
    assert received.count(b"HTTP/1.1 ") == 1, received
    assert closed - started < TIMEOUT + 10


def test_many_stalled_connections_are_all_released(server: Server) -> None:
    """200 stalled clients: all closed after the timeout, and a normal request meanwhile answers at once."""
    socks = []
    stalled_body = b"POST /validate HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Length: 100\r\n\r\n"
    for index in range(200):
        sock = _connect(server)
        sock.sendall(stalled_body if index % 2 else b"GE")
        socks.append(sock)
    with httpx.Client(base_url=server.url, timeout=10) as client:
        started = time.monotonic()
        assert client.get("/id/org/eu", headers={"Accept": "text/turtle"}).status_code == 200
        assert time.monotonic() - started < 5
    deadline = time.monotonic() + PATIENCE
    for sock in socks:  # one deadline for all of them
        sock.settimeout(max(0.1, deadline - time.monotonic()))
        _until_closed(sock)
        sock.close()


def test_a_long_answer_is_not_cut_by_the_client_timeout(server: Server) -> None:
    """The deadline is on what the client sends: a query that computes longer than it still gets its answer."""
    values, third = " ".join(str(n) for n in range(400)), " ".join(str(n) for n in range(250))
    slow = f"SELECT (COUNT(*) AS ?n) {{ VALUES ?a {{ {values} }} VALUES ?b {{ {values} }} VALUES ?c {{ {third} }} }}"
    with server.client(timeout=PATIENCE) as client:
        started = time.monotonic()
        response = client.get("/sparql", params={"query": slow})
        elapsed = time.monotonic() - started
    assert response.status_code == 200, response.text
    assert elapsed > TIMEOUT, f"the query took {elapsed:.1f} s: make it slower than IOIR_CLIENT_TIMEOUT"


def test_ioir_kg_serve_applies_the_client_timeout(tmp_path: Path, seeded_store: Path) -> None:
    """The command operators run (not only the uvicorn command line of these tests) enforces the timeout."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    environment = {k: v for k, v in os.environ.items() if not k.startswith("IOIR_") or k == "IOIR_SEEDS_DIR"}
    environment.update(
        IOIR_STORE_PATH=str(copy_store(seeded_store, tmp_path / "serve")),
        IOIR_LOAD_BUNDLED="false",
        IOIR_QUERY_WORKERS="1",
        IOIR_CACHE_DIR=str(tmp_path / "cache"),
        IOIR_CLIENT_TIMEOUT="1",
    )
    command = [sys.executable, "-m", "ioir_kg", "serve", "--port", str(port)]
    with (tmp_path / "serve.log").open("wb") as log:
        process = subprocess.Popen(command, env=environment, stdout=log, stderr=subprocess.STDOUT)
    try:
        deadline = time.monotonic() + 60
        while True:
            assert process.poll() is None, (tmp_path / "serve.log").read_text()
            try:
                if httpx.get(f"http://127.0.0.1:{port}/health", timeout=2).status_code == 200:
                    break
            except httpx.TransportError:
                assert time.monotonic() < deadline, (tmp_path / "serve.log").read_text()
                time.sleep(0.1)
        sock = socket.create_connection(("127.0.0.1", port), timeout=PATIENCE)
        sock.sendall(b"GET /health HTTP/1.1\r\nHost: 127.0.0.1\r\n")
        received, _ = _until_closed(sock)
        sock.close()
        assert _problem(received)["status"] == 408
    finally:
        process.terminate()
        try:
            process.wait(15)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
