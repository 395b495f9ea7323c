"""Streams on a real uvicorn: many whole-store downloads at once, and clients that leave in the middle of an upload.

pyoxigraph's iterators belong to the thread that made them (reading one from another thread aborts the process),
and a client may drop its connection at any moment: neither may cost the server, or fill its log.
"""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor

import httpx

from tests.reliability.server import Server

PARALLEL_DUMPS = 20


def _download(server: Server, path: str) -> tuple[int, bytes] | str:
    try:
        with httpx.Client(base_url=server.url, timeout=120) as client:
            response = client.get(path)
    except httpx.HTTPError as exc:
        return f"{type(exc).__name__}: {exc}"
    return response.status_code, response.content


def test_parallel_dumps_complete_identically_and_the_server_stays_up(shared_server: Server) -> None:
    start = threading.Barrier(PARALLEL_DUMPS)

    def download(_: int) -> tuple[int, bytes] | str:
        start.wait(30)
        return _download(shared_server, "/dump.nq")

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
