"""``SERVICE`` only to ``IOIR_SERVICE_ALLOWLIST``: refused by default, and a real join when allowed.

A second SPARQL server (``oxigraph serve`` on 127.0.0.1) stands in for Wikidata; the bundled
``owl:sameAs`` links join our organizations to its data.
"""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from ioir_kg.api.app import create_app
from ioir_kg.config import Settings
from ioir_kg.errors import BadQuery
from ioir_kg.sparql.federation import check_service, parsed_service_targets
from ioir_kg.sparql.protocol import check_policy, service_targets
from tests.linked_data.conftest import Server

JSON = {"Accept": "application/sparql-results+json"}


def join_query(endpoint: str) -> str:
    """Our organizations, their labels, and their inception dates from the other endpoint."""
    return f"""PREFIX ioir: <https://w3id.org/ioir/ontology#>
PREFIX skos: <http://www.w3.org/2004/02/skos/core#>
PREFIX owl: <http://www.w3.org/2002/07/owl#>
PREFIX wdt: <http://www.wikidata.org/prop/direct/>
SELECT ?org ?label ?inception WHERE {{
  ?org a ioir:InternationalOrganization ; skos:prefLabel ?label ; owl:sameAs ?item .
  SERVICE <{endpoint}> {{ ?item wdt:P571 ?inception }}
}} ORDER BY ?inception"""


def rows(response_json: dict[str, object]) -> list[dict[str, str]]:
    """SPARQL JSON results as plain ``{variable: value}`` rows."""
    bindings = response_json["results"]["bindings"]  # type: ignore[index]
    return [{k: v["value"] for k, v in b.items()} for b in bindings]


@pytest.mark.parametrize("method", ["get", "post"])
def test_service_is_refused_by_default_with_the_reason(client: TestClient, method: str) -> None:
    query = join_query("http://127.0.0.1:9/query")
    if method == "get":
        response = client.get("/sparql", params={"query": query}, headers=JSON)
    else:
        response = client.post("/sparql", data={"query": query}, headers=JSON)
    assert response.status_code == 400
    assert response.headers["content-type"] == "application/problem+json"
    detail = response.json()["detail"]
    assert "SERVICE <http://127.0.0.1:9/query> is not allowed" in detail
    assert "IOIR_SERVICE_ALLOWLIST" in detail
    assert "empty" in detail


def test_cli_query_applies_the_same_policy(tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith("IOIR_")}
    env |= {"IOIR_STORE_PATH": str(tmp_path / "store"), "IOIR_LOAD_BUNDLED": "false"}
    done = subprocess.run(
        [sys.executable, "-m", "ioir_kg", "query", join_query("http://127.0.0.1:9/query")],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 2
    assert "IOIR_SERVICE_ALLOWLIST" in done.stderr


@pytest.fixture(scope="module")
def federated(wikidata: Server, tmp_path_factory: pytest.TempPathFactory) -> Iterator[TestClient]:
    """The app over the bundled data with the stand-in endpoint on its allowlist."""
    settings = Settings(
        store_path=tmp_path_factory.mktemp("federated") / "store",
        service_allowlist=[f"{wikidata.url}query"],
        query_workers=2,
    )
    with TestClient(create_app(settings)) as client:
        yield client


def test_allowlisted_service_joins_through_same_as(federated: TestClient, wikidata: Server) -> None:
    response = federated.get("/sparql", params={"query": join_query(f"{wikidata.url}query")}, headers=JSON)
    assert response.status_code == 200, response.text
    assert rows(response.json()) == [
        {"org": "https://w3id.org/ioir/id/org/un", "label": "United Nations", "inception": "1945-10-24"},
        {
            "org": "https://w3id.org/ioir/id/org/nato",
            "label": "North Atlantic Treaty Organization",
            "inception": "1949-04-04",
        },
        {"org": "https://w3id.org/ioir/id/org/eu", "label": "European Union", "inception": "1993-11-01"},
        {"org": "https://w3id.org/ioir/id/org/au", "label": "African Union", "inception": "2002-07-09"},
    ]


def test_allowlisted_service_with_a_prefixed_name_in_a_subquery(federated: TestClient, wikidata: Server) -> None:
    query = f"""PREFIX wd: <{wikidata.url}>
PREFIX wdt: <http://www.wikidata.org/prop/direct/>
SELECT ?n WHERE {{ {{ SELECT (COUNT(*) AS ?n) WHERE {{ OPTIONAL {{ SERVICE wd:query {{ ?i wdt:P571 ?d }} }} }} }} }}"""
    response = federated.post("/sparql", content=query, headers={**JSON, "Content-Type": "application/sparql-query"})
    assert response.status_code == 200, response.text
    assert rows(response.json()) == [{"n": "5"}]


@pytest.mark.parametrize(
    ("service", "message"),
    [
        ("<http://127.0.0.1:9/sparql>", "SERVICE <http://127.0.0.1:9/sparql> is not allowed"),
        ("?endpoint", "variable endpoint"),
        ("SILENT <http://127.0.0.1:9/sparql>", "SERVICE <http://127.0.0.1:9/sparql> is not allowed"),
    ],
)
def test_unlisted_endpoints_are_refused_when_others_are_allowed(
    federated: TestClient, wikidata: Server, service: str, message: str
) -> None:
    query = f"""SELECT * WHERE {{
  SERVICE <{wikidata.url}query> {{ ?s ?p ?o }}
  OPTIONAL {{ SERVICE {service} {{ ?s ?q ?r }} }}
}}"""
    response = federated.get("/sparql", params={"query": query}, headers=JSON)
    assert response.status_code == 400
    assert message in response.json()["detail"]
    assert f"{wikidata.url}query" in response.json()["detail"]  # the allowed ones are named


def test_service_in_an_update_is_checked_too(make_settings: Callable[..., Settings]) -> None:
    token = "test-admin-token-0123456789"
    settings = make_settings(load_bundled=False, admin_token=token, query_workers=1)
    with TestClient(create_app(settings)) as client:
        response = client.post(
            "/sparql",
            content="INSERT { ?s ?p ?o } WHERE { SERVICE <http://127.0.0.1:9/sparql> { ?s ?p ?o } }",
            headers={"Content-Type": "application/sparql-update", "Authorization": f"Bearer {token}"},
        )
    assert response.status_code == 400
    assert "IOIR_SERVICE_ALLOWLIST" in response.json()["detail"]


# -- the parsed reading (rdflib's grammar) ---------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "targets"),
    [
        ("SELECT * { SERVICE <http://a/> { } }", ["http://a/"]),
        ("PREFIX e: <http://e/> SELECT * { { SELECT * { OPTIONAL { SERVICE e:x { } } } } }", ["http://e/x"]),
        ("PREFIX : <http://e/> SELECT * { MINUS { SERVICE SILENT :q\\-1 { } } }", ["http://e/q-1"]),
        ("BASE <http://b/> SELECT * { SERVICE <rel> { } }", ["http://b/rel"]),
        ("SELECT * { SERVICE ?e { } FILTER(?x = 'SERVICE <http://in-a-string/>') }", [None]),
        ("SELECT * { ?s <http://p/SERVICE> <http://o/> } # SERVICE <http://c/>", []),
    ],
)
def test_parsed_targets(text: str, targets: list[str | None]) -> None:
    assert parsed_service_targets(text) == targets


def test_relative_endpoints_resolve_against_the_server_base() -> None:
    assert parsed_service_targets("SELECT * { SERVICE <q> { } }", "http://h/id/") == ["http://h/id/q"]
    check_policy("SELECT * { SERVICE <q> { } }", allowlist=["http://h/id/q"], base_iri="http://h/id/", update=False)


def test_a_request_rdflib_cannot_parse_is_refused_when_services_are_allowed() -> None:
    text = "SELECT * { SERVICE <http://a/> { ?s ?p ?o } } GARBAGE"
    check_service("SELECT ?x { }", service_targets("SELECT ?x { }"), allowlist=["http://a/"], base_iri=None)
    with pytest.raises(BadQuery, match="cannot be verified"):
        check_service(text, service_targets(text), allowlist=["http://a/"], base_iri=None)


def test_a_states_link_and_iso_code_join_wikidata_through_service(federated: TestClient, wikidata: Server) -> None:
    """The linkset's owl:sameAs of a state, and its ISO code, meet the stand-in Wikidata's P297 (ISO alpha-2)."""
    query = f"""PREFIX ioir: <https://w3id.org/ioir/ontology#>
PREFIX skos: <http://www.w3.org/2004/02/skos/core#>
PREFIX owl: <http://www.w3.org/2002/07/owl#>
PREFIX dcterms: <http://purl.org/dc/terms/>
PREFIX wdt: <http://www.wikidata.org/prop/direct/>
SELECT ?state ?label ?iso WHERE {{
  ?state a ioir:State ; skos:prefLabel ?label ; owl:sameAs ?item ; dcterms:identifier ?iso .
  SERVICE <{wikidata.url}query> {{ ?item wdt:P297 ?iso }}
}} ORDER BY ?iso"""
    response = federated.get("/sparql", params={"query": query}, headers=JSON)
    assert response.status_code == 200, response.text
    assert rows(response.json()) == [
        {"state": "https://w3id.org/ioir/id/state/germany", "label": "Germany", "iso": "DE"},
        {"state": "https://w3id.org/ioir/id/state/france", "label": "France", "iso": "FR"},
        {"state": "https://w3id.org/ioir/id/state/united-states", "label": "United States", "iso": "US"},
    ]
