"""Accept parsing and format choice: q-values, wildcards, specificity, aliases, the ``format=`` override."""

from __future__ import annotations

import pytest

from ioir_kg.errors import NotAcceptable
from ioir_kg.sparql.negotiation import (
    CSV,
    DATASET_FORMATS,
    GRAPH_FORMATS,
    JSON,
    JSON_LD,
    N_QUADS,
    N_TRIPLES,
    RDF_XML,
    RESULT_FORMATS,
    TRIG,
    TSV,
    TURTLE,
    XML,
    Format,
    choose,
    parse_accept,
)


@pytest.mark.parametrize(
    ("accept", "expected"),
    [
        (None, JSON),
        ("", JSON),
        ("*/*", JSON),
        ("application/sparql-results+xml", XML),
        ("application/xml", XML),
        ("text/xml", XML),
        ("application/json", JSON),
        ("text/csv", CSV),
        ("text/tab-separated-values", TSV),
        ("text/*", CSV),
        ("text/csv;q=0.5, text/tab-separated-values;q=0.9", TSV),
        ("application/sparql-results+json;q=0, */*", XML),
        ("text/html, application/xhtml+xml, application/xml;q=0.9, */*;q=0.8", XML),
        ("text/turtle, */*;q=0.1", JSON),
        ("TEXT/CSV", CSV),
        ("text/csv; charset=utf-8; q=0.7, application/sparql-results+xml; q=0.6", CSV),
    ],
)
def test_results_negotiation(accept: str | None, expected: Format) -> None:
    """SELECT/ASK: the client's preference wins, ties and wildcards go to JSON."""
    assert choose(accept, RESULT_FORMATS) is expected


@pytest.mark.parametrize(
    ("accept", "expected"),
    [
        (None, TURTLE),
        ("*/*", TURTLE),
        ("application/n-triples", N_TRIPLES),
        ("application/ld+json", JSON_LD),
        ("application/json", JSON_LD),
        ("application/rdf+xml", RDF_XML),
        ("application/xml;q=0.5, text/turtle;q=0.4", RDF_XML),
        ("application/n-quads", N_QUADS),
        ("application/trig", TRIG),
        ("application/*", N_TRIPLES),
        ("text/turtle;q=0.1, application/ld+json;q=0.2", JSON_LD),
    ],
)
def test_graph_negotiation(accept: str | None, expected: Format) -> None:
    """CONSTRUCT/DESCRIBE and stored graphs: Turtle unless the client prefers another RDF syntax."""
    assert choose(accept, GRAPH_FORMATS) is expected


@pytest.mark.parametrize("accept", ["text/turtle", "image/png", "text/csv;q=0", "application/sparql-results+json;q=0"])
def test_not_acceptable_lists_the_supported_types(accept: str) -> None:
    """No acceptable results format: 406 naming every supported media type."""
    with pytest.raises(NotAcceptable) as caught:
        choose(accept, (CSV,) if accept.startswith("text/csv") else RESULT_FORMATS[:1])
    assert caught.value.status == 406
    assert "supported:" in caught.value.message
    assert caught.value.errors


@pytest.mark.parametrize(
    ("override", "offers", "expected"),
    [
        ("json", RESULT_FORMATS, JSON),
        ("json", GRAPH_FORMATS, JSON_LD),
        ("xml", RESULT_FORMATS, XML),
        ("xml", GRAPH_FORMATS, RDF_XML),
        ("csv", RESULT_FORMATS, CSV),
        ("tsv", RESULT_FORMATS, TSV),
        ("ttl", GRAPH_FORMATS, TURTLE),
        ("nt", GRAPH_FORMATS, N_TRIPLES),
        ("nq", DATASET_FORMATS, N_QUADS),
        ("application/trig", DATASET_FORMATS, TRIG),
        ("text/csv", RESULT_FORMATS, CSV),
    ],
)
def test_format_override(override: str, offers: tuple[Format, ...], expected: Format) -> None:
    """``format=`` names a format by short name or media type and wins over ``Accept``."""
    assert choose("image/png", offers, override=override) is expected


def test_format_override_must_fit_the_result() -> None:
    """``format=csv`` for a graph is refused with 406."""
    with pytest.raises(NotAcceptable):
        choose(None, GRAPH_FORMATS, override="csv")


def test_parse_accept_skips_malformed_elements() -> None:
    """Bad elements are dropped; q is clamped to [0, 1]; an absent header means anything."""
    ranges = parse_accept("text/html;q=2, nonsense, */html, a/b;q=x, text/csv;q=-1")
    assert [(r.type, r.subtype, r.q) for r in ranges] == [("text", "html", 1.0), ("text", "csv", 0.0)]
    assert [(r.type, r.subtype) for r in parse_accept(None)] == [("*", "*")]
