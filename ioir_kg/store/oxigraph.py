"""The embedded default backend: a pyoxigraph ``Store`` on disk."""

from __future__ import annotations

import contextlib
import itertools
import os
import re
import uuid
from collections.abc import Iterable, Iterator, Mapping, Sequence
from pathlib import Path
from typing import BinaryIO

from pyoxigraph import (
    DefaultGraph,
    NamedNode,
    Quad,
    QueryBoolean,
    QuerySolutions,
    RdfFormat,
    Store,
    parse,
    serialize,
)

from ioir_kg.errors import BadQuery, BadRdf, StoreUnavailable
from ioir_kg.store.base import GraphInfo, QueryDataset, QueryResult, StoreStatus, Term
from ioir_kg.store.bindings import inject_values

#: Files larger than this go through pyoxigraph's bulk loader.
BULK_THRESHOLD_BYTES = 32 * 1024 * 1024
#: ``replace_graph`` sends at most this many quads as one ``INSERT DATA``; more go through a staging graph.
INSERT_DATA_LIMIT = 200_000
#: Past this much write-ahead log, a write is followed by a flush (see ``OxigraphStore._wrote``).
WAL_FLUSH_BYTES = 8 * 1024 * 1024

_GRAPH_COUNTS = "SELECT ?g (COUNT(*) AS ?n) WHERE { GRAPH ?g { ?s ?p ?o } } GROUP BY ?g"


def rdf_format_for(path: Path) -> RdfFormat:
    """The RDF format of a file, from its extension; :class:`BadRdf` when unknown."""
    fmt = RdfFormat.from_extension(path.suffix.lstrip("."))
    if fmt is None:
        raise BadRdf(f"{path}: unknown RDF file extension {path.suffix!r} (use .ttl, .nt, .nq, .trig, .rdf, .jsonld)")
    return fmt


def syntax_message(source: str, exc: SyntaxError) -> str:
    """A one-line description of a parse error naming the source and position."""
    return f"{source}: {exc.msg if exc.msg else exc}"


_UNKNOWN_FUNCTION = re.compile(r"custom function <([^>]*)> is not supported")
_MAX_UNKNOWN_FUNCTIONS = 16


def _no_value(*args: object) -> None:
    """Stands for a function the engine does not know: every call is an evaluation error."""
    return None


def _graph_name(graph: str) -> NamedNode | DefaultGraph:
    return DefaultGraph() if graph == "" else NamedNode(graph)


class OxigraphStore:
    """:class:`~ioir_kg.store.base.KnowledgeStore` over a pyoxigraph ``Store(path)``."""

    backend = "oxigraph"

    def __init__(self, path: Path, *, union_default_graph: bool = True, read_only: bool = False) -> None:
        self.path = path
        self.union_default_graph = union_default_graph
        self.read_only = read_only
        #: Changes with every write through this object (a unique value each time, thread-safe);
        #: read-only copies of the store (query workers) reopen when it differs from theirs.
        self.generation = 0
        self._writes = itertools.count(1)
        try:
            if read_only:
                self._store = Store.read_only(str(path))
            else:
                path.mkdir(parents=True, exist_ok=True)
                self._store = Store(str(path))
        except OSError as exc:
            raise StoreUnavailable(f"cannot open the store at {path}: {exc}") from None

    # -- queries --------------------------------------------------------------
    def query(
        self,
        sparql: str,
        *,
        bindings: Mapping[str, Term] | None = None,
        dataset: QueryDataset | None = None,
        base_iri: str | None = None,
    ) -> QueryResult:
        """Evaluate ``sparql``; a syntax error raises :class:`BadQuery` with the parser's position.

        >>> import tempfile, pathlib
        >>> s = OxigraphStore(pathlib.Path(tempfile.mkdtemp()) / "s")
        >>> bool(s.query("ASK { ?s ?p ?o }"))
        False
        """
        kwargs: dict[str, object] = {}
        if dataset is not None:
            kwargs["default_graph"] = [_graph_name(g) for g in dataset.default_graphs]  # none: empty
            if dataset.named_graphs:
                kwargs["named_graphs"] = [NamedNode(g) for g in dataset.named_graphs]
        else:
            kwargs["use_default_graph_as_union"] = self.union_default_graph
        if bindings:
            sparql = inject_values(sparql, bindings)
        unknown: dict[NamedNode, object] = {}
        while True:
            if unknown:
                kwargs["custom_functions"] = unknown
            try:
                return self._store.query(sparql, base_iri=base_iri, **kwargs)  # type: ignore[arg-type]
            except SyntaxError as exc:
                raise BadQuery(f"SPARQL syntax error: {exc}") from None
            except OSError as exc:
                raise StoreUnavailable(f"store error: {exc}") from None
            except RuntimeError as exc:
                # SPARQL 1.1 §17.6: an unknown function is an evaluation error (unbound), not a failed query.
                match = _UNKNOWN_FUNCTION.search(str(exc))
                if match is None or len(unknown) >= _MAX_UNKNOWN_FUNCTIONS:
                    raise BadQuery(f"SPARQL query not supported: {exc}") from None
                unknown[NamedNode(match.group(1))] = _no_value

    def ask(self, sparql: str, **kwargs: object) -> bool:
        """Evaluate an ``ASK`` query."""
        result = self.query(sparql, **kwargs)  # type: ignore[arg-type]
        return bool(result) if isinstance(result, QueryBoolean) else False

    def update(self, sparql: str, *, base_iri: str | None = None) -> None:
        """Apply a SPARQL update in one transaction."""
        try:
            self._store.update(sparql, base_iri=base_iri)
        except SyntaxError as exc:
            raise BadQuery(f"SPARQL update syntax error: {exc}") from None
        except RuntimeError as exc:  # e.g. CREATE of an existing graph: the whole request is rolled back
            raise BadQuery(f"SPARQL update failed, nothing was changed: {exc}") from None
        except OSError as exc:
            raise StoreUnavailable(f"store error: {exc}") from None
        finally:
            self._wrote()

    # -- graphs ---------------------------------------------------------------
    def replace_graph(self, graph: str, quads: Iterable[Quad]) -> None:
        """Replace ``graph`` with ``quads`` (their own graph names are ignored) in one transaction."""
        triples = [q.triple for q in quads]
        if len(triples) <= INSERT_DATA_LIMIT:
            body = serialize(triples, format=RdfFormat.N_TRIPLES)
            body_text = body.decode("utf-8") if body else ""
            target = "DEFAULT" if graph == "" else f"GRAPH <{graph}>"
            wrapped = body_text if graph == "" else f"GRAPH <{graph}> {{\n{body_text}}}"
            self.update(f"DROP SILENT {target} ;\nINSERT DATA {{\n{wrapped}}}")
            return
        staging = self._staging_name(graph)
        self._store.extend(Quad(t.subject, t.predicate, t.object, NamedNode(staging)) for t in triples)
        self._move(staging, graph)

    def load_file(self, path: Path, graph: str) -> int:
        """Replace ``graph`` with the triples of the RDF file at ``path``; return the triple count.

        A syntax error (reported with file, line and column) leaves the store unchanged: an
        existing graph is replaced only once the whole file has parsed, through a staging graph
        (bulk-loaded for files over :data:`BULK_THRESHOLD_BYTES`) moved over it in one
        transaction; a new graph is bulk-loaded directly and removed again on error.
        """
        fmt = rdf_format_for(path)
        if fmt.supports_datasets:
            raise BadRdf(f"{path}: {fmt.name} holds named graphs; use 'ioir-kg restore' for dataset dumps")
        if not self.has_graph(graph):  # nothing to replace: no staging graph (a MOVE costs more than the load)
            return self._load_new_graph(path, fmt, graph)
        count = self._validate_file(path, fmt)
        bulk = path.stat().st_size > BULK_THRESHOLD_BYTES
        try:
            staging = self._staging_name(graph)
            if bulk:
                self._store.bulk_load(path=str(path), format=fmt, to_graph=NamedNode(staging))
            else:
                self._store.load(path=str(path), format=fmt, to_graph=NamedNode(staging))
            self._move(staging, graph)
        except OSError as exc:
            raise StoreUnavailable(f"store error while loading {path}: {exc}") from None
        return count

    def _load_new_graph(self, path: Path, fmt: RdfFormat, graph: str) -> int:
        """Bulk-load a file into a graph that does not exist yet; on any error the graph is removed again.

        No separate parse first: the bulk loader reports a syntax error with its position, and what it
        wrote before the error goes with the graph (the manifest is not updated, so a crash mid-load is
        repaired by the next load).
        """
        name = NamedNode(graph)
        try:
            self._store.bulk_load(path=str(path), format=fmt, to_graph=name)
        except SyntaxError as exc:
            self._store.remove_graph(name)
            raise BadRdf(syntax_message(str(path), exc)) from None
        except (OSError, UnicodeDecodeError) as exc:
            with contextlib.suppress(OSError):
                self._store.remove_graph(name)
            raise BadRdf(f"{path}: cannot read: {exc}") from None
        finally:
            self._wrote()
        counted = self._store.query(f"SELECT (COUNT(*) AS ?n) WHERE {{ GRAPH <{graph}> {{ ?s ?p ?o }} }}")
        assert isinstance(counted, QuerySolutions)
        return int(next(counted)["n"].value)

    def add_quads(self, quads: Iterable[Quad]) -> None:
        """Add quads in one transaction."""
        try:
            self._store.extend(quads)
        except OSError as exc:
            raise StoreUnavailable(f"store error: {exc}") from None
        finally:
            self._wrote()

    def drop_graph(self, graph: str) -> None:
        """Remove a named graph (or clear the default graph with ``""``)."""
        self._store.remove_graph(_graph_name(graph))
        self._wrote()

    def has_graph(self, graph: str) -> bool:
        """Whether the named graph exists."""
        return bool(self._store.contains_named_graph(NamedNode(graph)))

    def graph_names(self) -> list[str]:
        """The IRIs of the named graphs, without counting their triples."""
        return sorted(g.value for g in self._store.named_graphs() if isinstance(g, NamedNode))

    def graphs(self) -> Sequence[GraphInfo]:
        """Named graphs with their triple counts (empty graphs included), sorted by IRI."""
        counts: dict[str, int] = {g.value: 0 for g in self._store.named_graphs() if isinstance(g, NamedNode)}
        result = self._store.query(_GRAPH_COUNTS)
        for row in result:  # type: ignore[union-attr]
            counts[row["g"].value] = int(row["n"].value)
        return [GraphInfo(iri, n) for iri, n in sorted(counts.items())]

    def quads(self, graph: str | None = None) -> Iterator[Quad]:
        """Every quad, or those of one graph (``""`` = the default graph)."""
        name = None if graph is None else _graph_name(graph)
        return iter(self._store.quads_for_pattern(None, None, None, name))

    # -- whole store ----------------------------------------------------------
    def dump(self, out: BinaryIO) -> None:
        """Write every quad as N-Quads."""
        self._store.dump(out, format=RdfFormat.N_QUADS)

    def restore(self, src: BinaryIO) -> None:
        """Replace everything with the N-Quads from ``src``, parsed fully before the store is touched."""
        try:
            quads = list(parse(src, format=RdfFormat.N_QUADS))
        except SyntaxError as exc:
            raise BadRdf(syntax_message("restore input", exc)) from None
        try:
            self._store.clear()
            self._store.extend(quads)
            self._store.flush()
        finally:
            self._wrote()

    def __len__(self) -> int:
        return len(self._store)

    def status(self) -> StoreStatus:
        """Backend name and triple count."""
        return StoreStatus(backend=self.backend, ok=True, triples=len(self._store))

    def flush(self) -> None:
        """Make sure every write is on disk."""
        self._store.flush()

    def close(self) -> None:
        """Flush (unless read-only) and release the store (the object must not be used afterwards)."""
        if not self.read_only:
            with contextlib.suppress(OSError):
                self._store.flush()
        del self._store

    # -- helpers --------------------------------------------------------------
    def _wrote(self) -> None:
        """After every write: a new generation (query workers reopen), and a flush once the log has grown.

        A read-only view (a query worker) replays the write-ahead log when it opens: 12 s after 60 MB of
        unflushed writes, 45 ms after a flush. Flushing the memtables once the log passes
        :data:`WAL_FLUSH_BYTES` keeps every reopen short.
        """
        self.generation = next(self._writes)
        if self._wal_bytes() > WAL_FLUSH_BYTES:
            with contextlib.suppress(OSError):
                self._store.flush()

    def _wal_bytes(self) -> int:
        total = 0
        with contextlib.suppress(OSError), os.scandir(self.path) as entries:
            for entry in entries:
                if entry.name.endswith(".log") and entry.name[:1].isdigit():
                    with contextlib.suppress(OSError):
                        total += entry.stat().st_size
        return total

    @staticmethod
    def _staging_name(graph: str) -> str:
        return f"urn:ioir:staging:{uuid.uuid4()}"

    def _move(self, staging: str, graph: str) -> None:
        target = "DEFAULT" if graph == "" else f"GRAPH <{graph}>"
        try:
            self._store.update(f"MOVE SILENT GRAPH <{staging}> TO {target}")
        finally:
            self._store.remove_graph(NamedNode(staging))
            self._wrote()

    @staticmethod
    def _validate_file(path: Path, fmt: RdfFormat) -> int:
        count = 0
        try:
            for _ in parse(path=str(path), format=fmt):
                count += 1
        except SyntaxError as exc:
            raise BadRdf(syntax_message(str(path), exc)) from None
        except (OSError, UnicodeDecodeError) as exc:
            raise BadRdf(f"{path}: cannot read: {exc}") from None
        return count
