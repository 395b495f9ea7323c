"""Dumps: ``GET /dump.nq`` streamed over HTTP, and ``ioir-kg dump``, both every quad of every graph."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import httpx
import pytest
from fastapi.testclient import TestClient
from pyoxigraph import Quad, RdfFormat, parse

from ioir_kg.api.app import create_app
from ioir_kg.config import Settings
from ioir_kg.linked_data.dump import BATCH_QUADS
from ioir_kg.store import open_store
from ioir_kg.store.loading import load_sources
from tests.linked_data.conftest import Server


def quads(body: bytes) -> set[Quad]:
    """The quads of an N-Quads document."""
    return set(parse(body, format=RdfFormat.N_QUADS))


@pytest.fixture(scope="module")
def store_path(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A store with the bundled data, closed (the CLI and an app take turns to open it)."""
    path = tmp_path_factory.mktemp("dump") / "store"
    settings = Settings(store_path=path)
    store = open_store(settings)
    load_sources(store, settings)
    store.close()
    return path


def test_http_dump_has_every_quad_of_every_graph(store_path: Path) -> None:
    settings = Settings(store_path=store_path, load_bundled=False, query_workers=1)
    with TestClient(create_app(settings)) as client:
        response = client.get("/dump.nq")
        expected = set(client.app.state.store.quads())  # type: ignore[attr-defined]
        graphs = {g.iri for g in client.app.state.store.graphs()}  # type: ignore[attr-defined]
    assert response.status_code == 200
    assert response.headers["content-type"] == "application/n-quads"
    dumped = quads(response.content)
    assert dumped == expected
    assert len(dumped) > 3 * BATCH_QUADS  # several chunks were joined
    assert {q.graph_name.value for q in dumped} == graphs  # type: ignore[union-attr]


def test_cli_dump_equals_the_http_dump(store_path: Path, tmp_path: Path) -> None:
    out = tmp_path / "dump.nq"
    env = {k: v for k, v in os.environ.items() if not k.startswith("IOIR_")}
    env |= {"IOIR_STORE_PATH": str(store_path)}
    done = subprocess.run(
        [sys.executable, "-m", "ioir_kg", "dump", "-o", str(out)], env=env, capture_output=True, timeout=120
    )
    assert done.returncode == 0, done.stderr.decode()
    settings = Settings(store_path=store_path, load_bundled=False, query_workers=1)
    with TestClient(create_app(settings)) as client:
        over_http = quads(client.get("/dump.nq").content)
    assert quads(out.read_bytes()) == over_http


def test_dump_is_streamed_over_http(live: Server) -> None:
    with httpx.Client(timeout=60.0) as http, http.stream("GET", live.url + "dump.nq") as response:
        assert response.status_code == 200
        assert response.headers["content-type"] == "application/n-quads"
        assert response.headers.get("transfer-encoding") == "chunked"
        assert "content-length" not in response.headers
        body = b"".join(response.iter_raw())
    dumped = quads(body)
    assert any(q.subject.value == f"{live.url}id/org/nato" for q in dumped)  # type: ignore[union-attr]


INFERRED = "https://w3id.org/ioir/graph/inferred"


def test_http_dump_names_the_inferred_graph_and_can_leave_it_out(store_path: Path) -> None:
    settings = Settings(store_path=store_path, load_bundled=False, query_workers=1)
    with TestClient(create_app(settings)) as client:
        everything = quads(client.get("/dump.nq").content)
        response = client.get("/dump.nq", params={"inferred": "false"})
        explicit = quads(client.get("/dump.nq", params={"inferred": "true"}).content)
        bad = client.get("/dump.nq", params={"inferred": "maybe"})
        inferred = set(client.app.state.store.quads(INFERRED))  # type: ignore[attr-defined]
    assert response.status_code == 200
    asserted = quads(response.content)
    assert inferred  # the entailments are in the dump, in their own graph
    assert inferred <= everything
    assert asserted == everything - inferred
    assert all(q.graph_name.value != INFERRED for q in asserted)  # type: ignore[union-attr]
    assert explicit == everything
    assert bad.status_code == 400
    assert "inferred=" in bad.json()["detail"]
