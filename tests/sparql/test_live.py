"""A real uvicorn server: timeouts that free the CPU, parallel queries, a free event loop, streaming.

The measurements are printed at the end of the run (``SPARQL endpoint measurements``) and written to
``test-artifacts/sparql-live.txt``.
"""

from __future__ import annotations

import os
import statistics
import threading
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import httpx
import pytest

from ioir_kg.config import PROJECT_ROOT
from tests.sparql.sparql_helpers import AUTH, MEASUREMENTS, LiveServer

CLOCK_TICKS = os.sysconf("SC_CLK_TCK")


def _numbers(count: int) -> str:
    return " ".join(str(n) for n in range(count))


#: Hours of work: COUNT over a 200^5 cross product (no row is produced before the end).
FOREVER = "SELECT (COUNT(*) AS ?n) WHERE { " + " ".join(f"VALUES ?v{i} {{ {_numbers(200)} }}" for i in range(5)) + " }"
#: About half a second of CPU on one core.
HALF_SECOND = (
    f"SELECT (COUNT(*) AS ?n) WHERE {{ VALUES ?a {{ {_numbers(400)} }} VALUES ?b {{ {_numbers(400)} }} "
    f"VALUES ?c {{ {_numbers(25)} }} }}"
)


def _record(request: pytest.FixtureRequest, line: str) -> None:
    request.config.stash.setdefault(MEASUREMENTS, []).append(line)
    artifacts = PROJECT_ROOT / "test-artifacts"
    artifacts.mkdir(exist_ok=True)
    with (artifacts / "sparql-live.txt").open("a", encoding="utf-8") as out:
        out.write(line + "\n")


def _stat(pid: int) -> list[str] | None:
    try:
        text = Path(f"/proc/{pid}/stat").read_text()
    except (FileNotFoundError, ProcessLookupError):
        return None
    return text.rpartition(")")[2].split()


def _tree(root: int) -> list[int]:
    """``root`` and its live descendants (zombies excluded)."""
    parents: dict[int, int] = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit() and (fields := _stat(int(entry.name))) and fields[0] != "Z":
            parents[int(entry.name)] = int(fields[1])
    found, frontier = [root], [root]
    while frontier:
        children = [pid for pid, parent in parents.items() if parent in frontier]
        found += children
        frontier = children
    return found


def _cpu_seconds(pids: list[int]) -> float:
    total = 0
    for pid in pids:
        if fields := _stat(pid):
            total += int(fields[11]) + int(fields[12])
    return total / CLOCK_TICKS


def _workers(server: LiveServer) -> set[int]:
    """Worker pids: grandchildren of the server (server → fork server → workers)."""
    root = server.process.pid
    return {pid for pid in _tree(root)[1:] if (fields := _stat(pid)) and int(fields[1]) != root}


def test_timeout_answers_503_and_frees_the_cpu(
    live_server: Callable[..., LiveServer], request: pytest.FixtureRequest
) -> None:
    """A runaway query gets 503 at IOIR_QUERY_TIMEOUT; its worker is killed and the CPU is idle after."""
    server = live_server(IOIR_QUERY_TIMEOUT="2", IOIR_QUERY_WORKERS="2")
    with server.client() as http:
        assert http.get("/sparql", params={"query": "ASK {}"}).status_code == 200
        workers_before = _workers(server)
        samples: dict[int, list[float]] = {pid: [] for pid in workers_before}
        done = threading.Event()

        def sample() -> None:  # each worker's CPU time while the query runs (a killed one leaves /proc)
            while not done.is_set():
                for pid, seen in samples.items():
                    if (cpu := _cpu_seconds([pid])) or not seen:
                        seen.append(cpu)
                time.sleep(0.05)

        sampler = threading.Thread(target=sample)
        sampler.start()
        start = time.monotonic()
        response = http.get("/sparql", params={"query": FOREVER})
        elapsed = time.monotonic() - start
        done.set()
        sampler.join()
        assert response.status_code == 503
        assert response.headers["content-type"] == "application/problem+json"
        assert "2 s" in response.json()["detail"]
        busy_cpu = max(seen[-1] - seen[0] for seen in samples.values())
        time.sleep(0.3)
        workers_after = _workers(server)
        tree = _tree(server.process.pid)
        idle_start = _cpu_seconds(tree)
        time.sleep(2.0)
        idle_cpu = _cpu_seconds(tree) - idle_start
        assert http.get("/sparql", params={"query": "ASK {}"}).status_code == 200  # a new worker took over
    killed = workers_before - workers_after
    assert 2.0 <= elapsed < 3.5
    assert len(killed) == 1, (workers_before, workers_after)
    assert busy_cpu > 0.5, "the query did not keep its worker busy"
    assert idle_cpu < 0.1, f"{idle_cpu:.2f} s of CPU in 2 s after the timeout"
    _record(
        request,
        f"timeout: 503 after {elapsed:.2f} s (IOIR_QUERY_TIMEOUT=2); its worker {killed.pop()} had used "
        f"{busy_cpu:.2f} s CPU when killed; the whole server then used {idle_cpu:.3f} s CPU in 2 s",
    )


def test_concurrent_clients_run_in_parallel(
    live_server: Callable[..., LiveServer], request: pytest.FixtureRequest
) -> None:
    """16 clients at once: as many queries run at the same moment as there are cores (each worker a process),
    the cores stay busy, and /health answers quickly meanwhile (the event loop is never blocked).

    Throughput depends on what else the machine runs, so it is recorded, not asserted.
    """
    server = live_server(IOIR_QUERY_TIMEOUT="120", IOIR_MAX_QUERIES_PER_CLIENT="16")  # one address, sixteen clients
    cores = len(os.sched_getaffinity(0))
    with server.client(timeout=120) as http:
        single = min(_timed(http, HALF_SECOND) for _ in range(3))
        tree = _tree(server.process.pid)
        workers = sorted(_workers(server))
        cpu_before = _cpu_seconds(tree)
        latencies: list[float] = []
        overlap: list[int] = []  # per 100 ms: how many workers made progress
        stop = threading.Event()

        def probe() -> None:
            with server.client() as health:
                while not stop.is_set():
                    start = time.monotonic()
                    assert health.get("/health").status_code == 200
                    latencies.append(time.monotonic() - start)
                    time.sleep(0.05)

        def watch() -> None:
            last = [_cpu_seconds([pid]) for pid in workers]
            while not stop.is_set():
                time.sleep(0.1)
                now = [_cpu_seconds([pid]) for pid in workers]
                overlap.append(sum(b > a for a, b in zip(last, now, strict=True)))
                last = now

        threads = [threading.Thread(target=probe), threading.Thread(target=watch)]
        for thread in threads:
            thread.start()
        start = time.monotonic()
        with ThreadPoolExecutor(16) as pool:
            durations = list(pool.map(lambda _: _timed(http, HALF_SECOND), range(16)))
        wall = time.monotonic() - start
        parallelism = (_cpu_seconds(tree) - cpu_before) / wall  # cores kept busy on average
        stop.set()
        for thread in threads:
            thread.join()
    speedup = 16 * single / wall
    expected = min(cores, len(workers))
    assert max(overlap) >= expected, f"at most {max(overlap)} queries ran at once"
    assert sorted(overlap)[len(overlap) // 2] >= expected, "queries ran one at a time most of the run"
    # a blocked event loop would hold /health for seconds (16 queries x 0.5 s on 4 workers); load on 2 cores adds noise
    assert max(latencies) < 1.0, f"/health took up to {max(latencies):.2f} s"
    _record(
        request,
        f"concurrency: 16 clients x {single:.2f} s query, {len(workers)} workers, {cores} cores: {wall:.2f} s wall, "
        f"up to {max(overlap)} queries running at once, {parallelism:.2f} cores busy on average (speed-up "
        f"{speedup:.2f}x over one at a time; median client {statistics.median(durations):.2f} s); "
        f"/health max {max(latencies) * 1000:.0f} ms over {len(latencies)} probes",
    )


def _timed(http: httpx.Client, query: str) -> float:
    start = time.monotonic()
    response = http.get("/sparql", params={"query": query})
    assert response.status_code == 200, response.text
    return time.monotonic() - start


def test_large_answers_stream_with_bounded_memory(
    live_server: Callable[..., LiveServer], request: pytest.FixtureRequest
) -> None:
    """A ~60 MB answer read slowly: first bytes at once, and the server process does not hold the answer."""
    server = live_server(IOIR_QUERY_TIMEOUT="120", IOIR_MAX_RESULT_ROWS="0", IOIR_QUERY_WORKERS="2")
    query = f"SELECT ?a ?b {{ VALUES ?a {{ {_numbers(600)} }} VALUES ?b {{ {_numbers(600)} }} }}"
    rss_before = _rss(server.process.pid)
    peak = rss_before
    size = 0
    start = time.monotonic()
    with server.client(timeout=120) as http, http.stream("GET", "/sparql", params={"query": query}) as response:
        assert response.status_code == 200
        chunks = response.iter_bytes()
        size += len(next(chunks))
        first_byte = time.monotonic() - start
        for index, chunk in enumerate(chunks):
            size += len(chunk)
            if index % 64 == 0:
                peak = max(peak, _rss(server.process.pid))
                time.sleep(0.005)
        total = time.monotonic() - start
    growth = (peak - rss_before) / 2**20
    assert size > 50 * 2**20
    assert first_byte < total / 4
    assert growth < 32, f"server RSS grew {growth:.0f} MiB while streaming {size / 2**20:.0f} MiB"
    _record(
        request,
        f"streaming: {size / 2**20:.0f} MiB JSON, first bytes after {first_byte * 1000:.0f} ms, "
        f"all after {total:.1f} s; server RSS grew {growth:.1f} MiB",
    )


def _rss(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) * 1024
    return 0


def test_client_going_away_stops_its_query(
    live_server: Callable[..., LiveServer], request: pytest.FixtureRequest
) -> None:
    """A client that disconnects mid-answer frees its worker (killed) and the CPU."""
    server = live_server(IOIR_QUERY_TIMEOUT="120", IOIR_MAX_RESULT_ROWS="0", IOIR_QUERY_WORKERS="2")
    query = f"SELECT ?a ?b ?c {{ VALUES ?a {{ {_numbers(500)} }} VALUES ?b {{ {_numbers(500)} }} VALUES ?c {{ 1 2 }} }}"
    with server.client() as http:
        assert http.get("/sparql", params={"query": "ASK {}"}).status_code == 200
        before = _workers(server)
        with http.stream("GET", "/sparql", params={"query": query}) as response:
            next(response.iter_bytes())
        start = time.monotonic()
        while _workers(server) == before and time.monotonic() - start < 10:
            time.sleep(0.05)
        gone = time.monotonic() - start
        tree = _tree(server.process.pid)
        cpu = _cpu_seconds(tree)
        time.sleep(1.0)
        idle_cpu = _cpu_seconds(tree) - cpu
        assert http.get("/sparql", params={"query": "ASK {}"}).status_code == 200
    assert gone < 5, "the worker of the abandoned answer was not stopped"
    assert idle_cpu < 0.1
    _record(request, f"disconnect: worker stopped {gone:.2f} s after the client left; then {idle_cpu:.3f} s CPU in 1 s")


def test_service_reaches_only_listed_endpoints(live_server: Callable[..., LiveServer]) -> None:
    """SERVICE works against an endpoint on IOIR_SERVICE_ALLOWLIST (here: another ioir-kg) and no other."""
    remote = live_server()
    with remote.client() as http:
        body = '<http://remote.example/s> <http://remote.example/p> "from afar" .'
        response = http.put(
            "/rdf-graph-store",
            params={"graph": "http://remote.example/g"},
            content=body,
            headers={**AUTH, "Content-Type": "application/n-triples"},
        )
        assert response.status_code == 201
    endpoint = f"{remote.url}/sparql"
    local = live_server(IOIR_SERVICE_ALLOWLIST=endpoint)
    with local.client() as http:
        allowed = http.get("/sparql", params={"query": f"SELECT ?o {{ SERVICE <{endpoint}> {{ ?s ?p ?o }} }}"})
        assert allowed.status_code == 200, allowed.text
        assert [b["o"]["value"] for b in allowed.json()["results"]["bindings"]] == ["from afar"]
        other = f"{remote.url}/other"
        refused = http.get("/sparql", params={"query": f"SELECT * {{ SERVICE <{other}> {{ ?s ?p ?o }} }}"})
        assert refused.status_code == 400
        assert "IOIR_SERVICE_ALLOWLIST" in refused.json()["detail"]
