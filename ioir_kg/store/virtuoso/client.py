"""What :class:`~ioir_kg.store.virtuoso.store.RemoteSparqlStore` writes for the server, and how it reads its answers.

* **Writes.** :func:`insert_data` builds one ``INSERT DATA`` with a ``GRAPH`` block per :data:`BLOCK_TRIPLES`
  triples (Virtuoso's parser fails at ~4,900 per block). On Virtuoso it starts with :data:`VIRTUOSO_INSERT_PRAGMA`:
  when ``MaxQueryCostEstimationTime`` is set — Debian's ``virtuoso.ini`` sets 400 — the ``/sparql`` endpoints
  prepend ``define sql:big-data-const 0`` to every request, which compiles each triple of an ``INSERT DATA`` into
  SQL text, and a request of more than ~1,400 triples fails with ``SP031 … generated SQL text has exceeded 10000
  lines``. ``sql:big-data-const 1`` (the later ``define`` wins) hands the triples over as one data constant: any
  request size works, and one request stays one atomic operation. Other servers get plain SPARQL 1.1.
* **Requests.** :class:`SparqlHttp` sends them: reads are retried a few times when no answer came (and on
  HTTP 502/503/504), writes never; a server that cannot be reached raises :class:`StoreUnavailable`.
* **Answers.** :func:`checked` maps an HTTP answer to the app's errors: Virtuoso's partial "Anytime" answers
  (``X-SQL-State: S1TAT`` or HTTP 206) and its timeouts raise :class:`QueryTimeout`, refused credentials and
  permissions :class:`StoreUnavailable`, refused SPARQL :class:`BadQuery`.

>>> print(insert_data({"http://g": []}, pragma=True))
DEFINE sql:big-data-const 1
INSERT DATA {
}
>>> is_virtuoso("Virtuoso/07.20.3229 (Linux) x86_64-pc-linux-gnu"), is_virtuoso("oxigraph/0.5")
(True, False)
"""

from __future__ import annotations

import re
import time
from collections.abc import Mapping, Sequence

import httpx
from pyoxigraph import RdfFormat, Triple, serialize

from ioir_kg.config import RemoteAuth
from ioir_kg.errors import BadQuery, QueryTimeout, StoreUnavailable

#: Triples per ``GRAPH`` block of an ``INSERT DATA`` (Virtuoso's parser fails at ~4,900 per block).
BLOCK_TRIPLES = 1000
#: Virtuoso's pragma that passes the triples of an ``INSERT DATA`` as one constant (see the module docstring).
VIRTUOSO_INSERT_PRAGMA = "DEFINE sql:big-data-const 1"

_VIRTUOSO_ERROR = re.compile(r"Virtuoso (?P<state>\w{5}) Error (?P<code>[\w:]+)")
_TIMEOUT_STATES = ("S1TAT", "S1T00", "HYT00", "HYT01")
#: Answers from a read worth trying again (the server was busy, restarting or behind a proxy).
_RETRY_STATUS = frozenset({502, 503, 504})


def is_virtuoso(server_header: str) -> bool:
    """Whether an HTTP ``Server`` header names Virtuoso."""
    return server_header.lower().startswith("virtuoso/")


def insert_data(groups: Mapping[str, Sequence[Triple]], *, pragma: bool) -> str:
    """One ``INSERT DATA`` with a ``GRAPH`` block per :data:`BLOCK_TRIPLES` triples of each graph; ``pragma``:
    preceded by :data:`VIRTUOSO_INSERT_PRAGMA`."""
    parts = [VIRTUOSO_INSERT_PRAGMA] if pragma else []
    parts.append("INSERT DATA {")
    for graph, triples in groups.items():
        for start in range(0, len(triples), BLOCK_TRIPLES):
            body = serialize(triples[start : start + BLOCK_TRIPLES], format=RdfFormat.N_TRIPLES) or b""
            parts.append(f"GRAPH <{graph}> {{\n{body.decode('utf-8')}}}")
    parts.append("}")
    return "\n".join(parts)


def message(response: httpx.Response) -> str:
    """The server's error message: its first lines, without the echoed query."""
    text = response.text.split("\nSPARQL query:", 1)[0].strip()
    return " ".join(text.split())[:500] or f"HTTP {response.status_code}"


def checked(response: httpx.Response) -> httpx.Response:
    """``response`` if it carries a complete answer; otherwise the matching :class:`~ioir_kg.errors.IoirError`."""
    state = response.headers.get("x-sql-state", "")
    if response.status_code == 206 or state in _TIMEOUT_STATES:
        raise QueryTimeout("the query ran past its time limit on the remote SPARQL store and was stopped")
    status = response.status_code
    if status < 400:
        return response
    text = message(response)
    if status in (401, 403):
        raise StoreUnavailable(
            f"the remote SPARQL store refused our credentials (HTTP {status}): check IOIR_REMOTE_USER, "
            "IOIR_REMOTE_PASSWORD and IOIR_REMOTE_AUTH"
        )
    match = _VIRTUOSO_ERROR.search(text)
    sql_state, code = (match["state"], match["code"]) if match else ("", "")
    lowered = text.lower()
    if sql_state in _TIMEOUT_STATES or "timed out" in lowered or "estimated execution time" in lowered:
        raise QueryTimeout(f"the remote SPARQL store stopped the query: {text}")
    if code.startswith("SR186") or "permission" in lowered:
        raise StoreUnavailable(
            f"the remote SPARQL store refused the operation (grant SPARQL_SELECT and SPARQL_UPDATE): {text}"
        )
    if sql_state == "40001":
        raise StoreUnavailable(f"the remote SPARQL store hit a deadlock; retry: {text}")
    if status < 500 or sql_state[:2] in ("37", "42", "22", "21", "23"):
        raise BadQuery(f"the remote SPARQL store refused the request: {text}")
    raise StoreUnavailable(f"the remote SPARQL store failed (HTTP {status}): {text}")


class SparqlHttp:
    """The connection pool to the server, and the one place that sends a request (see the module docstring)."""

    def __init__(
        self,
        *,
        user: str | None,
        password: str | None,
        auth: RemoteAuth,
        query_timeout: float,
        update_timeout: float,
        connect_timeout: float,
        retries: int,
        transport: httpx.BaseTransport | None,
    ) -> None:
        self.retries = retries
        self.update_timeout = update_timeout
        self._read_auth = _auth(auth, user, password)
        self._write_auth = _auth(auth, user, password)
        self._client = httpx.Client(
            timeout=httpx.Timeout(query_timeout + 5.0, connect=connect_timeout),
            limits=httpx.Limits(max_connections=32, max_keepalive_connections=16, keepalive_expiry=5.0),
            transport=transport,
            headers={"User-Agent": "ioir-kg"},
        )
        #: Whether the server is Virtuoso (its ``Server`` header; ``None`` until it has answered once).
        self.virtuoso: bool | None = None

    def close(self) -> None:
        """Close the connection pool."""
        self._client.close()

    def send(
        self,
        method: str,
        url: str,
        *,
        accept: str,
        read: bool,
        data: list[tuple[str, str]] | None = None,
        params: dict[str, str] | None = None,
        body: bytes | None = None,
    ) -> httpx.Response:
        attempts = 1 + (self.retries if read else 0)
        timeout = httpx.USE_CLIENT_DEFAULT if read else self.update_timeout
        auth = self._read_auth if read else self._write_auth
        for attempt in range(attempts):
            last = attempt == attempts - 1
            try:
                response = self._client.request(
                    method,
                    url,
                    data=_form(data) if data is not None else None,
                    content=body,
                    params=params,
                    headers={"Accept": accept} if body is None else {"Accept": accept, "Content-Type": "text/turtle"},
                    auth=auth if auth is not None else httpx.USE_CLIENT_DEFAULT,
                    timeout=timeout,
                )
            except httpx.ConnectTimeout:
                if last:
                    message = f"the remote SPARQL store at {public_url(url)} does not accept connections"
                    raise StoreUnavailable(message) from None
            except httpx.TimeoutException:
                what = "query" if read else "update"
                raise QueryTimeout(f"the remote SPARQL store did not answer the {what} in time") from None
            except httpx.TransportError as exc:  # writes have one attempt: never sent twice
                if last:
                    raise StoreUnavailable(
                        f"the remote SPARQL store at {public_url(url)} cannot be reached: {type(exc).__name__}"
                    ) from None
            else:
                if read and response.status_code in _RETRY_STATUS and not last:
                    response.close()
                else:
                    if self.virtuoso is None:
                        self.virtuoso = is_virtuoso(response.headers.get("server", ""))
                    return checked(response)
            time.sleep(min(2.0, 0.2 * 2**attempt))
        raise StoreUnavailable(f"the remote SPARQL store at {public_url(url)} cannot be reached")  # pragma: no cover


# -- module helpers ----------------------------------------------------------------------------------------


def _auth(kind: RemoteAuth, user: str | None, password: str | None) -> httpx.Auth | None:
    if kind is RemoteAuth.NONE or user is None:
        return None
    if kind is RemoteAuth.BASIC:
        return httpx.BasicAuth(user, password or "")
    return httpx.DigestAuth(user, password or "")


def _form(pairs: list[tuple[str, str]]) -> dict[str, list[str]]:
    form: dict[str, list[str]] = {}
    for key, value in pairs:
        form.setdefault(key, []).append(value)
    return form


def public_url(url: str) -> str:
    """The URL without user information (never show credentials)."""
    return str(httpx.URL(url).copy_with(username=None, password=None))


__all__ = [
    "BLOCK_TRIPLES",
    "VIRTUOSO_INSERT_PRAGMA",
    "SparqlHttp",
    "checked",
    "insert_data",
    "is_virtuoso",
    "public_url",
]
