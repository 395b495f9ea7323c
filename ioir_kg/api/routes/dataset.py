"""The dataset as a whole: its VoID/DCAT description and its N-Quads dump.

``GET /.well-known/void`` and ``GET /void`` compute the description from the live store (Turtle, JSON-LD,
N-Triples or RDF/XML); ``GET /dump.nq`` streams every graph as N-Quads
(``?inferred=false``: all but the inferred graph).
"""

from __future__ import annotations

import anyio.to_thread
from fastapi import APIRouter, Request
from fastapi.responses import Response, StreamingResponse

from ioir_kg import __version__
from ioir_kg.api.deps import SettingsDep, StoreDep
from ioir_kg.api.problems import problem
from ioir_kg.errors import NotAcceptable
from ioir_kg.linked_data.dump import nquads_stream
from ioir_kg.linked_data.rdf import (
    MEDIATYPE_PARAM,
    RDF_DOCUMENT_FORMATS,
    alternates_header,
    negotiate,
    serialize_graph,
)
from ioir_kg.linked_data.void import VOID_PREFIXES, void_triples
from ioir_kg.sparql.inference import parse_flag
from ioir_kg.store.inference import inferred_graph_iri

router = APIRouter(tags=["dataset"])
N_QUADS = "application/n-quads"


def public_url(request: Request, configured: str | None) -> str:
    """This deployment's root URL: ``IOIR_PUBLIC_URL``, else the URL the request came in on."""
    return configured or str(request.base_url)


@router.api_route("/.well-known/void", methods=["GET", "HEAD"], response_class=Response)
@router.api_route("/void", methods=["GET", "HEAD"], response_class=Response)
async def void(request: Request, store: StoreDep, settings: SettingsDep) -> Response:
    """The VoID + DCAT description of the dataset, computed from the store (Turtle by default)."""
    headers = {"Vary": "Accept", "Link": alternates_header(request.url.path, RDF_DOCUMENT_FORMATS)}
    try:
        fmt = negotiate(request.headers.get("accept"), RDF_DOCUMENT_FORMATS, request.query_params.get(MEDIATYPE_PARAM))
    except NotAcceptable as exc:
        response = problem(exc.status, exc.title, exc.message, exc.errors)
        response.headers.update(headers)
        return response
    if request.method == "HEAD":
        return Response(media_type=fmt.media_type, headers=headers)
    root = public_url(request, settings.public_url)
    triples = await anyio.to_thread.run_sync(lambda: void_triples(store, settings, root))
    body = serialize_graph(triples, fmt, prefixes=VOID_PREFIXES, first=f"{settings.base_uri}void#dataset")
    return Response(body, media_type=fmt.media_type, headers=headers)


@router.get("/dump.nq", response_class=StreamingResponse, responses={200: {"content": {N_QUADS: {}}}})
async def dump(store: StoreDep, settings: SettingsDep, inferred: str | None = None) -> StreamingResponse:
    """Every graph as N-Quads, streamed as it is read from the store (on one thread of its own per download).

    ``inferred=false`` leaves out the inferred graph ``{base}graph/inferred`` (included by default).
    """
    exclude = None if parse_flag("inferred", inferred) in (None, True) else inferred_graph_iri(settings)
    headers = {"Content-Disposition": f'inline; filename="ioir-kg-{__version__}.nq"'}
    return StreamingResponse(nquads_stream(store, exclude=exclude), media_type=N_QUADS, headers=headers)
