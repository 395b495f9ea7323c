"""The targeted OWL checks agree with HermiT: on each fixture that breaks an OWL axiom HermiT finds the ontology with
the submission and its stored neighbourhood inconsistent, and it finds the whole graph with every valid fixture
consistent. The one deliberate difference is documented: a second value of a functional object property is a
violation here (distinct IRIs name distinct entities) but, for OWL, an inferred identity.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from rdflib import Graph

from ioir_kg.config import Settings
from ioir_kg.store.oxigraph import OxigraphStore
from ioir_kg.validation.ontology_qa import load_graph, ontology_files
from ioir_kg.validation.owl import hermit_consistency
from ioir_kg.validation.pipeline import Metadata, Validator, _triple, read_submission_file
from tests.assertions.test_fixtures import header
from tests.conftest import require_system

ROOT = Path(__file__).resolve().parents[2]
FIXTURES = ROOT / "tests" / "assertions"
INCONSISTENT = [
    "disjoint-types-mission-as-organization",
    "disjoint-types-person-and-post",
    "range-violation-person-launches-mission",
    "range-violation-organization-as-resource-type",
    "signatory-not-post-or-person",
    "self-replacement",
    "asymmetric-replacement",
    "wrong-datatype-personnel-count",
]

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def validator(bundled_store_path: Path) -> Validator:
    require_system("java", "the HermiT reasoner")
    return Validator(OxigraphStore(bundled_store_path, read_only=True), Settings(store_path=bundled_store_path))


def with_neighbourhood(validator: Validator, path: Path) -> Graph:
    """The ontology, the fixture (with the evidence its metadata stands for) and its stored neighbourhood."""
    meta = header(path)
    metadata = Metadata(meta.get("source"), meta.get("quote")) if "quote" in meta else None
    submission = read_submission_file(path, validator.settings)
    triples = [
        *submission.triples,
        *validator.evidence_triples(submission, metadata, f"{Settings().id_base}evidence/x"),
    ]
    graph = load_graph(ontology_files(ROOT / "ontology"))
    graph += validator._neighbourhood({_triple(t) for t in triples})
    return graph


@pytest.mark.parametrize("name", INCONSISTENT)
def test_hermit_finds_what_the_axiom_checks_find(validator: Validator, name: str) -> None:
    path = FIXTURES / "invalid" / f"{name}.ttl"
    found = validator.check(read_submission_file(path, validator.settings)).report
    assert not found.consistency.consistent
    assert not hermit_consistency(with_neighbourhood(validator, path), timeout_s=120).consistent


def test_a_second_functional_value_is_an_identity_for_owl(validator: Validator) -> None:
    path = FIXTURES / "invalid" / "functional-second-dependent.ttl"
    assert "owl:FunctionalProperty" in validator.check(read_submission_file(path, validator.settings)).report.rules
    assert hermit_consistency(with_neighbourhood(validator, path), timeout_s=120).consistent


def test_hermit_finds_the_graph_with_every_valid_fixture_consistent(validator: Validator) -> None:
    graph = load_graph(ontology_files(ROOT / "ontology"))
    for path in sorted((ROOT / "data").glob("*.ttl")):
        graph.parse(path, format="turtle")
    for path in sorted((FIXTURES / "valid").glob("*.ttl")):
        graph += with_neighbourhood(validator, path)
    verdict = hermit_consistency(graph, timeout_s=300)
    assert verdict.ok, verdict.message
