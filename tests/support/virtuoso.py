"""A private Virtuoso for tests and local trials: temporary database, free ports on 127.0.0.1.

Debian's ``virtuoso-opensource`` provides ``virtuoso-t`` (the server) and ``isql-vt`` (the SQL client).
:func:`start_virtuoso` copies Debian's own ``virtuoso.ini`` and changes only where the files go, the ports,
``DirsAllowed`` and the result cap (``ResultSetMaxRows``, 10,000 in Debian's ini, silently truncating), so the
tests meet the limits a stock installation has (``MaxQueryCostEstimationTime = 400``, ``MaxQueryExecutionTime =
60`` …). It starts ``virtuoso-t +foreground`` (ready in ~5 s, ~160 MiB), creates a user with ``SPARQL_SELECT`` and
``SPARQL_UPDATE`` and returns a :class:`VirtuosoServer` that knows its endpoints; :meth:`VirtuosoServer.stop`
ends it.

Try the remote backend by hand::

    python -m tests.support.virtuoso /tmp/virtuoso   # prints IOIR_* settings, Ctrl-C stops it
"""

from __future__ import annotations

import contextlib
import ctypes
import re
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

import httpx

SERVER = "virtuoso-t"
CLIENT = "isql-vt"

#: Debian's own configuration, as the package installs it (``dpkg -L virtuoso-opensource-7``); the copy in
#: ``/etc`` is the administrator's and may have been edited, so it is only the fallback.
STOCK_INI = (
    Path("/usr/share/virtuoso-opensource-7/virtuoso.ini"),
    Path("/etc/virtuoso-opensource-7/virtuoso.ini"),
)
#: The only keys the harness changes, by section: where the files go, the ports (bound to 127.0.0.1), the
#: folders the server may read, and the result cap. Everything else stays as Debian ships it.
CHANGED_KEYS = {
    "Database": ("DatabaseFile", "ErrorLogFile", "LockFile", "TransactionFile", "xa_persistent_file"),
    "TempDatabase": ("DatabaseFile", "TransactionFile"),
    "Parameters": ("ServerPort", "DirsAllowed"),
    "HTTPServer": ("ServerPort", "ServerRoot"),
    "SPARQL": ("ResultSetMaxRows",),
}
_SECTION = re.compile(r"^\s*\[(?P<name>[^\]]+)\]\s*$")
_SETTING = re.compile(r"^(?P<key>\s*[A-Za-z_][\w]*)(?P<eq>\s*=\s*)(?P<value>[^;]*?)(?P<rest>\s*(;.*)?)$")


def stock_ini() -> Path:
    """Debian's ``virtuoso.ini`` (:data:`STOCK_INI`); :class:`VirtuosoError` when the package is not installed."""
    for path in STOCK_INI:
        if path.is_file():
            return path
    raise VirtuosoError(f"Debian's virtuoso.ini is not installed ({', '.join(map(str, STOCK_INI))})")


def rewrite_ini(text: str, values: dict[tuple[str, str], str]) -> str:
    """``text`` (an ini) with the values of the ``(section, key)`` pairs of ``values`` replaced, every other line
    (comments, spacing, the other settings) as it was. :class:`VirtuosoError` if a key is missing.

    >>> rewrite_ini("[A]\\nx = 1 ; note\\ny = 2\\n", {("A", "x"): "9"})
    '[A]\\nx = 9 ; note\\ny = 2\\n'
    """
    section = ""
    seen: set[tuple[str, str]] = set()
    lines = []
    for line in text.splitlines(keepends=True):
        body = line.rstrip("\r\n")
        ending = line[len(body) :]
        if match := _SECTION.match(body):
            section = match["name"].strip()
        elif (match := _SETTING.match(body)) and (section, match["key"].strip()) in values:
            key = (section, match["key"].strip())
            seen.add(key)
            body = f"{match['key']}{match['eq']}{values[key]}{match['rest']}"
        lines.append(body + ending)
    missing = set(values) - seen
    if missing:
        raise VirtuosoError(f"the stock virtuoso.ini has no {', '.join(f'[{s}] {k}' for s, k in sorted(missing))}")
    return "".join(lines)


def ini_values(text: str) -> dict[tuple[str, str], str]:
    """Every ``(section, key)`` of an ini and its value (comments dropped), for comparing two of them."""
    section = ""
    found: dict[tuple[str, str], str] = {}
    for line in text.splitlines():
        if match := _SECTION.match(line):
            section = match["name"].strip()
        elif match := _SETTING.match(line):
            found[(section, match["key"].strip())] = match["value"].strip()
    return found


def private_ini(stock: str, directory: Path, sql_port: int, http_port: int, max_rows: int) -> str:
    """The stock ini with only :data:`CHANGED_KEYS` rewritten for a private server in ``directory``."""
    stock_dirs = ini_values(stock).get(("Parameters", "DirsAllowed"), ".")
    values = {
        ("Database", "DatabaseFile"): f"{directory}/virtuoso.db",
        ("Database", "ErrorLogFile"): f"{directory}/virtuoso.log",
        ("Database", "LockFile"): f"{directory}/virtuoso.lck",
        ("Database", "TransactionFile"): f"{directory}/virtuoso.trx",
        ("Database", "xa_persistent_file"): f"{directory}/virtuoso.pxa",
        ("TempDatabase", "DatabaseFile"): f"{directory}/virtuoso-temp.db",
        ("TempDatabase", "TransactionFile"): f"{directory}/virtuoso-temp.trx",
        ("Parameters", "ServerPort"): f"127.0.0.1:{sql_port}",
        ("Parameters", "DirsAllowed"): f"{stock_dirs}, {directory}",
        ("HTTPServer", "ServerPort"): f"127.0.0.1:{http_port}",
        ("HTTPServer", "ServerRoot"): f"{directory}/vsp",
        ("SPARQL", "ResultSetMaxRows"): str(max_rows),
    }
    assert {(s, k) for s, keys in CHANGED_KEYS.items() for k in keys} == set(values)
    return rewrite_ini(stock, values)


class VirtuosoError(RuntimeError):
    """Virtuoso could not be started or configured (the message carries the end of its log)."""


@dataclass
class VirtuosoServer:
    """A running ``virtuoso-t`` and the endpoints and credentials of its SPARQL user."""

    directory: Path
    sql_port: int
    http_port: int
    process: subprocess.Popen[bytes]
    user: str = "ioir"
    password: str = field(default="", repr=False)

    @property
    def base_url(self) -> str:
        """``http://127.0.0.1:{http_port}``."""
        return f"http://127.0.0.1:{self.http_port}"

    @property
    def query_url(self) -> str:
        """The public query endpoint."""
        return f"{self.base_url}/sparql"

    @property
    def update_url(self) -> str:
        """The authenticated endpoint for updates (Digest)."""
        return f"{self.base_url}/sparql-auth"

    @property
    def gsp_url(self) -> str:
        """The authenticated Graph Store Protocol endpoint."""
        return f"{self.base_url}/sparql-graph-crud-auth"

    def environment(self) -> dict[str, str]:
        """The ``IOIR_*`` settings of an app over this server."""
        return {
            "IOIR_BACKEND": "remote",
            "IOIR_REMOTE_QUERY_URL": self.query_url,
            "IOIR_REMOTE_UPDATE_URL": self.update_url,
            "IOIR_REMOTE_GSP_URL": self.gsp_url,
            "IOIR_REMOTE_USER": self.user,
            "IOIR_REMOTE_PASSWORD": self.password,
            "IOIR_REMOTE_AUTH": "digest",
        }

    def log_tail(self, lines: int = 30) -> str:
        """The end of the server's log (for error messages)."""
        text = ""
        for name in ("virtuoso.log", "stdout.log"):
            path = self.directory / name
            if path.is_file():
                text += path.read_text(encoding="utf-8", errors="replace")
        return "\n".join(text.splitlines()[-lines:])

    def sql(self, statements: str, *, timeout: float = 60.0) -> str:
        """Run SQL as ``dba`` with ``isql-vt`` (which exits 0 even when a statement fails: its output is checked)."""
        command = [CLIENT, f"127.0.0.1:{self.sql_port}", "dba", "dba", f"exec={statements}"]
        done = subprocess.run(command, capture_output=True, text=True, timeout=timeout, check=False)
        output = done.stdout + done.stderr
        if done.returncode != 0 or "*** Error" in output:
            raise VirtuosoError(f"isql-vt failed: {output.strip()[-2000:]}")
        return output

    def alive(self) -> bool:
        """Whether the process is still running."""
        return self.process.poll() is None

    def stop(self, timeout: float = 15.0) -> None:
        """SIGTERM (Virtuoso shuts down cleanly), SIGKILL after ``timeout``; idempotent."""
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()


def available() -> bool:
    """Whether ``virtuoso-t`` and ``isql-vt`` are installed."""
    return shutil.which(SERVER) is not None and shutil.which(CLIENT) is not None


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def _die_with_parent() -> None:
    """Ask Linux to kill the server when the process that started it dies (no orphan keeps running)."""
    with contextlib.suppress(OSError, AttributeError):
        ctypes.CDLL(None, use_errno=True).prctl(1, signal.SIGKILL)  # PR_SET_PDEATHSIG


def _launch(directory: Path, max_rows: int) -> VirtuosoServer:
    sql_port, http_port = _free_port(), _free_port()
    (directory / "vsp").mkdir(parents=True, exist_ok=True)
    ini = directory / "virtuoso.ini"
    stock = stock_ini().read_text(encoding="utf-8")
    ini.write_text(private_ini(stock, directory, sql_port, http_port, max_rows), encoding="utf-8")
    with (directory / "stdout.log").open("wb") as out:
        process = subprocess.Popen(
            [SERVER, "+foreground", "+configfile", str(ini)],
            cwd=directory,
            stdin=subprocess.DEVNULL,
            stdout=out,
            stderr=subprocess.STDOUT,
            preexec_fn=_die_with_parent,  # a single prctl call between fork and exec
        )
    return VirtuosoServer(directory, sql_port, http_port, process)


def _wait_until_ready(server: VirtuosoServer, timeout: float) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if not server.alive():
            return False
        try:
            response = httpx.get(server.query_url, params={"query": "ASK {}"}, timeout=2.0)
            if response.status_code == 200:
                return True
        except httpx.TransportError:
            pass
        time.sleep(0.2)
    return False


def start_virtuoso(
    directory: Path, *, user: str = "ioir", password: str | None = None, max_rows: int = 1_000_000, timeout: float = 90
) -> VirtuosoServer:
    """Start a Virtuoso whose database lives in ``directory`` (created; it should be empty).

    Ports are chosen free on 127.0.0.1 (tried again up to three times if one was taken meanwhile).
    """
    if not available():
        raise VirtuosoError(f"{SERVER} and {CLIENT} are needed: apt-get install virtuoso-opensource")
    directory = directory.resolve()
    directory.mkdir(parents=True, exist_ok=True)
    password = password or secrets.token_urlsafe(18)
    for attempt in range(3):
        server = _launch(directory, max_rows)
        if _wait_until_ready(server, timeout):
            break
        log = server.log_tail()
        server.stop()
        if attempt == 2 or "address already in use" not in log.lower():
            raise VirtuosoError(f"virtuoso-t did not start within {timeout:g} s:\n{log}")
        for leftover in directory.glob("virtuoso*"):
            if leftover.suffix != ".ini":
                leftover.unlink()
    server.user, server.password = user, password
    try:
        server.sql(
            f"DB.DBA.USER_CREATE('{user}', '{password}'); "
            f'GRANT SPARQL_SELECT TO "{user}"; GRANT SPARQL_UPDATE TO "{user}";'
        )
    except (VirtuosoError, subprocess.TimeoutExpired):
        server.stop()
        raise
    return server


def main(argv: list[str]) -> int:
    """``python -m tests.support.virtuoso DIR``: run a Virtuoso in DIR until Ctrl-C."""
    if len(argv) != 1:
        sys.stderr.write("usage: python -m tests.support.virtuoso DIRECTORY\n")
        return 2
    server = start_virtuoso(Path(argv[0]))
    for name, value in server.environment().items():
        sys.stdout.write(f"export {name}={value}\n")
    sys.stdout.write(f"# Virtuoso is running (pid {server.process.pid}); Ctrl-C stops it\n")
    sys.stdout.flush()
    try:
        server.process.wait()
    except KeyboardInterrupt:
        pass
    finally:
        server.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
