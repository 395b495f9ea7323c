"""The SPARQL 1.1 Protocol without HTTP: operations from parameters, a lexical view of a query.

The HTTP side (reading requests, streaming negotiated responses, :class:`ioir_kg.api.endpoint.SparqlEndpoint`)
lives in :mod:`ioir_kg.api.endpoint`; this module knows no web framework.

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
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass

from pyoxigraph import NamedNode, Quad, RdfFormat, parse

from ioir_kg.errors import (
    BadInput,
    BadQuery,
    BadRdf,
    PayloadTooLarge,
)
from ioir_kg.sparql.federation import check_service
from ioir_kg.sparql.inference import parse_infer
from ioir_kg.sparql.lexer import Token, tokens
from ioir_kg.store.base import QueryDataset

FORM = "application/x-www-form-urlencoded"
SPARQL_QUERY = "application/sparql-query"
SPARQL_UPDATE = "application/sparql-update"

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


def parse_graph(body: bytes, fmt: RdfFormat, base: str, target: GraphTarget) -> list[Quad]:
    try:
        return list(parse(body, fmt, base_iri=base, without_named_graphs=True, rename_blank_nodes=True))
    except SyntaxError as exc:
        raise BadRdf(f"the {fmt.name} body for {target.label} does not parse: {exc}") from None
    except ValueError as exc:
        raise BadRdf(f"the body for {target.label} cannot be read as {fmt.name}: {exc}") from None
