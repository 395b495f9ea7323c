"""Fixtures of the reliability suite: a store seeded once with the bundled data, real servers over copies of it."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from ioir_kg.config import Settings
from tests.reliability.server import Server, copy_store, start, stop

#: Lines the tests leave for the end of the run (latency table, fuzzing counts …).
REPORT = pytest.StashKey[list[str]]()


@pytest.fixture(scope="session")
def seeded_store(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A store with ontology/ and data/ loaded, closed again (copy it with :func:`copy_store` before use)."""
    from ioir_kg.store import open_store
    from ioir_kg.store.loading import load_sources

    path = tmp_path_factory.mktemp("reliability-seed") / "store"
    settings = Settings(store_path=path)
    store = open_store(settings)
    try:
        load_sources(store, settings)
    finally:
        store.close()
    return path


@pytest.fixture
def live_server(tmp_path: Path, seeded_store: Path) -> Iterator[Callable[..., Server]]:
    """A factory: ``live_server(IOIR_QUERY_TIMEOUT="2")`` starts a server over a fresh copy of the seeded store
    (``empty=True``: over an empty store); every server it started is stopped at the end."""
    servers: list[Server] = []

    def make(*, empty: bool = False, **env: str) -> Server:
        folder = tmp_path / f"server{len(servers)}"
        store = folder / "store" if empty else copy_store(seeded_store, folder)
        folder.mkdir(parents=True, exist_ok=True)
        server = start(folder, store, env)
        servers.append(server)
        return server

    yield make
    for server in servers:
        stop(server)


@pytest.fixture(scope="module")
def shared_server(tmp_path_factory: pytest.TempPathFactory, seeded_store: Path) -> Iterator[Server]:
    """One server over the bundled data per test module, logging every request (tests must not depend on each
    other's writes)."""
    folder = tmp_path_factory.mktemp("shared-server")
    server = start(folder, copy_store(seeded_store, folder), {"IOIR_QUERY_TIMEOUT": "10"}, log_level="info")
    try:
        yield server
    finally:
        stop(server)


def report(config: pytest.Config, line: str) -> None:
    """Keep a line for the reliability section of the terminal summary."""
    config.stash.setdefault(REPORT, []).append(line)


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter, config: pytest.Config) -> None:
    """Print what the reliability tests measured (latency table, fuzzing counts)."""
    lines = config.stash.get(REPORT, [])
    if lines:
        terminalreporter.section("reliability")
        for line in lines:
            terminalreporter.write_line(line)
