"""The label index: searches through it answer exactly what the full scan answers, and it follows the store."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest
from pyoxigraph import Literal, NamedNode, Quad, QuerySolutions

from ioir_kg.config import Settings
from ioir_kg.errors import BadParameter
from ioir_kg.sparql.competency import CompetencyQuery, bind_arguments, load_catalogue, run_competency
from ioir_kg.store.bindings import inject_values
from ioir_kg.store.labels import SKOS_ALT, SKOS_PREF, LabelIndex, index_path, label_index_for, search_sparql
from ioir_kg.store.loading import load_sources
from ioir_kg.store.oxigraph import OxigraphStore

ID = "https://w3id.org/ioir/id/"
IOIR = "https://w3id.org/ioir/ontology#"
TEXTS = ["NATO", "nato", "Security Council", "EU", "un", "Mission", "e", "KFOR", "no such name at all", 'a "quoted"']


@pytest.fixture(scope="module")
def store(bundled_store_path: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[OxigraphStore]:
    """A writable copy of the bundled store (its label index is built on first use)."""
    path = tmp_path_factory.mktemp("labels") / "store"
    shutil.copytree(bundled_store_path, path)
    opened = OxigraphStore(path)
    yield opened
    opened.close()


@pytest.fixture(scope="module")
def search() -> CompetencyQuery:
    return load_catalogue(Settings().queries_dir)["search"]


def _rows(result: object) -> list[tuple[str | None, ...]]:
    assert isinstance(result, QuerySolutions)
    names = [v.value for v in result.variables]
    return [tuple(None if row[n] is None else str(row[n]) for n in names) for row in result]


@pytest.mark.parametrize("text", TEXTS)
def test_search_through_the_index_equals_the_full_scan(
    store: OxigraphStore, search: CompetencyQuery, text: str
) -> None:
    bound = bind_arguments(search, {"text": text}, store, Settings().id_base)
    scan = _rows(store.query(inject_values(search.sparql, bound)))
    indexed_text = search_sparql(search, bound, store)
    assert indexed_text is not None
    assert "urn:ioir:label-index" not in indexed_text
    assert _rows(store.query(indexed_text)) == scan
    assert _rows(run_competency(search, {"text": text}, store, Settings().id_base)) == scan


def test_the_index_holds_every_name_and_acronym(store: OxigraphStore) -> None:
    index = label_index_for(store)
    assert index is not None
    labels = store.query(f"SELECT (COUNT(*) AS ?n) WHERE {{ ?s <{SKOS_PREF}>|<{SKOS_ALT}> ?o }}")
    assert isinstance(labels, QuerySolutions)
    assert index.size() == int(next(labels)["n"].value)
    assert index.path == index_path(store.path.resolve())
    assert f"{ID}org/nato" in (index.candidates(store, "NATO") or [])
    assert index.exact(store, "nato") == [f"{ID}org/nato"]


def test_accepted_and_retracted_graphs_are_followed(store: OxigraphStore) -> None:
    index = label_index_for(store)
    assert index is not None
    graph = NamedNode("https://w3id.org/ioir/assertion/test-label-index")
    entity = NamedNode(f"{ID}org/zyxwv-organization")
    assert index.candidates(store, "Zyxwv") == []
    store.add_quads(
        [
            Quad(entity, NamedNode(SKOS_PREF), Literal("Zyxwv Organization", language="en"), graph),
            Quad(entity, NamedNode(SKOS_ALT), Literal("ZYX", language="en"), graph),
        ]
    )
    assert index.candidates(store, "zyxwv") == [entity.value]
    assert index.candidates(store, "zy") == [entity.value]  # under three characters: no trigram, a scan
    store.drop_graph(graph.value)
    assert index.candidates(store, "zyxwv") == []


def test_an_index_file_from_before_is_reused_and_checked(bundled_store_path: Path, tmp_path: Path) -> None:
    copy = tmp_path / "store"
    shutil.copytree(bundled_store_path, copy)
    first = OxigraphStore(copy)
    index = LabelIndex(index_path(copy))
    assert index.candidates(first, "qwerty") == []
    index.close()
    graph = NamedNode("urn:ioir:test:changed-while-closed")
    first.add_quads([Quad(NamedNode(f"{ID}org/qwerty"), NamedNode(SKOS_PREF), Literal("Qwerty"), graph)])
    first.close()
    reopened = OxigraphStore(copy)  # a restart: a new store object, the same index file
    try:
        index = LabelIndex(index_path(copy))
        assert index.size() > 0
        assert index.candidates(reopened, "qwerty") == [f"{ID}org/qwerty"]  # the first search re-checks
        index.close()
    finally:
        reopened.close()


def test_loading_builds_the_index(tmp_path: Path) -> None:
    data = tmp_path / "data"
    data.mkdir()
    (data / "orgs.ttl").write_text(
        f'<{ID}org/abc> <{SKOS_PREF}> "Alpha Beta Council"@en ; <{SKOS_ALT}> "ABC"@en .\n', encoding="utf-8"
    )
    settings = Settings(store_path=tmp_path / "store", data_root=tmp_path)
    store = OxigraphStore(settings.store_path)
    try:
        load_sources(store, settings)
        assert index_path(settings.store_path.resolve()).is_file()
        index = label_index_for(store)
        assert index is not None
        assert index.candidates(store, "beta") == [f"{ID}org/abc"]
    finally:
        store.close()


def test_entity_arguments_are_checked_without_listing_every_choice(store: OxigraphStore) -> None:
    query = load_catalogue(Settings().queries_dir)["instruments-between"]
    base = Settings().id_base
    by_iri = bind_arguments(query, {"a": "org/eu", "b": "org/nato"}, store, base)
    by_name = bind_arguments(query, {"a": "European Union", "b": "nato"}, store, base)
    assert by_iri == by_name == {"a": NamedNode(f"{ID}org/eu"), "b": NamedNode(f"{ID}org/nato")}
    with pytest.raises(BadParameter) as caught:
        bind_arguments(query, {"a": "concept/level-meso", "b": "org/nato"}, store, base)
    assert caught.value.errors[0]["param"] == "a"
    assert caught.value.errors[0]["choices"]  # the slow path still explains, with the valid values
