"""One error hierarchy for the whole package.

Each error carries its HTTP status and CLI exit code, so the API maps it once
(``api.app``) and the CLI maps it once (``cli``): 2 for bad input, 1 for a
non-conformant result, 3 for the store or the environment.
"""

from __future__ import annotations

from typing import Any, ClassVar


class IoirError(Exception):
    """Base class: a user-facing error with a one-line message."""

    status: ClassVar[int] = 500
    exit_code: ClassVar[int] = 3
    title: ClassVar[str] = "Internal error"

    def __init__(self, message: str, *, errors: list[dict[str, Any]] | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.errors = errors or []


class BadInput(IoirError):
    """The request or the command line is wrong; nothing was changed."""

    status = 400
    exit_code = 2
    title = "Bad request"


class BadQuery(BadInput):
    """A SPARQL query or update that does not parse or is not allowed."""

    title = "Bad SPARQL query"


class BadRdf(BadInput):
    """RDF that does not parse (the message names the file or body and the line)."""

    title = "Bad RDF"


class BadSetting(BadInput):
    """A configuration value that is invalid or unsafe."""

    title = "Bad setting"


class Unauthorized(BadInput):
    """A write without a valid bearer token."""

    status = 401
    title = "Unauthorized"


class Forbidden(BadInput):
    """The operation is not allowed on this server (e.g. writes with no admin token set)."""

    status = 403
    title = "Forbidden"


class ResourceNotFound(BadInput):
    """An entity, graph, query or file that does not exist."""

    status = 404
    title = "Not found"


class NotAcceptable(BadInput):
    """No representation matches the ``Accept`` header."""

    status = 406
    title = "Not acceptable"


class PayloadTooLarge(BadInput):
    """The request body exceeds ``IOIR_MAX_BODY_BYTES``."""

    status = 413
    title = "Payload too large"


class UnsupportedMediaType(BadInput):
    """The request body has a media type the route does not accept."""

    status = 415
    title = "Unsupported media type"


class Conflict(BadInput):
    """The request conflicts with the current state (e.g. retracting an assertion others build on)."""

    status = 409
    title = "Conflict"


class RequestHeadersTooLarge(BadInput):
    """The request headers exceed ``IOIR_MAX_HEADER_BYTES``."""

    status = 431
    title = "Request header fields too large"


class ResponseTooLarge(BadInput):
    """The answer would exceed ``IOIR_MAX_RESPONSE_BYTES``: ask for less (``LIMIT``, fewer columns)."""

    status = 422
    title = "Response too large"


class BadParameter(BadInput):
    """A missing or ill-typed parameter."""

    status = 422
    title = "Invalid parameter"


class AssertionRejected(IoirError):
    """Submitted triples do not conform to the shapes or the ontology."""

    status = 422
    exit_code = 1
    title = "Assertion rejected"


class QueryTimeout(IoirError):
    """A query ran past its time limit and was stopped."""

    status = 503
    exit_code = 3
    title = "Query timeout"


class StoreUnavailable(IoirError):
    """The store cannot be opened or reached."""

    status = 503
    exit_code = 3
    title = "Store unavailable"
