"""Limits on what a request may carry and a response may grow to, for every route (ASGI middleware).

:class:`RequestLimitsMiddleware` runs before any route sees a request:

* request headers over ``IOIR_MAX_HEADER_BYTES`` → ``431``; a path outside printable ASCII, or a query parameter
  with control characters (NUL …) or a query string that is not UTF-8 → ``400``;
* a body over ``IOIR_MAX_BODY_BYTES`` → ``413``: at once when ``Content-Length`` says so, else as soon as the
  bytes read pass the limit (chunked uploads), whatever the route;
* SPARQL text on ``/sparql`` (``?query=``, a form's ``query``/``update``, an ``application/sparql-query`` or
  ``-update`` body): :func:`ioir_kg.sparql.guard.check_sparql`: a query, or an update's text outside its data
  blocks, over ``IOIR_MAX_QUERY_CHARS`` characters → ``413``; brackets nested deeper than ``IOIR_MAX_QUERY_DEPTH``
  → ``400``. pyoxigraph's SPARQL parser recurses on nesting and on long operator chains and overflows the stack
  (SIGSEGV) at a few thousand levels, so the nesting is refused before it parses, and :func:`raise_stack_limits`
  gives the threads and query workers room for the longest chain that many characters can hold;
* XML bodies (RDF/XML, wherever it is accepted): a DTD may declare internal entities as abbreviations (as ontology
  editors write them), but external and parameter entities, entities that refer to other entities, and
  declarations whose expansion would pass ``IOIR_MAX_BODY_BYTES`` are refused with ``400`` before any parser runs,
  and so is XML that is not well-formed (pyoxigraph would keep the triples of a document cut off in the middle).
  pyoxigraph's RDF/XML parser expands internal entities without bound: a 1 KiB "billion laughs" body becomes a
  3 GB string after minutes of CPU.

:class:`ResponseLimitMiddleware` caps a response at ``IOIR_MAX_RESPONSE_BYTES`` (the N-Quads dumps excepted): a
larger body announced by ``Content-Length`` is replaced by a ``422``; a streamed one (its size unknown when it
starts, marked with an ``IOIR-Response-Limit`` header) is cut off by closing the connection before its end, so a
client never mistakes a truncated document for a whole one.

Every refusal is ``application/problem+json`` with a message naming the limit and its setting.
"""

from __future__ import annotations

import logging
import re
import resource
import threading
from collections.abc import Callable, Iterable
from typing import Any
from urllib.parse import parse_qs, parse_qsl
from xml.parsers import expat

from fastapi import FastAPI
from starlette.datastructures import Headers, MutableHeaders, QueryParams
from starlette.requests import ClientDisconnect
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from ioir_kg.api.endpoint import media_type_of
from ioir_kg.api.problems import log_client_left, problem
from ioir_kg.config import Settings
from ioir_kg.errors import (
    BadInput,
    BadRdf,
    IoirError,
    PayloadTooLarge,
    RequestHeadersTooLarge,
    ResponseTooLarge,
)
from ioir_kg.sparql.guard import check_sparql
from ioir_kg.sparql.protocol import FORM, SPARQL_QUERY, SPARQL_UPDATE

log = logging.getLogger("ioir_kg.limits")

#: Paths that speak the SPARQL 1.1 Protocol (their query and update texts are checked).
SPARQL_PATHS = frozenset({"/sparql"})
#: Whole-store exports, exempt from the response cap (their size is the store's, not a query's).
UNCAPPED_PATHS = frozenset({"/dump.nq", "/rdf-graph-store"})
#: The header that tells a streamed response's client the cap it runs under.
RESPONSE_LIMIT_HEADER = "IOIR-Response-Limit"
#: Stack for threads and query workers: pyoxigraph's parser needs about 1 KiB per level of a chain.
STACK_BYTES_PER_QUERY_CHAR = 3 * 1024
MIN_STACK_BYTES = 64 * 1024 * 1024
MAX_STACK_BYTES = 1024 * 1024 * 1024

_BODY_METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})
_ENTITY = re.compile(rb"<!ENTITY", re.IGNORECASE)
#: The one entity declaration accepted: ``<!ENTITY name "value">`` whose value refers to nothing.
_SAFE_ENTITY = re.compile(rb'<!ENTITY\s+([A-Za-z_][A-Za-z0-9_.\-]*)\s+"([^"&%<]*)"\s*>')
#: A request path this API can answer: printable ASCII (every route and entity slug is); anything else would be
#: reflected into ``Link`` and ``Location`` headers, which cannot carry control characters or non-Latin-1 text.
_PATH = re.compile(r"[\x20-\x7e]*")
#: Control characters no parameter of this API carries (tab, line feed and carriage return are allowed: queries).
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")


# -- the checks ---------------------------------------------------------------------------------------------------


def check_xml_entities(body: bytes, limit: int) -> None:
    """Refuse an XML body whose DTD could make a parser fetch something or expand past ``limit`` bytes.

    Accepted: internal entities whose value is plain text (``<!ENTITY owl "http://www.w3.org/2002/07/owl#">``),
    as long as every reference to them, expanded, stays within ``limit`` bytes. Refused (:class:`BadRdf`): external
    (``SYSTEM``/``PUBLIC``) and parameter (``%``) entities, values that refer to other entities, and anything else
    that declares an entity.

    >>> check_xml_entities(b'<!DOCTYPE r [<!ENTITY ex "http://ex/">]><r a="&ex;s"/>', 100)
    >>> check_xml_entities(b'<!DOCTYPE r [<!ENTITY a "aaaa"><!ENTITY b "&a;&a;">]><r>&b;</r>', 100)
    Traceback (most recent call last):
    ioir_kg.errors.BadRdf: the XML body declares an entity this server does not expand: only internal entities \
whose value is plain text are accepted (no SYSTEM, PUBLIC, parameter or nested entities)
    """
    if _ENTITY.search(body) is None:
        return
    values: dict[bytes, int] = {}
    for found in _ENTITY.finditer(body):
        match = _SAFE_ENTITY.match(body, found.start())
        if match is None:
            raise BadRdf(
                "the XML body declares an entity this server does not expand: only internal entities whose value"
                " is plain text are accepted (no SYSTEM, PUBLIC, parameter or nested entities)",
                errors=[{"rule": "xml-entities"}],
            )
        values[match.group(1)] = len(match.group(2))
    expanded = sum(body.count(b"&" + name + b";") * size for name, size in values.items())
    if expanded > limit:
        raise BadRdf(
            f"the XML body's entities would expand to {expanded} bytes; at most {limit} are allowed"
            " (IOIR_MAX_BODY_BYTES)",
            errors=[{"rule": "xml-entities", "limit": limit}],
        )


def check_xml_well_formed(body: bytes) -> None:
    """Refuse (:class:`BadRdf`) an XML body that is not well-formed: pyoxigraph's RDF/XML parser accepts a document
    cut off in the middle (unclosed elements) and keeps the triples before the cut.

    Run after :func:`check_xml_entities`: expat then expands only small internal entities and fetches nothing.

    >>> check_xml_well_formed(b"<a><b/></a>")
    >>> check_xml_well_formed(b"<a><b>")
    Traceback (most recent call last):
    ioir_kg.errors.BadRdf: the XML body is not well-formed: no element found: line 1, column 6
    """
    parser = expat.ParserCreate()
    try:
        parser.Parse(body, True)
    except expat.ExpatError as exc:
        raise BadRdf(f"the XML body is not well-formed: {exc}", errors=[{"rule": "xml-well-formed"}]) from None


def is_xml(media_type: str) -> bool:
    """Whether a media type is XML (``application/rdf+xml``, ``text/xml``, any ``+xml``).

    >>> is_xml("application/rdf+xml"), is_xml("text/xml"), is_xml("text/turtle")
    (True, True, False)
    """
    return media_type in ("application/xml", "text/xml") or media_type.endswith("+xml")


def _sparql_texts(media_type: str, charset: str, body: bytes) -> Iterable[tuple[str, bool]]:
    """The ``(text, is_update)`` pairs a ``POST /sparql`` body carries (none when it cannot be decoded: the
    endpoint then answers with its own 400)."""
    try:
        if media_type == FORM:
            form = parse_qs(body.decode("ascii"), keep_blank_values=True, max_num_fields=1000)
            return [(v, False) for v in form.get("query", [])] + [(v, True) for v in form.get("update", [])]
        if media_type in (SPARQL_QUERY, SPARQL_UPDATE):
            return [(body.decode(charset), media_type == SPARQL_UPDATE)]
    except (LookupError, UnicodeDecodeError, ValueError):
        return []
    return []


# -- the middleware -----------------------------------------------------------------------------------------------


class RequestLimitsMiddleware:
    """Refuses requests over the header, body, query and XML-entity limits before a route runs."""

    def __init__(self, app: ASGIApp, *, settings: Settings) -> None:
        self.app = app
        self.settings = settings

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Check the request; answer the problem, or pass it on with its body read at most up to the limit."""
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        try:
            receive = await self._check(scope, receive)
        except ClientDisconnect:  # the client left before the body was whole: nothing to answer, nothing to apply
            log_client_left(scope)
            return
        except IoirError as exc:
            response = problem(exc.status, exc.title, exc.message, exc.errors)
            if isinstance(exc, PayloadTooLarge):
                response.headers["Connection"] = "close"
            await response(scope, receive, send)
            return
        await self.app(scope, receive, send)

    async def _check(self, scope: Scope, receive: Receive) -> Receive:
        settings = self.settings
        raw: list[tuple[bytes, bytes]] = scope.get("headers", [])
        size = sum(len(name) + len(value) + 4 for name, value in raw)
        if size > settings.max_header_bytes:
            raise RequestHeadersTooLarge(
                f"the request headers take {size} bytes; at most {settings.max_header_bytes} are read"
                " (IOIR_MAX_HEADER_BYTES)"
            )
        _check_url(scope)
        headers = Headers(scope=scope)
        limit = settings.max_body_bytes
        declared = headers.get("content-length", "").strip()
        if declared.isdigit() and int(declared) > limit:
            raise _too_large(limit)
        sparql = scope.get("path", "") in SPARQL_PATHS
        if sparql:
            for value in QueryParams(scope.get("query_string", b"")).getlist("query"):
                check_sparql(value, settings, update=False)
        media_type, charset = media_type_of(headers)
        if scope.get("method") not in _BODY_METHODS:
            return _counting(receive, limit)
        inspect_sparql = sparql and media_type in (FORM, SPARQL_QUERY, SPARQL_UPDATE)
        if not (inspect_sparql or is_xml(media_type)):
            return _counting(receive, limit)
        body = await _read_body(receive, limit)
        if inspect_sparql:
            for text, update in _sparql_texts(media_type, charset, body):
                check_sparql(text, settings, update=update)
        if is_xml(media_type):
            check_xml_entities(body, limit)
            check_xml_well_formed(body)
        return _replay(body, receive)


def _check_url(scope: Scope) -> None:
    """Refuse (400) a decoded path outside printable ASCII, a query string that is not UTF-8, or a query parameter
    holding control characters."""
    if not _PATH.fullmatch(scope.get("path", "")):
        raise BadInput(
            "the request path holds control or non-ASCII characters; every path of this API is printable ASCII",
            errors=[{"rule": "path"}],
        )
    query = scope.get("query_string", b"").decode("latin-1")
    try:
        parse_qsl(query, keep_blank_values=True, encoding="utf-8", errors="strict")
    except UnicodeDecodeError:
        raise BadInput(
            "the URL's query string is not UTF-8: percent-encode the UTF-8 bytes of each character",
            errors=[{"rule": "encoding"}],
        ) from None
    for key, value in QueryParams(query).multi_items():
        if _CONTROL.search(key) or _CONTROL.search(value):
            raise BadInput(
                f"the query parameter {key[:40]!r} holds control characters (such as NUL)",
                errors=[{"rule": "control-characters"}],
            )


def _too_large(limit: int) -> PayloadTooLarge:
    return PayloadTooLarge(
        f"the request body is larger than {limit} bytes (IOIR_MAX_BODY_BYTES)",
        errors=[{"limit": "IOIR_MAX_BODY_BYTES", "value": limit}],
    )


async def _read_body(receive: Receive, limit: int) -> bytes:
    """The whole body; :class:`ClientDisconnect` if the client leaves first (a partial body is never passed on)."""
    body = bytearray()
    while True:
        message = await receive()
        if message["type"] == "http.disconnect":
            raise ClientDisconnect
        if message["type"] != "http.request":
            break
        body += message.get("body", b"")
        if len(body) > limit:
            raise _too_large(limit)
        if not message.get("more_body", False):
            break
    return bytes(body)


def _replay(body: bytes, receive: Receive) -> Receive:
    sent = False

    async def replay() -> Message:
        nonlocal sent
        if not sent:
            sent = True
            return {"type": "http.request", "body": body, "more_body": False}
        return await receive()

    return replay


def _counting(receive: Receive, limit: int) -> Receive:
    """``receive`` that raises :class:`PayloadTooLarge` (mapped to 413 by the app) once the body passes ``limit``."""
    seen = 0

    async def counting() -> Message:
        nonlocal seen
        message = await receive()
        if message["type"] == "http.request":
            seen += len(message.get("body", b""))
            if seen > limit:
                raise _too_large(limit)
        return message

    return counting


class _ResponseCut(Exception):
    """Raised through the app when a streamed response passes the cap (the connection is then closed)."""


class ResponseLimitMiddleware:
    """Caps the bytes of a response body at ``max_bytes`` (see the module's documentation)."""

    def __init__(self, app: ASGIApp, *, max_bytes: int, exempt: frozenset[str] = UNCAPPED_PATHS) -> None:
        self.app = app
        self.max_bytes = max_bytes
        self.exempt = exempt

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Pass the response through while it stays under the cap."""
        if scope["type"] != "http" or not self.max_bytes or scope.get("path", "") in self.exempt:
            await self.app(scope, receive, send)
            return
        cap = self.max_bytes
        sent = 0
        replaced = False

        async def guarded(message: Message) -> None:
            nonlocal sent, replaced
            if replaced:
                return
            if message["type"] == "http.response.start":
                headers = MutableHeaders(scope=message)
                length = headers.get("content-length", "")
                if length.isdigit() and int(length) > cap:
                    replaced = True
                    exc = ResponseTooLarge(
                        f"the answer takes {length} bytes; at most {cap} are sent (IOIR_MAX_RESPONSE_BYTES):"
                        " ask for less, e.g. with LIMIT or fewer variables"
                    )
                    refusal = problem(exc.status, exc.title, exc.message)
                    await refusal(scope, receive, send)
                    return
                if not length:
                    headers[RESPONSE_LIMIT_HEADER] = str(cap)
            elif message["type"] == "http.response.body":
                sent += len(message.get("body", b""))
                if sent > cap:
                    log.warning(
                        "%s %s: response cut off after %d bytes (IOIR_MAX_RESPONSE_BYTES=%d)",
                        scope.get("method"),
                        scope.get("path"),
                        sent,
                        cap,
                    )
                    raise _ResponseCut
            await send(message)

        try:
            await self.app(scope, receive, guarded)
        except* _ResponseCut:
            pass  # the body is left unfinished: the server closes the connection


# -- process-wide room for the parsers ------------------------------------------------------------------------------


def stack_bytes_for(settings: Settings) -> int:
    """The stack a thread or query worker needs to parse any query within ``IOIR_MAX_QUERY_CHARS``.

    >>> stack_bytes_for(Settings()) // 2**20
    292
    """
    wanted = settings.max_query_chars * STACK_BYTES_PER_QUERY_CHAR
    return max(MIN_STACK_BYTES, min(MAX_STACK_BYTES, wanted))


def raise_stack_limits(stack_bytes: int) -> None:
    """Give threads started from now on, and processes started from now on (the query workers' fork server),
    ``stack_bytes`` of stack: the default 8 MiB overflows on a query of ~9,000 chained operators (SIGSEGV).

    Address space only: pages are committed as a parse uses them. Never lowers a limit already higher.
    """
    try:
        if threading.stack_size() < stack_bytes:
            threading.stack_size(stack_bytes)
    except (ValueError, RuntimeError) as exc:  # pragma: no cover - platform without settable thread stacks
        log.warning("cannot set the thread stack size: %s", exc)
    soft, hard = resource.getrlimit(resource.RLIMIT_STACK)
    if soft != resource.RLIM_INFINITY and soft < stack_bytes:
        target = stack_bytes if hard == resource.RLIM_INFINITY else min(stack_bytes, hard)
        try:
            resource.setrlimit(resource.RLIMIT_STACK, (target, hard))
        except (ValueError, OSError) as exc:  # pragma: no cover - a hard limit set by the operator
            log.warning("cannot raise the stack limit to %d bytes: %s", target, exc)


# -- the OpenAPI description of errors ------------------------------------------------------------------------------

#: RFC 9457 problem details, as every error response carries them.
PROBLEM_SCHEMA: dict[str, Any] = {
    "type": "object",
    "title": "Problem",
    "required": ["type", "title", "status", "detail"],
    "properties": {
        "type": {"type": "string"},
        "title": {"type": "string"},
        "status": {"type": "integer"},
        "detail": {"type": "string"},
        "errors": {"type": "array", "items": {"type": "object"}},
    },
}
_ERROR_CONTENT: dict[str, Any] = {
    "application/problem+json": {"schema": {"$ref": "#/components/schemas/Problem"}},
    "text/html": {"schema": {"type": "string"}},
}


def document_errors(app: FastAPI) -> None:
    """Describe the error responses as they are: problem details (or a page for browsers) for every status.

    FastAPI documents ``422`` as its own ``HTTPValidationError`` JSON, which this app never sends; every
    operation gets a ``default`` response instead, and its ``422`` is described as problem details.
    """
    generate: Callable[[], dict[str, Any]] = app.openapi

    def openapi() -> dict[str, Any]:
        schema = generate()
        if schema.get("x-ioir-errors"):
            return schema
        schema.setdefault("components", {}).setdefault("schemas", {})["Problem"] = PROBLEM_SCHEMA
        for item in schema.get("paths", {}).values():
            for operation in item.values():
                if not isinstance(operation, dict) or "responses" not in operation:
                    continue
                responses = operation["responses"]
                for code, response in responses.items():
                    if code.startswith(("4", "5")) and not response.get("content"):
                        response["content"] = _ERROR_CONTENT
                if "422" in responses:
                    responses["422"] = {"description": "Invalid parameter", "content": _ERROR_CONTENT}
                responses.setdefault(
                    "default",
                    {
                        "description": "An error, as RFC 9457 problem details (a page for browsers)",
                        "content": _ERROR_CONTENT,
                    },
                )
        schema["x-ioir-errors"] = True
        return schema

    app.openapi = openapi  # type: ignore[method-assign]


def install(app: FastAPI, settings: Settings) -> None:
    """Register the request and response limits on ``app`` and document its errors."""
    raise_stack_limits(stack_bytes_for(settings))
    app.add_middleware(ResponseLimitMiddleware, max_bytes=settings.max_response_bytes)
    app.add_middleware(RequestLimitsMiddleware, settings=settings)
    document_errors(app)
