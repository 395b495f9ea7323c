"""A deadline on what each client sends: uvicorn's HTTP protocol with ``IOIR_CLIENT_TIMEOUT``.

uvicorn has no timeout on an incomplete request: a client that sends half its headers, or its headers and part of
a body, then nothing, holds its connection (a file descriptor, a task waiting on ``receive()``) for ever, and the
keep-alive timer is cancelled by any byte, so one byte every few seconds keeps a connection too. A few thousand of
them exhaust the process's descriptors and nobody else can connect.

:class:`ClientTimeoutProtocol` is uvicorn's ``httptools`` protocol with one timer per connection:

* it starts when the connection opens and again at the first byte of each request (or of anything sent between
  requests) and stops when the request, headers and body, has arrived;
* when it fires the connection is closed; a request still arriving gets ``408`` (problem details,
  ``Connection: close``) first, unless it has been answered already (a refusal before its body was read) or an
  earlier answer is still being sent;
* a request that has arrived while its answer is computed is never cut (a long query is the query timeout's
  business), nor is a client the server has stopped reading (flow control while the app is busy): the timer then
  starts again.

Idle keep-alive connections stay under uvicorn's own ``timeout_keep_alive`` (5 s by default). ``ioir-kg serve`` uses
this protocol; to run uvicorn yourself, pass ``--http ioir_kg.api.connections:ClientTimeoutProtocol`` (and
``--no-proxy-headers``: :mod:`ioir_kg.api.clients` reads ``X-Forwarded-For`` from ``IOIR_TRUSTED_PROXIES`` only).
"""

from __future__ import annotations

import asyncio
import json
import logging
from typing import Any, ClassVar

from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol

from ioir_kg.config import Settings, get_settings

log = logging.getLogger("ioir_kg.connections")

#: The import string of the protocol, for ``uvicorn --http``.
PROTOCOL = "ioir_kg.api.connections:ClientTimeoutProtocol"


def timeout_response(seconds: float) -> bytes:
    """The ``408`` sent to a client whose request did not arrive in time (problem details, then the connection
    closes).

    >>> timeout_response(30).split(b"\\r\\n")[0]
    b'HTTP/1.1 408 Request Timeout'
    """
    detail = (
        f"the request did not arrive within {seconds:g} s (IOIR_CLIENT_TIMEOUT): send the headers and the body"
        " without pausing; the connection is closed"
    )
    body = json.dumps({"type": "about:blank", "title": "Request Timeout", "status": 408, "detail": detail}).encode()
    head = (
        "HTTP/1.1 408 Request Timeout\r\n"
        "content-type: application/problem+json\r\n"
        f"content-length: {len(body)}\r\n"
        "connection: close\r\n"
        "x-content-type-options: nosniff\r\n"
        "\r\n"
    )
    return head.encode("ascii") + body


class ClientTimeoutProtocol(HttpToolsProtocol):
    """uvicorn's ``httptools`` protocol with a deadline on each incoming request (see the module docstring)."""

    #: Seconds a request may take to arrive; ``None``: ``IOIR_CLIENT_TIMEOUT``, read at the first connection.
    client_timeout: ClassVar[float | None] = None

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        cls = type(self)
        if cls.client_timeout is None:
            cls.client_timeout = get_settings().client_timeout
        self._seconds: float = cls.client_timeout
        self._deadline: asyncio.TimerHandle | None = None
        self._receiving = False  # from the first byte of a request to its last
        self._headers_done = False

    @classmethod
    def configured(cls, settings: Settings) -> type[ClientTimeoutProtocol]:
        """The protocol with ``settings.client_timeout`` (for ``uvicorn.run(http=…)``)."""
        return type(cls.__name__, (cls,), {"client_timeout": settings.client_timeout})

    # -- the timer ----------------------------------------------------------------------------------------------
    def _arm(self) -> None:
        if self._deadline is None:
            self._deadline = self.loop.call_later(self._seconds, self._expired)

    def _disarm(self) -> None:
        if self._deadline is not None:
            self._deadline.cancel()
            self._deadline = None

    def _expired(self) -> None:
        self._deadline = None
        if self.transport is None or self.transport.is_closing():
            return
        cycle = self.cycle
        answering = cycle is not None and not cycle.response_complete
        if not self._receiving and answering:
            return  # a whole request is being answered: what follows it waits (keep-alive applies after)
        if self.flow is not None and self.flow.read_paused:
            self._arm()  # the server stopped reading (the app is busy): not the client's delay
            return
        if self._receiving:
            what = "body" if self._headers_done else "headers"
            client = f"{self.client[0]}:{self.client[1]}" if self.client else "a client"
            log.info("closing the connection of %s: the request %s did not arrive in %g s", client, what, self._seconds)
            # 408 only if this request has had no answer (the app may answer before reading a body: a 401) and no
            # earlier one is still being sent (pipelining)
            unanswered = not cycle.response_started if self._headers_done and cycle is not None else not answering
            if unanswered:
                self.transport.write(timeout_response(self._seconds))
        self.transport.close()

    # -- uvicorn's hooks ----------------------------------------------------------------------------------------
    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        """The first request must arrive within the timeout too."""
        super().connection_made(transport)
        self._arm()

    def connection_lost(self, exc: Exception | None) -> None:
        """Stop the timer."""
        self._disarm()
        super().connection_lost(exc)

    def data_received(self, data: bytes) -> None:
        """Any byte starts the timer (stray bytes between requests included); then parse as uvicorn does."""
        self._arm()
        super().data_received(data)

    def on_message_begin(self) -> None:
        """A request starts."""
        super().on_message_begin()
        self._receiving, self._headers_done = True, False
        self._arm()

    def on_headers_complete(self) -> None:
        """Its headers have arrived (the body's time runs on)."""
        self._headers_done = True
        super().on_headers_complete()

    def on_message_complete(self) -> None:
        """The whole request has arrived."""
        self._receiving = False
        self._disarm()
        super().on_message_complete()
