"""``GET /health`` and problem+json errors, through the real ASGI app."""

from __future__ import annotations

from collections.abc import Callable

from fastapi.testclient import TestClient

from ioir_kg import __version__
from ioir_kg.api.app import create_app
from ioir_kg.config import Settings, dataset_version


def test_health_reports_backend_and_triples(make_settings: Callable[..., Settings]) -> None:
    settings = make_settings(load_bundled=False)
    with TestClient(create_app(settings)) as client:
        response = client.get("/health")
    assert response.status_code == 200
    assert response.json() == {
        "status": "ok",
        "backend": "oxigraph",
        "triples": 0,
        "version": __version__,
        "dataset": dataset_version(settings),
        "detail": "",
    }


def test_health_counts_the_bundled_data(client: TestClient) -> None:
    body = client.get("/health").json()
    assert body["status"] == "ok"
    assert body["triples"] > 0


def test_unknown_route_is_problem_json(client: TestClient) -> None:
    response = client.get("/no/such/route")
    assert response.status_code == 404
    assert response.headers["content-type"] == "application/problem+json"
    assert response.json() == {"type": "about:blank", "title": "Not Found", "status": 404, "detail": "Not Found"}
