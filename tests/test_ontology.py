"""The ontology on its own and with the data: documentation, domains and ranges, declared reused terms,
the violation queries of ``ontology/checks/`` and OWL consistency with HermiT.

The data directory may be incomplete while it is being written: the tests use whatever ``data/*.ttl`` holds.
HermiT needs Java: without it these tests skip locally and fail under ``CI=true``.
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest
from rdflib import BNode, Graph, Literal, Namespace, URIRef
from rdflib.namespace import DCTERMS, OWL, RDF, RDFS, SKOS

from ioir_kg.validation.ontology_qa import (
    Problem,
    check_ontology,
    check_query_files,
    load_graph,
    ontology_files,
    reasoning_graph,
    run_checks,
)
from ioir_kg.validation.owl import ConsistencyResult, ReasonerUnavailable, hermit_consistency

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
ONTOLOGY_DIR = ROOT / "ontology"
DATA_DIR = ROOT / "data"
IN_CI = os.environ.get("CI", "").lower() == "true"

IOIR = Namespace("https://w3id.org/ioir/ontology#")
ONTOLOGY = URIRef("https://w3id.org/ioir/ontology")
ID = Namespace("https://w3id.org/ioir/id/")
ORG = Namespace("http://www.w3.org/ns/org#")
PROV = Namespace("http://www.w3.org/ns/prov#")
FOAF = Namespace("http://xmlns.com/foaf/0.1/")
SCHEMA = Namespace("https://schema.org/")
ELI = Namespace("http://data.europa.eu/eli/ontology#")
VOID = Namespace("http://rdfs.org/ns/void#")
REUSED = {
    "org": ORG, "prov": PROV, "skos": SKOS, "dcterms": DCTERMS, "foaf": FOAF,
    "schema": SCHEMA, "eli": ELI, "void": VOID,
}  # fmt: skip
KINDS = {OWL.Class, OWL.ObjectProperty, OWL.DatatypeProperty, OWL.AnnotationProperty, RDFS.Datatype}
CHECKS = check_query_files(ONTOLOGY_DIR)


def _require_reasoner() -> None:
    """Skip when Java or HermiT is missing, except under CI=true, where that is a failure."""
    reason = None
    if shutil.which("java") is None:
        reason = "java is not installed (HermiT needs it): apt-get install default-jre-headless"
    else:
        try:
            from ioir_kg.validation.owl import hermit_classpath

            hermit_classpath()
        except ReasonerUnavailable as exc:
            reason = exc.message
    if reason is not None:
        if IN_CI:
            pytest.fail(reason)
        pytest.skip(reason)


@pytest.fixture(scope="module")
def ioir() -> Graph:
    return Graph().parse(ONTOLOGY_DIR / "ioir.ttl", format="turtle")


@pytest.fixture(scope="module")
def ontology() -> Graph:
    """ioir.ttl, schemes.ttl and imports/*.ttl."""
    return load_graph(ontology_files(ONTOLOGY_DIR))


@pytest.fixture(scope="module")
def ontology_and_data() -> Graph:
    return reasoning_graph(ONTOLOGY_DIR, DATA_DIR)


def _terms(graph: Graph, *kinds: URIRef) -> set[URIRef]:
    return {
        s
        for kind in kinds
        for s in graph.subjects(RDF.type, kind)
        if isinstance(s, URIRef) and str(s).startswith(str(IOIR))
    }


def _english(graph: Graph, subject: URIRef, predicate: URIRef) -> bool:
    return any(
        isinstance(o, Literal) and o.language == "en" and str(o).strip() for o in graph.objects(subject, predicate)
    )


# ------------------------------------------------------------------------------------------------------------------
# The ontology on its own
# ------------------------------------------------------------------------------------------------------------------


def test_header(ioir: Graph) -> None:
    assert (ONTOLOGY, RDF.type, OWL.Ontology) in ioir
    assert ioir.value(ONTOLOGY, OWL.versionIRI) == URIRef("https://w3id.org/ioir/ontology/0.1.0")
    assert ioir.value(ONTOLOGY, DCTERMS.license) == URIRef("https://creativecommons.org/licenses/by/4.0/")
    assert ioir.value(ONTOLOGY, DCTERMS.created) == Literal(
        "2026-11-29", datatype=URIRef("http://www.w3.org/2001/XMLSchema#date")
    )
    assert ioir.value(ONTOLOGY, DCTERMS.creator) == Literal("ioir-kg contributors")
    assert _english(ioir, ONTOLOGY, DCTERMS.title)
    assert _english(ioir, ONTOLOGY, DCTERMS.description)
    assert not list(ioir.objects(None, OWL.imports)), "no owl:imports: reused terms are declared in ontology/imports"


def test_size_is_as_intended(ioir: Graph) -> None:
    classes = _terms(ioir, OWL.Class)
    properties = _terms(ioir, OWL.ObjectProperty, OWL.DatatypeProperty)
    assert 60 <= len(classes) <= 90
    assert 50 <= len(properties) <= 90


def test_every_term_is_labelled_defined_and_attributed(ioir: Graph) -> None:
    terms = _terms(ioir, *KINDS)
    assert terms
    for term in sorted(terms):
        assert _english(ioir, term, RDFS.label), f"{term}: no English rdfs:label"
        assert _english(ioir, term, SKOS.definition), f"{term}: no English skos:definition"
        assert ioir.value(term, RDFS.isDefinedBy) == ONTOLOGY, f"{term}: rdfs:isDefinedBy"


def test_every_term_has_exactly_one_kind(ontology: Graph) -> None:
    for term in {s for kind in KINDS for s in ontology.subjects(RDF.type, kind) if isinstance(s, URIRef)}:
        kinds = set(ontology.objects(term, RDF.type)) & KINDS
        assert len(kinds) == 1, f"{term} has OWL kinds {kinds}"


def test_every_property_has_domain_and_range(ioir: Graph) -> None:
    for prop in sorted(_terms(ioir, OWL.ObjectProperty, OWL.DatatypeProperty)):
        assert ioir.value(prop, RDFS.domain) is not None, f"{prop}: no rdfs:domain"
        assert ioir.value(prop, RDFS.range) is not None, f"{prop}: no rdfs:range"


def test_contract_terms_are_all_there(ioir: Graph) -> None:
    """The fixed vocabulary contract: every class and property the data may use exists, with its IRI."""
    classes = [
        "InternationalOrganization",
        "NonGovernmentalOrganization",
        "State",
        "OrganizationalBody",
        "Council",
        "Committee",
        "Secretariat",
        "Commission",
        "Department",
        "Service",
        "Agency",
        "StaffStructure",
        "SpecialRepresentativeOffice",
        "Parliament",
        "Assembly",
        "Mission",
        "CivilianMission",
        "PoliceMission",
        "RuleOfLawMission",
        "MilitaryOperation",
        "PeacekeepingOperation",
        "IntegratedMission",
        "HybridMission",
        "TrainingMission",
        "MonitoringMission",
        "Mandate",
        "SecurityCouncilResolution",
        "CouncilDecision",
        "ResourceDependency",
        "CooperationInstrument",
        "DocumentInstrument",
        "JointDeclaration",
        "MemorandumOfUnderstanding",
        "ExchangeOfLetters",
        "FrameworkAgreement",
        "TechnicalArrangement",
        "CooperationPractice",
        "LiaisonArrangement",
        "CoordinationMeeting",
        "JointTraining",
        "StaffExchange",
        "DualKeyArrangement",
        "JointAssessment",
        "Post",
        "Person",
        "Place",
        "Country",
        "City",
        "Region",
        "Event",
        "Summit",
        "HighLevelMeeting",
        "Conference",
        "Obstacle",
        "Figure",
        "SourceDocument",
        "Evidence",
        "Policy",
        "Doctrine",
        "Approach",
        "Treaty",
        "TreatyProvision",
        "FinancingInstrument",
        "Funding",
        "PolicyDocument",
        "Strategy",
        "Communication",
        "Roadmap",
        "SummitDeclaration",
        "Report",
        "Conclusions",
        "Tenure",
        "AnalyticalConcept",
        "MemberStateContribution",
    ]
    object_properties = [
        "evidence",
        "headquarters",
        "launchedBy",
        "deployedIn",
        "hasMandate",
        "authorizes",
        "replaced",
        "issuedBy",
        "dependent",
        "provider",
        "resourceType",
        "dependencyLevel",
        "formalisation",
        "intensity",
        "reciprocity",
        "standardisation",
        "theatre",
        "context",
        "party",
        "signedBy",
        "signedAt",
        "instrumentType",
        "liaisonPost",
        "sentBy",
        "location",
        "frequency",
        "meetingLevel",
        "participant",
        "outcome",
        "affectsOrganization",
        "hinders",
        "involves",
        "about",
        "promotedBy",
        "adoptedBy",
        "appliedIn",
        "setsOut",
        "legalBasis",
        "funder",
        "recipient",
        "through",
        "amount",
        "administeredBy",
        "area",
        "holder",
        "post",
        "proposedBy",
        "implementedBy",
        "contributor",
        "contributesTo",
        "disagreesWith",
        "territory",
    ]
    datatype_properties = [
        "startDate",
        "endDate",
        "personnelCount",
        "personnelNote",
        "resolutionNumber",
        "symbol",
        "authorizesAction",
        "covers",
        "quantity",
        "unit",
        "locator",
    ]
    for name in classes:
        assert (IOIR[name], RDF.type, OWL.Class) in ioir, name
    for name in object_properties:
        assert (IOIR[name], RDF.type, OWL.ObjectProperty) in ioir, name
    for name in datatype_properties:
        assert (IOIR[name], RDF.type, OWL.DatatypeProperty) in ioir, name
    assert (IOIR.codingNote, RDF.type, OWL.AnnotationProperty) in ioir
    assert (IOIR.codingNote, RDFS.subPropertyOf, SKOS.editorialNote) in ioir
    assert (IOIR.hasMandate, OWL.inverseOf, IOIR.authorizes) in ioir
    assert (IOIR.evidence, RDFS.subPropertyOf, PROV.wasDerivedFrom) in ioir
    assert (IOIR.dependent, RDF.type, OWL.FunctionalProperty) in ioir
    assert {
        (IOIR.replaced, RDF.type, OWL.IrreflexiveProperty),
        (IOIR.replaced, RDF.type, OWL.AsymmetricProperty),
    } <= set(ioir)
    assert {
        (IOIR.disagreesWith, RDF.type, OWL.SymmetricProperty),
        (IOIR.disagreesWith, RDF.type, OWL.IrreflexiveProperty),
    } <= set(ioir)
    for functional in ("holder", "post", "contributor"):
        assert (IOIR[functional], RDF.type, OWL.FunctionalProperty) in ioir, functional
    # Reused superclasses and superproperties.
    assert (IOIR.Treaty, RDFS.subClassOf, ELI.LegalResource) in ioir
    assert (IOIR.TreatyProvision, RDFS.subClassOf, ELI.LegalResourceSubdivision) in ioir
    assert (IOIR.PolicyDocument, RDFS.subClassOf, FOAF.Document) in ioir
    for sub in ("Doctrine", "Approach"):
        assert (IOIR[sub], RDFS.subClassOf, IOIR.Policy) in ioir, sub
    for sub in ("Strategy", "Communication", "Roadmap", "SummitDeclaration", "Report", "Conclusions"):
        assert (IOIR[sub], RDFS.subClassOf, IOIR.PolicyDocument) in ioir, sub


def _union_members(graph: Graph, node: object) -> set[object]:
    """The members of an owl:unionOf class expression, or the class itself when it is named."""
    members = graph.value(node, OWL.unionOf)
    return set(graph.items(members)) if members is not None else {node}


def test_widened_domains_and_ranges(ioir: Graph) -> None:
    """The existing properties that the new classes also use have their domains or ranges widened."""
    assert {IOIR.CooperationInstrument, IOIR.Policy, IOIR.PolicyDocument, IOIR.Mandate, IOIR.Mission} <= _union_members(
        ioir, ioir.value(IOIR.outcome, RDFS.range)
    )
    assert IOIR.MemberStateContribution in _union_members(ioir, ioir.value(IOIR.resourceType, RDFS.domain))
    for prop in (IOIR.startDate, IOIR.endDate):
        domain = _union_members(ioir, ioir.value(prop, RDFS.domain))
        assert {
            IOIR.Policy,
            IOIR.Tenure,
            IOIR.Funding,
            IOIR.MemberStateContribution,
            IOIR.FinancingInstrument,
        } <= domain
    new_kinds = {
        IOIR.Policy,
        IOIR.AnalyticalConcept,
        IOIR.Treaty,
        IOIR.TreatyProvision,
        IOIR.PolicyDocument,
        IOIR.FinancingInstrument,
        IOIR.Funding,
        IOIR.Tenure,
        IOIR.MemberStateContribution,
    }
    assert new_kinds <= _union_members(ioir, ioir.value(IOIR.evidence, RDFS.domain))


def test_contract_concepts_are_all_there(ontology: Graph) -> None:
    slugs = [
        "level-macro",
        "level-meso",
        "level-micro",
        "resource-funding",
        "resource-personnel",
        "resource-military-assets",
        "resource-logistics",
        "resource-security-provision",
        "resource-information",
        "resource-expertise",
        "resource-legitimacy",
        "resource-political-support",
        "resource-planning-capacity",
        "resource-presence",
        "resource-material",
        "resource-immaterial",
        "formalisation-high",
        "formalisation-low",
        "intensity-high",
        "intensity-low",
        "reciprocity-high",
        "reciprocity-low",
        "standardisation-high",
        "standardisation-low",
        "frequency-ad-hoc",
        "frequency-weekly",
        "frequency-monthly",
        "frequency-quarterly",
        "frequency-biannual",
        "frequency-annual",
        "frequency-regular",
        "meeting-level-political",
        "meeting-level-senior-official",
        "meeting-level-staff",
        "meeting-level-field",
    ]
    for slug in slugs:
        concept = ID[f"concept/{slug}"]
        assert (concept, RDF.type, SKOS.Concept) in ontology, slug
        assert ontology.value(concept, SKOS.inScheme) is not None, slug
        assert _english(ontology, concept, SKOS.prefLabel), slug
        assert _english(ontology, concept, SKOS.definition), slug
        assert ontology.value(concept, SKOS.notation) is not None, slug
    for slug in slugs:
        if slug.startswith("resource-") and slug not in {"resource-material", "resource-immaterial"}:
            assert ontology.value(ID[f"concept/{slug}"], SKOS.broader) in {
                ID["concept/resource-material"],
                ID["concept/resource-immaterial"],
            }
    for level in ("macro", "meso", "micro"):
        evidence = ontology.value(ID[f"concept/level-{level}"], IOIR.evidence)
        assert evidence is not None
        assert ontology.value(evidence, DCTERMS.source) == ID["source/s000"]
        assert 0 < len(str(ontology.value(evidence, PROV.value))) <= 300


AREAS = [
    "crisis-management",
    "peacekeeping",
    "peacebuilding",
    "conflict-prevention",
    "mediation",
    "early-warning",
    "training",
    "capacity-building",
    "security-sector-reform",
    "rule-of-law",
    "policing",
    "border-management",
    "humanitarian-assistance",
    "civil-military-coordination",
    "logistics",
    "airlift",
    "military-capabilities",
    "planning",
    "information-exchange",
    "counter-terrorism",
    "counter-piracy",
    "maritime-security",
    "cyber-security",
    "hybrid-threats",
    "arms-control",
    "disarmament-demobilization-reintegration",
    "human-rights",
    "gender",
    "protection-of-civilians",
    "elections",
    "governance",
    "reconstruction",
    "development",
    "energy-security",
    "non-proliferation",
    "crisis-response-exercises",
]


def test_areas_of_cooperation_scheme(ontology: Graph) -> None:
    """The start list of areas (and any added on request): label = prefLabel, definition, notation = slug,
    in the scheme and top concepts of it."""
    scheme = ID["scheme/areas-of-cooperation"]
    assert (scheme, RDF.type, SKOS.ConceptScheme) in ontology
    assert _english(ontology, scheme, SKOS.definition)
    in_scheme = set(ontology.subjects(SKOS.inScheme, scheme))
    assert {ID[f"concept/area-{slug}"] for slug in AREAS} <= in_scheme
    for concept in in_scheme:
        slug = str(concept).removeprefix(str(ID["concept/area-"]))
        assert str(concept).startswith(str(ID["concept/area-"])), concept
        assert (concept, RDF.type, SKOS.Concept) in ontology, slug
        assert ontology.value(concept, RDFS.label) == ontology.value(concept, SKOS.prefLabel), slug
        assert _english(ontology, concept, SKOS.prefLabel), slug
        assert _english(ontology, concept, SKOS.definition), slug
        assert ontology.value(concept, SKOS.notation) == Literal(slug), slug
        assert (concept, SKOS.topConceptOf, scheme) in ontology, slug
        assert (scheme, SKOS.hasTopConcept, concept) in ontology, slug


def test_reused_terms_are_declared_in_imports(ontology: Graph) -> None:
    """Every term of ORG, PROV-O, SKOS, DCTERMS, FOAF or schema.org that the ontology mentions is declared,
    with its kind, in ontology/imports/<prefix>.ttl."""
    own = load_graph([ONTOLOGY_DIR / "ioir.ttl", ONTOLOGY_DIR / "schemes.ttl"])
    mentioned = {t for triple in own for t in triple if isinstance(t, URIRef)}
    for prefix, namespace in REUSED.items():
        declared = load_graph([ONTOLOGY_DIR / "imports" / f"{prefix}.ttl"])
        for term in sorted(t for t in mentioned if str(t).startswith(str(namespace))):
            if term == URIRef(str(namespace)):
                continue  # a namespace IRI as an annotation value, not a term
            assert set(declared.objects(term, RDF.type)) & KINDS, f"{term} is not declared in imports/{prefix}.ttl"


def test_imports_hold_only_their_vocabulary() -> None:
    for prefix, namespace in REUSED.items():
        declared = load_graph([ONTOLOGY_DIR / "imports" / f"{prefix}.ttl"])
        subjects = {s for s in declared.subjects() if not isinstance(s, BNode)}
        assert subjects, prefix
        assert all(str(s).startswith(str(namespace)) for s in subjects), prefix
        assert not list(declared.subjects(RDF.type, OWL.Ontology)), f"imports/{prefix}.ttl must not declare an ontology"


# ------------------------------------------------------------------------------------------------------------------
# Violation queries over ontology + data
# ------------------------------------------------------------------------------------------------------------------


def test_checks_exist() -> None:
    names = {path.name.removesuffix("-violation.rq") for path in CHECKS}
    assert names >= {
        "missing-label",
        "missing-definition",
        "missing-domain-range",
        "undeclared-term",
        "term-outside-namespace",
        "missing-evidence",
        "replaced-change-event-agree",
    }
    for path in CHECKS:
        assert path.read_text(encoding="utf-8").startswith("# "), f"{path.name} must open with a comment header"


@pytest.mark.parametrize("query", CHECKS, ids=lambda p: p.name.removesuffix("-violation.rq"))
def test_check_returns_no_rows_over_ontology_and_data(query: Path, ontology_and_data: Graph) -> None:
    problems = run_checks(ontology_and_data, [query])
    assert problems == [], "\n".join(p.message for p in problems[:50])


# Each check, given small planted violations, reports each of them (so a silent query cannot pass the test above):
# check name -> (Turtle to add to the ontology, substrings that must each occur in some reported problem).
X = "https://w3id.org/ioir/id/"
PLANTED: dict[str, tuple[str, list[str]]] = {
    "missing-label": (
        f"ioir:Unlabelled a owl:Class ; skos:definition 'x'@en .\n"
        f"<{X}org/x> a ioir:InternationalOrganization ; skos:prefLabel 'X'@en .\n"
        f"<{X}post/y> a org:Post ; rdfs:label 'Y'@en .",
        [
            "Unlabelled: ontology term",
            "org/x: entity without an English rdfs:label",
            "post/y: entity without an English skos:prefLabel",
        ],
    ),
    "missing-definition": (
        f"ioir:Undefined a owl:Class ; rdfs:label 'undefined'@en .\n<{X}concept/z> a skos:Concept .",
        ["Undefined: ontology term", "concept/z: SKOS concept"],
    ),
    "missing-domain-range": (
        "ioir:loose a owl:ObjectProperty ; rdfs:range ioir:Place .\n"
        "ioir:looser a owl:DatatypeProperty ; rdfs:domain ioir:Place .",
        ["loose: property without rdfs:domain", "looser: property without rdfs:range"],
    ),
    "undeclared-term": (
        f"<{X}mission/x> ioir:lauchedBy <{X}org/y> ; a ioir:Misson .",
        ["lauchedBy", "Misson"],
    ),
    "term-outside-namespace": (
        f"<{X}org/x> a <http://example.org/Thing> ; org:unitOff <{X}org/y> .",
        ["http://example.org/Thing: class", "unitOff: property"],
    ),
    "missing-evidence": (
        f"<{X}dependency/x> a ioir:ResourceDependency .\n<{X}instrument/y> a ioir:JointDeclaration .\n"
        f"<{X}funding/z> a ioir:Funding .\n<{X}document/w> a ioir:Strategy .",
        [
            "dependency/x: relation node (ResourceDependency)",
            "instrument/y: relation node (CooperationInstrument)",
            "funding/z: relation node (Funding)",
            "document/w: relation node (PolicyDocument)",
        ],
    ),
    "replaced-change-event-agree": (
        f"<{X}event/x> a org:ChangeEvent ;\n"
        f"  org:originalOrganization <{X}mission/a> ; org:resultingOrganization <{X}mission/b> .\n"
        f"<{X}mission/c> ioir:replaced <{X}mission/d> .",
        ["event/x: change event without ioir:replaced", "mission/c: ioir:replaced"],
    ),
}
PREFIXES = """@prefix ioir: <https://w3id.org/ioir/ontology#> . @prefix owl: <http://www.w3.org/2002/07/owl#> .
@prefix rdfs: <http://www.w3.org/2000/01/rdf-schema#> . @prefix skos: <http://www.w3.org/2004/02/skos/core#> .
@prefix org: <http://www.w3.org/ns/org#> .
"""


@pytest.mark.parametrize("query", CHECKS, ids=lambda p: p.name.removesuffix("-violation.rq"))
def test_check_finds_planted_violations(query: Path, ontology: Graph) -> None:
    name = query.name.removesuffix("-violation.rq")
    assert name in PLANTED, f"add planted violations for the new check {name}"
    turtle, expected = PLANTED[name]
    graph = Graph()
    graph += ontology
    graph.parse(data=PREFIXES + turtle, format="turtle")
    problems = run_checks(graph, [query])
    assert all(p.check == name for p in problems)
    for text in expected:
        assert any(text in p.message for p in problems), f"{name} missed {text!r}: {problems}"
    assert run_checks(ontology, [query]) == []


# ------------------------------------------------------------------------------------------------------------------
# OWL consistency (HermiT)
# ------------------------------------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def reasoner() -> None:
    _require_reasoner()


@pytest.mark.slow
@pytest.mark.usefixtures("reasoner")
def test_hermit_ontology_alone_is_consistent(ontology: Graph) -> None:
    result = hermit_consistency(ontology, timeout_s=300)
    assert result == ConsistencyResult(True, (), result.message), result.message


@pytest.mark.slow
@pytest.mark.usefixtures("reasoner")
def test_hermit_ontology_and_data_are_consistent(ontology_and_data: Graph) -> None:
    result = hermit_consistency(ontology_and_data, timeout_s=300)
    assert result.consistent, result.message
    assert result.unsatisfiable == (), result.message


@pytest.mark.slow
@pytest.mark.usefixtures("reasoner")
def test_hermit_finds_disjointness_violations(ontology: Graph) -> None:
    """A mission that is also an international organization contradicts the disjointness axioms."""
    graph = Graph()
    graph += ontology
    eulex = ID["mission/eulex"]
    graph.add((eulex, RDF.type, IOIR.Mission))
    graph.add((eulex, RDF.type, IOIR.InternationalOrganization))
    assert not hermit_consistency(graph).consistent


@pytest.mark.slow
@pytest.mark.usefixtures("reasoner")
def test_hermit_finds_property_violations(ontology: Graph) -> None:
    """A dependency with two dependents that are a state and a body (disjoint) breaks the functional property."""
    graph = Graph()
    graph += ontology
    dependency = ID["dependency/x"]
    graph.add((ID["state/x"], RDF.type, IOIR.State))
    graph.add((ID["body/y"], RDF.type, IOIR.Council))
    graph.add((dependency, IOIR.dependent, ID["state/x"]))
    graph.add((dependency, IOIR.dependent, ID["body/y"]))
    assert not hermit_consistency(graph).consistent


# Violations of the axioms of the newer terms: (subject, predicate, object) triples that contradict them.
NEW_AXIOM_VIOLATIONS = {
    "funding-is-no-organization": [
        (ID["funding/x"], RDF.type, IOIR.Funding),
        (ID["funding/x"], RDF.type, IOIR.InternationalOrganization),
    ],
    "contributor-is-a-state": [
        (ID["contribution/x"], IOIR.contributor, ID["org/y"]),
        (ID["org/y"], RDF.type, IOIR.InternationalOrganization),
    ],
    "disagreement-is-irreflexive": [(ID["evidence/x"], IOIR.disagreesWith, ID["evidence/x"])],
    "policy-document-is-no-cooperation-instrument": [
        (ID["document/x"], RDF.type, IOIR.SummitDeclaration),
        (ID["document/x"], RDF.type, IOIR.JointDeclaration),
    ],
    "legal-basis-is-a-legal-text": [
        (ID["mission/x"], IOIR.legalBasis, ID["place/y"]),
        (ID["place/y"], RDF.type, IOIR.Country),
    ],
}


@pytest.mark.slow
@pytest.mark.usefixtures("reasoner")
@pytest.mark.parametrize("case", sorted(NEW_AXIOM_VIOLATIONS))
def test_hermit_finds_violations_of_the_new_axioms(case: str, ontology: Graph) -> None:
    graph = Graph()
    graph += ontology
    for triple in NEW_AXIOM_VIOLATIONS[case]:
        graph.add(triple)
    assert not hermit_consistency(graph).consistent, case


@pytest.mark.slow
@pytest.mark.usefixtures("reasoner")
def test_hermit_reports_unsatisfiable_classes(ontology: Graph) -> None:
    graph = Graph()
    graph += ontology
    graph.add((IOIR.Impossible, RDF.type, OWL.Class))
    graph.add((IOIR.Impossible, RDFS.subClassOf, IOIR.Mission))
    graph.add((IOIR.Impossible, RDFS.subClassOf, IOIR.Place))
    result = hermit_consistency(graph)
    assert result.consistent
    assert result.unsatisfiable == (str(IOIR.Impossible),)


@pytest.mark.slow
@pytest.mark.usefixtures("reasoner")
def test_check_ontology_reports_nothing() -> None:
    problems = check_ontology(ONTOLOGY_DIR, DATA_DIR)
    assert problems == [], "\n".join(f"{p.check}: {p.message}" for p in problems[:50])


def test_check_ontology_reports_syntax_errors(tmp_path: Path) -> None:
    (tmp_path / "broken.ttl").write_text("<a> <b> .", encoding="utf-8")
    problems = check_ontology(ONTOLOGY_DIR, tmp_path, reasoner=False)
    assert [p.check for p in problems] == ["syntax"]
    assert isinstance(problems[0], Problem)
    assert "broken.ttl" in problems[0].message
