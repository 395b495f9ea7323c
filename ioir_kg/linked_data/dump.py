"""The whole store as N-Quads, produced piece by piece so that a large store never sits in memory.

:func:`nquads_chunks` is for one thread (the CLI); :func:`nquads_stream` is for async code (the API): it reads the
store on a thread of its own, since pyoxigraph's iterators abort the process when another thread advances them.
"""

from __future__ import annotations

import itertools
from collections.abc import AsyncIterator, Iterator

from pyoxigraph import NamedNode, RdfFormat, serialize

from ioir_kg.store.base import KnowledgeStore
from ioir_kg.store.threads import iterate_on_one_thread

#: Quads serialised per piece.
BATCH_QUADS = 2000


def nquads_chunks(store: KnowledgeStore, batch: int = BATCH_QUADS, *, exclude: str | None = None) -> Iterator[bytes]:
    """Every quad of every graph (and of the default graph) as N-Quads, ``batch`` quads per chunk.

    ``exclude``: the IRI of a graph left out (the inferred graph for ``/dump.nq?inferred=false``).
    The store's iterator reads one consistent snapshot, so writes during the dump do not tear it.
    """
    quads = iter(store.quads())
    if exclude is not None:
        quads = (q for q in quads if not (isinstance(q.graph_name, NamedNode) and q.graph_name.value == exclude))
    while True:
        piece = list(itertools.islice(quads, batch))
        if not piece:
            return
        yield serialize(piece, format=RdfFormat.N_QUADS) or b""


def nquads_stream(
    store: KnowledgeStore, batch: int = BATCH_QUADS, *, exclude: str | None = None
) -> AsyncIterator[bytes]:
    """:func:`nquads_chunks` for async code: the store is read and serialised on one dedicated thread."""
    return iterate_on_one_thread(lambda: nquads_chunks(store, batch, exclude=exclude), name="ioir-dump")
