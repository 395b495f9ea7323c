"""Speed-ups of pySHACL for the validation pipeline (:mod:`ioir_kg.validation.pipeline`), in one place.

They reach into pySHACL's internals, so they are tied to the pySHACL versions they were written against
(:data:`PATCHED_PYSHACL`): :func:`restrict_targets` refuses to patch any other, so that an upgrade is a
deliberate change (read these classes against the new pySHACL, then extend the tuple).

* :class:`_FocusedShape`: a shape's targets are only the focus nodes of the validation (:func:`focused_on`),
  looked up node by node instead of over the whole graph; nested checks still see everything.
* :class:`_SubShape` and :func:`_install_cheap_results`: inside ``sh:or``/``sh:node``/``sh:not``/… a failure costs
  a flag, not a formatted result, and each verdict on a node is remembered for the rest of the validation.
* :class:`PreparedQueryGraph`: each distinct SPARQL constraint is parsed once per process.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from typing import Any, ClassVar

import pyshacl
from pyshacl.constraints.constraint_component import ConstraintComponent
from pyshacl.shape import Shape
from pyshacl.shapes_graph import ShapesGraph
from rdflib import BNode, Graph, Literal, URIRef
from rdflib.collection import Collection
from rdflib.namespace import RDF, RDFS, SH
from rdflib.plugins.sparql import prepareQuery
from rdflib.plugins.sparql.sparql import Query
from rdflib.term import Node

#: The pySHACL releases (major.minor) whose internals these classes were checked against.
PATCHED_PYSHACL = ("0.30",)


def check_pyshacl_version(version: str = pyshacl.__version__) -> None:
    """Refuse to patch a pySHACL these speed-ups were not written for.

    >>> check_pyshacl_version("0.30.1")
    >>> check_pyshacl_version("0.99.0")  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    RuntimeError: pySHACL 0.99.0 is not a version the speed-ups in ... were checked against (0.30); ...
    """
    if ".".join(version.split(".")[:2]) not in PATCHED_PYSHACL:
        raise RuntimeError(
            f"pySHACL {version} is not a version the speed-ups in {__name__} were checked against"
            f" ({', '.join(PATCHED_PYSHACL)}); read them against it and extend PATCHED_PYSHACL"
        )


def restrict_targets(shapes_graph: ShapesGraph, shapes: Graph) -> None:
    """Make each shape's targets only the nodes in :data:`_FOCUS` (its nested checks, which pass their value
    nodes explicitly, still see everything). pySHACL's own ``focus_nodes`` option also filters the value nodes of
    ``sh:node`` and ``sh:or`` checks, which would let violations through."""
    check_pyshacl_version()
    _install_cheap_results()
    inside_logic = _logical_members(shapes)
    for shape in shapes_graph.shapes:
        shape.__class__ = _SubShape if shape.node in inside_logic else _FocusedShape


@contextmanager
def focused_on(focus: Iterable[Node] | None) -> Iterator[None]:
    """Within the block, shapes target only ``focus`` (``None``: every node), and verdicts are remembered."""
    token, memo = _FOCUS.set(None if focus is None else frozenset(focus)), _VERDICTS.set({})
    try:
        yield
    finally:
        _FOCUS.reset(token)
        _VERDICTS.reset(memo)


#: The nodes the shapes target during one validation (``None``: every node the targets select).
_FOCUS: ContextVar[frozenset[Node] | None] = ContextVar("ioir_shacl_focus", default=None)


class _FocusedShape(Shape):
    """A pySHACL shape whose targets are limited to :data:`_FOCUS`."""

    __slots__ = ()

    def focus_nodes(self, data_graph: Graph, debug: bool = False) -> Any:
        """The shape's target nodes that are in :data:`_FOCUS` (looked up node by node, not over the whole graph)."""
        allowed = _FOCUS.get()
        if allowed is None or self._advanced or (None, RDFS.subClassOf, None) in data_graph:
            found = super().focus_nodes(data_graph, debug=debug)  # type: ignore[no-untyped-call]
            return found if allowed is None else {n for n in found if n in allowed}
        nodes, classes, implicit, objects_of, subjects_of = self.target()  # type: ignore[no-untyped-call]
        classes, objects_of, subjects_of = {*classes, *implicit}, set(objects_of), set(subjects_of)
        targeted = {n for n in nodes if n in allowed}
        for n in allowed:
            if (
                any((n, RDF.type, c) in data_graph for c in classes)
                or any((n, p, None) in data_graph for p in subjects_of)
                or any((None, p, n) in data_graph for p in objects_of)
            ):
                targeted.add(n)
        return targeted


#: The verdicts of shapes inside logical constraints on single nodes, during one validation.
_VERDICTS: ContextVar[dict[tuple[Node, Node], Any] | None] = ContextVar("ioir_shacl_verdicts", default=None)
#: Set while a shape runs inside ``sh:or``, ``sh:node``, ``sh:not``, ``sh:and`` or ``sh:xone``, whose results are
#: discarded or kept only as ``sh:detail`` (which the report does not read): building them is then skipped.
_INSIDE_LOGIC: ContextVar[bool] = ContextVar("ioir_shacl_inside_logic", default=False)


class _SubShape(_FocusedShape):
    """A shape used inside a logical constraint: its failures cost a flag, not a formatted result."""

    __slots__ = ()

    def validate(
        self, executor: Any, target_graph: Any, focus: Any = None, _evaluation_path: list[Any] | None = None
    ) -> Any:
        """As pySHACL's, with result building skipped (see :data:`_INSIDE_LOGIC`) and each verdict on a node
        remembered for the rest of the validation (:data:`_VERDICTS`)."""
        memo = _VERDICTS.get()
        key = (self.node, focus) if isinstance(focus, URIRef | BNode | Literal) else None
        if memo is not None and key is not None and key in memo:
            return memo[key]
        token = _INSIDE_LOGIC.set(True)
        try:
            verdict = super().validate(executor, target_graph, focus=focus, _evaluation_path=_evaluation_path)
        finally:
            _INSIDE_LOGIC.reset(token)
        if memo is not None and key is not None:
            memo[key] = verdict
        return verdict


def _install_cheap_results() -> None:
    """Make pySHACL skip formatting results that nothing will read (once per process; a no-op elsewhere)."""
    if getattr(ConstraintComponent.make_v_result, "_ioir_cheap", False):
        return
    original = ConstraintComponent.make_v_result

    def make_v_result(self: Any, *args: Any, **kwargs: Any) -> Any:
        if _INSIDE_LOGIC.get():  # keep the severity: pySHACL reads it to decide whether the shape conforms
            node = BNode()
            return ("", node, [(node, SH.resultSeverity, self.shape.severity)])
        return original(self, *args, **kwargs)

    make_v_result._ioir_cheap = True  # type: ignore[attr-defined]
    setattr(ConstraintComponent, "make_v_result", make_v_result)  # noqa: B010 - mypy: a method assignment


def _logical_members(shapes: Graph) -> set[Node]:
    """The shapes that ``sh:node``, ``sh:not``, ``sh:or``, ``sh:and`` and ``sh:xone`` refer to."""
    members: set[Node] = set(shapes.objects(None, SH.node)) | set(shapes.objects(None, SH["not"]))
    for keyword in ("or", "and", "xone"):
        for head in shapes.objects(None, SH[keyword]):
            members.update(Collection(shapes, head))
    return members


class PreparedQueryGraph(Graph):
    """An rdflib graph that parses each distinct SPARQL text once (pySHACL sends the same constraint query for
    every focus node, and rdflib's parser takes a tenth of a second per query)."""

    _prepared: ClassVar[dict[str, Query]] = {}

    def query(self, query_object: Any, *args: Any, **kwargs: Any) -> Any:
        """As :meth:`rdflib.Graph.query`, with query texts prepared once."""
        if isinstance(query_object, str) and not args and set(kwargs) <= {"initBindings", "initNs"}:
            prepared = self._prepared.get(query_object)
            if prepared is None:
                prepared = self._prepared[query_object] = prepareQuery(query_object)
            query_object = prepared
            kwargs.pop("initNs", None)
        return super().query(query_object, *args, **kwargs)
