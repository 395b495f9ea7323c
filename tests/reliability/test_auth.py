"""Writes only with tokens: every write route refuses a missing or wrong token and writes nothing; tokens are
compared in constant time and never appear in a response or the server's log."""

from __future__ import annotations

import hmac
from collections.abc import Callable
from pathlib import Path

import httpx
import pytest
from fastapi.testclient import TestClient

from ioir_kg.api import security
from ioir_kg.api.app import create_app
from ioir_kg.config import Settings
from tests.reliability.payloads import TURTLE, new_submission
from tests.reliability.server import ADMIN, ADMIN_TOKEN, CONTRIBUTOR_AUTH, CONTRIBUTOR_TOKEN, Server

GRAPH = "https://example.org/auth-test"
WRONG = "wrong-token-that-is-long-enough-1234"
#: A wrong token one character away from the admin token (a timing attack's last step).
NEAR = ADMIN_TOKEN[:-1] + "X"
TRIPLE = b"<https://example.org/s> <https://example.org/p> <https://example.org/o> .\n"
UPDATE = f"INSERT DATA {{ GRAPH <{GRAPH}> {{ <https://example.org/s> <https://example.org/p> 1 }} }}"


def writes(assertion_id: str) -> list[tuple[str, str, dict[str, str], bytes | dict[str, str]]]:
    """Every write the API offers: (method, path, headers, body)."""
    nt = {"Content-Type": "application/n-triples"}
    return [
        ("PUT", f"/rdf-graph-store?graph={GRAPH}", nt, TRIPLE),
        ("POST", f"/rdf-graph-store?graph={GRAPH}", nt, TRIPLE),
        ("PUT", "/rdf-graph-store?default", nt, TRIPLE),
        ("DELETE", "/rdf-graph-store?graph=https://w3id.org/ioir/graph/data/entities", {}, b""),
        ("POST", "/sparql", {"Content-Type": "application/sparql-update"}, UPDATE.encode()),
        ("POST", "/sparql", {}, {"update": UPDATE}),
        ("POST", "/assertions", TURTLE, new_submission("auth").body),
        ("DELETE", f"/assertions/{assertion_id}", {}, b""),
    ]


def _send(
    client: httpx.Client, method: str, path: str, headers: dict[str, str], body: bytes | dict[str, str]
) -> httpx.Response:
    if isinstance(body, dict):
        return client.request(method, path, headers=headers, data=body)
    return client.request(method, path, headers=headers, content=body)


def _state(client: httpx.Client) -> tuple[int, int, bool]:
    """What a write would change: the triple count, the number of assertions, whether the test graph exists."""
    triples = client.get("/health").json()["triples"]
    assertions = client.get("/assertions").json()["total"]
    exists = client.head(f"/rdf-graph-store?graph={GRAPH}").status_code == 200
    return triples, assertions, exists


@pytest.mark.parametrize(
    ("authorization", "why"),
    [
        (None, "missing"),
        (f"Bearer {WRONG}", "wrong"),
        (f"Bearer {NEAR}", "near"),
        (f"Basic {ADMIN_TOKEN}", "not bearer"),
        ("Bearer", "empty"),
        (f"Bearer {ADMIN_TOKEN} extra", "trailing"),
    ],
)
def test_every_write_without_a_valid_token_is_401_and_writes_nothing(
    shared_server: Server, authorization: str | None, why: str
) -> None:
    with shared_server.client() as client:
        accepted = client.post(
            "/assertions", content=new_submission("mine").body, headers={**TURTLE, **CONTRIBUTOR_AUTH}
        )
        assert accepted.status_code == 201, accepted.text
        before = _state(client)
        for method, path, headers, body in writes(accepted.json()["id"]):
            sent = dict(headers)
            if authorization is not None:
                sent["Authorization"] = authorization
            response = _send(client, method, path, sent, body)
            assert response.status_code == 401, (why, method, path, response.status_code, response.text)
            assert response.headers["www-authenticate"].startswith("Bearer")
            assert response.headers["content-type"].startswith("application/problem+json")
            assert response.json()["detail"], (method, path)
            for secret in (ADMIN_TOKEN, CONTRIBUTOR_TOKEN, WRONG, NEAR):
                assert secret not in response.text
        assert _state(client) == before


def test_a_contributor_token_submits_assertions_but_never_writes_graphs(shared_server: Server) -> None:
    with shared_server.client() as client:
        before = _state(client)
        for method, path, headers, body in writes("00000000-0000-0000-0000-000000000000")[:6]:
            response = _send(client, method, path, {**headers, **CONTRIBUTOR_AUTH}, body)
            assert response.status_code == 401, (method, path, response.text)
        assert _state(client) == before
        submitted = client.post("/assertions", content=new_submission().body, headers={**TURTLE, **CONTRIBUTOR_AUTH})
        assert submitted.status_code == 201


def test_the_admin_token_writes(shared_server: Server) -> None:
    with shared_server.client() as client:
        put = client.put(
            f"/rdf-graph-store?graph={GRAPH}",
            content=TRIPLE,
            headers={"Content-Type": "application/n-triples", **ADMIN},
        )
        assert put.status_code in (201, 204)
        assert client.delete(f"/rdf-graph-store?graph={GRAPH}", headers=ADMIN).status_code == 204


def test_without_configured_tokens_every_write_is_403(tmp_path: Path) -> None:
    app = create_app(Settings(store_path=tmp_path / "store", load_bundled=False, query_workers=2))
    with TestClient(app) as client:
        for method, path, headers, body in writes("00000000-0000-0000-0000-000000000000"):
            for authorization in ({}, ADMIN, CONTRIBUTOR_AUTH):
                sent = {**headers, **authorization}
                if isinstance(body, dict):
                    response = client.request(method, path, headers=sent, data=body)
                else:
                    response = client.request(method, path, headers=sent, content=body)
                assert response.status_code == 403, (method, path, response.text)
                assert "IOIR_ADMIN_TOKEN" in response.json()["detail"]
        assert client.get("/health").json()["triples"] == 0


def test_tokens_are_compared_in_constant_time(monkeypatch: pytest.MonkeyPatch) -> None:
    """Both checks go through :func:`hmac.compare_digest`, once per configured token whatever the outcome."""
    calls: list[tuple[bytes, bytes]] = []
    real: Callable[[bytes, bytes], bool] = hmac.compare_digest

    def spy(a: bytes, b: bytes) -> bool:
        calls.append((a, b))
        return real(a, b)

    monkeypatch.setattr(security.hmac, "compare_digest", spy)
    settings = Settings(admin_token=ADMIN_TOKEN, contributor_tokens=[f"a:{'a' * 16}", f"b:{'b' * 16}"])
    with pytest.raises(security.Unauthorized):
        security.require_admin(settings, f"Bearer {NEAR}")
    assert len(calls) == 1
    calls.clear()
    assert security.require_contributor(settings, f"Bearer {'a' * 16}").name == "a"
    assert len(calls) == 3  # admin and both contributors: the time does not tell which one matched
    calls.clear()
    with pytest.raises(security.Unauthorized):
        security.require_contributor(settings, "Bearer nothing-like-any-of-them")
    assert len(calls) == 3


def test_tokens_never_reach_the_log_or_the_settings_repr(shared_server: Server) -> None:
    with shared_server.client() as client:
        for token in (ADMIN_TOKEN, WRONG, NEAR, CONTRIBUTOR_TOKEN):
            client.post(
                "/sparql",
                content=UPDATE,
                headers={"Content-Type": "application/sparql-update", "Authorization": f"Bearer {token}"},
            )
            client.get("/health", headers={"Authorization": f"Bearer {token}"})
            client.get(f"/no-such-page?token={token[:4]}", headers={"Authorization": f"Bearer {token}"})
    log = shared_server.log_text()
    assert "GET /health" in log  # requests are logged, their headers are not
    for secret in (ADMIN_TOKEN, CONTRIBUTOR_TOKEN, WRONG, NEAR):
        assert secret not in log
    settings = Settings(admin_token=ADMIN_TOKEN, contributor_tokens=[f"x:{CONTRIBUTOR_TOKEN}"])
    assert ADMIN_TOKEN not in repr(settings)
    assert CONTRIBUTOR_TOKEN not in repr(settings)
