"""Shared fixtures: real on-disk stores and the real ASGI app (no mocks)."""

from __future__ import annotations

import os
import shutil
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from ioir_kg.api.app import create_app
from ioir_kg.config import PROJECT_ROOT, Settings

IN_CI = os.environ.get("CI", "").lower() == "true"
pytest_plugins = ["tests.backends"]
#: The backends every API test runs on (the ids of the parametrised ``client`` fixture).
BACKENDS = ("oxigraph", "remote")

SEEDS_DIR = Path(os.environ.get("IOIR_SEEDS_DIR", PROJECT_ROOT.parent / "shared" / "seeds"))


def backend_of(client: TestClient) -> str:
    """The backend (``oxigraph`` or ``remote``) of the app behind ``client``."""
    backend: str = client.app.state.store.backend  # type: ignore[attr-defined]
    return backend


def require_system(tool: str, why: str) -> str:
    """Path of a system executable; skip locally when missing, fail under ``CI=true``."""
    path = shutil.which(tool)
    if path is None:
        message = f"{tool} is required for {why} (install it: see the Makefile's system-deps target)"
        if IN_CI:
            pytest.fail(message)
        pytest.skip(message)
    return path


@pytest.fixture(autouse=True)
def _isolated_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    """Tests never read the developer's own ``IOIR_*`` variables."""
    for name in list(os.environ):
        if name.startswith("IOIR_") and name != "IOIR_SEEDS_DIR":
            monkeypatch.delenv(name)


@pytest.fixture
def make_settings(tmp_path: Path) -> Callable[..., Settings]:
    """Settings with a fresh store path under ``tmp_path``; keyword overrides as in ``Settings``."""

    def make(**overrides: object) -> Settings:
        values: dict[str, object] = {"store_path": tmp_path / "store"}
        values.update(overrides)
        return Settings(**values)  # type: ignore[arg-type]

    return make


@pytest.fixture(scope="session")
def bundled_store_path(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A store with ontology/ and data/ loaded once per test run (copy it before writing)."""
    from ioir_kg.store import open_store
    from ioir_kg.store.loading import load_sources
    from ioir_kg.validation.selectors import prepare_sources

    path = tmp_path_factory.mktemp("bundled") / "store"
    settings = Settings(store_path=path)
    store = open_store(settings)
    load_sources(store, settings)
    prepare_sources(store, settings)  # what the app's start adds, so that starting an app over it writes nothing
    store.close()
    return path


@pytest.fixture(scope="session")
def embedded_client(bundled_store_path: Path) -> Iterator[TestClient]:
    """The real app over the bundled data in the embedded store, through ASGI (read-only use)."""
    app = create_app(Settings(store_path=bundled_store_path))
    with TestClient(app) as test_client:
        yield test_client


@pytest.fixture(scope="session", params=BACKENDS)
def client(request: pytest.FixtureRequest) -> TestClient:
    """The real app over the bundled data, on each backend in turn (read-only use: do not write through it)."""
    fixture = "embedded_client" if request.param == "oxigraph" else "remote_client"
    test_client: TestClient = request.getfixturevalue(fixture)
    return test_client
