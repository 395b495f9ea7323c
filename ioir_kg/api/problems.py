"""RFC 9457 problem details for every error response; a client that leaves before its request body is whole."""

from __future__ import annotations

import logging
from typing import Any

from fastapi import Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.requests import ClientDisconnect
from starlette.types import Scope

from ioir_kg.errors import IoirError
from ioir_kg.namespaces import PROBLEM_JSON

log = logging.getLogger("ioir_kg.api")


def problem(status: int, title: str, detail: str, errors: list[dict[str, Any]] | None = None) -> JSONResponse:
    """A ``application/problem+json`` response."""
    body: dict[str, Any] = {"type": "about:blank", "title": title, "status": status, "detail": detail}
    if errors:
        body["errors"] = errors
    return JSONResponse(body, status_code=status, media_type=PROBLEM_JSON)


async def ioir_error_handler(request: Request, exc: Exception) -> JSONResponse:
    """Map the :class:`IoirError` hierarchy to HTTP once."""
    assert isinstance(exc, IoirError)
    return problem(exc.status, exc.title, exc.message, exc.errors)


async def http_error_handler(request: Request, exc: Exception) -> JSONResponse:
    """Starlette's own HTTP errors (404 for unknown routes, 405 ...) as problem details."""
    assert isinstance(exc, StarletteHTTPException)
    response = problem(exc.status_code, _title(exc.status_code), str(exc.detail))
    if exc.headers:
        response.headers.update(exc.headers)
    return response


async def validation_error_handler(request: Request, exc: Exception) -> JSONResponse:
    """FastAPI request validation errors (bad query parameters) as 422 problem details."""
    assert isinstance(exc, RequestValidationError)
    errors = [{"location": ".".join(str(p) for p in err["loc"]), "message": err["msg"]} for err in exc.errors()]
    detail = "; ".join(f"{e['location']}: {e['message']}" for e in errors)
    return problem(422, "Invalid parameter", detail, errors)


def log_client_left(scope: Scope) -> None:
    """One line (INFO) for a client that closed the connection before its request body was whole."""
    log.info(
        "%s %s: the client closed the connection before its request body was whole",
        scope.get("method"),
        scope.get("path"),
    )


async def client_disconnect_handler(request: Request, exc: Exception) -> JSONResponse:
    """A client that left in the middle of its upload: a normal end, logged in one line, never a traceback.

    The request is not processed (nothing of a partial body is applied); the answer goes nowhere.
    """
    assert isinstance(exc, ClientDisconnect)
    log_client_left(request.scope)
    return problem(400, "Bad request", "the client closed the connection before its request body was whole")


def _title(status: int) -> str:
    from http import HTTPStatus

    try:
        return HTTPStatus(status).phrase
    except ValueError:
        return "Error"
