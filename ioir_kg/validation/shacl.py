"""SHACL validation of a data graph with pySHACL, reported as typed results carrying shape IDs.

Shapes (``ontology/shapes.ttl``) carry their ID as ``dcterms:identifier`` ("S04"); a result produced by a
nested property shape or a helper shape is attributed to the identified shape that contains it.

>>> from rdflib import Graph
>>> shapes = Graph().parse(format="turtle", data='''
... @prefix sh: <http://www.w3.org/ns/shacl#> . @prefix dcterms: <http://purl.org/dc/terms/> .
... @prefix ex: <http://example.org/> .
... ex:S1 a sh:NodeShape ; dcterms:identifier "S1" ; sh:targetClass ex:Thing ;
...     sh:property [ sh:path ex:name ; sh:minCount 1 ; sh:message "A thing must have a name."@en ] .
... ''')
>>> data = Graph().parse(format="turtle", data="<http://example.org/a> a <http://example.org/Thing> .")
>>> outcome = run_shacl(data, shapes, Graph())
>>> outcome.conforms, outcome.shape_ids
(False, frozenset({'S1'}))
>>> outcome.results[0].message
'A thing must have a name.'
"""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass, field

import pyshacl
from rdflib import BNode, Graph, Literal, URIRef
from rdflib.namespace import DCTERMS, RDF, SH
from rdflib.term import Node

from ioir_kg.errors import IoirError

__all__ = ["ShaclOutcome", "ShapeResult", "ShapesError", "outcome_from_report", "run_shacl"]

_SEVERITIES = {SH.Violation: "Violation", SH.Warning: "Warning", SH.Info: "Info"}


class ShapesError(IoirError):
    """The shapes graph itself is invalid, so pySHACL could not validate (a bug in the shapes, not the data)."""

    title = "Invalid shapes"


@dataclass(frozen=True)
class ShapeResult:
    """One SHACL validation result.

    ``shape_id`` is the ID of the shape that produced it (``"S04"``), or ``None`` for a shape without ID;
    ``severity`` is ``"Violation"``, ``"Warning"`` or ``"Info"``; ``focus``, ``path`` and ``value`` are
    N-Triples-like renderings (IRIs bare, literals quoted); ``message`` is the shape's English message.
    """

    shape_id: str | None
    severity: str
    focus: str
    path: str | None
    value: str | None
    message: str
    #: The SHACL constraint component that failed (``sh:MinCountConstraintComponent`` …), as a full IRI.
    component: str | None = field(default=None, compare=False)
    #: The shape node (IRI or blank node of the shapes graph) that produced the result.
    source_shape: Node | None = field(default=None, compare=False, repr=False)


@dataclass(frozen=True)
class ShaclOutcome:
    """The outcome of a SHACL validation: ``conforms`` is false when there is at least one Violation
    (warnings and infos are reported but do not break conformance)."""

    conforms: bool
    results: tuple[ShapeResult, ...]

    @property
    def shape_ids(self) -> frozenset[str]:
        """IDs of the shapes with at least one result."""
        return frozenset(r.shape_id for r in self.results if r.shape_id is not None)

    @property
    def violations(self) -> tuple[ShapeResult, ...]:
        """The results of severity Violation."""
        return tuple(r for r in self.results if r.severity == "Violation")


def run_shacl(data: Graph, shapes: Graph, ontology: Graph) -> ShaclOutcome:
    """Validate ``data`` against ``shapes`` with ``ontology`` as pySHACL's ``ont_graph`` and RDFS inference.

    The data graph is not modified (pySHACL works on a copy). Raises :class:`ShapesError` when the shapes
    cannot be used.
    """
    conforms, report, text = pyshacl.validate(
        data,
        shacl_graph=shapes,
        ont_graph=ontology,
        inference="rdfs",
        advanced=True,
        allow_warnings=True,
        inplace=False,
    )
    if not isinstance(report, Graph):
        raise ShapesError(f"pySHACL could not validate with these shapes: {text}")
    return outcome_from_report(report, shapes, conforms=bool(conforms))


def outcome_from_report(report: Graph, shapes: Graph, *, conforms: bool) -> ShaclOutcome:
    """Read a pySHACL report graph into a :class:`ShaclOutcome` (``shapes``: the shapes graph validated with)."""
    # Only the results of the report itself: nested sh:detail results explain a result, they are not results.
    top_level = (
        node for rep in report.subjects(RDF.type, SH.ValidationReport) for node in report.objects(rep, SH.result)
    )
    found = (_result(report, shapes, node) for node in top_level)
    results = tuple(sorted(found, key=_sort_key))
    has_violation = any(r.severity == "Violation" for r in results)
    return ShaclOutcome(conforms=conforms and not has_violation, results=results)


def _sort_key(result: ShapeResult) -> tuple[str, str, str, str, str]:
    return (result.shape_id or "~", result.focus, result.path or "", result.value or "", result.message)


def _result(report: Graph, shapes: Graph, node: Node) -> ShapeResult:
    source_shape = report.value(node, SH.sourceShape)
    severity = report.value(node, SH.resultSeverity)
    focus = report.value(node, SH.focusNode)
    path = report.value(node, SH.resultPath)
    value = report.value(node, SH.value)
    return ShapeResult(
        shape_id=shape_id(shapes, source_shape) if source_shape is not None else None,
        severity=_SEVERITIES.get(severity, str(severity)) if isinstance(severity, URIRef) else "Violation",
        focus=render(report, focus) if focus is not None else "",
        path=render(report, path) if path is not None else None,
        value=render(report, value) if value is not None else None,
        message=_message(report, node),
        component=str(component) if (component := report.value(node, SH.sourceConstraintComponent)) else None,
        source_shape=source_shape,
    )


def shape_id(shapes: Graph, shape: Node) -> str | None:
    """The ``dcterms:identifier`` of ``shape`` or of the nearest identified shape that contains it.

    Walks up the shapes graph from ``shape`` (through ``sh:property``, ``sh:node``, ``sh:or`` lists ...)
    breadth first and returns the first identifier found, or ``None``.
    """
    seen: set[Node] = set()
    queue: deque[Node] = deque([shape])
    while queue:
        current = queue.popleft()
        if current in seen:
            continue
        seen.add(current)
        identifier = shapes.value(current, DCTERMS.identifier)
        if isinstance(identifier, Literal):
            return str(identifier)
        queue.extend(parent for parent in shapes.subjects(None, current) if parent not in seen)
    return None


def _message(report: Graph, node: Node) -> str:
    messages = [m for m in report.objects(node, SH.resultMessage) if isinstance(m, Literal)]
    english = [m for m in messages if m.language in (None, "en")]
    chosen = english or messages
    return str(sorted(chosen, key=str)[0]) if chosen else ""


def render(graph: Graph, term: Node) -> str:
    """A short text form of ``term``: an IRI as is, a literal as its N-Triples form, a SHACL path readably."""
    if isinstance(term, URIRef):
        return str(term)
    if isinstance(term, Literal):
        return term.n3()
    if isinstance(term, BNode):
        return _render_path(graph, term)
    return str(term)


def _render_path(graph: Graph, node: BNode) -> str:
    inverse = graph.value(node, SH.inversePath)
    if inverse is not None:
        return f"^{render(graph, inverse)}"
    alternatives = graph.value(node, SH.alternativePath)
    if alternatives is not None:
        return "(" + " | ".join(render(graph, item) for item in graph.items(alternatives)) + ")"
    for predicate, suffix in ((SH.zeroOrMorePath, "*"), (SH.oneOrMorePath, "+"), (SH.zeroOrOnePath, "?")):
        inner = graph.value(node, predicate)
        if inner is not None:
            return f"{render(graph, inner)}{suffix}"
    if graph.value(node, RDF.first) is not None:
        return "/".join(render(graph, item) for item in graph.items(node))
    return f"_:{node}"
