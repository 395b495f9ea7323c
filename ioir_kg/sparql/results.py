"""Serialise query results with pyoxigraph's own serialisers (no re-serialising through rdflib)."""

from __future__ import annotations

import io
import itertools
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from typing import Any, BinaryIO

from pyoxigraph import (
    BlankNode,
    Literal,
    NamedNode,
    Quad,
    QueryBoolean,
    QueryResultsFormat,
    QuerySolutions,
    QueryTriples,
    RdfFormat,
    Triple,
    parse_query_results,
    serialize,
)

from ioir_kg.errors import BadInput
from ioir_kg.store.base import QueryResult

OUTPUT_FORMATS = ("table", "json", "csv", "tsv", "turtle", "ntriples", "xml")

_RESULTS = {
    "json": QueryResultsFormat.JSON,
    "csv": QueryResultsFormat.CSV,
    "tsv": QueryResultsFormat.TSV,
    "xml": QueryResultsFormat.XML,
}
_GRAPHS = {"turtle": RdfFormat.TURTLE, "ntriples": RdfFormat.N_TRIPLES, "xml": RdfFormat.RDF_XML}


def term_text(term: object) -> str:
    """A compact display form of a term: IRIs and blank nodes as-is, literals by their value."""
    if isinstance(term, NamedNode):
        return term.value
    if isinstance(term, BlankNode):
        return f"_:{term.value}"
    if isinstance(term, Literal):
        return term.value
    return "" if term is None else str(term)


def write_result(result: QueryResult, fmt: str, out: BinaryIO) -> None:
    """Write ``result`` in a CLI output format (``table`` is aligned text for people)."""
    if fmt == "table":
        out.write(render_table(result).encode("utf-8"))
        return
    if isinstance(result, QueryTriples):
        if fmt not in _GRAPHS:
            raise BadInput(f"--format {fmt} does not fit a graph result; use turtle, ntriples or xml")
        result.serialize(out, _GRAPHS[fmt])
        return
    if fmt not in _RESULTS:
        raise BadInput(f"--format {fmt} does not fit a SELECT/ASK result; use table, json, csv, tsv or xml")
    result.serialize(out, _RESULTS[fmt])


def render_table(result: QueryResult) -> str:
    """Aligned plain-text table of a result (a boolean prints as ``true``/``false``).

    >>> from pyoxigraph import Store
    >>> render_table(Store().query("SELECT ?x WHERE { VALUES ?x { 1 2 } }"))
    'x\\n-\\n1\\n2\\n'
    """
    if isinstance(result, QueryBoolean):
        return "true\n" if bool(result) else "false\n"
    if isinstance(result, QueryTriples):
        rows = [[term_text(t.subject), term_text(t.predicate), term_text(t.object)] for t in result]
        header = ["subject", "predicate", "object"]
    else:
        assert isinstance(result, QuerySolutions)
        header = [v.value for v in result.variables]
        rows = [[term_text(row[name]) for name in header] for row in result]
    widths = [max([len(h)] + [len(r[i]) for r in rows]) for i, h in enumerate(header)]
    lines = ["  ".join(h.ljust(w) for h, w in zip(header, widths, strict=True)).rstrip()]
    lines.append("  ".join("-" * w for w in widths))
    lines += ["  ".join(c.ljust(w) for c, w in zip(r, widths, strict=True)).rstrip() for r in rows]
    return "\n".join(lines) + "\n"


# -- streaming writers for the endpoint (pyoxigraph serialisers, bounded rows) ---------------------


@dataclass(frozen=True)
class WriteStats:
    """What a writer wrote: the number of rows (``None`` when not counted) and whether it stopped at the cap."""

    rows: int | None
    truncated: bool


def tsv_term(term: object) -> str:
    """A term in SPARQL TSV syntax (N-Triples forms; triple terms as ``<<( s p o )>>``; unbound as ``""``).

    >>> tsv_term(Literal("a\\tb", language="en"))
    '"a\\\\tb"@en'
    """
    if term is None:
        return ""
    if isinstance(term, Triple):
        return f"<<( {tsv_term(term.subject)} {tsv_term(term.predicate)} {tsv_term(term.object)} )>>"
    return str(term)


class _LineReader(io.RawIOBase):
    """A readable binary stream over an iterator of byte strings (pulled only as the reader asks)."""

    def __init__(self, pieces: Iterator[bytes]) -> None:
        super().__init__()
        self._pieces = pieces
        self._pending = b""

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: Any) -> int:
        view = memoryview(buffer).cast("B")
        while len(self._pending) < len(view):
            piece = next(self._pieces, None)
            if piece is None:
                break
            self._pending += piece
        count = min(len(view), len(self._pending))
        view[:count] = self._pending[:count]
        self._pending = self._pending[count:]
        return count


def write_solutions(
    result: QuerySolutions, fmt: QueryResultsFormat, out: BinaryIO, *, max_rows: int | None
) -> WriteStats:
    """Stream SELECT solutions in ``fmt``, at most ``max_rows`` of them (``None``: no cap).

    With a cap, the rows pass through pyoxigraph's TSV parser (lossless: TSV writes terms in N-Triples
    syntax) so that pyoxigraph's own serialiser writes exactly the first ``max_rows`` solutions, streaming.

    >>> from pyoxigraph import Store
    >>> buf = io.BytesIO()
    >>> write_solutions(Store().query("SELECT ?x { VALUES ?x {1 2 3} }"), QueryResultsFormat.CSV, buf, max_rows=2)
    WriteStats(rows=2, truncated=True)
    >>> buf.getvalue()
    b'x\\r\\n1\\r\\n2\\r\\n'
    """
    if max_rows is None:
        result.serialize(out, fmt)
        return WriteStats(None, False)
    variables = [v.value for v in result.variables]
    counter = itertools.count()

    def lines() -> Iterator[bytes]:
        yield ("\t".join(f"?{name}" for name in variables) + "\n").encode("utf-8")
        for row, _ in zip(result, counter, strict=False):
            yield ("\t".join(tsv_term(row[i]) for i in range(len(variables))) + "\n").encode("utf-8")

    limited = itertools.islice(lines(), max_rows + 1)
    parse_query_results(io.BufferedReader(_LineReader(limited)), QueryResultsFormat.TSV).serialize(out, fmt)
    written = next(counter)
    truncated = written == max_rows and next(result, None) is not None
    return WriteStats(written, truncated)


def write_graph(
    triples: Iterable[Triple] | Iterable[Quad],
    fmt: RdfFormat,
    out: BinaryIO,
    *,
    max_rows: int | None,
    prefixes: dict[str, str] | None = None,
) -> WriteStats:
    """Stream triples (or quads, for dataset formats) in ``fmt``, at most ``max_rows`` of them."""
    iterator: Iterator[Any] = iter(triples)
    counter = itertools.count()
    limited = iterator if max_rows is None else itertools.islice(iterator, max_rows)
    counted: Iterator[Triple] = (t for t, _ in zip(limited, counter, strict=False))
    serialize(counted, out, fmt, prefixes=prefixes if fmt in _PREFIXED else None)
    written = next(counter)
    truncated = max_rows is not None and written == max_rows and next(iterator, None) is not None
    return WriteStats(written, truncated)


_PREFIXED = (RdfFormat.TURTLE, RdfFormat.TRIG, RdfFormat.RDF_XML)
