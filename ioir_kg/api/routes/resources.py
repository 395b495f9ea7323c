"""``GET /id/{kind}/{slug}``: every entity IRI under ``IOIR_BASE_URI`` dereferences here.

Direct content negotiation (no 303): Turtle, JSON-LD, N-Triples, RDF/XML or an HTML page, chosen from
``Accept`` or ``?_mediatype=``; every answer carries ``Vary: Accept`` and a ``Link`` header naming each
representation (its path percent-encoded). Unknown entities get 404 (an HTML page for browsers, problem details
otherwise), unavailable formats 406. A slug (or kind) longer than any entity may have (``MAX_SLUG_CHARS``) is a 404
that repeats neither the path nor its alternates: a 60 KB slug made a 300 KB ``Link`` header.
"""

from __future__ import annotations

import anyio.to_thread
from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, Response

from ioir_kg.api.deps import SettingsDep, StoreDep
from ioir_kg.api.problems import problem
from ioir_kg.errors import NotAcceptable
from ioir_kg.linked_data.rdf import (
    MEDIATYPE_PARAM,
    PAGE_FORMATS,
    alternates_header,
    negotiate,
    prefers_html,
    serialize_graph,
)
from ioir_kg.linked_data.resource import describe, entity_iri
from ioir_kg.linked_data.views import render_entity, render_not_found
from ioir_kg.namespaces import KINDS, MAX_SLUG_CHARS
from ioir_kg.sparql.negotiation import HTML

router = APIRouter(tags=["linked data"])
VARY = {"Vary": "Accept"}
_LONGEST_KIND = max(len(kind) for kind in KINDS)

_RESPONSES: dict[int | str, dict[str, object]] = {
    200: {
        "description": "The entity, in the negotiated representation",
        "content": {f.media_type: {} for f in PAGE_FORMATS},
    },
    404: {"description": "No such entity (HTML page or problem details)"},
    406: {"description": "None of the representations is acceptable"},
}


@router.api_route("/id/{kind}/{slug}", methods=["GET", "HEAD"], response_class=Response, responses=_RESPONSES)
async def entity(kind: str, slug: str, request: Request, store: StoreDep, settings: SettingsDep) -> Response:
    """The description of ``{base}id/{kind}/{slug}``: its properties, incoming relations, evidence and links."""
    path = request.url.path
    accept = request.headers.get("accept")
    if len(slug) > MAX_SLUG_CHARS or len(kind) > _LONGEST_KIND:  # answered without repeating the path anywhere
        message = (
            f"There is no entity at a path this long: slugs have at most {MAX_SLUG_CHARS} characters,"
            f" kinds are {', '.join(sorted(KINDS))}."
        )
        if prefers_html(accept):
            return HTMLResponse(render_not_found(message, path="/id/…"), status_code=404, headers=VARY)
        return _with(problem(404, "Not found", message), VARY)
    headers = {**VARY, "Link": alternates_header(path, PAGE_FORMATS)}
    try:
        fmt = negotiate(accept, PAGE_FORMATS, request.query_params.get(MEDIATYPE_PARAM))
    except NotAcceptable as exc:
        return _with(problem(exc.status, exc.title, exc.message, exc.errors), headers)
    iri = entity_iri(settings, kind, slug)
    description = await anyio.to_thread.run_sync(lambda: describe(store, settings, iri)) if iri else None
    if description is None or not description.found:
        message = f"There is no entity <{iri or settings.id_base + kind + '/' + slug}> in this knowledge graph."
        if fmt is HTML or prefers_html(accept):
            return HTMLResponse(render_not_found(message, path=path), status_code=404, headers=headers)
        return _with(problem(404, "Not found", message), headers)
    if request.method == "HEAD":
        return Response(media_type=fmt.media_type, headers=headers)
    if fmt is HTML:
        page = await anyio.to_thread.run_sync(lambda: render_entity(description, settings, path, store))
        return HTMLResponse(page, headers=headers)
    body = serialize_graph(description.triples, fmt, first=description.iri)
    return Response(body, media_type=fmt.media_type, headers=headers)


def _with(response: Response, headers: dict[str, str]) -> Response:
    response.headers.update(headers)
    return response
