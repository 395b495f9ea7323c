"""The knowledge base: quotes verbatim, one node per real-world entity, everything related and labelled."""

from __future__ import annotations

import re
from collections import defaultdict
from pathlib import Path

import pytest
from rdflib import OWL, RDF, RDFS, SKOS, Graph, Literal, Namespace, URIRef
from rdflib.namespace import DCTERMS, PROV

from ioir_kg.validation.quotes import SourceTexts
from tests.data.conftest import DATA_DIR, SOURCE_FILES, data_files

IOIR = Namespace("https://w3id.org/ioir/ontology#")
ID = "https://w3id.org/ioir/id/"
NOT_ENTITIES = ("evidence/", "source/", "concept/", "scheme/", "link/", "linkset/")
VERIFIED_SAME_AS = {
    "org/un": "Q1065",
    "org/eu": "Q458",
    "org/nato": "Q7184",
    "org/au": "Q7159",
    "org/osce": "Q81299",
    "org/coe": "Q8908",
    "body/un-security-council": "Q37470",
}


def _entities(graph: Graph) -> set[URIRef]:
    return {
        s
        for s in graph.subjects(RDF.type, None)
        if isinstance(s, URIRef) and str(s).startswith(ID) and not str(s)[len(ID) :].startswith(NOT_ENTITIES)
    }


def test_every_quote_occurs_verbatim_in_its_source(
    data_graph: Graph, ontology_graph: Graph, sources: SourceTexts
) -> None:
    graph = data_graph + ontology_graph
    problems = []
    evidence = set(graph.subjects(RDF.type, IOIR.Evidence))
    assert len(evidence) > 100
    for node in evidence:
        quote, source = graph.value(node, PROV.value), graph.value(node, DCTERMS.source)
        key = str(source).rsplit("/", 1)[-1]
        if quote is None or key not in SOURCE_FILES:
            problems.append(f"{node}: no quote or unknown source {source}")
        elif len(str(quote)) > 300:
            problems.append(f"{node}: quote longer than 300 characters")
        elif not sources.contains(key, str(quote)):
            problems.append(f"{node}: not verbatim in {SOURCE_FILES[key]}: {str(quote)[:80]!r}")
    assert problems == []


@pytest.mark.parametrize("path", data_files(), ids=lambda p: p.name)
def test_file_parses_and_evidence_comes_from_its_document(path: Path) -> None:
    graph = Graph().parse(path, format="turtle")
    match = re.match(r"(\d{3})-", path.name)
    if match is None:
        assert path.name in {"entities.ttl", "sources.ttl"} or path.parent.name == "links"
        return
    own = f"{ID}source/s{match.group(1)}"
    foreign = {str(src) for src in graph.objects(None, DCTERMS.source) if str(src) != own}
    assert foreign == set()


def test_sources_describe_the_five_documents(data_graph: Graph) -> None:
    identifiers = {str(o) for o in data_graph.objects(None, DCTERMS.identifier) if str(o).endswith(".txt")}
    assert identifiers == set(SOURCE_FILES.values())
    assert sorted(SOURCE_FILES) == ["s000", "s001", "s002", "s003", "s004"]
    for key in SOURCE_FILES:
        assert (URIRef(f"{ID}source/{key}"), RDF.type, IOIR.SourceDocument) in data_graph


def test_one_node_per_real_world_entity(data_graph: Graph) -> None:
    """Two entities sharing a label or acronym must be one node, or be owl:differentFrom each other."""
    by_label: dict[str, set[URIRef]] = defaultdict(set)
    for entity in _entities(data_graph):
        for prop in (SKOS.prefLabel, SKOS.altLabel):
            for label in data_graph.objects(entity, prop):
                by_label[str(label).casefold()].add(entity)
    clashes = []
    for label, nodes in sorted(by_label.items()):
        for a in nodes:
            for b in nodes:
                distinct = (a, OWL.differentFrom, b) in data_graph or (b, OWL.differentFrom, a) in data_graph
                if str(a) < str(b) and not distinct:
                    clashes.append(f"{label!r}: {a} / {b}")
    assert clashes == []


def test_every_entity_has_one_english_label(data_graph: Graph) -> None:
    problems = []
    for entity in _entities(data_graph):
        labels = list(data_graph.objects(entity, SKOS.prefLabel))
        if len(labels) != 1 or not isinstance(labels[0], Literal) or labels[0].language != "en":
            problems.append(f"{entity}: prefLabel {labels}")
        elif data_graph.value(entity, RDFS.label) != labels[0]:
            problems.append(f"{entity}: rdfs:label differs from skos:prefLabel")
    assert problems == []


def test_every_entity_takes_part_in_a_relation(data_graph: Graph) -> None:
    skip = {RDF.type, IOIR.evidence}
    related: set[URIRef] = set()
    for s, p, o in data_graph:
        if p in skip or not isinstance(o, URIRef) or not str(o).startswith(ID):
            continue
        if str(o)[len(ID) :].startswith(NOT_ENTITIES):
            related.add(s)  # pointing at a concept (level, resource type) is a relation too
            continue
        related.update((s, o))
    lonely = sorted(str(e) for e in _entities(data_graph) - related)
    assert lonely == []


def test_same_as_only_to_verified_wikidata_items(data_graph: Graph) -> None:
    """Identity links to Wikidata are stated only in the linkset, each one with its record (data/links/wikidata.ttl).

    The linkset's own rules (two corroborations, a date, a rule, matching labels) are in tests/data/test_links.py;
    here: no other file states such a link, and the links verified before the linkset existed are all still there.
    """
    wikidata = "http://www.wikidata.org/entity/"
    linkset = Graph().parse(DATA_DIR / "links" / "wikidata.ttl", format="turtle")
    for predicate in (OWL.sameAs, SKOS.exactMatch):
        stated = {(s, o) for s, o in data_graph.subject_objects(predicate) if str(o).startswith(wikidata)}
        assert stated == {(s, o) for s, o in linkset.subject_objects(predicate) if str(o).startswith(wikidata)}
    for path in data_files():
        if path.parent.name != "links":
            graph = Graph().parse(path, format="turtle")
            assert not [o for o in graph.objects(None, OWL.sameAs) if str(o).startswith(wikidata)], path.name
    links = {(str(s)[len(ID) :], str(o)) for s, o in data_graph.subject_objects(OWL.sameAs)}
    assert {(slug, f"{wikidata}{q}") for slug, q in VERIFIED_SAME_AS.items()} <= links
    for entity, item in links:
        records = set(linkset.subjects(DCTERMS.subject, URIRef(ID + entity)))
        assert {r for r in records if (r, DCTERMS.references, URIRef(item)) in linkset}, entity


def test_data_conforms_to_the_shapes(data_graph: Graph) -> None:
    from ioir_kg.validation.ontology_qa import load_graph, shacl_ontology_files
    from ioir_kg.validation.shacl import run_shacl
    from tests.data.conftest import ONTOLOGY_DIR

    data = data_graph + Graph().parse(ONTOLOGY_DIR / "schemes.ttl", format="turtle")
    shapes = Graph().parse(ONTOLOGY_DIR / "shapes.ttl", format="turtle")
    outcome = run_shacl(data, shapes, load_graph(shacl_ontology_files(ONTOLOGY_DIR)))
    violations = [f"{r.shape_id} {r.focus} {r.path}: {r.message}" for r in outcome.results if r.severity == "Violation"]
    assert violations == []
    assert outcome.conforms
