"""``GET``/``POST /sparql``: the SPARQL 1.1 Protocol (queries, updates, service description)."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import Response

from ioir_kg.api.deps import EndpointDep, SettingsDep
from ioir_kg.api.endpoint import query_params, read_post, service_response
from ioir_kg.api.security import require_admin
from ioir_kg.sparql.protocol import FORM, SPARQL_QUERY, SPARQL_UPDATE, UpdateOperation, operation_from

router = APIRouter(tags=["sparql"])


_PARAMS: list[dict[str, Any]] = [
    {"name": "query", "in": "query", "schema": {"type": "string"}, "description": "SPARQL 1.1 query"},
    {"name": "default-graph-uri", "in": "query", "schema": {"type": "array", "items": {"type": "string"}}},
    {"name": "named-graph-uri", "in": "query", "schema": {"type": "array", "items": {"type": "string"}}},
    {"name": "format", "in": "query", "schema": {"type": "string"}, "description": "overrides Accept: json, xml…"},
]
_POST_BODY = {
    "content": {
        FORM: {"schema": {"type": "object", "properties": {"query": {"type": "string"}, "update": {"type": "string"}}}},
        SPARQL_QUERY: {"schema": {"type": "string"}},
        SPARQL_UPDATE: {"schema": {"type": "string"}},
    }
}


@router.get("/sparql", openapi_extra={"parameters": _PARAMS}, response_class=Response)
async def sparql_get(request: Request, endpoint: EndpointDep, settings: SettingsDep) -> Response:
    """Run ``?query=``; without a query, the service description (Turtle) or the query page (HTML)."""
    params = query_params(request)
    op = operation_from(params, allow_update=False, max_chars=settings.max_body_bytes)
    if op is None:
        fmt = params.get("format", [None])[0]
        return await service_response(endpoint.store, settings, request, override=fmt)
    assert not isinstance(op, UpdateOperation)
    return await endpoint.query(op, request.headers.get("accept"))


@router.post(
    "/sparql",
    openapi_extra={"parameters": _PARAMS[1:], "requestBody": _POST_BODY},
    response_class=Response,
    responses={204: {"description": "update applied"}},
)
async def sparql_post(request: Request, endpoint: EndpointDep, settings: SettingsDep) -> Response:
    """A query (form ``query=`` or ``application/sparql-query``) or, with the admin token, an update."""
    op = await read_post(request, settings)
    if op is None:
        return await service_response(endpoint.store, settings, request)
    if isinstance(op, UpdateOperation):
        require_admin(settings, request.headers.get("authorization"))
        return await endpoint.update(op)
    return await endpoint.query(op, request.headers.get("accept"))
