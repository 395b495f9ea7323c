"""The store protocol every backend implements, and the result types it returns.

Code outside :mod:`ioir_kg.store` sees only :class:`KnowledgeStore`; ``open_store``
alone decides which backend serves it. Results are pyoxigraph's own types
(``QuerySolutions``, ``QueryBoolean``, ``QueryTriples``), each with ``serialize``.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import BinaryIO, Protocol, runtime_checkable

from pyoxigraph import BlankNode, Literal, NamedNode, Quad, QueryBoolean, QuerySolutions, QueryTriples

Term = NamedNode | BlankNode | Literal
QueryResult = QuerySolutions | QueryBoolean | QueryTriples


@dataclass(frozen=True)
class QueryDataset:
    """An explicit SPARQL dataset (``FROM``/``FROM NAMED`` or the protocol's graph-uri parameters).

    ``default_graphs`` may contain ``""`` for the store's own default graph; none at all means an empty
    default graph (as a query with ``FROM NAMED`` but no ``FROM``).
    """

    default_graphs: tuple[str, ...] = ()
    named_graphs: tuple[str, ...] = ()


@dataclass(frozen=True)
class GraphInfo:
    """A named graph and how many triples it holds."""

    iri: str
    triples: int


@dataclass(frozen=True)
class StoreStatus:
    """What ``/health`` reports."""

    backend: str
    ok: bool
    triples: int
    detail: str = ""
    extra: dict[str, str] = field(default_factory=dict)


@runtime_checkable
class KnowledgeStore(Protocol):
    """A quad store with SPARQL 1.1 query and update."""

    backend: str

    def query(
        self,
        sparql: str,
        *,
        bindings: Mapping[str, Term] | None = None,
        dataset: QueryDataset | None = None,
        base_iri: str | None = None,
    ) -> QueryResult:
        """Evaluate a query. Without ``dataset`` the default graph follows the store's union setting.

        ``bindings`` are bound as RDF terms (never spliced into the text).
        """
        ...

    def update(self, sparql: str, *, base_iri: str | None = None) -> None:
        """Apply a SPARQL update atomically."""
        ...

    def replace_graph(self, graph: str, quads: Iterable[Quad]) -> None:
        """Replace the content of ``graph`` (``""`` = the default graph) in one transaction."""
        ...

    def add_quads(self, quads: Iterable[Quad]) -> None:
        """Add quads in one transaction."""
        ...

    def drop_graph(self, graph: str) -> None:
        """Remove ``graph`` (``""`` clears the default graph); no error if it does not exist."""
        ...

    def graphs(self) -> Sequence[GraphInfo]:
        """The named graphs with their triple counts, sorted by IRI."""
        ...

    def has_graph(self, graph: str) -> bool:
        """Whether the named graph exists."""
        ...

    def quads(self, graph: str | None = None) -> Iterable[Quad]:
        """Every quad, or those of one graph (``""`` = the default graph)."""
        ...

    def dump(self, out: BinaryIO) -> None:
        """Write every quad as N-Quads."""
        ...

    def restore(self, src: BinaryIO) -> None:
        """Replace the whole content with the N-Quads read from ``src``."""
        ...

    def status(self) -> StoreStatus:
        """Liveness and size, for ``/health``."""
        ...

    def close(self) -> None:
        """Release the store."""
        ...
