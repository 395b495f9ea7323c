"""The ontology's axioms, compiled once, for fast checks over a small graph (a submission and its neighbourhood).

:class:`Tbox` reads the OWL ontology (``ioir.ttl`` and ``imports/``) into lookup tables. It serves two purposes:

* :meth:`Tbox.entailments` computes what RDFS inference adds to a graph (types from ``rdfs:subClassOf``,
  ``rdfs:domain`` and ``rdfs:range``, triples of super-properties). pySHACL's ``inference="rdfs"`` runs the whole
  OWL-RL engine over the data and the ontology (about half a second per call); this does the same for the shapes'
  purposes in milliseconds.
* :func:`check_axioms` is the fast OWL consistency check: targeted checks, over the triples a submission adds and
  the stored triples around them, of every kind of axiom the ontology states about individuals — disjoint classes
  (``owl:disjointWith``, ``owl:AllDisjointClasses``, disjoint unions), with the types that domains, ranges,
  sub-classes, equivalent classes and inverse properties imply; functional, irreflexive and asymmetric properties;
  and the value spaces of data properties. The ontology has no existential or cardinality restrictions, so these
  checks find every inconsistency HermiT would find in such a graph, with one deliberate difference: two different
  IRIs are taken to name two different things (the graph forbids ``owl:sameAs`` between its own entities), so a
  second value of a functional object property is a violation rather than an inferred identity.

>>> from rdflib import Graph, Namespace
>>> EX = Namespace("http://example.org/")
>>> tbox = Tbox.from_graph(Graph().parse(format="turtle", data='''
... @prefix owl: <http://www.w3.org/2002/07/owl#> . @prefix rdfs: <http://www.w3.org/2000/01/rdf-schema#> .
... @prefix ex: <http://example.org/> .
... ex:Person a owl:Class ; owl:disjointWith ex:Org . ex:Org a owl:Class .
... ex:leads a owl:ObjectProperty , owl:FunctionalProperty ; rdfs:range ex:Org .
... '''))
>>> turtle = "@prefix ex: <http://example.org/> . ex:m ex:leads ex:ann . ex:ann a ex:Person ."
>>> data = Graph().parse(format="turtle", data=turtle)
>>> [(v.rule, str(v.focus)) for v in check_axioms(tbox, data, set(data))]
[('owl:disjointWith', 'http://example.org/ann')]
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from decimal import Decimal

from rdflib import BNode, Graph, Literal, Namespace, URIRef
from rdflib.collection import Collection
from rdflib.namespace import OWL, RDF, RDFS
from rdflib.term import Node

from ioir_kg.namespaces import PREFIXES

__all__ = ["AxiomViolation", "Tbox", "TypeReason", "check_axioms", "curie"]

#: XML Schema datatypes (an open namespace: rdflib's closed ``XSD`` warns when doctest collection inspects it).
XSD = Namespace("http://www.w3.org/2001/XMLSchema#")
Triple = tuple[Node, Node, Node]
ClassExpr = URIRef | frozenset[URIRef]

_INTEGER_TYPES = {
    XSD.integer: (None, None),
    XSD.nonNegativeInteger: (0, None),
    XSD.positiveInteger: (1, None),
    XSD.nonPositiveInteger: (None, 0),
    XSD.negativeInteger: (None, -1),
    XSD.long: (-(2**63), 2**63 - 1),
    XSD.int: (-(2**31), 2**31 - 1),
    XSD.short: (-(2**15), 2**15 - 1),
    XSD.byte: (-128, 127),
    XSD.unsignedLong: (0, 2**64 - 1),
    XSD.unsignedInt: (0, 2**32 - 1),
    XSD.unsignedShort: (0, 2**16 - 1),
    XSD.unsignedByte: (0, 255),
}
_NUMERIC = {*_INTEGER_TYPES, XSD.decimal}
_TEXT = {XSD.string, RDF.PlainLiteral, RDF.langString}
#: Datatypes whose value spaces the check knows (the others, such as ``xsd:date``, lie outside the OWL 2 datatype
#: map: HermiT ignores them and shape S10 checks them).
_CHECKED_RANGES = {*_NUMERIC, *_TEXT, XSD.dateTime, XSD.boolean}


def curie(term: Node) -> str:
    """A short name for a term: ``ioir:Mission`` for the known namespaces, else the IRI in angle brackets.

    >>> curie(URIRef("https://w3id.org/ioir/ontology#Mission")), curie(URIRef("http://x.org/a"))
    ('ioir:Mission', '<http://x.org/a>')
    """
    text = str(term)
    for prefix, namespace in PREFIXES.items():
        if text.startswith(namespace) and len(text) > len(namespace):
            return f"{prefix}:{text[len(namespace) :]}"
    return f"<{text}>" if isinstance(term, URIRef) else text


@dataclass(frozen=True)
class TypeReason:
    """Why a node has a class: ``how`` it follows (``"type"`` stated, ``"domain"`` or ``"range"`` of ``prop``)
    from ``triple``, and whether that triple is one the submission adds (``in_delta``). ``stated`` is the class the
    triple gives directly (the reason's class may be one of its super-classes)."""

    how: str
    stated: URIRef
    triple: Triple
    prop: URIRef | None
    in_delta: bool


@dataclass(frozen=True)
class AxiomViolation:
    """One violated axiom: the ``rule`` (``owl:disjointWith``, ``owl:FunctionalProperty`` …), the ``axiom`` as text,
    the node it is about (``focus``), the property and value involved, and what the explanation needs
    (``classes`` and their ``reasons`` for disjointness; the conflicting ``values`` for functional properties)."""

    rule: str
    axiom: str
    focus: Node
    path: URIRef | None = None
    value: Node | None = None
    classes: tuple[URIRef, ...] = ()
    reasons: tuple[TypeReason, ...] = ()
    values: tuple[Node, ...] = field(default=())


@dataclass
class Tbox:
    """The ontology's axioms as lookup tables (IRIs as rdflib ``URIRef``)."""

    superclasses: dict[URIRef, frozenset[URIRef]]
    superproperties: dict[URIRef, frozenset[URIRef]]
    subproperties: dict[URIRef, frozenset[URIRef]]
    domains: dict[URIRef, tuple[ClassExpr, ...]]
    ranges: dict[URIRef, tuple[ClassExpr, ...]]
    datatype_ranges: dict[URIRef, URIRef]
    inverses: dict[URIRef, URIRef]
    disjoint: dict[URIRef, dict[URIRef, str]]
    functional: frozenset[URIRef]
    irreflexive: frozenset[URIRef]
    asymmetric: frozenset[URIRef]
    object_properties: frozenset[URIRef]
    datatype_properties: frozenset[URIRef]
    declared: frozenset[URIRef]
    classes: frozenset[URIRef]
    labels: dict[URIRef, str]
    #: How many axioms the checks use (for the report).
    axiom_count: int = 0

    @classmethod
    def from_graph(cls, ontology: Graph) -> Tbox:
        """Compile the axioms of ``ontology`` (OWL in RDF)."""
        kinds = {
            kind: frozenset(s for s in ontology.subjects(RDF.type, kind) if isinstance(s, URIRef))
            for kind in (
                OWL.Class,
                OWL.ObjectProperty,
                OWL.DatatypeProperty,
                OWL.AnnotationProperty,
                RDFS.Datatype,
                OWL.FunctionalProperty,
                OWL.IrreflexiveProperty,
                OWL.AsymmetricProperty,
            )
        }
        class_edges: dict[URIRef, set[URIRef]] = defaultdict(set)
        for sub, sup in ontology.subject_objects(RDFS.subClassOf):
            if isinstance(sub, URIRef) and isinstance(sup, URIRef):
                class_edges[sub].add(sup)
        for one, other in ontology.subject_objects(OWL.equivalentClass):
            if isinstance(one, URIRef) and isinstance(other, URIRef):
                class_edges[one].add(other)
                class_edges[other].add(one)
        property_edges: dict[URIRef, set[URIRef]] = defaultdict(set)
        for sub, sup in ontology.subject_objects(RDFS.subPropertyOf):
            if isinstance(sub, URIRef) and isinstance(sup, URIRef):
                property_edges[sub].add(sup)
        classes = kinds[OWL.Class] | frozenset(class_edges) | frozenset(c for s in class_edges.values() for c in s)
        superclasses = {c: _closure(c, class_edges) for c in classes}
        properties = kinds[OWL.ObjectProperty] | kinds[OWL.DatatypeProperty] | kinds[OWL.AnnotationProperty]
        superproperties = {p: _closure(p, property_edges) for p in properties | frozenset(property_edges)}
        subproperties: dict[URIRef, set[URIRef]] = defaultdict(set)
        for prop, supers in superproperties.items():
            for sup in supers:
                subproperties[sup].add(prop)
        inverses: dict[URIRef, URIRef] = {}
        for one, other in ontology.subject_objects(OWL.inverseOf):
            if isinstance(one, URIRef) and isinstance(other, URIRef):
                inverses[one], inverses[other] = other, one
        domains = {p: _class_exprs(ontology, p, RDFS.domain) for p in properties}
        ranges = {p: _class_exprs(ontology, p, RDFS.range) for p in kinds[OWL.ObjectProperty]}
        datatype_ranges = {
            p: r for p in kinds[OWL.DatatypeProperty] if isinstance(r := ontology.value(p, RDFS.range), URIRef)
        }
        disjoint = _disjointness(ontology)
        labels = _labels(ontology)
        axiom_count = (
            sum(len(v) for v in disjoint.values()) // 2
            + sum(len(v) for v in domains.values())
            + sum(len(v) for v in ranges.values())
            + len(datatype_ranges)
            + len(kinds[OWL.FunctionalProperty])
            + len(kinds[OWL.IrreflexiveProperty])
            + len(kinds[OWL.AsymmetricProperty])
            + len(inverses) // 2
        )
        return cls(
            superclasses=superclasses,
            superproperties=superproperties,
            subproperties={p: frozenset(s) for p, s in subproperties.items()},
            domains={p: d for p, d in domains.items() if d},
            ranges={p: r for p, r in ranges.items() if r},
            datatype_ranges=datatype_ranges,
            inverses=inverses,
            disjoint=disjoint,
            functional=kinds[OWL.FunctionalProperty],
            irreflexive=kinds[OWL.IrreflexiveProperty],
            asymmetric=kinds[OWL.AsymmetricProperty],
            object_properties=kinds[OWL.ObjectProperty],
            datatype_properties=kinds[OWL.DatatypeProperty],
            declared=properties | kinds[OWL.Class] | kinds[RDFS.Datatype] | frozenset(_BUILT_IN),
            classes=kinds[OWL.Class],
            labels=labels,
            axiom_count=axiom_count,
        )

    def supers(self, cls: URIRef) -> frozenset[URIRef]:
        """``cls`` and all its super-classes (equivalent classes included)."""
        return self.superclasses.get(cls, frozenset((cls,)))

    def props_up(self, prop: URIRef) -> frozenset[URIRef]:
        """``prop`` and all its super-properties."""
        return self.superproperties.get(prop, frozenset((prop,)))

    def props_down(self, prop: URIRef) -> frozenset[URIRef]:
        """``prop`` and all its sub-properties."""
        return self.subproperties.get(prop, frozenset((prop,)))

    def label(self, term: Node) -> str:
        """The English label of an ontology term, else its short name."""
        return self.labels.get(term, curie(term)) if isinstance(term, URIRef) else str(term)

    def entailments(self, graph: Graph) -> set[Triple]:
        """The triples RDFS inference adds to ``graph`` that matter to the shapes: the super-properties of each
        triple, the classes its property's domain and range imply (named classes only) and every super-class of a
        stated or implied type."""
        added: set[Triple] = set()
        for s, p, o in graph:
            if not isinstance(p, URIRef):
                continue
            if p == RDF.type:
                if isinstance(o, URIRef):
                    added.update((s, RDF.type, c) for c in self.supers(o))
                continue
            for prop in self.props_up(p):
                if prop != p:
                    added.add((s, prop, o))
                for expr in self.domains.get(prop, ()):
                    if isinstance(expr, URIRef):
                        added.update((s, RDF.type, c) for c in self.supers(expr))
                if not isinstance(o, Literal):
                    for expr in self.ranges.get(prop, ()):
                        if isinstance(expr, URIRef):
                            added.update((o, RDF.type, c) for c in self.supers(expr))
        added.difference_update(graph)
        return added


#: Terms of RDF, RDFS and OWL that a submission may use without the ontology declaring them.
_BUILT_IN = (RDF.type, RDFS.label, RDFS.comment, RDFS.seeAlso)


def _closure(start: URIRef, edges: dict[URIRef, set[URIRef]]) -> frozenset[URIRef]:
    seen = {start}
    stack = [start]
    while stack:
        for nxt in edges.get(stack.pop(), ()):
            if nxt not in seen:
                seen.add(nxt)
                stack.append(nxt)
    return frozenset(seen)


def _members(graph: Graph, node: Node) -> frozenset[URIRef]:
    """The named classes of a class expression: the class itself, or the members of an ``owl:unionOf``."""
    if isinstance(node, URIRef):
        return frozenset((node,))
    union = graph.value(node, OWL.unionOf)
    if union is None:
        return frozenset()
    return frozenset(m for m in Collection(graph, union) if isinstance(m, URIRef))


def _class_exprs(graph: Graph, prop: URIRef, axiom: URIRef) -> tuple[ClassExpr, ...]:
    exprs: list[ClassExpr] = []
    for node in graph.objects(prop, axiom):
        if node == OWL.Thing:
            continue
        if isinstance(node, URIRef):
            exprs.append(node)
        elif members := _members(graph, node):
            exprs.append(members)
    return tuple(exprs)


def _disjointness(graph: Graph) -> dict[URIRef, dict[URIRef, str]]:
    pairs: dict[URIRef, dict[URIRef, str]] = defaultdict(dict)

    def add(first: Iterable[URIRef], second: Iterable[URIRef], axiom: str) -> None:
        for a in first:
            for b in second:
                if a != b:
                    pairs[a].setdefault(b, axiom)
                    pairs[b].setdefault(a, axiom)

    for a, b in graph.subject_objects(OWL.disjointWith):
        left, right = _members(graph, a), _members(graph, b)
        if isinstance(a, URIRef) and isinstance(b, URIRef):
            add(left, right, f"{curie(a)} owl:disjointWith {curie(b)}")
        else:
            add(left, right, "disjoint unions: " + _union_text(left) + " owl:disjointWith " + _union_text(right))
    for node in graph.subjects(RDF.type, OWL.AllDisjointClasses):
        members_node = graph.value(node, OWL.members)
        if members_node is None:
            continue
        members = [m for m in Collection(graph, members_node) if isinstance(m, URIRef)]
        text = "owl:AllDisjointClasses " + _union_text(members, sep=" ")
        for index, a in enumerate(members):
            add([a], members[index + 1 :], text)
    return {c: dict(others) for c, others in pairs.items()}


def _union_text(members: Iterable[URIRef], sep: str = " ⊔ ") -> str:
    return "(" + sep.join(sorted(curie(m) for m in members)) + ")"


def _labels(graph: Graph) -> dict[URIRef, str]:
    labels: dict[URIRef, str] = {}
    for term, label in graph.subject_objects(RDFS.label):
        if not isinstance(term, URIRef) or not isinstance(label, Literal) or label.language not in (None, "en"):
            continue
        if term not in labels or label.language == "en":
            labels[term] = str(label)
    return labels


# -- the checks ------------------------------------------------------------------------------------------------


class _Index:
    """The triples of a graph by subject and by object, each marked as added by the submission or not."""

    def __init__(self, graph: Graph, delta: set[Triple]) -> None:
        self.delta = delta
        self.by_subject: dict[Node, list[Triple]] = defaultdict(list)
        self.by_object: dict[Node, list[Triple]] = defaultdict(list)
        for triple in graph:
            self.by_subject[triple[0]].append(triple)
            if not isinstance(triple[2], Literal):
                self.by_object[triple[2]].append(triple)

    def about(self, node: Node) -> Iterator[Triple]:
        """The triples with ``node`` as subject or object."""
        yield from self.by_subject.get(node, ())
        yield from self.by_object.get(node, ())


def _types(
    tbox: Tbox, index: _Index, node: Node
) -> tuple[dict[URIRef, list[TypeReason]], list[tuple[frozenset[URIRef], TypeReason]]]:
    """The classes ``node`` belongs to, each with the reasons why, and the unions it must belong to."""
    types: dict[URIRef, list[TypeReason]] = defaultdict(list)
    unions: list[tuple[frozenset[URIRef], TypeReason]] = []

    def add(expr: ClassExpr, how: str, triple: Triple, prop: URIRef | None) -> None:
        if isinstance(expr, URIRef):
            reason = TypeReason(how, expr, triple, prop, triple in index.delta)
            for cls in tbox.supers(expr):
                types[cls].append(reason)
        else:
            unions.append((expr, TypeReason(how, next(iter(sorted(expr))), triple, prop, triple in index.delta)))

    for triple in index.about(node):
        s, p, o = triple
        if not isinstance(p, URIRef):
            continue
        if p == RDF.type:
            if s == node and isinstance(o, URIRef):
                add(o, "type", triple, None)
            continue
        for prop in tbox.props_up(p):
            inverse = tbox.inverses.get(prop)
            if s == node:
                for expr in tbox.domains.get(prop, ()):
                    add(expr, "domain", triple, prop)
                if inverse is not None:
                    for expr in tbox.ranges.get(inverse, ()):
                        add(expr, "range", triple, inverse)
            if o == node:
                for expr in tbox.ranges.get(prop, ()):
                    add(expr, "range", triple, prop)
                if inverse is not None:
                    for expr in tbox.domains.get(inverse, ()):
                        add(expr, "domain", triple, inverse)
    return types, unions


def _pick(reasons: list[TypeReason], *, prefer_delta: bool) -> TypeReason:
    ordered = sorted(reasons, key=lambda r: (r.in_delta != prefer_delta, r.how != "type"))
    return ordered[0]


def _disjoint_violations(tbox: Tbox, index: _Index, node: Node) -> Iterator[AxiomViolation]:
    types, unions = _types(tbox, index, node)
    reported: set[frozenset[URIRef]] = set()
    for cls in sorted(types):
        for other, axiom in tbox.disjoint.get(cls, {}).items():
            pair = frozenset((cls, other))
            if other not in types or pair in reported:
                continue
            first, second = types[cls], types[other]
            if not any(r.in_delta for r in (*first, *second)):
                continue  # a conflict among stored triples only is not this submission's doing
            reported.add(pair)
            a = _pick(first, prefer_delta=True)
            b = _pick(second, prefer_delta=not a.in_delta)
            path, value = _path_value(a if a.how != "type" else b)
            yield AxiomViolation("owl:disjointWith", _axiom_text(axiom, a, b), node, path, value, (cls, other), (a, b))
    for members, reason in unions:
        blocking = {m: next((c for c in types if c in tbox.disjoint.get(m, {})), None) for m in members}
        if all(blocker is not None for blocker in blocking.values()):
            blockers = {b for b in blocking.values() if b is not None}
            stated = sorted(blockers)[0]
            conflicting = _pick(types[stated], prefer_delta=not reason.in_delta)
            if not (reason.in_delta or conflicting.in_delta):
                continue
            path, value = _path_value(reason)
            axiom = f"{curie(reason.prop or RDF.type)} rdfs:{reason.how} {_union_text(members)}; every member is "
            axiom += f"disjoint with {curie(stated)}"
            yield AxiomViolation(
                "owl:disjointWith", axiom, node, path, value, (stated, *sorted(members)), (conflicting, reason)
            )


def _path_value(reason: TypeReason) -> tuple[URIRef | None, Node | None]:
    s, p, o = reason.triple
    prop = p if isinstance(p, URIRef) else None
    return prop, (o if reason.how in ("domain", "type") else s)


def _axiom_text(axiom: str, *reasons: TypeReason) -> str:
    parts = [axiom]
    for reason in reasons:
        if reason.how in ("domain", "range") and reason.prop is not None:
            parts.append(f"{curie(reason.prop)} rdfs:{reason.how} {curie(reason.stated)}")
    return "; ".join(parts)


def _literal_key(value: Node) -> object:
    if isinstance(value, Literal):
        python = value.toPython()
        return ("literal", python if not isinstance(python, Literal) else str(value), value.language)
    return value


def _functional_violations(tbox: Tbox, index: _Index, delta: set[Triple]) -> Iterator[AxiomViolation]:
    done: set[tuple[Node, URIRef]] = set()
    for s, p, _ in sorted(delta, key=str):
        if not isinstance(p, URIRef):
            continue
        for prop in tbox.props_up(p):
            if prop not in tbox.functional or (s, prop) in done:
                continue
            done.add((s, prop))
            subs = tbox.props_down(prop)
            values: dict[object, Node] = {}
            for _, q, o in index.by_subject.get(s, ()):
                if q in subs:
                    values.setdefault(_literal_key(o), o)
            if len(values) > 1:
                found = tuple(sorted(values.values(), key=str))
                yield AxiomViolation(
                    "owl:FunctionalProperty",
                    f"{curie(prop)} a owl:FunctionalProperty",
                    s,
                    prop,
                    found[-1],
                    values=found,
                )


def _property_violations(tbox: Tbox, index: _Index, delta: set[Triple]) -> Iterator[AxiomViolation]:
    for triple in sorted(delta, key=str):
        s, p, o = triple
        if not isinstance(p, URIRef):
            continue
        ups = tbox.props_up(p)
        for prop in ups & tbox.irreflexive:
            if s == o:
                yield AxiomViolation("owl:IrreflexiveProperty", f"{curie(prop)} a owl:IrreflexiveProperty", s, p, o)
        for prop in ups & tbox.asymmetric:
            subs = tbox.props_down(prop)
            if s != o and any(q in subs and back == s for _, q, back in index.by_subject.get(o, ())):
                yield AxiomViolation("owl:AsymmetricProperty", f"{curie(prop)} a owl:AsymmetricProperty", s, p, o)
        if p in tbox.object_properties and isinstance(o, Literal):
            yield AxiomViolation("owl:ObjectProperty", f"{curie(p)} a owl:ObjectProperty", s, p, o)
        elif p in tbox.datatype_properties and not isinstance(o, Literal):
            yield AxiomViolation("owl:DatatypeProperty", f"{curie(p)} a owl:DatatypeProperty", s, p, o)
        elif p in tbox.datatype_properties and isinstance(o, Literal):
            for prop in ups:
                rng = tbox.datatype_ranges.get(prop)
                if rng is not None and not _in_value_space(o, rng):
                    yield AxiomViolation("rdfs:range", f"{curie(prop)} rdfs:range {curie(rng)}", s, p, o, (rng,))


def _in_value_space(literal: Literal, datatype: URIRef) -> bool:
    """Whether ``literal`` denotes a value of ``datatype`` (for the datatypes of the OWL 2 map it knows)."""
    if datatype not in _CHECKED_RANGES:
        return True
    if getattr(literal, "ill_typed", False):
        return False
    have = literal.datatype
    if datatype in _TEXT:
        allowed = {XSD.string, None} if datatype == XSD.string else {XSD.string, RDF.langString, None}
        return (RDF.langString if literal.language else have) in allowed
    if datatype in _NUMERIC:
        value = literal.toPython()
        if have not in _NUMERIC or isinstance(value, Literal | bool):
            return False
        if datatype == XSD.decimal:
            return isinstance(value, int | Decimal)
        low, high = _INTEGER_TYPES[datatype]
        integral = isinstance(value, int) or (isinstance(value, Decimal) and value == value.to_integral_value())
        return integral and (low is None or value >= low) and (high is None or value <= high)
    return have == datatype


def check_axioms(tbox: Tbox, graph: Graph, delta: set[Triple]) -> list[AxiomViolation]:
    """The axioms that ``graph`` violates because of the triples in ``delta`` (a subset of ``graph``).

    ``graph`` holds the submission and the stored triples around it (the types and labels of the nodes it
    mentions, the stored triples of its subjects). Conflicts among stored triples alone are not reported.
    """
    index = _Index(graph, delta)
    nodes = sorted(
        {n for s, p, o in delta for n in (s, o) if isinstance(n, URIRef | BNode) and not (n == o and p == RDF.type)},
        key=str,
    )
    found: list[AxiomViolation] = []
    for node in nodes:
        found.extend(_disjoint_violations(tbox, index, node))
    found.extend(_functional_violations(tbox, index, delta))
    found.extend(_property_violations(tbox, index, delta))
    return found
