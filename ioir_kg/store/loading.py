"""Load RDF files into the store: one named graph per file, replaced atomically when the file changed.

A small JSON manifest beside the store remembers each loaded file's SHA-256, so a
restart does not parse unchanged files again. The store stays the truth: a graph
missing from the store is loaded again whatever the manifest says.
"""

from __future__ import annotations

import hashlib
import json
import os
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from enum import StrEnum
from pathlib import Path
from typing import Any
from urllib.parse import quote

from pyoxigraph import NamedNode, Quad, parse

from ioir_kg.config import Backend, Settings
from ioir_kg.errors import BadRdf, ResourceNotFound
from ioir_kg.namespaces import CANONICAL_ID_BASE
from ioir_kg.store import open_store
from ioir_kg.store.base import KnowledgeStore
from ioir_kg.store.labels import sync_label_index
from ioir_kg.store.oxigraph import rdf_format_for, syntax_message

RDF_SUFFIXES = frozenset({".ttl", ".nt", ".rdf", ".owl", ".jsonld", ".n3"})


class LoadStatus(StrEnum):
    """What happened to one file."""

    LOADED = "loaded"
    UNCHANGED = "unchanged"
    REMOVED = "removed"


@dataclass(frozen=True)
class LoadResult:
    """One file (or a pruned graph) and what the loader did with it."""

    path: str
    graph: str
    status: LoadStatus
    triples: int | None = None


def graph_iri_for(path: Path, settings: Settings) -> str:
    """The named graph of a file: ``{base}graph/{path under data_root, without suffix}``.

    Files outside the project go to ``{base}graph/files/{stem}``.

    >>> s = Settings(data_root=Path("/p"))
    >>> graph_iri_for(Path("/p/data/001-x.ttl"), s)
    'https://w3id.org/ioir/graph/data/001-x'
    >>> graph_iri_for(Path("/tmp/big.nt"), s)
    'https://w3id.org/ioir/graph/files/big'
    """
    resolved = path.resolve()
    try:
        rel = resolved.relative_to(settings.data_root.resolve()).with_suffix("")
    except ValueError:
        rel = Path("files") / resolved.stem
    return settings.graph_base + quote(rel.as_posix(), safe="/-_.")


def bundled_files(settings: Settings) -> list[Path]:
    """Every RDF file under ``ontology/`` and ``data/``, sorted."""
    files: list[Path] = []
    for folder in settings.bundled_dirs:
        if folder.is_dir():
            files.extend(p for p in folder.rglob("*") if p.suffix in RDF_SUFFIXES and p.is_file())
    return sorted(files)


def bundle_problems(settings: Settings) -> list[str]:
    """What the data root lacks of a dataset: RDF files under ``data/``, competency queries under ``queries/``."""
    data_dir = settings.bundled_dirs[1]
    problems = []
    if not any(p.is_relative_to(data_dir) for p in bundled_files(settings)):
        problems.append(f"no RDF data under {data_dir}")
    if not (settings.queries_dir.is_dir() and any(settings.queries_dir.glob("*.rq"))):
        problems.append(f"no competency queries under {settings.queries_dir}")
    return problems


def expand_paths(paths: Iterable[Path]) -> list[Path]:
    """Files named on the command line; folders stand for the RDF files below them."""
    files: list[Path] = []
    for path in paths:
        if path.is_dir():
            files.extend(sorted(p for p in path.rglob("*") if p.suffix in RDF_SUFFIXES and p.is_file()))
        elif path.is_file():
            files.append(path)
        else:
            raise ResourceNotFound(f"{path}: no such file or directory")
    for file in files:
        if not os.access(file, os.R_OK):
            raise BadRdf(f"{file}: not readable")
    return files


class Manifest:
    """SHA-256 and base IRI of each loaded file, keyed by graph IRI (a JSON file)."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.entries: dict[str, dict[str, Any]] = {}
        if path.is_file():
            try:
                self.entries = json.loads(path.read_text(encoding="utf-8"))
            except (OSError, ValueError):
                self.entries = {}

    def is_current(self, graph: str, digest: str, base: str) -> bool:
        entry = self.entries.get(graph)
        return entry is not None and entry.get("sha256") == digest and entry.get("base") == base

    def record(self, graph: str, path: Path, digest: str, base: str, triples: int) -> None:
        self.entries[graph] = {"file": str(path), "sha256": digest, "base": base, "triples": triples}

    def save(self) -> None:
        """Write atomically (temp file + rename)."""
        self.path.parent.mkdir(parents=True, exist_ok=True)
        tmp = self.path.with_suffix(".tmp")
        tmp.write_text(json.dumps(self.entries, indent=1, sort_keys=True), encoding="utf-8")
        tmp.replace(self.path)


def manifest_path(settings: Settings) -> Path:
    """Where the load manifest of this store lives: beside the embedded store, or, for a remote store, a file
    of its own per server and dataset (so switching backends or servers never trusts another store's manifest).
    """
    name = settings.store_path.name
    if settings.backend is Backend.REMOTE:
        server = f"{settings.remote_update_url}|{settings.remote_query_url}|{settings.base_uri}"
        name += ".remote-" + hashlib.sha256(server.encode("utf-8")).hexdigest()[:12]
    return settings.store_path.with_name(name + ".loaded.json")


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def _rebased_quads(path: Path, id_base: str) -> Iterator[Quad]:
    """The file's triples with ``https://w3id.org/ioir/id/`` IRIs moved under ``id_base``."""

    def move(term: Any) -> Any:
        if isinstance(term, NamedNode) and term.value.startswith(CANONICAL_ID_BASE):
            return NamedNode(id_base + term.value[len(CANONICAL_ID_BASE) :])
        return term

    try:
        for quad in parse(path=str(path), format=rdf_format_for(path)):
            yield Quad(move(quad.subject), move(quad.predicate), move(quad.object))
    except SyntaxError as exc:
        raise BadRdf(syntax_message(str(path), exc)) from None


def load_file(store: KnowledgeStore, path: Path, graph: str, settings: Settings) -> int:
    """Replace ``graph`` with the file's triples, rebasing entity IRIs for a non-canonical base."""
    if settings.id_base == CANONICAL_ID_BASE:
        loader = getattr(store, "load_file", None)
        if loader is not None:
            return int(loader(path, graph))
    quads = list(_rebased_quads(path, settings.id_base))
    store.replace_graph(graph, quads)
    return len(quads)


def load_sources(
    store: KnowledgeStore,
    settings: Settings,
    paths: Iterable[Path] | None = None,
    *,
    force: bool = False,
) -> list[LoadResult]:
    """Load ``paths`` (default: the bundled ``ontology/`` and ``data/``), skipping unchanged files.

    With the bundled set, graphs of bundled files that no longer exist are dropped.
    A file with a syntax error raises :class:`BadRdf` and leaves its graph as it was;
    files loaded before it stay loaded.
    """
    bundled = paths is None
    files = bundled_files(settings) if paths is None else expand_paths(paths)
    manifest = Manifest(manifest_path(settings))
    results: list[LoadResult] = []
    try:
        for path in files:
            graph = graph_iri_for(path, settings)
            digest = _sha256(path)
            if not force and manifest.is_current(graph, digest, settings.base_uri) and store.has_graph(graph):
                results.append(LoadResult(str(path), graph, LoadStatus.UNCHANGED))
                continue
            triples = load_file(store, path, graph, settings)
            manifest.record(graph, path, digest, settings.base_uri, triples)
            results.append(LoadResult(str(path), graph, LoadStatus.LOADED, triples))
        if bundled:
            results.extend(_prune(store, manifest, {graph_iri_for(p, settings) for p in files}, settings))
    finally:
        manifest.save()
    # label index (ioir_kg.store.labels): re-index the graphs just loaded, build it when missing
    sync_label_index(store, changed=[r.graph for r in results if r.status == LoadStatus.LOADED])
    # entailments (ioir_kg.store.inference): recomputed when a graph changed, computed when missing
    from ioir_kg.store.inference import inferred_graph_iri, materialise

    if any(r.status != LoadStatus.UNCHANGED for r in results) or not store.has_graph(inferred_graph_iri(settings)):
        materialise(store, settings)
    return results


def _prune(store: KnowledgeStore, manifest: Manifest, keep: set[str], settings: Settings) -> list[LoadResult]:
    """Drop graphs of bundled files that were deleted since they were loaded."""
    roots = tuple(str(d.resolve()) for d in settings.bundled_dirs)
    removed: list[LoadResult] = []
    for graph, entry in list(manifest.entries.items()):
        if graph not in keep and str(Path(entry["file"]).resolve()).startswith(roots):
            store.drop_graph(graph)
            del manifest.entries[graph]
            removed.append(LoadResult(entry["file"], graph, LoadStatus.REMOVED))
    return removed


@contextmanager
def opened_store(settings: Settings, *, sync_bundled: bool = True) -> Iterator[KnowledgeStore]:
    """The configured store, open for the block; the bundled data brought up to date first when asked to."""
    store = open_store(settings)
    try:
        if sync_bundled and settings.load_bundled:
            load_sources(store, settings)
        yield store
    finally:
        store.close()
