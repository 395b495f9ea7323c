"""The linkset to Wikidata and the ISO 3166-1 codes (data/links/): every link corroborated, dated, ruled, labelled.

* every ``owl:sameAs`` / ``skos:exactMatch`` link to Wikidata has one ``prov:Entity`` record with at least two
  distinct corroborating sources, a date, the rule applied and the linkset it belongs to;
* one of the names the sources give the item equals (ignoring case) the entity's ``skos:prefLabel`` or an altLabel;
* a state (the actor) is the same thing as a country item; the territory (``ioir:Country``) only an exact match;
* every state, place, organization, body, mission and person is either linked or listed as unlinked with a reason;
* the ISO 3166-1 codes are recomputed here with pycountry and must equal what the file states.
"""

from __future__ import annotations

from collections import defaultdict

import pycountry
import pytest
from rdflib import OWL, RDF, RDFS, SKOS, Graph, Literal, Namespace, URIRef
from rdflib.namespace import DCTERMS, PROV, VOID

from tests.data.conftest import DATA_DIR

IOIR = Namespace("https://w3id.org/ioir/ontology#")
ID = "https://w3id.org/ioir/id/"
WIKIDATA = "http://www.wikidata.org/entity/"
LINKSET = URIRef(ID + "linkset/wikidata")
XSD_DATE = URIRef("http://www.w3.org/2001/XMLSchema#date")
LINKED_KINDS = ("state/", "place/", "org/", "body/", "mission/", "person/")
#: Countries renamed in ISO 3166-1 since the sources were written, or named otherwise there.
ISO_RENAMED = {"state/turkey": "TR", "place/dr-congo": "CD"}


@pytest.fixture(scope="module")
def linkset() -> Graph:
    return Graph().parse(DATA_DIR / "links" / "wikidata.ttl", format="turtle")


def _links(graph: Graph) -> list[tuple[URIRef, URIRef, URIRef]]:
    return sorted(
        (s, p, o)
        for p in (OWL.sameAs, SKOS.exactMatch)
        for s, o in graph.subject_objects(p)
        if isinstance(s, URIRef) and isinstance(o, URIRef) and str(o).startswith(WIKIDATA)
    )


def _labels(graph: Graph, node: URIRef) -> set[str]:
    return {str(label).casefold() for p in (SKOS.prefLabel, SKOS.altLabel) for label in graph.objects(node, p)}


def test_the_linkset_describes_itself(linkset: Graph) -> None:
    assert (LINKSET, RDF.type, VOID.Linkset) in linkset
    assert linkset.value(LINKSET, VOID.subjectsTarget) == URIRef("https://w3id.org/ioir/void#dataset")
    target = linkset.value(LINKSET, VOID.objectsTarget)
    assert linkset.value(target, VOID.uriSpace) == Literal(WIKIDATA)
    assert set(linkset.objects(LINKSET, VOID.linkPredicate)) == {OWL.sameAs, SKOS.exactMatch}
    description = str(linkset.value(LINKSET, DCTERMS.description))
    assert "owl:sameAs" in description
    assert "skos:exactMatch" in description


def test_every_link_is_corroborated_dated_and_ruled(linkset: Graph) -> None:
    problems = []
    links = _links(linkset)
    assert len(links) >= 7
    for entity, predicate, item in links:
        records = [r for r in linkset.subjects(DCTERMS.subject, entity) if (r, DCTERMS.references, item) in linkset]
        if len(records) != 1:
            problems.append(f"{entity}: {len(records)} records")
            continue
        record = records[0]
        sources = set(linkset.objects(record, PROV.wasDerivedFrom))
        date = linkset.value(record, DCTERMS.date)
        rule = str(linkset.value(record, RDFS.comment) or "")
        if (record, RDF.type, PROV.Entity) not in linkset or (record, VOID.inDataset, LINKSET) not in linkset:
            problems.append(f"{record}: not a prov:Entity of the linkset")
        if len(sources) < 2 or not all(str(s).startswith("https://") for s in sources):
            problems.append(f"{entity}: {len(sources)} corroborating source(s)")
        if not isinstance(date, Literal) or date.datatype != XSD_DATE:
            problems.append(f"{entity}: no xsd:date of corroboration")
        if not rule.startswith({OWL.sameAs: "owl:sameAs:", SKOS.exactMatch: "skos:exactMatch:"}[predicate]):
            problems.append(f"{entity}: rule {rule[:40]!r} does not name {predicate}")
        if not linkset.value(record, DCTERMS.description):
            problems.append(f"{entity}: no account of what the sources say")
    assert problems == []


def test_the_recorded_label_of_each_item_matches_the_entity(data_graph: Graph, linkset: Graph) -> None:
    problems = []
    for entity, _, item in _links(linkset):
        recorded = {str(label).casefold() for label in linkset.objects(item, RDFS.label)}
        if not recorded & _labels(data_graph, entity):
            problems.append(f"{entity} -> {item}: {sorted(recorded)} vs {sorted(_labels(data_graph, entity))}")
    assert problems == []


def test_actors_are_the_same_as_the_item_and_territories_only_match_it(data_graph: Graph, linkset: Graph) -> None:
    by_item: dict[URIRef, set[URIRef]] = defaultdict(set)
    for entity, predicate, item in _links(linkset):
        if (entity, RDF.type, IOIR.Country) in data_graph:
            assert predicate == SKOS.exactMatch, entity
        if (entity, RDF.type, IOIR.State) in data_graph:
            assert predicate == OWL.sameAs, entity
        if predicate == OWL.sameAs:
            by_item[item].add(entity)
    # two of our nodes the same as one item would be merged by a reasoner
    assert {item: nodes for item, nodes in by_item.items() if len(nodes) > 1} == {}


def test_every_entity_is_linked_or_listed_with_a_reason(data_graph: Graph, linkset: Graph) -> None:
    considered = {
        s
        for s in data_graph.subjects(RDF.type, None)
        if isinstance(s, URIRef) and str(s).startswith(ID) and str(s)[len(ID) :].startswith(LINKED_KINDS)
    }
    linked = {entity for entity, _, _ in _links(linkset)}
    unlinked: dict[URIRef, str] = {}
    for note in linkset.subjects(SKOS.editorialNote, None):
        assert (note, VOID.inDataset, LINKSET) in linkset
        entity = linkset.value(note, DCTERMS.subject)
        assert isinstance(entity, URIRef)
        unlinked[entity] = str(linkset.value(note, SKOS.editorialNote))
    assert linked & set(unlinked) == set()
    assert considered - linked - set(unlinked) == set()
    assert set(unlinked) - considered == set()
    assert all(len(reason) > 20 for reason in unlinked.values())


def _iso_country(graph: Graph, entity: URIRef) -> pycountry.db.Country | None:
    """What pycountry says the entity is: its prefLabel, else an altLabel longer than a code (ISO_RENAMED first)."""
    key = str(entity)[len(ID) :]
    if key in ISO_RENAMED:
        return pycountry.countries.get(alpha_2=ISO_RENAMED[key])
    names = [str(graph.value(entity, SKOS.prefLabel))]
    names += sorted(str(a) for a in graph.objects(entity, SKOS.altLabel) if len(str(a)) > 3)
    for name in names:
        try:
            return pycountry.countries.lookup(name)
        except LookupError:
            continue
    return None


def test_iso_3166_codes_are_pycountrys(data_graph: Graph) -> None:
    stated = Graph().parse(DATA_DIR / "links" / "iso-3166.ttl", format="turtle")
    expected: dict[str, set[str]] = {}
    for entity in set(data_graph.subjects(RDF.type, IOIR.State)) | set(data_graph.subjects(RDF.type, IOIR.Country)):
        country = _iso_country(data_graph, entity)
        if country is not None:
            expected[str(entity)] = {country.alpha_2, country.alpha_3, country.numeric}
    coded = set(stated.subjects(DCTERMS.identifier, None))
    found = {str(s): {str(o) for o in stated.objects(s, DCTERMS.identifier)} for s in coded}
    assert found == expected
    assert len(found) >= 40


def test_each_state_governs_its_territory(data_graph: Graph) -> None:
    stated = Graph().parse(DATA_DIR / "links" / "iso-3166.ttl", format="turtle")
    pairs = set(stated.subject_objects(IOIR.territory))
    expected = {
        (state, URIRef(ID + "place/" + str(state).rsplit("/", 1)[1]))
        for state in data_graph.subjects(RDF.type, IOIR.State)
        if (URIRef(ID + "place/" + str(state).rsplit("/", 1)[1]), RDF.type, IOIR.Country) in data_graph
    }
    assert pairs == expected
    assert len(pairs) >= 8
