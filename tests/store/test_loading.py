"""The loader, on both backends: one graph per file, atomic replacement, unchanged files skipped, bad files rejected."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest
from pyoxigraph import QuerySolutions

from ioir_kg.config import Settings
from ioir_kg.errors import BadRdf
from ioir_kg.store import open_store
from ioir_kg.store.base import KnowledgeStore
from ioir_kg.store.loading import LoadStatus, graph_iri_for, load_sources, manifest_path

GOOD = """@base <https://w3id.org/ioir/id/> .
@prefix skos: <http://www.w3.org/2004/02/skos/core#> .
<org/un> skos:prefLabel "United Nations"@en .
<org/eu> skos:prefLabel "European Union"@en .
"""


def _project(root: Path, files: dict[str, str]) -> None:
    for rel, text in files.items():
        path = root / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")


def _labels(store: KnowledgeStore) -> list[str]:
    result = store.query("SELECT ?l WHERE { ?s <http://www.w3.org/2004/02/skos/core#prefLabel> ?l } ORDER BY ?l")
    assert isinstance(result, QuerySolutions)
    return [row["l"].value for row in result]


@pytest.fixture
def project(tmp_path: Path, backend_settings: Callable[..., Settings]) -> Settings:
    """A project of two files, to be loaded into an empty dataset on each backend."""
    _project(tmp_path / "proj", {"data/orgs.ttl": GOOD, "ontology/o.ttl": "<urn:a> <urn:b> <urn:c> ."})
    return backend_settings(data_root=tmp_path / "proj")


def test_each_file_gets_its_own_graph(project: Settings) -> None:
    store = open_store(project)
    results = load_sources(store, project)
    assert {r.graph: r.triples for r in results} == {
        f"{project.graph_base}data/orgs": 2,
        f"{project.graph_base}ontology/o": 1,
    }
    assert [(g.iri, g.triples) for g in store.graphs()] == [
        (f"{project.graph_base}data/orgs", 2),
        (f"{project.graph_base}ontology/o", 1),
    ]
    assert _labels(store) == ["European Union", "United Nations"]  # default graph = union of named graphs
    store.close()


def test_restart_skips_unchanged_files_and_reloads_changed_ones(project: Settings) -> None:
    store = open_store(project)
    load_sources(store, project)
    store.close()

    store = open_store(project)  # a restart: new process state, same store and manifest
    again = load_sources(store, project)
    assert {r.status for r in again} == {LoadStatus.UNCHANGED}
    assert all(r.triples is None for r in again)

    (project.data_root / "data/orgs.ttl").write_text(GOOD.replace("European Union", "EU"), encoding="utf-8")
    changed = {r.graph: r.status for r in load_sources(store, project)}
    assert changed == {
        f"{project.graph_base}data/orgs": LoadStatus.LOADED,
        f"{project.graph_base}ontology/o": LoadStatus.UNCHANGED,
    }
    assert _labels(store) == ["EU", "United Nations"]  # replaced, not added
    store.close()


def test_graph_missing_from_store_is_reloaded_whatever_the_manifest_says(project: Settings) -> None:
    store = open_store(project)
    load_sources(store, project)
    store.drop_graph(f"{project.graph_base}data/orgs")
    statuses = {r.graph: r.status for r in load_sources(store, project)}
    assert statuses[f"{project.graph_base}data/orgs"] is LoadStatus.LOADED
    assert _labels(store) == ["European Union", "United Nations"]
    store.close()


def test_deleted_bundled_file_drops_its_graph(project: Settings) -> None:
    store = open_store(project)
    load_sources(store, project)
    (project.data_root / "ontology/o.ttl").unlink()
    results = load_sources(store, project)
    assert [(r.graph, r.status) for r in results if r.status is LoadStatus.REMOVED] == [
        (f"{project.graph_base}ontology/o", LoadStatus.REMOVED)
    ]
    assert [g.iri for g in store.graphs()] == [f"{project.graph_base}data/orgs"]
    store.close()


def test_syntax_error_names_file_and_line_and_changes_nothing(project: Settings) -> None:
    store = open_store(project)
    load_sources(store, project)
    before = sorted(str(q) for q in store.quads())
    bad = project.data_root / "data/orgs.ttl"
    bad.write_text(GOOD + '<org/nato> <urn:p> "unterminated .\n', encoding="utf-8")
    with pytest.raises(BadRdf) as info:
        load_sources(store, project)
    assert str(bad) in info.value.message
    assert "line 5" in info.value.message
    assert sorted(str(q) for q in store.quads()) == before
    store.close()


def test_other_base_uri_rebases_entity_iris(tmp_path: Path, make_settings: Callable[..., Settings]) -> None:
    _project(tmp_path / "proj", {"data/orgs.ttl": GOOD})
    settings = make_settings(data_root=tmp_path / "proj", base_uri="http://localhost:8000/")
    store = open_store(settings)
    load_sources(store, settings)
    result = store.query("SELECT ?s WHERE { ?s ?p ?o } ORDER BY ?s")
    assert isinstance(result, QuerySolutions)
    assert [r["s"].value for r in result] == ["http://localhost:8000/id/org/eu", "http://localhost:8000/id/org/un"]
    assert [g.iri for g in store.graphs()] == ["http://localhost:8000/graph/data/orgs"]
    store.close()


def test_files_outside_the_project_get_a_files_graph(tmp_path: Path) -> None:
    settings = Settings(data_root=tmp_path / "proj")
    assert graph_iri_for(tmp_path / "elsewhere/big.nt", settings) == "https://w3id.org/ioir/graph/files/big"


def test_each_store_has_a_manifest_of_its_own(make_settings: Callable[..., Settings]) -> None:
    """A remote store never trusts the embedded store's manifest, nor another server's or dataset's."""
    embedded = make_settings()
    remote = make_settings(
        backend="remote", remote_query_url="http://a.test/sparql", remote_update_url="http://a.test/u"
    )
    other_server = make_settings(
        backend="remote", remote_query_url="http://b.test/sparql", remote_update_url="http://b.test/u"
    )
    other_dataset = remote.model_copy(update={"base_uri": "http://elsewhere.test/"})
    paths = [manifest_path(s) for s in (embedded, remote, other_server, other_dataset)]
    assert paths[0] == embedded.store_path.with_name("store.loaded.json")
    assert len(set(paths)) == 4
    assert all(p.parent == embedded.store_path.parent and p.name.endswith(".loaded.json") for p in paths)
    assert manifest_path(remote) == manifest_path(remote.model_copy())
