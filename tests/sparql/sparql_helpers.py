"""Helpers shared by the SPARQL endpoint tests (a module with a unique name, unlike ``conftest``)."""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest
from fastapi.testclient import TestClient

from ioir_kg.api.app import create_app
from ioir_kg.config import Settings

ADMIN_TOKEN = "test-admin-token-0123456789"
AUTH = {"Authorization": f"Bearer {ADMIN_TOKEN}"}


#: Graphs the endpoint tests write, outside a remote dataset's own base IRI (dropped before and after).
TEST_GRAPH_PREFIXES = ("http://ex.org/", "http://gsp.example.org/")


def make_client(store: Path | Settings, **overrides: object) -> TestClient:
    """A client for an app over an empty store at ``store`` (or a remote dataset's settings) with the admin
    token (enter it to start)."""
    values: dict[str, object] = store.model_dump() if isinstance(store, Settings) else {"store_path": store}
    values.update({"load_bundled": False, "admin_token": ADMIN_TOKEN, "query_workers": 2, "query_timeout": 10.0})
    values.update(overrides)
    return TestClient(create_app(Settings(**values)))  # type: ignore[arg-type]


@contextlib.contextmanager
def backend_client(request: pytest.FixtureRequest, folder: Path, **overrides: object) -> Iterator[TestClient]:
    """An app over an empty dataset on the backend named by ``request.param`` (``oxigraph`` or ``remote``)."""
    if request.param == "oxigraph":
        with make_client(folder / "store", **overrides) as client:
            yield client
        return
    from tests.backends import remote_dataset

    virtuoso = request.getfixturevalue("virtuoso")
    with (
        remote_dataset(virtuoso, folder, prefixes=TEST_GRAPH_PREFIXES) as settings,
        make_client(settings, **overrides) as client,
    ):
        yield client


@dataclass
class LiveServer:
    """A uvicorn process serving the app on 127.0.0.1."""

    url: str
    process: subprocess.Popen[bytes]
    log: Path

    def client(self, timeout: float = 60.0) -> httpx.Client:
        """An HTTP client for this server."""
        return httpx.Client(base_url=self.url, timeout=timeout)

    def log_text(self) -> str:
        """What the server wrote to stdout and stderr."""
        return self.log.read_text(encoding="utf-8", errors="replace")


def start_server(tmp_path: Path, env: dict[str, str]) -> LiveServer:
    """Start ``uvicorn --factory ioir_kg.api.asgi:make_app`` on a socket bound here to a free port."""
    listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    listener.bind(("127.0.0.1", 0))
    listener.listen(128)
    port = listener.getsockname()[1]
    environment = {k: v for k, v in os.environ.items() if not k.startswith("IOIR_")}
    environment.update({"IOIR_STORE_PATH": str(tmp_path / "store"), "IOIR_ADMIN_TOKEN": ADMIN_TOKEN, **env})
    log = tmp_path / "server.log"
    command = [sys.executable, "-m", "uvicorn", "--factory", "ioir_kg.api.asgi:make_app"]
    command += ["--fd", str(listener.fileno()), "--log-level", "warning"]
    with log.open("wb") as out:
        process = subprocess.Popen(
            command, pass_fds=[listener.fileno()], env=environment, stdout=out, stderr=subprocess.STDOUT
        )
    listener.close()
    server = LiveServer(f"http://127.0.0.1:{port}", process, log)
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"the server exited at start-up:\n{server.log_text()}")
        try:
            if httpx.get(f"{server.url}/health", timeout=2).status_code == 200:
                return server
        except httpx.TransportError:
            pass
        time.sleep(0.1)
    stop_server(server)
    raise RuntimeError(f"the server did not answer within 60 s:\n{server.log_text()}")


def stop_server(server: LiveServer) -> None:
    """SIGTERM (graceful shutdown: the lifespan stops the workers), then SIGKILL after 15 s."""
    if server.process.poll() is None:
        server.process.send_signal(signal.SIGTERM)
        try:
            server.process.wait(15)
        except subprocess.TimeoutExpired:
            server.process.kill()
            server.process.wait()


#: Where the W3C test and the live-server tests leave their reports for the terminal summary.
W3C_REPORT = pytest.StashKey[str]()
MEASUREMENTS = pytest.StashKey[list[str]]()
