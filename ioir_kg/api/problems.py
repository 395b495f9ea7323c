"""RFC 9457 problem details for every error response."""

from __future__ import annotations

from typing import Any

from fastapi import Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException

from ioir_kg.errors import IoirError

PROBLEM_JSON = "application/problem+json"


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


def _title(status: int) -> str:
    from http import HTTPStatus

    try:
        return HTTPStatus(status).phrase
    except ValueError:
        return "Error"
