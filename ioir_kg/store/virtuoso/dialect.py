"""Virtuoso's dialect at the boundary: what a query looks like before it is sent (:func:`query_shape`), updates
that would reach the server's own graphs, blank nodes as skolem IRIs and back (:class:`Skolemizer`), terms and
answers in the form the embedded store gives them (:func:`normalise_term`, :func:`solutions`), and the rewrites
that make Virtuoso answer as the embedded store does (:func:`absent_graphs_to_empty`).

The lexical helpers read a query as tokens (strings, IRIs and comments skipped):

>>> shape = query_shape("PREFIX ex: <http://x/> SELECT (SUM(?v) AS ?total) FROM <http://g> { ?s ex:FROM ?v }")
>>> shape.form, shape.has_from, shape.empty_aggregates
('SELECT', True, ('total',))
>>> query_shape("CONSTRUCT { ?s ?p ?o } WHERE { ?s ?p 'SELECT' }").form
'CONSTRUCT'
"""

from __future__ import annotations

import json
import logging
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

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
)

from ioir_kg.errors import BadQuery, StoreUnavailable
from ioir_kg.store.base import QueryResult
from ioir_kg.store.virtuoso.tokens import tokenize

log = logging.getLogger("ioir_kg.store.remote")

#: A graph that never holds anything: names an empty default graph or an empty set of named graphs.
EMPTY_GRAPH = "urn:x-ioir:empty"
#: The path under the base IRI of skolem IRIs that stand for blank nodes.
GENID_PATH = ".well-known/genid/"


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


def refuse_global_graph_operations(update: str) -> None:
    """``CLEAR``/``DROP ALL`` or ``NAMED`` would reach the server's own graphs: refuse them.

    >>> refuse_global_graph_operations("DROP SILENT GRAPH <http://x/>")
    >>> refuse_global_graph_operations("CLEAR SILENT ALL")
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


def normalise_json_term(value: dict[str, Any], skolem: Skolemizer) -> dict[str, Any]:
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


def solutions(body: bytes, shape: QueryShape, skolem: Skolemizer) -> QueryResult:
    """A JSON answer of the server as the embedded store would give it (terms normalised, empty aggregates, order)."""
    try:
        document = json.loads(body)
    except ValueError as exc:
        raise StoreUnavailable(f"the remote SPARQL store sent results that are not JSON: {exc}") from None
    if "boolean" in document:
        boolean = json.dumps({"head": {}, "boolean": bool(document["boolean"])})
        return parse_query_results(boolean, QueryResultsFormat.JSON)
    rows = document.get("results", {}).get("bindings", [])
    rows = [{k: normalise_json_term(v, skolem) for k, v in row.items()} for row in rows]
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
        parsed = parse_query_results(json.dumps(normalised), QueryResultsFormat.JSON)
    except SyntaxError as exc:
        raise StoreUnavailable(f"the remote SPARQL store sent results that do not parse: {exc}") from None
    if reorderable(shape, variables, len(rows)):
        ordered = in_order(parsed, variables, shape)
        return ordered or parse_query_results(json.dumps(normalised), QueryResultsFormat.JSON)
    return parsed


def triples(body: bytes, what: str, skolem: Skolemizer) -> list[Triple]:
    """N-Triples of the server as the embedded store would give them (terms normalised)."""
    try:
        quads = parse(body, RdfFormat.N_TRIPLES)
        return [Triple(normalise_term(q.subject, skolem), q.predicate, normalise_term(q.object, skolem)) for q in quads]
    except SyntaxError as exc:
        raise StoreUnavailable(f"the remote SPARQL store sent {what} as N-Triples that do not parse: {exc}") from None


def valid_iri(value: str) -> str:
    """``value`` checked as an absolute IRI (so that it can be written between angle brackets)."""
    try:
        return NamedNode(value).value
    except ValueError:
        raise BadQuery(f"{value!r} is not a valid IRI") from None


def with_base(sparql: str, base_iri: str | None) -> str:
    return sparql if base_iri is None else f"BASE <{valid_iri(base_iri)}>\n{sparql}"


def reorderable(shape: QueryShape, variables: Sequence[str], rows: int) -> bool:
    """Whether the answer can be put in order here: ordered by projected variables, not sliced, not too long."""
    if not shape.order_by or shape.sliced or shape.order_aggregates or not 1 < rows <= RESORT_MAX_ROWS:
        return False
    return set(shape.order_vars) <= set(variables)


def in_order(solutions: QueryResult, variables: Sequence[str], shape: QueryShape) -> QueryResult | None:
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


def query_triples(triples: list[Triple]) -> QueryResult:
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


def raise_local_syntax_error(sparql: str, base_iri: str | None) -> None:
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


__all__ = [
    "EMPTY_GRAPH",
    "GENID_PATH",
    "QueryShape",
    "Skolemizer",
    "absent_graphs_to_empty",
    "normalise_term",
    "query_shape",
    "query_triples",
    "raise_local_syntax_error",
    "refuse_global_graph_operations",
    "solutions",
    "triples",
    "valid_iri",
    "with_base",
]
