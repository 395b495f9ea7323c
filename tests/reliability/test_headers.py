"""Security headers on every answer of every route: ``nosniff`` everywhere, a script-tight CSP on every page."""

from __future__ import annotations

import re
from typing import Any

import httpx
import pytest

from tests.reliability.server import Server

#: Values for the path parameters of the documented routes.
PATH_VALUES = {
    "kind": "org",
    "slug": "nato",
    "name": "missions-by-organization",
    "version": "0.1.0",
    "assertion_id": "00000000-0000-0000-0000-000000000000",
}
EXTRA_PATHS = ("/docs", "/redoc", "/id/org/no-such-entity", "/no-such-route", "/static/site.css", "/id/org/<script>")


def _get_paths(openapi: dict[str, Any]) -> list[str]:
    paths = []
    for template, item in openapi["paths"].items():
        if "get" in item:
            paths.append(re.sub(r"\{([^}]+)\}", lambda m: PATH_VALUES.get(m.group(1), "x"), template))
    return paths


def _script_sources(policy: str) -> list[str]:
    for directive in policy.split(";"):
        name, _, sources = directive.strip().partition(" ")
        if name == "script-src":
            return sources.split()
    for directive in policy.split(";"):
        name, _, sources = directive.strip().partition(" ")
        if name == "default-src":
            return sources.split()
    return []


def test_every_answer_has_nosniff_and_every_page_a_strict_policy(shared_server: Server) -> None:
    checked: dict[str, int] = {"pages": 0, "other": 0}
    with shared_server.client() as client:
        paths = _get_paths(client.get("/openapi.json").json()) + list(EXTRA_PATHS)
        assert len(paths) >= 15
        for path in paths:
            for accept in ("text/html,application/xhtml+xml;q=0.9,*/*;q=0.8", "*/*", "application/json"):
                response = client.get(path, headers={"Accept": accept})
                _check(path, accept, response)
                kind = "pages" if response.headers.get("content-type", "").startswith("text/html") else "other"
                checked[kind] += 1
    assert checked["pages"] >= 8, checked


def _check(path: str, accept: str, response: httpx.Response) -> None:
    where = f"{path} ({accept}): {response.status_code} {response.headers.get('content-type')}"
    assert response.status_code < 500, where
    assert response.headers.get("x-content-type-options") == "nosniff", where
    policy = response.headers.get("content-security-policy")
    assert policy, where
    if not response.headers.get("content-type", "").startswith("text/html"):
        return
    scripts = _script_sources(policy)
    assert scripts, where
    assert "'unsafe-inline'" not in scripts, where
    assert "'unsafe-eval'" not in scripts, where
    assert "*" not in scripts, where
    assert "frame-ancestors" in policy, where
    assert "object-src" in policy or "default-src 'none'" in policy, where
    if path not in ("/docs", "/redoc"):
        assert all(source == "'self'" or source.startswith(("'sha256-", "'nonce-")) for source in scripts), where


@pytest.mark.parametrize("path", ["/docs"])
def test_the_openapi_page_may_run_only_its_own_inline_script(shared_server: Server, path: str) -> None:
    with shared_server.client() as client:
        response = client.get(path)
    policy = response.headers["content-security-policy"]
    hashes = re.findall(r"'sha256-[^']+'", policy)
    assert len(hashes) == response.text.count("<script>")
    assert "'unsafe-inline'" not in _script_sources(policy)
