"""Fixtures for the Linked Data tests: real uvicorn servers and a second SPARQL server on 127.0.0.1.

* ``live`` serves the bundled data with ``IOIR_BASE_URI`` set to the server's own URL, so every entity
  IRI can be dereferenced literally over HTTP;
* ``wikidata`` is ``oxigraph serve`` (the ``oxigraph`` PyPI package, a dev dependency) with
  ``wikidata-fixture.ttl``, standing in for Wikidata, which the linkset ``data/links/wikidata.ttl`` points to.
"""

from __future__ import annotations

import os
import shutil
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

from tests.conftest import IN_CI

#: A Wikidata-shaped graph: labels and names in several languages of the items data/links/wikidata.ttl links to,
#: inception dates (P571) and ISO codes (P297), a redirect and a decoy (the federation and ``links check`` tests).
WIKIDATA_FIXTURE = Path(__file__).with_name("wikidata-fixture.ttl")


@dataclass
class Server:
    """A server process on 127.0.0.1 and its log."""

    url: str
    process: subprocess.Popen[bytes]
    log: Path

    def client(self) -> httpx.Client:
        """An HTTP client for this server (no redirects followed)."""
        return httpx.Client(base_url=self.url, timeout=60.0)

    def stop(self) -> None:
        """Stop the process (SIGTERM, then SIGKILL)."""
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(timeout=5)


def _wait_until(url: str, server: Server, timeout: float = 90.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if server.process.poll() is not None:
            raise RuntimeError(f"server exited early:\n{server.log.read_text(errors='replace')}")
        try:
            if httpx.get(url, timeout=2.0).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.1)
    server.stop()
    raise RuntimeError(f"server at {url} not ready after {timeout}s:\n{server.log.read_text(errors='replace')}")


def start_app(folder: Path, env: dict[str, str], *, own_base: bool = True) -> Server:
    """``uvicorn --factory ioir_kg.api.asgi:make_app`` on a free port (base IRI = its own URL if ``own_base``)."""
    listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    listener.bind(("127.0.0.1", 0))
    listener.listen(128)
    url = f"http://127.0.0.1:{listener.getsockname()[1]}/"
    environment = {k: v for k, v in os.environ.items() if not k.startswith("IOIR_")}
    environment.update({"IOIR_STORE_PATH": str(folder / "store"), "IOIR_QUERY_WORKERS": "2"})
    if own_base:
        environment["IOIR_BASE_URI"] = url
    environment.update(env)
    log = folder / "server.log"
    command = [sys.executable, "-m", "uvicorn", "--factory", "ioir_kg.api.asgi:make_app"]
    command += ["--fd", str(listener.fileno()), "--log-level", "warning"]
    with log.open("wb") as out:
        process = subprocess.Popen(
            command, pass_fds=[listener.fileno()], env=environment, stdout=out, stderr=subprocess.STDOUT
        )
    listener.close()
    server = Server(url, process, log)
    _wait_until(url + "health", server)
    return server


@pytest.fixture(scope="package")
def live(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    """The app over the bundled data, its base IRI its own URL (``http://127.0.0.1:PORT/``)."""
    server = start_app(tmp_path_factory.mktemp("live"), {})
    try:
        yield server
    finally:
        server.stop()


def oxigraph_command() -> str:
    """The ``oxigraph`` CLI of the dev dependencies; skipped locally, failed under ``CI=true`` when missing."""
    beside = Path(sys.executable).parent / "oxigraph"
    found = str(beside) if beside.is_file() else shutil.which("oxigraph")
    if found is None:
        message = "the oxigraph CLI (pip install oxigraph, a dev dependency) is needed for the federation test"
        if IN_CI:
            pytest.fail(message)
        pytest.skip(message)
    return found


@pytest.fixture(scope="package")
def wikidata(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    """``oxigraph serve-read-only`` on 127.0.0.1 with :data:`WIKIDATA_FIXTURE`; its endpoint is ``{url}query``."""
    command = oxigraph_command()
    folder = tmp_path_factory.mktemp("wikidata")
    load = [command, "load", "--location", str(folder / "db"), "--file", str(WIKIDATA_FIXTURE)]
    subprocess.run(load, check=True, timeout=60)
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    log = folder / "oxigraph.log"
    with log.open("wb") as out:
        process = subprocess.Popen(
            [command, "serve-read-only", "--location", str(folder / "db"), "--bind", f"127.0.0.1:{port}"],
            stdout=out,
            stderr=subprocess.STDOUT,
        )
    server = Server(f"http://127.0.0.1:{port}/", process, log)
    _wait_until(f"{server.url}query?query=ASK%7B%7D", server, timeout=30)
    try:
        yield server
    finally:
        server.stop()
