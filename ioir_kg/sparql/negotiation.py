"""Content negotiation: the formats the endpoint speaks and the choice among them.

``Accept`` is read as RFC 9110 says: each offered format takes the quality of the most specific media
range that matches it (``type/subtype`` over ``type/*`` over ``*/*``), ``q=0`` excludes, and ties go to
the server's order of preference. A ``format=`` parameter overrides the header.

>>> choose("text/csv;q=0.5, application/sparql-results+xml", RESULT_FORMATS).name
'xml'
>>> choose(None, GRAPH_FORMATS).media_type
'text/turtle'
>>> choose("*/*", RESULT_FORMATS, override="tsv").media_type
'text/tab-separated-values'
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from enum import StrEnum

from pyoxigraph import QueryResultsFormat, RdfFormat

from ioir_kg.errors import NotAcceptable


class Kind(StrEnum):
    """What a format can carry."""

    RESULTS = "results"  # SELECT solutions and ASK booleans
    GRAPH = "graph"  # CONSTRUCT/DESCRIBE triples, a stored graph
    DATASET = "dataset"  # quads (several graphs)
    HTML = "html"  # pages for people


@dataclass(frozen=True)
class Format:
    """A representation the server can produce."""

    name: str
    media_type: str
    kind: Kind
    aliases: tuple[str, ...] = ()
    short_names: tuple[str, ...] = ()

    @property
    def media_types(self) -> tuple[str, ...]:
        """The canonical media type first, then the aliases it also answers to."""
        return (self.media_type, *self.aliases)

    @property
    def results_format(self) -> QueryResultsFormat:
        """pyoxigraph's results format (SELECT/ASK formats only)."""
        fmt = QueryResultsFormat.from_media_type(self.media_type)
        if fmt is None:
            raise ValueError(f"{self.media_type} is not a query results format")
        return fmt

    @property
    def rdf_format(self) -> RdfFormat:
        """pyoxigraph's RDF format (graph and dataset formats only)."""
        fmt = RdfFormat.from_media_type(self.media_type)
        if fmt is None:
            raise ValueError(f"{self.media_type} is not an RDF format")
        return fmt


JSON = Format("json", "application/sparql-results+json", Kind.RESULTS, ("application/json",), ("json", "srj"))
XML = Format("xml", "application/sparql-results+xml", Kind.RESULTS, ("application/xml", "text/xml"), ("xml", "srx"))
CSV = Format("csv", "text/csv", Kind.RESULTS, (), ("csv",))
TSV = Format("tsv", "text/tab-separated-values", Kind.RESULTS, (), ("tsv",))
TURTLE = Format("turtle", "text/turtle", Kind.GRAPH, ("application/x-turtle",), ("turtle", "ttl"))
N_TRIPLES = Format("ntriples", "application/n-triples", Kind.GRAPH, (), ("ntriples", "nt"))
JSON_LD = Format("jsonld", "application/ld+json", Kind.GRAPH, ("application/json",), ("jsonld", "json-ld", "json"))
RDF_XML = Format(
    "rdfxml", "application/rdf+xml", Kind.GRAPH, ("application/xml", "text/xml"), ("rdfxml", "rdf", "xml", "owl")
)
N_QUADS = Format("nquads", "application/n-quads", Kind.DATASET, (), ("nquads", "nq"))
TRIG = Format("trig", "application/trig", Kind.DATASET, (), ("trig",))
HTML = Format("html", "text/html", Kind.HTML, ("application/xhtml+xml",), ("html",))

#: SELECT and ASK results, in order of preference (JSON when anything goes).
RESULT_FORMATS: tuple[Format, ...] = (JSON, XML, CSV, TSV)
#: CONSTRUCT/DESCRIBE results and single graphs (Turtle when anything goes); a graph is also a dataset.
GRAPH_FORMATS: tuple[Format, ...] = (TURTLE, N_TRIPLES, JSON_LD, RDF_XML, N_QUADS, TRIG)
#: Several graphs at once.
DATASET_FORMATS: tuple[Format, ...] = (N_QUADS, TRIG)
#: Every format that has a pyoxigraph counterpart, by canonical media type.
BY_MEDIA_TYPE: dict[str, Format] = {f.media_type: f for f in (*RESULT_FORMATS, *GRAPH_FORMATS, HTML)}


@dataclass(frozen=True)
class MediaRange:
    """One element of an ``Accept`` header."""

    type: str
    subtype: str
    q: float

    @property
    def specificity(self) -> int:
        """2 for ``type/subtype``, 1 for ``type/*``, 0 for ``*/*``."""
        if self.type == "*":
            return 0
        return 1 if self.subtype == "*" else 2

    def matches(self, media_type: str) -> bool:
        """Whether this range covers ``media_type``."""
        type_, _, subtype = media_type.partition("/")
        return self.type in ("*", type_) and self.subtype in ("*", subtype)


def parse_accept(header: str | None) -> list[MediaRange]:
    """The media ranges of an ``Accept`` header; malformed elements are skipped, absent means ``*/*``.

    >>> [(r.type, r.subtype, r.q) for r in parse_accept("text/html, */*;q=0.1, bad, x/y;q=abc")]
    [('text', 'html', 1.0), ('*', '*', 0.1)]
    """
    if header is None or not header.strip():
        return [MediaRange("*", "*", 1.0)]
    ranges: list[MediaRange] = []
    for element in header.split(","):
        media, *params = (part.strip() for part in element.split(";"))
        type_, slash, subtype = media.lower().partition("/")
        if not slash or not type_ or not subtype or (type_ == "*" and subtype != "*"):
            continue
        q = 1.0
        try:
            for param in params:
                key, _, value = param.partition("=")
                if key.strip().lower() == "q":
                    q = float(value.strip())
        except ValueError:
            continue
        ranges.append(MediaRange(type_, subtype, min(max(q, 0.0), 1.0)))
    return ranges


def quality(ranges: Sequence[MediaRange], fmt: Format) -> float:
    """The quality the client gives ``fmt``: that of the most specific range matching one of its types.

    Aliases count only when named exactly: ``text/*`` means CSV or TSV, not SPARQL XML as ``text/xml``.
    """
    best: tuple[int, float] | None = None
    for media_type in fmt.media_types:
        for media_range in ranges:
            if media_type != fmt.media_type and media_range.specificity < 2:
                continue
            if media_range.matches(media_type):
                candidate = (media_range.specificity, media_range.q)
                if best is None or candidate[0] > best[0] or (candidate[0] == best[0] and candidate[1] > best[1]):
                    best = candidate
    return 0.0 if best is None else best[1]


def choose(accept: str | None, offers: Sequence[Format], *, override: str | None = None) -> Format:
    """The offered format the client prefers; :class:`NotAcceptable` (406) listing the offers if none.

    ``override`` (the ``format=`` parameter) is a short name (``json``, ``turtle`` …) or a media type,
    and wins over ``Accept``.
    """
    if override:
        return _by_name(override, offers)
    ranges = parse_accept(accept)
    best: Format | None = None
    best_q = 0.0
    for fmt in offers:
        q = quality(ranges, fmt)
        if q > best_q:
            best, best_q = fmt, q
    if best is None:
        raise _not_acceptable(f"none of the formats in 'Accept: {accept}' is available here", offers)
    return best


def _by_name(value: str, offers: Sequence[Format]) -> Format:
    wanted = value.strip().lower()
    media_type = wanted.split(";")[0].strip()
    for fmt in offers:
        if wanted in fmt.short_names or media_type in fmt.media_types:
            return fmt
    raise _not_acceptable(f"format={value!r} is not available for this result", offers)


def _not_acceptable(message: str, offers: Sequence[Format]) -> NotAcceptable:
    supported = ", ".join(f.media_type for f in offers)
    return NotAcceptable(
        f"{message}; supported: {supported}",
        errors=[{"media_type": f.media_type, "format": f.short_names[0]} for f in offers],
    )
