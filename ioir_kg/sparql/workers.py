"""Killable query workers: where SPARQL queries run, so that a timeout really stops them.

pyoxigraph cannot cancel a running query from Python (oxigraph#1926), and a deadline checked between
solutions does not stop an ``ORDER BY`` or an aggregate that computes before its first row. So queries
run in a small pool of worker processes, each with the store opened read-only (``Store.read_only``).
A fork server (``python -c …fork_server_main``, started once per process, ~0.5 s) imports pyoxigraph
and this package, then forks each worker in a few milliseconds:

* the main process sends a job and the store's write generation; a worker whose store is older than
  that generation reopens it first, so every query sees every write acknowledged before it was sent;
* the worker evaluates the query and streams the serialised result back in chunks of
  :data:`CHUNK_BYTES` (``H`` head, ``D`` data, ``E`` end, ``X`` error messages on a socket pair);
* past the deadline the main process kills the worker (``SIGKILL``) and a fresh one replaces it on the
  next request: the client gets ``503`` and the CPU is free again at once.

:class:`~ioir_kg.sparql.inline.InlineExecutor` runs jobs on threads instead, for backends that are not a local
pyoxigraph store (a remote store passes the timeout to its server); it cannot stop a query that has started.
"""

from __future__ import annotations

import atexit
import contextlib
import ctypes
import json
import logging
import os
import pickle
import signal
import socket
import struct
import subprocess
import sys
import threading
import time
import traceback
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import asdict, dataclass
from multiprocessing.connection import Connection
from pathlib import Path
from typing import Protocol

import anyio
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
    PipeOutput,
    error_from,
    run_job,
)
from ioir_kg.sparql.results import WriteStats
from ioir_kg.store.oxigraph import OxigraphStore

log = logging.getLogger("ioir_kg.sparql")

#: How long past its deadline a forgotten job may hold a worker before the pool takes it back.
REAP_GRACE_SECONDS = 1.0


# -- the worker process ------------------------------------------------------------------------------


@dataclass(frozen=True)
class StoreConfig:
    """What a worker needs to open the store."""

    path: str
    union_default_graph: bool


def _exit_with_parent(parent: int) -> None:
    """Ask Linux to kill this process when its parent exits: no orphan keeps computing.

    If the parent died before the request took effect, exit now (the race ``prctl(2)`` warns about).
    """
    with contextlib.suppress(OSError, AttributeError):
        libc = ctypes.CDLL(None, use_errno=True)
        libc.prctl(1, signal.SIGKILL)  # PR_SET_PDEATHSIG
    if os.getppid() != parent:
        os._exit(1)


_READ_ATTEMPTS = 5  # fresh read-only views a job is tried on when the writer's compaction races its reads


def _raced(exc: Exception) -> bool:
    """Whether a read failed because the writer's compaction removed files under this read-only view."""
    return isinstance(exc, StoreUnavailable | OSError) or "Corruption" in str(exc) or "No such file" in str(exc)


def _open_read_only(config: StoreConfig, attempts: int = 3) -> OxigraphStore:
    """A read-only view of the store; tried again briefly when the writer's compaction races the open."""
    for attempt in range(attempts):
        try:
            return OxigraphStore(Path(config.path), union_default_graph=config.union_default_graph, read_only=True)
        except StoreUnavailable:
            if attempt == attempts - 1:
                raise
            time.sleep(0.05 * (attempt + 1))
    raise AssertionError("unreachable")


def worker_main(conn: Connection, config: StoreConfig, parent: int | None = None) -> None:
    """Body of a worker process: answer jobs until the pipe closes (or ``parent`` exits)."""
    _exit_with_parent(os.getppid() if parent is None else parent)
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    store: OxigraphStore | None = None
    opened = -1
    while True:
        try:
            job, generation = conn.recv()
        except (EOFError, OSError):
            return
        output = PipeOutput(conn)
        try:
            if store is None or generation != opened:
                store = None  # release the old snapshot before opening the new one
                store = _open_read_only(config)
                opened = generation
            for attempt in range(_READ_ATTEMPTS):
                try:
                    stats = run_job(store, job, output)
                    break
                except Exception as exc:
                    if not _raced(exc) or output.started or attempt == _READ_ATTEMPTS - 1:
                        raise
                    # Compaction removed files under this view ("Corruption: No such file"): a fresh one, a bit later.
                    store = None
                    time.sleep(0.05 * 2**attempt)
                    store = _open_read_only(config)
            output.finish(stats)
        except (BrokenPipeError, EOFError):
            return
        except Exception as exc:  # reported to the client; the worker stays usable
            try:
                output.fail(exc)
            except OSError:
                return


# -- the fork server ------------------------------------------------------------------------------------


def _reap_children(signum: int = 0, frame: object = None) -> None:
    with contextlib.suppress(ChildProcessError):
        while os.waitpid(-1, os.WNOHANG)[0] > 0:
            pass


def fork_server_main(control_fd: int) -> None:
    """Body of the fork server: for each request (a store config and a socket), fork a worker on that socket.

    It answers each request with the worker's pid, reaps workers that exit or are killed, and exits when
    its control socket closes: when the app process closes it or dies, however it dies. (Not
    ``PR_SET_PDEATHSIG``: that follows the *thread* that started this process, which may be short-lived.)
    Its workers do use ``PR_SET_PDEATHSIG``, so they die with it.
    """
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.signal(signal.SIGCHLD, _reap_children)
    control = socket.socket(fileno=control_fd)
    control.sendall(b"R")
    while True:
        try:
            message, fds, _, _ = socket.recv_fds(control, 65536, 1)
        except OSError:
            return
        if not message or not fds:
            return
        config = StoreConfig(**json.loads(message))
        server = os.getpid()
        pid = os.fork()
        if pid == 0:  # the worker
            code = 0
            try:
                control.close()
                signal.signal(signal.SIGCHLD, signal.SIG_DFL)
                worker_main(Connection(fds[0]), config, server)
            except BaseException:
                traceback.print_exc()
                code = 1
            finally:
                os._exit(code)
        os.close(fds[0])
        control.sendall(struct.pack("!q", pid))


class _ForkServer:
    """The main process's handle on the fork server subprocess (one per process, shared by every pool)."""

    _shared: _ForkServer | None = None
    _shared_lock = threading.Lock()

    @classmethod
    def shared(cls) -> _ForkServer:
        """The process's fork server, started (or restarted, if it died) on first use; blocking."""
        with cls._shared_lock:
            if cls._shared is None or not cls._shared.alive():
                if cls._shared is not None:
                    cls._shared.close()
                cls._shared = cls()
                atexit.register(cls._shared.close)
            return cls._shared

    def __init__(self) -> None:
        self.control, child = socket.socketpair(socket.AF_UNIX, socket.SOCK_SEQPACKET)
        source_root = str(Path(__file__).resolve().parents[2])
        env = dict(os.environ)
        env["PYTHONPATH"] = os.pathsep.join(p for p in (source_root, env.get("PYTHONPATH", "")) if p)
        command = f"from ioir_kg.sparql.workers import fork_server_main; fork_server_main({child.fileno()})"
        self.process = subprocess.Popen(
            [sys.executable, "-c", command], pass_fds=[child.fileno()], env=env, stdin=subprocess.DEVNULL
        )
        child.close()
        self.lock = threading.Lock()
        if self.control.recv(1) != b"R":
            self.close()
            raise StoreUnavailable("the query worker fork server did not start (see the server log)")

    def alive(self) -> bool:
        return self.process.poll() is None

    def spawn(self, config: StoreConfig) -> _Worker:
        """Fork a worker (blocking, a few milliseconds)."""
        mine, theirs = socket.socketpair()
        try:
            with self.lock:
                socket.send_fds(self.control, [json.dumps(asdict(config)).encode("utf-8")], [theirs.fileno()])
                reply = self.control.recv(8)
        except OSError:
            mine.close()
            raise StoreUnavailable("the query worker fork server has stopped") from None
        finally:
            theirs.close()
        if len(reply) != 8:
            mine.close()
            raise StoreUnavailable("the query worker fork server has stopped")
        return _Worker(struct.unpack("!q", reply)[0], mine)

    def close(self) -> None:
        """Close the control socket (the server exits) and wait for it."""
        with contextlib.suppress(OSError):
            self.control.close()
        try:
            self.process.wait(5)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()


# -- executions: one job on one worker, as seen from the event loop ------------------------------------


class Execution(Protocol):
    """A job that has started: its head is known, its data can be read until the end."""

    head: Head
    stats: WriteStats | None

    async def next_chunk(self) -> bytes | None:
        """The next piece of the result, ``None`` at the end; raises the worker's error or :class:`QueryTimeout`."""
        ...

    def close(self) -> None:
        """Give the worker back (the job finished) or stop it (it did not); idempotent."""
        ...


class Executor(Protocol):
    """Something that runs jobs: the process pool or the thread fallback."""

    async def start(self) -> None:
        """Get ready to take jobs."""
        ...

    async def aclose(self) -> None:
        """Stop every worker."""
        ...

    async def execute(self, job: Job, *, timeout: float, short: bool = False) -> Execution:
        """Start ``job``; return once its head has arrived (errors before that are raised here). ``short``: a job
        known to be quick (a competency query, an ``ASK``), which may use the workers kept for such jobs."""
        ...


class _Worker:
    """The event loop's side of one worker: a non-blocking socket speaking ``multiprocessing`` framing.

    (The worker side is a blocking :class:`~multiprocessing.connection.Connection`; here the socket is
    non-blocking, whatever the event loop does to watched descriptors, so a half-arrived message never
    blocks the loop.)
    """

    def __init__(self, pid: int, sock: socket.socket) -> None:
        self.pid = pid
        self.sock = sock
        self.sock.setblocking(False)
        self.buffer = bytearray()

    def alive(self) -> bool:
        """An idle worker never speaks first: a readable socket (data or end of file) means it died.

        Only "nothing to read yet" (``BlockingIOError``) is a live worker; ``recv`` returning ``b""`` is the
        end of file a dead worker leaves behind.
        """
        try:
            self.sock.recv(1, socket.MSG_PEEK)
        except BlockingIOError:
            return True
        except OSError:
            return False
        return False

    async def send(self, message: object, deadline: float) -> None:
        """Send a pickled message, waiting on the event loop while the socket is full."""
        payload = pickle.dumps(message, protocol=pickle.HIGHEST_PROTOCOL)
        view = memoryview(struct.pack("!i", len(payload)) + payload)
        while view:
            try:
                view = view[self.sock.send(view) :]
            except BlockingIOError:
                await self._wait(anyio.wait_writable, deadline)

    async def receive(self, deadline: float) -> bytes:
        """The next message, waiting on the event loop (never blocking it) until ``deadline``."""
        while (message := self._take()) is None:
            try:
                data = self.sock.recv(CHUNK_BYTES * 4)
            except BlockingIOError:
                await self._wait(anyio.wait_readable, deadline)
                continue
            if not data:
                raise EOFError
            self.buffer += data
        return message

    def _take(self) -> bytes | None:
        if len(self.buffer) < 4:
            return None
        (size,) = struct.unpack("!i", self.buffer[:4])
        start = 4
        if size == -1:  # multiprocessing's header for messages over 2 GiB
            if len(self.buffer) < 12:
                return None
            (size,) = struct.unpack("!Q", self.buffer[4:12])
            start = 12
        if len(self.buffer) < start + size:
            return None
        message = bytes(self.buffer[start : start + size])
        del self.buffer[: start + size]
        return message

    async def _wait(self, waiter: Callable[[socket.socket], Awaitable[None]], deadline: float) -> None:
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            raise TimeoutError
        with anyio.move_on_after(remaining):
            await waiter(self.sock)

    def kill(self) -> None:
        """SIGKILL the process (the fork server reaps it) and close its socket."""
        with contextlib.suppress(OSError):
            os.kill(self.pid, signal.SIGKILL)
        with contextlib.suppress(OSError):
            self.sock.close()


class _PoolExecution:
    def __init__(self, pool: WorkerPool, worker: _Worker, deadline: float, timeout: float, short: bool) -> None:
        self.pool = pool
        self.worker = worker
        self.short = short
        self.deadline = deadline
        self.timeout = timeout
        self.head = Head("", "")
        self.stats: WriteStats | None = None
        self.closed = False

    async def receive(self) -> tuple[bytes, bytes]:
        try:
            message = await self.worker.receive(self.deadline)
        except TimeoutError:
            self.close()
            raise QueryTimeout(
                f"the query ran longer than {self.timeout:g} s and was stopped; make it more selective or add a LIMIT"
            ) from None
        except (EOFError, OSError):
            self.close()
            raise StoreUnavailable("the query worker stopped unexpectedly; please retry") from None
        return message[:1], message[1:]

    async def next_chunk(self) -> bytes | None:
        if self.stats is not None:
            return None
        tag, payload = await self.receive()
        if tag == TAG_DATA:
            return payload
        if tag == TAG_END:
            body = json.loads(payload)
            self.stats = WriteStats(body["rows"], bool(body["truncated"]))
            self.close()
            return None
        self.close(healthy=tag == TAG_ERROR)
        if tag == TAG_ERROR:
            raise error_from(payload)
        raise StoreUnavailable(f"unexpected message {tag!r} from a query worker")

    def close(self, *, healthy: bool | None = None) -> None:
        if self.closed:
            return
        self.closed = True
        done = self.stats is not None if healthy is None else healthy
        self.pool._release(self, healthy=done)


class WorkerPool:
    """Up to ``size`` worker processes over the store at ``config.path``; see the module docstring.

    ``generation`` returns the store's write count: workers reopen the store when it changed. ``reserved`` workers
    (default: one, when there are two or more) are kept for short jobs: a job started with ``short=False`` waits
    while ``size - reserved`` of them run, so that short ones (competency queries, ``ASK``) always find a worker.
    """

    def __init__(
        self, config: StoreConfig, size: int, generation: Callable[[], int], reserved: int | None = None
    ) -> None:
        self.config = config
        self.size = max(1, size)
        self.reserved = max(0, min(self.size - 1, 1 if reserved is None else reserved))
        self.generation = generation
        self._idle: list[_Worker] = []
        self._busy: dict[int, _PoolExecution] = {}
        self._starting = 0
        self._starting_long = 0
        self._changed: anyio.Event | None = None
        self._closed = False

    # -- life cycle --------------------------------------------------------------------------------
    async def start(self) -> None:
        """Start the fork server and every worker (~0.6 s)."""
        workers = [await anyio.to_thread.run_sync(self._spawn) for _ in range(self.size)]
        self._idle.extend(workers)

    async def aclose(self) -> None:
        """Kill every worker, idle or busy."""
        self._closed = True
        for execution in list(self._busy.values()):
            execution.close(healthy=False)
        for worker in self._idle:
            worker.kill()
        self._idle.clear()

    def pids(self) -> list[int]:
        """Process ids of the live workers (for monitoring and tests)."""
        return [w.pid for w in [*self._idle, *(e.worker for e in self._busy.values())]]

    @property
    def busy(self) -> int:
        """How many jobs are running."""
        return len(self._busy)

    def _spawn(self) -> _Worker:
        """Fork a worker, (re)starting the fork server if needed; runs on a thread."""
        return _ForkServer.shared().spawn(self.config)

    # -- jobs ----------------------------------------------------------------------------------------
    async def execute(self, job: Job, *, timeout: float, short: bool = False) -> Execution:
        """Run ``job`` on a free worker (``short``: the reserved ones too), waiting up to ``timeout`` for one and
        ``timeout`` for its head."""
        if self._closed:
            raise StoreUnavailable("the query service is shutting down")
        for attempt in range(3):  # a worker that died while idle is replaced, and the job sent again
            worker = await self._acquire(time.monotonic() + timeout, timeout, short)
            execution = _PoolExecution(self, worker, time.monotonic() + timeout, timeout, short)
            self._busy[id(execution)] = execution
            try:
                await worker.send((job, self.generation()), execution.deadline)
                break
            except TimeoutError:
                execution.close(healthy=False)
                raise QueryTimeout(f"the query could not be handed to a worker within {timeout:g} s") from None
            except OSError:
                execution.close(healthy=False)
                if attempt == 2:
                    raise StoreUnavailable("no query worker could be started; please retry") from None
            except BaseException:
                execution.close(healthy=False)
                raise
        try:
            tag, payload = await execution.receive()
        except BaseException:
            execution.close(healthy=False)
            raise
        if tag == TAG_HEAD:
            body = json.loads(payload)
            execution.head = Head(body["kind"], body["media_type"])
            return execution
        execution.close(healthy=tag == TAG_ERROR)
        if tag == TAG_ERROR:
            raise error_from(payload)
        raise StoreUnavailable(f"unexpected message {tag!r} from a query worker")

    async def _acquire(self, deadline: float, timeout: float, short: bool) -> _Worker:
        while True:
            self._reap()
            long_jobs = self._starting_long + sum(1 for e in self._busy.values() if not e.short)
            while self._idle and (short or long_jobs < self.size - self.reserved):
                worker = self._idle.pop()
                if worker.alive():
                    return worker
                worker.kill()
            if len(self._busy) + self._starting < self.size and (short or long_jobs < self.size - self.reserved):
                self._starting += 1
                self._starting_long += 0 if short else 1
                try:
                    return await anyio.to_thread.run_sync(self._spawn)
                finally:
                    self._starting -= 1
                    self._starting_long -= 0 if short else 1
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                free = self.size if short else self.size - self.reserved
                raise QueryTimeout(f"all {free} query workers stayed busy for {timeout:g} s; please retry later")
            changed = self._event()
            with anyio.move_on_after(min(remaining, REAP_GRACE_SECONDS)):
                await changed.wait()

    def _event(self) -> anyio.Event:
        if self._changed is None:
            self._changed = anyio.Event()
        return self._changed

    def _notify(self) -> None:
        if self._changed is not None:
            self._changed.set()
            self._changed = None

    def _release(self, execution: _PoolExecution, *, healthy: bool) -> None:
        self._busy.pop(id(execution), None)
        worker = execution.worker
        if healthy and not self._closed and worker.alive():
            self._idle.append(worker)
        else:
            if not healthy:
                log.info("query worker %s stopped (job not finished)", worker.pid)
            worker.kill()
        self._notify()

    def _reap(self) -> None:
        """Take back workers whose job was abandoned (its reader went away) past the deadline."""
        now = time.monotonic()
        for execution in list(self._busy.values()):
            if now > execution.deadline + REAP_GRACE_SECONDS:
                log.warning("query worker %s reclaimed: its job was abandoned", execution.worker.pid)
                execution.close(healthy=False)


def default_pool_size() -> int:
    """Twice the usable CPU cores (2–16): enough that a slow query does not hold up quick ones."""
    try:
        cores = len(os.sched_getaffinity(0))
    except AttributeError:  # pragma: no cover - not Linux
        cores = os.cpu_count() or 2
    return max(2, min(16, 2 * cores))


async def drain(execution: Execution) -> AsyncIterator[bytes]:
    """Every remaining chunk of ``execution``, closing it at the end or on any error."""
    try:
        while (chunk := await execution.next_chunk()) is not None:
            yield chunk
    finally:
        execution.close()
