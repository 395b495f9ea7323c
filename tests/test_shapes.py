"""The SHACL shapes against their examples: every ``tests/shapes/SNN-valid.ttl`` conforms, every
``SNN-invalid-MM.ttl`` fails on shape SNN and on no other shape, and every shape has both kinds of example.

Each example is validated together with ``ontology/schemes.ttl`` (the concepts it points to), with
``ontology/ioir.ttl`` and ``ontology/imports/*.ttl`` as pySHACL's ontology graph, as :func:`run_shacl` does.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from rdflib import Graph, Literal, Namespace, URIRef
from rdflib.namespace import DCTERMS, OWL, RDF, RDFS, SH

from ioir_kg.validation.ontology_qa import load_graph, shacl_ontology_files
from ioir_kg.validation.shacl import ShaclOutcome, run_shacl

HERE = Path(__file__).resolve().parent
EXAMPLES_DIR = HERE / "shapes"
ONTOLOGY_DIR = HERE.parent / "ontology"
IOIR = Namespace("https://w3id.org/ioir/ontology#")
IOIRSH = Namespace("https://w3id.org/ioir/ontology/shapes#")
EXAMPLE_NAME = re.compile(r"^(S\d{2})-(valid|invalid-\d{2})\.ttl$")

VALID = sorted(EXAMPLES_DIR.glob("S*-valid.ttl"))
INVALID = sorted(EXAMPLES_DIR.glob("S*-invalid-*.ttl"))


@pytest.fixture(scope="module")
def shapes() -> Graph:
    return Graph().parse(ONTOLOGY_DIR / "shapes.ttl", format="turtle")


@pytest.fixture(scope="module")
def ontology() -> Graph:
    return load_graph(shacl_ontology_files(ONTOLOGY_DIR))


@pytest.fixture(scope="module")
def schemes() -> Graph:
    return Graph().parse(ONTOLOGY_DIR / "schemes.ttl", format="turtle")


def _shape_ids(shapes: Graph) -> dict[str, URIRef]:
    ids = {}
    for shape, identifier in shapes.subject_objects(DCTERMS.identifier):
        assert isinstance(shape, URIRef)
        ids[str(identifier)] = shape
    return ids


def _validate(path: Path, shapes: Graph, ontology: Graph, schemes: Graph) -> ShaclOutcome:
    data = Graph()
    data += schemes
    data.parse(path, format="turtle")
    return run_shacl(data, shapes, ontology)


def _explain(outcome: ShaclOutcome) -> str:
    return "\n".join(f"{r.shape_id} {r.severity} {r.focus} {r.path} {r.value}: {r.message}" for r in outcome.results)


def test_examples_exist() -> None:
    assert len(VALID) >= 11
    assert len(INVALID) >= len(VALID)
    for path in EXAMPLES_DIR.glob("*.ttl"):
        assert EXAMPLE_NAME.match(path.name), f"{path.name} is not named SNN-valid.ttl or SNN-invalid-MM.ttl"


def test_schemes_conform_on_their_own(shapes: Graph, ontology: Graph, schemes: Graph) -> None:
    outcome = run_shacl(schemes, shapes, ontology)
    assert outcome.conforms, _explain(outcome)
    assert outcome.results == (), _explain(outcome)


@pytest.mark.parametrize("path", VALID, ids=lambda p: p.stem)
def test_valid_example_conforms(path: Path, shapes: Graph, ontology: Graph, schemes: Graph) -> None:
    outcome = _validate(path, shapes, ontology, schemes)
    assert outcome.conforms, _explain(outcome)
    assert outcome.results == (), _explain(outcome)


@pytest.mark.parametrize("path", INVALID, ids=lambda p: p.stem)
def test_invalid_example_fails_on_its_shape_only(path: Path, shapes: Graph, ontology: Graph, schemes: Graph) -> None:
    expected = path.name.split("-", 1)[0]
    outcome = _validate(path, shapes, ontology, schemes)
    assert outcome.shape_ids == {expected}, _explain(outcome)
    assert all(r.message for r in outcome.results)
    severity = shapes.value(_shape_ids(shapes)[expected], SH.severity)
    if severity == SH.Violation:
        assert not outcome.conforms
        assert any(r.severity == "Violation" for r in outcome.results)
    else:
        assert outcome.conforms  # warnings and infos are reported without breaking conformance
        assert {r.severity for r in outcome.results} == {"Warning"}


def test_every_shape_has_a_valid_and_an_invalid_example(shapes: Graph) -> None:
    ids = set(_shape_ids(shapes))
    assert {f"S{n:02d}" for n in range(1, 12)} <= ids  # the shapes S01-S11 every release has carried
    with_valid = {p.name.split("-", 1)[0] for p in VALID}
    with_invalid = {p.name.split("-", 1)[0] for p in INVALID}
    assert ids - with_valid == set(), "shapes without a valid example"
    assert ids - with_invalid == set(), "shapes without an invalid example"
    assert (with_valid | with_invalid) - ids == set(), "examples for shapes that do not exist"


def test_every_shape_is_documented(shapes: Graph) -> None:
    for identifier, shape in _shape_ids(shapes).items():
        assert shape == IOIRSH[identifier]
        assert (shape, RDF.type, SH.NodeShape) in shapes
        label = shapes.value(shape, RDFS.label)
        assert isinstance(label, Literal)
        assert label.language == "en"
        messages = list(shapes.objects(shape, SH.message))
        assert messages, identifier
        assert all(isinstance(m, Literal) and m.language == "en" for m in messages), identifier
        assert shapes.value(shape, SH.severity) in {SH.Violation, SH.Warning, SH.Info}, identifier


def test_s14_covers_every_object_property(shapes: Graph, ontology: Graph) -> None:
    """A new object property must be added to S14's targets and path, or its dangling references go unnoticed."""
    targets = set(shapes.objects(IOIRSH.S14, SH.targetSubjectsOf))
    property_shape = shapes.value(IOIRSH.S14, SH.property)
    alternatives = shapes.value(shapes.value(property_shape, SH.path), SH.alternativePath)
    assert alternatives is not None
    path = set(shapes.items(alternatives))
    declared = ontology.subjects(RDF.type, OWL.ObjectProperty)
    object_properties = {p for p in declared if str(p).startswith(str(IOIR))}
    object_properties.discard(IOIR.evidence)  # evidence nodes are checked by S03
    assert object_properties - targets == set()
    assert object_properties - path == set()
