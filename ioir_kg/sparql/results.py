"""Serialise query results with pyoxigraph's own serialisers (no re-serialising through rdflib)."""

from __future__ import annotations

from typing import BinaryIO

from pyoxigraph import (
    BlankNode,
    Literal,
    NamedNode,
    QueryBoolean,
    QueryResultsFormat,
    QuerySolutions,
    QueryTriples,
    RdfFormat,
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
