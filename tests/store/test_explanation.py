"""``ioir-kg explain`` and :mod:`ioir_kg.store.explanation` on the bundled data: asserted, inferred and why, neither."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from pyoxigraph import Literal, NamedNode, Triple

from ioir_kg.config import Settings
from ioir_kg.errors import BadInput
from ioir_kg.store import open_store
from ioir_kg.store.explanation import Explainer, parse_term

ID = "https://w3id.org/ioir/id/"
IOIR = "https://w3id.org/ioir/ontology#"
JOINT_DECLARATION = "instrument/eu-nato-joint-declaration-2016"


@pytest.fixture(scope="module")
def store_path(bundled_store_path: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A copy of the bundled store (closed), for the CLI and the explainer in turn."""
    path = tmp_path_factory.mktemp("explain") / "store"
    shutil.copytree(bundled_store_path, path)
    for manifest in bundled_store_path.parent.glob("*.json"):
        shutil.copy(manifest, path.parent / manifest.name)
    return path


def explain(store_path: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("IOIR_")}
    env |= {"IOIR_STORE_PATH": str(store_path)}
    return subprocess.run(
        [sys.executable, "-m", "ioir_kg", "explain", *args], env=env, capture_output=True, text=True, timeout=120
    )


def test_cli_explains_a_type_by_the_subclass_chain(store_path: Path) -> None:
    done = explain(store_path, JOINT_DECLARATION, "a", "ioir:CooperationInstrument")
    assert done.returncode == 0, done.stderr
    out = done.stdout
    assert "inferred" in out
    assert "by rdfs:subClassOf (cax-sco)" in out
    assert f"<{ID}{JOINT_DECLARATION}> a ioir:JointDeclaration   [asserted in <" in out
    assert "ioir:JointDeclaration rdfs:subClassOf ioir:DocumentInstrument   [asserted in <" in out
    assert "ioir:DocumentInstrument rdfs:subClassOf ioir:CooperationInstrument" in out


def test_cli_explains_an_inverse(store_path: Path) -> None:
    done = explain(store_path, f"{ID}mandate/unscr-1484", "ioir:authorizes", f"<{ID}mission/artemis>")
    assert done.returncode == 0, done.stderr
    assert "by owl:inverseOf (prp-inv)" in done.stdout
    assert f"<{ID}mission/artemis> ioir:hasMandate <{ID}mandate/unscr-1484>   [asserted in <" in done.stdout
    assert "ioir:hasMandate owl:inverseOf ioir:authorizes" in done.stdout


def test_cli_asserted_neither_and_bad_input(store_path: Path) -> None:
    asserted = explain(store_path, JOINT_DECLARATION, "rdf:type", "ioir:JointDeclaration")
    assert asserted.returncode == 0, asserted.stderr
    assert "asserted in <https://w3id.org/ioir/graph/data/" in asserted.stdout
    assert "inferred" not in asserted.stdout
    neither = explain(store_path, "org/nato", "a", "ioir:Mission")
    assert neither.returncode == 1
    assert "neither asserted nor inferred" in neither.stdout
    for args in (("org/nato", "bogus", "x"), ("org/nato", "skos:prefLabel", '"NATO')):
        bad = explain(store_path, *args)
        assert bad.returncode == 2
        assert len(bad.stderr.strip().splitlines()) == 1
        assert bad.stdout == ""


def test_explainer_derivations_rest_on_asserted_triples(store_path: Path) -> None:
    settings = Settings(store_path=store_path, load_bundled=False)
    store = open_store(settings)
    try:
        explainer = Explainer(store, settings)
        subject = NamedNode(ID + JOINT_DECLARATION)
        found = explainer.inferred_about(subject)
        types = {e.triple.object for e in found if e.triple.predicate.value.endswith("#type")}
        assert NamedNode(IOIR + "CooperationInstrument") in types
        for e in found:
            assert e.inferred
            assert not e.graphs
            if e.derivation is not None:
                assert all(p.graphs for p in e.derivation.asserted())
        why = explainer.explain(Triple(subject, parse_term("a", settings, "predicate"), NamedNode(IOIR + "Mission")))
        assert not why.holds
    finally:
        store.close()


def test_parse_term_refuses_what_it_cannot_read() -> None:
    settings = Settings()
    assert parse_term(
        '"7"^^xsd:integer'.replace("xsd:integer", "<http://www.w3.org/2001/XMLSchema#integer>"), settings, "object"
    ) == Literal("7", datatype=NamedNode("http://www.w3.org/2001/XMLSchema#integer"))
    for text, position in (("nope", "subject"), ('"x"', "subject"), ("org/nato", "predicate"), ("<a b>", "object")):
        with pytest.raises(BadInput):
            parse_term(text, settings, position)
