"""The scale-out backend: any SPARQL 1.1 server over HTTP, tested against Virtuoso 7.2.

:class:`RemoteSparqlStore` implements :class:`~ioir_kg.store.base.KnowledgeStore` with the SPARQL 1.1
Protocol (queries as form POSTs, updates as form POSTs with credentials, graphs read through the Graph
Store Protocol) and returns the same pyoxigraph result types as the embedded store. Every difference of
the server is handled here, at the boundary:

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
  and alternatives with one row per match: :mod:`ioir_kg.store.remote_paths` evaluates them here
  (closures fetched once, bound as ``VALUES``) unless ``emulate_paths`` is off (a conformant server).
* **Writes.** One ``INSERT DATA`` request is atomic, even over several graphs and many ``GRAPH`` blocks; on
  Virtuoso it carries a pragma without which a stock ``virtuoso.ini`` refuses more than ~1,400 triples per request
  (:mod:`ioir_kg.store.remote_server`); a request of several operations is not atomic. Blank nodes are refused in
  ``INSERT DATA``, so they are skolemised to IRIs under ``{base}.well-known/genid/`` (RDF 1.1 §3.5).
  ``replace_graph`` stages the new content in a private graph, then swaps it in with **one**
  ``DELETE``/``INSERT`` operation: readers see the old graph or the new one, never a mixture, and a failure
  before the swap changes nothing.
* **Timeouts.** The query timeout goes to the server (``timeout=`` in ms) and to httpx; Virtuoso's
  partial "Anytime" answers (``X-SQL-State: S1TAT`` or HTTP 206) raise :class:`QueryTimeout`.
* **Failures.** A server that cannot be reached raises :class:`StoreUnavailable` (503); reads are
  retried a few times when no answer came, writes never.

The lexical helpers read a query as tokens (strings, IRIs and comments skipped):

>>> shape = query_shape("PREFIX ex: <http://x/> SELECT (SUM(?v) AS ?total) FROM <http://g> { ?s ex:FROM ?v }")
>>> shape.form, shape.has_from, shape.empty_aggregates
('SELECT', True, ('total',))
>>> query_shape("CONSTRUCT { ?s ?p ?o } WHERE { ?s ?p 'SELECT' }").form
'CONSTRUCT'
"""

from __future__ import annotations

import itertools
import json
import logging
import threading
import time
import uuid
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, BinaryIO

import httpx
from pyoxigraph import (
    BlankNode,
    DefaultGraph,
    Literal,
    NamedNode,
    Quad,
    QueryResultsFormat,
    QuerySolutions,
    RdfFormat,
    Store,
    Triple,
    parse,
    parse_query_results,
    serialize,
)

from ioir_kg.config import DEFAULT_BASE_URI, RemoteAuth, Settings
from ioir_kg.errors import BadQuery, BadRdf, BadSetting, Forbidden, IoirError, QueryTimeout, StoreUnavailable
from ioir_kg.store.base import GraphInfo, QueryDataset, QueryResult, StoreStatus, Term
from ioir_kg.store.bindings import inject_values
from ioir_kg.store.oxigraph import rdf_format_for, syntax_message
from ioir_kg.store.remote_paths import GiveUp, rewrite_paths, tokenize
from ioir_kg.store.remote_server import checked, insert_data, is_virtuoso

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
#: A graph that never holds anything: names an empty default graph or an empty set of named graphs.
EMPTY_GRAPH = "urn:x-ioir:empty"
#: The path under the base IRI of skolem IRIs that stand for blank nodes.
GENID_PATH = ".well-known/genid/"

RESULTS_JSON = "application/sparql-results+json"
N_TRIPLES = "application/n-triples"
_XSD = "http://www.w3.org/2001/XMLSchema#"
_BOOLEAN, _INTEGER, _STRING = f"{_XSD}boolean", f"{_XSD}integer", f"{_XSD}string"
#: Types derived from ``xsd:integer``: the embedded store keeps their values as ``xsd:integer`` (and Virtuoso
#: answers ``xsd:long`` for some computed integers), so they come back as ``xsd:integer``.
_INTEGER_TYPES = frozenset(
    f"{_XSD}{name}"
    for name in [
        "long",
        "int",
        "short",
        "byte",
        "nonNegativeInteger",
        "positiveInteger",
        "negativeInteger",
        "nonPositiveInteger",
        "unsignedLong",
        "unsignedInt",
        "unsignedShort",
        "unsignedByte",
    ]
)
#: Results up to this many rows are put back in the query's order here (Virtuoso sorts long literals by
#: their internal id, not by their text).
RESORT_MAX_ROWS = 100_000
_ZERO = {"type": "literal", "datatype": _INTEGER, "value": "0"}
#: Answers from a read worth trying again (the server was busy, restarting or behind a proxy).
_RETRY_STATUS = frozenset({502, 503, 504})

# -- a lexical view of a query ------------------------------------------------------------------------

_FORMS = frozenset({"SELECT", "CONSTRUCT", "DESCRIBE", "ASK"})
_ZERO_WHEN_EMPTY = frozenset({"SUM", "AVG"})
_AGGREGATES = frozenset({"COUNT", "SUM", "MIN", "MAX", "AVG", "SAMPLE", "GROUP_CONCAT"})


@dataclass(frozen=True)
class QueryShape:
    """What the store needs to know about a query before sending it and after its answer.

    ``form`` is ``SELECT``, ``CONSTRUCT``, ``DESCRIBE``, ``ASK`` or ``None``; ``has_from`` and
    ``has_from_named`` tell whether the query names its own dataset; ``empty_aggregates`` are the
    variables projected as a bare ``SUM(…)`` or ``AVG(…)`` of a query without ``GROUP BY`` (0 over no row);
    ``group_concats`` those projected as a bare ``GROUP_CONCAT(…)``; ``order_by`` is the text of the
    top-level ``ORDER BY`` clause (``""``: none), ``order_vars`` the variables it names, ``sliced``
    whether ``LIMIT`` or ``OFFSET`` follows; ``prologue`` is the text before the query form.
    """

    form: str | None
    has_from: bool = False
    has_from_named: bool = False
    empty_aggregates: tuple[str, ...] = ()
    group_concats: tuple[str, ...] = ()
    order_by: str = ""
    order_vars: tuple[str, ...] = ()
    order_aggregates: bool = False
    sliced: bool = False
    prologue: str = ""


def query_shape(text: str) -> QueryShape:
    """Read the query form, its dataset clauses, its top-level aggregates and its order (see :class:`QueryShape`)."""
    toks = tokenize(text)
    form: str | None = None
    prologue = ""
    has_from = has_from_named = has_group_by = sliced = False
    depth = 0
    projection: list[tuple[str, str]] = []
    in_projection = False
    order_start = order_end = -1
    for index, token in enumerate(toks):
        kind, value = token.kind, token.text
        word = value.upper() if kind == "word" else ""
        if kind == "punct" and value in "{}":
            depth += 1 if value == "{" else -1
            in_projection = False
            if order_start >= 0 and order_end < 0:
                order_end = token.start
            continue
        if depth != 0 or not word:
            if in_projection:
                projection.append((kind, value))
            continue
        previous = toks[index - 1].text.upper() if index > 0 else ""
        if form is None and word in _FORMS:
            form = word
            prologue = text[: token.start]
            in_projection = word == "SELECT"
        elif word == "FROM":
            following = toks[index + 1].text.upper() if index + 1 < len(toks) else ""
            if following == "NAMED":
                has_from_named = True
            else:
                has_from = True
            in_projection = False
        elif word == "WHERE":
            in_projection = False
        elif word == "BY" and previous == "GROUP":
            has_group_by = True
        elif word == "BY" and previous == "ORDER":
            order_start = token.end
        elif word in ("LIMIT", "OFFSET", "VALUES"):
            sliced = sliced or word != "VALUES"
            if order_start >= 0 and order_end < 0:
                order_end = token.start
        elif in_projection:
            projection.append((kind, value))
    aggregates = () if has_group_by or form != "SELECT" else _bare_aggregates(projection, _ZERO_WHEN_EMPTY)
    concats = _bare_aggregates(projection, frozenset({"GROUP_CONCAT"})) if form == "SELECT" else ()
    order_by = ""
    order_vars: tuple[str, ...] = ()
    order_aggregates = False
    if order_start >= 0:
        clause = text[order_start : order_end if order_end >= 0 else len(text)]
        order_by = clause.strip()
        clause_tokens = tokenize(clause)
        order_vars = tuple(dict.fromkeys(t.text[1:] for t in clause_tokens if t.kind == "var"))
        order_aggregates = any(t.kind == "word" and t.text.upper() in _AGGREGATES for t in clause_tokens)
    return QueryShape(
        form,
        has_from,
        has_from_named,
        aggregates,
        concats,
        order_by,
        order_vars,
        order_aggregates,
        sliced,
        prologue,
    )


def _bare_aggregates(projection: Sequence[tuple[str, str]], names: frozenset[str]) -> tuple[str, ...]:
    """Variables bound by ``(NAME(…) AS ?v)`` in a projection, for the aggregate ``names``."""
    found: list[str] = []
    for i in range(len(projection) - 2):
        kind, value = projection[i]
        if not (kind == "punct" and value == "(" and projection[i + 1][1].upper() in names):
            continue
        if projection[i + 2][1] != "(":
            continue
        depth, j = 0, i + 2
        while j < len(projection):
            if projection[j][1] == "(":
                depth += 1
            elif projection[j][1] == ")":
                depth -= 1
                if depth == 0:
                    break
            j += 1
        rest = projection[j + 1 : j + 4]
        if len(rest) >= 2 and rest[0][1].upper() == "AS" and rest[1][0] == "var":
            found.append(rest[1][1][1:])
    return tuple(found)


def _refuse_global_graph_operations(update: str) -> None:
    """``CLEAR``/``DROP ALL`` or ``NAMED`` would reach the server's own graphs: refuse them.

    >>> _refuse_global_graph_operations("DROP SILENT GRAPH <http://x/>")
    >>> _refuse_global_graph_operations("CLEAR SILENT ALL")
    Traceback (most recent call last):
    ioir_kg.errors.BadQuery: CLEAR ALL would reach the remote server's own graphs: CLEAR each graph by name
    """
    words = [token.text.upper() for token in tokenize(update) if token.kind == "word"]
    for i, word in enumerate(words):
        if word not in ("CLEAR", "DROP"):
            continue
        rest = words[i + 1 : i + 3]
        target = rest[1] if rest[:1] == ["SILENT"] and len(rest) > 1 else (rest[0] if rest else "")
        if target in ("ALL", "NAMED"):
            raise BadQuery(f"{word} {target} would reach the remote server's own graphs: {word} each graph by name")


# -- terms at the boundary ----------------------------------------------------------------------------


class Skolemizer:
    """Blank nodes to fresh skolem IRIs (one per distinct blank node of one write), and back.

    >>> s = Skolemizer("https://w3id.org/ioir/")
    >>> iri = s.term(BlankNode("b0"))
    >>> iri.value.startswith("https://w3id.org/ioir/.well-known/genid/"), iri == s.term(BlankNode("b0"))
    (True, True)
    >>> back = s.back(iri)
    >>> isinstance(back, BlankNode), back.value[0]
    (True, 'b')
    """

    def __init__(self, base_uri: str) -> None:
        self.prefix = f"{base_uri}{GENID_PATH}"
        self._names: dict[str, NamedNode] = {}

    def term(self, term: Any) -> Any:
        """``term`` itself, or the skolem IRI of a blank node."""
        if isinstance(term, BlankNode):
            iri = self._names.get(term.value)
            if iri is None:
                # "b" first: the name comes back as the blank node's id, which RDF/XML needs to be an NCName
                iri = self._names[term.value] = NamedNode(f"{self.prefix}b{uuid.uuid4().hex}")
            return iri
        return term

    def triple(self, triple: Triple) -> Triple:
        """The triple with its blank nodes skolemised."""
        return Triple(self.term(triple.subject), triple.predicate, self.term(triple.object))

    def back(self, term: Any) -> Any:
        """A skolem IRI of ours as a blank node; any other term unchanged."""
        if isinstance(term, NamedNode) and term.value.startswith(self.prefix):
            try:
                return BlankNode(term.value[len(self.prefix) :])
            except ValueError:
                return term
        return term


def normalise_term(term: Any, skolem: Skolemizer) -> Any:
    """A term read from the server, in the form the embedded store would give.

    >>> s = Skolemizer("https://w3id.org/ioir/")
    >>> normalise_term(Literal("1", datatype=NamedNode(_BOOLEAN)), s)
    <Literal value=true datatype=<NamedNode value=http://www.w3.org/2001/XMLSchema#boolean>>
    >>> normalise_term(Literal("7", datatype=NamedNode(_XSD + "long")), s)
    <Literal value=7 datatype=<NamedNode value=http://www.w3.org/2001/XMLSchema#integer>>
    """
    if isinstance(term, Literal):
        datatype = term.datatype.value
        if datatype == _BOOLEAN and term.value in ("1", "0"):
            return Literal("true" if term.value == "1" else "false", datatype=term.datatype)
        if datatype in _INTEGER_TYPES:
            return Literal(term.value, datatype=NamedNode(_INTEGER))
        return term
    return skolem.back(term)


def _normalise_json_term(value: dict[str, Any], skolem: Skolemizer) -> dict[str, Any]:
    kind = value.get("type")
    if kind == "uri":
        iri = str(value.get("value", ""))
        if iri.startswith(skolem.prefix):
            back = skolem.back(NamedNode(iri))
            if isinstance(back, BlankNode):
                return {"type": "bnode", "value": back.value}
        return value
    if kind in ("literal", "typed-literal"):
        out: dict[str, Any] = {"type": "literal", "value": value.get("value", "")}
        if "xml:lang" in value:
            out["xml:lang"] = str(value["xml:lang"]).lower()
            return out
        datatype = value.get("datatype")
        if datatype == _BOOLEAN and out["value"] in ("1", "0"):
            out["value"] = "true" if out["value"] == "1" else "false"
        if datatype in _INTEGER_TYPES:
            datatype = _INTEGER
        if datatype and datatype != _STRING:
            out["datatype"] = datatype
        return out
    return value


# -- the store --------------------------------------------------------------------------------------------


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
        self._read_auth = _auth(auth, user, password)
        self._write_auth = _auth(auth, user, password)
        self._client = httpx.Client(
            timeout=httpx.Timeout(query_timeout + 5.0, connect=connect_timeout),
            limits=httpx.Limits(max_connections=32, max_keepalive_connections=16, keepalive_expiry=5.0),
            transport=transport,
            headers={"User-Agent": "ioir-kg"},
        )
        self._skolem = Skolemizer(base_uri)
        self._graph_lock = threading.Lock()
        self._write_lock = threading.Lock()
        self._graphs: tuple[str, ...] | None = None
        self._graphs_at = 0.0
        self._steps: dict[tuple[str, ...], list[tuple[str, ...]]] = {}
        #: The query timeout in milliseconds, for Virtuoso's ``timeout`` parameter.
        self._timeout_ms = str(max(1, int(query_timeout * 1000)))
        #: Whether the server is Virtuoso (its ``Server`` header; ``None`` until it has answered once).
        self._virtuoso: bool | None = None

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
        text = _with_base(sparql, base_iri)
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
            _raise_local_syntax_error(sparql, base_iri)
            raise
        media_type = response.headers.get("content-type", "").split(";")[0].strip().lower()
        if media_type in (N_TRIPLES, "text/plain", "text/ntriples"):
            return _query_triples(self._triples(response.content, "the answer"))
        if media_type in (RESULTS_JSON, "application/json"):
            return self._solutions(response.content, shape)
        raise StoreUnavailable(f"the remote SPARQL store answered with an unexpected type {media_type or 'none'!r}")

    def ask(self, sparql: str, **kwargs: Any) -> bool:
        """Evaluate an ``ASK`` query."""
        return bool(self.query(sparql, **kwargs))

    def _emulate_paths(self, text: str, params: list[tuple[str, str]]) -> str:
        """``text`` with its ``*``/``+``/``?`` paths evaluated here (:mod:`ioir_kg.store.remote_paths`)."""

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
        try:
            document = json.loads(body)
        except ValueError as exc:
            raise StoreUnavailable(f"the remote SPARQL store sent results that are not JSON: {exc}") from None
        if "boolean" in document:
            boolean = json.dumps({"head": {}, "boolean": bool(document["boolean"])})
            return parse_query_results(boolean, QueryResultsFormat.JSON)
        rows = document.get("results", {}).get("bindings", [])
        rows = [{k: _normalise_json_term(v, self._skolem) for k, v in row.items()} for row in rows]
        if shape.empty_aggregates and len(rows) == 1:
            for name in shape.empty_aggregates:
                rows[0].setdefault(name, dict(_ZERO))
        for name in shape.group_concats:  # over only unbound values: unbound, as the embedded store says
            for row in rows:
                if row.get(name) == {"type": "literal", "value": ""}:
                    del row[name]
        variables = document.get("head", {}).get("vars", [])
        normalised = {"head": {"vars": variables}, "results": {"bindings": rows}}
        try:
            solutions = parse_query_results(json.dumps(normalised), QueryResultsFormat.JSON)
        except SyntaxError as exc:
            raise StoreUnavailable(f"the remote SPARQL store sent results that do not parse: {exc}") from None
        if _reorderable(shape, variables, len(rows)):
            ordered = _in_order(solutions, variables, shape)
            return ordered or parse_query_results(json.dumps(normalised), QueryResultsFormat.JSON)
        return solutions

    def _triples(self, body: bytes, what: str) -> list[Triple]:
        try:
            quads = parse(body, RdfFormat.N_TRIPLES)
            return [
                Triple(normalise_term(q.subject, self._skolem), q.predicate, normalise_term(q.object, self._skolem))
                for q in quads
            ]
        except SyntaxError as exc:
            raise StoreUnavailable(
                f"the remote SPARQL store sent {what} as N-Triples that do not parse: {exc}"
            ) from None

    # -- updates ------------------------------------------------------------------------------------------
    def update(self, sparql: str, *, base_iri: str | None = None) -> None:
        """Send a SPARQL update as it is. One operation is atomic on Virtuoso; several (``op1 ; op2``) are not.

        An update that names no graph (no ``GRAPH``, ``WITH`` or ``USING``) reads and writes the default
        graph, ``{base}graph/default``. Virtuoso has one default graph *or* named graphs per request: an
        update that mixes graph-less triples with ``GRAPH`` patterns is refused (:class:`BadQuery`).
        """
        _refuse_global_graph_operations(sparql)
        form = [("update", _with_base(sparql, base_iri))]
        words = {token.text.upper() for token in tokenize(sparql) if token.kind == "word"}
        if not words & {"GRAPH", "WITH", "USING"}:
            form.append(("default-graph-uri", self.default_graph_iri))
        self._write(form)

    def replace_graph(self, graph: str, quads: Iterable[Quad]) -> None:
        """Replace ``graph`` (``""``: the default graph) with ``quads``; readers never see a mixture.

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
                    self._send("POST", self.gsp_url, accept="*/*", read=False, params={"graph-uri": staging}, body=body)
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
        return self._ask(f"ASK WHERE {{ GRAPH <{_iri(graph)}> {{ ?s ?p ?o }} }}")

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
        extra = {"endpoint": _public_url(self.query_url), "writable": "yes" if self.update_url else "no"}
        return StoreStatus(backend=self.backend, ok=True, triples=triples, extra=extra)

    def close(self) -> None:
        """Close the connection pool."""
        self._client.close()

    def __len__(self) -> int:
        return self.status().triples

    # -- helpers ------------------------------------------------------------------------------------------------
    def _physical(self, graph: str) -> str:
        """The server's graph for ``graph`` (``""``: the default graph's stand-in)."""
        return self.default_graph_iri if graph == "" else _iri(graph)

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
        return self._send("POST", url, accept=accept, data=form, read=True)

    def _get(self, url: str, params: Mapping[str, str], *, accept: str) -> httpx.Response:
        return self._send("GET", url, accept=accept, params=dict(params), read=True)

    def _insert_data(self, groups: Mapping[str, Sequence[Triple]]) -> str:
        if self._virtuoso is None:
            self.ping()  # learn whether the server is Virtuoso (its answer's Server header)
        return insert_data(groups, pragma=bool(self._virtuoso))

    def _write_text(self, update: str) -> None:
        """An update of the store's own, which names every graph it touches."""
        self._write([("update", update)])

    def _write(self, form: list[tuple[str, str]]) -> None:
        if not self.update_url:
            raise Forbidden("this server is read-only: IOIR_REMOTE_UPDATE_URL is not set")
        with self._write_lock:
            try:
                self._send("POST", self.update_url, accept=RESULTS_JSON, data=form, read=False)
            finally:
                self._forget_graphs()

    def _send(
        self,
        method: str,
        url: str,
        *,
        accept: str,
        read: bool,
        data: list[tuple[str, str]] | None = None,
        params: dict[str, str] | None = None,
        body: bytes | None = None,
    ) -> httpx.Response:
        attempts = 1 + (self.retries if read else 0)
        timeout = httpx.USE_CLIENT_DEFAULT if read else self.update_timeout
        auth = self._read_auth if read else self._write_auth
        for attempt in range(attempts):
            last = attempt == attempts - 1
            try:
                response = self._client.request(
                    method,
                    url,
                    data=_form(data) if data is not None else None,
                    content=body,
                    params=params,
                    headers={"Accept": accept} if body is None else {"Accept": accept, "Content-Type": "text/turtle"},
                    auth=auth if auth is not None else httpx.USE_CLIENT_DEFAULT,
                    timeout=timeout,
                )
            except httpx.ConnectTimeout:
                if last:
                    message = f"the remote SPARQL store at {_public_url(url)} does not accept connections"
                    raise StoreUnavailable(message) from None
            except httpx.TimeoutException:
                what = "query" if read else "update"
                raise QueryTimeout(f"the remote SPARQL store did not answer the {what} in time") from None
            except httpx.TransportError as exc:  # writes have one attempt: never sent twice
                if last:
                    raise StoreUnavailable(
                        f"the remote SPARQL store at {_public_url(url)} cannot be reached: {type(exc).__name__}"
                    ) from None
            else:
                if read and response.status_code in _RETRY_STATUS and not last:
                    response.close()
                else:
                    if self._virtuoso is None:
                        self._virtuoso = is_virtuoso(response.headers.get("server", ""))
                    return checked(response)
            time.sleep(min(2.0, 0.2 * 2**attempt))
        raise StoreUnavailable(f"the remote SPARQL store at {_public_url(url)} cannot be reached")  # pragma: no cover


# -- module helpers ----------------------------------------------------------------------------------------


def _auth(kind: RemoteAuth, user: str | None, password: str | None) -> httpx.Auth | None:
    if kind is RemoteAuth.NONE or user is None:
        return None
    if kind is RemoteAuth.BASIC:
        return httpx.BasicAuth(user, password or "")
    return httpx.DigestAuth(user, password or "")


def _form(pairs: list[tuple[str, str]]) -> dict[str, list[str]]:
    form: dict[str, list[str]] = {}
    for key, value in pairs:
        form.setdefault(key, []).append(value)
    return form


def _iri(value: str) -> str:
    """``value`` checked as an absolute IRI (so that it can be written between angle brackets)."""
    try:
        return NamedNode(value).value
    except ValueError:
        raise BadQuery(f"{value!r} is not a valid IRI") from None


def _with_base(sparql: str, base_iri: str | None) -> str:
    return sparql if base_iri is None else f"BASE <{_iri(base_iri)}>\n{sparql}"


def _public_url(url: str) -> str:
    """The URL without user information (never show credentials)."""
    return str(httpx.URL(url).copy_with(username=None, password=None))


def _reorderable(shape: QueryShape, variables: Sequence[str], rows: int) -> bool:
    """Whether the answer can be put in order here: ordered by projected variables, not sliced, not too long."""
    if not shape.order_by or shape.sliced or shape.order_aggregates or not 1 < rows <= RESORT_MAX_ROWS:
        return False
    return set(shape.order_vars) <= set(variables)


def _in_order(solutions: QueryResult, variables: Sequence[str], shape: QueryShape) -> QueryResult | None:
    """``solutions`` sorted by the query's ``ORDER BY``, as the embedded store sorts (``None``: cannot).

    The rows go into a ``VALUES`` block of a query that only orders them, evaluated by pyoxigraph in
    memory; ties keep the server's order.
    """
    if not isinstance(solutions, QuerySolutions):
        return None
    lines = []
    for row in solutions:
        terms = []
        for name in variables:
            term = row[name]
            if isinstance(term, BlankNode):
                return None
            terms.append("UNDEF" if term is None else str(term))
        lines.append("(" + " ".join(terms) + ")")
    head = " ".join(f"?{name}" for name in variables)
    text = (
        f"{shape.prologue}SELECT {head} WHERE {{ VALUES ({head}) {{ {' '.join(lines)} }} }} ORDER BY {shape.order_by}"
    )
    try:
        return Store().query(text)
    except (SyntaxError, ValueError, RuntimeError, OSError):
        log.warning("could not order a remote answer here; the server's order is kept")
        return None


def _query_triples(triples: list[Triple]) -> QueryResult:
    """``triples`` as pyoxigraph ``QueryTriples`` (through a small in-memory store)."""
    memory = Store()
    memory.extend(Quad(t.subject, t.predicate, t.object, DefaultGraph()) for t in triples)
    return memory.query("CONSTRUCT WHERE { ?s ?p ?o }")


def absent_graphs_to_empty(text: str, named: Sequence[str]) -> str:
    """``text`` with every ``GRAPH <g>`` whose ``<g>`` is not among the ``named`` graphs reading ``GRAPH`` of
    :data:`EMPTY_GRAPH` (which the caller names too).

    Virtuoso 7.2 evaluates a ``GRAPH <g> { … }`` outside the request's ``named-graph-uri`` as one match when no
    variable of the pattern is projected: ``ASK { GRAPH <nowhere> { ?s ?p ?o } }`` is ``true``. A graph outside
    the dataset has no triples in it, and neither does :data:`EMPTY_GRAPH`: the answer is then right.

    >>> absent_graphs_to_empty("PREFIX g: <http://g/> ASK { GRAPH g:a { ?s ?p 'GRAPH <x>' } GRAPH <http://g/b> {} }",
    ...                        ["http://g/b"])
    "PREFIX g: <http://g/> ASK { GRAPH <urn:x-ioir:empty> { ?s ?p 'GRAPH <x>' } GRAPH <http://g/b> {} }"
    """
    toks = tokenize(text)
    prefixes: dict[str, str] = {}
    keep = set(named)
    pieces: list[str] = []
    done = 0
    for index, token in enumerate(toks[:-1]):
        word = token.text.upper() if token.kind == "word" else ""
        following = toks[index + 1]
        if word == "PREFIX" and following.kind == "pname" and index + 2 < len(toks) and toks[index + 2].kind == "iri":
            prefixes[following.text[:-1]] = toks[index + 2].text[1:-1]
        if word != "GRAPH" or following.kind not in ("iri", "pname"):
            continue
        if following.kind == "iri":
            iri = following.text[1:-1]
        else:
            prefix, _, local = following.text.partition(":")
            iri = prefixes[prefix] + local if prefix in prefixes else ""
        if ":" in iri and iri not in keep:
            pieces += [text[done : following.start], f"<{EMPTY_GRAPH}>"]
            done = following.end
    return "".join(pieces) + text[done:] if pieces else text


def _raise_local_syntax_error(sparql: str, base_iri: str | None) -> None:
    """Raise the embedded parser's :class:`BadQuery` (message, line and column) if ``sparql`` is not SPARQL 1.1.

    Called when the server refused a query, so that a syntax error reads the same on both backends. The query is
    parsed by an empty in-memory store and its solutions are never read (an ``ASK`` is answered over no data);
    a query that names a ``SERVICE`` is left to the server's message.
    """
    if any(t.kind == "word" and t.text.upper() == "SERVICE" for t in tokenize(sparql)):
        return
    try:
        Store().query(sparql, base_iri=base_iri)
    except SyntaxError as exc:
        raise BadQuery(f"SPARQL syntax error: {exc}") from None
    except (RuntimeError, ValueError, OSError):
        return


__all__ = ["RemoteSparqlStore", "Skolemizer", "normalise_term", "query_shape"]
