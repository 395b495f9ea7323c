"""The validation report: what was checked, each problem in SHACL terms and in plain language.

One :class:`ValidationReport` answers ``POST /validate``, the ``422`` of ``POST /assertions`` and
``ioir-kg validate``. It is rendered as JSON (:meth:`~ValidationReport.to_json`), as a SHACL
``sh:ValidationReport`` in Turtle (:meth:`~ValidationReport.to_turtle`), as text and as HTML.

>>> report = ValidationReport.build(
...     [Finding("S05", "shape", "Violation", "A mission must be launched by an organization.",
...              "The launching organization of a mission must be an organization, but “X” is a person.",
...              focus="https://w3id.org/ioir/id/mission/m", path="https://w3id.org/ioir/ontology#launchedBy",
...              value="https://w3id.org/ioir/id/person/x")],
...     ConsistencyReport("axioms", True, "no axiom is violated"), triples=3)
>>> report.conforms, sorted(report.rules)
(False, ['S05'])
>>> print(report.to_text().splitlines()[0])
does not conform: 1 violation, 0 warnings (3 triples checked; OWL: no axiom is violated)
"""

from __future__ import annotations

import html
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from rdflib import BNode, Graph, Literal, Namespace, URIRef
from rdflib.namespace import DCTERMS, RDF, RDFS, SH
from rdflib.util import from_n3

__all__ = ["ConsistencyReport", "Finding", "ValidationReport"]

#: The kinds of rule a finding can come from.
KINDS = ("policy", "shape", "axiom", "reference", "evidence")
_SEVERITY_IRI = {"Violation": SH.Violation, "Warning": SH.Warning, "Info": SH.Info}
IOIR = Namespace("https://w3id.org/ioir/ontology#")


@dataclass(frozen=True)
class Finding:
    """One problem found in a submission.

    ``rule`` names what was broken: a shape ID (``"S05"``), an OWL axiom kind (``"owl:disjointWith"``), a policy
    (``"no-owl-sameAs"``), ``"known-entity"`` or ``"verbatim-quote"``; ``kind`` is one of :data:`KINDS`. ``message``
    is the rule's own wording, ``explanation`` the same problem told with the names of the entities involved.
    ``focus``, ``path`` and ``value`` are IRIs (literals in N-Triples form); ``source`` is the shape IRI or the
    axiom, and the ``*_label`` fields the names shown to people.
    """

    rule: str
    kind: str
    severity: str
    message: str
    explanation: str
    focus: str | None = None
    path: str | None = None
    value: str | None = None
    source: str | None = None
    focus_label: str | None = None
    path_label: str | None = None
    value_label: str | None = None

    def to_json(self) -> dict[str, Any]:
        """The finding as a JSON object (absent values left out)."""
        names = {
            "rule": self.rule,
            "kind": self.kind,
            "severity": self.severity,
            "focus": self.focus,
            "focusLabel": self.focus_label,
            "path": self.path,
            "pathLabel": self.path_label,
            "value": self.value,
            "valueLabel": self.value_label,
            "source": self.source,
            "message": self.message,
            "explanation": self.explanation,
        }
        return {key: value for key, value in names.items() if value is not None}


@dataclass(frozen=True)
class ConsistencyReport:
    """The OWL check: which ``reasoner`` ran (``"axioms"``: the targeted checks of
    :mod:`ioir_kg.validation.axioms`; ``"hermit"``: HermiT over the whole graph; ``"skipped"``), its verdict and a
    one-line ``message``; ``axioms`` counts the axioms the targeted checks use."""

    reasoner: str
    consistent: bool
    message: str
    axioms: int = 0

    def to_json(self) -> dict[str, Any]:
        """The verdict as a JSON object."""
        return {"reasoner": self.reasoner, "consistent": self.consistent, "message": self.message}


@dataclass(frozen=True)
class ValidationReport:
    """The outcome of validating a submission: ``conforms`` (no finding of severity Violation), the findings, the
    OWL verdict and how many triples were checked."""

    conforms: bool
    results: tuple[Finding, ...]
    consistency: ConsistencyReport
    triples: int = 0
    elapsed_ms: float = field(default=0.0, compare=False)

    @classmethod
    def build(
        cls, results: Iterable[Finding], consistency: ConsistencyReport, *, triples: int, elapsed_ms: float = 0.0
    ) -> ValidationReport:
        """A report over ``results`` (sorted by severity, rule and focus), conforming when none is a Violation."""
        order = {"Violation": 0, "Warning": 1, "Info": 2}
        ordered = tuple(
            sorted(
                results, key=lambda r: (order.get(r.severity, 3), r.rule, r.focus or "", r.path or "", r.value or "")
            )
        )
        conforms = not any(r.severity == "Violation" for r in ordered) and consistency.consistent
        return cls(conforms, ordered, consistency, triples, elapsed_ms)

    @property
    def rules(self) -> frozenset[str]:
        """The rules with at least one finding."""
        return frozenset(r.rule for r in self.results)

    @property
    def violations(self) -> tuple[Finding, ...]:
        """The findings of severity Violation."""
        return tuple(r for r in self.results if r.severity == "Violation")

    def _counts(self) -> tuple[int, int]:
        warnings = sum(1 for r in self.results if r.severity == "Warning")
        return len(self.violations), warnings

    def summary(self) -> str:
        """One line: the verdict and the counts."""
        violations, warnings = self._counts()
        verdict = "conforms" if self.conforms else "does not conform"
        plural = "" if violations == 1 else "s"
        return (
            f"{verdict}: {violations} violation{plural}, {warnings} warning{'' if warnings == 1 else 's'} "
            f"({self.triples} triples checked; OWL: {self.consistency.message})"
        )

    def to_json(self) -> dict[str, Any]:
        """The report as a JSON object."""
        violations, warnings = self._counts()
        return {
            "conforms": self.conforms,
            "summary": self.summary(),
            "violations": violations,
            "warnings": warnings,
            "triples": self.triples,
            "consistency": self.consistency.to_json(),
            "results": [r.to_json() for r in self.results],
            "elapsedMs": round(self.elapsed_ms, 1),
        }

    def to_text(self) -> str:
        """The report for a terminal: the summary, then one block per finding."""
        lines = [self.summary()]
        for r in self.results:
            where = " ".join(x for x in (r.focus, r.path, r.value) if x)
            lines.append(f"- [{r.severity}] {r.rule}: {r.explanation}")
            if where:
                lines.append(f"    at {where}")
            if r.source:
                lines.append(f"    rule: {r.source}")
        return "\n".join(lines) + "\n"

    def to_graph(self) -> Graph:
        """The report as an RDF graph: a ``sh:ValidationReport`` with one ``sh:ValidationResult`` per finding."""
        graph = Graph()
        graph.bind("sh", SH)
        graph.bind("dcterms", DCTERMS)
        graph.bind("ioir", IOIR)
        report = BNode()
        graph.add((report, RDF.type, SH.ValidationReport))
        graph.add((report, SH.conforms, Literal(self.conforms)))
        graph.add((report, RDFS.comment, Literal(self.summary(), lang="en")))
        for finding in self.results:
            node = BNode()
            graph.add((report, SH.result, node))
            graph.add((node, RDF.type, SH.ValidationResult))
            graph.add((node, SH.resultSeverity, _SEVERITY_IRI.get(finding.severity, SH.Violation)))
            graph.add((node, DCTERMS.identifier, Literal(finding.rule)))
            graph.add((node, SH.resultMessage, Literal(finding.message, lang="en")))
            graph.add((node, SH.resultMessage, Literal(finding.explanation, lang="en")))
            if finding.focus:
                graph.add((node, SH.focusNode, _term(finding.focus)))
            if finding.path and not finding.path.startswith(("(", "^")):
                graph.add((node, SH.resultPath, URIRef(finding.path)))
            if finding.value:
                graph.add((node, SH.value, _term(finding.value)))
            if finding.kind == "shape" and finding.source and finding.source.startswith("http"):
                graph.add((node, SH.sourceShape, URIRef(finding.source)))
            elif finding.source:
                graph.add((node, RDFS.comment, Literal(finding.source)))
        return graph

    def to_turtle(self) -> str:
        """The report as a SHACL validation report in Turtle."""
        return self.to_graph().serialize(format="turtle")

    def to_html(self) -> str:
        """The report as a small HTML page (a table of findings)."""
        esc = html.escape
        rows = "".join(
            "<tr>"
            f"<td>{esc(r.severity)}</td><td><code>{esc(r.rule)}</code></td>"
            f"<td>{esc(r.explanation)}</td>"
            f"<td>{_cell(r.focus, r.focus_label)}</td><td>{_cell(r.path, r.path_label)}</td>"
            f"<td>{_cell(r.value, r.value_label)}</td><td><small>{esc(r.source or '')}</small></td>"
            "</tr>"
            for r in self.results
        )
        table = (
            "<table><thead><tr><th>Severity</th><th>Rule</th><th>Problem</th><th>Focus</th><th>Property</th>"
            f"<th>Value</th><th>Shape or axiom</th></tr></thead><tbody>{rows}</tbody></table>"
            if self.results
            else "<p>No problems found.</p>"
        )
        status = "conforms" if self.conforms else "nonconforming"
        return (
            '<!DOCTYPE html><html lang="en"><head><meta charset="utf-8"><title>Validation report</title></head>'
            f'<body><h1>Validation report</h1><p class="{status}">{esc(self.summary())}</p>{table}</body></html>'
        )


def _cell(iri: str | None, label: str | None) -> str:
    if not iri:
        return ""
    shown = html.escape(label or iri)
    if iri.startswith(("http://", "https://")):
        return f'<a href="{html.escape(iri, quote=True)}">{shown}</a>'
    return shown


def _term(text: str) -> URIRef | Literal | BNode:
    """An IRI, a blank node (``_:b``) or a literal in N-Triples form back as an rdflib term."""
    if text.startswith('"'):
        term = from_n3(text)
        if isinstance(term, Literal):
            return term
        return Literal(text)
    if text.startswith("_:"):
        return BNode(text[2:])
    return URIRef(text)
