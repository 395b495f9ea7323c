"""The two backends the API tests run on: the embedded store and a real Virtuoso (a pytest plugin).

The session starts Debian's ``virtuoso-opensource`` (installed by ``make system-deps``) on free ports of
127.0.0.1 with a temporary database, and stops it at the end. Tests share it without seeing each other:

* ``remote_bundled``: ``ontology/`` and ``data/`` loaded once, under the canonical base IRI;
* ``scratch``: a dataset of its own per test (its own base IRI and graph prefix), dropped afterwards.

The root ``client`` fixture is parametrised over ``BACKENDS``, so every test that reads the bundled
data through it runs on both. Under ``CI=true`` a missing Virtuoso fails the tests instead of skipping them.
"""

from __future__ import annotations

import contextlib
import uuid
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from ioir_kg.api.app import create_app
from ioir_kg.config import DEFAULT_BASE_URI, Settings
from ioir_kg.store import open_store
from ioir_kg.store.loading import load_sources
from ioir_kg.store.virtuoso import RemoteSparqlStore
from ioir_kg.validation.selectors import prepare_sources
from tests.conftest import BACKENDS, require_system
from tests.support.virtuoso import VirtuosoServer, start_virtuoso

__all__ = ["BACKENDS"]

ADMIN_TOKEN = "remote-admin-token-0123456789"
AUTH = {"Authorization": f"Bearer {ADMIN_TOKEN}"}


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Tests that need Virtuoso are marked ``remote`` (deselect with ``-m 'not remote'`` for a quick run)."""
    for item in items:
        callspec = getattr(item, "callspec", None)
        on_remote = callspec is not None and "remote" in callspec.params.values()
        if on_remote or "virtuoso" in getattr(item, "fixturenames", ()):
            item.add_marker(pytest.mark.remote)


@pytest.fixture(scope="session")
def virtuoso(tmp_path_factory: pytest.TempPathFactory) -> Iterator[VirtuosoServer]:
    """A private Virtuoso for the whole session (~5 s to start, ~160 MiB)."""
    require_system("virtuoso-t", "the remote-backend tests (Debian package virtuoso-opensource)")
    require_system("isql-vt", "the remote-backend tests (Debian package virtuoso-opensource)")
    server = start_virtuoso(tmp_path_factory.mktemp("virtuoso"))
    try:
        yield server
    finally:
        server.stop()


def remote_settings(server: VirtuosoServer, folder: Path, **overrides: object) -> Settings:
    """Settings of an app over ``server`` (its manifest and caches under ``folder``)."""
    values: dict[str, object] = {
        "backend": "remote",
        "store_path": folder / "store",
        "remote_query_url": server.query_url,
        "remote_update_url": server.update_url,
        "remote_gsp_url": server.gsp_url,
        "remote_user": server.user,
        "remote_password": server.password,
        "query_timeout": 20.0,
    }
    values.update(overrides)
    return Settings(**values)  # type: ignore[arg-type]


@pytest.fixture(scope="session")
def remote_bundled(virtuoso: VirtuosoServer, tmp_path_factory: pytest.TempPathFactory) -> Settings:
    """Settings of the remote dataset that holds ``ontology/`` and ``data/`` (loaded once per session)."""
    settings = remote_settings(
        virtuoso, tmp_path_factory.mktemp("remote-bundled"), remote_graph_prefixes=[DEFAULT_BASE_URI]
    )
    store = open_store(settings)
    try:
        load_sources(store, settings)
        prepare_sources(store, settings)  # what the app's start adds: the source texts' hashes, the quote selectors
    finally:
        store.close()
    return settings


def drop_dataset(settings: Settings) -> None:
    """Drop every graph of a remote dataset (its graph prefixes) and its default graph."""
    store = RemoteSparqlStore.from_settings(settings)
    try:
        for info in store.graphs():
            store.drop_graph(info.iri)
        store.drop_graph("")
    finally:
        store.close()


@contextlib.contextmanager
def remote_dataset(
    server: VirtuosoServer, folder: Path, *, prefixes: Sequence[str] = (), **overrides: object
) -> Iterator[Settings]:
    """Settings of a dataset of its own on ``server``: a fresh base IRI, plus graphs under ``prefixes``.

    Graphs under the shared ``prefixes`` that an earlier test left behind are dropped first; everything is
    dropped afterwards.
    """
    base = f"http://scratch-{uuid.uuid4().hex[:12]}.test/"
    folder.mkdir(parents=True, exist_ok=True)
    values: dict[str, object] = {"base_uri": base, "remote_graph_prefixes": [base, *prefixes]}
    values.update(overrides)
    settings = remote_settings(server, folder, **values)
    drop_dataset(settings)
    try:
        yield settings
    finally:
        drop_dataset(settings)


@pytest.fixture
def scratch(virtuoso: VirtuosoServer, tmp_path: Path) -> Iterator[Callable[..., Settings]]:
    """A factory of remote datasets of their own (a fresh base IRI each); their graphs are dropped afterwards."""
    count = iter(range(1_000_000))
    with contextlib.ExitStack() as stack:

        def make(**overrides: object) -> Settings:
            folder = tmp_path / f"scratch{next(count)}"
            return stack.enter_context(remote_dataset(virtuoso, folder, **overrides))

        yield make


@pytest.fixture(scope="session")
def remote_client(remote_bundled: Settings) -> Iterator[TestClient]:
    """The real app over the remote bundled dataset (read-only use: do not write through it)."""
    settings = remote_bundled.model_copy(update={"load_bundled": False})
    with TestClient(create_app(settings)) as test_client:
        yield test_client


@pytest.fixture(params=BACKENDS)
def backend_settings(request: pytest.FixtureRequest, make_settings: Callable[..., Settings]) -> Callable[..., Settings]:
    """A factory of settings for empty datasets on each backend: on-disk stores, or scratch datasets on Virtuoso."""
    if request.param == "remote":
        scratch: Callable[..., Settings] = request.getfixturevalue("scratch")
        return scratch

    def embedded(**overrides: object) -> Settings:
        values: dict[str, object] = {"base_uri": f"http://embedded-{uuid.uuid4().hex[:12]}.test/"}
        values.update(overrides)
        return make_settings(**values)

    return embedded
