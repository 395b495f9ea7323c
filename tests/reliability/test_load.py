"""Load: 16 concurrent clients for 60 s against a real uvicorn, mixing SPARQL queries, entity pages, competency
queries and assertion submissions. Zero errors, and every assertion that got ``201`` is retrievable afterwards.

The latency table (per kind: requests, p50, p95, p99, max) is printed in the terminal summary and written to
``test-artifacts/load-latency.txt``.
"""

from __future__ import annotations

import os
import random
import statistics
import threading
import time
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field

import httpx
import pytest

from tests.reliability.conftest import report
from tests.reliability.payloads import COMPETENCY, ENTITIES, QUERIES, TURTLE, new_submission
from tests.reliability.server import ARTIFACTS, CONTRIBUTOR_AUTH, Server

CLIENTS = 16
SECONDS = float(os.environ.get("IOIR_LOAD_SECONDS", "60"))
#: The mix, as weights.
MIX = {"sparql": 35, "entity": 25, "competency": 25, "assertion": 15}


@dataclass
class Tally:
    """What the clients saw, shared between their threads."""

    latencies: dict[str, list[float]] = field(default_factory=lambda: defaultdict(list))
    errors: list[str] = field(default_factory=list)
    accepted: list[tuple[str, str]] = field(default_factory=list)  # (assertion id, dependency IRI)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def record(self, kind: str, seconds: float, error: str | None = None) -> None:
        """Keep one request's latency (and its error, if any)."""
        with self.lock:
            self.latencies[kind].append(seconds)
            if error:
                self.errors.append(f"{kind}: {error}")


def _one(client: httpx.Client, kind: str, rng: random.Random, tally: Tally) -> None:
    started = time.monotonic()
    error: str | None = None
    try:
        if kind == "sparql":
            response = client.get("/sparql", params={"query": rng.choice(QUERIES)})
            expected: tuple[int, ...] = (200,)
        elif kind == "entity":
            path, accept = rng.choice(ENTITIES)
            response = client.get(path, headers={"Accept": accept})
            expected = (200,)
        elif kind == "competency":
            name, arguments = rng.choice(COMPETENCY)
            response = client.get(f"/queries/{name}", params=arguments)
            expected = (200,)
        else:
            submission = new_submission("load-")
            response = client.post("/assertions", content=submission.body, headers={**TURTLE, **CONTRIBUTOR_AUTH})
            expected = (201,)
            if response.status_code == 201:
                with tally.lock:
                    tally.accepted.append((response.json()["id"], submission.dependency))
        response.read()
        if response.status_code not in expected:
            error = f"{response.status_code} {response.text[:200]}"
    except httpx.HTTPError as exc:
        error = f"{type(exc).__name__}: {exc}"
    tally.record(kind, time.monotonic() - started, error)


def _client_loop(server: Server, seed: int, deadline: float, tally: Tally) -> None:
    rng = random.Random(seed)
    kinds, weights = list(MIX), list(MIX.values())
    with server.client(timeout=60, source=f"127.0.0.{10 + seed}") as client:  # sixteen clients, sixteen addresses
        while time.monotonic() < deadline:
            _one(client, rng.choices(kinds, weights)[0], rng, tally)


def latency_table(latencies: dict[str, list[float]], seconds: float) -> list[str]:
    """The latency table: one row per kind of request and one for all of them, in milliseconds."""
    rows = [f"{'kind':<11}{'requests':>9}{'req/s':>8}{'p50 ms':>9}{'p95 ms':>9}{'p99 ms':>9}{'max ms':>9}"]
    every = [x for values in latencies.values() for x in values]
    for kind, values in [*sorted(latencies.items()), ("all", every)]:
        if len(values) < 2:
            continue
        cuts = statistics.quantiles(values, n=100, method="inclusive")
        ms = [1000 * x for x in (cuts[49], cuts[94], cuts[98], max(values))]
        rows.append(
            f"{kind:<11}{len(values):>9}{len(values) / seconds:>8.1f}" + "".join(f"{value:>9.0f}" for value in ms)
        )
    return rows


@pytest.mark.slow
def test_sixteen_clients_for_a_minute_without_an_error(
    live_server: Callable[..., Server], request: pytest.FixtureRequest
) -> None:
    server = live_server(IOIR_QUERY_WORKERS="4")
    tally = Tally()
    started = time.monotonic()
    deadline = started + SECONDS
    threads = [threading.Thread(target=_client_loop, args=(server, seed, deadline, tally)) for seed in range(CLIENTS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(SECONDS + 120)
    elapsed = time.monotonic() - started
    assert not any(thread.is_alive() for thread in threads)

    table = latency_table(tally.latencies, elapsed)
    ARTIFACTS.mkdir(exist_ok=True)
    summary = f"load: {CLIENTS} clients, {elapsed:.0f} s, {len(tally.errors)} errors, {len(tally.accepted)} accepted"
    (ARTIFACTS / "load-latency.txt").write_text("\n".join([summary, *table, *tally.errors]) + "\n", encoding="utf-8")
    report(request.config, summary)
    for row in table:
        report(request.config, "  " + row)

    assert tally.errors == [], "\n".join(tally.errors[:20])
    assert all(tally.latencies[kind] for kind in MIX), {k: len(v) for k, v in tally.latencies.items()}
    assert len(tally.accepted) >= 10
    missing = []
    with server.client() as client:
        for assertion_id, dependency in tally.accepted:
            response = client.get(f"/assertions/{assertion_id}", headers={"Accept": "application/n-triples"})
            if response.status_code != 200 or f"<{dependency}>" not in response.text:
                missing.append(f"{assertion_id}: {response.status_code}")
        listed = client.get("/assertions", params={"per_page": 1}).json()["total"]
    assert missing == []
    assert listed == len(tally.accepted)
    assert server.process.poll() is None
