"""The query worker pool on its own: streaming, errors, timeouts that kill, reopening after writes."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Awaitable, Callable, Iterator
from pathlib import Path
from typing import TypeVar

import anyio
import pytest

from ioir_kg.errors import BadQuery, QueryTimeout
from ioir_kg.sparql.inline import InlineExecutor
from ioir_kg.sparql.jobs import GraphJob, QueryJob
from ioir_kg.sparql.workers import Execution, Executor, StoreConfig, WorkerPool, _ForkServer
from ioir_kg.store.base import QueryDataset
from ioir_kg.store.oxigraph import OxigraphStore

T = TypeVar("T")
#: A query that would run for hours: a COUNT over a cross product of 200^5 rows.
FOREVER = (
    "SELECT (COUNT(*) AS ?n) WHERE { "
    + " ".join(f"VALUES ?v{i} {{ {' '.join(str(n) for n in range(200))} }}" for i in range(5))
    + " }"
)


@pytest.fixture
def store(tmp_path: Path) -> Iterator[OxigraphStore]:
    """A read-write store with one triple in a named graph."""
    store = OxigraphStore(tmp_path / "store")
    store.update("INSERT DATA { GRAPH <http://g> { <http://s> <http://p> 1 } }")
    yield store
    store.close()


def _pool(store: OxigraphStore, size: int = 2) -> WorkerPool:
    return WorkerPool(StoreConfig(str(store.path), store.union_default_graph), size, lambda: store.generation)


def _run(executor: Executor, body: Callable[[], Awaitable[T]]) -> T:
    async def main() -> T:
        await executor.start()
        try:
            return await body()
        finally:
            await executor.aclose()

    return anyio.run(main)


async def _read(execution: Execution) -> bytes:
    chunks = []
    while (chunk := await execution.next_chunk()) is not None:
        chunks.append(chunk)
    return b"".join(chunks)


def _alive(pid: int) -> bool:
    """Whether the process exists and is not a zombie (dead, waiting for a reaper)."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except FileNotFoundError:
        return False
    return stat.rpartition(")")[2].split()[0] != "Z"


def test_jobs_stream_back_and_workers_are_reused(store: OxigraphStore) -> None:
    """A query answers through the pipe in the requested format; the same workers serve the next jobs."""
    pool = _pool(store)

    async def body() -> tuple[list[bytes], list[int], list[int]]:
        before = sorted(pool.pids())
        answers = []
        for _ in range(4):
            execution = await pool.execute(QueryJob("SELECT ?o { ?s ?p ?o }"), timeout=10)
            assert execution.head.media_type == "application/sparql-results+json"
            answers.append(await _read(execution))
        return answers, before, sorted(pool.pids())

    answers, before, after = _run(pool, body)
    assert len(before) == 2
    assert before == after
    assert all(json.loads(a)["results"]["bindings"][0]["o"]["value"] == "1" for a in answers)


def test_graph_jobs(store: OxigraphStore) -> None:
    """A graph job serialises one stored graph."""
    pool = _pool(store, 1)

    async def body() -> bytes:
        return await _read(await pool.execute(GraphJob("http://g", "application/n-triples"), timeout=10))

    text = _run(pool, body).decode()
    assert text.strip() == '<http://s> <http://p> "1"^^<http://www.w3.org/2001/XMLSchema#integer> .'


def test_errors_are_raised_and_keep_the_worker(store: OxigraphStore) -> None:
    """A syntax error comes back as BadQuery with the position; the worker is not replaced."""
    pool = _pool(store, 1)

    async def body() -> tuple[list[int], list[int], str]:
        before = pool.pids()
        with pytest.raises(BadQuery) as caught:
            await pool.execute(QueryJob("SELECT * { ?s ?p }"), timeout=10)
        return before, pool.pids(), caught.value.message

    before, after, message = _run(pool, body)
    assert before == after
    assert "1:" in message


def test_timeout_kills_the_worker(store: OxigraphStore) -> None:
    """Past the deadline the worker is SIGKILLed (its process is gone) and a new one takes the next job."""
    pool = _pool(store, 1)

    async def body() -> tuple[float, int, bool, bytes]:
        (victim,) = pool.pids()
        start = time.monotonic()
        with pytest.raises(QueryTimeout, match="1 s"):
            await pool.execute(QueryJob(FOREVER), timeout=1)
        elapsed = time.monotonic() - start
        await anyio.sleep(0.5)
        answer = await _read(await pool.execute(QueryJob("ASK {}"), timeout=10))
        return elapsed, victim, _alive(victim) or victim in pool.pids(), answer

    elapsed, victim, survived, answer = _run(pool, body)
    assert 1.0 <= elapsed < 2.0
    assert not survived, f"worker {victim} still exists"
    assert json.loads(answer)["boolean"] is True


def test_a_busy_pool_refuses_after_the_timeout(store: OxigraphStore) -> None:
    """With every worker busy, a job waits at most its timeout, then QueryTimeout says why."""
    pool = _pool(store, 1)

    async def body() -> str:
        async with anyio.create_task_group() as group:

            async def hog() -> None:
                with pytest.raises(QueryTimeout):
                    await pool.execute(QueryJob(FOREVER), timeout=2)

            group.start_soon(hog)
            await anyio.sleep(0.2)
            with pytest.raises(QueryTimeout) as caught:
                await pool.execute(QueryJob("ASK {}"), timeout=0.5)
        return caught.value.message

    assert "busy" in _run(pool, body)


def test_a_worker_is_kept_for_short_jobs(store: OxigraphStore) -> None:
    """Three long queries on a pool of three: two run, the third waits, and the worker kept for short jobs answers a
    short one (a competency query, an ASK) meanwhile. (Before the reserved lane, the three filled the pool and the
    short job timed out.)"""
    pool = _pool(store, 3)

    async def body() -> tuple[int, bytes, bytes]:
        async with anyio.create_task_group() as group:

            async def hog() -> None:
                with pytest.raises(QueryTimeout):
                    await pool.execute(QueryJob(FOREVER), timeout=4)

            for _ in range(3):
                group.start_soon(hog)
            await anyio.sleep(0.5)
            running = pool.busy
            # a timeout far below the long queries' 4 s: answered only if a worker is free for it
            short = await _read(await pool.execute(QueryJob("SELECT ?o { ?s ?p ?o }"), timeout=2, short=True))
            ask = await _read(await pool.execute(QueryJob("ASK { ?s ?p ?o }"), timeout=2, short=True))
        return running, short, ask

    running, short, ask = _run(pool, body)
    assert running == 2, "long queries took the worker kept for short ones"
    assert json.loads(short)["results"]["bindings"][0]["o"]["value"] == "1"
    assert json.loads(ask)["boolean"] is True


def test_abandoned_jobs_are_reclaimed(store: OxigraphStore) -> None:
    """A job whose reader went away without closing it is killed once past its deadline."""
    pool = _pool(store, 1)
    rows = " ".join(str(n) for n in range(300))

    async def body() -> tuple[int, int, bytes]:
        query = f"SELECT * {{ VALUES ?a {{ {rows} }} VALUES ?b {{ {rows} }} }}"
        await pool.execute(QueryJob(query), timeout=0.5)  # never read, never closed
        busy = pool.busy
        await anyio.sleep(1.6)  # deadline + grace
        answer = await _read(await pool.execute(QueryJob("ASK {}"), timeout=5))
        return busy, pool.busy, answer

    busy, after, answer = _run(pool, body)
    assert (busy, after) == (1, 0)
    assert json.loads(answer)["boolean"] is True


def test_workers_reopen_after_writes(store: OxigraphStore) -> None:
    """Every write changes the store's generation; each worker reopens its read-only view before its next job."""
    pool = _pool(store, 2)

    async def count() -> int:
        query = "SELECT (COUNT(*) AS ?n) { GRAPH ?g { ?s ?p ?o } }"
        answer = json.loads(await _read(await pool.execute(QueryJob(query), timeout=10)))
        return int(answer["results"]["bindings"][0]["n"]["value"])

    async def body() -> list[int]:
        seen = [await count()]
        for n in range(2, 5):
            await anyio.to_thread.run_sync(
                lambda n=n: store.update(f"INSERT DATA {{ GRAPH <http://g> {{ <http://s> <http://p> {n} }} }}")
            )
            seen += [await count(), await count()]  # both workers
        return seen

    assert _run(pool, body) == [1, 2, 2, 3, 3, 4, 4]


def test_queries_during_concurrent_writes(store: OxigraphStore) -> None:
    """Workers reopening while another thread writes still answer consistently (counts never go back)."""
    pool = _pool(store, 2)
    stop = threading.Event()

    def writer() -> None:
        n = 100
        while not stop.is_set():
            store.update(f"INSERT DATA {{ GRAPH <http://g> {{ <http://s> <http://p> {n} }} }}")
            n += 1
            time.sleep(0.002)

    async def body() -> list[int]:
        counts: list[int] = []
        thread = threading.Thread(target=writer)
        thread.start()
        try:
            for _ in range(60):
                job = QueryJob("SELECT (COUNT(*) AS ?n) { ?s ?p ?o }", dataset=QueryDataset(("http://g",)))
                answer = json.loads(await _read(await pool.execute(job, timeout=10)))
                counts.append(int(answer["results"]["bindings"][0]["n"]["value"]))
        finally:
            stop.set()
            thread.join()
        return counts

    counts = _run(pool, body)
    assert counts == sorted(counts)
    assert counts[-1] > counts[0]


def test_the_fork_server_is_restarted_if_it_dies(store: OxigraphStore) -> None:
    """If the fork server is killed its workers die; the next job gets a new server and worker.

    Four idle workers die at once (more than a job's send retries): each is found dead before a job is sent.
    """
    pool = _pool(store, 4)

    async def body() -> bytes:
        workers = pool.pids()
        assert len(workers) == 4
        server = _ForkServer.shared()
        server.process.kill()
        server.process.wait()
        for _ in range(50):  # workers die with their fork server (PR_SET_PDEATHSIG)
            if not any(map(_alive, workers)):
                break
            await anyio.sleep(0.1)
        assert not any(map(_alive, workers))
        answer = await _read(await pool.execute(QueryJob("ASK {}"), timeout=5))  # dead idle workers replaced
        assert not set(pool.pids()) & set(workers)
        return answer

    assert json.loads(_run(pool, body))["boolean"] is True
    assert _ForkServer.shared().alive()


def test_inline_executor(store: OxigraphStore) -> None:
    """The thread fallback answers the same jobs (it cannot stop a running query, only give up on it)."""
    executor = InlineExecutor(store)

    async def body() -> tuple[bytes, str]:
        answer = await _read(await executor.execute(QueryJob("SELECT ?o { GRAPH ?g { ?s ?p ?o } }"), timeout=5))
        with pytest.raises(BadQuery):
            await executor.execute(QueryJob("SELECT"), timeout=5)
        rows = " ".join(str(n) for n in range(400))
        slow = f"SELECT (COUNT(*) AS ?n) {{ VALUES ?a {{ {rows} }} VALUES ?b {{ {rows} }} VALUES ?c {{ {rows} }} }}"
        with pytest.raises(QueryTimeout) as caught:
            await executor.execute(QueryJob(slow), timeout=0.2)
        return answer, caught.value.message

    answer, message = _run(executor, body)
    assert json.loads(answer)["results"]["bindings"][0]["o"]["value"] == "1"
    assert "cannot be stopped" in message
