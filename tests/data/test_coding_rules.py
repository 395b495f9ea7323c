"""The codebook's rules that a query can check, over the bundled data (docs/codebook.md states them)."""

from __future__ import annotations

import re

from rdflib import RDF, RDFS, Graph, Namespace, URIRef
from rdflib.namespace import DCTERMS, PROV

IOIR = Namespace("https://w3id.org/ioir/ontology#")
ID = "https://w3id.org/ioir/id/"
LEVELS = {URIRef(f"{ID}concept/level-{name}") for name in ("macro", "meso", "micro")}
NAMES_A_LEVEL = re.compile(r"\b(macro|meso|micro)\b", re.IGNORECASE)


def _is_state(graph: Graph, node: URIRef) -> bool:
    return (node, RDF.type, IOIR.State) in graph


def _dependencies(graph: Graph) -> list[URIRef]:
    return sorted(s for s in graph.subjects(RDF.type, IOIR.ResourceDependency) if isinstance(s, URIRef))


def test_every_dependency_between_organizations_has_exactly_one_level(data_graph: Graph) -> None:
    problems = []
    for dep in _dependencies(data_graph):
        parties = [*data_graph.objects(dep, IOIR.dependent), *data_graph.objects(dep, IOIR.provider)]
        levels = set(data_graph.objects(dep, IOIR.dependencyLevel))
        if any(_is_state(data_graph, p) for p in parties if isinstance(p, URIRef)):
            if levels:
                problems.append(f"{dep}: a state takes part, yet it has the level(s) {sorted(levels)}")
        elif len(levels) != 1 or not levels <= LEVELS:
            problems.append(f"{dep}: between organizations, but its levels are {sorted(levels)}")
    assert problems == []


def test_a_level_the_quotes_do_not_name_carries_a_coding_note(data_graph: Graph) -> None:
    unexplained = []
    for dep in _dependencies(data_graph):
        if not set(data_graph.objects(dep, IOIR.dependencyLevel)):
            continue
        quotes = [str(q) for e in data_graph.objects(dep, IOIR.evidence) for q in data_graph.objects(e, PROV.value)]
        named = any(NAMES_A_LEVEL.search(q) for q in quotes)
        if not named and not set(data_graph.objects(dep, IOIR.codingNote)):
            unexplained.append(str(dep))
    assert unexplained == []


def test_member_state_contributions_are_no_dependencies(data_graph: Graph) -> None:
    problems = []
    for node in data_graph.subjects(RDF.type, IOIR.MemberStateContribution):
        contributors = list(data_graph.objects(node, IOIR.contributor))
        if len(contributors) != 1 or not _is_state(data_graph, contributors[0]):  # type: ignore[arg-type]
            problems.append(f"{node}: contributor {contributors} is not one state")
        if (node, RDF.type, IOIR.ResourceDependency) in data_graph or set(
            data_graph.objects(node, IOIR.dependencyLevel)
        ):
            problems.append(f"{node}: typed or coded as a dependency")
    assert problems == []


def test_the_three_nodes_that_claimed_too_much_are_fixed(data_graph: Graph) -> None:
    """The EU, not the OSCE, funds the EPNK; a complaint that blocked nothing is an event; no meeting, no meeting."""
    assert not set(data_graph.predicate_objects(URIRef(f"{ID}dependency/s000-osce-eu-epnk-funding")))
    assert (URIRef(f"{ID}dependency/s000-epnk-eu-funding"), IOIR.provider, URIRef(f"{ID}org/eu")) in data_graph
    assert not set(data_graph.predicate_objects(URIRef(f"{ID}obstacle/s003-russian-objection-joint-declaration")))
    complaint = URIRef(f"{ID}event/russian-complaint-un-nato-joint-declaration-2008")
    assert (complaint, RDF.type, IOIR.Event) in data_graph
    assert not set(data_graph.objects(complaint, IOIR.hinders))
    darfur = URIRef(f"{ID}instrument/eu-nato-darfur-airlift-coordination")
    assert (darfur, RDF.type, IOIR.CoordinationMeeting) not in data_graph
    assert (darfur, RDF.type, IOIR.CooperationPractice) in data_graph


def test_disagreements_join_quotes_of_two_documents(data_graph: Graph) -> None:
    problems = []
    for a, b in data_graph.subject_objects(IOIR.disagreesWith):
        if data_graph.value(a, DCTERMS.source) == data_graph.value(b, DCTERMS.source):
            problems.append(f"{a} / {b}: same source")
        note = [*data_graph.objects(a, IOIR.codingNote), *data_graph.objects(b, IOIR.codingNote)]
        if not note:
            problems.append(f"{a} / {b}: no coding note says what differs")
    assert problems == []
    assert any(True for _ in data_graph.subject_objects(IOIR.disagreesWith))


def test_new_kinds_are_labelled_and_evidenced(data_graph: Graph) -> None:
    kinds = (
        IOIR.Policy, IOIR.Treaty, IOIR.TreatyProvision, IOIR.FinancingInstrument, IOIR.Funding,
        IOIR.PolicyDocument, IOIR.Tenure, IOIR.AnalyticalConcept, IOIR.MemberStateContribution,
    )  # fmt: skip
    subclass_of = {k: {k} for k in kinds}
    ontology = Graph().parse("ontology/ioir.ttl")
    for kind in kinds:
        subclass_of[kind] |= set(ontology.transitive_subjects(RDFS.subClassOf, kind))  # type: ignore[arg-type]
    missing = []
    for kind, classes in subclass_of.items():
        nodes = {s for c in classes for s in data_graph.subjects(RDF.type, c)}
        assert nodes, f"no instance of {kind}"
        missing += [f"{n}: no evidence" for n in nodes if not set(data_graph.objects(n, IOIR.evidence))]
    assert missing == []
