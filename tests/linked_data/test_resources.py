"""``GET /id/{kind}/{slug}`` through the real app: negotiation, headers, pages, 404 and 406."""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Iterator
from pathlib import Path

import httpx
import pytest
from fastapi.testclient import TestClient
from pyoxigraph import Literal, NamedNode, Quad, RdfFormat, Triple, parse

from ioir_kg.api.app import create_app
from ioir_kg.config import Settings
from ioir_kg.namespaces import MAX_SLUG_CHARS, PREFIXES
from ioir_kg.store import open_store
from tests.linked_data.conftest import Server
from tests.linked_data.pages import entry, read_page

NATO = "https://w3id.org/ioir/id/org/nato"
SKOS, OWL, IOIR = PREFIXES["skos"], PREFIXES["owl"], PREFIXES["ioir"]
RDF_TYPES = {
    "text/turtle": RdfFormat.TURTLE,
    "application/ld+json": RdfFormat.JSON_LD,
    "application/n-triples": RdfFormat.N_TRIPLES,
    "application/rdf+xml": RdfFormat.RDF_XML,
}
ALL_TYPES = [*RDF_TYPES, "text/html"]
BROWSER = "text/html,application/xhtml+xml,application/xml;q=0.9,image/avif,image/webp,*/*;q=0.8"


def link_header(value: str) -> dict[str, str]:
    """``type → URL`` of the ``rel="alternate"`` entries of a ``Link`` header."""
    found: dict[str, str] = {}
    for url, params in re.findall(r"<([^>]*)>((?:\s*;\s*[^;,]+)*)", value):
        attrs = dict(re.findall(r'(\w+)="([^"]*)"', params))
        if attrs.get("rel") == "alternate":
            found[attrs["type"]] = url
    return found


def triples(response: httpx.Response) -> set[Triple]:
    """The response body parsed in the format its Content-Type names."""
    media_type = response.headers["content-type"].split(";")[0]
    return {q.triple for q in parse(response.content, format=RDF_TYPES[media_type], base_iri="http://testserver/")}


def test_every_rdf_format_describes_the_entity_with_vary_and_link(client: TestClient) -> None:
    seen: dict[str, set[Triple]] = {}
    for media_type in RDF_TYPES:
        response = client.get("/id/org/nato", headers={"Accept": media_type})
        assert response.status_code == 200
        assert response.headers["content-type"].split(";")[0] == media_type
        assert response.headers["vary"] == "Accept"
        assert set(link_header(response.headers["link"])) == set(ALL_TYPES)
        seen[media_type] = triples(response)
    reference = seen["application/n-triples"]
    for media_type, parsed in seen.items():
        assert parsed == reference, f"{media_type} says something else than N-Triples"
    nato = NamedNode(NATO)
    assert Triple(
        nato, NamedNode(SKOS + "prefLabel"), Literal("North Atlantic Treaty Organization", language="en")
    ) in (reference)
    assert Triple(nato, NamedNode(OWL + "sameAs"), NamedNode("http://www.wikidata.org/entity/Q7184")) in reference
    assert Triple(nato, NamedNode(PREFIXES["rdf"] + "type"), NamedNode(IOIR + "InternationalOrganization")) in reference
    # incoming links, neighbour labels, property labels and evidence with quote and source are part of it
    eu_launched = [t for t in reference if t.predicate == NamedNode(IOIR + "launchedBy") and t.object == nato]
    assert eu_launched, "missions launched by NATO"
    assert Triple(
        NamedNode(IOIR + "launchedBy"), NamedNode(PREFIXES["rdfs"] + "label"), Literal("launched by", language="en")
    ) in (reference)
    evidence = {t.object for t in reference if t.subject == nato and t.predicate == NamedNode(IOIR + "evidence")}
    quoted = {t.subject for t in reference if t.predicate == NamedNode(PREFIXES["prov"] + "value")}
    sourced = {t.subject for t in reference if t.predicate == NamedNode(PREFIXES["dcterms"] + "source")}
    assert evidence
    assert evidence <= quoted
    assert evidence <= sourced


def test_no_accept_or_anything_gets_turtle(client: TestClient) -> None:
    for headers in ({}, {"Accept": "*/*"}):
        response = client.get("/id/org/nato", headers=headers)
        assert response.status_code == 200
        assert response.headers["content-type"] == "text/turtle; charset=utf-8"
        assert response.text.startswith("@prefix")


@pytest.mark.parametrize(
    ("accept", "expected"),
    [
        (BROWSER, "text/html"),
        ("text/turtle;q=0.5, application/rdf+xml", "application/rdf+xml"),
        ("application/json", "application/ld+json"),
        ("application/*;q=0.9, text/turtle;q=0.1", "application/ld+json"),
        ("text/*", "text/turtle"),
        ("application/n-triples, text/html;q=0", "application/n-triples"),
    ],
)
def test_accept_q_values_and_wildcards(client: TestClient, accept: str, expected: str) -> None:
    response = client.get("/id/org/nato", headers={"Accept": accept})
    assert response.status_code == 200
    assert response.headers["content-type"].split(";")[0] == expected


@pytest.mark.parametrize(
    ("override", "expected"),
    [
        ("text/turtle", "text/turtle"),
        ("application%2Fld%2Bjson", "application/ld+json"),
        ("application/ld+json", "application/ld+json"),  # a raw '+' arrives as a space
        ("application/n-triples", "application/n-triples"),
        ("application/rdf%2Bxml", "application/rdf+xml"),
        ("ttl", "text/turtle"),
        ("jsonld", "application/ld+json"),
        ("text/html", "text/html"),
    ],
)
def test_mediatype_parameter_overrides_accept(client: TestClient, override: str, expected: str) -> None:
    accept = "application/rdf+xml" if expected == "text/html" else BROWSER
    response = client.get(f"/id/org/nato?_mediatype={override}", headers={"Accept": accept})
    assert response.status_code == 200
    assert response.headers["content-type"].split(";")[0] == expected
    assert response.headers["vary"] == "Accept"


def test_link_alternates_resolve_to_their_formats(client: TestClient) -> None:
    links = link_header(client.get("/id/mission/eupm").headers["link"])
    for media_type, url in links.items():
        assert url.startswith("/id/mission/eupm?_mediatype=")
        response = client.get(url, headers={"Accept": "image/png"})  # the parameter wins over Accept
        assert response.status_code == 200, url
        assert response.headers["content-type"].split(";")[0] == media_type


def test_json_ld_has_a_compact_context(client: TestClient) -> None:
    response = client.get("/id/org/nato", headers={"Accept": "application/ld+json"})
    document = json.loads(response.text)
    assert document["@context"]["skos"] == SKOS
    assert document["@context"]["ioir"] == IOIR
    assert all(isinstance(v, str) for v in document["@context"].values())
    nato = document["@graph"][0]
    assert nato["@id"] == NATO
    assert nato["@type"] == "ioir:InternationalOrganization"
    assert nato["owl:sameAs"] == {"@id": "http://www.wikidata.org/entity/Q7184"}
    assert nato["skos:prefLabel"] == {"@language": "en", "@value": "North Atlantic Treaty Organization"}
    assert not any(key.startswith("http") for node in document["@graph"] for key in node)


def test_head_answers_headers_only(client: TestClient) -> None:
    response = client.head("/id/org/nato", headers={"Accept": "application/ld+json"})
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("application/ld+json")
    assert response.headers["vary"] == "Accept"
    assert "application/rdf+xml" in link_header(response.headers["link"])
    assert response.content == b""


@pytest.mark.parametrize("path", ["/id/org/no-such-org", "/id/unknownkind/nato", "/id/org/NATO", "/id/org/a--b"])
def test_unknown_entity_is_404_problem_json(client: TestClient, path: str) -> None:
    response = client.get(path, headers={"Accept": "text/turtle"})
    assert response.status_code == 404
    assert response.headers["content-type"] == "application/problem+json"
    assert response.headers["vary"] == "Accept"
    body = response.json()
    assert body["status"] == 404
    assert body["title"] == "Not found"
    assert "no entity" in body["detail"]


def test_unknown_entity_is_404_page_for_browsers(client: TestClient) -> None:
    response = client.get("/id/org/no-such-org", headers={"Accept": BROWSER})
    assert response.status_code == 404
    assert response.headers["content-type"] == "text/html; charset=utf-8"
    page = read_page(response.text)
    assert page.h1 == "Not found"
    assert "https://w3id.org/ioir/id/org/no-such-org" in response.text
    assert ("/ontology", "Ontology") in page.links  # the site's navigation


#: Paths whose decoded slug would close the ``<…>`` of a ``Link`` entry and add parameters or entries of its own
#: (no ``/`` in them: a slug with one is another route).
INJECTIONS = [
    "/id/org/a%3E;%20rel=%22preload%22;%20as=%22script%22,%20%3Cevil.js%3E;%20rel=%22preload%22",
    "/id/org/a%3E,%3Chttps:evil.example%3E;rel=%22stylesheet%22",
    "/id/org/nato%22%20x=%22y",
    "/id/org/a%25%3E%25",
]


@pytest.mark.parametrize("path", INJECTIONS)
@pytest.mark.parametrize("accept", ["text/turtle", BROWSER])
def test_the_path_cannot_add_anything_to_the_link_header(embedded_client: TestClient, path: str, accept: str) -> None:
    response = embedded_client.get(path, headers={"Accept": accept})
    assert response.status_code == 404
    link = response.headers["link"]
    entries = re.findall(r'<([^<>"\s]*)>; rel="alternate"; type="([^"]+)"', link)
    assert ", ".join(f'<{url}>; rel="alternate"; type="{kind}"' for url, kind in entries) == link
    assert [kind for _, kind in entries] == ALL_TYPES
    assert all(url.startswith("/id/org/") for url, _ in entries)
    assert 'rel="preload"' not in link
    assert 'rel="stylesheet"' not in link


def test_the_link_header_keeps_the_path_it_was_asked_for_percent_encoded(embedded_client: TestClient) -> None:
    response = embedded_client.get("/id/org/a%3E%20b", headers={"Accept": "text/turtle"})
    assert link_header(response.headers["link"])["text/turtle"] == "/id/org/a%3E%20b?_mediatype=text/turtle"
    nato = embedded_client.get("/id/org/nato", headers={"Accept": "text/turtle"})
    assert link_header(nato.headers["link"])["text/turtle"] == "/id/org/nato?_mediatype=text/turtle"


@pytest.mark.parametrize("accept", ["text/turtle", BROWSER])
def test_a_slug_longer_than_any_entity_may_have_is_a_short_404(embedded_client: TestClient, accept: str) -> None:
    slug = "a" * 60_000
    response = embedded_client.get(f"/id/org/{slug}", headers={"Accept": accept})
    assert response.status_code == 404
    assert "link" not in response.headers
    header_bytes = sum(len(k) + len(v) for k, v in response.headers.items())
    assert header_bytes < 2000
    assert len(response.content) < 20_000
    assert slug[:300] not in response.text
    assert f"{MAX_SLUG_CHARS} characters" in response.text
    at_limit = embedded_client.get(f"/id/org/{'a' * MAX_SLUG_CHARS}", headers={"Accept": "text/turtle"})
    assert at_limit.status_code == 404
    assert "no entity" in at_limit.json()["detail"]
    assert set(link_header(at_limit.headers["link"])) == set(ALL_TYPES)


@pytest.mark.parametrize(
    ("url", "headers"),
    [
        ("/id/org/nato", {"Accept": "image/png"}),
        ("/id/org/nato", {"Accept": "application/sparql-results+json, text/html;q=0"}),
        ("/id/org/nato?_mediatype=text/csv", {}),
    ],
)
def test_unsupported_type_is_406_listing_the_offers(client: TestClient, url: str, headers: dict[str, str]) -> None:
    response = client.get(url, headers=headers)
    assert response.status_code == 406
    assert response.headers["content-type"] == "application/problem+json"
    assert response.headers["vary"] == "Accept"
    assert set(link_header(response.headers["link"])) == set(ALL_TYPES)
    offered = {error["media_type"] for error in response.json()["errors"]}
    assert offered == set(ALL_TYPES)


def test_html_page_shows_labels_types_grouped_properties_and_links(client: TestClient) -> None:
    response = client.get("/id/mission/eupm", headers={"Accept": BROWSER})
    assert response.status_code == 200
    assert response.headers["content-type"] == "text/html; charset=utf-8"
    page = read_page(response.text)
    assert page.h1 == "European Union Police Mission in Bosnia and Herzegovina"
    assert page.title == "European Union Police Mission in Bosnia and Herzegovina · ioir-kg"
    assert ("/ontology#PoliceMission", "police mission") in page.links  # types, by label, to their anchor
    launched = entry(page, "properties", "launched by")
    assert launched.term_href == "/ontology#launchedBy"
    assert launched.values == ["European Union"]
    assert launched.hrefs == ["/id/org/eu"]
    assert entry(page, "properties", "start date").values == ["2003-01 (xsd:gYearMonth)"]
    assert entry(page, "properties", "deployed in").hrefs == ["/id/place/bosnia-and-herzegovina"]
    incoming = entry(page, "incoming", "post in")  # relations pointing here, grouped by property label
    assert "EU Police Commissioner, head of EUPM" in incoming.values
    assert "/id/post/eupm-police-commissioner" in incoming.hrefs
    # alternates in <head> and as links
    assert {t for t, _ in page.alternates} == set(RDF_TYPES)
    assert ("/static/site.css") in page.stylesheets
    assert not page.scripts


def test_html_page_shows_evidence_with_quote_and_source(client: TestClient) -> None:
    page = read_page(client.get("/id/mission/eupm", headers={"Accept": BROWSER}).text)
    text = " ".join(page.section_text["evidence"].split())
    assert (
        "the EU Police Mission in Bosnia and Herzegovina (EUPM), which replaced the UN's International Police "
        "Task Force (IPTF) in January 2003"
    ) in text
    assert "section The UN and the EU" in text  # the locator
    assert "001_c76a84e2d7b2a235.txt" in text  # the source file
    source_links = [href for href, label in page.links if href == "/id/source/s001"]
    assert source_links, "the evidence links to its source"


def test_html_page_shows_verified_external_links(client: TestClient) -> None:
    page = read_page(client.get("/id/org/nato", headers={"Accept": BROWSER}).text)
    assert ("http://www.wikidata.org/entity/Q7184", "Wikidata Q7184") in page.links
    assert "verified" in page.section_text["external"]
    assert "owl:sameAs" in page.section_text["external"]
    # unlinked entities have no such section (identifiers are never guessed: ARCHITECTURE.md, "Linked Data")
    kfor = read_page(client.get("/id/mission/kfor", headers={"Accept": BROWSER}).text)
    assert "external" not in kfor.sections


@pytest.fixture
def hostile_client(make_settings: Callable[..., Settings], tmp_path: Path) -> Iterator[TestClient]:
    """An app over a store holding an entity whose label and links try to inject markup and script."""
    settings = make_settings(load_bundled=False, query_workers=1)
    store = open_store(settings)
    evil = NamedNode("https://w3id.org/ioir/id/org/evil")
    store.add_quads(
        Quad(evil, NamedNode(p), o, NamedNode("https://w3id.org/ioir/graph/test"))
        for p, o in [
            (SKOS + "prefLabel", Literal('<script>alert("x")</script> & <b>bold</b>', language="en")),
            (OWL + "sameAs", NamedNode("javascript:alert(1)")),
            (IOIR + "note", Literal('"><img src=x onerror=alert(1)>')),
        ]
    )
    store.close()
    with TestClient(create_app(settings)) as client:
        yield client


def test_html_escapes_everything_and_never_links_unsafe_schemes(hostile_client: TestClient) -> None:
    response = hostile_client.get("/id/org/evil", headers={"Accept": BROWSER})
    assert response.status_code == 200
    body = response.text
    assert "<script>alert" not in body
    assert "&lt;script&gt;alert(&#34;x&#34;)&lt;/script&gt; &amp; &lt;b&gt;bold&lt;/b&gt;" in body
    assert "<img src=x" not in body
    assert 'href="javascript:' not in body
    assert "javascript:alert(1)" in body  # shown as text, not as a link


def test_union_default_graph_off_still_dereferences(make_settings: Callable[..., Settings]) -> None:
    settings = make_settings(union_default_graph=False, query_workers=1)
    with TestClient(create_app(settings)) as client:
        response = client.get("/id/org/nato", headers={"Accept": "application/n-triples"})
        assert response.status_code == 200
        assert '"North Atlantic Treaty Organization"@en' in response.text
        assert client.get("/id/org/no-such-org").status_code == 404


# -- real HTTP: every entity IRI under the configured base dereferences on this server ---------------------


def entity_iris(server: Server) -> list[str]:
    """Every subject under ``{base}id/``, from the server's own SPARQL endpoint."""
    query = f"SELECT DISTINCT ?s WHERE {{ ?s ?p ?o FILTER(STRSTARTS(STR(?s), '{server.url}id/')) }} ORDER BY ?s"
    with server.client() as http:
        response = http.get("/sparql", params={"query": query}, headers={"Accept": "application/sparql-results+json"})
    response.raise_for_status()
    return [b["s"]["value"] for b in response.json()["results"]["bindings"]]


def test_every_entity_iri_dereferences_over_http(live: Server) -> None:
    iris = entity_iris(live)
    kinds = {iri[len(live.url) :].split("/")[1] for iri in iris}
    assert len(iris) > 1000
    assert {"org", "state", "body", "mission", "mandate", "instrument", "dependency", "evidence", "source"} <= kinds
    failures: list[str] = []
    # The IRI itself is the URL: no rewriting. One connection per request: on loopback, a kept-alive
    # connection adds ~40 ms per request (delayed ACK), which would make this walk take a minute.
    with httpx.Client(timeout=60.0, headers={"Connection": "close"}) as http:
        for iri in iris:
            response = http.get(iri, headers={"Accept": "application/n-triples"})
            if response.status_code != 200 or f"<{iri}> " not in response.text:
                failures.append(f"{iri}: {response.status_code}")
    assert not failures, failures[:20]


def test_pages_of_each_kind_render_over_http(live: Server) -> None:
    iris = entity_iris(live)
    first_of_kind: dict[str, str] = {}
    for iri in iris:
        first_of_kind.setdefault(iri[len(live.url) :].split("/")[1], iri)
    with httpx.Client(timeout=60.0) as http:
        for kind, iri in sorted(first_of_kind.items()):
            response = http.get(iri, headers={"Accept": BROWSER})
            assert response.status_code == 200, iri
            assert response.headers["vary"] == "Accept"
            page = read_page(response.text)
            assert page.h1, kind
            # links to other entities stay on this server
            assert all(not href.startswith("https://w3id.org/ioir/id/") for href, _ in page.links)
