"""The scale-out backend: any SPARQL 1.1 server over HTTP, tested against Virtuoso 7.2.

:class:`RemoteSparqlStore` implements :class:`~ioir_kg.store.base.KnowledgeStore` with the SPARQL 1.1
Protocol (queries as form POSTs, updates as form POSTs with credentials, graphs read through the Graph
Store Protocol) and returns the same pyoxigraph result types as the embedded store. Every difference of
the server is handled at this boundary (the dialect in :mod:`ioir_kg.store.virtuoso.dialect`, HTTP in
:mod:`ioir_kg.store.virtuoso.client`):

* **Dataset.** A query without ``FROM`` would read every graph of the server, its system graphs too,
  so each query names the project's graphs with ``default-graph-uri`` (the union, as the embedded
  store's default graph) and ``named-graph-uri``. The list of graphs is cached for
  ``graph_cache_seconds`` and dropped after every write of this process.
* **The default graph** of the embedded store is a graph of its own here, ``{base}graph/default``
  (Virtuoso has no unnamed graph); it is hidden from :meth:`RemoteSparqlStore.graphs`.
* **Results.** Booleans stored as ``"1"``/``"0"``, integer subtypes (``xsd:long``, ``xsd:positiveInteger``
  … which the embedded store keeps as ``xsd:integer``), ``xsd:string``-typed literals, empty
  ``SUM``/``AVG`` and ``GROUP_CONCAT`` over nothing are normalised; skolem IRIs come back as blank
  nodes; an ``ORDER BY`` over projected variables is applied again here (Virtuoso orders long literals
  by an internal id, not by their text).
* **Property paths.** Virtuoso 7.2 answers ``*``/``+``/``?`` paths wrongly as soon as a query holds two,
  and alternatives with one row per match: :mod:`ioir_kg.store.virtuoso.paths` evaluates them here
  (closures fetched once, bound as ``VALUES``) unless ``emulate_paths`` is off (a conformant server).
* **Writes.** One ``INSERT DATA`` request is atomic, even over several graphs and many ``GRAPH`` blocks; on
  Virtuoso it carries a pragma without which a stock ``virtuoso.ini`` refuses more than ~1,400 triples per request
  (:mod:`ioir_kg.store.virtuoso.client`); a request of several operations is not atomic. Blank nodes are refused in
  ``INSERT DATA``, so they are skolemised to IRIs under ``{base}.well-known/genid/`` (RDF 1.1 §3.5).
  ``replace_graph`` stages the new content in a private graph, then swaps it in with **one**
  ``DELETE``/``INSERT`` operation: readers see the old graph or the new one, never a mixture, and a failure
  before the swap changes nothing.
* **Timeouts.** The query timeout goes to the server (``timeout=`` in ms) and to httpx; Virtuoso's
  partial "Anytime" answers (``X-SQL-State: S1TAT`` or HTTP 206) raise :class:`QueryTimeout`.
* **Failures.** A server that cannot be reached raises :class:`StoreUnavailable` (503); reads are
  retried a few times when no answer came, writes never.
"""

from __future__ import annotations

import itertools
import json
import logging
import threading
import time
import uuid
from collections.abc import Iterable, Iterator, Mapping, Sequence
from pathlib import Path
from typing import Any, BinaryIO

import httpx
from pyoxigraph import (
    BlankNode,
    DefaultGraph,
    NamedNode,
    Quad,
    QueryResultsFormat,
    QuerySolutions,
    RdfFormat,
    Triple,
    parse,
    parse_query_results,
    serialize,
)

from ioir_kg.config import DEFAULT_BASE_URI, RemoteAuth, Settings
from ioir_kg.errors import BadQuery, BadRdf, BadSetting, Forbidden, IoirError, StoreUnavailable
from ioir_kg.store.base import GraphInfo, QueryDataset, QueryResult, StoreStatus, Term
from ioir_kg.store.bindings import inject_values
from ioir_kg.store.oxigraph import rdf_format_for, syntax_message
from ioir_kg.store.virtuoso.client import SparqlHttp, insert_data, public_url
from ioir_kg.store.virtuoso.dialect import (
    EMPTY_GRAPH,
    GENID_PATH,
    QueryShape,
    Skolemizer,
    absent_graphs_to_empty,
    query_shape,
    query_triples,
    raise_local_syntax_error,
    refuse_global_graph_operations,
    solutions,
    triples,
    valid_iri,
    with_base,
)
from ioir_kg.store.virtuoso.paths import GiveUp, rewrite_paths
from ioir_kg.store.virtuoso.tokens import tokenize

log = logging.getLogger("ioir_kg.store.remote")

#: Triples per request when a large graph is staged (many blocks; each request stays a few MB).
REQUEST_TRIPLES = 10_000
#: Triples per Graph Store ``POST`` when a large graph is staged through ``IOIR_REMOTE_GSP_URL`` (~14 MB).
GSP_REQUEST_TRIPLES = 100_000
#: Graphs of the server itself, never part of the dataset (IRI prefixes; Virtuoso's own and ours).
SYSTEM_GRAPH_PREFIXES = (
    "http://www.openlinksw.com/",
    "http://www.w3.org/ns/ldp#",
    "http://localuriqaserver/",
    "urn:x-ioir:",
)
#: Where ``replace_graph`` stages new content (one graph per call, dropped afterwards).
STAGING_PREFIX = "urn:x-ioir:staging:"
RESULTS_JSON = "application/sparql-results+json"
N_TRIPLES = "application/n-triples"


class RemoteSparqlStore:
    """:class:`~ioir_kg.store.base.KnowledgeStore` over a SPARQL 1.1 server (see the module docstring).

    Without ``update_url`` the store is read-only: writes raise :class:`Forbidden` (a read replica).
    ``graph_prefixes`` restrict the dataset to graphs under those IRIs (a server shared by several
    datasets); a graph named explicitly (``has_graph``, ``quads``, ``GRAPH <g>``) is reachable anyway.
    """

    backend = "remote"

    def __init__(
        self,
        query_url: str,
        *,
        update_url: str | None = None,
        gsp_url: str | None = None,
        user: str | None = None,
        password: str | None = None,
        auth: RemoteAuth = RemoteAuth.DIGEST,
        base_uri: str = DEFAULT_BASE_URI,
        union_default_graph: bool = True,
        graph_prefixes: Sequence[str] = (),
        query_timeout: float = 30.0,
        update_timeout: float = 300.0,
        connect_timeout: float = 5.0,
        retries: int = 2,
        graph_cache_seconds: float = 10.0,
        emulate_paths: bool = True,
        transport: httpx.BaseTransport | None = None,
    ) -> None:
        self.query_url = query_url
        self.update_url = update_url
        self.gsp_url = gsp_url
        self.base_uri = base_uri
        self.union_default_graph = union_default_graph
        self.graph_prefixes = tuple(graph_prefixes)
        self.default_graph_iri = f"{base_uri}graph/default"
        self.query_timeout = query_timeout
        self.update_timeout = update_timeout
        self.retries = retries
        self.graph_cache_seconds = graph_cache_seconds
        self.emulate_paths = emulate_paths
        #: Triples per request when a large graph is staged (:data:`REQUEST_TRIPLES`).
        self.request_triples = REQUEST_TRIPLES
        self._http = SparqlHttp(
            user=user,
            password=password,
            auth=auth,
            query_timeout=query_timeout,
            update_timeout=update_timeout,
            connect_timeout=connect_timeout,
            retries=retries,
            transport=transport,
        )
        self._skolem = Skolemizer(base_uri)
        self._graph_lock = threading.Lock()
        self._write_lock = threading.Lock()
        self._graphs: tuple[str, ...] | None = None
        self._graphs_at = 0.0
        self._steps: dict[tuple[str, ...], list[tuple[str, ...]]] = {}
        #: The query timeout in milliseconds, for Virtuoso's ``timeout`` parameter.
        self._timeout_ms = str(max(1, int(query_timeout * 1000)))

    @classmethod
    def from_settings(cls, settings: Settings) -> RemoteSparqlStore:
        """The store the ``IOIR_REMOTE_*`` settings describe; :class:`BadSetting` when they do not fit."""
        if not settings.remote_query_url:
            raise BadSetting("IOIR_REMOTE_QUERY_URL: required with IOIR_BACKEND=remote (e.g. http://host:8890/sparql)")
        password = settings.remote_password.get_secret_value() if settings.remote_password else None
        if settings.remote_auth is not RemoteAuth.NONE and settings.remote_update_url and not settings.remote_user:
            raise BadSetting("IOIR_REMOTE_USER: required to write with IOIR_REMOTE_AUTH=" + settings.remote_auth.value)
        return cls(
            settings.remote_query_url,
            update_url=settings.remote_update_url,
            gsp_url=settings.remote_gsp_url,
            user=settings.remote_user,
            password=password,
            auth=settings.remote_auth,
            base_uri=settings.base_uri,
            union_default_graph=settings.union_default_graph,
            graph_prefixes=settings.remote_graph_prefixes,
            query_timeout=settings.query_timeout,
            update_timeout=settings.remote_update_timeout,
            connect_timeout=settings.remote_connect_timeout,
            retries=settings.remote_retries,
            graph_cache_seconds=settings.remote_graph_cache_seconds,
            emulate_paths=settings.remote_emulate_paths,
        )

    # -- queries ----------------------------------------------------------------------------------------
    def query(
        self,
        sparql: str,
        *,
        bindings: Mapping[str, Term] | None = None,
        dataset: QueryDataset | None = None,
        base_iri: str | None = None,
    ) -> QueryResult:
        """Evaluate ``sparql`` on the server over the project's graphs; results as pyoxigraph types."""
        if bindings:
            sparql = inject_values(sparql, {name: self._skolem.term(term) for name, term in bindings.items()})
        text = with_base(sparql, base_iri)
        shape = query_shape(text)
        params = self._dataset_params(dataset, shape)
        named = [g for name, g in params if name == "named-graph-uri"]
        if named:
            rewritten = absent_graphs_to_empty(text, named)
            if rewritten != text and EMPTY_GRAPH not in named:
                params.append(("named-graph-uri", EMPTY_GRAPH))
            text = rewritten
        if self.emulate_paths and not (shape.has_from or shape.has_from_named):
            text = self._emulate_paths(text, params)
        form: list[tuple[str, str]] = [("query", text), ("timeout", self._timeout_ms), *params]
        graph_result = shape.form in ("CONSTRUCT", "DESCRIBE")
        try:
            response = self._read(self.query_url, form, accept=N_TRIPLES if graph_result else RESULTS_JSON)
        except BadQuery:
            raise_local_syntax_error(sparql, base_iri)
            raise
        media_type = response.headers.get("content-type", "").split(";")[0].strip().lower()
        if media_type in (N_TRIPLES, "text/plain", "text/ntriples"):
            return query_triples(self._triples(response.content, "the answer"))
        if media_type in (RESULTS_JSON, "application/json"):
            return self._solutions(response.content, shape)
        raise StoreUnavailable(f"the remote SPARQL store answered with an unexpected type {media_type or 'none'!r}")

    def ask(self, sparql: str, **kwargs: Any) -> bool:
        """Evaluate an ``ASK`` query."""
        return bool(self.query(sparql, **kwargs))

    def _emulate_paths(self, text: str, params: list[tuple[str, str]]) -> str:
        """``text`` with its ``*``/``+``/``?`` paths evaluated here (:mod:`ioir_kg.store.virtuoso.paths`)."""

        def fetch(prologue: str, pattern: str, variables: tuple[str, ...]) -> list[tuple[str, ...]]:
            key = (prologue, pattern, *variables, *(f"{k}={v}" for k, v in params))
            with self._graph_lock:
                cached = self._steps.get(key)
            if cached is not None:
                return cached
            head = " ".join(f"?{name}" for name in variables)
            select = f"{prologue}SELECT DISTINCT {head} WHERE {{ {pattern} }}"
            select = rewrite_paths(select, fetch, alternatives=False) or select
            response = self._read(
                self.query_url, [("query", select), ("timeout", self._timeout_ms), *params], accept=RESULTS_JSON
            )
            solutions = parse_query_results(response.content, QueryResultsFormat.JSON)
            if not isinstance(solutions, QuerySolutions):
                raise GiveUp("the server answered a path's pattern with a boolean")
            found = []
            for row in solutions:
                terms = [row[name] for name in variables]
                if any(term is None for term in terms):
                    continue
                if any(isinstance(term, BlankNode) for term in terms):
                    raise GiveUp("a blank node cannot be listed in VALUES")
                found.append(tuple(str(term) for term in terms))
            with self._graph_lock:
                self._steps[key] = found
            return found

        self._dataset_graphs()  # (re)validates the step cache with the graph list
        return rewrite_paths(text, fetch) or text

    def _dataset_params(self, dataset: QueryDataset | None, shape: QueryShape) -> list[tuple[str, str]]:
        if dataset is not None:
            defaults = [self.default_graph_iri if g == "" else g for g in dataset.default_graphs] or [EMPTY_GRAPH]
            named = list(dataset.named_graphs) or [EMPTY_GRAPH]
        elif shape.has_from:
            return []
        elif shape.has_from_named:
            defaults, named = [EMPTY_GRAPH], []
        else:
            graphs = list(self._dataset_graphs())
            defaults = [*graphs, self.default_graph_iri] if self.union_default_graph else [self.default_graph_iri]
            named = graphs or [EMPTY_GRAPH]
        return [("default-graph-uri", g) for g in defaults] + [("named-graph-uri", g) for g in named]

    def _solutions(self, body: bytes, shape: QueryShape) -> QueryResult:
        return solutions(body, shape, self._skolem)

    def _triples(self, body: bytes, what: str) -> list[Triple]:
        return triples(body, what, self._skolem)

    # -- updates ------------------------------------------------------------------------------------------
    def update(self, sparql: str, *, base_iri: str | None = None) -> None:
        """Send a SPARQL update as it is. One operation is atomic on Virtuoso; several (``op1 ; op2``) are not.

        An update that names no graph (no ``GRAPH``, ``WITH`` or ``USING``) reads and writes the default
        graph, ``{base}graph/default``. Virtuoso has one default graph *or* named graphs per request: an
        update that mixes graph-less triples with ``GRAPH`` patterns is refused (:class:`BadQuery`).
        """
        refuse_global_graph_operations(sparql)
        form = [("update", with_base(sparql, base_iri))]
        words = {token.text.upper() for token in tokenize(sparql) if token.kind == "word"}
        if not words & {"GRAPH", "WITH", "USING"}:
            form.append(("default-graph-uri", self.default_graph_iri))
        self._write(form)

    def replace_graph(self, graph: str, quads: Iterable[Quad]) -> None:
        """Replace ``graph`` (``""``: the default graph) with ``quads`` in one swap (on a stock Virtuoso a concurrent
        reader may see the swap in progress: README, "Differences from the embedded store").

        New content goes to a private staging graph, then one ``DELETE``/``INSERT`` operation swaps it in. It is
        staged by Graph Store ``POST`` when ``gsp_url`` is set (on Virtuoso 2.6 times the rate of ``INSERT DATA``:
        116,000 against 45,000 triples/s, ``bench/virtuoso_load.py``), else by ``INSERT DATA`` requests of
        :data:`REQUEST_TRIPLES`. A new graph that fits one request is written with one ``INSERT DATA`` (atomic; a
        Graph Store ``POST`` that fails part-way keeps what it wrote). A failure before the swap leaves the graph
        as it was.
        """
        target = self._physical(graph)
        skolem = Skolemizer(self.base_uri)
        triples = [skolem.triple(q.triple) for q in quads]
        if not triples:
            self._write_text(f"DROP SILENT GRAPH <{target}>")
            return
        if len(triples) <= self.request_triples and not self.has_graph(target):
            self._write_text(self._insert_data({target: triples}))
            return
        staging = f"{STAGING_PREFIX}{uuid.uuid4().hex}"
        try:
            self._stage(staging, triples)
            self._write_text(
                f"DELETE {{ GRAPH <{target}> {{ ?s ?p ?o }} }} INSERT {{ GRAPH <{target}> {{ ?s2 ?p2 ?o2 }} }}\n"
                f"WHERE {{ {{ GRAPH <{target}> {{ ?s ?p ?o }} }} UNION {{ GRAPH <{staging}> {{ ?s2 ?p2 ?o2 }} }} }}"
            )
        finally:
            try:
                self._write_text(f"DROP SILENT GRAPH <{staging}>")
            except IoirError as exc:  # the staging graph is outside the dataset; report, do not mask
                log.warning("could not drop the staging graph %s: %s", staging, exc.message)

    def _stage(self, staging: str, triples: list[Triple]) -> None:
        if not self.gsp_url:
            for start in range(0, len(triples), self.request_triples):
                self._write_text(self._insert_data({staging: triples[start : start + self.request_triples]}))
            return
        for start in range(0, len(triples), GSP_REQUEST_TRIPLES):
            body = serialize(triples[start : start + GSP_REQUEST_TRIPLES], format=RdfFormat.N_TRIPLES) or b""
            with self._write_lock:  # N-Triples is Turtle: every Graph Store server reads text/turtle
                try:
                    self._http.send(
                        "POST", self.gsp_url, accept="*/*", read=False, params={"graph-uri": staging}, body=body
                    )
                finally:
                    self._forget_graphs()

    def load_file(self, path: Path, graph: str) -> int:
        """Replace ``graph`` with the RDF file at ``path``, parsed completely (and so validated) first."""
        fmt = rdf_format_for(path)
        if fmt.supports_datasets:
            raise BadRdf(f"{path}: {fmt.name} holds named graphs; use 'ioir-kg restore' for dataset dumps")
        try:
            quads = list(parse(path=str(path), format=fmt))
        except SyntaxError as exc:
            raise BadRdf(syntax_message(str(path), exc)) from None
        except (OSError, UnicodeDecodeError) as exc:
            raise BadRdf(f"{path}: cannot read: {exc}") from None
        self.replace_graph(graph, quads)
        return len(quads)

    def add_quads(self, quads: Iterable[Quad]) -> None:
        """Add quads with one ``INSERT DATA`` request (atomic, whatever the number of graphs)."""
        skolem = Skolemizer(self.base_uri)
        groups: dict[str, list[Triple]] = {}
        for quad in quads:
            graph = "" if isinstance(quad.graph_name, DefaultGraph) else quad.graph_name.value
            groups.setdefault(self._physical(graph), []).append(skolem.triple(quad.triple))
        if groups:
            self._write_text(self._insert_data(groups))

    def drop_graph(self, graph: str) -> None:
        """Remove ``graph`` (``""`` empties the default graph); no error if it does not exist."""
        self._write_text(f"DROP SILENT GRAPH <{self._physical(graph)}>")

    def restore(self, src: BinaryIO) -> None:
        """Replace every graph of the dataset with the N-Quads of ``src`` (parsed fully first).

        Each graph is replaced atomically, the whole dataset is not: a failure part-way leaves some
        graphs restored; run the restore again.
        """
        try:
            quads = list(parse(src, format=RdfFormat.N_QUADS))
        except SyntaxError as exc:
            raise BadRdf(syntax_message("restore input", exc)) from None
        skolem = Skolemizer(self.base_uri)
        groups: dict[str, list[Quad]] = {}
        for quad in quads:
            name = "" if isinstance(quad.graph_name, DefaultGraph) else quad.graph_name.value
            triple = skolem.triple(quad.triple)
            groups.setdefault(name, []).append(Quad(triple.subject, triple.predicate, triple.object))
        for info in self.graphs():
            if info.iri not in groups:
                self.drop_graph(info.iri)
        if "" not in groups:
            self.drop_graph("")
        for graph, members in groups.items():
            self.replace_graph(graph, members)

    # -- graphs ---------------------------------------------------------------------------------------------
    def graphs(self) -> Sequence[GraphInfo]:
        """The dataset's named graphs with their triple counts, sorted by IRI (empty graphs do not exist)."""
        rows = self._select("SELECT ?g (COUNT(*) AS ?n) WHERE { GRAPH ?g { ?s ?p ?o } } GROUP BY ?g")
        counts = {str(row["g"]["value"]): int(row["n"]["value"]) for row in rows if "g" in row}
        return [GraphInfo(iri, n) for iri, n in sorted(counts.items()) if self._in_dataset(iri)]

    def has_graph(self, graph: str) -> bool:
        """Whether the graph holds at least one triple (the server keeps no empty graphs)."""
        if graph == "":
            return True
        return self._ask(f"ASK WHERE {{ GRAPH <{valid_iri(graph)}> {{ ?s ?p ?o }} }}")

    def quads(self, graph: str | None = None) -> Iterator[Quad]:
        """Every quad of the dataset (default graph first), or those of one graph (``""``: the default graph)."""
        if graph is not None:
            name: NamedNode | DefaultGraph = DefaultGraph() if graph == "" else NamedNode(graph)
            return (Quad(t.subject, t.predicate, t.object, name) for t in self._graph_triples(self._physical(graph)))
        names = ["", *(info.iri for info in self.graphs())]
        return itertools.chain.from_iterable(self.quads(name) for name in names)

    def dump(self, out: BinaryIO) -> None:
        """Write every quad of the dataset as N-Quads."""
        serialize(self.quads(), out, RdfFormat.N_QUADS)

    # -- health and life cycle --------------------------------------------------------------------------------
    def ping(self) -> None:
        """Raise :class:`StoreUnavailable` unless the server answers a query."""
        self._ask("ASK {}")

    def status(self) -> StoreStatus:
        """Backend and quad count; :class:`StoreUnavailable` when the server does not answer."""
        rows = self._select("SELECT (COUNT(*) AS ?n) WHERE { ?s ?p ?o }", dataset=True)
        triples = int(rows[0]["n"]["value"]) if rows and "n" in rows[0] else 0
        extra = {"endpoint": public_url(self.query_url), "writable": "yes" if self.update_url else "no"}
        return StoreStatus(backend=self.backend, ok=True, triples=triples, extra=extra)

    def close(self) -> None:
        """Close the connection pool."""
        self._http.close()

    def __len__(self) -> int:
        return self.status().triples

    # -- helpers ------------------------------------------------------------------------------------------------
    def _physical(self, graph: str) -> str:
        """The server's graph for ``graph`` (``""``: the default graph's stand-in)."""
        return self.default_graph_iri if graph == "" else valid_iri(graph)

    def _in_dataset(self, iri: str) -> bool:
        if iri == self.default_graph_iri or iri.startswith(SYSTEM_GRAPH_PREFIXES):
            return False
        return not self.graph_prefixes or iri.startswith(self.graph_prefixes)

    def _dataset_graphs(self) -> tuple[str, ...]:
        """The dataset's graphs, cached for ``graph_cache_seconds`` (and dropped after each write)."""
        with self._graph_lock:
            now = time.monotonic()
            if self._graphs is None or now - self._graphs_at >= self.graph_cache_seconds:
                # (Virtuoso 7.2 answers ``SELECT DISTINCT ?g`` by scanning for seconds; GROUP BY is instant.)
                rows = self._select("SELECT ?g WHERE { GRAPH ?g { ?s ?p ?o } } GROUP BY ?g")
                found = {str(row["g"]["value"]) for row in rows if row.get("g", {}).get("type") == "uri"}
                self._graphs = tuple(sorted(g for g in found if self._in_dataset(g)))
                self._graphs_at = now
                self._steps.clear()
            return self._graphs

    def _forget_graphs(self) -> None:
        with self._graph_lock:
            self._graphs = None
            self._steps.clear()

    def _select(self, sparql: str, *, dataset: bool = False) -> list[dict[str, Any]]:
        """Raw JSON rows of a query of our own (over every graph, or over the dataset)."""
        form: list[tuple[str, str]] = [("query", sparql), ("timeout", self._timeout_ms)]
        if dataset:
            form += self._dataset_params(None, QueryShape("SELECT"))
        response = self._read(self.query_url, form, accept=RESULTS_JSON)
        try:
            rows: list[dict[str, Any]] = json.loads(response.content)["results"]["bindings"]
        except (ValueError, KeyError, TypeError) as exc:
            raise StoreUnavailable(f"the remote SPARQL store sent an unreadable answer: {exc}") from None
        return rows

    def _ask(self, sparql: str) -> bool:
        response = self._read(self.query_url, [("query", sparql), ("timeout", self._timeout_ms)], accept=RESULTS_JSON)
        try:
            return bool(json.loads(response.content)["boolean"])
        except (ValueError, KeyError, TypeError) as exc:
            raise StoreUnavailable(f"the remote SPARQL store sent an unreadable answer: {exc}") from None

    def _graph_triples(self, iri: str) -> list[Triple]:
        """The triples of one graph: Graph Store ``GET`` when configured, else a ``CONSTRUCT``.

        The count is checked against ``COUNT(*)``: a server that caps results (Virtuoso's
        ``ResultSetMaxRows``) raises :class:`StoreUnavailable` instead of losing triples silently.
        """
        rows = self._select(f"SELECT (COUNT(*) AS ?n) WHERE {{ GRAPH <{iri}> {{ ?s ?p ?o }} }}")
        expected = int(rows[0]["n"]["value"]) if rows and "n" in rows[0] else 0
        if expected == 0:
            return []
        if self.gsp_url:
            response = self._get(self.gsp_url, {"graph-uri": iri}, accept=N_TRIPLES)
        else:
            construct = f"CONSTRUCT {{ ?s ?p ?o }} WHERE {{ GRAPH <{iri}> {{ ?s ?p ?o }} }}"
            response = self._read(
                self.query_url, [("query", construct), ("timeout", self._timeout_ms)], accept=N_TRIPLES
            )
        triples = self._triples(response.content, f"graph <{iri}>")
        if len(triples) < expected:
            raise StoreUnavailable(
                f"the remote SPARQL store sent {len(triples)} of the {expected} triples of <{iri}>: "
                "raise its result limit (Virtuoso: [SPARQL] ResultSetMaxRows)"
            )
        return triples

    def _read(self, url: str, form: list[tuple[str, str]], *, accept: str) -> httpx.Response:
        """POST a query form, retrying when no answer came; errors mapped to :class:`IoirError`."""
        return self._http.send("POST", url, accept=accept, data=form, read=True)

    def _get(self, url: str, params: Mapping[str, str], *, accept: str) -> httpx.Response:
        return self._http.send("GET", url, accept=accept, params=dict(params), read=True)

    def _insert_data(self, groups: Mapping[str, Sequence[Triple]]) -> str:
        if self._http.virtuoso is None:
            self.ping()  # learn whether the server is Virtuoso (its answer's Server header)
        return insert_data(groups, pragma=bool(self._http.virtuoso))

    def _write_text(self, update: str) -> None:
        """An update of the store's own, which names every graph it touches."""
        self._write([("update", update)])

    def _write(self, form: list[tuple[str, str]]) -> None:
        if not self.update_url:
            raise Forbidden("this server is read-only: IOIR_REMOTE_UPDATE_URL is not set")
        with self._write_lock:
            try:
                self._http.send("POST", self.update_url, accept=RESULTS_JSON, data=form, read=False)
            finally:
                self._forget_graphs()


__all__ = [
    "EMPTY_GRAPH",
    "GENID_PATH",
    "GSP_REQUEST_TRIPLES",
    "REQUEST_TRIPLES",
    "STAGING_PREFIX",
    "SYSTEM_GRAPH_PREFIXES",
    "RemoteSparqlStore",
]
