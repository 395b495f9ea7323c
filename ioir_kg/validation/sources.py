"""The source registry: documents that evidence may cite, with their bibliographic records and their stored text.

A source is an ``ioir:SourceDocument`` at ``{base}id/source/{id}`` (short id ``s000``, ``s001`` …): the five bundled
documents are described in ``data/sources.ttl``; documents registered later (``POST /sources``, ``ioir-kg source
add``) get the next free id and a named graph of their own, ``{base}graph/source/{id}``, holding their record::

    <{base}id/source/s005> a ioir:SourceDocument ;
        rdfs:label "Title" ; skos:prefLabel "Title" ; dcterms:title "Title" ;
        dcterms:creator "First Author", "Second Author" ; dcterms:date "2024"^^xsd:gYear ;
        dcterms:identifier "sha256:<hex>", "https://doi.org/10.…", "https://…" ;
        dcterms:license <…> ; dcterms:contributor "alice" ; dcterms:created "…"^^xsd:dateTime .

The text is stored **once, content-addressed**: the file ``<sha256 hex>.txt`` (UTF-8, line ends normalised to
``\\n``) in :func:`text_dir` and the ``dcterms:identifier "sha256:<hex>"`` in the graph; the same bytes always get
the same name, so a duplicate upload finds the existing source. With the embedded store the folder sits beside the
store (``<store>.texts/``, copied and backed up with it); with a remote store there is no local store folder, so the
texts live in the app's cache folder (``IOIR_CACHE_DIR``/``source-texts``) — not as literals in the remote graph,
because a document of megabytes would then travel with every dump, CONSTRUCT and neighbourhood fetch. The hash in
the graph tells a missing text apart from a changed one: a quote citing a source whose text is not here fails its
check (never passes unchecked).

The bundled documents are registered at load time (:meth:`SourceRegistry.sync_bundled`) from ``IOIR_SEEDS_DIR``:
their text is copied into the text folder and their hash recorded in ``{base}graph/generated/source-texts``.
"""

from __future__ import annotations

import hashlib
import io
import os
import re
import threading
import uuid
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from pyoxigraph import Literal, NamedNode, Quad

from ioir_kg.config import Backend, Settings
from ioir_kg.errors import BadInput, BadParameter, ResourceNotFound, UnsupportedMediaType
from ioir_kg.namespaces import IOIR
from ioir_kg.store.base import KnowledgeStore
from ioir_kg.validation.quotes import SourceTexts, bundled_source_files, collapse
from ioir_kg.validation.submission import select

__all__ = [
    "SOURCE_MEDIA_TYPES",
    "Bibliography",
    "SourceRecord",
    "SourceRegistry",
    "SourceTextUnavailable",
    "UnreadableDocument",
    "extract_text",
    "text_dir",
]

DCT = "http://purl.org/dc/terms/"
RDF_TYPE = NamedNode("http://www.w3.org/1999/02/22-rdf-syntax-ns#type")
RDFS_LABEL = NamedNode("http://www.w3.org/2000/01/rdf-schema#label")
PREF_LABEL = NamedNode("http://www.w3.org/2004/02/skos/core#prefLabel")
XSD = "http://www.w3.org/2001/XMLSchema#"
SOURCE_CLASS = NamedNode(f"{IOIR}SourceDocument")
#: The media types a document may be registered as.
SOURCE_MEDIA_TYPES = ("text/plain", "text/markdown", "application/pdf")
_ID = re.compile(r"^(?:.*/)?(?:source/)?(s[0-9]{3,6})$")
_YEAR = re.compile(r"^[0-9]{4}$")
_DOI = re.compile(r"^(?:https?://(?:dx\.)?doi\.org/|doi:)?(10\.[0-9]{4,9}/\S+)$", re.IGNORECASE)
_HASH_PREFIX = "sha256:"
_REGISTER_LOCK = threading.Lock()
_SELECT_PREFIXES = (
    f"PREFIX dcterms: <{DCT}>\nPREFIX ioir: <{IOIR}>\nPREFIX rdfs: <http://www.w3.org/2000/01/rdf-schema#>\n"
)


class UnreadableDocument(BadInput):
    """A document with no text to register: empty, binary, not UTF-8, or a PDF without a text layer."""

    status = 422
    title = "Unreadable document"


class SourceTextUnavailable(BadInput):
    """The text of a registered source is not on this server (its quotes cannot be checked)."""

    status = 422
    title = "Source text unavailable"


def text_dir(settings: Settings) -> Path:
    """Where the texts live: beside the embedded store, or in the cache folder for a remote store."""
    if settings.backend is Backend.REMOTE:
        return settings.cache_path / "source-texts"
    return settings.store_path.with_name(settings.store_path.name + ".texts")


def _normalise_text(text: str) -> str:
    return text.removeprefix("\ufeff").replace("\r\n", "\n").replace("\r", "\n")


def _check_text(text: str, what: str) -> str:
    text = _normalise_text(text)
    if not text.strip():
        raise UnreadableDocument(f"the {what} holds no text: nothing was registered")
    controls = sum(1 for c in text if ord(c) < 32 and c not in "\n\t\f")
    if "\x00" in text or controls > max(8, len(text) // 200):
        raise UnreadableDocument(f"the {what} looks binary (control characters), not text: nothing was registered")
    return text


def extract_text(body: bytes, media_type: str) -> str:
    """The text of a document: UTF-8 plain text or Markdown as it is, a PDF's text layer (:mod:`pypdf`).

    Raises :class:`UnsupportedMediaType` (415) for another type, :class:`UnreadableDocument` (422) for an empty or
    binary body, text that is not UTF-8, or a PDF that does not open or holds no text.
    """
    media_type = media_type.split(";")[0].strip().lower()
    if media_type not in SOURCE_MEDIA_TYPES:
        raise UnsupportedMediaType(
            f"a source document is {', '.join(SOURCE_MEDIA_TYPES)}, not {media_type or 'untyped'}",
            errors=[{"accepted": list(SOURCE_MEDIA_TYPES)}],
        )
    if not body.strip():
        raise UnreadableDocument("the document is empty: nothing was registered")
    if media_type != "application/pdf":
        if body.startswith(b"%PDF-"):
            raise UnreadableDocument("the body is a PDF: send it as application/pdf")
        try:
            decoded = body.decode("utf-8")
        except UnicodeDecodeError as exc:
            raise UnreadableDocument(
                f"the document is not UTF-8 text (byte {exc.start}): a binary file cannot be registered"
            ) from None
        return _check_text(decoded, "document")
    from pypdf import PdfReader
    from pypdf.errors import PyPdfError

    try:
        reader = PdfReader(io.BytesIO(body))
        pages = [page.extract_text() or "" for page in reader.pages]
    except (PyPdfError, ValueError, KeyError, TypeError, OSError) as exc:
        raise UnreadableDocument(f"the PDF cannot be read: {exc}") from None
    if not "".join(pages).strip():
        raise UnreadableDocument(
            "the PDF holds no text (a scan without a text layer?): run OCR first, or register its text as text/plain"
        )
    return _check_text("\n\n".join(page.rstrip() for page in pages), "PDF")


@dataclass(frozen=True)
class Bibliography:
    """What a registration says about a document (title required; the rest as far as it is known)."""

    title: str
    creators: tuple[str, ...] = ()
    year: str | None = None
    url: str | None = None
    doi: str | None = None
    licence: str | None = None
    venue: str | None = None

    @classmethod
    def from_params(
        cls,
        title: str | None,
        authors: Iterable[str] = (),
        year: str | None = None,
        url: str | None = None,
        doi: str | None = None,
        licence: str | None = None,
    ) -> Bibliography:
        """Checked parameters (:class:`BadParameter`, 422, naming the parameter)."""
        title = collapse(title or "")
        if not title:
            raise BadParameter("give the document's title (title=…)", errors=[{"param": "title"}])
        creators = tuple(dict.fromkeys(collapse(a) for raw in authors for a in raw.split(";") if collapse(a)))
        if year is not None and not _YEAR.match(year.strip()):
            raise BadParameter(f"year {year!r}: give four digits, e.g. 2019", errors=[{"param": "year"}])
        if url and not re.match(r"^https?://\S+$", url.strip()):
            raise BadParameter(f"url {url!r}: give an http(s) URL", errors=[{"param": "url"}])
        if doi:
            match = _DOI.match(doi.strip())
            if match is None:
                raise BadParameter(f"doi {doi!r}: give a DOI such as 10.1000/xyz", errors=[{"param": "doi"}])
            doi = match.group(1)
        if url and doi:
            raise BadParameter("give either url or doi, not both", errors=[{"param": "doi"}])
        return cls(title, creators, year.strip() if year else None, url.strip() if url else None, doi, licence)


@dataclass
class SourceRecord:
    """A registered source as listed and cited."""

    id: str
    iri: str
    label: str
    title: str | None = None
    creators: list[str] = field(default_factory=list)
    year: str | None = None
    url: str | None = None
    doi: str | None = None
    licence: str | None = None
    venue: str | None = None
    description: str | None = None
    file: str | None = None
    sha256: str | None = None
    contributor: str | None = None
    created: str | None = None
    entities: int = 0
    relations: int = 0

    @property
    def citation(self) -> str:
        """Author-year: ``Haugevik 2004``, ``Kille and Hendrickson n.d.``, the short title when no author is known."""
        year = self.year or "n.d."
        surnames = [name.split()[-1] for name in self.creators]
        if not surnames:
            words = (self.title or self.label).split()
            who = " ".join(words[:4]) + ("…" if len(words) > 4 else "")
        elif len(surnames) == 1:
            who = surnames[0]
        elif len(surnames) == 2:
            who = f"{surnames[0]} and {surnames[1]}"
        else:
            who = f"{surnames[0]} et al."
        return f"{who} {year}"

    def to_json(self) -> dict[str, Any]:
        """The record as JSON (absent fields left out)."""
        body: dict[str, Any] = {
            "id": self.id,
            "iri": self.iri,
            "label": self.label,
            "title": self.title,
            "creators": self.creators or None,
            "year": self.year,
            "venue": self.venue,
            "url": self.url,
            "doi": self.doi,
            "licence": self.licence,
            "description": self.description,
            "file": self.file,
            "sha256": self.sha256,
            "contributor": self.contributor,
            "created": self.created,
            "citation": self.citation,
            "entities": self.entities,
            "relations": self.relations,
            "location": f"/sources/{self.id}",
        }
        return {key: value for key, value in body.items() if value is not None}


class SourceRegistry:
    """Register, list, describe and read the source documents of one store."""

    def __init__(self, store: KnowledgeStore, settings: Settings) -> None:
        self.store = store
        self.settings = settings
        self.prefix = f"{settings.id_base}source/"
        self.texts = text_dir(settings)

    # -- ids -----------------------------------------------------------------------------------------------------
    def source_id(self, source: str) -> str:
        """The short id of a source named by id, ``source/{id}`` or IRI (:class:`BadParameter` if malformed)."""
        match = _ID.match(source.strip())
        if match is None or (source.strip().startswith("http") and not source.strip().startswith(self.prefix)):
            raise BadParameter(
                f"source {source!r} is not a source document: use its id (s000, s001 …; see GET /sources) or its IRI",
                errors=[{"param": "source"}],
            )
        return match.group(1)

    def iri(self, source_id: str) -> str:
        """The IRI of the source ``source_id``."""
        return f"{self.prefix}{source_id}"

    # -- records -------------------------------------------------------------------------------------------------
    def records(self) -> list[SourceRecord]:
        """Every source document in the store, by id, with the counts of entities and relations it supports."""
        rows = select(
            self.store,
            _SELECT_PREFIXES + f"SELECT ?s ?p ?o WHERE {{ ?s a ioir:SourceDocument ; ?p ?o "
            f'FILTER(STRSTARTS(STR(?s), "{self.prefix}")) }}',
        )
        records: dict[str, SourceRecord] = {}
        for row in rows:
            iri, p, o = row["s"] or "", row["p"] or "", row["o"] or ""
            rec = records.setdefault(iri, SourceRecord(iri[len(self.prefix) :], iri, iri[len(self.prefix) :]))
            self._apply(rec, p, o)
        for counts in self._counts():
            rec_or_none = records.get(counts[0])
            if rec_or_none is not None:
                rec_or_none.entities, rec_or_none.relations = counts[1], counts[2]
        for rec in records.values():
            rec.creators = self._ordered(rec)
        return sorted(records.values(), key=lambda r: (len(r.id), r.id))

    def _apply(self, rec: SourceRecord, p: str, o: str) -> None:
        if p == f"{DCT}title":
            rec.title = o
        elif p == str(PREF_LABEL.value) or (p == str(RDFS_LABEL.value) and rec.label == rec.id):
            rec.label = o
        elif p == f"{DCT}creator" and o not in rec.creators:
            rec.creators.append(o)
        elif p == f"{DCT}date":
            rec.year = o[:4]
        elif p == f"{DCT}license":
            rec.licence = o
        elif p == f"{DCT}bibliographicCitation":
            rec.venue = o
        elif p == f"{DCT}description":
            rec.description = o
        elif p == f"{DCT}contributor":
            rec.contributor = o
        elif p == f"{DCT}created":
            rec.created = o
        elif p == f"{DCT}identifier":
            if o.startswith(_HASH_PREFIX):
                rec.sha256 = o[len(_HASH_PREFIX) :]
            elif _DOI.match(o):
                rec.doi = _DOI.match(o).group(1)  # type: ignore[union-attr]
            elif o.startswith(("http://", "https://")):
                rec.url = o
            else:
                rec.file = o

    def _ordered(self, rec: SourceRecord) -> list[str]:
        """Authors in the order the document names them (a graph keeps no order); unnamed ones last, by name."""
        if len(rec.creators) < 2:
            return rec.creators
        try:
            head = self.text(rec.id)[:20000]
        except (SourceTextUnavailable, ResourceNotFound):
            head = ""
        return sorted(rec.creators, key=lambda name: head.find(name) % (len(head) + 1) if name in head else 10**9)

    def _counts(self) -> list[tuple[str, int, int]]:
        rows = select(
            self.store,
            _SELECT_PREFIXES
            + """SELECT ?s (COUNT(DISTINCT ?x) AS ?all) (COUNT(DISTINCT ?r) AS ?rel) WHERE {
                 ?e dcterms:source ?s . ?x ioir:evidence ?e .
                 OPTIONAL { ?x a ?c . ?c rdfs:subClassOf* ?root .
                            VALUES ?root { ioir:ResourceDependency ioir:CooperationInstrument } BIND(?x AS ?r) }
               } GROUP BY ?s""",
        )
        out = []
        for row in rows:
            total, rel = int(row["all"] or 0), int(row["rel"] or 0)
            out.append((row["s"] or "", total - rel, rel))
        return out

    def record(self, source: str) -> SourceRecord:
        """One source's record (:class:`ResourceNotFound`, 404, when there is none)."""
        source_id = self.source_id(source)
        for rec in self.records():
            if rec.id == source_id:
                return rec
        raise ResourceNotFound(f"there is no source document {source_id} (see GET /sources)")

    def exists(self, source_id: str) -> bool:
        """Whether ``source_id`` is a source document in the store."""
        query = f"ASK {{ <{self.iri(source_id)}> a <{SOURCE_CLASS.value}> }}"
        return bool(self.store.query(query))

    # -- texts ---------------------------------------------------------------------------------------------------
    def _hash_of(self, source_id: str) -> tuple[str | None, str | None]:
        rows = select(
            self.store,
            f"SELECT ?id WHERE {{ <{self.iri(source_id)}> <{DCT}identifier> ?id }}",
        )
        values = [r["id"] or "" for r in rows]
        digest = next((v[len(_HASH_PREFIX) :] for v in values if v.startswith(_HASH_PREFIX)), None)
        file = next((v for v in values if v and not v.startswith((_HASH_PREFIX, "http"))), None)
        return digest, file

    def _blob(self, digest: str) -> Path:
        return self.texts / f"{digest}.txt"

    def text(self, source: str) -> str:
        """The stored text of a source: :class:`ResourceNotFound` when there is no such source,
        :class:`SourceTextUnavailable` (422) when its text is not on this server."""
        source_id = self.source_id(source)
        digest, file = self._hash_of(source_id)
        if digest is not None:
            try:
                return self._blob(digest).read_text(encoding="utf-8")
            except OSError:
                pass
        if file is not None:  # a bundled document: IOIR_SEEDS_DIR, also when the stored copy went missing
            path = self.settings.seeds_path / file
            if path.is_file():
                text = _normalise_text(path.read_text(encoding="utf-8"))
                if digest is None or hashlib.sha256(text.encode("utf-8")).hexdigest() == digest:
                    return text
        if digest is None and file is None and not self.exists(source_id):
            raise ResourceNotFound(f"there is no source document {source_id} (see GET /sources)")
        where = f" ({file}, looked for in IOIR_SEEDS_DIR={self.settings.seeds_path})" if file else ""
        raise SourceTextUnavailable(
            f"the text of source {source_id}{where} is not available on this server, so its quotes cannot be "
            "checked; register the document (POST /sources) or set IOIR_SEEDS_DIR",
            errors=[{"source": source_id}],
        )

    def source_texts(self, source_ids: Iterable[str]) -> tuple[SourceTexts, dict[str, str]]:
        """The normalised texts of ``source_ids`` that are available, and why each of the others is not."""
        texts: dict[str, str] = {}
        missing: dict[str, str] = {}
        for source_id in dict.fromkeys(source_ids):
            try:
                texts[source_id] = self.text(source_id)
            except (SourceTextUnavailable, ResourceNotFound) as exc:
                missing[source_id] = exc.message
        return SourceTexts(texts), missing

    def _put_text(self, text: str) -> tuple[str, bool]:
        """Store ``text`` under its SHA-256 (atomically); the digest and whether the file is new."""
        data = text.encode("utf-8")
        digest = hashlib.sha256(data).hexdigest()
        path = self._blob(digest)
        if path.is_file():
            return digest, False
        self.texts.mkdir(parents=True, exist_ok=True)
        tmp = path.with_name(f".{digest}.{uuid.uuid4().hex}.tmp")
        try:
            tmp.write_bytes(data)
            os.replace(tmp, path)
        finally:
            tmp.unlink(missing_ok=True)
        return digest, True

    # -- registration --------------------------------------------------------------------------------------------
    def find_by_hash(self, digest: str) -> str | None:
        """The id of the source whose text has this SHA-256, if any."""
        rows = select(
            self.store,
            f'SELECT ?s WHERE {{ ?s <{DCT}identifier> "{_HASH_PREFIX}{digest}" ; a <{SOURCE_CLASS.value}> }}',
        )
        for row in rows:
            if (row["s"] or "").startswith(self.prefix):
                return (row["s"] or "")[len(self.prefix) :]
        return None

    def _next_id(self) -> str:
        rows = select(self.store, f"SELECT DISTINCT ?s WHERE {{ ?s a <{SOURCE_CLASS.value}> }}")
        numbers = [int(m.group(1)[1:]) for r in rows if (m := _ID.match(r["s"] or "")) is not None]
        return f"s{max(numbers, default=-1) + 1:03d}"

    def register(self, text: str, bib: Bibliography, *, contributor: str) -> tuple[SourceRecord, bool]:
        """Register a document's text: ``(record, True)`` for a new source, ``(existing record, False)`` when a
        source with the same text (same SHA-256) exists. On any error nothing is left behind."""
        text = _check_text(text, "document")
        digest = hashlib.sha256(text.encode("utf-8")).hexdigest()
        with _REGISTER_LOCK:
            existing = self.find_by_hash(digest)
            if existing is not None:
                return self.record(existing), False
            source_id = self._next_id()
            _, created_file = self._put_text(text)
            try:
                self.store.replace_graph(self.graph(source_id), self._quads(source_id, bib, digest, contributor))
            except BaseException:
                if created_file:
                    self._blob(digest).unlink(missing_ok=True)
                raise
        return self.record(source_id), True

    def graph(self, source_id: str) -> str:
        """The named graph of a registered source's record."""
        return f"{self.settings.graph_base}source/{source_id}"

    def _quads(self, source_id: str, bib: Bibliography, digest: str, contributor: str) -> list[Quad]:
        node, graph = NamedNode(self.iri(source_id)), NamedNode(self.graph(source_id))
        now = datetime.now(UTC).isoformat(timespec="seconds").replace("+00:00", "Z")
        values: list[tuple[str, Literal | NamedNode]] = [
            (str(RDF_TYPE.value), SOURCE_CLASS),
            (str(RDFS_LABEL.value), Literal(bib.title)),
            (str(PREF_LABEL.value), Literal(bib.title)),
            (f"{DCT}title", Literal(bib.title)),
            (f"{DCT}identifier", Literal(f"{_HASH_PREFIX}{digest}")),
            (f"{DCT}contributor", Literal(contributor)),
            (f"{DCT}created", Literal(now, datatype=NamedNode(f"{XSD}dateTime"))),
        ]
        values += [(f"{DCT}creator", Literal(name)) for name in bib.creators]
        if bib.year:
            values.append((f"{DCT}date", Literal(bib.year, datatype=NamedNode(f"{XSD}gYear"))))
        if bib.url:
            values.append((f"{DCT}identifier", Literal(bib.url)))
        if bib.doi:
            values.append((f"{DCT}identifier", Literal(f"https://doi.org/{bib.doi}")))
        if bib.licence:
            lic = bib.licence.strip()
            values.append(
                (f"{DCT}license", NamedNode(lic) if lic.startswith(("http://", "https://")) else Literal(lic))
            )
        return [Quad(node, NamedNode(p), o, graph) for p, o in values]

    # -- the bundled documents -----------------------------------------------------------------------------------
    def sync_bundled(self) -> list[str]:
        """Copy the bundled documents found in ``IOIR_SEEDS_DIR`` into the text folder and record their hashes
        (graph ``{base}graph/generated/source-texts``); the ids registered. Missing files are left unregistered
        (their quotes then fail their check); an existing record is kept when the folder is absent."""
        try:
            files = bundled_source_files(self.settings.bundled_dirs[1])
        except (OSError, SyntaxError, ValueError):
            return []
        graph = NamedNode(f"{self.settings.graph_base}generated/source-texts")
        quads: list[Quad] = []
        for source_id, name in files.items():
            path = self.settings.seeds_path / name
            if not path.is_file():
                continue
            digest, _ = self._put_text(_normalise_text(path.read_text(encoding="utf-8")))
            quads.append(
                Quad(NamedNode(self.iri(source_id)), NamedNode(f"{DCT}identifier"), Literal(f"sha256:{digest}"), graph)
            )
        if not quads:
            return []
        current = {str(q) for q in self.store.quads(graph.value)} if self.store.has_graph(graph.value) else set()
        if current != {str(q) for q in quads}:
            self.store.replace_graph(graph.value, quads)
        return [str(q.subject)[1:-1][len(self.prefix) :] for q in quads]
