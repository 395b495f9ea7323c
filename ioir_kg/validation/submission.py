"""Reading a submission for the validation pipeline (:mod:`ioir_kg.validation.pipeline`): the body parsed
(Turtle, JSON-LD or N-Triples; size limits; JSON-LD never fetches a remote context), canonical entity IRIs moved
under the configured base as the loader does, and the conversions between pyoxigraph and rdflib terms.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from pyoxigraph import BlankNode as OxBlankNode
from pyoxigraph import DefaultGraph, QuerySolutions, RdfFormat, parse
from pyoxigraph import Literal as OxLiteral
from pyoxigraph import NamedNode as OxNamedNode
from pyoxigraph import Triple as OxTriple
from rdflib import BNode, Literal, URIRef
from rdflib.term import Node

from ioir_kg.config import Settings
from ioir_kg.errors import BadRdf, PayloadTooLarge, UnsupportedMediaType
from ioir_kg.namespaces import CANONICAL_ID_BASE
from ioir_kg.store.base import KnowledgeStore

_XSD_STRING = "http://www.w3.org/2001/XMLSchema#string"

#: The media types a submission may have, and their pyoxigraph formats.
MEDIA_TYPES: dict[str, RdfFormat] = {
    "text/turtle": RdfFormat.TURTLE,
    "application/x-turtle": RdfFormat.TURTLE,
    "application/ld+json": RdfFormat.JSON_LD,
    "application/n-triples": RdfFormat.N_TRIPLES,
}
_EXTENSIONS: dict[str, RdfFormat] = {
    ".ttl": RdfFormat.TURTLE,
    ".nt": RdfFormat.N_TRIPLES,
    ".jsonld": RdfFormat.JSON_LD,
    ".json": RdfFormat.JSON_LD,
}


# -- reading submissions ------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Submission:
    """Triples parsed from a body or a file (``named_graphs``: the graph names it tried to use, refused later)."""

    triples: tuple[OxTriple, ...]
    named_graphs: tuple[str, ...] = ()


@dataclass(frozen=True)
class Metadata:
    """What a submission says about itself: its ``source`` (``s002`` or the source's IRI) and supporting ``quote``
    (turned into an evidence node for every entity the submission describes), a ``locator`` in the source, a
    ``comment``, and the ``contributor`` to credit (the admin may submit on a contributor's behalf)."""

    source: str | None = None
    quote: str | None = None
    locator: str | None = None
    comment: str | None = None
    contributor: str | None = None


def _media_format(media_type: str | None) -> RdfFormat:
    wanted = (media_type or "").split(";")[0].strip().lower()
    fmt = MEDIA_TYPES.get(wanted)
    if fmt is None:
        raise UnsupportedMediaType(
            f"send the triples as {', '.join(sorted(set(MEDIA_TYPES) - {'application/x-turtle'}))}"
            f" (got {wanted or 'no Content-Type'})",
            errors=[{"rule": "media-type", "accepted": sorted(MEDIA_TYPES)}],
        )
    return fmt


def read_submission(body: bytes, media_type: str | None, settings: Settings, *, name: str = "the body") -> Submission:
    """Parse a submitted body: :class:`UnsupportedMediaType` (415), :class:`PayloadTooLarge` (413, over
    ``IOIR_MAX_BODY_BYTES`` or ``IOIR_MAX_ASSERTION_TRIPLES``) or :class:`BadRdf` (400: empty, does not parse).

    Relative IRIs resolve against ``{base}id/``, so ``<org/nato>`` names NATO.

    >>> body = b'<org/x> <http://purl.org/dc/terms/date> "2008"^^<http://www.w3.org/2001/XMLSchema#gYear> .'
    >>> s = read_submission(body, "text/turtle", Settings())
    >>> str(s.triples[0].subject)
    '<https://w3id.org/ioir/id/org/x>'
    """
    fmt = _media_format(media_type)
    if len(body) > settings.max_body_bytes:
        raise PayloadTooLarge(
            f"{name} is larger than {settings.max_body_bytes} bytes (IOIR_MAX_BODY_BYTES)", errors=[{"rule": "size"}]
        )
    if not body.strip():
        raise BadRdf(f"{name} is empty: send the triples to validate", errors=[{"rule": "non-empty"}])
    triples: list[OxTriple] = []
    graphs: dict[str, None] = {}
    limit = settings.max_assertion_triples
    try:
        for quad in parse(body, fmt, base_iri=settings.id_base, rename_blank_nodes=True):
            if not isinstance(quad.graph_name, DefaultGraph):
                graphs[str(quad.graph_name)] = None
            triples.append(_rebase(quad.triple, settings.id_base))
            if len(triples) > limit:
                raise PayloadTooLarge(
                    f"{name} holds more than {limit} triples (IOIR_MAX_ASSERTION_TRIPLES): split it",
                    errors=[{"rule": "size", "limit": limit}],
                )
    except SyntaxError as exc:
        raise BadRdf(f"{name} is not valid {fmt.name}: {exc}", errors=[{"rule": "syntax"}]) from None
    except ValueError as exc:  # e.g. undecodable bytes
        raise BadRdf(f"{name} cannot be read as {fmt.name}: {exc}", errors=[{"rule": "syntax"}]) from None
    if not triples:
        raise BadRdf(f"{name} holds no triples", errors=[{"rule": "non-empty"}])
    return Submission(tuple(dict.fromkeys(triples)), tuple(graphs))


def read_submission_file(path: Path, settings: Settings) -> Submission:
    """Parse a submission from a file (format from its extension: ``.ttl``, ``.nt``, ``.jsonld``/``.json``)."""
    fmt = _EXTENSIONS.get(path.suffix.lower())
    if fmt is None:
        raise BadRdf(f"{path}: use a .ttl, .nt or .jsonld file", errors=[{"rule": "media-type"}])
    try:
        body = path.read_bytes()
    except OSError as exc:
        raise BadRdf(f"{path}: cannot read: {exc.strerror or exc}", errors=[{"rule": "unreadable"}]) from None
    return read_submission(body, fmt.media_type, settings, name=str(path))


def _rebase(triple: OxTriple, id_base: str) -> OxTriple:
    if id_base == CANONICAL_ID_BASE:
        return triple

    def move(term: object) -> object:
        if isinstance(term, OxNamedNode) and term.value.startswith(CANONICAL_ID_BASE):
            return OxNamedNode(id_base + term.value[len(CANONICAL_ID_BASE) :])
        return term

    return OxTriple(move(triple.subject), triple.predicate, move(triple.object))  # type: ignore[arg-type]


# -- terms ---------------------------------------------------------------------------------------------------------


def to_rdflib(term: object) -> Node:
    """A pyoxigraph term as an rdflib term (``xsd:string`` literals without a datatype, as rdflib parses them;
    other literals keep their lexical form: rdflib would rewrite ``"….469Z"^^xsd:dateTime`` into a form that HermiT
    refuses)."""
    if isinstance(term, OxNamedNode):
        return URIRef(term.value)
    if isinstance(term, OxBlankNode):
        return BNode(term.value)
    if isinstance(term, OxLiteral):
        if term.language:
            return Literal(term.value, lang=term.language)
        datatype = term.datatype.value
        if datatype == _XSD_STRING:
            return Literal(term.value)
        return Literal(term.value, datatype=URIRef(datatype), normalize=False)  # keep the lexical form as stored
    raise ValueError(f"unsupported term {term!r}")


def select(store: KnowledgeStore, query: str) -> list[dict[str, str | None]]:
    """The rows of a SELECT query as plain strings (term values; ``None`` when unbound), read to the end here so
    that no result object outlives the call (pyoxigraph's results belong to the thread that made them)."""
    result = store.query(query)
    if not isinstance(result, QuerySolutions):
        raise TypeError("not a SELECT query")
    names = [v.value for v in result.variables]
    rows = [{name: (None if row[name] is None else str(row[name].value)) for name in names} for row in result]
    del result
    return rows


def _triple(t: OxTriple) -> tuple[Node, Node, Node]:
    return to_rdflib(t.subject), to_rdflib(t.predicate), to_rdflib(t.object)


def _iri_list(nodes: Iterable[Node]) -> str:
    return " ".join(f"<{n}>" for n in sorted({str(n) for n in nodes if isinstance(n, URIRef)}))


def _under(text: str, namespaces: tuple[str, ...]) -> bool:
    return text.startswith(namespaces)
