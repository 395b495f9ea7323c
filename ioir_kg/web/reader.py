"""The reader of a source document: its text cut into plain runs and cited passages, and what each supports.

The passages come from the evidence nodes' ``oa:TextPositionSelector`` offsets (:mod:`ioir_kg.validation.selectors`);
where two passages overlap, the later one is listed but not highlighted a second time.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from ioir_kg.config import Settings
from ioir_kg.store.base import KnowledgeStore
from ioir_kg.validation.coverage import measure_document
from ioir_kg.validation.selectors import OA
from ioir_kg.validation.sources import SourceRecord
from ioir_kg.validation.submission import select
from ioir_kg.web.pages import page

__all__ = ["Passage", "passages", "reader_page", "segments", "sources_page"]


@dataclass
class Passage:
    """One cited passage: its evidence node, offsets, quote and the entities it supports (IRI, label)."""

    number: int
    evidence: str
    start: int
    end: int
    quote: str
    supports: list[tuple[str, str]] = field(default_factory=list)


def passages(store: KnowledgeStore, settings: Settings, source_iri: str) -> list[Passage]:
    """The located passages of a source, in text order."""
    rows = select(
        store,
        f"""PREFIX oa: <{OA}>
        SELECT ?e ?start ?end ?q ?x (SAMPLE(?l) AS ?label) WHERE {{
          ?e <http://purl.org/dc/terms/source> <{source_iri}> ; <http://www.w3.org/ns/prov#value> ?q ;
             oa:hasSelector ?p . ?p oa:start ?start ; oa:end ?end .
          OPTIONAL {{ ?x <https://w3id.org/ioir/ontology#evidence> ?e .
                     OPTIONAL {{ ?x <http://www.w3.org/2004/02/skos/core#prefLabel> ?l }} }}
        }} GROUP BY ?e ?start ?end ?q ?x""",
    )
    found: dict[str, Passage] = {}
    for row in rows:
        evidence = row["e"] or ""
        item = found.setdefault(
            evidence, Passage(0, evidence, int(row["start"] or 0), int(row["end"] or 0), row["q"] or "")
        )
        if row["x"] and row["x"] not in {iri for iri, _ in item.supports}:
            item.supports.append((row["x"], row["label"] or row["x"].rsplit("/", 1)[-1]))
    ordered = sorted(found.values(), key=lambda p: (p.start, p.end, p.evidence))
    for number, item in enumerate(ordered, 1):
        item.number = number
        item.supports.sort(key=lambda s: s[1].lower())
    return ordered


def segments(text: str, items: list[Passage]) -> list[tuple[str, Passage | None]]:
    """The text as runs: ``(run, None)`` for uncited text, ``(run, passage)`` for a highlighted passage."""
    out: list[tuple[str, Passage | None]] = []
    at = 0
    for item in items:
        if item.start < at or item.end > len(text):
            continue
        if item.start > at:
            out.append((text[at : item.start], None))
        out.append((text[item.start : item.end], item))
        at = item.end
    if at < len(text):
        out.append((text[at:], None))
    return out


def reader_page(record: SourceRecord, text: str, items: list[Passage], entity: str | None = None) -> str:
    """The reader: the text with its cited passages, the side list, the entity filter and the coverage figure."""
    coverage = measure_document(record.id, record.file or "", record.label, text, [p.quote for p in items], [])
    counts = coverage.counts()
    share = counts["cited"] / counts["sentences"] if counts["sentences"] else 0.0
    entities = sorted({s for p in items for s in p.supports}, key=lambda s: s[1].lower())
    shown = [p for p in items if entity is None or entity in {iri for iri, _ in p.supports}]
    return page(
        "source_reader.html",
        title=record.label,
        record=record,
        segments=segments(text, shown),
        passages=shown,
        entities=entities,
        entity=entity,
        coverage={"share": share, **counts},
    )


def sources_page(records: list[SourceRecord]) -> str:
    """The list of sources: citation, title, and how many entities and relations each supports."""
    return page("sources.html", title="Sources", records=records)
