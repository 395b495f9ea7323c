"""Fixtures of the remote-backend tests (Virtuoso itself and the bundled dataset come from ``tests.backends``)."""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterator

import pytest
from fastapi.testclient import TestClient

from ioir_kg.api.app import create_app
from ioir_kg.config import Settings
from tests.backends import ADMIN_TOKEN, AUTH, BACKENDS

__all__ = ["ADMIN_TOKEN", "AUTH"]


@pytest.fixture(params=BACKENDS)
def backend_settings(
    request: pytest.FixtureRequest, make_settings: Callable[..., Settings], scratch: Callable[..., Settings]
) -> Callable[..., Settings]:
    """Settings for an empty dataset on each backend: an on-disk store, or a scratch dataset on Virtuoso."""
    if request.param == "oxigraph":

        def embedded(**overrides: object) -> Settings:
            values: dict[str, object] = {"base_uri": f"http://embedded-{uuid.uuid4().hex[:12]}.test/"}
            values.update(overrides)
            return make_settings(**values)

        return embedded
    return scratch


@pytest.fixture(params=BACKENDS)
def writable(
    request: pytest.FixtureRequest, make_settings: Callable[..., Settings], scratch: Callable[..., Settings]
) -> Iterator[TestClient]:
    """An app over an empty dataset with the admin token, on each backend."""
    values: dict[str, object] = {"load_bundled": False, "admin_token": ADMIN_TOKEN, "query_workers": 2}
    settings = make_settings(**values) if request.param == "oxigraph" else scratch(**values)
    with TestClient(create_app(settings)) as test_client:
        yield test_client
