"""A seconds-long run of the benchmark harness (``make bench`` runs it for real, on demand).

It generates a tiny synthetic graph, loads it with ``ioir-kg load`` and ``oxigraph load``, starts both
servers on 127.0.0.1, warms them up, drives a few cells with ``wrk`` and validates an assertion: every
piece of the harness runs, and the numbers it writes are sane. rdflib-endpoint (the ``bench`` extra) is
left out to keep it short.
"""

from __future__ import annotations

import io
import json
from pathlib import Path

import pytest

from bench import run
from bench.generate import write_ntriples
from bench.mix import assertion_body, pages, sparql_mix
from tests.conftest import require_system


def test_generator_is_deterministic_and_sized() -> None:
    first, second = io.StringIO(), io.StringIO()
    stats = write_ntriples(first, 5_000)
    write_ntriples(second, 5_000)
    assert first.getvalue() == second.getvalue()
    assert 4_500 < stats.triples < 5_500
    assert stats.triples == first.getvalue().count("\n")


def test_mix_names_generated_entities() -> None:
    stats = write_ntriples(io.StringIO(), 5_000)
    queries = sparql_mix(stats)
    assert len(queries) == 10
    assert len({q.name for q in queries}) == 10
    assert any(stats.acronym(stats.blocks // 3) in q.sparql for q in queries)
    assert {p.name for p in pages(stats)} >= {"/id (HTML)", "/search (box)", "/queries/search"}
    body = assertion_body(stats)
    assert body.count(" ;") + body.count(" .\n") >= 10


def test_harness_smoke_run(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    require_system("wrk", "driving the benchmark's load")
    out = tmp_path / "results"
    code = run.main(
        [
            "--size", "2000", "--clients", "1", "--duration", "1", "--cap", "20", "--validations", "1",
            "--items", "MIX,/search (box)", "--no-rdflib", "--no-validation-bench",
            "--data", str(tmp_path / "data"), "--work", str(tmp_path / "work"), "--out", str(out),
        ]
    )  # fmt: skip
    assert code == 0
    [path] = out.glob("*.json")
    results = json.loads(path.read_text(encoding="utf-8"))
    assert 1_800 < results["triples"] < 2_200
    assert {"ioir-kg", "oxigraph"} <= set(results["loads"])
    assert all(load["seconds"] > 0 for load in results["loads"].values())
    assert all(peak > 0 for peak in results["memory_peak_bytes"].values())
    warm = {(w["server"], w["item"]): w for w in results["warmups"]}
    assert warm[("ioir-kg", "acronym")]["status"] == 200
    assert warm[("ioir-kg", "acronym")]["results"] == warm[("oxigraph", "acronym")]["results"] == 1
    assert warm[("ioir-kg", "/search (box)")]["results"] >= 1
    cells = {(c["server"], c["item"]): c for c in results["cells"]}
    assert set(cells) == {(s, i) for s in ("ioir-kg", "oxigraph") for i in ("MIX", "/search (box)")}
    for cell in cells.values():
        assert cell["requests"] > 0, cell
        assert cell["errors"] == 0, cell
        assert cell["rps"] > 0, cell
        assert 0 < cell["p50_ms"] <= cell["p95_ms"]
    assert results["validation"]["statuses"] == [200]
    assert results["validation"]["median_ms"] > 0
    table = capsys.readouterr().out
    assert "| MIX | 1 |" in table
    assert "×" in table
