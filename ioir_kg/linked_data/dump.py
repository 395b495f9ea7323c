"""The whole store as N-Quads, produced piece by piece so that a large store never sits in memory."""

from __future__ import annotations

import itertools
from collections.abc import Iterator

from pyoxigraph import RdfFormat, serialize

from ioir_kg.store.base import KnowledgeStore

#: Quads serialised per piece.
BATCH_QUADS = 2000


def nquads_chunks(store: KnowledgeStore, batch: int = BATCH_QUADS) -> Iterator[bytes]:
    """Every quad of every graph (and of the default graph) as N-Quads, ``batch`` quads per chunk.

    The store's iterator reads one consistent snapshot, so writes during the dump do not tear it.
    """
    quads = iter(store.quads())
    while True:
        piece = list(itertools.islice(quads, batch))
        if not piece:
            return
        yield serialize(piece, format=RdfFormat.N_QUADS) or b""
