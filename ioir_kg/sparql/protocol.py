"""The SPARQL 1.1 Protocol and Graph Store HTTP Protocol: requests in, negotiated responses out.

:class:`SparqlEndpoint` is what the routes call. Queries run on the killable worker pool
(:mod:`ioir_kg.sparql.workers`) and come back streamed; updates and graph-store writes run on a thread
of this process under one write lock, then the workers reopen the store before their next query.

The lexical helpers (:func:`query_form`, :func:`service_targets` …) read a query as tokens, skipping
strings, IRIs and comments, so that a keyword inside a literal never counts:

>>> query_form('PREFIX ex: <http://ex/> # SELECT?\\nASK { ex:s ex:p "CONSTRUCT" }')
'ASK'
>>> service_targets("PREFIX e: <http://e.org/> SELECT * { SERVICE SILENT e:sparql { ?s ?p ?o } }")
['http://e.org/sparql']
>>> has_top_level_order_by("SELECT * { { SELECT ?x { ?x ?p ?o } ORDER BY ?x LIMIT 1 } }")
False
"""

from __future__ import annotations

import re
import threading
from collections.abc import AsyncIterator, Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import TypeVar
from urllib.parse import parse_qs

import anyio.to_thread
from pyoxigraph import DefaultGraph, NamedNode, Quad, RdfFormat, parse
from starlette.datastructures import Headers
from starlette.requests import Request
from starlette.responses import Response, StreamingResponse
from starlette.types import Receive, Scope, Send

from ioir_kg.config import Settings
from ioir_kg.errors import (
    BadInput,
    BadQuery,
    BadRdf,
    NotAcceptable,
    PayloadTooLarge,
    ResourceNotFound,
    UnsupportedMediaType,
)
from ioir_kg.sparql.federation import check_service
from ioir_kg.sparql.guard import check_sparql
from ioir_kg.sparql.inference import INFERENCE_HEADER, inference_dataset, parse_infer
from ioir_kg.sparql.inline import InlineExecutor
from ioir_kg.sparql.lexer import Token, tokens
from ioir_kg.sparql.negotiation import (
    DATASET_FORMATS,
    GRAPH_FORMATS,
    RESULT_FORMATS,
    Format,
    choose,
)
from ioir_kg.sparql.workers import (
    Execution,
    Executor,
    GraphJob,
    NotAcceptableResult,
    QueryJob,
    StoreConfig,
    WorkerPool,
    default_pool_size,
    drain,
)
from ioir_kg.store.base import KnowledgeStore, QueryDataset
from ioir_kg.store.oxigraph import OxigraphStore

FORM = "application/x-www-form-urlencoded"
SPARQL_QUERY = "application/sparql-query"
SPARQL_UPDATE = "application/sparql-update"
#: A result that fits in this many bytes is sent whole (with ``Content-Length`` and the truncation flag);
#: a larger one is streamed as the worker produces it.
STREAM_AFTER_BYTES = 256 * 1024
#: Response headers announcing the row cap and whether it cut the result.
ROW_LIMIT_HEADER = "IOIR-Row-Limit"
TRUNCATED_HEADER = "IOIR-Truncated"

T = TypeVar("T")

# -- a lexical view of SPARQL -------------------------------------------------------------------------

_QUERY_FORMS = frozenset({"SELECT", "CONSTRUCT", "DESCRIBE", "ASK"})
_UPDATE_WORDS = frozenset({"INSERT", "DELETE", "LOAD", "CLEAR", "CREATE", "DROP", "COPY", "MOVE", "ADD", "WITH"})
_UCHAR = re.compile(r"\\u([0-9A-Fa-f]{4})|\\U([0-9A-Fa-f]{8})")


def _words(text: str) -> Iterator[str]:
    for token in tokens(text):
        if token.kind == "word":
            yield token.text.upper()


def query_form(text: str) -> str | None:
    """``SELECT``, ``CONSTRUCT``, ``DESCRIBE`` or ``ASK``; ``UPDATE`` for an update; ``None`` if unclear."""
    for word in _words(text):
        if word in ("BASE", "PREFIX"):
            continue
        if word in _QUERY_FORMS:
            return word
        return "UPDATE" if word in _UPDATE_WORDS else None
    return None


def has_top_level_order_by(text: str) -> bool:
    """Whether the query orders its solutions (an ``ORDER BY`` outside every group pattern)."""
    depth = 0
    previous = ""
    for token in tokens(text):
        if token.kind == "punct" and token.text in "{}":
            depth += 1 if token.text == "{" else -1
        elif token.kind == "word":
            word = token.text.upper()
            if depth == 0 and previous == "ORDER" and word == "BY":
                return True
            previous = word
            continue
        previous = ""
    return False


def _unescape_iri(iri: str) -> str:
    return _UCHAR.sub(lambda m: chr(int(m.group(1) or m.group(2), 16)), iri)


def service_targets(text: str, base_iri: str | None = None) -> list[str | None]:
    """The endpoint IRI of every ``SERVICE`` clause, resolved; ``None`` for a variable endpoint."""
    return _scan(text, base_iri)[1]


def declared_prefixes(text: str, base_iri: str | None = None) -> dict[str, str]:
    """The ``PREFIX`` declarations of a query, resolved.

    >>> declared_prefixes("BASE <http://x.org/> PREFIX : <a#> PREFIX ex: <http://ex/> ASK {}")
    {'': 'http://x.org/a#', 'ex': 'http://ex/'}
    """
    return _scan(text, base_iri)[0]


def _scan(text: str, base_iri: str | None) -> tuple[dict[str, str], list[str | None]]:
    prefixes: dict[str, str] = {}
    base = base_iri
    targets: list[str | None] = []
    stream = list(tokens(text))
    for index, token in enumerate(stream):
        if token.kind != "word":
            continue
        word = token.text.upper()
        following = stream[index + 1 : index + 4]
        if word == "BASE" and following and following[0].kind == "iri":
            base = _resolve(following[0].text, base)
        elif word == "PREFIX" and len(following) >= 2 and following[0].kind == "pname":
            if following[1].kind == "iri":
                prefixes[following[0].text[:-1]] = _resolve(following[1].text, base)
        elif word == "SERVICE":
            if following and following[0].kind == "word" and following[0].text.upper() == "SILENT":
                following = following[1:]
            targets.append(_target(following[0] if following else None, prefixes, base))
    return prefixes, targets


def _resolve(iri_token: str, base: str | None) -> str:
    """An ``<IRI>`` token resolved against ``base`` exactly as pyoxigraph resolves it (RFC 3986)."""
    try:
        quad = next(parse(f"{iri_token} <urn:p> <urn:o> .".encode(), RdfFormat.TURTLE, base_iri=base))
    except (SyntaxError, ValueError, StopIteration):
        return _unescape_iri(iri_token[1:-1])
    return str(quad.subject.value)


def _target(token: Token | None, prefixes: Mapping[str, str], base: str | None) -> str | None:
    if token is None or token.kind == "var":
        return None
    if token.kind == "iri":
        return _resolve(token.text, base)
    if token.kind == "pname":
        prefix, _, local = token.text.partition(":")
        return prefixes.get(prefix, f"{prefix}:") + re.sub(r"\\(.)", r"\1", local)
    return None


def check_policy(text: str, *, allowlist: Sequence[str], base_iri: str | None, update: bool) -> None:
    """Refuse what would make the server send requests for the client: ``LOAD``, unlisted ``SERVICE``.

    >>> check_policy("LOAD <http://x/>", allowlist=[], base_iri=None, update=True)
    Traceback (most recent call last):
    ioir_kg.errors.BadQuery: LOAD is not allowed here: the server fetches nothing on behalf of clients
    """
    if update and "LOAD" in _words(text):
        raise BadQuery("LOAD is not allowed here: the server fetches nothing on behalf of clients")
    check_service(text, service_targets(text, base_iri), allowlist=allowlist, base_iri=base_iri, update=update)


# -- reading protocol requests ------------------------------------------------------------------------


@dataclass(frozen=True)
class QueryOperation:
    """A query request: the query, its protocol dataset (``None`` = as the query says) and ``format=``."""

    query: str
    dataset: QueryDataset | None = None
    format: str | None = None
    infer: bool | None = None  # include the inferred graph (None: IOIR_INFERENCE), see ioir_kg.sparql.inference


@dataclass(frozen=True)
class UpdateOperation:
    """An update request."""

    update: str


Operation = QueryOperation | UpdateOperation
Params = Mapping[str, list[str]]


def _iris(params: Params, name: str) -> tuple[str, ...]:
    values = tuple(params.get(name, []))
    for value in values:
        if ":" not in value:
            raise BadInput(f"{name}: {value!r} is not an absolute IRI")
        try:
            NamedNode(value)
        except ValueError as exc:
            raise BadInput(f"{name}: {value!r} is not a valid IRI ({exc})") from None
    return values


def _single(params: Params, name: str) -> str | None:
    values = params.get(name, [])
    if len(values) > 1:
        raise BadInput(f"give the '{name}' parameter once, not {len(values)} times")
    return values[0] if values else None


def operation_from(params: Params, *, allow_update: bool, max_chars: int) -> Operation | None:
    """The operation named by protocol parameters (``None``: no operation, i.e. the service description).

    Unknown parameters (``output=json`` from SPARQLWrapper …) are ignored.
    """
    query, update = _single(params, "query"), _single(params, "update")
    if query is not None and update is not None:
        raise BadInput("give either 'query' or 'update', not both")
    text = query if query is not None else update
    if text is not None and len(text) > max_chars:
        raise PayloadTooLarge(f"the request is longer than {max_chars} characters")
    if update is not None:
        if not allow_update:
            raise BadInput("updates must be sent with POST (form field 'update' or application/sparql-update)")
        if params.get("using-graph-uri") or params.get("using-named-graph-uri"):
            raise BadInput("using-graph-uri/using-named-graph-uri are not supported: write USING in the update")
        if not update.strip():
            raise BadQuery("the update is empty")
        return UpdateOperation(update)
    if query is None:
        return None
    if not query.strip():
        raise BadQuery("the query is empty")
    default_graphs, named_graphs = _iris(params, "default-graph-uri"), _iris(params, "named-graph-uri")
    dataset = QueryDataset(default_graphs, named_graphs) if default_graphs or named_graphs else None
    return QueryOperation(query, dataset, _single(params, "format"), parse_infer(_single(params, "infer")))


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


def _media_type(headers: Headers) -> tuple[str, str]:
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
    media_type, charset = _media_type(request.headers)
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


@dataclass(frozen=True)
class GraphTarget:
    """What a Graph Store request addresses: ``""`` the default graph, an IRI, or ``None`` the whole store."""

    graph: str | None

    @property
    def label(self) -> str:
        """How messages name it."""
        return {None: "the dataset", "": "the default graph"}.get(self.graph, f"graph <{self.graph}>")


def graph_target(params: Params) -> GraphTarget:
    """``?default`` or ``?graph=IRI`` (neither: the whole dataset)."""
    graphs = _iris(params, "graph")
    if "default" in params and graphs:
        raise BadInput("give either ?default or ?graph=IRI, not both")
    if len(graphs) > 1:
        raise BadInput("give one ?graph=IRI")
    if graphs:
        return GraphTarget(graphs[0])
    return GraphTarget("" if "default" in params else None)


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
        media_type, _ = _media_type(request.headers)
        fmt = RdfFormat.from_media_type(media_type) if media_type else None
        if fmt is None:
            raise UnsupportedMediaType(
                f"send the graph as one of: {', '.join(f.media_type for f in GRAPH_FORMATS)}"
                f" (got {media_type or 'no Content-Type'})"
            )
        body = await read_body(request, self.settings.max_body_bytes)
        base = graph or str(request.url)
        quads = await anyio.to_thread.run_sync(lambda: _parse_graph(body, fmt, base, target))
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


def _parse_graph(body: bytes, fmt: RdfFormat, base: str, target: GraphTarget) -> list[Quad]:
    try:
        return list(parse(body, fmt, base_iri=base, without_named_graphs=True, rename_blank_nodes=True))
    except SyntaxError as exc:
        raise BadRdf(f"the {fmt.name} body for {target.label} does not parse: {exc}") from None
    except ValueError as exc:
        raise BadRdf(f"the body for {target.label} cannot be read as {fmt.name}: {exc}") from None
