"""The SPARQL endpoint over HTTP: protocol requests in, negotiated (streamed) responses out.

:class:`SparqlEndpoint` is what the routes call. Queries run on the killable worker pool
(:mod:`ioir_kg.sparql.workers`) and come back streamed; updates and graph-store writes run on a thread
of this process under one write lock, then the workers reopen the store before their next query.
What an operation is, and the lexical checks on its text, are HTTP-free (:mod:`ioir_kg.sparql.protocol`);
``GET /sparql`` without a query answers the service description (:mod:`ioir_kg.sparql.service`) or the
editor page (:func:`ioir_kg.web.pages.sparql_editor_page`).
"""

from __future__ import annotations

import threading
from collections.abc import AsyncIterator, Callable, Mapping, Sequence
from typing import TypeVar
from urllib.parse import parse_qs

import anyio.to_thread
from pyoxigraph import DefaultGraph, NamedNode, Quad, RdfFormat, serialize
from starlette.datastructures import Headers
from starlette.requests import Request
from starlette.responses import HTMLResponse, Response, StreamingResponse
from starlette.types import Receive, Scope, Send

from ioir_kg.config import Settings
from ioir_kg.errors import BadInput, NotAcceptable, PayloadTooLarge, ResourceNotFound, UnsupportedMediaType
from ioir_kg.sparql.guard import check_sparql
from ioir_kg.sparql.inference import INFERENCE_HEADER, inference_dataset
from ioir_kg.sparql.inline import InlineExecutor
from ioir_kg.sparql.jobs import GraphJob, NotAcceptableResult, QueryJob
from ioir_kg.sparql.negotiation import DATASET_FORMATS, GRAPH_FORMATS, HTML, RESULT_FORMATS, Format, choose
from ioir_kg.sparql.protocol import (
    FORM,
    SPARQL_QUERY,
    SPARQL_UPDATE,
    GraphTarget,
    Operation,
    QueryOperation,
    UpdateOperation,
    check_policy,
    declared_prefixes,
    operation_from,
    parse_graph,
    query_form,
)
from ioir_kg.sparql.service import DESCRIPTION_FORMATS, PREFIXES, description
from ioir_kg.sparql.workers import Execution, Executor, StoreConfig, WorkerPool, default_pool_size, drain
from ioir_kg.store.base import GraphInfo, KnowledgeStore
from ioir_kg.store.oxigraph import OxigraphStore
from ioir_kg.web.pages import EDITOR_HEADERS, editor_tabs, sparql_editor_page

#: A result that fits in this many bytes is sent whole (with ``Content-Length`` and the truncation flag);
#: a larger one is streamed as the worker produces it.
STREAM_AFTER_BYTES = 256 * 1024
#: Response headers announcing the row cap and whether it cut the result.
ROW_LIMIT_HEADER = "IOIR-Row-Limit"
TRUNCATED_HEADER = "IOIR-Truncated"

T = TypeVar("T")


def query_params(request: Request) -> dict[str, list[str]]:
    """The URL parameters, each with all its values."""
    params: dict[str, list[str]] = {}
    for key, value in request.query_params.multi_items():
        params.setdefault(key, []).append(value)
    return params


async def read_body(request: Request, limit: int) -> bytes:
    """The request body, refused with 413 as soon as it passes ``limit`` bytes."""
    declared = request.headers.get("content-length")
    if declared is not None and declared.isdigit() and int(declared) > limit:
        raise PayloadTooLarge(f"the request body is larger than {limit} bytes (IOIR_MAX_BODY_BYTES)")
    body = bytearray()
    async for chunk in request.stream():
        body += chunk
        if len(body) > limit:
            raise PayloadTooLarge(f"the request body is larger than {limit} bytes (IOIR_MAX_BODY_BYTES)")
    return bytes(body)


def media_type_of(headers: Headers) -> tuple[str, str]:
    """The request's media type (lower case, no parameters) and charset (default UTF-8)."""
    value = headers.get("content-type", "")
    media_type, *params = (part.strip() for part in value.split(";"))
    charset = "utf-8"
    for param in params:
        key, _, val = param.partition("=")
        if key.strip().lower() == "charset" and val.strip():
            charset = val.strip().strip('"')
    return media_type.lower(), charset


def _decode(body: bytes, charset: str) -> str:
    try:
        return body.decode(charset)
    except (LookupError, UnicodeDecodeError) as exc:
        raise BadInput(f"the request body is not valid {charset}: {exc}") from None


async def read_post(request: Request, settings: Settings) -> Operation | None:
    """The operation of a ``POST /sparql``: a form, or a bare query or update body."""
    media_type, charset = media_type_of(request.headers)
    body = await read_body(request, settings.max_body_bytes)
    params = query_params(request)
    limit = settings.max_body_bytes
    if media_type == FORM:
        try:
            form = parse_qs(_decode(body, "ascii"), keep_blank_values=True, errors="strict", max_num_fields=1000)
        except (UnicodeDecodeError, ValueError) as exc:
            raise BadInput(f"the form cannot be decoded: {exc}") from None
        for key, values in form.items():
            params.setdefault(key, []).extend(values)
        return operation_from(params, allow_update=True, max_chars=limit)
    if media_type in (SPARQL_QUERY, SPARQL_UPDATE):
        name = "query" if media_type == SPARQL_QUERY else "update"
        if params.get("query") or params.get("update"):
            raise BadInput(f"with Content-Type {media_type}, the {name} is the body: do not repeat it in the URL")
        params[name] = [_decode(body, charset)]
        return operation_from(params, allow_update=True, max_chars=limit)
    raise UnsupportedMediaType(
        f"POST /sparql takes {FORM}, {SPARQL_QUERY} or {SPARQL_UPDATE}, not {media_type or 'no Content-Type'}"
    )


# -- responses ------------------------------------------------------------------------------------------


async def respond(execution: Execution, *, headers: Mapping[str, str], row_limit: int | None) -> Response:
    """Send a small result whole (exact headers); stream a large one as the worker writes it."""
    chunks: list[bytes] = []
    size = 0
    complete = False
    try:
        while size < STREAM_AFTER_BYTES:
            chunk = await execution.next_chunk()
            if chunk is None:
                complete = True
                break
            chunks.append(chunk)
            size += len(chunk)
    except BaseException:
        execution.close()
        raise
    out = dict(headers)
    counted = execution.head.kind in ("solutions", "triples")
    if row_limit is not None and counted:
        out[ROW_LIMIT_HEADER] = str(row_limit)
    if complete:
        if execution.stats is not None and row_limit is not None and counted:
            out[TRUNCATED_HEADER] = "true" if execution.stats.truncated else "false"
        return Response(b"".join(chunks), media_type=execution.head.media_type, headers=out)
    return _StreamedAnswer(_continue(chunks, execution), execution, media_type=execution.head.media_type, headers=out)


class _StreamedAnswer(StreamingResponse):
    """A streamed answer that frees its worker as soon as the sending ends, also when it is cut off or the client left
    (an abandoned generator is closed by the garbage collector: its worker was held until reaped past the deadline)."""

    def __init__(
        self, content: AsyncIterator[bytes], execution: Execution, *, media_type: str, headers: Mapping[str, str]
    ) -> None:
        super().__init__(content, media_type=media_type, headers=headers)
        self.execution = execution

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        try:
            await super().__call__(scope, receive, send)
        finally:
            self.execution.close()


async def _continue(first: list[bytes], execution: Execution) -> AsyncIterator[bytes]:
    try:
        for chunk in first:
            yield chunk
        async for chunk in drain(execution):
            yield chunk
    finally:
        execution.close()


# -- the endpoint -----------------------------------------------------------------------------------------


class SparqlEndpoint:
    """Queries, updates and graph-store operations over one store, with the app's settings."""

    def __init__(self, store: KnowledgeStore, settings: Settings, executor: Executor | None = None) -> None:
        self.store = store
        self.settings = settings
        self.timeout = settings.query_timeout
        self.max_rows = settings.max_result_rows or None
        self.base_iri = settings.id_base
        self.executor = executor or self._default_executor(store, settings)
        self._write_lock = threading.Lock()

    @staticmethod
    def _default_executor(store: KnowledgeStore, settings: Settings) -> Executor:
        if isinstance(store, OxigraphStore):
            config = StoreConfig(str(store.path), store.union_default_graph)
            size = settings.query_workers or default_pool_size()
            return WorkerPool(config, size, lambda: store.generation)
        return InlineExecutor(store)

    async def start(self) -> None:
        """Start the query workers."""
        await self.executor.start()

    async def aclose(self) -> None:
        """Stop the query workers."""
        await self.executor.aclose()

    # -- SPARQL 1.1 Protocol ------------------------------------------------------------------------------
    async def query(self, op: QueryOperation, accept: str | None, *, short: bool = False) -> Response:
        """Evaluate a query on a worker and answer in the negotiated format (406 before any work).

        ``short`` (the caller knows the query is quick: a competency query) and ``ASK`` queries may run on the
        worker kept for short work, so they are answered while long queries fill the others."""
        check_policy(op.query, allowlist=self.settings.service_allowlist, base_iri=self.base_iri, update=False)
        form = query_form(op.query)
        results, graph, refusals = self._negotiate(form, accept, op.format)
        dataset, inferred = await anyio.to_thread.run_sync(
            lambda: inference_dataset(self.store, self.settings, op.query, op.dataset, op.infer)
        )
        job = QueryJob(
            op.query,
            base_iri=self.base_iri,
            dataset=dataset,
            results_type=results.media_type if results else None,
            graph_type=graph.media_type if graph else None,
            max_rows=self.max_rows,
            prefixes=tuple(declared_prefixes(op.query, self.base_iri).items()) if graph else (),
        )
        try:
            execution = await self.executor.execute(job, timeout=self.timeout, short=short or form == "ASK")
        except NotAcceptableResult as exc:
            offers = RESULT_FORMATS if exc.message == "results" else GRAPH_FORMATS
            raise refusals.get(exc.message) or NotAcceptable(
                f"no acceptable format for this result; supported: {', '.join(f.media_type for f in offers)}"
            ) from None
        headers = {"Vary": "Accept", INFERENCE_HEADER: str(inferred).lower()}
        return await respond(execution, headers=headers, row_limit=self.max_rows)

    @staticmethod
    def _negotiate(
        form: str | None, accept: str | None, override: str | None
    ) -> tuple[Format | None, Format | None, dict[str, NotAcceptable]]:
        refusals: dict[str, NotAcceptable] = {}
        chosen: dict[str, Format | None] = {"results": None, "graph": None}
        wanted = {"SELECT": ("results",), "ASK": ("results",), "CONSTRUCT": ("graph",), "DESCRIBE": ("graph",)}
        for kind in wanted.get(form or "", ("results", "graph")):
            try:
                chosen[kind] = choose(accept, RESULT_FORMATS if kind == "results" else GRAPH_FORMATS, override=override)
            except NotAcceptable as exc:
                if form in wanted:
                    raise
                refusals[kind] = exc
        return chosen["results"], chosen["graph"], refusals

    async def update(self, op: UpdateOperation) -> Response:
        """Apply an update atomically (the caller has checked the admin token); 204.

        The update is parsed on a thread of this process: what its parser may recurse on is bounded first.
        """
        check_sparql(op.update, self.settings, update=True)
        check_policy(op.update, allowlist=self.settings.service_allowlist, base_iri=self.base_iri, update=True)
        await self._write(lambda: self.store.update(op.update, base_iri=self.base_iri))
        return Response(status_code=204)

    async def _write(self, action: Callable[[], T]) -> T:
        def locked() -> T:
            with self._write_lock:
                return action()

        return await anyio.to_thread.run_sync(locked)

    # -- Graph Store HTTP Protocol --------------------------------------------------------------------------
    async def read_graph(
        self, target: GraphTarget, accept: str | None, *, override: str | None = None, head: bool = False
    ) -> Response:
        """``GET``/``HEAD``: a graph in the negotiated RDF format (the whole store as N-Quads or TriG)."""
        fmt = choose(accept, DATASET_FORMATS if target.graph is None else GRAPH_FORMATS, override=override)
        await self._require_graph(target)
        headers = {"Vary": "Accept"}
        if head:
            return Response(media_type=fmt.media_type, headers=headers)
        execution = await self.executor.execute(GraphJob(target.graph, fmt.media_type), timeout=self.timeout)
        return await respond(execution, headers=headers, row_limit=None)

    async def write_graph(self, target: GraphTarget, request: Request, *, replace: bool) -> Response:
        """``PUT`` (replace) or ``POST`` (merge) the body into a graph: 201 when it is new, else 204."""
        if target.graph is None:
            raise BadInput("name the graph: ?default or ?graph=IRI")
        graph = target.graph
        media_type, _ = media_type_of(request.headers)
        fmt = RdfFormat.from_media_type(media_type) if media_type else None
        if fmt is None:
            raise UnsupportedMediaType(
                f"send the graph as one of: {', '.join(f.media_type for f in GRAPH_FORMATS)}"
                f" (got {media_type or 'no Content-Type'})"
            )
        body = await read_body(request, self.settings.max_body_bytes)
        base = graph or str(request.url)
        quads = await anyio.to_thread.run_sync(lambda: parse_graph(body, fmt, base, target))
        name = DefaultGraph() if graph == "" else NamedNode(graph)

        def write() -> bool:
            existed = graph == "" or self.store.has_graph(graph)
            if replace:
                self.store.replace_graph(graph, quads)
            else:
                self.store.add_quads(Quad(q.subject, q.predicate, q.object, name) for q in quads)
            return existed

        existed = await self._write(write)
        return Response(status_code=204 if existed else 201)

    async def delete_graph(self, target: GraphTarget) -> Response:
        """``DELETE``: drop a named graph (404 if absent) or empty the default graph; 204."""
        if target.graph is None:
            raise BadInput("name the graph: ?default or ?graph=IRI")
        graph = target.graph

        def delete() -> bool:
            if graph != "" and not self.store.has_graph(graph):
                return False
            self.store.drop_graph(graph)
            return True

        if not await self._write(delete):
            raise ResourceNotFound(f"there is no {target.label}")
        return Response(status_code=204)

    async def _require_graph(self, target: GraphTarget) -> None:
        graph = target.graph
        if graph and not await anyio.to_thread.run_sync(lambda: self.store.has_graph(graph)):
            raise ResourceNotFound(f"there is no {target.label}")


def endpoint_url(request: Request) -> str:
    """The URL of the endpoint as the client reached it, without query or fragment."""
    return str(request.url.replace(query="", fragment=""))


async def service_response(
    store: KnowledgeStore, settings: Settings, request: Request, *, override: str | None = None
) -> Response:
    """The service description in the negotiated RDF format, or the query page for browsers."""
    fmt = choose(request.headers.get("accept"), DESCRIPTION_FORMATS, override=override)
    url = endpoint_url(request)
    if fmt is HTML:
        tabs = editor_tabs(getattr(request.app.state, "catalogue", {}), settings.id_base)
        return HTMLResponse(
            sparql_editor_page(url, tabs, settings.id_base), headers={"Vary": "Accept", **EDITOR_HEADERS}
        )

    def facts() -> tuple[Sequence[GraphInfo], int | None]:
        default = None if settings.union_default_graph else sum(1 for _ in store.quads(""))
        return store.graphs(), default

    graphs, default_triples = await anyio.to_thread.run_sync(facts)
    body = serialize(description(url, settings, graphs, default_triples), format=fmt.rdf_format, prefixes=PREFIXES)
    return Response(body or b"", media_type=fmt.media_type, headers={"Vary": "Accept"})
