"""The inferred graph stays exactly the full recomputation through random sequences of writes (hypothesis).

Each step adds a graph of random statements (as an accepted assertion does) or drops one (as a retraction does),
then runs the hook the loader and the assertion service run (:func:`materialise`). After every step the inferred
graph equals the entailments computed in a fresh store holding the same asserted graphs, and none of its triples
is asserted.
"""

from __future__ import annotations

import logging
import tempfile
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from pyoxigraph import NamedNode, Quad

from ioir_kg.config import Settings
from ioir_kg.store.inference import asserted_triples, current_inferred, entailments, inferred_graph_iri, materialise
from ioir_kg.store.loading import bundled_files, graph_iri_for, load_file
from ioir_kg.store.oxigraph import OxigraphStore

ID = "https://w3id.org/ioir/id/"
IOIR = "https://w3id.org/ioir/ontology#"
ORG = "http://www.w3.org/ns/org#"
TYPE = NamedNode("http://www.w3.org/1999/02/22-rdf-syntax-ns#type")
ENTITIES = [NamedNode(f"{ID}body/prop-{i}") for i in range(5)]
CLASSES = [NamedNode(IOIR + c) for c in ("OrganizationalBody", "InternationalOrganization", "Mission", "Mandate")]
PROPERTIES = [NamedNode(p) for p in (ORG + "subOrganizationOf", ORG + "unitOf", IOIR + "hasMandate", ORG + "hasUnit")]

statement = st.one_of(
    st.tuples(st.sampled_from(ENTITIES), st.just(TYPE), st.sampled_from(CLASSES)),
    st.tuples(st.sampled_from(ENTITIES), st.sampled_from(PROPERTIES), st.sampled_from(ENTITIES)),
)
step = st.one_of(
    st.tuples(st.just("add"), st.lists(statement, min_size=1, max_size=4)),
    st.tuples(st.just("drop"), st.integers(min_value=0, max_value=5)),
)


def _ontology_store(folder: Path) -> tuple[OxigraphStore, Settings]:
    s = Settings(store_path=folder / "store")
    store = OxigraphStore(s.store_path)
    for path in bundled_files(s):
        if path.parent.name in ("ontology", "imports") or path.name == "entities.ttl":
            load_file(store, path, graph_iri_for(path, s), s)
    return store, s


@settings(max_examples=6, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(steps=st.lists(step, min_size=1, max_size=4))
def test_writes_keep_the_inferred_graph_equal_to_a_recomputation(steps: list[tuple[str, object]]) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        store, s = _ontology_store(Path(tmp))
        materialise(store, s)
        added: list[str] = []
        for number, (kind, arg) in enumerate(steps):
            if kind == "add":
                graph = f"{s.base_uri}assertion/prop-{number}"
                store.add_quads(Quad(a, b, c, NamedNode(graph)) for a, b, c in arg)  # type: ignore[union-attr]
                added.append(graph)
            elif added:
                store.drop_graph(added.pop(int(arg) % len(added)))  # type: ignore[call-overload]
            materialise(store, s)
            stored = current_inferred(store, s)
            asserted = asserted_triples(store, s)
            assert not stored & asserted
            fresh, fs = _ontology_store(Path(tmp) / f"fresh-{number}")
            for graph in added:
                fresh.add_quads(store.quads(graph))
            assert stored == entailments(asserted_triples(fresh, fs), fs)
            assert stored == {q.triple for q in store.quads(inferred_graph_iri(s))}
            fresh.close()
        store.close()


def test_a_store_over_the_limit_gets_no_inferred_graph(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    """Above IOIR_INFERENCE_MAX_TRIPLES nothing is materialised (the reasoner's memory grows with the closure), and
    an inferred graph left from when the store was smaller is dropped rather than kept stale."""
    store, roomy = _ontology_store(tmp_path)
    try:
        graph = NamedNode(f"{roomy.base_uri}assertion/limit")
        store.add_quads(
            [Quad(ENTITIES[0], TYPE, CLASSES[0], graph), Quad(ENTITIES[0], PROPERTIES[1], ENTITIES[1], graph)]
        )
        assert materialise(store, roomy).inferred > 0
        assert store.has_graph(inferred_graph_iri(roomy))
        tight = Settings(store_path=roomy.store_path, inference_max_triples=1)
        with caplog.at_level(logging.WARNING, logger="ioir_kg.inference"):
            done = materialise(store, tight)
        assert (done.inferred, done.changed) == (0, False)
        assert not store.has_graph(inferred_graph_iri(tight))
        assert "IOIR_INFERENCE_MAX_TRIPLES=1" in caplog.text
    finally:
        store.close()
