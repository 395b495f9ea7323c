"""``GET /ontology``: the ontology, negotiated — Turtle, JSON-LD, N-Triples, RDF/XML, or pyLODE's HTML.

Term IRIs (``https://w3id.org/ioir/ontology#Mission``) resolve here: the client drops the fragment,
and the HTML page has an anchor per term named after its local name. ``/ontology/{version}`` answers
for the current ``owl:versionInfo`` (the ``owl:versionIRI``). The HTML documentation is generated in
the background at start-up (the router's lifespan), into the cache folder.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import anyio.to_thread
from fastapi import APIRouter, FastAPI, Request
from fastapi.responses import HTMLResponse, Response

from ioir_kg.api.problems import problem
from ioir_kg.errors import NotAcceptable, ResourceNotFound
from ioir_kg.linked_data.ontology import OntologyDocs
from ioir_kg.linked_data.rdf import MEDIATYPE_PARAM, PAGE_FORMATS, alternates_header, negotiate, serialize_graph
from ioir_kg.namespaces import ONTOLOGY_IRI
from ioir_kg.sparql.negotiation import HTML, TURTLE


@asynccontextmanager
async def lifespan(app: FastAPI) -> AsyncIterator[None]:
    """Prepare the ontology's documentation in the background while the app starts serving."""
    docs = OntologyDocs(app.state.settings)
    app.state.ontology_docs = docs
    docs.start_warming()
    yield


router = APIRouter(tags=["linked data"], lifespan=lifespan)


def get_docs(request: Request) -> OntologyDocs:
    """The app's ontology documentation (created on first use when the lifespan did not run)."""
    docs: OntologyDocs | None = getattr(request.app.state, "ontology_docs", None)
    if docs is None:
        docs = request.app.state.ontology_docs = OntologyDocs(request.app.state.settings)
    return docs


@router.api_route("/ontology", methods=["GET", "HEAD"], response_class=Response)
async def ontology(request: Request) -> Response:
    """The ontology in the negotiated representation (Turtle when anything goes, HTML for browsers)."""
    return await _answer(request, get_docs(request))


@router.api_route("/ontology/{version}", methods=["GET", "HEAD"], response_class=Response)
async def ontology_version(version: str, request: Request) -> Response:
    """The ontology at its version IRI (only the current version is served)."""
    docs = get_docs(request)
    current = (await anyio.to_thread.run_sync(docs.ontology)).version
    if version != current:
        raise ResourceNotFound(f"this server has version {current} of the ontology, not {version!r}")
    return await _answer(request, docs)


async def _answer(request: Request, docs: OntologyDocs) -> Response:
    headers = {"Vary": "Accept", "Link": alternates_header(request.url.path, PAGE_FORMATS)}
    try:
        fmt = negotiate(request.headers.get("accept"), PAGE_FORMATS, request.query_params.get(MEDIATYPE_PARAM))
    except NotAcceptable as exc:
        response = problem(exc.status, exc.title, exc.message, exc.errors)
        response.headers.update(headers)
        return response
    if request.method == "HEAD":
        return Response(media_type=fmt.media_type, headers=headers)
    if fmt is HTML:
        return HTMLResponse(await anyio.to_thread.run_sync(docs.html), headers=headers)
    ontology = await anyio.to_thread.run_sync(docs.ontology)
    # Turtle is the file itself (with its comments); other formats are serialised from its triples.
    body = ontology.data if fmt is TURTLE else serialize_graph(ontology.triples, fmt, first=ONTOLOGY_IRI)
    return Response(body, media_type=fmt.media_type, headers=headers)
