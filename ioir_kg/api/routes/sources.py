"""``/sources``: register a source document, list the sources, and read one as RDF, text, reader page or citation.

``POST /sources?title=…&author=…&year=…[&url=…|&doi=…][&licence=…]`` with the document as the body
(``text/plain``, ``text/markdown`` or ``application/pdf``; a contributor or admin token) answers ``201`` with
``Location`` and ``{id, iri}``, or ``200`` with the existing id when the same text is registered already. The body
is bounded by ``IOIR_MAX_BODY_BYTES`` like every request (413 before a byte is stored).
"""

from __future__ import annotations

from typing import Annotated

import anyio.to_thread
from fastapi import APIRouter, Query, Request
from fastapi.responses import HTMLResponse, JSONResponse, Response
from pyoxigraph import QueryTriples, RdfFormat, serialize

from ioir_kg.api.deps import SettingsDep, StoreDep
from ioir_kg.api.endpoint import read_body
from ioir_kg.api.security import ContributorDep
from ioir_kg.errors import NotAcceptable
from ioir_kg.namespaces import PREFIXES
from ioir_kg.validation.citations import bibtex, csl_json
from ioir_kg.validation.sources import SOURCE_MEDIA_TYPES, Bibliography, SourceRegistry, extract_text
from ioir_kg.web.reader import passages, reader_page, sources_page

router = APIRouter(tags=["sources"])
_BODY = {"content": {media_type: {"schema": {"type": "string"}} for media_type in SOURCE_MEDIA_TYPES}}
_FORMATS = {
    "bibtex": "application/x-bibtex",
    "csl": "application/vnd.citationstyles.csl+json",
    "text": "text/plain",
    "turtle": "text/turtle",
    "json": "application/json",
    "html": "text/html",
}


def _pick(accept: str | None, override: str | None) -> str:
    if override:
        if override not in _FORMATS:
            raise NotAcceptable(f"format {override!r}: one of {', '.join(_FORMATS)}")
        return override
    accept = (accept or "*/*").lower()
    for name, media in (("html", "text/html"), ("turtle", "text/turtle"), ("text", "text/plain")):
        if media in accept:
            return name
    for name in ("bibtex", "csl"):
        if _FORMATS[name] in accept:
            return name
    return "json"


@router.post("/sources", status_code=201, openapi_extra={"requestBody": _BODY}, responses={200: {}, 413: {}, 422: {}})
async def register_source(
    request: Request,
    store: StoreDep,
    settings: SettingsDep,
    principal: ContributorDep,
    title: Annotated[str | None, Query(description="the document's title")] = None,
    author: Annotated[list[str] | None, Query(description="an author (repeat, or separate with ';')")] = None,
    year: Annotated[str | None, Query(description="year of publication, four digits")] = None,
    url: Annotated[str | None, Query(description="where the document is published")] = None,
    doi: Annotated[str | None, Query(description="its DOI (instead of url)")] = None,
    licence: Annotated[str | None, Query(description="its licence (an IRI or a name)")] = None,
) -> JSONResponse:
    """Register a document (201 + ``Location``; 200 with the existing id for the same text)."""
    bib = Bibliography.from_params(title, author or (), year, url, doi, licence)
    body = await read_body(request, settings.max_body_bytes)
    media_type = request.headers.get("content-type", "")
    registry = SourceRegistry(store, settings)

    def work() -> tuple[dict[str, str], bool]:
        text = extract_text(body, media_type)
        record, created = registry.register(text, bib, contributor=principal.name)
        return {"id": record.id, "iri": record.iri, "sha256": record.sha256 or ""}, created

    answer, created = await anyio.to_thread.run_sync(work)
    location = f"/sources/{answer['id']}"
    return JSONResponse(answer, status_code=201 if created else 200, headers={"Location": location})


@router.get("/sources", response_class=Response)
def list_sources(
    request: Request,
    store: StoreDep,
    settings: SettingsDep,
    format_: Annotated[str | None, Query(alias="format", description="json or html")] = None,
) -> Response:
    """The source documents (JSON, or an HTML list for browsers)."""
    records = SourceRegistry(store, settings).records()
    if _pick(request.headers.get("accept"), format_) == "html":
        return HTMLResponse(sources_page(records), headers={"Vary": "Accept"})
    return JSONResponse({"items": [r.to_json() for r in records]}, headers={"Vary": "Accept"})


@router.get("/sources/{source_id}", response_class=Response)
def get_source(
    source_id: str,
    request: Request,
    store: StoreDep,
    settings: SettingsDep,
    format_: Annotated[str | None, Query(alias="format", description="bibtex, csl, text, turtle, json or html")] = None,
    entity: Annotated[str | None, Query(description="reader: only passages supporting this entity")] = None,
) -> Response:
    """One source: its record (JSON), description (Turtle), text, reader page, BibTeX or CSL-JSON."""
    registry = SourceRegistry(store, settings)
    record = registry.record(source_id)
    fmt = _pick(request.headers.get("accept"), format_)
    headers = {"Vary": "Accept"}
    if fmt == "bibtex":
        return Response(bibtex(record), media_type=_FORMATS[fmt], headers=headers)
    if fmt == "csl":
        return Response(csl_json(record), media_type=_FORMATS[fmt], headers=headers)
    if fmt == "text":
        return Response(registry.text(record.id), media_type="text/plain; charset=utf-8", headers=headers)
    if fmt == "turtle":
        found = store.query(f"CONSTRUCT {{ <{record.iri}> ?p ?o }} WHERE {{ <{record.iri}> ?p ?o }}")
        triples = list(dict.fromkeys(found)) if isinstance(found, QueryTriples) else []
        text = serialize(triples, format=RdfFormat.TURTLE, prefixes=PREFIXES) or b""
        return Response(text, media_type="text/turtle", headers=headers)
    if fmt == "html":
        html = reader_page(record, registry.text(record.id), passages(store, settings, record.iri), entity or None)
        return HTMLResponse(html, headers=headers)
    return JSONResponse(record.to_json(), headers=headers)
