"""The server sends no request for a client, and untrusted RDF expands nothing.

A canary HTTP server on 127.0.0.1 records every connection: ``LOAD``, ``SERVICE`` to endpoints not on the allowlist,
JSON-LD remote contexts and XML external entities all point at it, and it must see nothing. RDF/XML with a
"billion laughs" DTD or an external entity is refused at once wherever RDF/XML could arrive (Graph Store ``PUT`` and
``POST``, ``/validate``, ``/assertions``), and writes nothing.
"""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field

import pytest

from tests.reliability.payloads import TURTLE
from tests.reliability.server import ADMIN, CONTRIBUTOR_AUTH, Server


@dataclass
class Canary:
    """A listener that answers every request with a small Turtle document and counts the connections."""

    sock: socket.socket
    hits: list[bytes] = field(default_factory=list)

    @property
    def url(self) -> str:
        """Its base URL."""
        return f"http://127.0.0.1:{self.sock.getsockname()[1]}/"

    def serve(self) -> None:
        """Accept and answer until the socket closes."""
        while True:
            try:
                conn, _ = self.sock.accept()
            except OSError:
                return
            with conn:
                conn.settimeout(2)
                try:
                    self.hits.append(conn.recv(4096))
                    body = b"<https://example.org/leak> <https://example.org/p> <https://example.org/o> .\n"
                    conn.sendall(
                        b"HTTP/1.1 200 OK\r\nContent-Type: text/turtle\r\nContent-Length: %d\r\n\r\n" % len(body)
                    )
                    conn.sendall(body)
                except OSError:
                    pass


@pytest.fixture(scope="module")
def canary() -> Iterator[Canary]:
    """The canary listener, for the whole module (each test checks it saw nothing new)."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.bind(("127.0.0.1", 0))
    sock.listen(16)
    spy = Canary(sock)
    thread = threading.Thread(target=spy.serve, daemon=True)
    thread.start()
    yield spy
    sock.close()


def _quiet(canary: Canary) -> None:
    time.sleep(0.3)
    assert canary.hits == [], canary.hits


def _problem(status: int, text: str, expected: tuple[int, ...]) -> None:
    assert status in expected, (status, text)


def outbound_queries(url: str) -> dict[str, str]:
    """Queries that would make the server call ``url``."""
    return {
        "service": f"SELECT * WHERE {{ SERVICE <{url}sparql> {{ ?s ?p ?o }} }}",
        "service-silent": f"SELECT * WHERE {{ SERVICE SILENT <{url}sparql> {{ ?s ?p ?o }} }}",
        "service-prefixed": f"PREFIX c: <{url}> SELECT * WHERE {{ SERVICE c:sparql {{ ?s ?p ?o }} }}",
        "service-relative": f"BASE <{url}> SELECT * WHERE {{ SERVICE <sparql> {{ ?s ?p ?o }} }}",
        "service-variable": f"SELECT * WHERE {{ BIND(<{url}sparql> AS ?e) SERVICE ?e {{ ?s ?p ?o }} }}",
        "service-nested": (
            f"SELECT * WHERE {{ OPTIONAL {{ {{ SELECT * WHERE {{ SERVICE <{url}x> {{ ?s ?p ?o }} }} }} }} }}"
        ),
        "service-escaped": f"SELECT * WHERE {{ SERVICE <{url}\\u0073parql> {{ ?s ?p ?o }} }}",
    }


@pytest.mark.parametrize("name", list(outbound_queries("http://x/")))
def test_service_outside_the_allowlist_is_refused_without_a_request(
    shared_server: Server, canary: Canary, name: str
) -> None:
    query = outbound_queries(canary.url)[name]
    with shared_server.client() as client:
        response = client.get("/sparql", params={"query": query})
        assert response.status_code == 400, response.text
        assert "SERVICE" in response.json()["detail"]
        update = f"INSERT {{ <urn:s> <urn:p> ?o }} WHERE {query.partition('WHERE')[2]}"
        if name not in ("service-prefixed", "service-relative"):
            refused = client.post(
                "/sparql", content=update, headers={"Content-Type": "application/sparql-update", **ADMIN}
            )
            assert refused.status_code == 400, refused.text
    _quiet(canary)


@pytest.mark.parametrize("form", ["LOAD <{url}data.ttl>", "LOAD SILENT <{url}data.ttl> INTO GRAPH <urn:g>"])
def test_load_is_refused_without_a_request(shared_server: Server, canary: Canary, form: str) -> None:
    update = form.format(url=canary.url)
    with shared_server.client() as client:
        response = client.post(
            "/sparql", content=update, headers={"Content-Type": "application/sparql-update", **ADMIN}
        )
        assert response.status_code == 400, response.text
        assert "LOAD" in response.json()["detail"]
        assert (
            client.get("/sparql", params={"query": "ASK { <https://example.org/leak> ?p ?o }"}).json()["boolean"]
            is False
        )
    _quiet(canary)


def test_json_ld_remote_contexts_are_never_fetched(shared_server: Server, canary: Canary) -> None:
    body = f'{{"@context": "{canary.url}context.jsonld", "@id": "https://w3id.org/ioir/id/org/x", "name": "x"}}'
    imported = f'{{"@context": {{"@import": "{canary.url}i.jsonld"}}, "@id": "https://w3id.org/ioir/id/org/x"}}'
    jsonld = {"Content-Type": "application/ld+json"}
    with shared_server.client() as client:
        for text in (body, imported):
            for method, path, headers in (
                ("POST", "/validate", jsonld),
                ("POST", "/assertions", {**jsonld, **CONTRIBUTOR_AUTH}),
                ("PUT", "/rdf-graph-store?graph=https://example.org/ctx", {**jsonld, **ADMIN}),
            ):
                response = client.request(method, path, content=text, headers=headers)
                assert response.status_code == 400, (path, response.text)
                assert "context" in response.json()["detail"].lower(), response.text
    _quiet(canary)


RDF_XML = {"Content-Type": "application/rdf+xml"}
HEADER = '<?xml version="1.0"?>\n'
BODY = (
    '<rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#" xmlns:ex="https://example.org/">'
    '<rdf:Description rdf:about="https://example.org/s"><ex:p>{value}</ex:p></rdf:Description></rdf:RDF>'
)
LAUGHS = "".join(f'<!ENTITY lol{i} "{f"&lol{i - 1};" * 10}">' for i in range(1, 10))


def billion_laughs() -> str:
    """The classic: nine levels of ten references, 10^9 copies of "lol" (3 GB) from under 1 KiB."""
    return HEADER + f'<!DOCTYPE rdf:RDF [<!ENTITY lol0 "lol">{LAUGHS}]>' + BODY.format(value="&lol9;")


XML_ATTACKS = {
    "billion-laughs": billion_laughs(),
    "external-file": HEADER
    + '<!DOCTYPE rdf:RDF [<!ENTITY xxe SYSTEM "file:///etc/passwd">]>'
    + BODY.format(value="&xxe;"),
    "external-http": HEADER + '<!DOCTYPE rdf:RDF [<!ENTITY xxe SYSTEM "{url}entity">]>' + BODY.format(value="&xxe;"),
    "external-public": HEADER
    + '<!DOCTYPE rdf:RDF [<!ENTITY xxe PUBLIC "-//x//y" "{url}public">]>'
    + BODY.format(value="&xxe;"),
    "parameter-entity": HEADER
    + '<!DOCTYPE rdf:RDF [<!ENTITY % remote SYSTEM "{url}dtd"> %remote;]>'
    + BODY.format(value="v"),
    "quadratic-blowup": HEADER
    + f'<!DOCTYPE rdf:RDF [<!ENTITY big "{"x" * 50_000}">]>'
    + BODY.format(value="&big;" * 2000),
}
#: Where RDF/XML may arrive, as (method, path, headers).
XML_TARGETS = (
    ("PUT", "/rdf-graph-store?graph=https://example.org/xml", ADMIN),
    ("POST", "/rdf-graph-store?graph=https://example.org/xml", ADMIN),
    ("PUT", "/rdf-graph-store?default", ADMIN),
    ("POST", "/validate", {}),
    ("POST", "/assertions", CONTRIBUTOR_AUTH),
)


@pytest.mark.parametrize("attack", list(XML_ATTACKS))
@pytest.mark.parametrize("media_type", ["application/rdf+xml", "application/xml", "text/xml"])
def test_xml_entity_attacks_are_refused_fast_and_write_nothing(
    shared_server: Server, canary: Canary, attack: str, media_type: str
) -> None:
    body = XML_ATTACKS[attack].replace("{url}", canary.url)
    with shared_server.client(timeout=30) as client:
        before = client.get("/health").json()["triples"]
        for method, path, headers in XML_TARGETS:
            started = time.monotonic()
            response = client.request(method, path, content=body, headers={"Content-Type": media_type, **headers})
            assert time.monotonic() - started < 5, (attack, path)
            assert response.status_code in (400, 413, 415), (attack, path, response.status_code, response.text)
            assert response.json()["detail"]
        assert client.get("/health").json()["triples"] == before
        leaked = client.get("/sparql", params={"query": 'ASK { ?s ?p ?o FILTER(CONTAINS(STR(?o), "root:")) }'})
        assert leaked.json()["boolean"] is False
    _quiet(canary)


def test_rdf_xml_with_internal_abbreviations_is_still_accepted(shared_server: Server) -> None:
    """Ontology editors declare namespaces as entities: that stays possible (and expands as it should)."""
    body = (
        HEADER
        + '<!DOCTYPE rdf:RDF [<!ENTITY ex "https://example.org/"> <!ENTITY rdf "http://www.w3.org/1999/02/22-rdf-syntax-ns#">]>'
        + '<rdf:RDF xmlns:rdf="&rdf;" xmlns:ex="&ex;"><rdf:Description rdf:about="&ex;abbrev">'
        + "<ex:p>text</ex:p></rdf:Description></rdf:RDF>"
    )
    graph = "https://example.org/abbreviations"
    with shared_server.client() as client:
        put = client.put(f"/rdf-graph-store?graph={graph}", content=body, headers={**RDF_XML, **ADMIN})
        assert put.status_code in (201, 204), put.text
        ask = f'ASK {{ GRAPH <{graph}> {{ <https://example.org/abbrev> <https://example.org/p> "text" }} }}'
        assert client.get("/sparql", params={"query": ask}).json()["boolean"] is True
        assert client.delete(f"/rdf-graph-store?graph={graph}", headers=ADMIN).status_code == 204


def test_turtle_bodies_cannot_smuggle_xml(shared_server: Server) -> None:
    """An XML bomb sent as Turtle is just bad Turtle: 400 at once, nothing expanded."""
    with shared_server.client() as client:
        started = time.monotonic()
        response = client.post("/validate", content=billion_laughs(), headers=TURTLE)
        assert response.status_code == 400
        assert time.monotonic() - started < 5
