"""Explanations in domain terms: each SHACL result and each violated axiom told with the names of the entities.

:class:`Context` knows the labels and stated classes of the nodes a submission touches (from the submission and
the stored neighbourhood), the ontology's labels and the shapes; :func:`explain_shape` and :func:`explain_axiom`
turn a result into a :class:`~ioir_kg.validation.report.Finding` whose ``explanation`` reads like
"The launching organization of a mission must be an organization, a body or a mission, but “Javier Solana” is a
person."

>>> article("organization"), article("mission"), article("European Union body")
('an organization', 'a mission', 'a European Union body')
>>> plural("party"), plural("provider")
('parties', 'providers')
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass

from rdflib import BNode, Graph, Literal, URIRef
from rdflib.collection import Collection
from rdflib.namespace import FOAF, RDF, RDFS, SH, SKOS
from rdflib.term import Node
from rdflib.util import from_n3

from ioir_kg.validation.axioms import AxiomViolation, Tbox, TypeReason, curie
from ioir_kg.validation.report import Finding
from ioir_kg.validation.shacl import ShapeResult

__all__ = ["Context", "article", "explain_axiom", "explain_shape", "plural"]

IOIR = "https://w3id.org/ioir/ontology#"
ORG = "http://www.w3.org/ns/org#"
DCTERMS = "http://purl.org/dc/terms/"

#: How a value is named by its role in the statement ("the launching organization of a mission").
ROLES: dict[str, str] = {
    f"{IOIR}launchedBy": "launching organization",
    f"{IOIR}dependent": "dependent organization",
    f"{IOIR}provider": "provider",
    f"{IOIR}party": "party",
    f"{IOIR}issuedBy": "issuing body",
    f"{IOIR}signedBy": "signatory",
    f"{IOIR}signedAt": "place of signature",
    f"{IOIR}hasMandate": "mandate",
    f"{IOIR}authorizes": "authorized mission",
    f"{IOIR}deployedIn": "place of deployment",
    f"{IOIR}resourceType": "resource type",
    f"{IOIR}dependencyLevel": "dependency level",
    f"{IOIR}liaisonPost": "liaison post",
    f"{IOIR}sentBy": "sending organization",
    f"{IOIR}affectsOrganization": "affected organization",
    f"{IOIR}involves": "organization involved",
    f"{IOIR}theatre": "theatre",
    f"{IOIR}context": "context",
    f"{IOIR}evidence": "evidence",
    f"{IOIR}replaced": "replaced mission",
    f"{IOIR}headquarters": "headquarters",
    f"{IOIR}startDate": "start date",
    f"{IOIR}endDate": "end date",
    f"{IOIR}frequency": "frequency",
    f"{IOIR}instrumentType": "instrument type",
    f"{ORG}postIn": "host organization",
    f"{ORG}unitOf": "parent organization",
    f"{ORG}heldBy": "holder",
    f"{ORG}originalOrganization": "mission taken over",
    f"{ORG}resultingOrganization": "mission that took over",
    f"{DCTERMS}source": "source document",
    f"{DCTERMS}date": "date",
    str(SKOS.prefLabel): "preferred label",
    "http://www.w3.org/ns/prov#value": "quote",
}
_VOWEL_SOUND_EXCEPTIONS = ("eu", "uni", "use", "one", "usa")


def article(noun: str) -> str:
    """``noun`` with "a" or "an" before it."""
    lowered = noun.lower()
    vowel = lowered[:1] in "aeiou" and not lowered.startswith(_VOWEL_SOUND_EXCEPTIONS)
    return f"{'an' if vowel else 'a'} {noun}"


def plural(noun: str) -> str:
    """A naive English plural (enough for the roles above)."""
    if noun.endswith("y") and noun[-2:-1] not in ("a", "e", "o", "u"):
        return noun[:-1] + "ies"
    return noun + ("es" if noun.endswith(("s", "x", "ch", "sh")) else "s")


@dataclass
class Context:
    """What explanations need to name things.

    ``graph`` holds the submission and its stored neighbourhood (asserted triples only); ``where`` says in which
    stored graph a node has a class (``"data/002-…"``), or ``None`` when the submission states it.
    """

    graph: Graph
    tbox: Tbox
    shapes: Graph
    id_base: str
    delta: set[tuple[Node, Node, Node]]
    where: Callable[[Node, URIRef], str | None] | None = None

    # -- names ---------------------------------------------------------------------------------------------------
    def plain(self, node: Node | None) -> str:
        """The label of a node (no quotes): its English preferred label, label or name, else a short IRI."""
        if node is None:
            return ""
        if isinstance(node, Literal):
            return str(node)
        for prop in (SKOS.prefLabel, RDFS.label, FOAF.name):
            labels = [o for o in self.graph.objects(node, prop) if isinstance(o, Literal)]
            english = [o for o in labels if o.language in (None, "en")]
            if english or labels:
                return str(sorted(english or labels, key=str)[0])
        if isinstance(node, URIRef):
            if node in self.tbox.labels:
                return self.tbox.labels[node]
            text = str(node)
            return text[len(self.id_base) :] if text.startswith(self.id_base) else curie(node)
        return "a blank node"

    def name(self, node: Node | None) -> str:
        """The label of a node in quotes (a literal as written)."""
        if isinstance(node, Literal):
            return f'"{node}"'
        return f"“{self.plain(node)}”"

    def term(self, term: Node) -> str:
        """The label of an ontology term, as a common noun ("international organization", "person")."""
        label = self.tbox.label(term)
        if " " not in label and label[:1].isupper() and label[1:].islower():
            return label.lower()  # vocabularies' one-word class labels ("Person") read as nouns in a sentence
        return label

    def role(self, prop: Node | None) -> str:
        """The role a property gives its value ("launching organization"), else the property's label."""
        if prop is None:
            return "value"
        return ROLES.get(str(prop), self.term(prop))

    def stated_classes(self, node: Node) -> list[URIRef]:
        """The most specific classes the graph gives ``node`` (stated ``rdf:type``, without their super-classes)."""
        stated = {c for c in self.graph.objects(node, RDF.type) if isinstance(c, URIRef)}
        return sorted(c for c in stated if not any(c != o and c in self.tbox.supers(o) for o in stated))

    def kind(self, node: Node | None) -> str | None:
        """What ``node`` is, with its article ("a person"), or ``None`` when the graph gives it no class."""
        if node is None:
            return None
        classes = self.stated_classes(node)
        if not classes:
            return None
        return " and ".join(article(self.term(c)) for c in classes[:2])

    def stored_in(self, node: Node, cls: URIRef) -> str:
        """Where a stored class of ``node`` comes from: " (stored in data/002-…)" or ""."""
        if self.where is None:
            return ""
        place = self.where(node, cls)
        return f" (stored in {place})" if place else ""

    # -- shapes --------------------------------------------------------------------------------------------------
    def expected(self, shape: Node | None) -> str | None:
        """What a value must be, from the constraint of ``shape`` (a helper shape's label, a class, alternatives)."""
        if shape is None:
            return None
        node = self.shapes.value(shape, SH.node)
        if node is not None:
            label = self.shapes.value(node, RDFS.label)
            if isinstance(label, Literal):
                return str(label)
        cls = self.shapes.value(shape, SH["class"])
        if isinstance(cls, URIRef):
            return article(self.term(cls))
        alternatives = self.shapes.value(shape, SH["or"])
        if alternatives is not None:
            names = [self.expected(member) for member in Collection(self.shapes, alternatives)]
            if names and all(names):
                return " or ".join(n for n in names if n)
        return None

    def parameter(self, shape: Node | None, name: str) -> Node | None:
        """A parameter of a shape (``sh:minCount`` …)."""
        return None if shape is None else self.shapes.value(shape, SH[name])


def _node(text: str | None) -> Node | None:
    """A report's rendering of a term back as a term."""
    if text is None:
        return None
    if text.startswith('"'):
        term = from_n3(text)
        return term if isinstance(term, Literal) else Literal(text)
    if text.startswith("_:"):
        return BNode(text[2:])
    if text.startswith(("(", "^")):
        return None
    return URIRef(text)


def _list(ctx: Context, nodes: Iterable[Node]) -> str:
    names = [ctx.name(n) for n in nodes]
    return ", ".join(names[:-1]) + (" and " if len(names) > 1 else "") + names[-1] if names else "none"


def explain_shape(result: ShapeResult, ctx: Context, shape_iri: str | None) -> Finding:
    """A SHACL result as a finding, explained with the entities' names."""
    focus, path, value = _node(result.focus), _node(result.path), _node(result.value)
    component = (result.component or "").rsplit("#", 1)[-1]
    text = _shape_text(result, component, ctx, focus, path, value)
    return Finding(
        rule=result.shape_id or "SHACL",
        kind="shape",
        severity=result.severity,
        message=result.message,
        explanation=text,
        focus=result.focus or None,
        path=result.path,
        value=result.value,
        source=shape_iri,
        focus_label=ctx.plain(focus) if focus is not None else None,
        path_label=ctx.term(path) if isinstance(path, URIRef) else None,
        value_label=ctx.plain(value) if value is not None and not isinstance(value, Literal) else None,
    )


def _shape_text(
    result: ShapeResult, component: str, ctx: Context, focus: Node | None, path: Node | None, value: Node | None
) -> str:
    shape = result.source_shape
    focus_name, focus_kind = ctx.name(focus), ctx.kind(focus) or "this entity"
    role = ctx.role(path)
    if result.shape_id == "S14" and value is not None:
        links = sorted(ctx.graph.predicates(focus, value), key=str) if focus is not None else []
        link = ctx.term(links[0]) if links else "a link"
        if isinstance(value, Literal):
            return f"{focus_name} gives the text {ctx.name(value)} as its {link}, where an entity (an IRI) is expected."
        return (
            f"{focus_name} points to {ctx.name(value)} ({link}), which is neither stored in the graph nor described "
            "in this submission: it needs a type and a label."
        )
    if result.shape_id == "S01" and component == "OrConstraintComponent" and isinstance(focus, URIRef):
        return _kind_mismatch(ctx, focus, focus_name, result.message)
    if component == "MaxLengthConstraintComponent" and isinstance(value, Literal):
        limit = ctx.parameter(shape, "maxLength")
        return f"The {role} of {focus_name} has {len(str(value))} characters; at most {limit} are allowed."
    if result.shape_id == "S02" and component == "MinCountConstraintComponent":
        return (
            f"{focus_name} cites no evidence: every entity and relation must point (ioir:evidence) to a verbatim quote "
            "from a source document; send the source and the quote with the submission, or add an evidence node."
        )
    if component in ("NodeConstraintComponent", "ClassConstraintComponent", "OrConstraintComponent") and value:
        expected = ctx.expected(shape)
        if expected is not None and path is not None:
            if isinstance(value, Literal):
                return f"The {role} of {focus_kind} must be {expected}, but {focus_name} gives {value.n3()}."
            is_ = ctx.kind(value) or "not described as one (it has no type in the graph)"
            return (
                f"The {role} of {focus_kind} must be {expected}, but {ctx.name(value)} is {is_} "
                f"({focus_name} {ctx.term(path)} {ctx.name(value)})."
            )
    if component == "MinCountConstraintComponent" and path is not None:
        needed = ctx.parameter(shape, "minCount")
        have = sorted(ctx.graph.objects(focus, path), key=str) if focus is not None else []
        if isinstance(needed, Literal) and int(needed) > 1:
            listed = f" ({_list(ctx, have)})" if have else ""
            return (
                f"{article(focus_kind.split(' ', 1)[-1]).capitalize()} must have at least {needed} "
                f"{plural(role)}, but {focus_name} has {len(have)}{listed}."
            )
        return f"{focus_name} must have {article(role)} ({ctx.term(path)}), but it has none."
    if component == "MaxCountConstraintComponent" and path is not None and focus is not None:
        allowed = ctx.parameter(shape, "maxCount")
        have = sorted(ctx.graph.objects(focus, path), key=str)
        return (
            f"{focus_name} can have at most {allowed} {role if str(allowed) == '1' else plural(role)} "
            f"({ctx.term(path)}), but would have {len(have)}: {_list(ctx, have)}."
        )
    if component == "DisjointConstraintComponent" and value is not None:
        other = ctx.parameter(shape, "disjoint")
        return (
            f"{ctx.name(value)} cannot be both the {role} and the {ctx.role(other)} of {focus_name}: "
            "an organization does not depend on, cooperate with or host itself."
        )
    if component == "InConstraintComponent" and value is not None:
        in_list = ctx.parameter(shape, "in")
        choices = list(Collection(ctx.shapes, in_list)) if in_list is not None else []
        return f"{ctx.name(value)} is not an allowed {role} of {focus_name}; use one of {_list(ctx, choices)}."
    if component == "SPARQLConstraintComponent" and str(path).endswith("#endDate") and focus is not None:
        starts = sorted(ctx.graph.objects(focus, URIRef(f"{IOIR}startDate")), key=str)
        start = starts[0] if starts else None
        return f"{focus_name} cannot end ({value}) before it starts ({start})."
    if component in ("DatatypeConstraintComponent", "PatternConstraintComponent") and value is not None:
        return f"The {role} of {focus_name}, {ctx.name(value)}, is not well formed: {result.message}"
    return f"{focus_name}: {result.message}"


def _kind_mismatch(ctx: Context, focus: URIRef, focus_name: str, message: str) -> str:
    """Shape S01's IRI check: the kind in the IRI does not fit the entity's class."""
    kinds: dict[URIRef, str] = {}
    for member in ctx.shapes.objects(None, SH["pattern"]):
        for alternative in ctx.shapes.subjects(SH["pattern"], member):
            cls = ctx.shapes.value(alternative, SH["class"])
            found = re.search(r"/id/([a-z]+)/", str(member))
            if isinstance(cls, URIRef) and found:
                kinds[cls] = found.group(1)
    text = str(focus)
    if not text.startswith(ctx.id_base):
        return f"{focus_name}: {message}"
    given = text[len(ctx.id_base) :].split("/", 1)[0]
    fitting = sorted(
        {kinds[c] for c in ctx.graph.objects(focus, RDF.type) if isinstance(c, URIRef) and c in kinds} - {given}
    )
    kind = ctx.kind(focus) or "an entity"
    if not fitting:
        return f"{focus_name}: {message}"
    return (
        f"{focus_name} is {kind}, but its IRI names the kind “{given}”: "
        f"its IRI must be {ctx.id_base}{fitting[0]}/{{slug}}."
    )


# -- axioms -------------------------------------------------------------------------------------------------------
def _because(ctx: Context, node: Node, cls: URIRef, reason: TypeReason) -> str:
    """Why ``node`` would be of class ``cls``, in words."""
    s, p, o = reason.triple
    stated = ctx.term(reason.stated)
    via = "" if ctx.term(reason.stated) == ctx.term(cls) else f", hence {article(ctx.term(cls))}"
    if reason.how == "type":
        if reason.in_delta:
            return f"this submission says it is {article(stated)}{via}"
        return f"it is {article(stated)}{ctx.stored_in(node, reason.stated) or ' (stored)'}{via}"
    prop = reason.prop if reason.prop is not None else p
    if reason.how == "range":
        subject = ctx.name(s if o == node else o)
        return f"as the {ctx.role(prop)} ({ctx.term(prop)}) of {subject} it must be {article(stated)}{via}" + (
            "" if reason.in_delta else " (stored)"
        )
    return f"as it has {article(ctx.role(prop))} ({ctx.term(prop)}) it must be {article(stated)}{via}" + (
        "" if reason.in_delta else " (stored)"
    )


def _as_role(ctx: Context, node: Node, reason: TypeReason) -> str:
    """ "as the signatory (signed by) of “X”" or "as it has a frequency (frequency)"."""
    s, p, o = reason.triple
    prop = reason.prop if reason.prop is not None else p
    if reason.how == "range":
        return f"as the {ctx.role(prop)} ({ctx.term(prop)}) of {ctx.name(s if o == node else o)}"
    return f"as it has {article(ctx.role(prop))} ({ctx.term(prop)})"


def explain_axiom(violation: AxiomViolation, ctx: Context) -> Finding:
    """A violated OWL axiom as a finding, explained with the entities' names."""
    v = violation
    focus, path, value = v.focus, v.path, v.value
    name = ctx.name(focus)
    if v.rule == "owl:disjointWith" and len(v.reasons) == 2 and len(v.classes) >= 2:
        a, b = v.classes[0], v.classes[1]
        if len(v.classes) > 2:  # a union every member of which is excluded
            members = " or ".join(article(ctx.term(c)) for c in v.classes[1:])
            text = (
                f"{name} must be {members} {_as_role(ctx, focus, v.reasons[1])}, but "
                f"{_because(ctx, focus, a, v.reasons[0])}, and {article(ctx.term(a))} is none of these."
            )
        else:
            text = (
                f"{name} cannot be both {article(ctx.term(a))} and {article(ctx.term(b))}: "
                f"{_because(ctx, focus, a, v.reasons[0])}, and {_because(ctx, focus, b, v.reasons[1])}; "
                f"{plural(ctx.term(a))} and {plural(ctx.term(b))} are disjoint."
            )
        message = "Individuals of disjoint classes cannot be the same thing (owl:disjointWith)."
    elif v.rule == "owl:FunctionalProperty":
        text = (
            f"{name} can have only one {ctx.role(path)} ({ctx.term(path) if path else ''}), but would have "
            f"{len(v.values)}: {_list(ctx, v.values)}."
        )
        message = "A functional property has at most one value per subject (owl:FunctionalProperty)."
    elif v.rule == "owl:IrreflexiveProperty":
        text = f"{name} cannot be its own {ctx.role(path)} ({ctx.term(path) if path else ''})."
        message = "An irreflexive property never links a thing to itself (owl:IrreflexiveProperty)."
    elif v.rule == "owl:AsymmetricProperty":
        text = (
            f"{name} {ctx.term(path) if path else ''} {ctx.name(value)}, but the graph already says "
            f"{ctx.name(value)} {ctx.term(path) if path else ''} {name}: the relation cannot go both ways."
        )
        message = "An asymmetric property cannot hold in both directions (owl:AsymmetricProperty)."
    elif v.rule == "owl:ObjectProperty":
        prop = f"The property “{ctx.term(path)}”" if path else "This property"
        text = f"{prop} must point to an entity (an IRI), not to the text {ctx.name(value)} (on {name})."
        message = "An object property links two entities, never an entity and a literal."
    elif v.rule == "owl:DatatypeProperty":
        prop = f"The property “{ctx.term(path)}”" if path else "This property"
        text = f"{prop} takes a literal value, not the entity {ctx.name(value)} (on {name})."
        message = "A datatype property links an entity to a literal."
    else:  # rdfs:range of a datatype property
        expected = ctx.term(v.classes[0]) if v.classes else "the property's datatype"
        literal = value.n3() if isinstance(value, Literal) else ctx.name(value)
        text = f"{literal} is not a valid {expected} for the {ctx.role(path)} of {name}."
        message = "A data property's values must lie in its range (rdfs:range)."
    return Finding(
        rule=v.rule,
        kind="axiom",
        severity="Violation",
        message=message,
        explanation=text,
        focus=_text(focus),
        path=str(path) if path is not None else None,
        value=_text(value),
        source=v.axiom,
        focus_label=ctx.plain(focus),
        path_label=ctx.term(path) if path is not None else None,
        value_label=ctx.plain(value) if value is not None and not isinstance(value, Literal) else None,
    )


def _text(node: Node | None) -> str | None:
    if node is None:
        return None
    if isinstance(node, Literal):
        return node.n3()
    if isinstance(node, BNode):
        return f"_:{node}"
    return str(node)
