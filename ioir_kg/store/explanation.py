"""Why a triple holds: asserted (in which graphs), inferred (by which rule, from which triples), or neither.

The reasoner (:mod:`ioir_kg.store.inference`) keeps no trace of its derivations, so they are found again on demand:
for the rules the ontology uses — ``rdfs:subClassOf`` and ``owl:equivalentClass`` for ``rdf:type``,
``rdfs:domain``/``rdfs:range``, ``rdfs:subPropertyOf`` and ``owl:equivalentProperty``, ``owl:inverseOf``,
``owl:SymmetricProperty`` and ``owl:TransitiveProperty`` — :class:`Explainer` looks for one step from triples that
hold (asserted or inferred) and recurses into the inferred ones, so a chain of sub-classes or a transitive chain
comes back whole, down to asserted triples. The CLI (``ioir-kg explain``) and the entity pages both use it.

>>> from ioir_kg.config import Settings
>>> parse_term("ioir:Mission", Settings(), "object").value
'https://w3id.org/ioir/ontology#Mission'
>>> parse_term("org/nato", Settings(), "subject").value
'https://w3id.org/ioir/id/org/nato'
>>> parse_term('"NATO"@en', Settings(), "object")
<Literal value=NATO language=en>
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

from pyoxigraph import Literal, NamedNode, RdfFormat, Triple, parse

from ioir_kg.config import Settings
from ioir_kg.errors import BadInput
from ioir_kg.namespaces import PREFIXES
from ioir_kg.store.base import KnowledgeStore
from ioir_kg.store.inference import OWL, RDF_TYPE, RDFS, inferred_graph_iri, is_reasoned_graph

_SUB_CLASS, _EQ_CLASS = NamedNode(RDFS + "subClassOf"), NamedNode(OWL + "equivalentClass")
_SUB_PROP, _EQ_PROP = NamedNode(RDFS + "subPropertyOf"), NamedNode(OWL + "equivalentProperty")
_DOMAIN, _RANGE, _INVERSE = NamedNode(RDFS + "domain"), NamedNode(RDFS + "range"), NamedNode(OWL + "inverseOf")
_SYMMETRIC, _TRANSITIVE = NamedNode(OWL + "SymmetricProperty"), NamedNode(OWL + "TransitiveProperty")
#: The rules, by their OWL 2 RL names, with the axiom each one uses.
RULES = {
    "cax-sco": "rdfs:subClassOf",
    "cax-eqc": "owl:equivalentClass",
    "prp-dom": "rdfs:domain",
    "prp-rng": "rdfs:range",
    "prp-spo1": "rdfs:subPropertyOf",
    "prp-eqp": "owl:equivalentProperty",
    "prp-inv": "owl:inverseOf",
    "prp-symp": "owl:SymmetricProperty",
    "prp-trp": "owl:TransitiveProperty",
}
#: How deep a derivation may go (a transitive chain or a sub-class chain longer than this is not explained).
MAX_DEPTH = 12
_NEIGHBOURS = "SELECT ?p ?o ?g { GRAPH ?g { ?s ?p ?o } }"
_INCOMING = "SELECT ?s ?p ?g { GRAPH ?g { ?s ?p ?o } }"
_PREFIXED = re.compile(r"^([A-Za-z][\w-]*):([\w.-]*)$")
_ENTITY = re.compile(r"^([a-z][a-z-]*)/([A-Za-z0-9][\w.~-]*)$")


def parse_term(text: str, settings: Settings, position: str) -> NamedNode | Literal:
    """A term of the command line: ``<iri>``, an absolute IRI, ``prefix:local``, ``kind/slug``, ``a`` (as a
    predicate), or a literal in N-Triples syntax (as an object). Anything else is :class:`BadInput`."""
    text = text.strip()
    try:
        if text.startswith('"') and position == "object":
            found = list(parse(f"<urn:x:s> <urn:x:p> {text} .", format=RdfFormat.N_TRIPLES))
            if len(found) == 1 and isinstance(found[0].object, Literal):
                return found[0].object
        elif text == "a" and position == "predicate":
            return RDF_TYPE
        elif text.startswith("<") and text.endswith(">"):
            return NamedNode(text[1:-1])
        elif re.match(r"^(https?|urn):", text):
            return NamedNode(text)
        elif (m := _PREFIXED.match(text)) and m.group(1) in PREFIXES:
            return NamedNode(PREFIXES[m.group(1)] + m.group(2))
        elif (m := _ENTITY.match(text)) and position != "predicate":
            return NamedNode(f"{settings.id_base}{text}")
    except (ValueError, SyntaxError) as exc:
        raise BadInput(f"{position} {text!r}: {exc}") from exc
    raise BadInput(
        f"{position} {text!r}: give an IRI (<…> or http…), a prefixed name ({', '.join(sorted(PREFIXES))}), "
        "kind/slug" + (", or a literal in N-Triples syntax" if position == "object" else "")
    )


def show(term: object) -> str:
    """A term in a short readable form: a prefixed name where there is one, else N-Triples."""
    if isinstance(term, NamedNode):
        for prefix, namespace in PREFIXES.items():
            local = term.value[len(namespace) :]
            if term.value.startswith(namespace) and re.fullmatch(r"[\w.-]*", local):
                return f"{prefix}:{local}"
        return f"<{term.value}>"
    return str(term)


def _t(s: Any, p: Any, o: Any) -> Triple:
    """A triple of terms read from the store (the subject of a premise is never a literal)."""
    return Triple(s, p, o)


def show_triple(t: Triple) -> str:
    """A triple in a short readable form (``rdf:type`` as ``a``)."""
    predicate = "a" if t.predicate == RDF_TYPE else show(t.predicate)
    return f"{show(t.subject)} {predicate} {show(t.object)}"


@dataclass(frozen=True)
class Premise:
    """A triple a derivation uses: asserted (``graphs``) or itself derived (``derivation``)."""

    triple: Triple
    graphs: tuple[str, ...] = ()
    derivation: Derivation | None = None


@dataclass(frozen=True)
class Derivation:
    """One rule applied to its premises."""

    rule: str
    premises: tuple[Premise, ...]

    @property
    def axiom(self) -> str:
        """The ontology construct the rule uses (``rdfs:subClassOf`` …)."""
        return RULES[self.rule]

    def rules(self) -> list[str]:
        """The axioms used, outermost first, without repeats (``rdfs:subClassOf`` once for a whole chain)."""
        found = [self.axiom]
        for p in self.premises:
            if p.derivation is not None:
                found += [r for r in p.derivation.rules() if r not in found]
        return found

    def asserted(self) -> list[Premise]:
        """The asserted triples the derivation rests on, in order, without repeats."""
        out: list[Premise] = []
        for p in self.premises:
            for leaf in [p] if p.derivation is None else p.derivation.asserted():
                if leaf.triple not in [o.triple for o in out]:
                    out.append(leaf)
        return out


@dataclass(frozen=True)
class Explanation:
    """Whether a triple is asserted (and where), inferred, and how it is derived."""

    triple: Triple
    graphs: tuple[str, ...]
    inferred: bool
    derivation: Derivation | None = None

    @property
    def holds(self) -> bool:
        """Whether the triple is in the knowledge graph, asserted or inferred."""
        return bool(self.graphs) or self.inferred

    def lines(self) -> list[str]:
        """The explanation as text, a derivation as an indented tree."""
        out = [show_triple(self.triple)]
        if self.graphs:
            out.append("asserted in " + ", ".join(f"<{g}>" for g in self.graphs))
        if self.inferred:
            out.append("inferred (in the inferred graph)")
            if self.derivation is None:
                out.append("  no derivation found by the rules explained here (OWL 2 RL derived it otherwise)")
            else:
                out += _tree(self.derivation, 1)
        if not self.holds:
            out.append("neither asserted nor inferred")
        return out


def _tree(d: Derivation, depth: int) -> list[str]:
    pad = "  " * depth
    out = [f"{pad}by {d.axiom} ({d.rule}) from:"]
    for p in d.premises:
        where = f"asserted in <{p.graphs[0]}>" if p.graphs else "inferred"
        out.append(f"{pad}  {show_triple(p.triple)}   [{where}]")
        if p.derivation is not None:
            out += _tree(p.derivation, depth + 2)
    return out


@dataclass
class Explainer:
    """Explains triples of one store, reading each term's neighbourhood once (a cache per explainer)."""

    store: KnowledgeStore
    settings: Settings
    _out: dict[object, list[tuple[Triple, str]]] = field(default_factory=dict)
    _in: dict[object, list[tuple[Triple, str]]] = field(default_factory=dict)

    def _graph_ok(self, graph: str) -> bool:
        return graph == inferred_graph_iri(self.settings) or is_reasoned_graph(graph, self.settings)

    def _rows(self, sparql: str, name: str, term: object) -> list[tuple[object, object, str]]:
        """The two unbound terms and the graph of each row of ``sparql`` with ``?name`` bound to ``term``."""
        if not isinstance(term, NamedNode):
            return []
        result = self.store.query(sparql, bindings={name: term})
        rows: list[tuple[object, object, str]] = []
        for row in result:  # type: ignore[union-attr]
            graph = row["g"].value
            if self._graph_ok(graph):
                rows.append((row[0], row[1], graph))
        return rows

    def outgoing(self, subject: object) -> list[tuple[Triple, str]]:
        """The triples (and their graphs) with this subject, in the asserted graphs and the inferred one."""
        if subject not in self._out:
            rows = self._rows(_NEIGHBOURS, "s", subject)
            self._out[subject] = [(Triple(subject, p, o), g) for p, o, g in rows]  # type: ignore[arg-type]
        return self._out[subject]

    def incoming(self, obj: object) -> list[tuple[Triple, str]]:
        """The triples (and their graphs) with this object."""
        if obj not in self._in:
            rows = self._rows(_INCOMING, "o", obj)
            self._in[obj] = [(Triple(s, p, obj), g) for s, p, g in rows]  # type: ignore[arg-type]
        return self._in[obj]

    def graphs_of(self, t: Triple) -> tuple[str, ...]:
        """The graphs holding ``t`` (the inferred one included)."""
        return tuple(sorted({g for found, g in self.outgoing(t.subject) if found == t}))

    def asserted_in(self, t: Triple) -> tuple[str, ...]:
        """The asserted graphs holding ``t``."""
        inferred = inferred_graph_iri(self.settings)
        return tuple(g for g in self.graphs_of(t) if g != inferred)

    def holds(self, t: Triple) -> bool:
        """Whether ``t`` is asserted or inferred."""
        return bool(self.graphs_of(t))

    def _has(self, s: object, p: NamedNode, o: object) -> bool:
        return any(t.predicate == p and t.object == o for t, _ in self.outgoing(s))

    def _steps(self, t: Triple) -> Iterator[tuple[str, tuple[Triple, ...]]]:
        """Every one-step derivation of ``t`` whose premises all hold."""
        s, p, o = t.subject, t.predicate, t.object
        if p == RDF_TYPE:
            for known, _ in self.outgoing(s):
                c = known.object
                if known.predicate == RDF_TYPE and c != o:
                    if self._has(c, _SUB_CLASS, o):
                        yield "cax-sco", (known, _t(c, _SUB_CLASS, o))
                    for a, b in ((c, o), (o, c)):
                        if self._has(a, _EQ_CLASS, b):
                            yield "cax-eqc", (known, _t(a, _EQ_CLASS, b))
                elif self._has(known.predicate, _DOMAIN, o):
                    yield "prp-dom", (known, _t(known.predicate, _DOMAIN, o))
            for known, _ in self.incoming(s):
                if self._has(known.predicate, _RANGE, o):
                    yield "prp-rng", (known, _t(known.predicate, _RANGE, o))
            return
        for known, _ in self.outgoing(s):
            q = known.predicate
            if known.object == o and q != p:
                if self._has(q, _SUB_PROP, p):
                    yield "prp-spo1", (known, _t(q, _SUB_PROP, p))
                for a, b in ((q, p), (p, q)):
                    if self._has(a, _EQ_PROP, b):
                        yield "prp-eqp", (known, _t(a, _EQ_PROP, b))
        for known, _ in self.outgoing(o):
            q = known.predicate
            if known.object != s:
                continue
            for a, b in ((q, p), (p, q)):
                if self._has(a, _INVERSE, b):
                    yield "prp-inv", (known, _t(a, _INVERSE, b))
            if q == p and self._has(p, RDF_TYPE, _SYMMETRIC):
                yield "prp-symp", (known, _t(p, RDF_TYPE, _SYMMETRIC))
        if self._has(p, RDF_TYPE, _TRANSITIVE):
            for known, _ in self.outgoing(s):
                middle = known.object
                if known.predicate == p and middle not in (s, o) and self.holds(_t(middle, p, o)):
                    yield "prp-trp", (known, _t(middle, p, o), _t(p, RDF_TYPE, _TRANSITIVE))

    def derive(self, t: Triple, path: frozenset[Triple] = frozenset()) -> Derivation | None:
        """A derivation of ``t`` down to asserted triples, if any.

        A type is explained by the class hierarchy before domain and range; then the fewest inferred premises win.
        """
        if len(path) >= MAX_DEPTH:
            return None
        steps = sorted(
            self._steps(t),
            key=lambda step: (step[0] in ("prp-dom", "prp-rng"), sum(not self.asserted_in(x) for x in step[1])),
        )
        for rule, premises in steps:
            resolved: list[Premise] = []
            for premise in premises:
                graphs = self.asserted_in(premise)
                if graphs:
                    resolved.append(Premise(premise, graphs))
                    continue
                below = None if premise in path or premise == t else self.derive(premise, path | {t})
                if below is None:
                    break
                resolved.append(Premise(premise, (), below))
            else:
                return Derivation(rule, tuple(resolved))
        return None

    def explain(self, t: Triple) -> Explanation:
        """Whether ``t`` is asserted, inferred (and how), or neither."""
        graphs = self.graphs_of(t)
        inferred = inferred_graph_iri(self.settings) in graphs
        asserted = tuple(g for g in graphs if g != inferred_graph_iri(self.settings))
        return Explanation(t, asserted, inferred, self.derive(t) if inferred else None)

    def inferred_about(self, subject: NamedNode) -> list[Explanation]:
        """The inferred statements with this subject, each explained (types first)."""
        inferred = inferred_graph_iri(self.settings)
        found = sorted(
            (t for t, g in self.outgoing(subject) if g == inferred and not self.asserted_in(t)),
            key=lambda t: (t.predicate != RDF_TYPE, str(t.predicate), str(t.object)),
        )
        return [Explanation(t, (), True, self.derive(t)) for t in found]
