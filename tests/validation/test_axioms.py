"""The compiled ontology and the targeted OWL checks, on small graphs against the real ontology."""

from __future__ import annotations

from pathlib import Path

import pytest
from rdflib import Graph, Literal, Namespace, URIRef
from rdflib.namespace import RDF

from ioir_kg.validation.axioms import Tbox, check_axioms, curie
from ioir_kg.validation.ontology_qa import load_graph, shacl_ontology_files

ONTOLOGY_DIR = Path(__file__).resolve().parents[2] / "ontology"
IOIR = Namespace("https://w3id.org/ioir/ontology#")
ORG = Namespace("http://www.w3.org/ns/org#")
FOAF = Namespace("http://xmlns.com/foaf/0.1/")
SKOS = Namespace("http://www.w3.org/2004/02/skos/core#")
ID = Namespace("https://w3id.org/ioir/id/")
XSD = Namespace("http://www.w3.org/2001/XMLSchema#")


@pytest.fixture(scope="module")
def tbox() -> Tbox:
    return Tbox.from_graph(load_graph(shacl_ontology_files(ONTOLOGY_DIR)))


def rules(
    tbox: Tbox, stored: list[tuple[URIRef, URIRef, object]], added: list[tuple[URIRef, URIRef, object]]
) -> list[str]:
    graph = Graph()
    for triple in [*stored, *added]:
        graph.add(triple)  # type: ignore[arg-type]
    return sorted(v.rule for v in check_axioms(tbox, graph, set(added)))  # type: ignore[arg-type]


def test_compiled_hierarchy_and_axioms(tbox: Tbox) -> None:
    assert IOIR.Mission in tbox.supers(IOIR.RuleOfLawMission)
    assert FOAF.Organization in tbox.supers(IOIR.Mission)  # org:Organization owl:equivalentClass foaf:Organization
    assert IOIR.evidence in tbox.subproperties[URIRef("http://www.w3.org/ns/prov#wasDerivedFrom")]
    assert tbox.inverses[IOIR.hasMandate] == IOIR.authorizes
    assert {IOIR.dependent, IOIR.dependencyLevel, IOIR.frequency} <= tbox.functional
    assert IOIR.replaced in tbox.irreflexive & tbox.asymmetric
    assert IOIR.InternationalOrganization in tbox.disjoint[IOIR.Mission]
    assert ORG.Post in tbox.disjoint[IOIR.State]  # from the disjoint unions
    assert tbox.axiom_count > 100
    assert curie(IOIR.Mission) == "ioir:Mission"


def test_entailments_are_what_rdfs_adds(tbox: Tbox) -> None:
    graph = Graph()
    graph.add((ID["mission/m"], IOIR.launchedBy, ID["org/eu"]))
    graph.add((ID["mission/m"], IOIR.deployedIn, ID["place/p"]))
    added = tbox.entailments(graph)
    assert (ID["mission/m"], RDF.type, IOIR.Mission) in added
    assert (ID["mission/m"], RDF.type, ORG.Organization) in added
    assert (ID["org/eu"], RDF.type, ORG.Organization) in added
    assert (ID["mission/m"], URIRef("https://schema.org/location"), ID["place/p"]) in added
    assert not any(t in graph for t in added)


def test_disjointness_through_a_range(tbox: Tbox) -> None:
    person = (ID["person/p"], RDF.type, FOAF.Person)
    assert rules(tbox, [person], [(ID["mission/m"], IOIR.launchedBy, ID["person/p"])]) == ["owl:disjointWith"]


def test_disjointness_through_a_union_domain(tbox: Tbox) -> None:
    org = (ID["org/o"], RDF.type, IOIR.InternationalOrganization)
    found = rules(tbox, [org], [(ID["instrument/i"], IOIR.signedBy, ID["org/o"])])
    assert found == ["owl:disjointWith"]


def test_conflicts_among_stored_triples_are_not_reported(tbox: Tbox) -> None:
    stored = [(ID["mission/m"], RDF.type, IOIR.Mission), (ID["mission/m"], RDF.type, IOIR.State)]
    assert rules(tbox, stored, [(ID["mission/m"], SKOS.prefLabel, Literal("M", lang="en"))]) == []


def test_functional_irreflexive_asymmetric(tbox: Tbox) -> None:
    stored_dep = [(ID["dependency/d"], IOIR.dependent, ID["org/eu"])]
    assert rules(tbox, stored_dep, [(ID["dependency/d"], IOIR.dependent, ID["org/un"])]) == ["owl:FunctionalProperty"]
    assert rules(tbox, stored_dep, [(ID["dependency/d"], IOIR.dependent, ID["org/eu"])]) == []
    assert rules(tbox, [], [(ID["mission/a"], IOIR.replaced, ID["mission/a"])]) == ["owl:IrreflexiveProperty"]
    stored = [(ID["mission/b"], IOIR.replaced, ID["mission/a"])]
    assert rules(tbox, stored, [(ID["mission/a"], IOIR.replaced, ID["mission/b"])]) == ["owl:AsymmetricProperty"]


def test_data_values_and_property_kinds(tbox: Tbox) -> None:
    mission = ID["mission/m"]
    assert rules(tbox, [], [(mission, IOIR.personnelCount, Literal("7000", datatype=XSD.nonNegativeInteger))]) == []
    assert rules(tbox, [], [(mission, IOIR.personnelCount, Literal("7000", datatype=XSD.integer))]) == []
    assert rules(tbox, [], [(mission, IOIR.personnelCount, Literal("-1", datatype=XSD.integer))]) == ["rdfs:range"]
    assert rules(tbox, [], [(mission, IOIR.personnelCount, Literal("many"))]) == ["rdfs:range"]
    assert rules(tbox, [], [(mission, IOIR.launchedBy, Literal("NATO"))]) == ["owl:ObjectProperty"]
    assert rules(tbox, [], [(mission, IOIR.personnelNote, ID["org/eu"])]) == ["owl:DatatypeProperty"]
    # xsd:date lies outside the OWL 2 datatype map: shape S10 checks dates, not the axioms
    assert rules(tbox, [], [(mission, IOIR.startDate, Literal("March 2008"))]) == []
