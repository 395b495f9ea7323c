"""Benchmark: ways of loading the bundled data (``ontology/`` and ``data/``) into a Virtuoso with Debian's stock
``virtuoso.ini`` (``MaxQueryCostEstimationTime = 400``), each file into a named graph of its own.

    .venv/bin/python bench/virtuoso_load.py [--runs 3] [--extra var/bench/data/synthetic-100000.nt]

Methods, each into fresh graphs, every run:

* ``insert-define``: ``INSERT DATA`` requests of up to 10,000 triples (blocks of 1,000) preceded by
  ``DEFINE sql:big-data-const 1`` — what :class:`~ioir_kg.store.virtuoso.RemoteSparqlStore` sends;
* ``insert-small``: ``INSERT DATA`` requests of at most 1,000 triples, without the pragma (a file of more
  is then several requests, no longer atomic);
* ``gsp-post``: the Graph Store Protocol, ``POST`` of the file as Turtle to ``/sparql-graph-crud-auth``;
* ``ttlp-sql``: ``DB.DBA.TTLP`` through ``isql-vt`` (SQL: a reference only, the app speaks HTTP).

``insert-stock`` (one ``INSERT DATA`` without the pragma, as before the fix) is tried once to show which files
fail. The count of every graph is checked against the parsed file. The private Virtuoso runs on free
127.0.0.1 ports and is stopped at the end; nothing here is a timed test.
"""

from __future__ import annotations

import argparse
import shutil
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

import httpx
from pyoxigraph import RdfFormat, Triple, parse, serialize

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from ioir_kg.config import Settings  # noqa: E402
from ioir_kg.store.loading import bundled_files  # noqa: E402
from ioir_kg.store.virtuoso.client import insert_data  # noqa: E402
from ioir_kg.store.virtuoso.dialect import Skolemizer  # noqa: E402
from ioir_kg.store.virtuoso.store import REQUEST_TRIPLES  # noqa: E402
from tests.support.virtuoso import VirtuosoServer, start_virtuoso  # noqa: E402

SMALL_REQUEST = 1000


def _files(extra: list[Path]) -> list[tuple[Path, list[Triple]]]:
    out = []
    for path in [*bundled_files(Settings(data_root=ROOT)), *extra]:
        skolem = Skolemizer("https://w3id.org/ioir/")
        fmt = RdfFormat.from_extension(path.suffix.lstrip(".")) or RdfFormat.TURTLE
        out.append((path, [skolem.triple(q.triple) for q in parse(path=str(path), format=fmt)]))
    return out


class Loader:
    """The methods, against one server."""

    def __init__(self, server: VirtuosoServer, folder: Path) -> None:
        self.server = server
        self.folder = folder
        self.client = httpx.Client(timeout=600, auth=httpx.DigestAuth(server.user, server.password))

    def update(self, text: str) -> None:
        response = self.client.post(self.server.update_url, data={"update": text})
        if response.status_code != 200:
            raise RuntimeError(" ".join(response.text.split("SPARQL query:")[0].split())[:200])

    def insert_stock(self, graph: str, triples: list[Triple]) -> None:
        self.update(insert_data({graph: triples}, pragma=False))

    def insert_define(self, graph: str, triples: list[Triple]) -> None:
        for start in range(0, len(triples), REQUEST_TRIPLES):
            self.update(insert_data({graph: triples[start : start + REQUEST_TRIPLES]}, pragma=True))

    def insert_small(self, graph: str, triples: list[Triple]) -> None:
        for start in range(0, len(triples), SMALL_REQUEST):
            self.insert_stock(graph, triples[start : start + SMALL_REQUEST])

    def gsp_post(self, graph: str, triples: list[Triple]) -> None:
        body = serialize(triples, format=RdfFormat.N_TRIPLES) or b""
        response = self.client.post(
            self.server.gsp_url, params={"graph-uri": graph}, content=body, headers={"Content-Type": "text/turtle"}
        )
        if response.status_code >= 300:
            raise RuntimeError(f"HTTP {response.status_code}: {response.text[:200]}")

    def ttlp_sql(self, graph: str, triples: list[Triple]) -> None:
        source = self.folder / "ttlp.nt"
        source.write_bytes(serialize(triples, format=RdfFormat.N_TRIPLES) or b"")
        self.server.sql(f"DB.DBA.TTLP(file_to_string_output('{source}'), '', '{graph}', 0);")

    def count(self, graph: str) -> int:
        query = f"SELECT (COUNT(*) AS ?n) WHERE {{ GRAPH <{graph}> {{ ?s ?p ?o }} }}"
        response = self.client.post(
            self.server.query_url, data={"query": query}, headers={"Accept": "application/sparql-results+json"}
        )
        return int(response.json()["results"]["bindings"][0]["n"]["value"])


def main(argv: list[str]) -> int:
    """Run the methods ``--runs`` times each and print a table (seconds for the whole bundled data)."""
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--runs", type=int, default=3, choices=range(1, 11), metavar="1-10")
    parser.add_argument("--extra", type=Path, action="append", default=[], help="another file to load (N-Triples …)")
    args = parser.parse_args(argv)
    files = _files(args.extra)
    total = sum(len(t) for _, t in files)
    folder = Path(tempfile.mkdtemp(prefix="ioir-virtuoso-bench-"))
    server = start_virtuoso(folder / "db")
    try:
        loader = Loader(server, folder / "db")
        print(f"{len(files)} files, {total} triples; Virtuoso with Debian's stock virtuoso.ini")
        failed = []
        for index, (path, triples) in enumerate(files):
            try:
                loader.insert_stock(f"urn:bench:stock:{index}", triples)
            except RuntimeError as exc:
                failed.append(f"  {path.name} ({len(triples)} triples): {exc}")
        print(f"insert-stock (one INSERT DATA, no pragma): {len(failed)} of {len(files)} files fail")
        print("\n".join(failed[:3]))
        methods: dict[str, Callable[[str, list[Triple]], None]] = {
            "insert-define": loader.insert_define,
            "insert-small": loader.insert_small,
            "gsp-post": loader.gsp_post,
            "ttlp-sql": loader.ttlp_sql,
        }
        times: dict[str, list[float]] = {name: [] for name in methods}
        for run in range(args.runs):
            for name, method in methods.items():  # interleaved, so that noise hits every method alike
                started = time.monotonic()
                for index, (_, triples) in enumerate(files):
                    method(f"urn:bench:{name}:{run}:{index}", triples)
                times[name].append(time.monotonic() - started)
                for index, (path, triples) in enumerate(files):
                    found = loader.count(f"urn:bench:{name}:{run}:{index}")
                    if found != len(triples):
                        raise SystemExit(f"{name}: {path.name} has {found} of {len(triples)} triples")
        print(f"{'method':<16}{'median s':>10}{'min s':>8}{'triples/s':>11}")
        for name, values in times.items():
            median = statistics.median(values)
            print(f"{name:<16}{median:>10.2f}{min(values):>8.2f}{total / median:>11.0f}")
    finally:
        server.stop()
        shutil.rmtree(folder, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
