"""Real servers for the reliability tests: uvicorn processes on 127.0.0.1, stores copied from a seeded one.

Every server runs in a session of its own (``start_new_session``) so that a test can ``kill -9`` the server
alone, as a crash would, and the fixtures can still end everything it started (its query workers too).
"""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

import httpx

from ioir_kg.api.connections import PROTOCOL
from ioir_kg.config import PROJECT_ROOT

ADMIN_TOKEN = "reliability-admin-token-0123456789"
CONTRIBUTOR = "loadtester"
CONTRIBUTOR_TOKEN = "reliability-contributor-token-9876543210"
ADMIN = {"Authorization": f"Bearer {ADMIN_TOKEN}"}
CONTRIBUTOR_AUTH = {"Authorization": f"Bearer {CONTRIBUTOR_TOKEN}"}
#: Where the tests leave what a person reads afterwards (latency tables, fuzzing counts, screenshots).
ARTIFACTS = PROJECT_ROOT / "test-artifacts"


@dataclass
class Server:
    """A uvicorn process serving the app on 127.0.0.1, over the store at ``store``."""

    url: str
    process: subprocess.Popen[bytes]
    log: Path
    store: Path
    env: dict[str, str] = field(default_factory=dict)

    @property
    def port(self) -> int:
        """The TCP port it listens on."""
        return int(self.url.rsplit(":", 1)[1])

    def client(self, timeout: float = 60.0, *, source: str | None = None) -> httpx.Client:
        """An HTTP client for this server; ``source``: connect from that loopback address (``127.0.0.2`` …), a client
        of its own for the per-client limit."""
        transport = httpx.HTTPTransport(local_address=source) if source else None
        return httpx.Client(base_url=self.url, timeout=timeout, transport=transport)

    def log_text(self) -> str:
        """What the server wrote to stdout and stderr."""
        return self.log.read_text(encoding="utf-8", errors="replace")


def copy_store(seed: Path, folder: Path) -> Path:
    """Copy the store at ``seed`` (and the files beside it: manifest, label index) into ``folder``."""
    folder.mkdir(parents=True, exist_ok=True)
    for entry in seed.parent.iterdir():
        if entry.name == seed.name or entry.name.startswith(seed.name + "."):
            target = folder / ("store" + entry.name[len(seed.name) :])
            if entry.is_dir():
                shutil.copytree(entry, target)
            else:
                shutil.copy2(entry, target)
    return folder / "store"


def start(
    folder: Path,
    store: Path,
    env: dict[str, str] | None = None,
    *,
    log_name: str = "server.log",
    log_level: str = "warning",
) -> Server:
    """Start ``uvicorn --factory ioir_kg.api.asgi:make_app`` over ``store`` on a free port, with the HTTP protocol and
    proxy-header setting of ``ioir-kg serve``; wait for ``/health``."""
    listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    listener.bind(("127.0.0.1", 0))
    listener.listen(256)
    port = listener.getsockname()[1]
    settings = {
        "IOIR_STORE_PATH": str(store),
        "IOIR_LOAD_BUNDLED": "false",
        "IOIR_ADMIN_TOKEN": ADMIN_TOKEN,
        "IOIR_CONTRIBUTOR_TOKENS": f"{CONTRIBUTOR}:{CONTRIBUTOR_TOKEN}",
        "IOIR_QUERY_WORKERS": "2",
        "IOIR_CACHE_DIR": str(folder / "cache"),
        **(env or {}),
    }
    environment = {k: v for k, v in os.environ.items() if not k.startswith("IOIR_") or k == "IOIR_SEEDS_DIR"}
    environment.update(settings)
    log = folder / log_name
    command = [sys.executable, "-m", "uvicorn", "--factory", "ioir_kg.api.asgi:make_app"]
    command += ["--fd", str(listener.fileno()), "--log-level", log_level]
    command += ["--http", PROTOCOL, "--no-proxy-headers"]  # as `ioir-kg serve` runs it
    with log.open("ab") as out:
        process = subprocess.Popen(
            command,
            pass_fds=[listener.fileno()],
            env=environment,
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    listener.close()
    server = Server(f"http://127.0.0.1:{port}", process, log, store, settings)
    deadline = time.monotonic() + 90
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"the server exited at start-up:\n{server.log_text()[-4000:]}")
        try:
            if httpx.get(f"{server.url}/health", timeout=2).status_code == 200:
                return server
        except httpx.TransportError:
            pass
        time.sleep(0.1)
    stop(server)
    raise RuntimeError(f"the server did not answer within 90 s:\n{server.log_text()[-4000:]}")


def stop(server: Server) -> None:
    """SIGTERM (a graceful shutdown), SIGKILL after 15 s; then end whatever is left of its process group."""
    if server.process.poll() is None:
        server.process.send_signal(signal.SIGTERM)
        try:
            server.process.wait(15)
        except subprocess.TimeoutExpired:
            server.process.kill()
            server.process.wait(10)
    kill_group(server)


def kill_group(server: Server) -> None:
    """SIGKILL every process left in the server's process group (its fork server and query workers)."""
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(server.process.pid, signal.SIGKILL)


def group_members(server: Server) -> list[int]:
    """The live processes of the server's process group (zombies excluded)."""
    members = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            fields = (entry / "stat").read_text().rpartition(")")[2].split()
        except OSError:
            continue
        if fields and fields[0] != "Z" and int(fields[2]) == server.process.pid:
            members.append(int(entry.name))
    return members
