"""Fair shares on a real uvicorn: a client address has at most ``IOIR_MAX_QUERIES_PER_CLIENT`` queries and validations
in flight (``429`` with ``Retry-After`` beyond, while other clients are served), ``X-Forwarded-For`` counts only
from ``IOIR_TRUSTED_PROXIES``, and one query worker is kept for short work, so that competency queries and pages
answer while long queries fill the others.

Clients are told apart by their source address: every ``127.0.0.x`` is the loopback interface on Linux.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path

import httpx

from tests.reliability.server import Server


def _numbers(count: int) -> str:
    return " ".join(str(n) for n in range(count))


#: Hours of work, stopped by IOIR_QUERY_TIMEOUT (a COUNT over a 200^5 cross product).
FOREVER = "SELECT (COUNT(*) AS ?n) WHERE { " + " ".join(f"VALUES ?v{i} {{ {_numbers(200)} }}" for i in range(5)) + " }"
SMALL = "SELECT ?o WHERE { <https://w3id.org/ioir/id/org/eu> ?p ?o } LIMIT 3"


@contextmanager
def running(
    server: Server, sources: Sequence[str], *, computing: int | None = None, headers: dict[str, str] | None = None
) -> Iterator[list[int]]:
    """A long query from each of ``sources`` in flight for the duration of the block (each ends with a 503 at the
    query timeout); the block starts once ``computing`` (default: all) of them keep a worker busy, and gets the
    list of their statuses (empty as long as none has ended)."""
    statuses: list[int] = []

    def one(source: str) -> None:
        with server.client(timeout=120, source=source) as client:
            statuses.append(client.get("/sparql", params={"query": FOREVER}, headers=headers).status_code)

    threads = [threading.Thread(target=one, args=(source,)) for source in sources]
    for thread in threads:
        thread.start()
    _wait_for_workers(server, len(sources) if computing is None else computing)
    try:
        yield statuses
    finally:
        for thread in threads:
            thread.join(120)
    assert statuses == [503] * len(sources), statuses  # stopped at the timeout, never refused


def _cpu(pid: int) -> int:
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rpartition(")")[2].split()
    except OSError:
        return 0
    return int(fields[11]) + int(fields[12])


def _wait_for_workers(server: Server, busy: int) -> None:
    """Wait until ``busy`` query workers compute (their CPU time grows)."""
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        workers = _workers(server)
        before = {pid: _cpu(pid) for pid in workers}
        time.sleep(0.5)
        if sum(_cpu(pid) > before[pid] + 5 for pid in workers) >= busy:
            return
    raise AssertionError(f"{busy} long queries did not start within 30 s")


def _workers(server: Server) -> list[int]:
    """The query workers: the server's grandchildren (server → fork server → workers)."""
    parents: dict[int, int] = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                fields = (entry / "stat").read_text().rpartition(")")[2].split()
            except OSError:
                continue
            if fields[0] != "Z":
                parents[int(entry.name)] = int(fields[1])
    children = {pid for pid, parent in parents.items() if parent == server.process.pid}
    return [pid for pid, parent in parents.items() if parent in children]


def _is_429(response: httpx.Response) -> None:
    assert response.status_code == 429, (response.status_code, response.text[:300])
    assert response.headers["retry-after"].isdigit()
    assert response.headers["content-type"] == "application/problem+json"
    assert "IOIR_MAX_QUERIES_PER_CLIENT" in response.json()["detail"]


def test_a_client_over_its_share_gets_429_while_others_are_served(live_server: Callable[..., Server]) -> None:
    """Four workers: a client may run two queries; its third query, and a validation, get 429; another client runs
    its query meanwhile, and the first client is served again once its queries are over."""
    server = live_server(IOIR_QUERY_WORKERS="4", IOIR_QUERY_TIMEOUT="6")
    with running(server, ["127.0.0.2"] * 2), server.client(source="127.0.0.2") as greedy:
        _is_429(greedy.get("/sparql", params={"query": SMALL}))
        _is_429(greedy.get("/queries/missions-by-organization", params={"org": "org/nato"}))
        _is_429(greedy.post("/validate", content=b"<urn:a> <urn:b> <urn:c> .", headers={"Content-Type": "text/turtle"}))
        assert greedy.get("/id/org/eu", headers={"Accept": "text/turtle"}).status_code == 200  # pages are not counted
        with server.client(source="127.0.0.3") as other:
            assert other.get("/sparql", params={"query": SMALL}).status_code == 200
    with server.client(source="127.0.0.2") as greedy:
        assert greedy.get("/sparql", params={"query": SMALL}).status_code == 200


def test_x_forwarded_for_counts_only_from_trusted_proxies(live_server: Callable[..., Server]) -> None:
    """127.0.0.1 is a trusted proxy, 127.0.0.2 is not: from the proxy each forwarded client has its share (and what
    a client writes itself into the header is not believed); from anyone else the header changes nothing."""
    server = live_server(
        IOIR_QUERY_WORKERS="4",
        IOIR_QUERY_TIMEOUT="6",
        IOIR_MAX_QUERIES_PER_CLIENT="1",
        IOIR_TRUSTED_PROXIES="127.0.0.1",
    )
    forwarded = {"X-Forwarded-For": "198.51.100.7"}
    with running(server, ["127.0.0.1"], headers=forwarded), server.client(source="127.0.0.1") as proxy:
        _is_429(proxy.get("/sparql", params={"query": SMALL}, headers=forwarded))
        spoofed = {"X-Forwarded-For": "192.0.2.99, 198.51.100.7"}  # the client prepended an address
        _is_429(proxy.get("/sparql", params={"query": SMALL}, headers=spoofed))
        other = {"X-Forwarded-For": "198.51.100.8"}
        assert proxy.get("/sparql", params={"query": SMALL}, headers=other).status_code == 200
    with running(server, ["127.0.0.2"]), server.client(source="127.0.0.2") as direct:
        _is_429(direct.get("/sparql", params={"query": SMALL}, headers={"X-Forwarded-For": "198.51.100.9"}))


def test_short_work_answers_while_long_queries_fill_the_pool(live_server: Callable[..., Server]) -> None:
    """Three workers, three clients each running a long query: two run, the third waits; a competency query, an
    ASK, its page and entity pages still answer while they run (before the reserved worker, the three filled the
    pool and the competency query waited until one of them timed out)."""
    server = live_server(IOIR_QUERY_WORKERS="3", IOIR_QUERY_TIMEOUT="15")
    long_queries = ["127.0.0.2", "127.0.0.3", "127.0.0.4"]
    with running(server, long_queries, computing=2) as ended, server.client(source="127.0.0.5") as reader:
        competency = reader.get("/queries/missions-by-organization", params={"org": "org/nato"})
        assert competency.status_code == 200, competency.text
        assert competency.json()["results"]["bindings"]
        ask = reader.get("/sparql", params={"query": "ASK { ?s ?p ?o }"})
        assert ask.status_code == 200, ask.text
        html = {"Accept": "text/html"}
        page = reader.get("/queries/missions-by-organization", params={"org": "org/nato"}, headers=html)
        assert page.status_code == 200
        assert reader.get("/id/org/eu", headers=html).status_code == 200
        assert reader.get("/").status_code == 200
        assert ended == [], "the short work was answered only after a long query had ended"
