"""The validation pipeline without HTTP: reading bodies, the policy, generated evidence, the fast SHACL path (checked
against pySHACL's own RDFS inference on every shape example) and the report's renderings."""

from __future__ import annotations

from pathlib import Path

import pytest
from rdflib import Graph, Literal, URIRef
from rdflib.namespace import RDF, SH

from ioir_kg.config import Settings
from ioir_kg.errors import BadParameter, BadRdf, PayloadTooLarge, UnsupportedMediaType
from ioir_kg.store import open_store
from ioir_kg.store.oxigraph import OxigraphStore
from ioir_kg.validation.pipeline import Metadata, Validator, read_submission
from ioir_kg.validation.report import ConsistencyReport, Finding, ValidationReport
from ioir_kg.validation.shacl import run_shacl

ROOT = Path(__file__).resolve().parents[2]
EXAMPLES = sorted((ROOT / "tests" / "shapes").glob("S*.ttl"))
PREFIXES = "@prefix ioir: <https://w3id.org/ioir/ontology#> . @prefix skos: <http://www.w3.org/2004/02/skos/core#> .\n"


@pytest.fixture(scope="module")
def store(bundled_store_path: Path) -> OxigraphStore:
    """The bundled store, opened read-only: the validator only reads."""
    return OxigraphStore(bundled_store_path, read_only=True)


@pytest.fixture(scope="module")
def schemes() -> Graph:
    return Graph().parse(ROOT / "ontology" / "schemes.ttl", format="turtle")


@pytest.fixture(scope="module")
def validator(store: OxigraphStore) -> Validator:
    return Validator(store, Settings(store_path=store.path))


def test_read_submission_limits_and_errors() -> None:
    settings = Settings(max_body_bytes=200, max_assertion_triples=2)
    with pytest.raises(UnsupportedMediaType):
        read_submission(b"<a> <b> <c> .", "application/rdf+xml", settings)
    with pytest.raises(PayloadTooLarge):
        read_submission(b"#" * 201, "text/turtle", settings)
    with pytest.raises(PayloadTooLarge):
        read_submission(b"<a> <b> <c>, <d>, <e> .", "text/turtle", settings)
    with pytest.raises(BadRdf, match="empty"):
        read_submission(b"  \n", "text/turtle", settings)
    with pytest.raises(BadRdf, match="no triples"):
        read_submission(b"# only a comment\n", "text/turtle; charset=utf-8", settings)
    with pytest.raises(BadRdf, match="not valid Turtle"):
        read_submission(b"<a> <b> .", "text/turtle", settings)


def test_relative_and_canonical_iris_move_under_the_configured_base() -> None:
    settings = Settings(base_uri="https://kg.example.org/")
    body = b"<org/x> <https://w3id.org/ioir/ontology#headquarters> <https://w3id.org/ioir/id/place/brussels> ."
    (triple,) = read_submission(body, "text/turtle", settings).triples
    assert triple.subject.value == "https://kg.example.org/id/org/x"  # type: ignore[union-attr]
    assert triple.object.value == "https://kg.example.org/id/place/brussels"  # type: ignore[union-attr]


def test_policy_refusals_stop_before_reasoning(validator: Validator) -> None:
    body = (
        PREFIXES + "@prefix owl: <http://www.w3.org/2002/07/owl#> .\n"
        "<https://w3id.org/ioir/id/org/eu> owl:sameAs <http://www.wikidata.org/entity/Q458> ; ioir:foo 1 .\n"
        "ioir:Mission skos:prefLabel 'x' .\n<http://example.org/y> skos:prefLabel 'y' .\n"
    )
    report = validator.check(read_submission(body.encode(), "text/turtle", Settings())).report
    assert report.rules == {"no-owl-sameAs", "undeclared-term", "no-vocabulary-terms", "own-namespace"}
    assert report.consistency.reasoner == "skipped"
    assert {r.kind for r in report.results} == {"policy"}


def test_evidence_from_metadata_goes_to_every_described_entity(validator: Validator) -> None:
    body = PREFIXES + (
        "<https://w3id.org/ioir/id/org/eu> ioir:headquarters <https://w3id.org/ioir/id/place/brussels> .\n"
        "<https://w3id.org/ioir/id/evidence/own> a ioir:Evidence .\n"
    )
    submission = read_submission(body.encode(), "text/turtle", Settings())
    metadata = Metadata(source="s002", quote="  both organizations’ HQ\n are in the same city ", locator="p. 3")
    added = validator.evidence_triples(submission, metadata, "https://w3id.org/ioir/id/evidence/assertion-x")
    text = {str(t) for t in added}
    evidence = "<https://w3id.org/ioir/id/evidence/assertion-x>"
    assert f"<https://w3id.org/ioir/id/org/eu> <https://w3id.org/ioir/ontology#evidence> {evidence}" in text
    assert f'{evidence} <http://www.w3.org/ns/prov#value> "both organizations’ HQ are in the same city"' in text
    assert not any(
        t.startswith("<https://w3id.org/ioir/id/evidence/own> <https://w3id.org/ioir/ontology#evidence") for t in text
    )
    with pytest.raises(BadParameter):
        validator.evidence_triples(submission, Metadata(quote="no source"), "https://w3id.org/ioir/id/evidence/y")
    with pytest.raises(BadParameter):
        validator.source_iri("the-first-paper")
    assert validator.source_iri("https://w3id.org/ioir/id/source/s004").value.endswith("/source/s004")


def test_a_stored_entity_is_not_blamed_for_what_the_neighbourhood_leaves_out(validator: Validator) -> None:
    """NATO is a neighbour here, seen through its type and label only: its missing evidence is not reported."""
    body = PREFIXES + (
        "<https://w3id.org/ioir/id/dependency/t> a ioir:ResourceDependency ; skos:prefLabel 'T'@en ;\n"
        "  ioir:dependent <https://w3id.org/ioir/id/org/eu> ; ioir:provider <https://w3id.org/ioir/id/org/nato> ;\n"
        "  ioir:resourceType <https://w3id.org/ioir/id/concept/resource-funding> ;\n"
        "  ioir:dependencyLevel <https://w3id.org/ioir/id/concept/level-meso> .\n"
    )
    report = validator.check(read_submission(body.encode(), "text/turtle", Settings())).report
    assert {(r.rule, r.focus) for r in report.results} == {("S02", "https://w3id.org/ioir/id/dependency/t")}


@pytest.mark.slow
@pytest.mark.parametrize("path", EXAMPLES, ids=lambda p: p.stem)
def test_fast_shacl_matches_pyshacl_rdfs_inference(validator: Validator, schemes: Graph, path: Path) -> None:
    """The entailments computed from the compiled ontology, with the shapes parsed once and results on logical
    sub-shapes skipped, give exactly the results of pySHACL with ``inference="rdfs"`` and the ontology graph."""
    example = Graph().parse(path, format="turtle")
    data = Graph()
    data += example
    for concept in {o for o in example.objects() if isinstance(o, URIRef)}:
        for triple in schemes.triples((concept, None, None)):
            data.add(triple)  # the concepts the example points to, as the store's neighbourhood would give them
    reference = run_shacl(data, validator.shapes, validator.ontology)
    fast = validator.shacl(data)
    assert fast.conforms == reference.conforms
    assert {(r.shape_id, r.severity, r.focus, r.path, r.value) for r in fast.results} == {
        (r.shape_id, r.severity, r.focus, r.path, r.value) for r in reference.results
    }


def test_report_renderings() -> None:
    finding = Finding(
        "S04",
        "shape",
        "Violation",
        "A resource dependency must name exactly one dependent.",
        "“T” can have at most 1 dependent organization, but would have 2.",
        focus="https://w3id.org/ioir/id/dependency/t",
        path="https://w3id.org/ioir/ontology#dependent",
        value='"2008"^^<http://www.w3.org/2001/XMLSchema#gYear>',
        source="https://w3id.org/ioir/ontology/shapes#S04",
    )
    warning = Finding("S15", "shape", "Warning", "Should state its date.", "“R” states no date.", focus="_:b1")
    report = ValidationReport.build([warning, finding], ConsistencyReport("axioms", True, "fine"), triples=4)
    assert not report.conforms
    assert [r.rule for r in report.results] == ["S04", "S15"]
    body = report.to_json()
    assert body["violations"] == 1
    assert body["warnings"] == 1
    assert body["triples"] == 4
    assert body["results"][0]["path"] == "https://w3id.org/ioir/ontology#dependent"
    graph = Graph().parse(data=report.to_turtle(), format="turtle")
    (node,) = graph.subjects(RDF.type, SH.ValidationReport)
    results = list(graph.objects(node, SH.result))
    assert len(results) == 2
    values = {graph.value(r, SH.value) for r in results}
    assert Literal("2008", datatype=URIRef("http://www.w3.org/2001/XMLSchema#gYear")) in values
    assert {graph.value(r, SH.sourceShape) for r in results} >= {URIRef("https://w3id.org/ioir/ontology/shapes#S04")}
    assert "does not conform: 1 violation, 1 warning" in report.to_text()
    page = report.to_html()
    assert "<table>" in page
    assert "&quot;2008&quot;^^&lt;http://www.w3.org/2001/XMLSchema#gYear&gt;" in page
    warnings_only = ValidationReport.build([warning], ConsistencyReport("axioms", True, "fine"), triples=1)
    assert warnings_only.conforms


def test_validation_reads_only(bundled_store_path: Path) -> None:
    """Validation never writes: a store opened read-only serves it."""
    store = open_store(Settings(store_path=bundled_store_path), read_only=True)
    body = PREFIXES + "<https://w3id.org/ioir/id/org/eu> ioir:headquarters <https://w3id.org/ioir/id/place/brussels> ."
    report = Validator(store, Settings()).check(read_submission(body.encode(), "text/turtle", Settings())).report
    assert report.consistency.consistent
