"""Serialising descriptions and choosing their representation.

Negotiation reuses :mod:`ioir_kg.sparql.negotiation` (q-values, wildcards, 406 listing the offers); the
``?_mediatype=`` parameter overrides ``Accept`` as ``format=`` does on ``/sparql``. RDF is written by
pyoxigraph, with only the prefixes a document uses; JSON-LD is pyoxigraph's expanded form compacted with
a ``@context`` of those prefixes (keys, ``@type``, ``@id`` and datatypes as CURIEs; single values unwrapped).

>>> from pyoxigraph import Literal, NamedNode, Triple
>>> nato, label = NamedNode("https://w3id.org/ioir/id/org/nato"), NamedNode(PREFIXES["skos"] + "prefLabel")
>>> t = Triple(nato, label, Literal("NATO"))
>>> print(serialize_graph([t], TURTLE).decode().strip())
@prefix skos: <http://www.w3.org/2004/02/skos/core#> .
<https://w3id.org/ioir/id/org/nato> skos:prefLabel "NATO" .
>>> alternates_header("/id/org/nato", (TURTLE,))
'</id/org/nato?_mediatype=text/turtle>; rel="alternate"; type="text/turtle"'
>>> alternate_url("/id/org/nato", JSON_LD)
'/id/org/nato?_mediatype=application/ld%2Bjson'
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping, Sequence
from typing import Any
from urllib.parse import quote

from pyoxigraph import Literal, NamedNode, Triple, serialize

from ioir_kg.namespaces import PREFIXES, PROBLEM_JSON, RDF_TYPE
from ioir_kg.sparql.negotiation import HTML, JSON_LD, N_TRIPLES, RDF_XML, TURTLE, Format, choose, parse_accept, quality

#: The URL parameter that overrides ``Accept`` (a media type or a short name: ``ttl``, ``jsonld`` …).
MEDIATYPE_PARAM = "_mediatype"
#: RDF representations of a document, Turtle first (what ``Accept: */*`` or no ``Accept`` gets).
RDF_DOCUMENT_FORMATS: tuple[Format, ...] = (TURTLE, JSON_LD, N_TRIPLES, RDF_XML)
#: Representations of an entity or of the ontology: the RDF ones, then HTML for browsers.
PAGE_FORMATS: tuple[Format, ...] = (*RDF_DOCUMENT_FORMATS, HTML)
#: Characters kept as they are in a path put into a header (RFC 3986 path characters, less ``,`` ``;`` ``=``).
_PATH_SAFE = "/:@!$&'()*+"
#: Datatypes that serialisations leave implicit (plain and language-tagged strings).
_IMPLICIT_DATATYPES = frozenset({PREFIXES["xsd"] + "string", PREFIXES["rdf"] + "langString"})


def negotiate(accept: str | None, offers: Sequence[Format], override: str | None = None) -> Format:
    """The representation to send; :class:`~ioir_kg.errors.NotAcceptable` (406) when none fits.

    A ``+`` in ``?_mediatype=application/ld+json`` arrives decoded as a space: it is put back.
    """
    if override is not None:
        override = override.strip().replace(" ", "+") or None
    return choose(accept, offers, override=override)


def alternate_url(path: str, fmt: Format) -> str:
    """``path?_mediatype=<type>``: the URL of one representation.

    ``path`` is a decoded request path: everything a URI path cannot hold as it is (``<>"``, spaces, ``%``, ``,``,
    ``;``, non-ASCII …) is percent-encoded, so the URL never ends the ``<…>`` of a ``Link`` header entry early.

    >>> alternate_url('/id/org/a>; rel="preload"', TURTLE)
    '/id/org/a%3E%3B%20rel%3D%22preload%22?_mediatype=text/turtle'
    """
    return f"{quote(path, safe=_PATH_SAFE)}?{MEDIATYPE_PARAM}={quote(fmt.media_type, safe='/')}"


def alternates_header(path: str, offers: Sequence[Format]) -> str:
    """A ``Link`` header value naming every representation of ``path`` as ``rel="alternate"``."""
    return ", ".join(f'<{alternate_url(path, f)}>; rel="alternate"; type="{f.media_type}"' for f in offers)


def prefers_html(accept: str | None) -> bool:
    """Whether an error should be an HTML page: the client rates ``text/html`` at least as high as JSON.

    >>> prefers_html("text/html,application/xhtml+xml,*/*;q=0.8"), prefers_html("*/*"), prefers_html(None)
    (True, False, False)
    """
    ranges = parse_accept(accept)
    html = quality(ranges, HTML)
    problem = quality(ranges, Format("problem", PROBLEM_JSON, HTML.kind, ("application/json",)))
    return html > 0 and html > problem


def compact_iri(iri: str, prefixes: Mapping[str, str]) -> str | None:
    """``prefix:local`` for an IRI in one of the namespaces, else ``None``.

    >>> compact_iri("https://w3id.org/ioir/ontology#Mission", PREFIXES), compact_iri("http://x/", PREFIXES)
    ('ioir:Mission', None)
    """
    best: tuple[int, str] | None = None
    for prefix, namespace in prefixes.items():
        if iri.startswith(namespace) and len(iri) > len(namespace) and (best is None or len(namespace) > best[0]):
            local = iri[len(namespace) :]
            if not local.startswith("//"):
                best = (len(namespace), f"{prefix}:{local}")
    return None if best is None else best[1]


def used_prefixes(triples: Iterable[Triple], prefixes: Mapping[str, str] = PREFIXES) -> dict[str, str]:
    """The prefixes whose namespace some IRI (or datatype) of ``triples`` is in, in ``prefixes`` order."""
    iris: set[str] = set()
    for triple in triples:
        for term in (triple.subject, triple.predicate, triple.object):
            if isinstance(term, NamedNode):
                iris.add(term.value)
            elif isinstance(term, Literal) and term.datatype.value not in _IMPLICIT_DATATYPES:
                iris.add(term.datatype.value)
    used = {compact_iri(iri, prefixes) for iri in iris}
    names = {curie.partition(":")[0] for curie in used if curie}
    return {prefix: namespace for prefix, namespace in prefixes.items() if prefix in names}


def serialize_graph(
    triples: Sequence[Triple], fmt: Format, *, prefixes: Mapping[str, str] = PREFIXES, first: str | None = None
) -> bytes:
    """``triples`` in ``fmt`` (Turtle, N-Triples, RDF/XML, or compact JSON-LD with ``first`` as first node)."""
    used = used_prefixes(triples, prefixes)
    if fmt == JSON_LD:
        return compact_jsonld(triples, used, first=first)
    if fmt == N_TRIPLES:
        return serialize(triples, format=fmt.rdf_format) or b""
    return serialize(grouped_by_subject(triples), format=fmt.rdf_format, prefixes=used) or b""


def grouped_by_subject(triples: Sequence[Triple]) -> list[Triple]:
    """The triples with each subject's together and, within it, each predicate's together; subjects and
    predicates in order of first appearance (tidier Turtle, and one key per predicate in JSON-LD).

    >>> from pyoxigraph import NamedNode as N
    >>> s, t, p, q = N("http://s"), N("http://t"), N("http://p"), N("http://q")
    >>> [str(x.predicate) + str(x.object) for x in grouped_by_subject(
    ...     [Triple(s, p, N("http://1")), Triple(t, p, s), Triple(s, q, t), Triple(s, p, N("http://2"))])]
    ['<http://p><http://1>', '<http://p><http://2>', '<http://q><http://t>', '<http://p><http://s>']
    """
    groups: dict[object, dict[object, list[Triple]]] = {}
    for triple in triples:
        groups.setdefault(triple.subject, {}).setdefault(triple.predicate, []).append(triple)
    return [triple for by_predicate in groups.values() for group in by_predicate.values() for triple in group]


def compact_jsonld(triples: Sequence[Triple], prefixes: Mapping[str, str], *, first: str | None = None) -> bytes:
    """JSON-LD with a ``@context`` of ``prefixes``: pyoxigraph's expanded output with IRIs made CURIEs.

    >>> from pyoxigraph import Literal, NamedNode, Triple
    >>> s = NamedNode("https://w3id.org/ioir/id/org/nato")
    >>> doc = json.loads(compact_jsonld([Triple(s, NamedNode(RDF_TYPE), NamedNode(PREFIXES["ioir"] + "State"))],
    ...                                 {"ioir": PREFIXES["ioir"]}))
    >>> doc["@graph"]
    [{'@id': 'https://w3id.org/ioir/id/org/nato', '@type': 'ioir:State'}]
    """
    # pyoxigraph's streaming serialiser starts a new node when the subject changes and a new key when the
    # predicate does (a duplicate key, of which JSON keeps the last): group them, as a remote store's answer
    # may interleave them.
    grouped = grouped_by_subject(triples)
    expanded: list[dict[str, Any]] = json.loads(serialize(grouped, format=JSON_LD.rdf_format) or b"[]")

    def iri(value: str) -> str:
        return compact_iri(value, prefixes) or value

    def value(obj: dict[str, Any]) -> dict[str, Any]:
        if "@id" in obj:
            return {"@id": iri(obj["@id"])}
        if "@type" in obj:
            return {**obj, "@type": iri(obj["@type"])}
        return obj

    nodes: list[dict[str, Any]] = []
    for node in expanded:
        out: dict[str, Any] = {"@id": iri(node["@id"])} if "@id" in node else {}
        types = node.get(RDF_TYPE, [])
        if types and all("@id" in t and not t["@id"].startswith("_:") for t in types):
            curies = [iri(t["@id"]) for t in types]
            out["@type"] = curies[0] if len(curies) == 1 else curies
        for key, values in node.items():
            if key == "@id" or (key == RDF_TYPE and "@type" in out):
                continue
            compacted = [value(v) for v in values]
            out[iri(key)] = compacted[0] if len(compacted) == 1 else compacted
        nodes.append(out)
    nodes.sort(key=lambda n: (n.get("@id") != first, str(n.get("@id", ""))))
    document = {"@context": dict(prefixes), "@graph": nodes}
    return json.dumps(document, ensure_ascii=False, indent=1).encode("utf-8")
