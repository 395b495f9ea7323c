"""Mixed load by hand: clients running expensive queries while others browse pages, against a live ioir-kg on
this machine. Reports the latency of each kind of request (p50, p95, max) and what came back.

    IOIR_STORE_PATH=/tmp/kg/store .venv/bin/ioir-kg serve --port 8765 &      # a server over the bundled data
    .venv/bin/python bench/mixed_load.py --url http://127.0.0.1:8765 [--seconds 60] [--heavy 4] [--browsers 4]

Each client has an address of its own on the loopback interface (heavy ones ``127.0.0.11`` …, browsers
``127.0.0.21`` …), as separate machines would: the server's per-client limit applies to each. A heavy client runs
one expensive query after another (a ``COUNT`` over a cross product, several seconds of CPU); a browser loads the
home page, entity pages, competency queries (as pages and as JSON), an ``ASK`` and the search box in turn. Loopback
only, at most 16 clients, at most 600 s; the target is a page p95 under 1 s. Not a test: run it on demand.
"""

from __future__ import annotations

import argparse
import itertools
import statistics
import sys
import threading
import time
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from urllib.parse import urlsplit

import httpx


def _numbers(count: int) -> str:
    return " ".join(str(n) for n in range(count))


#: Several seconds of CPU on one core (64 million combinations counted).
EXPENSIVE = (
    f"SELECT (COUNT(*) AS ?n) WHERE {{ VALUES ?a {{ {_numbers(400)} }} VALUES ?b {{ {_numbers(400)} }} "
    f"VALUES ?c {{ {_numbers(400)} }} }}"
)
HTML = {"Accept": "text/html"}
#: What a browser asks for, in turn: (kind, path, parameters, headers).
PAGES: tuple[tuple[str, str, dict[str, str], dict[str, str]], ...] = (
    ("home", "/", {}, HTML),
    ("entity", "/id/org/eu", {}, HTML),
    ("competency", "/queries/missions-by-organization", {"org": "org/nato"}, {}),
    ("entity", "/id/mission/eupm", {}, HTML),
    ("competency-page", "/queries/dependencies-by-level", {"level": "concept/level-meso"}, HTML),
    ("entity", "/id/org/nato", {}, {"Accept": "text/turtle"}),
    ("ask", "/sparql", {"query": "ASK { ?s a <https://w3id.org/ioir/ontology#InternationalOrganization> }"}, {}),
    ("competency", "/queries/instruments-between", {"a": "org/eu", "b": "org/nato"}, {}),
    ("search", "/search", {"q": "NATO"}, {}),
    ("entity", "/id/org/un", {}, HTML),
)
#: Kinds that count as pages for the summary line.
PAGE_KINDS = frozenset(kind for kind, *_ in PAGES)


@dataclass
class Tally:
    """Latencies and statuses by kind of request, shared by the client threads."""

    latencies: dict[str, list[float]] = field(default_factory=lambda: defaultdict(list))
    statuses: dict[str, Counter[str]] = field(default_factory=lambda: defaultdict(Counter))
    lock: threading.Lock = field(default_factory=threading.Lock)

    def record(self, kind: str, seconds: float, status: str) -> None:
        """Keep one request's latency and outcome."""
        with self.lock:
            self.latencies[kind].append(seconds)
            self.statuses[kind][status] += 1


def _timed(
    client: httpx.Client, tally: Tally, kind: str, path: str, params: dict[str, str], headers: dict[str, str]
) -> None:
    started = time.monotonic()
    try:
        response = client.get(path, params=params, headers=headers)
        status = str(response.status_code)
    except httpx.HTTPError as exc:
        status = type(exc).__name__
    tally.record(kind, time.monotonic() - started, status)


def heavy(url: str, source: str, deadline: float, tally: Tally) -> None:
    """One expensive query after another until ``deadline``."""
    with httpx.Client(base_url=url, timeout=120, transport=httpx.HTTPTransport(local_address=source)) as client:
        while time.monotonic() < deadline:
            _timed(client, tally, "expensive", "/sparql", {"query": EXPENSIVE}, {})


def browser(url: str, source: str, offset: int, deadline: float, tally: Tally) -> None:
    """The pages of :data:`PAGES` in turn (starting at ``offset``) until ``deadline``, with a short pause between."""
    pages = itertools.islice(itertools.cycle(PAGES), offset, None)
    with httpx.Client(base_url=url, timeout=120, transport=httpx.HTTPTransport(local_address=source)) as client:
        for kind, path, params, headers in pages:
            if time.monotonic() >= deadline:
                return
            _timed(client, tally, kind, path, params, headers)
            time.sleep(0.1)


def _row(kind: str, values: list[float], statuses: Counter[str]) -> str:
    cuts = statistics.quantiles(values, n=100, method="inclusive") if len(values) > 1 else values * 99
    shown = " ".join(f"{status}:{count}" for status, count in sorted(statuses.items()))
    return (
        f"{kind:<16}{len(values):>6}{1000 * cuts[49]:>9.0f}{1000 * cuts[94]:>9.0f}{1000 * max(values):>9.0f}  {shown}"
    )


def main(argv: list[str]) -> int:
    """Run the load and print the table."""
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--url", required=True, help="the server, on 127.0.0.1")
    parser.add_argument("--seconds", type=float, default=60.0)
    parser.add_argument("--heavy", type=int, default=4, help="clients running expensive queries")
    parser.add_argument("--browsers", type=int, default=4, help="clients browsing pages")
    args = parser.parse_args(argv)
    if urlsplit(args.url).hostname not in ("127.0.0.1", "localhost"):
        parser.error("--url must be a server on 127.0.0.1 (this load is for this machine only)")
    if not 0 < args.seconds <= 600 or not 0 <= args.heavy <= 8 or not 0 <= args.browsers <= 8:
        parser.error("at most 600 s, 8 heavy clients and 8 browsers")
    tally = Tally()
    started = time.monotonic()
    deadline = started + args.seconds
    threads = [
        threading.Thread(target=heavy, args=(args.url, f"127.0.0.{11 + i}", deadline, tally)) for i in range(args.heavy)
    ]
    threads += [
        threading.Thread(target=browser, args=(args.url, f"127.0.0.{21 + i}", 3 * i, deadline, tally))
        for i in range(args.browsers)
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    elapsed = time.monotonic() - started
    print(f"{args.heavy} heavy clients, {args.browsers} browsers, {elapsed:.0f} s against {args.url}")
    print(f"{'kind':<16}{'count':>6}{'p50 ms':>9}{'p95 ms':>9}{'max ms':>9}  statuses")
    pages: list[float] = []
    page_statuses: Counter[str] = Counter()
    for kind in sorted(tally.latencies):
        print(_row(kind, tally.latencies[kind], tally.statuses[kind]))
        if kind in PAGE_KINDS:
            pages += tally.latencies[kind]
            page_statuses += tally.statuses[kind]
    if pages:
        print(_row("all pages", pages, page_statuses))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
