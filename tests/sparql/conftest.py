"""Fixtures for the SPARQL endpoint tests: apps over fresh stores (ASGI) and real uvicorn servers."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from tests.conftest import BACKENDS
from tests.sparql.sparql_helpers import MEASUREMENTS, W3C_REPORT, LiveServer, backend_client, start_server, stop_server


@pytest.fixture(scope="module", params=BACKENDS)
def empty_client(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[TestClient]:
    """An app over a dataset that starts empty, on each backend (module-wide: tests write to graphs of their own)."""
    with backend_client(request, tmp_path_factory.mktemp("sparql")) as client:
        yield client


@pytest.fixture
def live_server(tmp_path: Path) -> Iterator[Callable[..., LiveServer]]:
    """A factory: ``live_server(IOIR_QUERY_TIMEOUT="2")`` starts a server; all are stopped at the end."""
    servers: list[LiveServer] = []

    def start(**env: str) -> LiveServer:
        folder = tmp_path / f"server{len(servers)}"
        folder.mkdir()
        server = start_server(folder, {"IOIR_LOAD_BUNDLED": "false", **env})
        servers.append(server)
        return server

    yield start
    for server in servers:
        stop_server(server)


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter, config: pytest.Config) -> None:
    """Print the W3C pass counts (pyoxigraph in-process vs over HTTP) and the live-server measurements."""
    report = config.stash.get(W3C_REPORT, None)
    if report:
        terminalreporter.section("W3C SPARQL 1.1 query tests")
        terminalreporter.write_line(report)
    lines = config.stash.get(MEASUREMENTS, [])
    if lines:
        terminalreporter.section("SPARQL endpoint measurements")
        for line in lines:
            terminalreporter.write_line(line)
