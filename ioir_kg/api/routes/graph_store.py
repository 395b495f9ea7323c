"""``/rdf-graph-store``: the SPARQL 1.1 Graph Store HTTP Protocol (``?default`` or ``?graph=IRI``).

``GET``/``HEAD`` for everyone (without a graph parameter: every graph, as N-Quads or TriG);
``PUT`` (replace), ``POST`` (merge) and ``DELETE`` with the admin token.
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import Response

from ioir_kg.api.deps import EndpointDep
from ioir_kg.api.endpoint import query_params
from ioir_kg.api.security import AdminDep
from ioir_kg.sparql.protocol import graph_target

router = APIRouter(tags=["graph store"])
PATH = "/rdf-graph-store"

_PARAMS: list[dict[str, Any]] = [
    {"name": "default", "in": "query", "schema": {"type": "string"}, "allowEmptyValue": True},
    {"name": "graph", "in": "query", "schema": {"type": "string"}, "description": "IRI of a named graph"},
]
_DOC: dict[str, Any] = {"openapi_extra": {"parameters": _PARAMS}, "response_class": Response}


@router.api_route(PATH, methods=["GET", "HEAD"], **_DOC)
async def read_graph(request: Request, endpoint: EndpointDep) -> Response:
    """The graph in the negotiated RDF format; 404 for an unknown named graph."""
    params = query_params(request)
    fmt = params.get("format", [None])[0]
    head = request.method == "HEAD"
    return await endpoint.read_graph(graph_target(params), request.headers.get("accept"), override=fmt, head=head)


@router.put(PATH, **_DOC, status_code=204)
async def put_graph(request: Request, endpoint: EndpointDep, _: AdminDep) -> Response:
    """Replace the graph with the body (201 if it is new)."""
    return await endpoint.write_graph(graph_target(query_params(request)), request, replace=True)


@router.post(PATH, **_DOC, status_code=204)
async def post_graph(request: Request, endpoint: EndpointDep, _: AdminDep) -> Response:
    """Add the body's triples to the graph (201 if it is new)."""
    return await endpoint.write_graph(graph_target(query_params(request)), request, replace=False)


@router.delete(PATH, **_DOC, status_code=204)
async def delete_graph(request: Request, endpoint: EndpointDep, _: AdminDep) -> Response:
    """Drop the named graph (404 if absent) or empty the default graph."""
    return await endpoint.delete_graph(graph_target(query_params(request)))
