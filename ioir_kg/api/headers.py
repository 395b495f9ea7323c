"""Security headers on every response (ASGI middleware).

* Every response: ``X-Content-Type-Options: nosniff``, so that no browser reads Turtle, JSON or a problem
  document as HTML, whatever a label in it contains.
* HTML pages: a ``Content-Security-Policy`` that allows scripts from this server only (no inline script, no
  ``eval``, nothing from another host), ``X-Frame-Options``, ``Referrer-Policy``. A page that sets its own policy
  (the site's pages, :mod:`ioir_kg.web.pages`) keeps it; this one is the floor for every other HTML answer
  (the ontology's documentation, validation reports, error pages).
* Other answers (data, problem details): ``Content-Security-Policy: default-src 'none'; frame-ancestors 'none'``,
  so a document opened directly in a browser can run and load nothing.
* The OpenAPI pages (``/docs``, ``/redoc``) are FastAPI's: they load Swagger UI / ReDoc from their CDN and run one
  inline script, which is allowed by its SHA-256 hash, computed from the page FastAPI generated (it holds no
  request data), so no other inline script could run there either.
"""

from __future__ import annotations

import base64
import hashlib
import re
from collections.abc import Iterable, Mapping

from fastapi import FastAPI
from starlette.datastructures import MutableHeaders
from starlette.types import ASGIApp, Message, Receive, Scope, Send

#: The floor for HTML answers: this server's scripts only; inline styles allowed (pyLODE's pages use them).
PAGE_POLICY = (
    "default-src 'none'; script-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; "
    "font-src 'self'; connect-src 'self'; form-action 'self'; frame-ancestors 'self'; base-uri 'none'"
)
#: Data and problem documents: nothing may run or load.
DATA_POLICY = "default-src 'none'; frame-ancestors 'none'"
#: The OpenAPI pages; ``{hashes}`` are those of the page's own inline scripts.
DOCS_POLICY = (
    "default-src 'none'; script-src 'self' https://cdn.jsdelivr.net {hashes}; "
    "style-src 'self' 'unsafe-inline' https://cdn.jsdelivr.net https://fonts.googleapis.com; "
    "font-src https://fonts.gstatic.com; img-src 'self' data: https://fastapi.tiangolo.com https://cdn.jsdelivr.net; "
    "connect-src 'self'; worker-src 'self' blob:; frame-ancestors 'self'; base-uri 'none'"
)
#: Set on every response.
COMMON_HEADERS: Mapping[str, str] = {"X-Content-Type-Options": "nosniff"}
#: Set on HTML answers (unless already set).
HTML_FLOOR_HEADERS: Mapping[str, str] = {
    "Content-Security-Policy": PAGE_POLICY,
    "X-Frame-Options": "SAMEORIGIN",
    "Referrer-Policy": "same-origin",
}
_HTML_TYPES = ("text/html", "application/xhtml+xml", "image/svg+xml")
_INLINE_SCRIPT = re.compile(rb"<script(?![^>]*\bsrc=)[^>]*>(.*?)</script>", re.DOTALL | re.IGNORECASE)


def is_page(content_type: str) -> bool:
    """Whether a response's content type is a document a browser renders with scripts (HTML, XHTML, SVG).

    >>> is_page("text/html; charset=utf-8"), is_page("application/problem+json")
    (True, False)
    """
    return content_type.split(";")[0].strip().lower() in _HTML_TYPES


def script_hashes(html: bytes) -> list[str]:
    """CSP sources (``'sha256-…'``) for the inline scripts of a page.

    >>> script_hashes(b"<script src='/a.js'></script><script>go()</script>")
    ["'sha256-5KYv+PUboo5h+0+YAtGRPbwv5d/QxzHslP4YGnUaxRw='"]
    """
    digests = (hashlib.sha256(match.group(1)).digest() for match in _INLINE_SCRIPT.finditer(html))
    return [f"'sha256-{base64.b64encode(digest).decode('ascii')}'" for digest in digests]


class SecurityHeadersMiddleware:
    """Adds the security headers described in the module's documentation."""

    def __init__(self, app: ASGIApp, *, docs_paths: Iterable[str] = ()) -> None:
        self.app = app
        self.docs_paths = frozenset(docs_paths)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Pass the request on; add the headers to the response's start."""
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        if scope.get("path", "") in self.docs_paths:
            await self._docs(scope, receive, send)
            return

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = MutableHeaders(scope=message)
                for name, value in COMMON_HEADERS.items():
                    headers.setdefault(name, value)
                if is_page(headers.get("content-type", "")):
                    for name, value in HTML_FLOOR_HEADERS.items():
                        headers.setdefault(name, value)
                else:
                    headers.setdefault("Content-Security-Policy", DATA_POLICY)
            await send(message)

        await self.app(scope, receive, send_with_headers)

    async def _docs(self, scope: Scope, receive: Receive, send: Send) -> None:
        """The OpenAPI pages are small and generated whole: read them, then allow their own inline scripts."""
        start: Message | None = None
        body = bytearray()

        async def collect(message: Message) -> None:
            nonlocal start
            if message["type"] == "http.response.start":
                start = message
                return
            if message["type"] == "http.response.body" and start is not None:
                body.extend(message.get("body", b""))
                if message.get("more_body", False):
                    return
                headers = MutableHeaders(scope=start)
                for name, value in COMMON_HEADERS.items():
                    headers.setdefault(name, value)
                if is_page(headers.get("content-type", "")):
                    policy = DOCS_POLICY.format(hashes=" ".join(script_hashes(bytes(body))))
                    headers.setdefault("Content-Security-Policy", policy)
                    headers.setdefault("X-Frame-Options", "SAMEORIGIN")
                    headers.setdefault("Referrer-Policy", "same-origin")
                else:
                    headers.setdefault("Content-Security-Policy", DATA_POLICY)
                await send(start)
                await send({"type": "http.response.body", "body": bytes(body), "more_body": False})
                return
            await send(message)

        await self.app(scope, receive, collect)


def install(app: FastAPI) -> None:
    """Register the security headers on ``app`` (outside every other middleware of its own, so errors get them)."""
    docs = [path for path in (app.docs_url, app.redoc_url) if path]
    app.add_middleware(SecurityHeadersMiddleware, docs_paths=docs)
