"""Counts that describe the graph: triples per graph, instances per class, relations, dependencies, sources."""

from __future__ import annotations

from dataclasses import dataclass

from pyoxigraph import QuerySolutions

from ioir_kg.namespaces import sparql_prologue
from ioir_kg.store.base import GraphInfo, KnowledgeStore

_SECTIONS: dict[str, str] = {
    "instances per class": "SELECT ?key (COUNT(DISTINCT ?s) AS ?n) WHERE { ?s a ?key } GROUP BY ?key",
    "relations per property": """SELECT ?key (COUNT(*) AS ?n) WHERE { SELECT DISTINCT ?s ?key ?o WHERE {
        ?s ?key ?o . FILTER(isIRI(?o) && ?key NOT IN (rdf:type, ioir:evidence) && STRSTARTS(STR(?key), STR(ioir:)))
        FILTER(EXISTS { ?s a ?t1 } && EXISTS { ?o a ?t2 }) } } GROUP BY ?key""",
    "dependencies per level": """SELECT ?key (COUNT(DISTINCT ?d) AS ?n) WHERE {
        ?d a ioir:ResourceDependency . OPTIONAL { ?d ioir:dependencyLevel/skos:prefLabel ?l }
        BIND(COALESCE(STR(?l), "(level not stated)") AS ?key) } GROUP BY ?key""",
    "entities and relation nodes per source document": """SELECT ?key (COUNT(DISTINCT ?s) AS ?n) WHERE {
        ?s ioir:evidence/dcterms:source ?src . ?src dcterms:identifier ?key } GROUP BY ?key""",
}


@dataclass(frozen=True)
class Stats:
    """The graphs with their sizes and, per section, ``(key, count)`` rows sorted by count."""

    graphs: tuple[GraphInfo, ...]
    sections: dict[str, list[tuple[str, int]]]

    @property
    def triples(self) -> int:
        """Triples in all named graphs."""
        return sum(g.triples for g in self.graphs)


def collect_stats(store: KnowledgeStore) -> Stats:
    """Run the counting queries against ``store``."""
    sections: dict[str, list[tuple[str, int]]] = {}
    for title, query in _SECTIONS.items():
        result = store.query(sparql_prologue() + query)
        assert isinstance(result, QuerySolutions)
        rows = [(row["key"].value, int(row["n"].value)) for row in result]
        sections[title] = sorted(rows, key=lambda r: (-r[1], r[0]))
    return Stats(tuple(store.graphs()), sections)


def render_stats(stats: Stats) -> str:
    """Plain-text report, as ``ioir-kg stats`` prints it."""
    lines = [f"{'triples':>8}  graph"]
    lines += [f"{g.triples:>8}  {g.iri}" for g in stats.graphs]
    lines.append(f"{stats.triples:>8}  total")
    for title, rows in stats.sections.items():
        lines += ["", f"{'count':>8}  {title}"]
        lines += [f"{n:>8}  {key}" for key, n in rows]
    return "\n".join(lines) + "\n"
