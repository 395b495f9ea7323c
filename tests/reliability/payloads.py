"""Requests the reliability tests send: a valid assertion made unique per call, and the reads of the load mix."""

from __future__ import annotations

import uuid
from dataclasses import dataclass

#: A conformant assertion (a new micro-level dependency with its verbatim evidence, source s004); ``{uid}`` makes
#: its two IRIs and its label unique.
ASSERTION_TEMPLATE = """\
@base <https://w3id.org/ioir/id/> .
@prefix ioir: <https://w3id.org/ioir/ontology#> .
@prefix skos: <http://www.w3.org/2004/02/skos/core#> .
@prefix dcterms: <http://purl.org/dc/terms/> .
@prefix prov: <http://www.w3.org/ns/prov#> .

<dependency/rel-{uid}> a ioir:ResourceDependency ;
    skos:prefLabel "EUPOL Afghanistan relies on ISAF for security (submission {uid})"@en ;
    ioir:dependent <mission/eupol-afghanistan> ; ioir:provider <mission/isaf> ;
    ioir:resourceType <concept/resource-security-provision> ;
    ioir:dependencyLevel <concept/level-micro> ;
    ioir:theatre <place/afghanistan> ;
    ioir:evidence <evidence/rel-{uid}> .

<evidence/rel-{uid}> a ioir:Evidence ;
    dcterms:source <source/s004> ;
    prov:value "In Afghanistan, the EU runs the police operation in support of ISAF and is in turn supported by ISAF." .
"""
#: Triples of :data:`ASSERTION_TEMPLATE` (the graph adds its provenance: 5 triples, one per generated evidence).
ASSERTION_TRIPLES = 11
TURTLE = {"Content-Type": "text/turtle"}


@dataclass(frozen=True)
class Submission:
    """One assertion to submit: its unique id (``uid``) and Turtle body."""

    uid: str
    body: bytes

    @property
    def dependency(self) -> str:
        """The IRI of the dependency it describes."""
        return f"https://w3id.org/ioir/id/dependency/rel-{self.uid}"


def new_submission(prefix: str = "") -> Submission:
    """A conformant assertion no other call returns."""
    uid = f"{prefix}{uuid.uuid4().hex[:16]}"
    return Submission(uid, ASSERTION_TEMPLATE.format(uid=uid).encode("utf-8"))


#: SPARQL queries of the load mix: a count of everything, a join with labels, a sorted listing, an ASK.
QUERIES = (
    "SELECT (COUNT(*) AS ?n) WHERE { ?s ?p ?o }",
    "PREFIX ioir: <https://w3id.org/ioir/ontology#> PREFIX skos: <http://www.w3.org/2004/02/skos/core#> "
    "SELECT ?d ?dl ?pl WHERE { ?d a ioir:ResourceDependency ; ioir:dependent/skos:prefLabel ?dl ; "
    "ioir:provider/skos:prefLabel ?pl } LIMIT 100",
    "PREFIX ioir: <https://w3id.org/ioir/ontology#> PREFIX skos: <http://www.w3.org/2004/02/skos/core#> "
    "SELECT ?o ?label WHERE { ?o a ioir:InternationalOrganization ; skos:prefLabel ?label } ORDER BY ?label",
    "PREFIX ioir: <https://w3id.org/ioir/ontology#> ASK { ?m a ioir:Mission }",
)
#: Entity pages of the load mix, as ``(path, Accept)``.
ENTITIES = (
    ("/id/org/nato", "text/html"),
    ("/id/org/eu", "text/turtle"),
    ("/id/mission/eupm", "text/html"),
    ("/id/org/un", "application/ld+json"),
    ("/id/mission/isaf", "text/html"),
)
#: Competency queries of the load mix, with their arguments.
COMPETENCY = (
    ("dependencies-by-level", {"level": "concept/level-meso"}),
    ("missions-by-organization", {"org": "org/nato"}),
    ("search", {"text": "NATO"}),
    ("network", {}),
    ("instruments-between", {"a": "org/eu", "b": "org/nato"}),
)
