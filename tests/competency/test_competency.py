"""Competency queries: the catalogue, exact answers on the bundled data, and every kind of bad parameter."""

from __future__ import annotations

import csv
import io
import subprocess
import sys

import pytest
from fastapi.testclient import TestClient

from ioir_kg.config import PROJECT_ROOT
from ioir_kg.sparql.competency import PARAM_TYPES, load_catalogue
from ioir_kg.store.base import KnowledgeStore
from tests.competency.golden import answer, comparable, expected

CATALOGUE = load_catalogue(PROJECT_ROOT / "queries")
ID = "https://w3id.org/ioir/id/"


@pytest.fixture(scope="module")
def store(client: TestClient) -> KnowledgeStore:
    """The store behind the session's app (the bundled data)."""
    bundled: KnowledgeStore = client.app.state.store  # type: ignore[attr-defined]
    return bundled


def test_catalogue_is_complete() -> None:
    assert len(CATALOGUE) >= 25
    for query in CATALOGUE.values():
        assert query.title
        assert query.question.endswith("?")
        assert all(p.type in PARAM_TYPES and p.label for p in query.params)
        assert "SELECT" in query.sparql


@pytest.mark.parametrize("name", sorted(CATALOGUE))
def test_exact_answer_on_the_bundled_data(name: str, store: KnowledgeStore) -> None:
    """The rows, in order, as reviewed in tests/competency/expected/ (regenerate: python -m tests.competency.golden).

    On both backends; the values inside a ``GROUP_CONCAT`` are compared as sets (SPARQL leaves their order open).
    """
    got = answer(CATALOGUE[name], store, ID)
    want = expected(name)
    assert got["params"] == want["params"]
    assert got["columns"] == want["columns"]
    assert comparable(CATALOGUE[name], got["columns"], got["rows"]) == comparable(
        CATALOGUE[name], want["columns"], want["rows"]
    )
    assert got["rows"], f"{name} answers nothing on the bundled data"
    label_columns = [c for c in got["columns"] if c.endswith("Label") or c in ("label", "quote", "title")]
    assert label_columns, f"{name} shows no human-readable label"


def _rows(name: str, store: KnowledgeStore, **args: str) -> list[dict[str, str]]:
    from pyoxigraph import QuerySolutions

    from ioir_kg.sparql.competency import run_competency
    from ioir_kg.sparql.results import term_text

    result = run_competency(CATALOGUE[name], args, store, ID)
    assert isinstance(result, QuerySolutions)
    names = [v.value for v in result.variables]
    return [{n: term_text(row[n]) for n in names} for row in result]


def test_facts_stated_in_the_documents(store: KnowledgeStore) -> None:
    """A few answers checked by hand against the source texts."""
    successions = {(r["successorLabel"], r["predecessorLabel"], r["date"]) for r in _rows("mission-successions", store)}
    assert (
        "European Union Police Mission in Bosnia and Herzegovina",
        "International Police Task Force",
        "2003-01",
    ) in (successions)
    table1 = {r["dependency"] for r in _rows("dependencies-by-level", store, level="concept/level-micro")}
    assert f"{ID}dependency/s000-table1-micro-osce-eu-project-funding" in table1
    eu_nato = {r["instrument"]: r for r in _rows("instruments-between", store, a="EU", b="NATO")}
    assert eu_nato[f"{ID}instrument/berlin-plus"]["typeLabel"] == "framework agreement"
    assert eu_nato[f"{ID}instrument/eu-nato-joint-declaration-2016"]["date"] == "2016-07-08"
    kfor = _rows("search", store, text="KFOR")
    assert (kfor[0]["entity"], kfor[0]["match"]) == (f"{ID}mission/kfor", "0")  # exact acronym first
    assert {r["match"] for r in kfor[1:]} == {"1", "2"}
    kosovo_force = _rows("search", store, text="kosovo force")
    assert f"{ID}mission/kfor" in {r["entity"] for r in kosovo_force}


def test_answers_over_http_are_negotiated(client: TestClient) -> None:
    want = expected("mission-successions")
    as_json = client.get("/queries/mission-successions")
    assert as_json.status_code == 200
    assert as_json.headers["content-type"].startswith("application/sparql-results+json")
    bindings = as_json.json()["results"]["bindings"]
    assert [b["successor"]["value"] for b in bindings] == [r[0] for r in want["rows"]]
    as_csv = client.get("/queries/mission-successions", headers={"Accept": "text/csv"})
    assert as_csv.headers["content-type"].startswith("text/csv")
    rows = list(csv.reader(io.StringIO(as_csv.text)))
    assert rows[0] == want["columns"]
    assert [r[0] for r in rows[1:]] == [r[0] for r in want["rows"]]
    overridden = client.get("/queries/mission-successions", params={"format": "tsv"})
    assert overridden.headers["content-type"].startswith("text/tab-separated-values")


def test_catalogue_and_sparql_over_http(client: TestClient) -> None:
    body = client.get("/queries").json()
    names = [q["name"] for q in body["queries"]]
    assert names == sorted(CATALOGUE)
    between = next(q for q in body["queries"] if q["name"] == "instruments-between")
    assert between["params"][0] == {
        "name": "a",
        "type": "iri",
        "label": "First organization",
        "default": "org/eu",
        "example": "org/un",
        "required": False,
        "class": "http://www.w3.org/ns/org#Organization",
    }
    text = client.get(between["sparql"])
    assert text.headers["content-type"].startswith("application/sparql-query")
    assert text.text == CATALOGUE["instruments-between"].sparql


@pytest.mark.parametrize(
    ("name", "params", "status", "param", "message"),
    [
        ("no-such-query", {}, 404, None, "no competency query named 'no-such-query'"),
        ("dependencies-between", {"provider": "org/nato"}, 422, "dependent", "is required"),
        ("instruments-in-period", {"from": "last year"}, 422, "from", "must be a year such as 2003"),
        ("instruments-between", {"a": f"{ID}place/kosovo"}, 422, "a", f"<{ID}place/kosovo> is not an entity of"),
        ("instruments-between", {"a": "NATOO"}, 422, "a", "did you mean: North Atlantic Treaty Organization"),
        ("dependencies-by-level", {"level": "concept/resource-funding"}, 422, "level", "is not a concept of"),
        ("mission-successions", {"year": "2003"}, 422, "year", "unknown parameter; this query takes: no parameters"),
        ("search", {"text": "x" * 201}, 422, "text", "must be at most 200 characters"),
    ],
)
def test_bad_parameters(
    client: TestClient, name: str, params: dict[str, str], status: int, param: str | None, message: str
) -> None:
    before = client.get("/health").json()["triples"]
    response = client.get(f"/queries/{name}", params=params)
    assert response.status_code == status
    assert response.headers["content-type"] == "application/problem+json"
    body = response.json()
    assert message in body["detail"]
    if param is not None:
        error = next(e for e in body["errors"] if e["param"] == param)
        assert message in error["message"]
    assert client.get("/health").json()["triples"] == before


def test_wrong_class_lists_the_valid_choices(client: TestClient) -> None:
    body = client.get("/queries/missions-in-country", params={"place": "org/nato"}).json()
    choices = body["errors"][0]["choices"]
    assert f"Kosovo <{ID}place/kosovo>" in choices
    assert all("/place/" in c for c in choices)


def test_cli_runs_a_competency_query(tmp_path: object) -> None:
    result = subprocess.run(
        [sys.executable, "-m", "ioir_kg", "cq", "search", "-p", "text=KFOR", "--format", "csv"],
        capture_output=True,
        text=True,
        env={"IOIR_STORE_PATH": f"{tmp_path}/store", "PATH": "/usr/bin:/bin"},
        timeout=120,
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.splitlines()[1].startswith(f"{ID}mission/kfor,Kosovo Force,")
    bad = subprocess.run(
        [sys.executable, "-m", "ioir_kg", "cq", "search", "-p", "txt=KFOR"],
        capture_output=True,
        text=True,
        env={"IOIR_STORE_PATH": f"{tmp_path}/store", "PATH": "/usr/bin:/bin"},
        timeout=120,
    )
    assert bad.returncode == 2
    assert bad.stderr.startswith("ioir-kg: bad parameters for search: txt: unknown parameter")
