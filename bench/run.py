"""Run the benchmark: ioir-kg against ``oxigraph serve`` and rdflib-endpoint, side by side, in one invocation.

For one scale (``--size 10k|100k|1m|10m`` or a number of triples) the runner

1. generates the synthetic graph (:mod:`bench.generate`) and loads it, timed, into an empty store with
   ``ioir-kg load`` and with ``oxigraph load`` (then the ontology, untimed, into both);
2. starts on 127.0.0.1 ioir-kg (``uvicorn``, one process with the query workers of its production
   defaults), ``oxigraph serve --union-default-graph`` and ``rdflib-endpoint serve`` (which parses the
   files at start: its start-up time is its load time), and samples the memory of each process tree;
3. warms each up (every request twice) and checks that the servers give the same number of results;
4. measures with ``wrk`` (a native load generator, so the client is not the bottleneck): per query of the
   mix, and for the whole mix, p50/p95 latency and throughput at 1, 4 and 16 concurrent clients; the
   entity pages, the search box and the competency queries of ioir-kg against the same SPARQL sent to
   the peers; the median validation time of a 50-triple assertion (``POST /validate``);
5. writes the results as JSON to ``bench/results/`` and prints Markdown tables with ratios.

Cells of a server whose single request takes longer than ``--cap`` seconds are not run (reported as
capped); rdflib-endpoint is measured after the two others so that its queries cannot slow them down.
"""

from __future__ import annotations

import argparse
import contextlib
import io
import json
import math
import os
import platform
import re
import resource
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import quote

import httpx

from bench.generate import SIZES, GenStats, generate
from bench.mix import PROJECT, Page, Query, assertion_body, pages, picks, sparql_mix
from ioir_kg.config import Settings
from ioir_kg.store.loading import load_sources
from ioir_kg.store.oxigraph import OxigraphStore

BENCH = Path(__file__).resolve().parent
RESULTS = BENCH / "results"
LUA = BENCH / "wrk_mix.lua"
ONTOLOGY_FILES = [
    PROJECT / "ontology" / "ioir.ttl",
    PROJECT / "ontology" / "schemes.ttl",
    *sorted((PROJECT / "ontology" / "imports").glob("*.ttl")),
]
GRAPH_BASE = "https://w3id.org/ioir/graph/"
IOIR, OXIGRAPH, RDFLIB = "ioir-kg", "oxigraph", "rdflib-endpoint"
BIN = Path(sys.executable).parent
OX_LOAD = [str(BIN / "oxigraph"), "load", "--location"]
OX_SERVE = [str(BIN / "oxigraph"), "serve", "--location"]
#: oxigraph serve with ioir-kg's dataset semantics. Not ``--timeout-s``: it starts a timer thread per query that
#: lives for the whole timeout, and at a thousand queries a second the threads run out (EAGAIN, then a crash).
OX_OPTIONS = ["--union-default-graph"]
UVICORN = [str(BIN / "python"), "-m", "uvicorn", "--factory", "ioir_kg.api.asgi:make_app"]
RDFLIB_SERVE = [str(BIN / "rdflib-endpoint"), "serve", "--host", "127.0.0.1"]


def log(message: str) -> None:
    """Progress on stderr (the tables go to stdout)."""
    print(f"[{time.strftime('%H:%M:%S')}] {message}", file=sys.stderr, flush=True)


# -- processes and memory -----------------------------------------------------------------------------


def _children(pid: int) -> list[int]:
    """The direct children of ``pid`` (Linux ``/proc``)."""
    found: list[int] = []
    with contextlib.suppress(OSError):
        for task in os.listdir(f"/proc/{pid}/task"):
            with contextlib.suppress(OSError), open(f"/proc/{pid}/task/{task}/children", encoding="ascii") as f:
                found += [int(p) for p in f.read().split()]
    return found


def process_tree(pid: int) -> list[int]:
    """``pid`` and all its descendants."""
    tree, queue = [], [pid]
    while queue:
        current = queue.pop()
        tree.append(current)
        queue += _children(current)
    return tree


def pss_bytes(pid: int) -> int:
    """The proportional set size of a process (0 once it has exited)."""
    with contextlib.suppress(OSError), open(f"/proc/{pid}/smaps_rollup", encoding="ascii") as f:
        for line in f:
            if line.startswith("Pss:"):
                return int(line.split()[1]) * 1024
    return 0


def cpu_seconds(pid: int) -> float:
    """User + system CPU time of a process so far."""
    with contextlib.suppress(OSError, ValueError, IndexError), open(f"/proc/{pid}/stat", encoding="ascii") as f:
        fields = f.read().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
    return 0.0


class MemoryMonitor:
    """Samples the proportional set size (PSS) of a process and all its descendants; keeps the peak.

    PSS counts a page shared by n processes as 1/n to each, so forked query workers are not counted
    several times (their RSS would be).
    """

    def __init__(self, pid: int, interval: float = 0.5) -> None:
        self.pid = pid
        self.interval = interval
        self.peak = 0
        self.last = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()

    def sample(self) -> int:
        """The tree's current PSS in bytes (0 once it has exited)."""
        return sum(pss_bytes(pid) for pid in process_tree(self.pid))

    def _run(self) -> None:
        while not self._stop.is_set():
            self.last = self.sample()
            self.peak = max(self.peak, self.last)
            self._stop.wait(self.interval)

    def stop(self) -> int:
        """Stop sampling; the peak in bytes."""
        self._stop.set()
        self._thread.join()
        return self.peak


def free_port() -> int:
    """A TCP port free on 127.0.0.1 right now."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def timed_run(command: Sequence[str], env: dict[str, str] | None = None) -> tuple[float, int]:
    """Run a command to completion; its wall time in seconds and its peak memory (PSS of the tree) in bytes."""
    started = time.perf_counter()
    process = subprocess.Popen(command, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    monitor = MemoryMonitor(process.pid, interval=0.2)
    output, _ = process.communicate()
    elapsed = time.perf_counter() - started
    peak = monitor.stop()
    if process.returncode != 0:
        raise RuntimeError(f"{' '.join(command)} failed:\n{output.decode(errors='replace')[-2000:]}")
    return elapsed, peak


@dataclass
class Server:
    """A running server: its base URL, SPARQL path, process and memory monitor."""

    name: str
    url: str
    sparql_path: str
    command: list[str]
    env: dict[str, str]
    ready_path: str
    log_path: Path
    process: subprocess.Popen[bytes] | None = None
    monitor: MemoryMonitor | None = None
    start_seconds: float = 0.0
    restarts: int = 0

    def start(self, timeout: float) -> None:
        """Start the process and wait until it answers ``ready_path``."""
        with self.log_path.open("ab") as out:
            self.process = subprocess.Popen(
                self.command, env=self.env, stdout=out, stderr=subprocess.STDOUT, start_new_session=True
            )
        self.monitor = MemoryMonitor(self.process.pid)
        started = time.perf_counter()
        deadline = started + timeout
        while time.perf_counter() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"{self.name} exited at start-up; see {self.log_path}")
            try:
                if httpx.get(self.url + self.ready_path, timeout=5).status_code == 200:
                    self.start_seconds = time.perf_counter() - started
                    return
            except httpx.TransportError:
                pass
            time.sleep(0.2)
        raise RuntimeError(f"{self.name} did not answer within {timeout:.0f} s; see {self.log_path}")

    def stop(self) -> int:
        """Stop the process group (SIGTERM, then SIGKILL); the peak memory seen, in bytes."""
        peak = self.monitor.stop() if self.monitor else 0
        if self.process is not None and self.process.poll() is None:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(self.process.pid, signal.SIGTERM)
            try:
                self.process.wait(20)
            except subprocess.TimeoutExpired:
                with contextlib.suppress(ProcessLookupError):
                    os.killpg(self.process.pid, signal.SIGKILL)
                self.process.wait()
        return peak

    def busy(self) -> bool:
        """Whether the server's processes are using the CPU (a query still running)."""
        if self.process is None or self.process.poll() is not None:
            return False
        procs = process_tree(self.process.pid)
        before = sum(cpu_seconds(p) for p in procs)
        time.sleep(1.0)
        after = sum(cpu_seconds(p) for p in procs)
        return after - before > 0.2

    def query_path(self, sparql: str) -> str:
        """The GET path of a SPARQL query on this server."""
        return f"{self.sparql_path}?query={quote(sparql, safe='')}"


# -- measuring ------------------------------------------------------------------------------------------


@dataclass
class Cell:
    """One measurement: a server, an item (query, page or the mix), a number of clients."""

    server: str
    item: str
    clients: int
    requests: int = 0
    seconds: float = 0.0
    rps: float | None = None
    p50_ms: float | None = None
    p95_ms: float | None = None
    errors: int = 0
    client_cpu: float | None = None
    load_avg: float = 0.0
    capped: str = ""


@dataclass
class Warm:
    """The warm-up of one request on one server: latency of the second run, size of the answer, status."""

    server: str
    item: str
    seconds: float | None
    status: int | None
    results: int | None
    error: str = ""


def count_results(body: bytes, accept: str) -> int | None:
    """Rows of a SPARQL JSON answer, lines of N-Triples, else ``None``."""
    if accept == "application/sparql-results+json":
        try:
            data = json.loads(body)
        except ValueError:
            return None
        if "boolean" in data:
            return 1
        return len(data.get("results", {}).get("bindings", []))
    if accept == "application/n-triples":
        return sum(1 for line in body.splitlines() if line.strip())
    if accept == "application/json":
        try:
            return len(json.loads(body).get("results", []))
        except (ValueError, AttributeError):
            return None
    return None


def warm(server: Server, item: str, path: str, accept: str, cap: float) -> Warm:
    """Send the request twice (the first fills caches); time the second."""
    seconds: float | None = None
    status: int | None = None
    results: int | None = None
    with httpx.Client(base_url=server.url, timeout=cap) as client:
        for _ in range(2):
            started = time.perf_counter()
            try:
                response = client.get(path, headers={"Accept": accept})
            except httpx.TimeoutException:
                return Warm(server.name, item, None, None, None, f"no answer within {cap:g} s")
            except httpx.TransportError as exc:
                return Warm(server.name, item, None, None, None, f"transport error: {exc}")
            seconds = time.perf_counter() - started
            status = response.status_code
            results = count_results(response.content, accept) if status == 200 else None
    return Warm(server.name, item, seconds, status, results, "" if status == 200 else f"HTTP {status}")


def run_wrk(server: Server, requests_file: Path, clients: int, seconds: int, cap: float) -> dict[str, Any]:
    """Run wrk for ``seconds`` with ``clients`` connections cycling through the requests; its summary."""
    threads = min(clients, 2)
    command = [
        "wrk",
        f"-t{threads}",
        f"-c{clients}",
        f"-d{seconds}s",
        f"--timeout={max(1, math.ceil(cap))}s",
        "-s",
        str(LUA),
        server.url,
        "--",
        str(requests_file),
    ]
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    started = time.perf_counter()
    done = subprocess.run(command, capture_output=True, text=True, check=False, timeout=seconds + cap + 60)
    elapsed = time.perf_counter() - started
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    for line in done.stdout.splitlines():
        if line.startswith("WRK_JSON "):
            summary: dict[str, Any] = json.loads(line[len("WRK_JSON ") :])
            cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
            summary["client_cpu"] = cpu / elapsed if elapsed else None
            return summary
    raise RuntimeError(f"wrk gave no summary:\n{done.stdout}\n{done.stderr}")


@dataclass
class Item:
    """Something measured on every server: the request each server gets for it."""

    name: str
    what: str
    requests: dict[str, list[tuple[str, str]]] = field(default_factory=dict)  # server → [(path, accept)]


class Runner:
    """One benchmark invocation at one scale."""

    def __init__(self, args: argparse.Namespace) -> None:
        self.args = args
        self.size: int = args.target
        self.work = Path(args.work).resolve() / f"{self.size}"
        self.cells: list[Cell] = []
        self.warms: list[Warm] = []
        self.loads: dict[str, dict[str, Any]] = {}
        self.memory: dict[str, int] = {}
        self.validation: dict[str, Any] = {}
        self.notes: list[str] = []
        self.servers: dict[str, Server] = {}
        self.stats: GenStats | None = None

    # -- data and loading --------------------------------------------------------------------------
    def prepare(self) -> tuple[Path, GenStats]:
        """Generate the data and load it into fresh ioir-kg and oxigraph stores, timed."""
        data, stats = generate(self.size, Path(self.args.data).resolve())
        self.stats = stats
        log(f"data: {data} ({stats.triples} triples)")
        if self.work.exists():
            shutil.rmtree(self.work)
        self.work.mkdir(parents=True)
        graph = GRAPH_BASE + "files/" + data.stem
        ox_store = self.work / "oxigraph"
        seconds, peak = timed_run([*OX_LOAD, str(ox_store), "--file", str(data), "--graph", graph])
        self.loads[OXIGRAPH] = {"seconds": seconds, "peak_bytes": peak, "triples": stats.triples}
        log(f"oxigraph load: {seconds:.1f} s")
        for file in ONTOLOGY_FILES:
            timed_run([*OX_LOAD, str(ox_store), "--file", str(file), "--graph", GRAPH_BASE + "ontology/" + file.stem])
        env = self.ioir_env()
        seconds, peak = timed_run([str(BIN / "ioir-kg"), "load", str(data)], env=env)
        self.loads[IOIR] = {"seconds": seconds, "peak_bytes": peak, "triples": stats.triples}
        log(f"ioir-kg load: {seconds:.1f} s")
        timed_run([str(BIN / "ioir-kg"), "load", *map(str, ONTOLOGY_FILES)], env=env)
        return data, stats

    def ioir_env(self) -> dict[str, str]:
        """The environment of ioir-kg: production defaults, the benchmark's store, no bundled data, and no
        per-client share of the workers (wrk's 16 connections all come from one address)."""
        env = {k: v for k, v in os.environ.items() if not k.startswith("IOIR_")}
        env.update(
            {
                "IOIR_STORE_PATH": str(self.work / "ioir" / "store"),
                "IOIR_LOAD_BUNDLED": "false",
                "IOIR_DATA_ROOT": str(PROJECT),
                "IOIR_MAX_QUERIES_PER_CLIENT": "1000",
            }
        )
        return env

    # -- servers -------------------------------------------------------------------------------------
    def make_servers(self, data: Path) -> None:
        """Describe the three servers (each on a free port of 127.0.0.1)."""
        port = free_port()
        self.servers[IOIR] = Server(
            IOIR,
            f"http://127.0.0.1:{port}",
            "/sparql",
            [*UVICORN, "--host", "127.0.0.1", "--port", str(port), "--log-level", "warning", "--no-access-log"],
            self.ioir_env(),
            "/health",
            self.work / "ioir-kg.log",
        )
        port = free_port()
        self.servers[OXIGRAPH] = Server(
            OXIGRAPH,
            f"http://127.0.0.1:{port}",
            "/query",
            [*OX_SERVE, str(self.work / "oxigraph"), "--bind", f"127.0.0.1:{port}", *OX_OPTIONS],
            dict(os.environ),
            "/query?query=ASK%7B%7D",
            self.work / "oxigraph.log",
        )
        if not self.args.no_rdflib:
            port = free_port()
            self.servers[RDFLIB] = Server(
                RDFLIB,
                f"http://127.0.0.1:{port}",
                "/",
                [*RDFLIB_SERVE, "--port", str(port), *map(str, ONTOLOGY_FILES), str(data)],
                dict(os.environ),
                "/?query=ASK%7B%7D",
                self.work / "rdflib-endpoint.log",
            )

    def start_servers(self) -> None:
        """Start every server; rdflib-endpoint's start-up (it parses the files) is its load time."""
        for server in self.servers.values():
            log(f"starting {server.name} at {server.url}")
            server.start(timeout=self.args.start_timeout)
            log(f"{server.name} ready in {server.start_seconds:.1f} s")
        if RDFLIB in self.servers:
            rdflib = self.servers[RDFLIB]
            self.loads[RDFLIB] = {"seconds": rdflib.start_seconds, "peak_bytes": None, "note": "parse at start-up"}

    def stop_servers(self) -> None:
        """Stop every server and keep their peak memory."""
        for name, server in self.servers.items():
            self.memory[name] = max(self.memory.get(name, 0), server.stop())

    # -- the items -------------------------------------------------------------------------------------
    def items(self, stats: GenStats) -> tuple[list[Item], list[Item]]:
        """The ``/sparql`` items (each query and the whole mix) and the page items."""
        mix = sparql_mix(stats)
        sparql_items = [self._query_item(q) for q in mix]
        whole = Item("MIX", "the ten queries of the mix in turn")
        for server in self.servers.values():
            whole.requests[server.name] = [(server.query_path(q.sparql), q.accept) for q in mix]
        page_items = [self._page_item(p) for p in pages(stats)]
        return [whole, *sparql_items], page_items

    def selected(self, items: list[Item]) -> tuple[list[Item], list[Item]]:
        """The items to measure (``--items``) and those to warm up (the mix needs each of its queries)."""
        if not self.args.items:
            return items, items
        wanted = set(self.args.items.split(","))
        measured = [i for i in items if i.name in wanted]
        warmed = [i for i in items if i.name in wanted or ("MIX" in wanted and i.name in self._mix_names)]
        return measured, warmed

    def _query_item(self, query: Query) -> Item:
        item = Item(query.name, query.what)
        for server in self.servers.values():
            item.requests[server.name] = [(server.query_path(query.sparql), query.accept)]
        return item

    def _page_item(self, page: Page) -> Item:
        item = Item(page.name, page.what)
        for server in self.servers.values():
            if server.name == IOIR:
                item.requests[server.name] = [(page.path, page.accept)]
            else:
                item.requests[server.name] = [(server.query_path(page.peer.sparql), page.peer.accept)]
        return item

    # -- measuring -----------------------------------------------------------------------------------------
    def warm_up(self, items: list[Item], server: Server) -> dict[str, float | None]:
        """Warm ``server`` on every single-request item; the latency of each (``None``: failed or capped)."""
        latency: dict[str, float | None] = {}
        failed: dict[tuple[str, str], Warm] = {}  # a request that failed is not sent again for another item
        for item in items:
            reqs = item.requests.get(server.name, [])
            if len(reqs) != 1:
                continue
            path, accept = reqs[0]
            if (path, accept) in failed:
                result = Warm(server.name, item.name, None, None, None, failed[(path, accept)].error)
                self.warms.append(result)
                latency[item.name] = None
                continue
            result = warm(server, item.name, path, accept, self.args.cap)
            if result.error:
                failed[(path, accept)] = result
            self.warms.append(result)
            latency[item.name] = result.seconds if not result.error else None
            if result.error:
                log(f"  {server.name} {item.name}: {result.error}")
                self.settle(server)
        return latency

    def settle(self, server: Server) -> None:
        """After a request given up on, wait until the server stops computing it (restart it if it will not)."""
        deadline = time.monotonic() + self.args.settle
        while server.busy():
            if time.monotonic() > deadline:
                log(f"  {server.name} still busy after {self.args.settle:g} s: restarting it")
                self.memory[server.name] = max(self.memory.get(server.name, 0), server.stop())
                server.restarts += 1
                server.start(timeout=self.args.start_timeout)
                return

    def measure(self, items: list[Item], server_names: list[str], latency: dict[str, dict[str, float | None]]) -> None:
        """Every item × clients × server (servers interleaved per cell so that noise hits all alike)."""
        for item in items:
            for clients in self.args.clients:
                for name in server_names:
                    server = self.servers[name]
                    self.cells.append(self.cell(server, item, clients, latency[name]))

    def cell(self, server: Server, item: Item, clients: int, latency: dict[str, float | None]) -> Cell:
        """Run one wrk cell; its duration grows with the latency of the requests (up to ``--cell-max``)."""
        reqs = item.requests[server.name]
        names = [item.name] if len(reqs) == 1 else list(self._mix_names)
        parts = [latency.get(name) for name in names]
        cell = Cell(server.name, item.name, clients, load_avg=os.getloadavg()[0])
        if not parts or any(p is None for p in parts):
            cell.capped = f"a request took over {self.args.cap:g} s (or failed)"
            return cell
        known = [p for p in parts if p is not None]
        queueing = max(1.0, clients / (os.cpu_count() or 2))  # requests per core waiting their turn
        if max(known) * queueing > self.args.cell_max:
            cell.capped = f"a request would wait ~{max(known) * queueing:.0f} s > {self.args.cell_max:g} s"
            return cell
        wanted = max(self.args.duration, 3 * statistics.mean(known) * queueing, sum(known) if len(known) > 1 else 0)
        wanted = min(wanted, self.args.cell_max)
        seconds = math.ceil(wanted)
        requests_file = self.work / f"req-{server.name}-{len(self.cells)}.tsv"
        requests_file.write_text("".join(f"{path}\t{accept}\n" for path, accept in reqs), encoding="utf-8")
        try:
            summary = run_wrk(server, requests_file, clients, seconds, max(self.args.cap, 30.0))
        except (RuntimeError, subprocess.TimeoutExpired) as exc:
            cell.capped = f"failed: {str(exc).strip().splitlines()[-1][:120]}"
            log(f"  {server.name:16} {item.name:24} c={clients:<2} {cell.capped}")
            self.notes.append(f"{server.name} {item.name} c={clients}: {cell.capped}")
            if server.process is not None and server.process.poll() is not None:
                self.notes.append(f"{server.name} exited (code {server.process.returncode}); restarted")
                self.memory[server.name] = max(self.memory.get(server.name, 0), server.stop())
                server.restarts += 1
                server.start(timeout=self.args.start_timeout)
            return cell
        cell.requests = summary["requests"]
        cell.seconds = summary["duration_us"] / 1e6
        cell.errors = sum(summary[k] for k in ("connect_errors", "read_errors", "write_errors", "status_errors"))
        cell.errors += summary["timeouts"]
        cell.client_cpu = summary["client_cpu"]
        if cell.requests:
            cell.rps = cell.requests / cell.seconds
            cell.p50_ms = summary["p50"] / 1000
            cell.p95_ms = summary["p95"] / 1000
        log(
            f"  {server.name:16} {item.name:24} c={clients:<2} {cell.rps or 0:8.1f} req/s "
            f"p50 {cell.p50_ms or 0:8.1f} ms p95 {cell.p95_ms or 0:8.1f} ms err {cell.errors}"
        )
        if cell.errors and server.name == RDFLIB:
            self.settle(server)
        return cell

    _mix_names: tuple[str, ...] = ()

    def validate(self, stats: GenStats) -> None:
        """Median time of ``POST /validate`` with a 50-triple assertion on ioir-kg (sequential requests)."""
        server = self.servers[IOIR]
        times: list[float] = []
        statuses: list[int] = []
        conforms: list[object] = []
        with httpx.Client(base_url=server.url, timeout=120) as client:
            for serial in range(self.args.validations + 2):
                body = assertion_body(stats, serial=serial)
                started = time.perf_counter()
                response = client.post(
                    "/validate",
                    content=body.encode(),
                    headers={"Content-Type": "text/turtle", "Accept": "application/json"},
                )
                elapsed = time.perf_counter() - started
                if serial >= 2:  # the first two warm the validator up
                    times.append(elapsed)
                    statuses.append(response.status_code)
                    with contextlib.suppress(ValueError, AttributeError):
                        conforms.append(response.json().get("conforms"))
        self.validation = {
            "triples": 50,
            "runs": len(times),
            "median_ms": statistics.median(times) * 1000 if times else None,
            "p95_ms": sorted(times)[max(0, math.ceil(0.95 * len(times)) - 1)] * 1000 if times else None,
            "statuses": sorted(set(statuses)),
            "conforms": sorted({str(c) for c in conforms}),
        }
        log(f"validation: median {self.validation['median_ms']:.0f} ms, statuses {self.validation['statuses']}")

    def validation_bench(self, stats: GenStats) -> dict[str, Any]:
        """The assertion engineer's ``bench/validation_bench.py`` on this scale's ioir-kg store (servers stopped).

        It needs the bundled data too (its assertion cites source s002), so it runs on a copy with it loaded.
        """
        from bench import validation_bench

        copy = self.work / "validation" / "store"
        shutil.copytree(self.work / "ioir" / "store", copy)
        settings = Settings(store_path=copy, data_root=PROJECT)
        store = OxigraphStore(copy)
        try:
            load_sources(store, settings)
        finally:
            store.close()
        a, _ = picks(stats)
        orgs = [f"org/syn-o{(a + k) % stats.blocks}" for k in range(5)]
        body = validation_bench.assertion(orgs, ["place/syn-p3", "place/syn-p5"], "run")
        printed = io.StringIO()
        try:
            with contextlib.redirect_stdout(printed):
                validation_bench.measure(f"synthetic {stats.triples}", copy, body, self.args.validations)
        except Exception as exc:  # reported, not fatal: the other figures stand
            return {"error": f"{type(exc).__name__}: {exc}"[:500]}
        line = printed.getvalue().strip()
        found = re.search(r"pipeline median (\d+) ms .*POST /validate median (\d+) ms", line)
        result: dict[str, Any] = {"line": line}
        if found:
            result["pipeline_median_ms"] = float(found.group(1))
            result["http_median_ms"] = float(found.group(2))
        log(f"validation_bench: {line}")
        return result

    # -- the whole run ---------------------------------------------------------------------------------------
    def run(self) -> dict[str, Any]:
        """Prepare, start, warm up, measure, stop; the results."""
        started = time.time()
        load_before = os.getloadavg()
        data, stats = self.prepare()
        self.make_servers(data)
        try:
            self.start_servers()
            sparql_items, page_items = self.items(stats)
            self._mix_names = tuple(q.name for q in sparql_mix(stats))
            everything, warmed = self.selected(sparql_items + page_items)
            names = list(self.servers)
            latency = {}
            for name in names:
                log(f"warming up {name}")
                latency[name] = self.warm_up(warmed, self.servers[name])
            self.check_answers(warmed)
            fast = [n for n in names if n != RDFLIB]
            log("measuring ioir-kg and oxigraph serve (interleaved)")
            self.measure(everything, fast, latency)
            if RDFLIB in self.servers:
                log("measuring rdflib-endpoint")
                self.measure(everything, [RDFLIB], latency)
            if not self.args.no_validation:
                self.validate(stats)
            for name, server in self.servers.items():
                self.memory[name] = max(self.memory.get(name, 0), server.monitor.peak if server.monitor else 0)
        finally:
            self.stop_servers()
        if not self.args.no_validation and not self.args.no_validation_bench:
            self.validation["validation_bench"] = self.validation_bench(stats)
        return {
            "size": self.size,
            "triples": stats.triples,
            "started": time.strftime("%Y-%m-%dT%H:%M:%S", time.localtime(started)),
            "minutes": (time.time() - started) / 60,
            "machine": {
                "cores": os.cpu_count(),
                "load_before": load_before,
                "load_after": os.getloadavg(),
                "python": platform.python_version(),
                "memory_gib": os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 2**30,
            },
            "settings": {k: v for k, v in vars(self.args).items() if k not in ("func",)},
            "loads": self.loads,
            "memory_peak_bytes": self.memory,
            "restarts": {n: s.restarts for n, s in self.servers.items()},
            "validation": self.validation,
            "warmups": [asdict(w) for w in self.warms],
            "cells": [asdict(c) for c in self.cells],
            "notes": self.notes,
        }

    def check_answers(self, items: list[Item]) -> None:
        """Note every item whose servers disagree on the number of results."""
        by_item: dict[str, dict[str, int | None]] = {}
        for w in self.warms:
            by_item.setdefault(w.item, {})[w.server] = w.results
        for item in items:
            counts = {k: v for k, v in by_item.get(item.name, {}).items() if v is not None}
            if len(set(counts.values())) > 1:
                self.notes.append(f"{item.name}: result counts differ: {counts}")
                log(f"  NOTE {item.name}: result counts differ: {counts}")


# -- report ---------------------------------------------------------------------------------------------------


def _fmt(value: float | None, digits: int = 1) -> str:
    return "–" if value is None else f"{value:,.{digits}f}"


def _ratio(mine: float | None, theirs: float | None) -> str:
    if not mine or not theirs:
        return "–"
    return f"{mine / theirs:.2f}×"


def report(results: dict[str, Any]) -> str:
    """Markdown tables with ratios against each peer (``×`` > 1: ioir-kg is faster or smaller)."""
    cells: dict[tuple[str, str, int], dict[str, Any]] = {
        (c["server"], c["item"], c["clients"]): c for c in results["cells"]
    }
    servers = [s for s in (IOIR, OXIGRAPH, RDFLIB) if any(c["server"] == s for c in results["cells"])]
    peers = [s for s in servers if s != IOIR]
    items = list(dict.fromkeys(c["item"] for c in results["cells"]))
    clients = sorted({c["clients"] for c in results["cells"]})
    m = results["machine"]
    out = [
        f"### {results['triples']:,} triples — {results['started']}",
        "",
        f"{m['cores']} cores, load average {m['load_before'][0]:.1f} before / {m['load_after'][0]:.1f} after; "
        f"{results['minutes']:.0f} min. `×` = ioir-kg relative to the peer (throughput ratio; for latency and "
        "memory, the peer's figure over ioir-kg's): above 1 ioir-kg is faster or smaller.",
        "",
        "**Load and memory**",
        "",
        "| | " + " | ".join(servers) + " | " + " | ".join(f"× {p}" for p in peers) + " |",
        "|---|" + "---:|" * (len(servers) + len(peers)),
    ]
    loads = results["loads"]
    load_s = {s: loads.get(s, {}).get("seconds") for s in servers}
    out.append(
        "| bulk load (s) | "
        + " | ".join(_fmt(load_s[s]) for s in servers)
        + " | "
        + " | ".join(_ratio(load_s[p], load_s[IOIR]) for p in peers)
        + " |"
    )
    mem = {s: results["memory_peak_bytes"].get(s) for s in servers}
    mem_mib = {s: (mem[s] / 2**20 if mem[s] else None) for s in servers}
    out.append(
        "| peak memory serving (MiB, PSS) | "
        + " | ".join(_fmt(mem_mib[s], 0) for s in servers)
        + " | "
        + " | ".join(_ratio(mem_mib[p], mem_mib[IOIR]) for p in peers)
        + " |"
    )
    load_mem = {s: loads.get(s, {}).get("peak_bytes") for s in servers}
    out.append(
        "| peak memory loading (MiB) | "
        + " | ".join(_fmt(load_mem[s] / 2**20 if load_mem[s] else None, 0) for s in servers)
        + " | "
        + " | ".join("–" for _ in peers)
        + " |"
    )
    header = (
        "| item | clients | "
        + " | ".join(f"{s} req/s" for s in servers)
        + " | "
        + " | ".join(f"× {p}" for p in peers)
        + " | "
        + " | ".join(f"{s} p50 / p95 ms" for s in servers)
        + " |"
    )
    out += ["", "**Throughput and latency** (wrk; `/sparql` items, then ioir-kg pages vs the same SPARQL on peers)", ""]
    out += [header, "|---|---:|" + "---:|" * (2 * len(servers) + len(peers))]
    for item in items:
        for n in clients:
            row = [cells.get((s, item, n), {}) for s in servers]
            rps = {s: r.get("rps") for s, r in zip(servers, row, strict=True)}
            lat = []
            for r in row:
                if r.get("capped"):
                    lat.append("capped")
                else:
                    err = f" ({r['errors']} err)" if r.get("errors") else ""
                    lat.append(f"{_fmt(r.get('p50_ms'))} / {_fmt(r.get('p95_ms'))}{err}")
            out.append(
                f"| {item} | {n} | "
                + " | ".join("capped" if r.get("capped") else _fmt(r.get("rps")) for r in row)
                + " | "
                + " | ".join(_ratio(rps[IOIR], rps[p]) for p in peers)
                + " | "
                + " | ".join(lat)
                + " |"
            )
    v = results.get("validation") or {}
    if v:
        out += [
            "",
            f"**Validation** of a 50-triple assertion (`POST /validate`, {v.get('runs')} runs): median "
            f"{_fmt(v.get('median_ms'), 0)} ms, p95 {_fmt(v.get('p95_ms'), 0)} ms (HTTP {v.get('statuses')}, "
            f"conforms {v.get('conforms')}).",
        ]
    vb = v.get("validation_bench") or {}
    if vb.get("line"):
        out += ["", f"`bench/validation_bench.py` on the same store (+ the bundled data): {vb['line']}"]
    elif vb.get("error"):
        out += ["", f"`bench/validation_bench.py` failed: {vb['error']}"]
    if results.get("notes"):
        out += ["", "Notes: " + "; ".join(results["notes"])]
    return "\n".join(out) + "\n"


def main(argv: list[str] | None = None) -> int:
    """``python -m bench.run --size 100k`` (see ``--help``)."""
    parser = argparse.ArgumentParser(description="ioir-kg vs oxigraph serve vs rdflib-endpoint, side by side.")
    parser.add_argument("--size", default="100k", help=f"triples: a number or one of {', '.join(SIZES)}")
    parser.add_argument("--clients", type=int, nargs="+", default=[1, 4, 16])
    parser.add_argument("--duration", type=float, default=5.0, help="seconds per wrk cell (more for slow requests)")
    parser.add_argument("--cell-max", type=float, default=60.0, help="longest wrk cell, seconds")
    parser.add_argument("--cap", type=float, default=30.0, help="a request slower than this is not measured")
    parser.add_argument("--settle", type=float, default=120.0, help="wait this long for a server to go idle")
    parser.add_argument("--start-timeout", type=float, default=3600.0)
    parser.add_argument("--validations", type=int, default=15)
    parser.add_argument("--no-rdflib", action="store_true", help="skip rdflib-endpoint")
    parser.add_argument("--no-validation", action="store_true")
    parser.add_argument("--no-validation-bench", action="store_true", help="skip bench/validation_bench.py")
    parser.add_argument("--items", help="measure only these items (comma-separated names; MIX for the mix)")
    parser.add_argument("--data", default=str(PROJECT / "var" / "bench" / "data"))
    parser.add_argument("--work", default=str(Path(tempfile.gettempdir()) / "ioir-bench"))
    parser.add_argument("--out", default=str(RESULTS))
    parser.add_argument("--report", metavar="JSON", help="only print the tables of a results file")
    args = parser.parse_args(argv)
    if args.report:
        print(report(json.loads(Path(args.report).read_text(encoding="utf-8"))))
        return 0
    if shutil.which("wrk") is None:
        print("wrk is required (Debian: apt-get install wrk)", file=sys.stderr)
        return 2
    args.target = SIZES.get(str(args.size).lower()) or int(args.size)
    previous = signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))  # stop the servers on the way out
    runner = Runner(args)
    try:
        results = runner.run()
    except BaseException:
        partial = Path(args.out) / f"{time.strftime('%Y%m%d-%H%M%S')}-{args.target}-partial.json"
        partial.parent.mkdir(parents=True, exist_ok=True)
        done = {"cells": [asdict(c) for c in runner.cells], "warmups": [asdict(w) for w in runner.warms]}
        partial.write_text(json.dumps(done | {"loads": runner.loads, "notes": runner.notes}, indent=1), "utf-8")
        log(f"failed; what was measured is in {partial}")
        raise
    finally:
        signal.signal(signal.SIGTERM, previous)
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    path = out / f"{time.strftime('%Y%m%d-%H%M%S')}-{args.target}.json"
    path.write_text(json.dumps(results, indent=1), encoding="utf-8")
    log(f"results: {path}")
    print(report(results))
    return 0


if __name__ == "__main__":
    sys.exit(main())
