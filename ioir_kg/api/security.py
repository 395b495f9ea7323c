"""Who may write, and who may read from other origins.

Writes (SPARQL updates, Graph Store ``PUT``/``POST``/``DELETE``) need ``Authorization: Bearer
<IOIR_ADMIN_TOKEN>``, compared in constant time. With no admin token configured every write is refused
(403); with one configured, a missing or wrong token gets 401 and ``WWW-Authenticate: Bearer``.
Reads never need a token. Tokens never appear in logs or error messages.

Assertions (``POST /assertions``) also accept a contributor token from ``IOIR_CONTRIBUTOR_TOKENS``
(``name:token`` pairs); the name becomes the submission's ``prov:wasAttributedTo``.

CORS is granted to the query endpoint (``GET``/``POST /sparql``) and to Graph Store reads only, without
credentials and without the ``Authorization`` header, so no browser page elsewhere can write.
"""

from __future__ import annotations

import hmac
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Annotated

from fastapi import Depends, Request
from fastapi.responses import JSONResponse
from pydantic import SecretStr
from starlette.middleware.cors import CORSMiddleware
from starlette.types import ASGIApp, Receive, Scope, Send

from ioir_kg.api.deps import SettingsDep
from ioir_kg.api.problems import problem
from ioir_kg.config import Settings
from ioir_kg.errors import Forbidden, Unauthorized


def bearer_token(authorization: str | None) -> str | None:
    """The token of an ``Authorization: Bearer <token>`` header, else ``None``.

    >>> bearer_token("Bearer abc"), bearer_token("bearer  abc "), bearer_token("Basic abc"), bearer_token(None)
    ('abc', 'abc', None, None)
    """
    if not authorization:
        return None
    scheme, _, token = authorization.strip().partition(" ")
    token = token.strip()
    if scheme.lower() != "bearer" or not token:
        return None
    return token


def require_admin(settings: Settings, authorization: str | None) -> None:
    """Raise :class:`Forbidden` (no admin token configured) or :class:`Unauthorized` (wrong or missing token)."""
    if settings.admin_token is None:
        raise Forbidden("writes are disabled on this server (no IOIR_ADMIN_TOKEN is configured)")
    token = bearer_token(authorization)
    expected = settings.admin_token.get_secret_value().encode("utf-8")
    if token is None or not hmac.compare_digest(token.encode("utf-8"), expected):
        raise Unauthorized("this operation needs the admin token as 'Authorization: Bearer <token>'")


async def admin(request: Request, settings: SettingsDep) -> None:
    """Dependency: the request carries the admin token."""
    require_admin(settings, request.headers.get("authorization"))


AdminDep = Annotated[None, Depends(admin)]


@dataclass(frozen=True)
class Principal:
    """Who a write is made by: a contributor's name (``admin`` for the admin token) and whether it is the admin."""

    name: str
    admin: bool


def _matches(token: bytes, expected: SecretStr) -> bool:
    return hmac.compare_digest(token, expected.get_secret_value().encode("utf-8"))


def require_contributor(settings: Settings, authorization: str | None) -> Principal:
    """The admin token or one of ``IOIR_CONTRIBUTOR_TOKENS`` as bearer token, else :class:`Unauthorized`.

    :class:`Forbidden` when neither an admin token nor contributor tokens are configured. Every configured token is
    compared (in constant time) so the time taken does not reveal which one came close.

    >>> s = Settings(admin_token="a" * 16, contributor_tokens=["alice:" + "b" * 16])
    >>> require_contributor(s, "Bearer " + "b" * 16), require_contributor(s, "Bearer " + "a" * 16).admin
    (Principal(name='alice', admin=False), True)
    """
    contributors = settings.contributors
    if settings.admin_token is None and not contributors:
        raise Forbidden("submissions are disabled on this server (no IOIR_ADMIN_TOKEN or IOIR_CONTRIBUTOR_TOKENS)")
    token = (bearer_token(authorization) or "").encode("utf-8")
    found: Principal | None = None
    if settings.admin_token is not None and _matches(token, settings.admin_token):
        found = Principal("admin", admin=True)
    for name, expected in contributors.items():
        if _matches(token, expected) and found is None:
            found = Principal(name, admin=False)
    if not token or found is None:
        raise Unauthorized("this operation needs a contributor or the admin token as 'Authorization: Bearer <token>'")
    return found


async def contributor(request: Request, settings: SettingsDep) -> Principal:
    """Dependency: the request carries a contributor token or the admin token."""
    return require_contributor(settings, request.headers.get("authorization"))


ContributorDep = Annotated[Principal, Depends(contributor)]


async def unauthorized_handler(request: Request, exc: Exception) -> JSONResponse:
    """401 as problem details, with the ``WWW-Authenticate`` challenge RFC 9110 requires."""
    assert isinstance(exc, Unauthorized)
    response = problem(exc.status, exc.title, exc.message, exc.errors)
    response.headers["WWW-Authenticate"] = 'Bearer realm="ioir-kg"'
    return response


class PathCorsMiddleware:
    """CORS for some paths only, each with its own methods (the rest of the app is left alone)."""

    def __init__(self, app: ASGIApp, *, origins: Sequence[str], paths: Mapping[str, Sequence[str]]) -> None:
        self.app = app
        self.cors = {
            path: CORSMiddleware(
                app,
                allow_origins=list(origins),
                allow_methods=list(methods),
                allow_headers=["Accept", "Content-Type"],
                expose_headers=["Content-Type", "Vary", "IOIR-Row-Limit", "IOIR-Truncated"],
                allow_credentials=False,
                max_age=600,
            )
            for path, methods in paths.items()
        }

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Route through the CORS handler of the request's path, if it has one."""
        handler = self.cors.get(scope.get("path", "")) if scope["type"] == "http" else None
        await (handler or self.app)(scope, receive, send)


#: The paths that answer cross-origin requests, and the methods they allow.
CORS_PATHS: dict[str, tuple[str, ...]] = {
    "/sparql": ("GET", "POST"),
    "/rdf-graph-store": ("GET", "HEAD"),
}
