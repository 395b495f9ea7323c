"""Crash safety: ``kill -9`` the server in the middle of a stream of assertion submissions, restart it over the
same store: the store opens, every assertion that got ``201`` is there in full, and no assertion is half-written.

Three rounds, each killing the server at a random moment while two clients keep submitting, so that the kill
lands in the middle of validations and writes.
"""

from __future__ import annotations

import os
import random
import signal
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

import httpx
import pytest

from tests.reliability.conftest import report
from tests.reliability.payloads import TURTLE, new_submission
from tests.reliability.server import (
    CONTRIBUTOR_AUTH,
    Server,
    copy_store,
    group_members,
    kill_group,
    start,
    stop,
)

ROUNDS = 3
SUBMITTERS = 2
ASSERTION_GRAPHS = "https://w3id.org/ioir/assertion/"
INFERRED_GRAPH = "https://w3id.org/ioir/graph/inferred"


@dataclass
class Stream:
    """Submissions sent by the client threads: acknowledged (id → triple count) and sent without an answer."""

    acknowledged: dict[str, int] = field(default_factory=dict)
    unanswered: list[str] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)
    stop: threading.Event = field(default_factory=threading.Event)


def _submit(server: Server, stream: Stream) -> None:
    with httpx.Client(base_url=server.url, timeout=30) as client:
        while not stream.stop.is_set():
            submission = new_submission("crash-")
            try:
                response = client.post("/assertions", content=submission.body, headers={**TURTLE, **CONTRIBUTOR_AUTH})
            except httpx.HTTPError:
                with stream.lock:
                    stream.unanswered.append(submission.dependency)
                return
            assert response.status_code == 201, response.text
            with stream.lock:
                stream.acknowledged[response.json()["id"]] = response.json()["triples"]


@pytest.fixture
def crash_folder(tmp_path: Path, seeded_store: Path) -> Path:
    """A folder with a copy of the seeded store."""
    copy_store(seeded_store, tmp_path / "server")
    return tmp_path / "server"


def _graph_sizes(client: httpx.Client) -> dict[str, int]:
    query = (
        "SELECT ?g (COUNT(*) AS ?n) WHERE { GRAPH ?g { ?s ?p ?o } "
        f'FILTER(STRSTARTS(STR(?g), "{ASSERTION_GRAPHS}")) }} GROUP BY ?g'
    )
    rows = client.get("/sparql", params={"query": query}).json()["results"]["bindings"]
    return {row["g"]["value"][len(ASSERTION_GRAPHS) :]: int(row["n"]["value"]) for row in rows}


def test_kill_9_mid_stream_loses_no_acknowledged_assertion_and_leaves_none_half_written(
    crash_folder: Path, request: pytest.FixtureRequest
) -> None:
    rng = random.Random(1926)
    acknowledged: dict[str, int] = {}
    unanswered: list[str] = []
    for round_ in range(ROUNDS):
        server = start(crash_folder, crash_folder / "store", log_name=f"server{round_}.log")
        try:
            stream = Stream()
            threads = [threading.Thread(target=_submit, args=(server, stream)) for _ in range(SUBMITTERS)]
            for thread in threads:
                thread.start()
            deadline = time.monotonic() + 60
            while len(stream.acknowledged) < 6 and time.monotonic() < deadline:
                time.sleep(0.05)
            assert len(stream.acknowledged) >= 6, server.log_text()[-2000:]
            time.sleep(rng.uniform(0.0, 0.4))  # somewhere in the middle of the next submissions
            os.kill(server.process.pid, signal.SIGKILL)
            server.process.wait(10)
            stream.stop.set()
            for thread in threads:
                thread.join(30)
            # the query workers and their fork server end with the server
            deadline = time.monotonic() + 10
            while group_members(server) and time.monotonic() < deadline:
                time.sleep(0.1)
            assert group_members(server) == []
        finally:
            kill_group(server)
        acknowledged.update(stream.acknowledged)
        unanswered += stream.unanswered

    assert len(unanswered) >= ROUNDS  # each kill cut at least one submission short

    server = start(crash_folder, crash_folder / "store", log_name="server-after.log")
    try:
        with server.client() as client:
            assert client.get("/health").json()["status"] == "ok"
            sizes = _graph_sizes(client)
            for assertion_id, triples in acknowledged.items():
                response = client.get(f"/assertions/{assertion_id}", headers={"Accept": "application/n-triples"})
                assert response.status_code == 200, assertion_id
                lines = [line for line in response.text.splitlines() if line.strip()]
                assert len(lines) == triples, assertion_id
                assert sizes[assertion_id] == triples
            # every assertion graph is whole: as large as an acknowledged one (those not acknowledged included)
            expected = set(acknowledged.values())
            assert len(expected) == 1, expected
            assert all(size in expected for size in sizes.values()), sizes
            assert len(acknowledged) <= len(sizes) <= len(acknowledged) + len(unanswered)
            # nothing of a submission lies outside its graph
            stray = client.get(
                "/sparql",
                params={
                    "query": 'ASK { GRAPH ?g { ?s ?p ?o } FILTER(CONTAINS(STR(?s), "/rel-crash-")) '
                    f'FILTER(!STRSTARTS(STR(?g), "{ASSERTION_GRAPHS}") && ?g != <{INFERRED_GRAPH}>) }}'
                },
            )
            assert stray.json()["boolean"] is False
        report(
            request.config,
            f"crash: {ROUNDS} kill -9 rounds, {len(acknowledged)} acknowledged assertions all present, "
            f"{len(unanswered)} cut short ({len(sizes) - len(acknowledged)} of them stored whole, none in part)",
        )
    finally:
        stop(server)
