"""A label index beside the store: find entities by name or acronym without scanning every label.

A SPARQL ``CONTAINS``/``REGEX`` over all labels reads every ``skos:prefLabel`` and ``skos:altLabel``
of the graph, so it grows linearly with the data (seconds at a million triples). This index keeps
those labels, lower-cased, in an SQLite FTS5 table with the trigram tokenizer (standard library,
no server), in a file beside the store (``{store}.labels.sqlite``). A search asks the index for the
*candidate* entities whose label contains the text, binds them to the competency query with a
``VALUES`` block, and lets SPARQL apply the query's own filter, ranking and typing to those few
entities: the answer is exactly the one the full scan gives, at index speed.

The index follows the store:

* ``ioir-kg load`` and the server's start-up (:func:`ioir_kg.store.loading.load_sources`) re-index
  every graph they load, and build the index when it is missing;
* any other write (an accepted or retracted assertion, a SPARQL update, a Graph Store write) changes
  the store's write generation; the next search then compares the number of labels per graph with
  the index's and re-indexes the graphs that differ (a new assertion graph, a dropped one) — about
  0.1 s at a million triples, once per write.

>>> import tempfile, pathlib
>>> from pyoxigraph import Quad, NamedNode, Literal
>>> from ioir_kg.store.oxigraph import OxigraphStore
>>> folder = pathlib.Path(tempfile.mkdtemp())
>>> store = OxigraphStore(folder / "store")
>>> g, e = NamedNode("urn:g"), NamedNode("https://w3id.org/ioir/id/org/nato")
>>> store.add_quads([Quad(e, NamedNode(SKOS_ALT), Literal("NATO", language="en"), g)])
>>> index = label_index_for(store)
>>> index.candidates(store, "nat"), index.candidates(store, "xyz")
(['https://w3id.org/ioir/id/org/nato'], [])
>>> store.drop_graph("urn:g")
>>> index.candidates(store, "nato")
[]
"""

from __future__ import annotations

import contextlib
import sqlite3
import threading
from collections.abc import Iterable, Iterator, Mapping
from pathlib import Path
from typing import Protocol

from pyoxigraph import Literal, NamedNode, QuerySolutions

from ioir_kg.store.base import KnowledgeStore, QueryDataset, Term
from ioir_kg.store.bindings import inject_values
from ioir_kg.store.oxigraph import OxigraphStore


class NamedQuery(Protocol):
    """What a label search needs of a competency query (:class:`ioir_kg.sparql.competency.CompetencyQuery`)."""

    @property
    def name(self) -> str: ...

    @property
    def sparql(self) -> str: ...


SKOS_PREF = "http://www.w3.org/2004/02/skos/core#prefLabel"
SKOS_ALT = "http://www.w3.org/2004/02/skos/core#altLabel"
#: Competency queries that search labels: query name → (text parameter, entity variable).
LABEL_SEARCHES: dict[str, tuple[str, str]] = {"search": ("text", "entity")}
#: Beyond this many candidates the query runs without them (a search that broad scans anyway).
MAX_CANDIDATES = 20_000
#: Bumped when the table layout changes: an index of another version is rebuilt.
SCHEMA_VERSION = 2
_DEFAULT = ""  # the key of the store's own default graph

_COUNTS = f"""SELECT ?g (COUNT(*) AS ?n) WHERE {{
  {{ GRAPH ?g {{ ?s <{SKOS_PREF}> ?o }} }} UNION {{ GRAPH ?g {{ ?s <{SKOS_ALT}> ?o }} }}
}} GROUP BY ?g"""
_DEFAULT_COUNT = f"SELECT (COUNT(*) AS ?n) WHERE {{ {{ ?s <{SKOS_PREF}> ?o }} UNION {{ ?s <{SKOS_ALT}> ?o }} }}"
_GRAPH_LABELS = f"""SELECT ?s ?o WHERE {{
  {{ GRAPH ?g {{ ?s <{SKOS_PREF}> ?o }} }} UNION {{ GRAPH ?g {{ ?s <{SKOS_ALT}> ?o }} }}
}}"""
_DEFAULT_LABELS = f"SELECT ?s ?o WHERE {{ {{ ?s <{SKOS_PREF}> ?o }} UNION {{ ?s <{SKOS_ALT}> ?o }} }}"
_ONLY_DEFAULT = QueryDataset(default_graphs=(_DEFAULT,))


def fold(text: str) -> str:
    """The form labels are compared in: lower case, as SPARQL's ``LCASE``."""
    return text.lower()


def index_path(store_path: Path) -> Path:
    """Where the label index of the store at ``store_path`` lives."""
    return store_path.with_name(store_path.name + ".labels.sqlite")


class LabelIndex:
    """The labels of one store in SQLite (FTS5 trigram); thread-safe, one connection under a lock."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._lock = threading.RLock()
        self._synced: int | None = None  # the store generation the index reflects (None: not checked)
        path.parent.mkdir(parents=True, exist_ok=True)
        self._db = sqlite3.connect(str(path), check_same_thread=False, isolation_level=None)
        self._db.execute("PRAGMA journal_mode=WAL")
        self._db.execute("PRAGMA synchronous=NORMAL")
        version = self._db.execute("PRAGMA user_version").fetchone()[0]
        if version != SCHEMA_VERSION:
            self._db.executescript(
                "DROP TABLE IF EXISTS labels; DROP TABLE IF EXISTS graphs;"
                "CREATE VIRTUAL TABLE labels USING fts5("
                " folded, entity UNINDEXED, graph UNINDEXED, tokenize='trigram case_sensitive 1', columnsize=0);"
                "CREATE TABLE graphs (graph TEXT PRIMARY KEY, labels INTEGER NOT NULL);"
                f"PRAGMA user_version={SCHEMA_VERSION};"
            )

    # -- keeping up with the store ----------------------------------------------------------------
    def sync(self, store: KnowledgeStore, *, changed: Iterable[str] = ()) -> None:
        """Re-index the graphs in ``changed`` and every graph whose label count differs from the index's."""
        generation = getattr(store, "generation", None)
        forced = set(changed)
        with self._lock:
            if not forced and generation is not None and generation == self._synced:
                return
            counts = _label_counts(store)
            known = dict(self._db.execute("SELECT graph, labels FROM graphs").fetchall())
            for graph in known.keys() - counts.keys():
                self._drop(graph)
            for graph, count in counts.items():
                if graph in forced or known.get(graph) != count:
                    self._reindex(store, graph, count)
            self._synced = generation

    def _drop(self, graph: str) -> None:
        with self._transaction():
            self._db.execute("DELETE FROM labels WHERE graph = ?", (graph,))
            self._db.execute("DELETE FROM graphs WHERE graph = ?", (graph,))

    def _reindex(self, store: KnowledgeStore, graph: str, count: int) -> None:
        rows = list(_labels_of(store, graph))
        with self._transaction():
            self._db.execute("DELETE FROM labels WHERE graph = ?", (graph,))
            self._db.executemany("INSERT INTO labels (folded, entity, graph) VALUES (?, ?, ?)", rows)
            self._db.execute("INSERT OR REPLACE INTO graphs (graph, labels) VALUES (?, ?)", (graph, count))

    @contextlib.contextmanager
    def _transaction(self) -> Iterator[None]:
        self._db.execute("BEGIN")
        try:
            yield
        except BaseException:
            self._db.execute("ROLLBACK")
            raise
        self._db.execute("COMMIT")

    # -- searching -----------------------------------------------------------------------------------
    def candidates(self, store: KnowledgeStore, text: str, *, limit: int = MAX_CANDIDATES) -> list[str] | None:
        """Entities with a label containing ``text`` (case-insensitive), sorted; ``None`` beyond ``limit``."""
        needle = fold(text)
        self.sync(store)
        with self._lock:
            if len(needle) >= 3:  # the trigram index answers substring queries of three characters or more
                phrase = '"' + needle.replace('"', '""') + '"'
                sql = "SELECT DISTINCT entity FROM labels WHERE labels MATCH ? LIMIT ?"
                rows = self._db.execute(sql, (f"folded:{phrase}", limit + 1)).fetchall()
            else:
                sql = "SELECT DISTINCT entity FROM labels WHERE instr(folded, ?) > 0 LIMIT ?"
                rows = self._db.execute(sql, (needle, limit + 1)).fetchall()
        if len(rows) > limit:
            return None
        return sorted(row[0] for row in rows)

    def exact(self, store: KnowledgeStore, text: str) -> list[str]:
        """Entities with a label equal to ``text`` (case-insensitive), sorted."""
        found = self.candidates(store, text)
        if not found:
            return []
        needle = fold(text)
        marks = ",".join("?" * len(found))
        with self._lock:
            sql = f"SELECT DISTINCT entity FROM labels WHERE folded = ? AND entity IN ({marks})"
            rows = self._db.execute(sql, (needle, *found)).fetchall()
        return sorted(row[0] for row in rows)

    def size(self) -> int:
        """How many labels the index holds."""
        with self._lock:
            return int(self._db.execute("SELECT COALESCE(SUM(labels), 0) FROM graphs").fetchone()[0])

    def close(self) -> None:
        """Close the database."""
        with self._lock:
            self._db.close()


def _label_counts(store: KnowledgeStore) -> dict[str, int]:
    counts: dict[str, int] = {}
    result = store.query(_COUNTS)
    assert isinstance(result, QuerySolutions)
    for row in result:
        graph = row["g"]
        if isinstance(graph, NamedNode):
            counts[graph.value] = int(row["n"].value)
    default = store.query(_DEFAULT_COUNT, dataset=_ONLY_DEFAULT)
    assert isinstance(default, QuerySolutions)
    for row in default:
        if int(row["n"].value):
            counts[_DEFAULT] = int(row["n"].value)
    return counts


def _labels_of(store: KnowledgeStore, graph: str) -> Iterator[tuple[str, str, str]]:
    if graph == _DEFAULT:
        result = store.query(_DEFAULT_LABELS, dataset=_ONLY_DEFAULT)
    else:
        result = store.query(_GRAPH_LABELS, bindings={"g": NamedNode(graph)})
    assert isinstance(result, QuerySolutions)
    for subject, label in result:
        if isinstance(subject, NamedNode) and isinstance(label, Literal):  # blank nodes cannot be bound later
            yield fold(label.value), subject.value, graph


# -- one index per store -------------------------------------------------------------------------------

_INDEXES: dict[Path, LabelIndex] = {}
_INDEXES_LOCK = threading.Lock()


def label_index_for(store: KnowledgeStore) -> LabelIndex | None:
    """The label index of an embedded store (opened once per process); ``None`` for other backends."""
    if not isinstance(store, OxigraphStore):
        return None
    path = index_path(Path(store.path).resolve())
    with _INDEXES_LOCK:
        index = _INDEXES.get(path)
        if index is None:
            index = _INDEXES[path] = LabelIndex(path)
        return index


def sync_label_index(store: KnowledgeStore, changed: Iterable[str] = ()) -> None:
    """Bring the store's label index up to date, re-indexing the graphs in ``changed`` (after a load)."""
    index = label_index_for(store)
    if index is not None:
        index.sync(store, changed=changed)


def search_sparql(query: NamedQuery, bound: Mapping[str, Term], store: KnowledgeStore) -> str | None:
    """The text of a label-search competency query with its candidates bound; ``None`` to run it as it is.

    The parameters in ``bound`` are bound as usual; the entity variable gets a ``VALUES`` block listing
    the index's candidates, so the query's own filter only looks at those.
    """
    spec = LABEL_SEARCHES.get(query.name)
    text = bound.get(spec[0]) if spec else None
    index = label_index_for(store) if spec else None
    if spec is None or index is None or not isinstance(text, Literal):
        return None
    found = index.candidates(store, text.value)
    if found is None:
        return None
    placeholder = str(NamedNode("urn:ioir:label-index:candidates"))
    with_entity = inject_values(query.sparql, {spec[1]: NamedNode("urn:ioir:label-index:candidates")})
    rows = " ".join(f"({NamedNode(iri)})" for iri in found)
    return inject_values(with_entity.replace(f"({placeholder})", rows, 1), bound)


__all__ = [
    "LABEL_SEARCHES",
    "LabelIndex",
    "index_path",
    "label_index_for",
    "search_sparql",
    "sync_label_index",
]
