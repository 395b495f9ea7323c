"""The W3C SPARQL 1.1 query test suite: manifests, expected results, comparison, and two runners.

``run_in_process`` evaluates a test with pyoxigraph directly (the baseline); ``run_over_http`` loads
the test's data through the Graph Store Protocol of a running ioir-kg server and sends the query to
its ``/sparql`` endpoint. Both compare with the same rules:

* bindings as multisets, blank nodes matched by a bijection, order only where the query has a
  top-level ``ORDER BY``; graphs up to blank-node isomorphism;
* numeric and boolean literals that differ only in lexical form (``"1.0"`` and ``"1"`` as ``xsd:decimal``,
  ``"0"`` and ``"false"`` as ``xsd:boolean``) are equal: oxigraph stores such literals in canonical form;
* data, query and expected results resolve relative IRIs against one base: the file's IRI under
  :data:`BASE` (the conventional ``http://www.w3.org/2009/sparql/docs/tests/data-sparql11/`` + path).
"""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Any

import httpx
from pyoxigraph import (
    BlankNode,
    CanonicalizationAlgorithm,
    Dataset,
    DefaultGraph,
    Literal,
    NamedNode,
    Quad,
    QueryBoolean,
    QueryResultsFormat,
    QuerySolutions,
    QueryTriples,
    RdfFormat,
    Store,
    Triple,
    parse,
    parse_query_results,
    serialize,
)

from ioir_kg.sparql.protocol import has_top_level_order_by

BASE = "http://www.w3.org/2009/sparql/docs/tests/data-sparql11/"
MF = "http://www.w3.org/2001/sw/DataAccess/tests/test-manifest#"
QT = "http://www.w3.org/2001/sw/DataAccess/tests/test-query#"
RS = "http://www.w3.org/2001/sw/DataAccess/tests/result-set#"
RDF = "http://www.w3.org/1999/02/22-rdf-syntax-ns#"
XSD = "http://www.w3.org/2001/XMLSchema#"

EVALUATION = "QueryEvaluationTest"
CSV_FORMAT = "CSVResultFormatTest"
POSITIVE_SYNTAX = "PositiveSyntaxTest11"
NEGATIVE_SYNTAX = "NegativeSyntaxTest11"
TEST_TYPES = (EVALUATION, CSV_FORMAT, POSITIVE_SYNTAX, NEGATIVE_SYNTAX)


# -- the suite ---------------------------------------------------------------------------------------


@dataclass(frozen=True)
class W3cTest:
    """One entry of a manifest's ``mf:entries``."""

    iri: str
    name: str
    kind: str
    category: str
    query: Path
    data: tuple[Path, ...] = ()
    graph_data: tuple[Path, ...] = ()
    result: Path | None = None

    @property
    def id(self) -> str:
        """Short, stable identifier: ``<folder>/<local name>``, e.g. ``aggregates/agg01``."""
        return f"{self.category}/{self.iri.rsplit('#', 1)[-1]}"


def file_iri(root: Path, path: Path) -> str:
    """The IRI of a suite file: :data:`BASE` + its path under the suite folder."""
    return BASE + path.relative_to(root).as_posix()


def _local_path(root: Path, iri: str) -> Path:
    if not iri.startswith(BASE):
        raise ValueError(f"{iri} is outside the test suite base {BASE}")
    return root / iri[len(BASE) :]


class _Graph:
    """A parsed manifest with the few look-ups the loader needs."""

    def __init__(self, root: Path, path: Path) -> None:
        self.quads = list(parse(path=str(path), format=RdfFormat.TURTLE, base_iri=file_iri(root, path)))

    def objects(self, subject: Any, predicate: str) -> list[Any]:
        return [q.object for q in self.quads if q.subject == subject and q.predicate.value == predicate]

    def one(self, subject: Any, predicate: str) -> Any:
        values = self.objects(subject, predicate)
        return values[0] if values else None

    def subjects(self, predicate: str, obj: Any) -> list[Any]:
        return [q.subject for q in self.quads if q.predicate.value == predicate and q.object == obj]

    def items(self, head: Any) -> Iterator[Any]:
        while head is not None and head != NamedNode(RDF + "nil"):
            yield self.one(head, RDF + "first")
            head = self.one(head, RDF + "rest")


def load_suite(root: Path) -> list[W3cTest]:
    """Every test listed in ``mf:entries`` of the manifests reachable from ``root/manifest.ttl``."""
    tests: list[W3cTest] = []
    _load_manifest(root, root / "manifest.ttl", tests)
    return tests


def _load_manifest(root: Path, path: Path, tests: list[W3cTest]) -> None:
    graph = _Graph(root, path)
    manifest = NamedNode(file_iri(root, path))
    for include in graph.objects(manifest, MF + "include"):
        for item in graph.items(include):
            _load_manifest(root, _local_path(root, item.value), tests)
    category = path.parent.relative_to(root).as_posix()
    for entries in graph.objects(manifest, MF + "entries"):
        for entry in graph.items(entries):
            tests.append(_load_test(root, graph, entry, category))


def _load_test(root: Path, graph: _Graph, entry: Any, category: str) -> W3cTest:
    kind = graph.one(entry, RDF + "type").value.rsplit("#", 1)[-1]
    if kind not in TEST_TYPES:
        raise ValueError(f"{entry.value}: unsupported test type {kind}")
    name = graph.one(entry, MF + "name").value
    action = graph.one(entry, MF + "action")
    result = graph.one(entry, MF + "result")
    result_path = _local_path(root, result.value) if result is not None else None
    if isinstance(action, NamedNode):  # syntax tests: the action is the query file
        return W3cTest(entry.value, name, kind, category, _local_path(root, action.value), result=result_path)
    return W3cTest(
        entry.value,
        name,
        kind,
        category,
        _local_path(root, graph.one(action, QT + "query").value),
        tuple(_local_path(root, d.value) for d in graph.objects(action, QT + "data")),
        tuple(_local_path(root, d.value) for d in graph.objects(action, QT + "graphData")),
        result_path,
    )


# -- results and their comparison -------------------------------------------------------------------


@dataclass
class Solutions:
    """A SELECT result: variable names and rows (unbound variables are absent from a row)."""

    variables: list[str]
    rows: list[dict[str, Any]]


@dataclass
class CsvTable:
    """A CSV result: header and rows of cells."""

    header: list[str]
    rows: list[list[str]]


Result = Solutions | bool | list[Triple] | CsvTable


@dataclass
class Outcome:
    """What one runner found for one test."""

    passed: bool
    cause: str = ""
    details: dict[str, str] = field(default_factory=dict)


_INTEGER_TYPES = {
    "integer",
    "nonPositiveInteger",
    "negativeInteger",
    "long",
    "int",
    "short",
    "byte",
    "nonNegativeInteger",
    "unsignedLong",
    "unsignedInt",
    "unsignedShort",
    "unsignedByte",
    "positiveInteger",
}
_INTEGER = re.compile(r"^[+-]?[0-9]+$")
_DECIMAL = re.compile(r"^[+-]?([0-9]+(\.[0-9]*)?|\.[0-9]+)$")
_DOUBLE = re.compile(r"^([+-]?([0-9]+(\.[0-9]*)?|\.[0-9]+)([eE][+-]?[0-9]+)?|[+-]?INF|NaN)$")


def normalize(term: Any) -> Any:
    """A numeric or boolean literal in a canonical lexical form of its own datatype; other terms unchanged.

    >>> normalize(Literal("1.0", datatype=NamedNode(XSD + "decimal"))).value
    '1'
    >>> normalize(Literal("01", datatype=NamedNode(XSD + "integer"))).value
    '1'
    >>> normalize(Literal("0", datatype=NamedNode(XSD + "boolean"))).value
    'false'
    """
    if not isinstance(term, Literal) or not term.datatype.value.startswith(XSD):
        return term
    local = term.datatype.value[len(XSD) :]
    lexical = term.value.strip()
    canonical: str | None = None
    if local in _INTEGER_TYPES and _INTEGER.match(lexical):
        canonical = str(int(lexical))
    elif local == "decimal" and _DECIMAL.match(lexical):
        try:
            value = Decimal(lexical)
        except InvalidOperation:  # pragma: no cover - the regex admits only valid forms
            return term
        canonical = "0" if value == 0 else format(value.normalize(), "f")
    elif local in ("double", "float") and _DOUBLE.match(lexical):
        canonical = repr(float(lexical.replace("INF", "inf")))
    elif local == "boolean" and lexical in ("0", "1", "true", "false"):
        canonical = "true" if lexical in ("1", "true") else "false"
    if canonical is None or canonical == term.value:
        return term
    return Literal(canonical, datatype=term.datatype)


_ROW = NamedNode("urn:w3c-test:Row")
_INDEX = NamedNode("urn:w3c-test:index")
_TYPE = NamedNode(RDF + "type")


def _canonical(quads: Iterable[Quad]) -> Dataset:
    dataset = Dataset(quads)
    dataset.canonicalize(CanonicalizationAlgorithm.UNSTABLE)
    return dataset


def _rows_dataset(rows: list[dict[str, Any]], ordered: bool) -> Dataset:
    quads: list[Quad] = []
    for index, row in enumerate(rows):
        node = BlankNode()
        quads.append(Quad(node, _TYPE, _ROW))
        if ordered:
            quads.append(Quad(node, _INDEX, Literal(str(index), datatype=NamedNode(XSD + "integer"))))
        quads.extend(Quad(node, NamedNode(f"urn:w3c-test:var:{var}"), normalize(v)) for var, v in row.items())
    return _canonical(quads)


def graphs_isomorphic(left: Iterable[Triple], right: Iterable[Triple]) -> bool:
    """Whether two graphs are equal up to blank-node renaming (numeric literals normalised)."""

    def quads(triples: Iterable[Triple]) -> list[Quad]:
        return [Quad(t.subject, t.predicate, normalize(t.object)) for t in triples]

    return bool(_canonical(quads(left)) == _canonical(quads(right)))


def compare(expected: Result, actual: Result, *, ordered: bool) -> str:
    """``""`` when ``actual`` matches ``expected``, else a short description of the difference."""
    if isinstance(expected, bool) or isinstance(actual, bool):
        if isinstance(expected, bool) and isinstance(actual, bool) and expected == actual:
            return ""
        return f"expected {_describe(expected)}, got {_describe(actual)}"
    if isinstance(expected, list) or isinstance(actual, list):
        if isinstance(expected, list) and isinstance(actual, list) and graphs_isomorphic(expected, actual):
            return ""
        return f"graphs differ: expected {_describe(expected)}, got {_describe(actual)}"
    if isinstance(expected, CsvTable) and isinstance(actual, CsvTable):
        if sorted(expected.header) != sorted(actual.header):  # SELECT * leaves the column order open
            return f"CSV header {actual.header} instead of {expected.header}"
        expected_rows = [_csv_row(expected.header, r) for r in expected.rows]
        actual_rows = [_csv_row(actual.header, r) for r in actual.rows]
        if _rows_dataset(expected_rows, ordered) == _rows_dataset(actual_rows, ordered):
            return ""
        return f"CSV rows differ: expected {expected.rows}, got {actual.rows}"
    assert isinstance(expected, Solutions)
    assert isinstance(actual, Solutions)
    if _rows_dataset(expected.rows, ordered) == _rows_dataset(actual.rows, ordered):
        return ""
    order = "ordered " if ordered else ""
    return f"{order}bindings differ: expected {_show_rows(expected.rows)}, got {_show_rows(actual.rows)}"


def _csv_row(header: list[str], cells: list[str]) -> dict[str, Any]:
    return {name: _csv_term(cell) for name, cell in zip(header, cells, strict=False) if cell != ""}


def _csv_term(cell: str) -> Any:
    """A CSV cell as a term: blank nodes by label; numbers (datatype lost in CSV) in canonical decimal form."""
    if cell.startswith("_:"):
        return BlankNode(cell[2:])
    if _DOUBLE.match(cell) and cell.lstrip("+-") not in ("INF", "NaN"):
        value = Decimal(cell)
        return Literal("0" if value == 0 else format(value.normalize(), "f"))
    return Literal(cell)


def _describe(result: Result) -> str:
    if isinstance(result, bool):
        return f"boolean {str(result).lower()}"
    if isinstance(result, list):
        return f"{len(result)} triples"
    if isinstance(result, CsvTable):
        return f"CSV with {len(result.rows)} rows"
    return f"{len(result.rows)} solutions"


def _show_rows(rows: list[dict[str, Any]], limit: int = 6) -> str:
    shown = [{k: str(v) for k, v in sorted(r.items())} for r in rows[:limit]]
    more = f" … ({len(rows)} rows)" if len(rows) > limit else ""
    return f"{shown}{more}"


def solutions_from(result: QuerySolutions) -> Solutions:
    """Rows of a pyoxigraph SELECT result."""
    variables = [v.value for v in result.variables]
    rows = [{name: row[name] for name in variables if row[name] is not None} for row in result]
    return Solutions(variables, rows)


def read_csv(data: str) -> CsvTable:
    """A CSV result document as header and rows."""
    rows = list(csv.reader(io.StringIO(data, newline="")))
    return CsvTable(rows[0] if rows else [], rows[1:])


def expected_result(root: Path, test: W3cTest) -> Result:
    """The expected result of an evaluation test, from ``.srx``, ``.srj``, ``.tsv``, ``.csv`` or RDF."""
    assert test.result is not None
    path = test.result
    suffix = path.suffix.lstrip(".")
    if suffix == "csv":
        return read_csv(path.read_text(encoding="utf-8"))
    results_format = QueryResultsFormat.from_extension(suffix)
    if results_format is not None:
        parsed = parse_query_results(path=str(path), format=results_format)
        return bool(parsed) if isinstance(parsed, QueryBoolean) else solutions_from(parsed)
    rdf_format = RdfFormat.from_extension(suffix)
    assert rdf_format is not None, f"unknown result file type {path}"
    triples = [q.triple for q in parse(path=str(path), format=rdf_format, base_iri=file_iri(root, path))]
    if any(t.predicate == _TYPE and t.object == NamedNode(RS + "ResultSet") for t in triples):
        return _result_set(triples)
    return triples


def _result_set(triples: list[Triple]) -> Result:
    """Decode the DAWG ``rs:ResultSet`` vocabulary."""

    def objects(subject: Any, local: str) -> list[Any]:
        return [t.object for t in triples if t.subject == subject and t.predicate.value == RS + local]

    result_set = next(t.subject for t in triples if t.predicate == _TYPE and t.object == NamedNode(RS + "ResultSet"))
    boolean = objects(result_set, "boolean")
    if boolean:
        return bool(boolean[0].value == "true")
    variables = [v.value for v in objects(result_set, "resultVariable")]
    indexed: list[tuple[int, dict[str, Any]]] = []
    for position, solution in enumerate(objects(result_set, "solution")):
        row: dict[str, Any] = {}
        for binding in objects(solution, "binding"):
            row[objects(binding, "variable")[0].value] = objects(binding, "value")[0]
        index = objects(solution, "index")
        indexed.append((int(index[0].value) if index else position, row))
    return Solutions(variables, [row for _, row in sorted(indexed, key=lambda pair: pair[0])])


def query_text(test: W3cTest) -> str:
    """The test's query as text."""
    return test.query.read_text(encoding="utf-8")


def is_ordered(test: W3cTest) -> bool:
    """Whether the expected order matters: the query has a top-level ``ORDER BY``."""
    return has_top_level_order_by(query_text(test))


# -- runner 1: pyoxigraph in-process ------------------------------------------------------------------


def run_in_process(root: Path, test: W3cTest) -> Outcome:
    """Evaluate ``test`` with pyoxigraph in this process (the baseline the endpoint must reach)."""
    store = Store()
    query_iri = file_iri(root, test.query)
    if test.kind in (POSITIVE_SYNTAX, NEGATIVE_SYNTAX):
        try:
            store.query(query_text(test), base_iri=query_iri)
        except (RuntimeError, OSError, ValueError) as exc:
            if test.kind == NEGATIVE_SYNTAX:
                return Outcome(False, f"negative syntax test parsed, then failed: {exc}")
            return Outcome(True, f"parsed, then failed: {exc}")
        except SyntaxError as exc:
            if test.kind == NEGATIVE_SYNTAX:
                return Outcome(True)
            return Outcome(False, f"positive syntax test refused: {exc}")
        if test.kind == NEGATIVE_SYNTAX:
            return Outcome(False, "negative syntax test accepted")
        return Outcome(True)
    for path in test.data:
        store.load(path=str(path), format=_rdf_format(path), base_iri=file_iri(root, path), to_graph=DefaultGraph())
    for path in test.graph_data:
        iri = file_iri(root, path)
        store.load(path=str(path), format=_rdf_format(path), base_iri=iri, to_graph=NamedNode(iri))
    try:
        result = store.query(query_text(test), base_iri=query_iri)
        actual: Result
        if test.kind == CSV_FORMAT:
            assert isinstance(result, QuerySolutions)
            actual = read_csv((result.serialize(format=QueryResultsFormat.CSV) or b"").decode("utf-8"))
        elif isinstance(result, QueryBoolean):
            actual = bool(result)
        elif isinstance(result, QueryTriples):
            actual = list(result)
        else:
            actual = solutions_from(result)
    except (SyntaxError, OSError, ValueError, RuntimeError) as exc:
        return Outcome(False, f"error: {exc}")
    difference = compare(expected_result(root, test), actual, ordered=is_ordered(test))
    return Outcome(not difference, difference)


def _rdf_format(path: Path) -> RdfFormat:
    fmt = RdfFormat.from_extension(path.suffix.lstrip("."))
    assert fmt is not None, f"unknown RDF file type {path}"
    return fmt


# -- runner 2: over HTTP ------------------------------------------------------------------------------

#: The media type requested for each kind of expected result.
_ACCEPT = {
    "srx": "application/sparql-results+xml",
    "srj": "application/sparql-results+json",
    "tsv": "text/tab-separated-values",
    "csv": "text/csv",
}


def _accept_for(test: W3cTest, expected: Result) -> str:
    assert test.result is not None
    suffix = test.result.suffix.lstrip(".")
    if suffix in _ACCEPT:
        return _ACCEPT[suffix]
    if isinstance(expected, list):  # a graph: ask for the expected file's own syntax
        return "application/rdf+xml" if suffix == "rdf" else "text/turtle"
    return "application/sparql-results+json"


def load_over_http(client: httpx.Client, root: Path, test: W3cTest, token: str) -> None:
    """Empty the store, then PUT each data file (parsed with its own base IRI) through the GSP."""
    auth = {"Authorization": f"Bearer {token}"}
    response = client.post("/sparql", content="DROP ALL", headers={**auth, "Content-Type": "application/sparql-update"})
    response.raise_for_status()
    targets = [(path, "default") for path in test.data] + [(path, file_iri(root, path)) for path in test.graph_data]
    for path, graph in targets:
        quads = parse(path=str(path), format=_rdf_format(path), base_iri=file_iri(root, path))
        body = serialize((q.triple for q in quads), format=RdfFormat.N_TRIPLES) or b""
        params = {"default": ""} if graph == "default" else {"graph": graph}
        response = client.put(
            "/rdf-graph-store", params=params, content=body, headers={**auth, "Content-Type": "application/n-triples"}
        )
        response.raise_for_status()


def run_over_http(client: httpx.Client, root: Path, test: W3cTest, token: str) -> Outcome:
    """Run ``test`` against the server behind ``client``: data through the GSP, query by ``POST /sparql``."""
    text = f"BASE <{file_iri(root, test.query)}>\n{query_text(test)}"
    headers = {"Content-Type": "application/sparql-query"}
    if test.kind in (POSITIVE_SYNTAX, NEGATIVE_SYNTAX):
        response = client.post("/sparql", content=text.encode("utf-8"), headers=headers)
        if test.kind == NEGATIVE_SYNTAX:
            if response.status_code == 400:
                return Outcome(True)
            return Outcome(False, f"negative syntax test answered {response.status_code}, not 400")
        if response.status_code == 200:
            return Outcome(True)
        return Outcome(False, f"positive syntax test answered {response.status_code}: {_detail(response)}")
    expected = expected_result(root, test)
    load_over_http(client, root, test, token)
    accept = _accept_for(test, expected)
    response = client.post("/sparql", content=text.encode("utf-8"), headers={**headers, "Accept": accept})
    if response.status_code != 200:
        return Outcome(False, f"HTTP {response.status_code}: {_detail(response)}")
    media_type = response.headers.get("content-type", "").split(";")[0].strip()
    actual = _decode(response.content, media_type)
    if media_type != accept and not (isinstance(actual, bool) and accept == "text/csv"):
        return Outcome(False, f"asked for {accept}, got {media_type}")
    difference = compare(expected, actual, ordered=is_ordered(test))
    return Outcome(not difference, difference)


def _decode(body: bytes, media_type: str) -> Result:
    if media_type == "text/csv":
        return read_csv(body.decode("utf-8"))
    results_format = QueryResultsFormat.from_media_type(media_type)
    if results_format is not None:
        parsed = parse_query_results(body, results_format)
        return bool(parsed) if isinstance(parsed, QueryBoolean) else solutions_from(parsed)
    rdf_format = RdfFormat.from_media_type(media_type)
    assert rdf_format is not None, f"unexpected media type {media_type}"
    return [q.triple for q in parse(body, rdf_format)]


def _detail(response: httpx.Response) -> str:
    try:
        return str(response.json().get("detail", response.text))[:300]
    except ValueError:
        return response.text[:300]
