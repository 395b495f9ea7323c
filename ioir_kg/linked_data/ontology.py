"""The ontology document: its triples for RDF clients, and HTML documentation for people.

The HTML is pyLODE's (``pylode>=3.3,<3.4``), generated once per ontology version into the cache folder
(``IOIR_CACHE_DIR``, never committed) — in the background at start-up, or on the first request that
needs it. pyLODE's fragment identifiers are fixed to the terms' local names, so a term IRI such as
``https://w3id.org/ioir/ontology#Mission`` lands on ``/ontology#Mission`` (browsers keep the fragment
client-side). If pyLODE fails, a plain list of the terms, with the same anchors, is served instead.
"""

from __future__ import annotations

import hashlib
import html
import logging
import os
import re
import threading
from dataclasses import dataclass, field
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path

from pyoxigraph import Literal, NamedNode, RdfFormat, Triple, parse

from ioir_kg.config import Settings
from ioir_kg.errors import BadRdf, ResourceNotFound
from ioir_kg.linked_data.rdf import PAGE_FORMATS
from ioir_kg.linked_data.views import alternates, render
from ioir_kg.namespaces import IOIR, ONTOLOGY_IRI, PREFIXES

log = logging.getLogger("ioir_kg.linked_data")

FALLBACK_NOTICE = "The full documentation could not be generated; this is the list of terms."
#: Changes whenever the post-processing below changes, so old cached pages are not served.
GENERATOR_VERSION = "1"
OWL = PREFIXES["owl"]
RDF_TYPE = PREFIXES["rdf"] + "type"
_SECTIONS: tuple[tuple[str, str], ...] = (
    (OWL + "Class", "Classes"),
    (OWL + "ObjectProperty", "Object properties"),
    (OWL + "DatatypeProperty", "Datatype properties"),
    (OWL + "AnnotationProperty", "Annotation properties"),
    (PREFIXES["rdfs"] + "Datatype", "Datatypes"),
)
_BODY = re.compile(r"<body[^>]*>", re.IGNORECASE)
_ID = re.compile(r"""\bid=["']([^"']+)["']""")


def ontology_path(settings: Settings) -> Path:
    """The ontology file: ``ontology/ioir.ttl`` under ``IOIR_DATA_ROOT``."""
    return settings.bundled_dirs[0] / "ioir.ttl"


@dataclass(frozen=True)
class Term:
    """One ``ioir:`` term as listed in the documentation."""

    local: str
    label: str
    definition: str | None


@dataclass(frozen=True)
class Section:
    """A kind of term and its members."""

    title: str
    terms: tuple[Term, ...]


@dataclass(frozen=True)
class OntologyInfo:
    """What the fallback page shows."""

    iri: str
    title: str
    version: str | None
    description: str | None
    sections: tuple[Section, ...]

    @property
    def locals(self) -> set[str]:
        """The local names of every term."""
        return {t.local for s in self.sections for t in s.terms}


@dataclass
class Ontology:
    """The ontology file's triples and documentation, read once per version of the file."""

    path: Path
    data: bytes
    triples: tuple[Triple, ...]
    digest: str
    info: OntologyInfo = field(init=False)

    def __post_init__(self) -> None:
        self.info = _info(self.triples)

    @classmethod
    def load(cls, path: Path) -> Ontology:
        """Parse the ontology file (:class:`ResourceNotFound` if missing, :class:`BadRdf` if broken)."""
        try:
            data = path.read_bytes()
        except OSError:
            raise ResourceNotFound(f"the ontology file {path} is missing (set IOIR_DATA_ROOT)") from None
        try:
            triples = tuple(parse(data, format=RdfFormat.TURTLE, base_iri=ONTOLOGY_IRI))
        except SyntaxError as exc:
            raise BadRdf(f"{path}: {exc}") from None
        return cls(path, data, triples, hashlib.sha256(data).hexdigest())

    @property
    def version(self) -> str | None:
        """``owl:versionInfo`` of the ontology."""
        return self.info.version


def _literal(values: list[Literal]) -> str | None:
    english = [v for v in values if v.language in (None, "en")]
    chosen = english or values
    return chosen[0].value if chosen else None


def _info(triples: tuple[Triple, ...]) -> OntologyInfo:
    facts: dict[str, dict[str, list[object]]] = {}
    for t in triples:
        if isinstance(t.subject, NamedNode):
            facts.setdefault(t.subject.value, {}).setdefault(t.predicate.value, []).append(t.object)

    def literals(subject: str, predicate: str) -> list[Literal]:
        return [v for v in facts.get(subject, {}).get(predicate, []) if isinstance(v, Literal)]

    grouped: dict[str, list[Term]] = {title: [] for _, title in _SECTIONS}
    grouped["Other terms"] = []
    for subject in sorted(s for s in facts if s.startswith(IOIR) and len(s) > len(IOIR)):
        types = {v.value for v in facts[subject].get(RDF_TYPE, []) if isinstance(v, NamedNode)}
        title = next((title for iri, title in _SECTIONS if iri in types), "Other terms")
        local = subject[len(IOIR) :]
        label = _literal(literals(subject, PREFIXES["rdfs"] + "label")) or local
        grouped[title].append(Term(local, label, _literal(literals(subject, PREFIXES["skos"] + "definition"))))
    sections = tuple(
        Section(title, tuple(sorted(terms, key=lambda t: t.label.casefold())))
        for title, terms in grouped.items()
        if terms
    )
    dcterms = PREFIXES["dcterms"]
    return OntologyInfo(
        iri=ONTOLOGY_IRI,
        title=_literal(literals(ONTOLOGY_IRI, dcterms + "title")) or "ioir-kg ontology",
        version=_literal(literals(ONTOLOGY_IRI, OWL + "versionInfo")),
        description=_literal(literals(ONTOLOGY_IRI, dcterms + "description")),
        sections=sections,
    )


class OntologyDocs:
    """The ontology and its HTML documentation for one app (thread-safe; pyLODE runs at most once at a time)."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.error: str | None = None
        self._lock = threading.Lock()
        self._ontology: Ontology | None = None
        self._stamp: tuple[int, int] | None = None
        self._html: tuple[str, str] | None = None  # (digest, page)

    def ontology(self) -> Ontology:
        """The ontology, parsed again only when the file changed."""
        path = ontology_path(self.settings)
        try:
            stat = path.stat()
            stamp = (stat.st_mtime_ns, stat.st_size)
        except OSError:
            stamp = None
        with self._lock:
            if self._ontology is None or stamp is None or stamp != self._stamp:
                self._ontology, self._stamp = Ontology.load(path), stamp
            return self._ontology

    def cache_file(self, ontology: Ontology) -> Path:
        """Where the pyLODE page of this version of the ontology is cached."""
        key = hashlib.sha256(f"{ontology.digest}|{_pylode_version()}|{GENERATOR_VERSION}".encode()).hexdigest()
        return self.settings.cache_path / f"ontology-{key[:20]}.html"

    def html(self) -> str:
        """The documentation page: the cached pyLODE page, generated now if needed; the plain list if pyLODE fails."""
        ontology = self.ontology()
        with self._lock:
            if self._html is not None and self._html[0] == ontology.digest:
                return self._html[1]
            page = self._generate(ontology)
            self._html = (ontology.digest, page)
            return page

    def warm(self) -> None:
        """Generate the page unless it is cached (for a background thread at start-up); never raises."""
        try:
            self.html()
        except Exception:  # pragma: no cover - logged, and the request path reports it again
            log.exception("ontology documentation could not be prepared")

    def start_warming(self) -> threading.Thread:
        """Run :meth:`warm` on a daemon thread."""
        thread = threading.Thread(target=self.warm, name="ioir-ontology-docs", daemon=True)
        thread.start()
        return thread

    def _generate(self, ontology: Ontology) -> str:
        cached = self.cache_file(ontology)
        if cached.is_file():
            self.error = None
            return cached.read_text(encoding="utf-8")
        try:
            page = pylode_page(ontology)
        except Exception as exc:  # pyLODE raises bare Exceptions for ontologies it cannot document
            self.error = f"{type(exc).__name__}: {exc}"
            log.warning("pyLODE could not document %s (%s); serving the plain term list", ontology.path, self.error)
            return fallback_page(
                ontology, notice="The full documentation could not be generated; this is the list of terms."
            )
        self.error = None
        _write_atomically(cached, page)
        return page


def _pylode_version() -> str:
    try:
        return version("pylode")
    except PackageNotFoundError:
        return "none"


def _write_atomically(path: Path, text: str) -> None:
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_name(f".{path.name}.{os.getpid()}.{threading.get_ident()}.tmp")
        tmp.write_text(text, encoding="utf-8")
        tmp.replace(path)
    except OSError as exc:  # a read-only cache only costs regeneration
        log.warning("cannot cache the ontology documentation at %s: %s", path, exc)


def pylode_page(ontology: Ontology) -> str:
    """pyLODE's documentation of the ontology, with term anchors named after local names and a site header."""
    import rdflib
    from pylode import OntPub  # type: ignore[import-untyped]  # imported here: pyLODE loads background ontologies at import

    graph = rdflib.Graph()
    graph.parse(ontology.path, format="turtle")
    # pyLODE logs through the root logger's module functions, which install a stderr handler on first use:
    # keep the process's logging configuration as it was.
    handlers, level = logging.root.handlers[:], logging.root.level
    try:
        publisher = OntPub(graph)
        for subject in set(graph.subjects()):
            iri = str(subject)
            if isinstance(subject, rdflib.URIRef) and iri.startswith(IOIR) and len(iri) > len(IOIR):
                publisher.fids[iri] = iri[len(IOIR) :]
        page: str = publisher.make_html()
    finally:
        logging.root.handlers[:] = handlers
        logging.root.setLevel(level)
    return _decorate(page, ontology)


def _decorate(page: str, ontology: Ontology) -> str:
    """Add the site's navigation, the format links, and anchors for terms pyLODE did not list."""
    links = " · ".join(
        f'<a href="{html.escape(a.href)}" type="{a.media_type}">{a.label}</a>'
        for a in alternates("/ontology", PAGE_FORMATS)
        if a.media_type != "text/html"
    )
    style = "font:15px system-ui,sans-serif;padding:.6rem 1.2rem;border-bottom:1px solid #d0d7de;background:#f6f8fa"
    nav = (
        f'<nav aria-label="Main" class="ioir-nav" style="{style}">'
        '<a href="/"><strong>ioir-kg</strong></a> · <a href="/">Home</a> · <a href="/sparql">SPARQL</a> · '
        '<a href="/queries">Queries</a> · <a href="/network">Network</a> · '
        '<a href="/ontology" aria-current="page">Ontology</a>'
        f'<span style="float:right">The ontology as {links}</span></nav>'
    )
    present = set(_ID.findall(page))
    missing = [t for s in ontology.info.sections for t in s.terms if t.local not in present]
    extra = ""
    if missing:
        items = "".join(
            f'<dt id="{html.escape(t.local)}"><code>ioir:{html.escape(t.local)}</code> {html.escape(t.label)}</dt>'
            f"<dd>{html.escape(t.definition or '')}</dd>"
            for t in missing
        )
        extra = (
            f'<section id="ioir-other-terms" style="margin:1rem 2rem"><h2>Other terms</h2><dl>{items}</dl></section>'
        )
    match = _BODY.search(page)
    if match is None:
        return nav + page + extra
    head, tail = page[: match.end()], page[match.end() :]
    closing = tail.lower().rfind("</body>")
    if closing >= 0:
        tail = tail[:closing] + extra + tail[closing:]
    else:
        tail += extra
    return head + nav + tail


def fallback_page(ontology: Ontology, *, notice: str | None = None) -> str:
    """A plain page listing every ``ioir:`` term under an anchor named after its local name."""
    return render(
        "ontology.html",
        ontology=ontology.info,
        alternates=alternates("/ontology", PAGE_FORMATS),
        notice=notice,
        nav="ontology",
        title=ontology.info.title,
    )
