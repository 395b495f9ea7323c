"""The per-query inference switch: ``infer=true|false`` on ``/sparql`` and ``/queries/*``.

With inference (the default, ``IOIR_INFERENCE``), a query without a dataset sees the union of every graph, the
inferred graph ``{base}graph/inferred`` included. Without, the query runs on an explicit dataset: the default graph
is the union of every graph *but* the inferred one (the store's own default graph included), the named graphs are
all of them (``GRAPH <{base}graph/inferred>`` still reads the entailments). A dataset the request or the query names
(``default-graph-uri``/``named-graph-uri``, ``FROM``/``FROM NAMED``) is honoured as given.

>>> parse_infer("false"), parse_infer(None), parse_infer("1")
(False, None, True)
>>> names_own_dataset("SELECT * FROM <http://g> { ?s ?p ?o }"), names_own_dataset('ASK { ?s ?p "FROM" }')
(True, False)
"""

from __future__ import annotations

from collections.abc import Sequence

from ioir_kg.config import Settings
from ioir_kg.errors import BadInput
from ioir_kg.sparql.lexer import tokens
from ioir_kg.store.base import KnowledgeStore, QueryDataset
from ioir_kg.store.inference import inferred_graph_iri

#: The response header telling whether the answer includes the inferred graph.
INFERENCE_HEADER = "IOIR-Inference"
_TRUE, _FALSE = frozenset({"true", "1", "yes", "on"}), frozenset({"false", "0", "no", "off"})


def parse_infer(value: str | None) -> bool | None:
    """``infer=`` read as a boolean (``None`` when absent); anything else is a 400."""
    return parse_flag("infer", value)


def parse_flag(name: str, value: str | None) -> bool | None:
    """The parameter ``name`` read as a boolean (``None`` when absent); anything else is a 400."""
    if value is None:
        return None
    lowered = value.strip().lower()
    if lowered in _TRUE:
        return True
    if lowered in _FALSE:
        return False
    raise BadInput(f"{name}={value!r}: give {name}=true (include inferred statements) or {name}=false")


def names_own_dataset(query: str) -> bool:
    """Whether the query has a ``FROM`` or ``FROM NAMED`` clause."""
    return any(t.kind == "word" and t.text.upper() == "FROM" for t in tokens(query))


def graph_names(store: KnowledgeStore) -> Sequence[str]:
    """The IRIs of the store's named graphs (cheaply where the backend allows)."""
    lister = getattr(store, "graph_names", None) or getattr(store, "_dataset_graphs", None)
    if lister is not None:
        return list(lister())
    return [info.iri for info in store.graphs()]


def inference_dataset(
    store: KnowledgeStore, settings: Settings, query: str, dataset: QueryDataset | None, infer: bool | None
) -> tuple[QueryDataset | None, bool]:
    """The dataset to run ``query`` on, and whether the inferred graph is in its default graph.

    ``infer`` ``None`` takes ``IOIR_INFERENCE``. Only a query without any dataset of its own changes.
    """
    wanted = settings.inference if infer is None else infer
    if dataset is not None or names_own_dataset(query):
        inferred = inferred_graph_iri(settings)
        return dataset, dataset is not None and inferred in dataset.default_graphs
    if wanted or not settings.union_default_graph:
        return None, wanted and settings.union_default_graph
    inferred = inferred_graph_iri(settings)
    graphs = [g for g in graph_names(store) if not g.startswith("urn:ioir:")]
    defaults = ("", *(g for g in graphs if g != inferred))
    return QueryDataset(defaults, tuple(graphs) or (inferred,)), False
