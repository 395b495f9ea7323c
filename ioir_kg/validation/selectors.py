"""Where each quote sits: W3C Web Annotation selectors on evidence nodes, and the quote check against sources.

Every evidence node gets two selectors (``oa:hasSelector``), IRIs under the evidence node's own IRI::

    <{evidence}#quote> a oa:TextQuoteSelector ; oa:exact "…" ; oa:prefix "…" ; oa:suffix "…" .
    <{evidence}#position> a oa:TextPositionSelector ; oa:start 1234 ; oa:end 1302 .

``start``/``end`` are offsets in the source's **stored text** (Unicode code points of the UTF-8 text, line ends
``\\n``; :func:`ioir_kg.validation.quotes.locate`): ``text[start:end]`` is the quote up to collapsed whitespace and
hyphenation at line breaks; ``exact`` is that slice as it stands in the text, ``prefix``/``suffix`` the 32 characters
around it. The selectors of the curated evidence are computed at load time into ``{base}graph/generated/selectors``
(:func:`prepare_sources`); an accepted assertion's evidence gets its selectors inside the assertion's graph.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable

from pyoxigraph import Literal, NamedNode, Quad, Triple

from ioir_kg.config import Settings
from ioir_kg.errors import ResourceNotFound
from ioir_kg.namespaces import IOIR
from ioir_kg.store.base import KnowledgeStore
from ioir_kg.validation.quotes import Locator
from ioir_kg.validation.report import Finding
from ioir_kg.validation.sources import SourceRegistry, SourceTextUnavailable
from ioir_kg.validation.submission import select

__all__ = ["OA", "prepare_sources", "quote_findings", "selector_triples"]

OA = "http://www.w3.org/ns/oa#"
_RDF_TYPE = NamedNode("http://www.w3.org/1999/02/22-rdf-syntax-ns#type")
_XSD_INT = NamedNode("http://www.w3.org/2001/XMLSchema#nonNegativeInteger")
_CONTEXT = 32


def selector_triples(evidence: str, text: str, quote: str, locator: Locator | None = None) -> list[Triple]:
    """The selectors of one evidence node whose quote occurs in ``text`` (none when it does not); pass the text's
    :class:`~ioir_kg.validation.quotes.Locator` when locating many quotes in it."""
    found = (locator or Locator(text)).find(quote)
    if found is None:
        return []
    start, end = found
    node = NamedNode(evidence)
    tqs, tps = NamedNode(f"{evidence}#quote"), NamedNode(f"{evidence}#position")
    has = NamedNode(f"{OA}hasSelector")
    return [
        Triple(node, has, tqs),
        Triple(node, has, tps),
        Triple(tqs, _RDF_TYPE, NamedNode(f"{OA}TextQuoteSelector")),
        Triple(tqs, NamedNode(f"{OA}exact"), Literal(text[start:end])),
        Triple(tqs, NamedNode(f"{OA}prefix"), Literal(text[max(0, start - _CONTEXT) : start])),
        Triple(tqs, NamedNode(f"{OA}suffix"), Literal(text[end : end + _CONTEXT])),
        Triple(tps, _RDF_TYPE, NamedNode(f"{OA}TextPositionSelector")),
        Triple(tps, NamedNode(f"{OA}start"), Literal(str(start), datatype=_XSD_INT)),
        Triple(tps, NamedNode(f"{OA}end"), Literal(str(end), datatype=_XSD_INT)),
    ]


def _evidence(store: KnowledgeStore, settings: Settings) -> list[tuple[str, str, str]]:
    """(evidence, source id, quote) of every curated evidence node (not those of accepted assertions)."""
    prefix = f"{settings.id_base}source/"
    rows = select(
        store,
        f"""SELECT ?e ?s ?q WHERE {{ GRAPH ?g {{ ?e a <{IOIR}Evidence> ; <http://purl.org/dc/terms/source> ?s ;
              <http://www.w3.org/ns/prov#value> ?q }}
              FILTER(!STRSTARTS(STR(?g), "{settings.base_uri}assertion/")) }}""",
    )
    return [
        (r["e"] or "", (r["s"] or "")[len(prefix) :], r["q"] or "") for r in rows if (r["s"] or "").startswith(prefix)
    ]


def prepare_sources(store: KnowledgeStore, settings: Settings) -> int:
    """At load time: register the bundled documents' texts and compute the selectors of every curated evidence
    node whose source text is available (graph ``{base}graph/generated/selectors``, rewritten only when it changes).
    Returns how many evidence nodes were located."""
    registry = SourceRegistry(store, settings)
    registry.sync_bundled()
    by_source: dict[str, list[tuple[str, str]]] = defaultdict(list)
    for evidence, source, quote in _evidence(store, settings):
        by_source[source].append((evidence, quote))
    graph = NamedNode(f"{settings.graph_base}generated/selectors")
    triples: list[Triple] = []
    located = 0
    for source, items in sorted(by_source.items()):
        try:
            text = registry.text(source)
        except (SourceTextUnavailable, ResourceNotFound):
            continue
        locator = Locator(text)
        for evidence, quote in items:
            found = selector_triples(evidence, text, quote, locator)
            located += bool(found)
            triples += found
    if not triples:
        return 0
    quads = [Quad(t.subject, t.predicate, t.object, graph) for t in triples]
    current = {str(q) for q in store.quads(graph.value)} if store.has_graph(graph.value) else set()
    if current != {str(q) for q in quads}:
        store.replace_graph(graph.value, quads)
    return located


def quote_findings(registry: SourceRegistry, evidence: Iterable[tuple[str, str, str]]) -> list[Finding]:
    """Check each ``(evidence IRI, source IRI, quote)`` against its source's stored text: a Violation when the quote
    is not in it, and a Violation (never a silent pass) when the source's text is not available here."""
    items = [(e, s, q) for e, s, q in evidence if s.startswith(registry.prefix)]
    ids = [s[len(registry.prefix) :] for _, s, _ in items]
    texts, missing = registry.source_texts(ids)
    found: list[Finding] = []
    for (node, _, quote), source_id in zip(items, ids, strict=True):
        shown = quote if len(quote) <= 90 else quote[:87] + "…"
        if source_id in missing:
            if not registry.exists(source_id):
                continue  # shape S03 reports a source that is not a source document
            found.append(
                Finding(
                    "verbatim-quote",
                    "evidence",
                    "Violation",
                    "An evidence quote must be checked against the text of its source document.",
                    f"The quote “{shown}” cannot be checked: {missing[source_id]}.",
                    node,
                    "http://www.w3.org/ns/prov#value",
                    Literal(quote).__str__(),
                )
            )
        elif not texts.contains(source_id, quote):
            found.append(
                Finding(
                    "verbatim-quote",
                    "evidence",
                    "Violation",
                    "An evidence quote must occur verbatim in its source document (whitespace aside).",
                    f"The quote “{shown}” does not occur verbatim in source {source_id}: copy it exactly, or name "
                    "the source it comes from.",
                    node,
                    "http://www.w3.org/ns/prov#value",
                    Literal(quote).__str__(),
                )
            )
    return found
