"""Time and peak memory of materialising the entailments (:mod:`ioir_kg.store.inference`), per reasoner and data set.

Each measurement runs in a child process of its own (so peak memory is that run's): the data is loaded into a
fresh embedded store, then :func:`~ioir_kg.store.inference.materialise` runs once (reading the asserted graphs,
reasoning, filtering, writing ``{base}graph/inferred``). Reported: seconds of the materialisation alone, the
child's peak resident memory (``ru_maxrss``) and its resident memory before reasoning, and the triples inferred.

    .venv/bin/python -m bench.inference_bench                          # bundled and 1m, both reasoners
    .venv/bin/python -m bench.inference_bench --data bundled --reasoner owlrl --timeout 600
"""

from __future__ import annotations

import argparse
import json
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from ioir_kg.config import Settings
from ioir_kg.store.inference import REASONERS, materialise
from ioir_kg.store.loading import bundled_files, graph_iri_for, load_file
from ioir_kg.store.oxigraph import OxigraphStore

SYNTHETIC = {"1m": 1_000_000, "100k": 100_000, "10k": 10_000}


def _rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def measure_one(reasoner: str, data: str) -> dict[str, object]:
    """Load ``data`` (``bundled`` or a synthetic size) into a fresh store and materialise once with ``reasoner``."""
    with tempfile.TemporaryDirectory() as tmp:
        settings = Settings(store_path=Path(tmp) / "store")
        store = OxigraphStore(settings.store_path)
        files = bundled_files(settings)
        if data != "bundled":
            from bench.generate import generate

            out = Path("var/bench/data")
            path, _ = generate(SYNTHETIC.get(data) or int(data), out)
            files = [f for f in files if f.is_relative_to(settings.data_root / "ontology")] + [path]
        for file in files:
            load_file(store, file, graph_iri_for(file, settings), settings)
        before = _rss_mb()
        result = materialise(store, settings, reasoner=reasoner)
        again = time.perf_counter()
        materialise(store, settings, reasoner=reasoner)  # nothing changed: the cost of a recomputation
        recompute = time.perf_counter() - again
        store.close()
    return {
        "reasoner": reasoner,
        "data": data,
        "asserted": result.asserted,
        "inferred": result.inferred,
        "seconds": round(result.seconds, 2),
        "recompute_seconds": round(recompute, 2),
        "rss_before_mb": round(before),
        "peak_rss_mb": round(_rss_mb()),
    }


def main(argv: list[str] | None = None) -> int:
    """Run every (reasoner, data) pair in a child process and print one JSON line each, then a Markdown table."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--reasoner", action="append", choices=REASONERS)
    parser.add_argument("--data", action="append", help="bundled, or a synthetic size: 10k, 100k, 1m or a number")
    parser.add_argument("--timeout", type=float, default=1800, help="seconds before a run is given up")
    parser.add_argument("--one", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    reasoners, datas = args.reasoner or list(REASONERS), args.data or ["bundled", "1m"]
    if args.one:
        print(json.dumps(measure_one(reasoners[0], datas[0])))
        return 0
    rows = []
    for data in datas:
        for reasoner in reasoners:
            cmd = [sys.executable, "-m", "bench.inference_bench", "--one", "--reasoner", reasoner, "--data", data]
            try:
                done = subprocess.run(cmd, capture_output=True, text=True, timeout=args.timeout, check=True)
                row = json.loads(done.stdout.strip().splitlines()[-1])
            except subprocess.TimeoutExpired:
                row = {"reasoner": reasoner, "data": data, "error": f"did not finish in {args.timeout:.0f} s"}
            except subprocess.CalledProcessError as exc:
                row = {"reasoner": reasoner, "data": data, "error": (exc.stderr or "").strip().splitlines()[-1:]}
            print(json.dumps(row), flush=True)
            rows.append(row)
    print("\n| data | reasoner | asserted | inferred | materialise (s) | again (s) | peak RSS (MB) |")
    print("|---|---|--:|--:|--:|--:|--:|")
    for r in rows:
        if "error" in r:
            print(f"| {r['data']} | {r['reasoner']} | | | {r['error']} | | |")
        else:
            print(
                f"| {r['data']} | {r['reasoner']} | {r['asserted']:,} | {r['inferred']:,} | {r['seconds']} "
                f"| {r['recompute_seconds']} | {r['peak_rss_mb']:,} (before: {r['rss_before_mb']:,}) |"
            )
    return 0


if __name__ == "__main__":
    sys.exit(main())
