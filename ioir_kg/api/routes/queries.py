"""``/queries``: the catalogue of competency queries and their evaluation with typed parameters."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Annotated, Any

import anyio
from fastapi import APIRouter, Depends, Request
from fastapi.responses import HTMLResponse, JSONResponse, PlainTextResponse, Response

from ioir_kg.api.deps import EndpointDep, SettingsDep, StoreDep
from ioir_kg.api.routes.pages import catalogue_html, query_html
from ioir_kg.errors import ResourceNotFound
from ioir_kg.sparql.competency import CompetencyQuery, bind_arguments, competency_sparql, get_query
from ioir_kg.sparql.inference import parse_infer
from ioir_kg.sparql.negotiation import JSON, RESULT_FORMATS
from ioir_kg.sparql.protocol import QueryOperation
from ioir_kg.web.pages import query_not_found_page, wants_html

router = APIRouter(tags=["competency queries"])
#: URL parameters of ``/queries/{name}`` that are not query parameters.
RESERVED = frozenset({"format", "infer"})


async def get_catalogue(request: Request) -> Mapping[str, CompetencyQuery]:
    """The competency queries read at start-up."""
    catalogue: Mapping[str, CompetencyQuery] = request.app.state.catalogue
    return catalogue


CatalogueDep = Annotated[Mapping[str, CompetencyQuery], Depends(get_catalogue)]


def entry(query: CompetencyQuery, request: Request) -> dict[str, Any]:
    """A catalogue entry with links to run the query and to read its SPARQL."""
    return query.to_json() | {
        "url": str(request.url_for("run_query", name=query.name)),
        "sparql": str(request.url_for("query_text", name=query.name)),
    }


@router.get("/queries", response_class=JSONResponse, responses={200: {"content": {"text/html": {}}}})
def catalogue(request: Request, queries: CatalogueDep) -> Response:
    """Every competency query: title, question, typed parameters, result columns (a gallery page for browsers)."""
    if wants_html(request.headers.get("accept"), (JSON,), override=request.query_params.get("format")):
        return catalogue_html(request)
    return JSONResponse({"queries": [entry(q, request) for q in queries.values()]})


@router.get(
    "/queries/{name}/sparql",
    response_class=Response,
    responses={200: {"content": {"application/sparql-query": {"schema": {"type": "string"}}}}},
)
def query_text(name: str, queries: CatalogueDep) -> PlainTextResponse:
    """The SPARQL text of a competency query (its parameters unbound), to read or open in the editor."""
    return PlainTextResponse(get_query(queries, name).sparql, media_type="application/sparql-query")


@router.get("/queries/{name}", response_class=Response)
async def run_query(
    name: str, request: Request, queries: CatalogueDep, store: StoreDep, settings: SettingsDep, endpoint: EndpointDep
) -> Response:
    """Check the parameters (404 unknown query, 422 bad parameter), bind them as terms, and answer like ``/sparql``
    (browsers get the query's page: a form whose choices come from the graph, and the answer as a table)."""
    args = {k: v for k, v in request.query_params.items() if k not in RESERVED}
    accept, fmt = request.headers.get("accept"), request.query_params.get("format")
    if wants_html(accept, RESULT_FORMATS, override=fmt):
        try:
            query = get_query(queries, name)
        except ResourceNotFound as exc:
            return HTMLResponse(query_not_found_page(exc.message, request.url.path), status_code=404)
        return await query_html(query, args, request, store, settings, endpoint)
    query = get_query(queries, name)
    sparql = await anyio.to_thread.run_sync(
        lambda: competency_sparql(query, bind_arguments(query, args, store, settings.id_base), store)
    )
    operation = QueryOperation(
        sparql, None, request.query_params.get("format"), parse_infer(request.query_params.get("infer"))
    )
    return await endpoint.query(operation, request.headers.get("accept"), short=True)
