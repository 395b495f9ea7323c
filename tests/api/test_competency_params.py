"""Malformed IRIs as competency-query arguments: a ``4xx`` naming the parameter, never a ``5xx``.

Every ``iri`` and ``concept`` parameter of every query in ``queries/`` gets each value of :data:`MALFORMED`, as JSON
(``/queries/{name}``) and, for a few of them, as the query's HTML page.
"""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient

from ioir_kg.config import PROJECT_ROOT
from ioir_kg.sparql.competency import load_catalogue

CATALOGUE = load_catalogue(PROJECT_ROOT / "queries")
#: (query, parameter) for every parameter that takes an entity or a concept.
ENTITY_PARAMS = [(q.name, p.name) for q in CATALOGUE.values() for p in q.params if p.type in ("iri", "concept")]
#: Values that look like IRIs (``http://``, ``https://``, ``urn:``) but are not valid ones.
INVALID_IRIS = [
    "http://a b",
    "http://a<b>",
    'http://a"b',
    "http://a{b}",
    "http://a|b",
    "http://a^b",
    "http://a`b",
    "http://a\\b",
    "http://a\tb",
    "http://a\nb",
    "urn:a b",
    "urn:x<y>",
    "https://" + "a b" * 5000,
    "http://[::1",
]
#: Other awkward values: empty, bare schemes, control characters, very long, non-ASCII.
MALFORMED = [
    *INVALID_IRIS,
    "",
    " ",
    "http://",
    "https://",
    "urn:",
    "http://a\x01b",
    "http://a\x7fb",
    "http://a\u2028b",
    "https://" + "a" * 20_000,
    "http://ünïcödé.example/ä",
    "https://例え.jp/パス",
    "http://a/%zz",
    "org/nato x",
    "org/" + "x" * 5000,
    "\U0001f4a5",
]
HTML = {"Accept": "text/html"}


@pytest.mark.parametrize(("name", "param"), ENTITY_PARAMS, ids=[f"{n}-{p}" for n, p in ENTITY_PARAMS])
def test_malformed_entity_arguments_never_get_a_server_error(
    embedded_client: TestClient, name: str, param: str
) -> None:
    for value in MALFORMED:
        response = embedded_client.get(f"/queries/{name}", params={param: value})
        assert response.status_code < 500, (value[:60], response.status_code, response.text[:300])
        if response.status_code >= 400:
            assert response.headers["content-type"] == "application/problem+json"
            assert response.json()["detail"], value[:60]
        if value in INVALID_IRIS:
            assert response.status_code == 422, (value[:60], response.status_code, response.text[:300])
            assert f"{param}: " in response.json()["detail"]
            assert "not a valid IRI" in response.json()["detail"]


@pytest.mark.parametrize("name", sorted({n for n, _ in ENTITY_PARAMS}))
def test_malformed_entity_arguments_on_the_query_page_are_shown_beside_their_field(
    embedded_client: TestClient, name: str
) -> None:
    param = next(p for n, p in ENTITY_PARAMS if n == name)
    for value in INVALID_IRIS[:3]:
        response = embedded_client.get(f"/queries/{name}", params={param: value}, headers=HTML)
        assert response.status_code == 422, (value, response.text[:300])
        assert "not a valid IRI" in response.text
