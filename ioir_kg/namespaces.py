"""Namespaces and the IRI scheme of entities and graphs.

>>> mint("https://w3id.org/ioir/", "org", "nato")
'https://w3id.org/ioir/id/org/nato'
>>> parse_entity_iri("https://w3id.org/ioir/", "https://w3id.org/ioir/id/org/nato")
('org', 'nato')
"""

from __future__ import annotations

import re

from pyoxigraph import NamedNode

ONTOLOGY_IRI = "https://w3id.org/ioir/ontology"
IOIR = "https://w3id.org/ioir/ontology#"
CANONICAL_BASE = "https://w3id.org/ioir/"
CANONICAL_ID_BASE = f"{CANONICAL_BASE}id/"

PREFIXES: dict[str, str] = {
    "ioir": IOIR,
    "org": "http://www.w3.org/ns/org#",
    "prov": "http://www.w3.org/ns/prov#",
    "skos": "http://www.w3.org/2004/02/skos/core#",
    "dcterms": "http://purl.org/dc/terms/",
    "foaf": "http://xmlns.com/foaf/0.1/",
    "schema": "https://schema.org/",
    "owl": "http://www.w3.org/2002/07/owl#",
    "rdf": "http://www.w3.org/1999/02/22-rdf-syntax-ns#",
    "rdfs": "http://www.w3.org/2000/01/rdf-schema#",
    "xsd": "http://www.w3.org/2001/XMLSchema#",
    "sh": "http://www.w3.org/ns/shacl#",
    "void": "http://rdfs.org/ns/void#",
    "dcat": "http://www.w3.org/ns/dcat#",
}

#: ``rdf:type``, as an IRI string and as a pyoxigraph term.
RDF_TYPE = PREFIXES["rdf"] + "type"
RDF_TYPE_NODE = NamedNode(RDF_TYPE)
#: The media type of RFC 9457 problem details.
PROBLEM_JSON = "application/problem+json"

KINDS = frozenset(
    [
        "org",
        "state",
        "body",
        "mission",
        "mandate",
        "instrument",
        "dependency",
        "post",
        "person",
        "place",
        "event",
        "source",
        "evidence",
        "concept",
        "scheme",
        "obstacle",
        "figure",
        "contributor",
        "policy",
        "treaty",
        "provision",
        "financing",
        "funding",
        "document",
        "tenure",
        "analytical-concept",
        "contribution",
        # the linkset to other datasets (data/links/) and the record of each of its links
        "linkset",
        "link",
    ]
)
SLUG = re.compile(r"^[a-z0-9]+(-[a-z0-9]+)*$")
#: The longest slug an entity may have (an IRI of the graph stays short enough for a header).
MAX_SLUG_CHARS = 200


def mint(base_uri: str, kind: str, slug: str) -> str:
    """Return the entity IRI ``{base}id/{kind}/{slug}``; raise ``ValueError`` for a bad kind or slug."""
    if kind not in KINDS:
        raise ValueError(f"unknown entity kind {kind!r}")
    if not is_slug(slug):
        raise ValueError(
            f"bad slug {slug!r}: use lowercase letters, digits and single hyphens, at most {MAX_SLUG_CHARS} characters"
        )
    return f"{base_uri}id/{kind}/{slug}"


def parse_entity_iri(base_uri: str, iri: str) -> tuple[str, str] | None:
    """Split an entity IRI under ``base_uri`` into ``(kind, slug)``, or ``None`` if it is not one."""
    prefix = f"{base_uri}id/"
    if not iri.startswith(prefix):
        return None
    kind, _, slug = iri[len(prefix) :].partition("/")
    if kind in KINDS and is_slug(slug):
        return kind, slug
    return None


def is_slug(text: str) -> bool:
    """Whether ``text`` is an entity slug: lowercase letters, digits and single hyphens, at most
    :data:`MAX_SLUG_CHARS` characters."""
    return len(text) <= MAX_SLUG_CHARS and SLUG.match(text) is not None


def sparql_prologue() -> str:
    """``PREFIX`` lines for every namespace in :data:`PREFIXES`."""
    return "".join(f"PREFIX {p}: <{iri}>\n" for p, iri in PREFIXES.items())
