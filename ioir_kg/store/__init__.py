"""Stores: the :class:`KnowledgeStore` protocol, its backends, and the loader.

``open_store`` is the only place that knows which backend is in use.
"""

from __future__ import annotations

from ioir_kg.config import Backend, Settings
from ioir_kg.errors import BadSetting
from ioir_kg.store.base import KnowledgeStore, QueryDataset, QueryResult, Term
from ioir_kg.store.oxigraph import OxigraphStore


def open_store(settings: Settings, *, read_only: bool = False) -> KnowledgeStore:
    """Open the backend the settings choose."""
    if settings.backend is Backend.OXIGRAPH:
        return OxigraphStore(settings.store_path, union_default_graph=settings.union_default_graph, read_only=read_only)
    if settings.backend is Backend.REMOTE:
        from ioir_kg.store.virtuoso import RemoteSparqlStore

        return RemoteSparqlStore.from_settings(settings)
    raise BadSetting(f"IOIR_BACKEND={settings.backend}: unknown backend")  # pragma: no cover


__all__ = ["KnowledgeStore", "OxigraphStore", "QueryDataset", "QueryResult", "Term", "open_store"]
