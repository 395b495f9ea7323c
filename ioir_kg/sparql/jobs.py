"""The jobs the query workers run (:mod:`ioir_kg.sparql.workers`, :mod:`ioir_kg.sparql.inline`), how a job is
evaluated and serialised into chunks, and how an error crosses the process boundary."""

from __future__ import annotations

import json
from dataclasses import dataclass
from multiprocessing.connection import Connection
from typing import BinaryIO, Protocol, cast

from pyoxigraph import QueryBoolean, QueryResultsFormat, QueryTriples, RdfFormat

from ioir_kg import errors
from ioir_kg.errors import IoirError, StoreUnavailable
from ioir_kg.namespaces import PREFIXES
from ioir_kg.sparql.results import WriteStats, write_graph, write_solutions
from ioir_kg.store.base import KnowledgeStore, QueryDataset

#: The kinds of message on a worker's socket: the head of an answer, data, its end, an error.
TAG_HEAD, TAG_DATA, TAG_END, TAG_ERROR = b"H", b"D", b"E", b"X"


# -- jobs and what comes back ----------------------------------------------------------------------


@dataclass(frozen=True)
class QueryJob:
    """Evaluate a query; answer SELECT/ASK in ``results_type`` and graphs in ``graph_type``.

    A ``None`` type means the client accepts no format for that kind of result (the caller knows why).
    """

    sparql: str
    base_iri: str | None = None
    dataset: QueryDataset | None = None
    results_type: str | None = "application/sparql-results+json"
    graph_type: str | None = "text/turtle"
    max_rows: int | None = None
    #: Prefixes for graph results (those the query declares), as ``(prefix, namespace)`` pairs.
    prefixes: tuple[tuple[str, str], ...] = ()


@dataclass(frozen=True)
class GraphJob:
    """Serialise a stored graph (``""`` = the default graph) or, with ``graph=None``, every quad."""

    graph: str | None
    media_type: str


Job = QueryJob | GraphJob


@dataclass(frozen=True)
class Head:
    """The start of an answer: its kind (``solutions``, ``boolean``, ``triples``, ``quads``) and media type."""

    kind: str
    media_type: str


class NotAcceptableResult(IoirError):
    """Raised by a worker when the result's kind has no acceptable format (the caller builds the 406)."""

    status = 406
    exit_code = 2
    title = "Not acceptable"


class _Output(Protocol):
    def head(self, head: Head) -> None: ...

    def write(self, data: bytes) -> int: ...

    def flush(self) -> None: ...


def run_job(store: KnowledgeStore, job: Job, out: _Output) -> WriteStats:
    """Evaluate ``job`` on ``store`` and write the head and the serialised result to ``out``."""
    sink = cast(BinaryIO, out)
    if isinstance(job, GraphJob):
        rdf_format = _rdf_format(job.media_type)
        quads = store.quads(job.graph)
        with_names = rdf_format in (RdfFormat.N_QUADS, RdfFormat.TRIG)
        out.head(Head("quads" if with_names else "triples", job.media_type))
        items = quads if with_names else (q.triple for q in quads)
        return write_graph(items, rdf_format, sink, max_rows=None, prefixes=PREFIXES)
    result = store.query(job.sparql, dataset=job.dataset, base_iri=job.base_iri)
    if isinstance(result, QueryTriples):
        if job.graph_type is None:
            raise NotAcceptableResult("graph")
        out.head(Head("triples", job.graph_type))
        fmt = _rdf_format(job.graph_type)
        return write_graph(result, fmt, sink, max_rows=job.max_rows, prefixes=dict(job.prefixes))
    if job.results_type is None:
        raise NotAcceptableResult("results")
    results_format = QueryResultsFormat.from_media_type(job.results_type)
    if results_format is None:
        raise ValueError(f"{job.results_type} is not a query results format")
    if isinstance(result, QueryBoolean):
        out.head(Head("boolean", job.results_type))
        result.serialize(sink, results_format)
        return WriteStats(None, False)
    out.head(Head("solutions", job.results_type))
    return write_solutions(result, results_format, sink, max_rows=job.max_rows)


def _rdf_format(media_type: str) -> RdfFormat:
    fmt = RdfFormat.from_media_type(media_type)
    if fmt is None:
        raise ValueError(f"{media_type} is not an RDF format")
    return fmt


def error_message(exc: BaseException) -> bytes:
    if isinstance(exc, IoirError):
        body = {"class": type(exc).__name__, "message": exc.message}
    elif isinstance(exc, SyntaxError):
        body = {"class": "BadQuery", "message": f"SPARQL syntax error: {exc}"}
    else:
        body = {"class": "StoreUnavailable", "message": f"query evaluation failed: {exc}"}
    return TAG_ERROR + json.dumps(body).encode("utf-8")


def error_from(payload: bytes) -> IoirError:
    body = json.loads(payload)
    name, message = body.get("class", ""), body.get("message", "")
    if name == NotAcceptableResult.__name__:
        return NotAcceptableResult(message)
    cls = getattr(errors, name, None)
    if isinstance(cls, type) and issubclass(cls, IoirError):
        return cls(message)
    return StoreUnavailable(message)


#: Size of the data messages a worker sends.
CHUNK_BYTES = 64 * 1024


class PipeOutput:
    """Collects pyoxigraph's small writes into :data:`CHUNK_BYTES` messages on the pipe.

    The head waits for the first chunk (or the end): until something is sent, a job that fails on a store
    view the writer's compaction raced can start over on a fresh view, unseen by the client.
    """

    def __init__(self, conn: Connection) -> None:
        self.conn = conn
        self.buffer = bytearray()
        self.started = False
        self.pending: bytes | None = None

    def head(self, head: Head) -> None:
        self.buffer.clear()  # a job run again starts over
        self.pending = TAG_HEAD + json.dumps({"kind": head.kind, "media_type": head.media_type}).encode()

    def write(self, data: bytes) -> int:
        self.buffer += data
        if len(self.buffer) >= CHUNK_BYTES:
            self._send()
        return len(data)

    def flush(self) -> None:
        """pyoxigraph flushes at the end; chunks are sent when full and by :meth:`finish`."""

    def _send(self) -> None:
        if self.pending is not None:
            self.started = True
            self.conn.send_bytes(self.pending)
            self.pending = None
        if self.buffer:
            self.conn.send_bytes(TAG_DATA + bytes(self.buffer))
            self.buffer.clear()

    def finish(self, stats: WriteStats) -> None:
        self._send()
        self.conn.send_bytes(TAG_END + json.dumps({"rows": stats.rows, "truncated": stats.truncated}).encode())

    def fail(self, exc: BaseException) -> None:
        self.buffer.clear()
        self.pending = None
        self.conn.send_bytes(error_message(exc))
