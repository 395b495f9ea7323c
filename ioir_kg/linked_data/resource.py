"""What the server says about one entity: a single CONSTRUCT with the entity's IRI bound.

The description holds the entity's own triples, the labels of everything it points to (objects,
properties, classes), the relations pointing at it with the labels of their subjects and properties,
and its evidence: each ``ioir:Evidence`` node with its quote, locator and source (and the source's label), and
the records of its links to other datasets (``data/links/``: each link's sources, date and rule).
"""

from __future__ import annotations

from dataclasses import dataclass

from pyoxigraph import NamedNode, QueryTriples, Triple

from ioir_kg.config import Settings
from ioir_kg.errors import StoreUnavailable
from ioir_kg.namespaces import parse_entity_iri, sparql_prologue
from ioir_kg.store.base import KnowledgeStore, QueryDataset

#: The description of ``?iri``; ``?iri`` is bound with a ``VALUES`` block (``KnowledgeStore.query`` bindings).
DESCRIBE = (
    sparql_prologue()
    + """
CONSTRUCT {
  ?iri ?p ?o .
  ?o ?olp ?olabel .
  ?p rdfs:label ?plabel .
  ?s ?pin ?iri .
  ?s ?slp ?slabel .
  ?pin rdfs:label ?pinlabel .
  ?ev ?evp ?evo .
  ?src ?srclp ?srclabel .
  ?rec ?rp ?ro .
}
WHERE {
  {
    ?iri ?p ?o .
    OPTIONAL { ?o ?olp ?olabel FILTER(?olp IN (skos:prefLabel, rdfs:label)) }
    OPTIONAL { ?p rdfs:label ?plabel }
  }
  UNION
  {
    ?s ?pin ?iri .
    FILTER(?s != ?iri)
    OPTIONAL { ?s ?slp ?slabel FILTER(?slp IN (skos:prefLabel, rdfs:label)) }
    OPTIONAL { ?pin rdfs:label ?pinlabel }
  }
  UNION
  {
    ?iri ioir:evidence ?ev .
    ?ev ?evp ?evo .
    FILTER(?evp IN (rdf:type, prov:value, dcterms:source, ioir:locator))
    OPTIONAL {
      ?ev dcterms:source ?src .
      ?src ?srclp ?srclabel .
      FILTER(?srclp IN (skos:prefLabel, rdfs:label, dcterms:title, dcterms:identifier))
    }
  }
  UNION
  {
    ?rec dcterms:subject ?iri ; dcterms:references ?target ; ?rp ?ro .
    FILTER(?rp IN (rdf:type, dcterms:references, prov:wasDerivedFrom, dcterms:date, rdfs:comment, void:inDataset))
  }
}
"""
)


@dataclass(frozen=True)
class Description:
    """The triples describing ``iri`` (its own first, in store order; duplicates removed)."""

    iri: str
    triples: tuple[Triple, ...]

    @property
    def found(self) -> bool:
        """Whether the store says anything about the entity itself (it is the subject of a triple)."""
        node = NamedNode(self.iri)
        return any(t.subject == node for t in self.triples)


def entity_iri(settings: Settings, kind: str, slug: str) -> str | None:
    """The IRI ``{base}id/{kind}/{slug}``, or ``None`` when the kind or slug is not well formed.

    >>> entity_iri(Settings(), "org", "nato")
    'https://w3id.org/ioir/id/org/nato'
    >>> entity_iri(Settings(), "org", "NATO") is None, entity_iri(Settings(), "nope", "nato") is None
    (True, True)
    """
    iri = f"{settings.id_base}{kind}/{slug}"
    return iri if parse_entity_iri(settings.base_uri, iri) == (kind, slug) else None


def union_dataset(store: KnowledgeStore, settings: Settings) -> QueryDataset | None:
    """A dataset whose default graph merges every graph (``None`` when the store already does that).

    With ``IOIR_UNION_DEFAULT_GRAPH=false`` the default graph holds only what was put there; the
    Linked Data views still read the whole knowledge graph. They describe what is asserted: the inferred graph
    (:mod:`ioir_kg.store.inference`) is left out.
    """
    from ioir_kg.sparql.inference import graph_names
    from ioir_kg.store.inference import inferred_graph_iri

    inferred = inferred_graph_iri(settings)
    return QueryDataset(default_graphs=("", *(g for g in graph_names(store) if g != inferred)))


def describe(store: KnowledgeStore, settings: Settings, iri: str) -> Description:
    """Run :data:`DESCRIBE` for ``iri`` over the whole knowledge graph."""
    result = store.query(DESCRIBE, bindings={"iri": NamedNode(iri)}, dataset=union_dataset(store, settings))
    if not isinstance(result, QueryTriples):  # pragma: no cover - a CONSTRUCT always yields triples
        raise StoreUnavailable("the description query did not return triples")
    triples = tuple(dict.fromkeys(result))
    node = NamedNode(iri)
    own = [t for t in triples if t.subject == node]
    return Description(iri, (*own, *(t for t in triples if t.subject != node)))
