"""Benchmark: how long validating a 50-triple assertion takes (``POST /validate``), on the bundled data and on a
deterministic synthetic graph of one million triples in the ontology's shape.

    .venv/bin/python bench/validation_bench.py [--runs 30] [--triples 1000000] [--keep DIR]

For each store it reports the median (and 90th percentile) wall-clock time of the validation pipeline called
in-process and of ``POST /validate`` through the ASGI app. The targets are 200 ms on the bundled data and 1 s on
the synthetic graph. Nothing here is a timed test: run it on demand.
"""

from __future__ import annotations

import argparse
import random
import shutil
import statistics
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from pathlib import Path

from fastapi.testclient import TestClient

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from ioir_kg.api.app import create_app  # noqa: E402
from ioir_kg.config import Settings  # noqa: E402
from ioir_kg.store.loading import load_sources  # noqa: E402
from ioir_kg.store.oxigraph import OxigraphStore  # noqa: E402
from ioir_kg.validation.pipeline import Metadata, Validator, read_submission  # noqa: E402

ID = "https://w3id.org/ioir/id/"
IOIR = "https://w3id.org/ioir/ontology#"
RDF_TYPE = "http://www.w3.org/1999/02/22-rdf-syntax-ns#type"
PREF = "http://www.w3.org/2004/02/skos/core#prefLabel"
LABEL = "http://www.w3.org/2000/01/rdf-schema#label"
PREFIXES = f"""@base <{ID}> .
@prefix ioir: <{IOIR}> .
@prefix skos: <http://www.w3.org/2004/02/skos/core#> .
@prefix xsd: <http://www.w3.org/2001/XMLSchema#> .
"""
RESOURCES = ["funding", "personnel", "military-assets", "expertise", "information", "logistics", "legitimacy"]
LEVELS = ["macro", "meso", "micro"]
QUOTE = Metadata(source="s002", quote="NATO has a liaison officer in the EULEX operational centre in Pristina")


def assertion(orgs: list[str], places: list[str], tag: str) -> str:
    """Six new resource dependencies between ``orgs``, in ``places``: 50 triples with the generated evidence."""
    lines = [PREFIXES]
    for i in range(6):
        dependent, provider = orgs[i % len(orgs)], orgs[(i + 1) % len(orgs)]
        lines.append(
            f'<dependency/bench-{tag}-{i}> a ioir:ResourceDependency ; skos:prefLabel "Benchmark dependency {i}"@en ;\n'
            f"    ioir:dependent <{dependent}> ; ioir:provider <{provider}> ;\n"
            f"    ioir:resourceType <concept/resource-{RESOURCES[i % len(RESOURCES)]}> ;\n"
            f"    ioir:dependencyLevel <concept/level-{LEVELS[i % 3]}> ; ioir:theatre <{places[i % len(places)]}> .\n"
        )
    return "\n".join(lines)


# -- the synthetic graph -----------------------------------------------------------------------------------------


def _nt(s: str, p: str, o: str) -> str:
    return f"<{s}> <{p}> {o} .\n"


def _iri(value: str) -> str:
    return f"<{value}>"


def _text(value: str) -> str:
    return '"' + value + '"@en'


def synthetic(total: int, seed: int = 42) -> Iterator[str]:
    """N-Triples lines of a graph like the data: organizations, places, missions, evidence, dependencies and
    instruments that point to each other, generated deterministically until ``total`` triples."""
    rng = random.Random(seed)
    emitted = 0

    def entity(kind: str, n: int, cls: str, label: str) -> Iterator[str]:
        iri = f"{ID}{kind}/syn-{n}"
        yield _nt(iri, RDF_TYPE, _iri(IOIR + cls))
        yield _nt(iri, PREF, _text(f"{label} {n}"))
        yield _nt(iri, LABEL, _text(f"{label} {n}"))
        yield _nt(iri, IOIR + "evidence", _iri(f"{ID}evidence/syn-{n % 20000}"))

    orgs, places, missions, evidence = 3000, 800, 6000, 20000
    for n in range(evidence):
        iri = f"{ID}evidence/syn-{n}"
        yield _nt(iri, RDF_TYPE, _iri(IOIR + "Evidence"))
        yield _nt(iri, "http://purl.org/dc/terms/source", _iri(f"{ID}source/s00{n % 5}"))
        yield _nt(iri, "http://www.w3.org/ns/prov#value", f'"A synthetic quote number {n}."')
    emitted += evidence * 3
    for n in range(orgs):
        yield from entity("org", n, "InternationalOrganization", "Synthetic organization")
    for n in range(places):
        yield from entity("place", n, "Country", "Synthetic country")
    emitted += (orgs + places) * 4
    for n in range(missions):
        yield from entity("mission", n, "Mission", "Synthetic mission")
        iri = f"{ID}mission/syn-{n}"
        yield _nt(iri, IOIR + "launchedBy", _iri(f"{ID}org/syn-{rng.randrange(orgs)}"))
        yield _nt(iri, IOIR + "deployedIn", _iri(f"{ID}place/syn-{rng.randrange(places)}"))
        year = 1990 + rng.randrange(30)
        yield _nt(iri, IOIR + "startDate", f'"{year}"^^<http://www.w3.org/2001/XMLSchema#gYear>')
    emitted += missions * 7
    n = 0
    while emitted < total:
        if n % 5 == 4:
            iri = f"{ID}instrument/syn-{n}"
            yield from entity("instrument", n, "CoordinationMeeting", "Synthetic meeting")
            for _ in range(2):
                yield _nt(iri, IOIR + "party", _iri(f"{ID}org/syn-{rng.randrange(orgs)}"))
            emitted += 6
        else:
            iri = f"{ID}dependency/syn-{n}"
            yield from entity("dependency", n, "ResourceDependency", "Synthetic dependency")
            a, b = rng.sample(range(orgs), 2)
            yield _nt(iri, IOIR + "dependent", _iri(f"{ID}org/syn-{a}"))
            yield _nt(iri, IOIR + "provider", _iri(f"{ID}org/syn-{b}"))
            yield _nt(iri, IOIR + "resourceType", _iri(f"{ID}concept/resource-{rng.choice(RESOURCES)}"))
            yield _nt(iri, IOIR + "dependencyLevel", _iri(f"{ID}concept/level-{rng.choice(LEVELS)}"))
            yield _nt(iri, IOIR + "theatre", _iri(f"{ID}place/syn-{rng.randrange(places)}"))
            emitted += 9
        n += 1


# -- measuring ---------------------------------------------------------------------------------------------------


def timings(action: Callable[[], object], runs: int) -> tuple[float, float]:
    """Median and 90th percentile in milliseconds of ``runs`` calls (after two warm-up calls)."""
    for _ in range(2):
        action()
    samples = []
    for _ in range(runs):
        started = time.perf_counter()
        action()
        samples.append((time.perf_counter() - started) * 1000)
    samples.sort()
    return statistics.median(samples), samples[int(0.9 * (len(samples) - 1))]


def measure(name: str, store_path: Path, body: str, runs: int) -> None:
    """Time the pipeline in-process, then ``POST /validate`` through the app, over the store at ``store_path``."""
    settings = Settings(store_path=store_path, load_bundled=False, query_workers=2)
    store = OxigraphStore(store_path)
    triples = len(store)
    validator = Validator(store, settings)
    submission = read_submission(body.encode(), "text/turtle", settings)
    checked = validator.check(submission, QUOTE)
    if not checked.report.conforms:
        raise RuntimeError(checked.report.to_text())
    size = checked.report.triples
    pipeline = timings(lambda: validator.check(submission, QUOTE), runs)
    store.close()
    params = {"source": QUOTE.source or "", "quote": QUOTE.quote or ""}
    with TestClient(create_app(settings)) as client:

        def post() -> None:
            response = client.post("/validate", content=body, headers={"Content-Type": "text/turtle"}, params=params)
            if response.status_code != 200 or not response.json()["conforms"]:
                raise RuntimeError(response.text)

        http = timings(post, runs)
    print(
        f"{name}: {triples:,} stored triples, {size}-triple assertion — "
        f"pipeline median {pipeline[0]:.0f} ms (p90 {pipeline[1]:.0f}), "
        f"POST /validate median {http[0]:.0f} ms (p90 {http[1]:.0f})"
    )


def main() -> None:
    """Build the two stores and report the medians."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=30)
    parser.add_argument("--triples", type=int, default=1_000_000, help="size of the synthetic graph")
    parser.add_argument("--keep", type=Path, help="build the stores here and keep them")
    args = parser.parse_args()
    work = args.keep or Path(tempfile.mkdtemp(prefix="ioir-bench-"))
    try:
        bundled = work / "bundled"
        if not bundled.exists():
            store = OxigraphStore(bundled)
            load_sources(store, Settings(store_path=bundled))
            store.close()
        body = assertion(["org/eu", "org/nato", "org/un", "org/au", "org/osce"], ["place/kosovo", "place/mali"], "b")
        measure("bundled data", bundled, body, args.runs)

        big = work / "synthetic"
        if not big.exists():
            shutil.copytree(bundled, big)
            source = work / "synthetic.nt"
            started = time.perf_counter()
            with source.open("w", encoding="utf-8") as out:
                out.writelines(synthetic(args.triples))
            store = OxigraphStore(big)
            store.load_file(source, f"{Settings().graph_base}bench/synthetic")
            store.close()
            source.unlink()
            print(f"(synthetic graph generated and loaded in {time.perf_counter() - started:.0f} s)")
        orgs = [f"org/syn-{n}" for n in (7, 11, 13, 17, 19)]
        body = assertion(orgs, ["place/syn-3", "place/syn-5"], "s")
        measure("synthetic graph", big, body, args.runs)
    finally:
        if args.keep is None:
            shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
