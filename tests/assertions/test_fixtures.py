"""The assertion fixtures through the real app: every ``valid/*.ttl`` is accepted and then visible through ``/sparql``
and the entity pages; every ``invalid/*.ttl`` is rejected with the rule it is named after, and the store's quads are
the same before and after.

A fixture's header comments carry what the test needs: ``# source:``, ``# quote:`` and ``# locator:`` (sent as the
submission's metadata), ``# expect:`` (the rules the report must name) and ``# status:`` (for the bodies refused
before validation: 400, 413).
"""

from __future__ import annotations

from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from pyoxigraph import NamedNode, RdfFormat, parse

from ioir_kg.namespaces import parse_entity_iri
from tests.assertions.conftest import ALICE, HERE, TURTLE

VALID = sorted((HERE / "valid").glob("*.ttl"))
INVALID = sorted((HERE / "invalid").glob("*.ttl"))
METADATA = ("source", "quote", "locator")
BASE = "https://w3id.org/ioir/"


def header(path: Path) -> dict[str, str]:
    """The ``# key: value`` lines at the top of a fixture."""
    found: dict[str, str] = {}
    for line in path.read_text(encoding="utf-8").splitlines():
        if not line.startswith("#"):
            break
        key, sep, value = line[1:].partition(":")
        if sep and key.strip().isidentifier():
            found[key.strip()] = value.strip()
    return found


def params(path: Path) -> dict[str, str]:
    """The submission metadata a fixture declares."""
    return {key: value for key, value in header(path).items() if key in METADATA}


def quads(client: TestClient) -> set[str]:
    """Every quad of the app's store, as N-Quads lines."""
    return {str(q) for q in client.app.state.store.quads()}  # type: ignore[attr-defined]


def ask(client: TestClient, query: str) -> bool:
    """The answer of an ``ASK`` query through ``/sparql``."""
    answer = client.get("/sparql", params={"query": query}, headers={"Accept": "application/sparql-results+json"})
    assert answer.status_code == 200, answer.text
    result: bool = answer.json()["boolean"]
    return result


def test_there_are_enough_fixtures_and_each_names_its_rule() -> None:
    assert len(VALID) >= 10
    assert len(INVALID) >= 30
    for path in INVALID:
        assert header(path).get("expect"), f"{path.name} has no '# expect:' line"
    for path in VALID:
        assert "expect" not in header(path), path.name


@pytest.mark.parametrize("path", INVALID, ids=lambda p: p.stem)
def test_invalid_fixture_is_rejected_and_nothing_is_written(api: TestClient, path: Path) -> None:
    meta = header(path)
    expected = set(meta["expect"].split())
    status = int(meta.get("status", "422"))
    body = path.read_bytes()
    before = quads(api)

    checked = api.post("/validate", content=body, headers=TURTLE, params=params(path))
    if status == 422:
        assert checked.status_code == 200, checked.text
        report = checked.json()
        assert report["conforms"] is False
        assert expected <= {r["rule"] for r in report["results"]}, report["summary"]
        for result in report["results"]:
            assert result["explanation"]
            assert result["message"]
            assert result["severity"]
    else:
        assert checked.status_code == status, checked.text
        assert expected <= {e.get("rule") for e in checked.json().get("errors", [])}

    submitted = api.post("/assertions", content=body, headers={**TURTLE, **ALICE}, params=params(path))
    assert submitted.status_code == status, submitted.text
    assert submitted.headers["content-type"].startswith("application/problem+json")
    problem = submitted.json()
    assert problem["status"] == status
    assert expected <= {e.get("rule") for e in problem.get("errors", [])}, problem["detail"]
    assert "location" not in submitted.headers
    assert quads(api) == before


@pytest.mark.parametrize("path", VALID, ids=lambda p: p.stem)
def test_valid_fixture_is_accepted_and_visible(api: TestClient, path: Path) -> None:
    body = path.read_bytes()
    checked = api.post("/validate", content=body, headers=TURTLE, params=params(path))
    assert checked.status_code == 200, checked.text
    assert checked.json()["conforms"] is True, checked.json()["results"]

    submitted = api.post("/assertions", content=body, headers={**TURTLE, **ALICE}, params=params(path))
    assert submitted.status_code == 201, submitted.text
    record = submitted.json()
    assert submitted.headers["location"] == record["location"] == f"/assertions/{record['id']}"
    assert record["contributor"] == "alice"
    assert record["graph"] == f"{BASE}assertion/{record['id']}"
    assert api.get(record["location"]).status_code == 200

    triples = list(parse(body, RdfFormat.TURTLE, base_iri=f"{BASE}id/"))
    pattern = " ".join(f"{q.subject} {q.predicate} {q.object} ." for q in triples)
    assert ask(api, f"ASK {{ GRAPH <{record['graph']}> {{ {pattern} }} }}") is True

    for subject in {q.subject for q in triples if isinstance(q.subject, NamedNode)}:
        kind, slug = parse_entity_iri(BASE, subject.value) or ("", "")
        page = api.get(f"/id/{kind}/{slug}", headers={"Accept": "application/n-triples"})
        assert page.status_code == 200, subject
        assert f"<{record['graph']}>" in page.text or subject.value in page.text
