"""The write-ahead log stays short, so query workers (read-only views) reopen the store quickly after writes."""

from __future__ import annotations

from pathlib import Path

from pyoxigraph import Literal, NamedNode, Quad

from ioir_kg.store.oxigraph import WAL_FLUSH_BYTES, OxigraphStore


def _batch(n: int) -> list[Quad]:
    graph = NamedNode(f"http://example.org/g{n}")
    text = "x" * 200
    return [
        Quad(NamedNode(f"http://example.org/s{n}/{i}"), NamedNode("http://example.org/p"), Literal(f"{text}{i}"), graph)
        for i in range(5_000)
    ]


def test_writes_flush_once_the_log_passes_its_bound(tmp_path: Path) -> None:
    store = OxigraphStore(tmp_path / "store")
    store.add_quads(_batch(0))
    per_batch = store._wal_bytes()  # ~4 MB of log per batch (every index), ~100 MB in all
    peak = 0
    for n in range(1, 24):
        store.add_quads(_batch(n))
        peak = max(peak, store._wal_bytes())
    assert peak <= WAL_FLUSH_BYTES + 2 * per_batch, (peak, per_batch)
    store.close()
    view = OxigraphStore(tmp_path / "store", read_only=True)
    assert len(view) == 24 * 5_000
    view.close()  # a read-only view closes without trying to flush
