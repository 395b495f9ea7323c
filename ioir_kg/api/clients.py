"""Fair shares of the query workers and the validator: at most ``IOIR_MAX_QUERIES_PER_CLIENT`` requests in flight per
client address (ASGI middleware).

A client is its address: the TCP peer, or, when the peer is one of ``IOIR_TRUSTED_PROXIES``, the address the proxies
put in ``X-Forwarded-For`` — read from the right, skipping the trusted proxies, so that whatever the client itself
wrote into the header (the left part) is never believed. Without trusted proxies the header is ignored.

The requests counted are those that run a query or a validation: ``/sparql`` with a query or a ``POST``,
``/queries/{name}``, Graph Store reads, ``/dump.nq`` and ``POST /validate``; a client that already has its share
running gets ``429`` with ``Retry-After`` (problem details) at once, without waiting for a worker, while other
clients are served. Pages, Linked Data documents and static files are not counted.

>>> trusted = parse_networks(["10.0.0.1"])
>>> scope = {"client": ("10.0.0.1", 5000), "headers": [(b"x-forwarded-for", b"6.6.6.6, 203.0.113.7")]}
>>> client_address(scope, trusted), client_address(scope, ())
('203.0.113.7', '10.0.0.1')
"""

from __future__ import annotations

import ipaddress
import logging
from collections.abc import Iterable, Sequence
from urllib.parse import parse_qsl

from starlette.types import ASGIApp, Receive, Scope, Send

from ioir_kg.api.problems import problem
from ioir_kg.config import Settings
from ioir_kg.sparql.workers import default_pool_size

log = logging.getLogger("ioir_kg.clients")

Network = ipaddress.IPv4Network | ipaddress.IPv6Network
#: Seconds a refused client is asked to wait (queries usually take well under a second).
RETRY_AFTER_SECONDS = 1


def parse_networks(values: Iterable[str]) -> tuple[Network, ...]:
    """``IOIR_TRUSTED_PROXIES`` as networks (an address is a network of one)."""
    return tuple(ipaddress.ip_network(value.strip(), strict=False) for value in values if value.strip())


def _trusted(address: str, trusted: Sequence[Network]) -> bool:
    try:
        ip = ipaddress.ip_address(address)
    except ValueError:
        return False
    return any(ip in network for network in trusted)


def client_address(scope: Scope, trusted: Sequence[Network]) -> str:
    """The client's address: the peer's, or the last untrusted hop of ``X-Forwarded-For`` behind trusted proxies."""
    client = scope.get("client")
    peer = str(client[0]) if client else "unknown"
    if not trusted or not _trusted(peer, trusted):
        return peer
    headers: list[tuple[bytes, bytes]] = scope.get("headers", [])
    hops = [
        hop.strip()
        for name, value in headers
        if name == b"x-forwarded-for"
        for hop in value.decode("latin-1").split(",")
    ]
    current: str = peer
    for hop in reversed(hops):
        try:
            ipaddress.ip_address(hop)
        except ValueError:
            return current  # a hop that is not an address: stop at the last one a trusted proxy vouched for
        current = hop
        if not _trusted(hop, trusted):
            return hop
    return current


def counted(scope: Scope) -> bool:
    """Whether a request runs a query or a validation (see the module docstring)."""
    method, path = str(scope.get("method", "")), str(scope.get("path", ""))
    if path == "/sparql":
        if method == "POST":
            return True
        query = scope.get("query_string", b"").decode("latin-1")
        return method == "GET" and any(key == "query" for key, _ in parse_qsl(query, keep_blank_values=True))
    if path.startswith("/queries/"):
        return method == "GET" and path.count("/") == 2
    if path in ("/rdf-graph-store", "/dump.nq"):
        return method == "GET"
    return path == "/validate" and method == "POST"


def queries_per_client(settings: Settings) -> int:
    """``IOIR_MAX_QUERIES_PER_CLIENT``, or half the query workers (at least 1) when it is 0.

    >>> queries_per_client(Settings(query_workers=4)), queries_per_client(Settings(query_workers=1))
    (2, 1)
    """
    if settings.max_queries_per_client:
        return settings.max_queries_per_client
    return max(1, (settings.query_workers or default_pool_size()) // 2)


class ClientLimitMiddleware:
    """Refuses (``429``) a counted request from a client that already has ``limit`` of them in flight."""

    def __init__(self, app: ASGIApp, *, settings: Settings) -> None:
        self.app = app
        self.limit = queries_per_client(settings)
        self.trusted = parse_networks(settings.trusted_proxies)
        self.in_flight: dict[str, int] = {}

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Count the request for its client while it runs (its answer streamed to the end), or refuse it."""
        if scope["type"] != "http" or not counted(scope):
            await self.app(scope, receive, send)
            return
        client = client_address(scope, self.trusted)
        running = self.in_flight.get(client, 0)
        if running >= self.limit:
            log.info("429 for %s: %d queries already running", client, running)
            refusal = problem(
                429,
                "Too many requests",
                f"this client already has {running} queries or validations running; at most {self.limit} run at"
                " once per client (IOIR_MAX_QUERIES_PER_CLIENT): wait for one to finish, then retry",
                [{"limit": "IOIR_MAX_QUERIES_PER_CLIENT", "value": self.limit}],
            )
            refusal.headers["Retry-After"] = str(RETRY_AFTER_SECONDS)
            await refusal(scope, receive, send)
            return
        self.in_flight[client] = running + 1
        try:
            await self.app(scope, receive, send)
        finally:
            left = self.in_flight[client] - 1
            if left:
                self.in_flight[client] = left
            else:
                del self.in_flight[client]
