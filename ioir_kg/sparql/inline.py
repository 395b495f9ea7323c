"""The thread fallback of the query workers: jobs run on threads of this process.

:class:`InlineExecutor` serves backends that are not a local pyoxigraph store (a remote store passes the timeout to
its server). It has no process isolation: a query that has started runs to its end, and its reader gets
:class:`~ioir_kg.errors.QueryTimeout` at the deadline.
"""

from __future__ import annotations

import contextlib
import queue
import threading
import time
from typing import Any

import anyio.to_thread

from ioir_kg.errors import QueryTimeout, StoreUnavailable
from ioir_kg.sparql.jobs import (
    CHUNK_BYTES,
    TAG_DATA,
    TAG_END,
    TAG_ERROR,
    TAG_HEAD,
    Head,
    Job,
    error_from,
    error_message,
    run_job,
)
from ioir_kg.sparql.results import WriteStats
from ioir_kg.sparql.workers import Execution
from ioir_kg.store.base import KnowledgeStore


class _Cancelled(Exception):
    """The reader of an inline job went away."""


class _QueueOutput:
    """Hands chunks from the job thread to the event loop through a bounded queue (back-pressure)."""

    def __init__(self, execution: _InlineExecution) -> None:
        self.execution = execution
        self.buffer = bytearray()

    def head(self, head: Head) -> None:
        self.execution.put((TAG_HEAD, head))

    def write(self, data: bytes) -> int:
        self.buffer += data
        if len(self.buffer) >= CHUNK_BYTES:
            self.send()
        return len(data)

    def flush(self) -> None:
        """Chunks go out when full and at the end."""

    def send(self) -> None:
        if self.buffer:
            self.execution.put((TAG_DATA, bytes(self.buffer)))
            self.buffer.clear()


class _InlineExecution:
    def __init__(self, deadline: float, timeout: float) -> None:
        self.queue: queue.Queue[tuple[bytes, Any]] = queue.Queue(maxsize=4)
        self.deadline = deadline
        self.timeout = timeout
        self.head = Head("", "")
        self.stats: WriteStats | None = None
        self.cancelled = threading.Event()

    def put(self, item: tuple[bytes, Any]) -> None:
        """Called on the job thread: wait for room, or stop when the reader has gone."""
        while not self.cancelled.is_set():
            try:
                self.queue.put(item, timeout=0.1)
                return
            except queue.Full:
                continue
        raise _Cancelled

    async def receive(self) -> tuple[bytes, Any]:
        remaining = max(self.deadline - time.monotonic(), 0.001)
        try:
            item: tuple[bytes, Any] = await anyio.to_thread.run_sync(lambda: self.queue.get(timeout=remaining))
        except queue.Empty:
            self.close()
            raise QueryTimeout(
                f"the query ran longer than {self.timeout:g} s (it cannot be stopped on this backend)"
            ) from None
        return item

    async def next_chunk(self) -> bytes | None:
        if self.stats is not None:
            return None
        tag, payload = await self.receive()
        if tag == TAG_DATA:
            return bytes(payload)
        self.close()
        if tag == TAG_END:
            self.stats = payload
            return None
        raise payload

    def close(self) -> None:
        self.cancelled.set()


class InlineExecutor:
    """Runs jobs on threads of this process (no process isolation; a started query runs to its end)."""

    def __init__(self, store: KnowledgeStore) -> None:
        self.store = store

    async def start(self) -> None:
        """Nothing to start."""

    async def aclose(self) -> None:
        """Nothing to stop."""

    async def execute(self, job: Job, *, timeout: float, short: bool = False) -> Execution:
        """Run ``job`` on a thread; chunks come back through a queue of 4 (no lanes: ``short`` changes nothing)."""
        execution = _InlineExecution(time.monotonic() + timeout, timeout)

        def work() -> None:
            output = _QueueOutput(execution)
            try:
                stats = run_job(self.store, job, output)
                output.send()
                execution.put((TAG_END, stats))
            except _Cancelled:
                return
            except Exception as exc:
                with contextlib.suppress(_Cancelled):
                    execution.put((TAG_ERROR, error_from(error_message(exc)[1:])))

        threading.Thread(target=work, daemon=True, name="ioir-inline-query").start()
        tag, payload = await execution.receive()
        if tag == TAG_HEAD:
            execution.head = payload
            return execution
        execution.close()
        if tag == TAG_ERROR:
            raise payload
        raise StoreUnavailable("the query produced no result")
