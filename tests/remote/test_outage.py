"""Outage of the remote backend: a real uvicorn over a private Virtuoso, then Virtuoso stops and starts again.

While Virtuoso is down every route that needs it answers ``503`` with a message (problem details), ``/health``
reports ``degraded`` and the app keeps running; once Virtuoso is back the same app process answers again, without
a restart. (A Virtuoso of its own: the session's shared one must not go down under the other tests.)
"""

from __future__ import annotations

import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from tests.conftest import require_system
from tests.reliability.server import ADMIN, Server, start, stop
from tests.support.virtuoso import SERVER, VirtuosoServer, start_virtuoso

ENTITY = b"""\
<https://w3id.org/ioir/id/org/outage-probe> a <https://w3id.org/ioir/ontology#InternationalOrganization> ;
    <http://www.w3.org/2004/02/skos/core#prefLabel> "Outage probe"@en .
"""
GRAPH = "https://w3id.org/ioir/graph/data/outage"
QUERY = "SELECT ?label WHERE { <https://w3id.org/ioir/id/org/outage-probe> ?p ?label }"


@pytest.fixture
def own_virtuoso(tmp_path: Path) -> Iterator[VirtuosoServer]:
    """A private Virtuoso for this test (started, stopped and restarted by it)."""
    require_system("virtuoso-t", "the remote-backend outage test (Debian package virtuoso-opensource)")
    require_system("isql-vt", "the remote-backend outage test (Debian package virtuoso-opensource)")
    server = start_virtuoso(tmp_path / "virtuoso")
    try:
        yield server
    finally:
        server.stop()


def _restart(server: VirtuosoServer) -> None:
    """Start ``virtuoso-t`` again on the same database, ini and ports; wait until it answers."""
    log = (server.directory / "stdout.log").open("ab")
    server.process = subprocess.Popen(
        [SERVER, "+foreground", "+configfile", str(server.directory / "virtuoso.ini")],
        cwd=server.directory,
        stdin=subprocess.DEVNULL,
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    log.close()
    deadline = time.monotonic() + 90
    while time.monotonic() < deadline:
        try:
            if httpx.get(server.query_url, params={"query": "ASK {}"}, timeout=2).status_code == 200:
                return
        except httpx.TransportError:
            pass
        time.sleep(0.2)
    raise AssertionError(f"Virtuoso did not come back:\n{server.log_tail()}")


def _assert_unavailable(response: httpx.Response, what: str) -> None:
    assert response.status_code == 503, (what, response.status_code, response.text[:300])
    assert response.headers["content-type"].startswith("application/problem+json"), what
    assert response.json()["detail"], what


@pytest.mark.remote
def test_a_remote_outage_is_503_with_a_message_and_recovers_without_a_restart(
    own_virtuoso: VirtuosoServer, tmp_path: Path
) -> None:
    env = {**own_virtuoso.environment(), "IOIR_QUERY_TIMEOUT": "10", "IOIR_REMOTE_CONNECT_TIMEOUT": "2"}
    (tmp_path / "app").mkdir()
    app: Server = start(tmp_path / "app", tmp_path / "app" / "store", env)
    try:
        with app.client(timeout=60) as client:
            put = client.put(
                f"/rdf-graph-store?graph={GRAPH}", content=ENTITY, headers={"Content-Type": "text/turtle", **ADMIN}
            )
            assert put.status_code in (201, 204), put.text
            assert client.get("/health").json()["status"] == "ok"
            assert client.get("/sparql", params={"query": QUERY}).status_code == 200

            own_virtuoso.stop()
            health = client.get("/health")
            assert health.status_code == 503
            assert health.json()["status"] == "degraded"
            assert health.json()["detail"]
            _assert_unavailable(client.get("/sparql", params={"query": QUERY}), "query")
            _assert_unavailable(client.get("/id/org/outage-probe", headers={"Accept": "text/turtle"}), "entity")
            _assert_unavailable(client.get("/queries/network"), "competency query")
            _assert_unavailable(
                client.put(
                    f"/rdf-graph-store?graph={GRAPH}", content=ENTITY, headers={"Content-Type": "text/turtle", **ADMIN}
                ),
                "graph store write",
            )
            assert app.process.poll() is None

            _restart(own_virtuoso)
            deadline = time.monotonic() + 30
            while client.get("/health").status_code != 200 and time.monotonic() < deadline:
                time.sleep(0.5)
            assert client.get("/health").json()["status"] == "ok"
            answer = client.get("/sparql", params={"query": QUERY})
            assert answer.status_code == 200
            assert "Outage probe" in answer.text
            assert client.get("/id/org/outage-probe", headers={"Accept": "text/turtle"}).status_code == 200
        assert app.process.poll() is None
    finally:
        stop(app)
