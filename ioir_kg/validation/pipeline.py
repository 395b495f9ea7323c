"""The validation pipeline that ``POST /validate``, ``POST /assertions`` and ``ioir-kg validate`` share.

1. :func:`read_submission` parses the body (Turtle, JSON-LD or N-Triples; size limits; JSON-LD never fetches a
   remote context) and moves canonical entity IRIs under the configured base, as the loader does.
2. :meth:`Validator.check` refuses what a submission may not do (named graphs, ``owl:imports``, ``owl:sameAs``,
   statements about vocabulary terms or foreign IRIs, undeclared terms), adds the evidence node that the metadata's
   source and quote stand for, and fetches the stored **neighbourhood** with one CONSTRUCT: the stored triples of the
   submission's subjects, and the types, labels and the few properties the shapes look through (``skos:inScheme``,
   ``org:postIn``, ``ioir:sentBy``, ``ioir:replaced``) of every node they point to — plus the liaison arrangements
   whose post the submission describes, the one shape (S08) that reaches into another node's properties.
3. SHACL (pySHACL, shapes parsed once) validates submission + neighbourhood + their RDFS entailments (computed from
   the compiled ontology, :meth:`~ioir_kg.validation.axioms.Tbox.entailments`); only results about the submission's
   nodes count, so a stored node the neighbourhood shows only in part never reports a problem.
4. OWL: the targeted axiom checks of :func:`~ioir_kg.validation.axioms.check_axioms`, or in addition HermiT over the
   whole graph (``reasoner="hermit"``, slow: for the command line and CI).
5. Referenced entities must exist (in the store or the submission); quotes must occur verbatim in their source
   (when the source documents are available); every problem is explained with labels.

Only additions are validated, and with additions the shapes and axioms are monotonic except through the paths they
follow, so checking the submission's nodes and that neighbourhood is enough to know that the stored graph plus the
submission conforms wherever the stored graph did.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from pyoxigraph import Literal as OxLiteral
from pyoxigraph import NamedNode as OxNamedNode
from pyoxigraph import QueryTriples
from pyoxigraph import Triple as OxTriple
from pyshacl.shapes_graph import ShapesGraph
from pyshacl.validator import Validator as ShaclValidator
from rdflib import BNode, Graph, URIRef
from rdflib.namespace import DCTERMS, OWL, PROV, RDF
from rdflib.term import Node

from ioir_kg.config import Settings
from ioir_kg.errors import BadParameter
from ioir_kg.namespaces import IOIR, MAX_SLUG_CHARS, ONTOLOGY_IRI, PREFIXES, parse_entity_iri
from ioir_kg.store.base import KnowledgeStore
from ioir_kg.validation.axioms import Tbox, check_axioms, curie
from ioir_kg.validation.explain import Context, explain_axiom, explain_shape
from ioir_kg.validation.ontology_qa import load_graph, ontology_files, shacl_ontology_files
from ioir_kg.validation.owl import hermit_consistency
from ioir_kg.validation.pyshacl_speedups import PreparedQueryGraph, focused_on, restrict_targets
from ioir_kg.validation.report import ConsistencyReport, Finding, ValidationReport
from ioir_kg.validation.selectors import quote_findings
from ioir_kg.validation.shacl import ShaclOutcome, ShapeResult, ShapesError, outcome_from_report
from ioir_kg.validation.sources import SourceRegistry
from ioir_kg.validation.submission import (
    MEDIA_TYPES,
    Metadata,
    Submission,
    _iri_list,
    _triple,
    _under,
    read_submission,
    read_submission_file,
    select,
)

__all__ = [
    "MEDIA_TYPES",
    "Checked",
    "Metadata",
    "Submission",
    "Validator",
    "read_submission",
    "read_submission_file",
]

EVIDENCE = URIRef(f"{IOIR}Evidence")
SOURCE_DOCUMENT = URIRef(f"{IOIR}SourceDocument")
HAS_EVIDENCE = URIRef(f"{IOIR}evidence")
LOCATOR = URIRef(f"{IOIR}locator")
#: Namespaces whose terms a submission may use but never describe.
_VOCABULARIES = tuple(dict.fromkeys([ONTOLOGY_IRI, *PREFIXES.values()]))
#: The properties of a referenced node that the shapes and axioms look at.
_LOOKED_AT = (
    "rdf:type",
    "skos:prefLabel",
    "rdfs:label",
    "foaf:name",
    "skos:inScheme",
    "org:postIn",
    "ioir:sentBy",
    "ioir:replaced",
)
_SKIPPED = ConsistencyReport("skipped", True, "not checked: the submission was refused first")


# -- the validator -------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Checked:
    """A validated submission: the ``report`` and the ``triples`` an accepted assertion stores (the submission and
    the evidence generated from its metadata)."""

    report: ValidationReport
    triples: tuple[OxTriple, ...]


class Validator:
    """Validates submissions against the shapes and the ontology in the context of the stored graph.

    The ontology (``ioir.ttl`` + ``imports/``) and the shapes are read once from ``ontology_dir`` (default: the
    project's ``ontology/``). ``check`` is thread-safe; the SHACL step runs one submission at a time.
    """

    def __init__(self, store: KnowledgeStore, settings: Settings, *, ontology_dir: Path | None = None) -> None:
        self.store = store
        self.settings = settings
        self.ontology_dir = ontology_dir or settings.bundled_dirs[0]
        self.ontology = load_graph(shacl_ontology_files(self.ontology_dir))
        self.shapes = Graph().parse(self.ontology_dir / "shapes.ttl", format="turtle")
        self.tbox = Tbox.from_graph(self.ontology)
        self._shapes_graph = ShapesGraph(self.shapes)
        self._shape_iris = {str(i): str(s) for s, i in self.shapes.subject_objects(DCTERMS.identifier)}
        self._shacl_lock = threading.Lock()
        self._restrict_targets()
        self._warm_up()
        self.sources = SourceRegistry(store, settings)  # the registered documents and their texts
        self._prologue = "".join(f"PREFIX {p}: <{iri}>\n" for p, iri in PREFIXES.items())

    # -- metadata and evidence -----------------------------------------------------------------------------------
    def source_iri(self, source: str) -> OxNamedNode:
        """The IRI of a source document named as ``s002``, ``source/s002`` or by its IRI (:class:`BadParameter`)."""
        return OxNamedNode(self.sources.iri(self.sources.source_id(source)))

    def evidence_triples(self, submission: Submission, metadata: Metadata | None, evidence_iri: str) -> list[OxTriple]:
        """The evidence node that ``metadata``'s source and quote stand for, and an ``ioir:evidence`` link to it from
        every entity the submission describes without evidence of its own (none without a quote)."""
        if metadata is None or not (metadata.quote or metadata.source):
            return []
        if not (metadata.quote and metadata.quote.strip()) or not metadata.source:
            raise BadParameter("give both the source and the supporting quote", errors=[{"param": "quote"}])
        evidence = OxNamedNode(evidence_iri)
        rdf_type, has_evidence = OxNamedNode(str(RDF.type)), OxNamedNode(str(HAS_EVIDENCE))
        added = [
            OxTriple(evidence, rdf_type, OxNamedNode(str(EVIDENCE))),
            OxTriple(evidence, OxNamedNode(str(DCTERMS.source)), self.source_iri(metadata.source)),
            OxTriple(evidence, OxNamedNode(str(PROV.value)), OxLiteral(" ".join(metadata.quote.split()))),
        ]
        if metadata.locator:
            added.append(OxTriple(evidence, OxNamedNode(str(LOCATOR)), OxLiteral(metadata.locator.strip())))
        cited = {t.subject for t in submission.triples if t.predicate == has_evidence}
        own = {
            t.subject
            for t in submission.triples
            if t.predicate == rdf_type and t.object in (OxNamedNode(str(EVIDENCE)), OxNamedNode(str(SOURCE_DOCUMENT)))
        }
        for subject in dict.fromkeys(t.subject for t in submission.triples):
            if isinstance(subject, OxNamedNode) and subject not in cited and subject not in own:
                added.append(OxTriple(subject, has_evidence, evidence))
        return added

    # -- the pipeline --------------------------------------------------------------------------------------------
    def check(
        self,
        submission: Submission,
        metadata: Metadata | None = None,
        *,
        evidence_iri: str | None = None,
        reasoner: str = "axioms",
    ) -> Checked:
        """Validate ``submission`` (with the evidence its ``metadata`` stands for) against the stored graph.

        ``evidence_iri`` names the generated evidence node (default: a placeholder). ``reasoner="hermit"`` adds
        HermiT's verdict over the whole graph (seconds; :class:`ReasonerUnavailable` without Java).
        """
        started = time.perf_counter()
        refused = self._policy(submission)
        if refused:
            report = ValidationReport.build(refused, _SKIPPED, triples=len(submission.triples))
            return Checked(report, submission.triples)
        iri = evidence_iri or f"{self.settings.id_base}evidence/assertion-unsaved"
        triples = (*submission.triples, *self.evidence_triples(submission, metadata, iri))
        delta = {_triple(t) for t in triples}
        graph = self._neighbourhood(delta)
        focus = {s for s, _, _ in delta} | self._referrers(graph, delta)
        outcome = self.shacl(graph, focus)
        shape_results = [r for r in outcome.results if _focus_node(r) in focus]
        violations = check_axioms(self.tbox, graph, delta)
        context = Context(graph, self.tbox, self.shapes, self.settings.id_base, delta, where=self._where)
        findings = [explain_shape(r, context, self._shape_iris.get(r.shape_id or "")) for r in shape_results]
        findings += [explain_axiom(v, context) for v in violations]
        findings += self._unknown_references(graph, delta, shape_results, context)
        findings += self._quotes(delta)
        consistency = ConsistencyReport(
            "axioms",
            not violations,
            f"{len(violations)} axiom(s) violated" if violations else "no axiom is violated",
            self.tbox.axiom_count,
        )
        if reasoner == "hermit":
            consistency, extra = self._hermit(triples)
            findings += extra
        elapsed = (time.perf_counter() - started) * 1000
        return Checked(ValidationReport.build(findings, consistency, triples=len(delta), elapsed_ms=elapsed), triples)

    # -- 1. policy -----------------------------------------------------------------------------------------------
    def _policy(self, submission: Submission) -> list[Finding]:
        found: dict[tuple[str, str], Finding] = {}

        def refuse(rule: str, focus: str, explanation: str, message: str, path: str | None = None) -> None:
            found.setdefault((rule, focus), Finding(rule, "policy", "Violation", message, explanation, focus, path))

        for graph in submission.named_graphs:
            refuse(
                "no-named-graphs",
                graph,
                f"The submission puts triples in the named graph {graph}; send plain triples: the server chooses the "
                "graph of an accepted assertion.",
                "A submission holds triples, not named graphs.",
            )
        id_base = self.settings.id_base
        for t in submission.triples:
            s, p, o = str(getattr(t.subject, "value", t.subject)), t.predicate.value, t.object
            if p == str(OWL.imports):
                refuse(
                    "no-owl-imports",
                    s,
                    "owl:imports is not accepted: nothing is fetched for a submission.",
                    "Submissions may not import other documents (owl:imports).",
                    p,
                )
            elif p == str(OWL.sameAs):
                refuse(
                    "no-owl-sameAs",
                    s,
                    f"owl:sameAs is not accepted in submissions (on {s}); propose "
                    "skos:closeMatch instead — identity links are kept in data/ after a person checks them.",
                    "Submissions may propose skos:closeMatch, never owl:sameAs.",
                    p,
                )
            if isinstance(t.subject, OxNamedNode):
                if _under(s, _VOCABULARIES):
                    refuse(
                        "no-vocabulary-terms",
                        s,
                        f"{curie(URIRef(s))} is a term of the vocabulary: submissions "
                        "describe entities, never classes or properties.",
                        "Submissions may not describe terms of the ontology or the reused vocabularies.",
                    )
                elif not s.startswith(id_base):
                    refuse(
                        "own-namespace",
                        s,
                        f"{s} is not an entity IRI of this graph: describe entities as {id_base}{{kind}}/{{slug}}.",
                        "Submissions describe entities of this graph only.",
                    )
                elif parse_entity_iri(self.settings.base_uri, s) is None:
                    refuse(
                        "entity-iri",
                        s,
                        f"{s} is not of the form {id_base}{{kind}}/{{slug}} with a known kind and a "
                        f"slug of at most {MAX_SLUG_CHARS} lowercase letters, digits and single hyphens.",
                        "Entity IRIs are {base}id/{kind}/{slug}.",
                    )
            if p in (str(OWL.imports), str(OWL.sameAs)):
                continue
            if URIRef(p) not in self.tbox.declared:
                refuse(
                    "undeclared-term",
                    p,
                    f"{curie(URIRef(p))} is not a property of the ioir-kg vocabulary "
                    "(ontology/ioir.ttl and the reused terms in ontology/imports/).",
                    "Submissions use only terms the ontology declares.",
                    p,
                )
            elif p == str(RDF.type) and isinstance(o, OxNamedNode) and URIRef(o.value) not in self.tbox.classes:
                refuse(
                    "undeclared-term",
                    o.value,
                    f"{curie(URIRef(o.value))} is not a class of the ioir-kg vocabulary.",
                    "Submissions use only terms the ontology declares.",
                    p,
                )
        return list(found.values())

    # -- 2. the neighbourhood ------------------------------------------------------------------------------------
    def _neighbourhood(self, delta: set[tuple[Node, Node, Node]]) -> Graph:
        """The submission and, from the store, what the shapes and axioms need around it (one CONSTRUCT)."""
        graph = Graph()
        for triple in delta:
            graph.add(triple)
        subjects = _iri_list(s for s, _, _ in delta)
        objects = _iri_list(o for _, p, o in delta if p != RDF.type)
        # FILTER(?q IN …) rather than a second VALUES block: two VALUES make the planner scan every quad.
        looked_at = f"GRAPH ?g {{ ?n ?q ?v }} FILTER(?q IN ({', '.join(_LOOKED_AT)}))"
        branches = []
        if subjects:
            branches += [
                f"{{ VALUES ?s {{ {subjects} }} GRAPH ?g {{ ?s ?p ?o }} }}",
                f"{{ VALUES ?x {{ {subjects} }} GRAPH ?g0 {{ ?s ioir:liaisonPost ?x }} GRAPH ?g {{ ?s ?p ?o }} }}",
                f"{{ VALUES ?s0 {{ {subjects} }} GRAPH ?g0 {{ ?s0 ?p0 ?n }} FILTER(isIRI(?n)) {looked_at} }}",
                f"{{ VALUES ?x {{ {subjects} }} GRAPH ?g0 {{ ?r ioir:liaisonPost ?x }} GRAPH ?g1 {{ ?r ?p0 ?n }} "
                f"FILTER(isIRI(?n)) {looked_at} }}",
            ]
        if objects:
            branches.append(f"{{ VALUES ?n {{ {objects} }} {looked_at} }}")
        if not branches:
            return graph
        query = f"{self._prologue}CONSTRUCT {{ ?s ?p ?o . ?n ?q ?v }} WHERE {{ {' UNION '.join(branches)} }}"
        result = self.store.query(query)
        if isinstance(result, QueryTriples):
            for t in result:
                graph.add(_triple(t))
        del result
        return graph

    def _referrers(self, graph: Graph, delta: set[tuple[Node, Node, Node]]) -> set[Node]:
        """Stored liaison arrangements whose liaison post the submission describes (shape S08 looks into posts)."""
        subjects = {s for s, _, _ in delta}
        post = URIRef(f"{IOIR}liaisonPost")
        return {r for r, _, x in graph.triples((None, post, None)) if x in subjects}

    def _where(self, node: Node, cls: URIRef) -> str | None:
        """The stored graph that gives ``node`` the class ``cls``, shortened (``data/002-…``)."""
        if not isinstance(node, URIRef):
            return None
        rows = select(self.store, f"SELECT ?g WHERE {{ GRAPH ?g {{ <{node}> a <{cls}> }} }} ORDER BY ?g LIMIT 1")
        for row in rows:
            graph = row["g"] or ""
            for prefix in (self.settings.graph_base, self.settings.base_uri):
                if graph.startswith(prefix):
                    return graph[len(prefix) :]
            return graph
        return None

    # -- 3. SHACL ------------------------------------------------------------------------------------------------
    def _restrict_targets(self) -> None:
        """Make each shape's targets only a validation's focus nodes (:mod:`ioir_kg.validation.pyshacl_speedups`)."""
        restrict_targets(self._shapes_graph, self.shapes)

    def _warm_up(self) -> None:
        """Validate a tiny graph once, so that the shapes' SPARQL constraints are parsed before the first request."""
        base = self.settings.id_base
        graph = Graph().parse(
            format="turtle",
            data=f"""@prefix ioir: <{IOIR}> . @prefix org: <http://www.w3.org/ns/org#> .
            <{base}mission/a> a ioir:Mission ; ioir:startDate "2001" ; ioir:endDate "2000" ;
                ioir:replaced <{base}mission/b> .
            <{base}dependency/c> a ioir:ResourceDependency ; ioir:startDate "2001" ; ioir:endDate "2000" .
            <{base}event/d> a org:ChangeEvent ; org:originalOrganization <{base}mission/b> ;
                org:resultingOrganization <{base}mission/a> .""",
        )
        self.shacl(graph)

    def shacl(self, graph: Graph, focus: set[Node] | None = None) -> ShaclOutcome:
        """Validate ``graph`` (asserted triples; the RDFS entailments are added here) with the shapes, as pySHACL's
        ``inference="rdfs"`` with the ontology would, looking only at the targets in ``focus`` (``None``: all)."""
        data = PreparedQueryGraph()
        for triple in graph:
            data.add(triple)
        for triple in self.tbox.entailments(graph):
            data.add(triple)
        options = {"inference": "none", "advanced": False, "allow_warnings": True, "inplace": True}
        with self._shacl_lock, focused_on(focus):
            runner = ShaclValidator(data, shacl_graph=self.shapes, options=options)
            runner.shacl_graph = self._shapes_graph  # parsed once: the shapes never change
            conforms, report, text = runner.run()  # type: ignore[no-untyped-call]
        if not isinstance(report, Graph):
            raise ShapesError(f"pySHACL could not validate with these shapes: {text}")
        return outcome_from_report(report, self.shapes, conforms=bool(conforms))

    # -- 5. references and quotes ----------------------------------------------------------------------------------
    def _unknown_references(
        self, graph: Graph, delta: set[tuple[Node, Node, Node]], shapes: list[ShapeResult], context: Context
    ) -> list[Finding]:
        """Links to entity IRIs that neither the store nor the submission describes (where S14 did not say so)."""
        reported = {(r.focus, r.value) for r in shapes if r.shape_id == "S14"}
        found: list[Finding] = []
        for s, p, o in sorted(delta, key=str):
            if p == RDF.type or not isinstance(o, URIRef) or not str(o).startswith(self.settings.id_base):
                continue
            if (o, RDF.type, None) in graph or (str(s), str(o)) in reported:
                continue
            found.append(
                Finding(
                    "known-entity",
                    "reference",
                    "Violation",
                    "Every entity a statement points to must exist in the graph or in the submission.",
                    f"{context.name(s)} points to {o} ({context.term(p)}), which is neither stored nor described in "
                    "this submission.",
                    str(s),
                    str(p),
                    str(o),
                    focus_label=context.plain(s),
                    path_label=context.term(p),
                )
            )
        return found

    def _quotes(self, delta: set[tuple[Node, Node, Node]]) -> list[Finding]:
        """Each evidence quote checked against its registered source's text (:mod:`ioir_kg.validation.selectors`)."""
        graph = Graph()
        for triple in delta:
            graph.add(triple)
        items = [
            (str(e), str(graph.value(e, DCTERMS.source)), str(graph.value(e, PROV.value)))
            for e in sorted((s for s, p, o in delta if p == RDF.type and o == EVIDENCE), key=str)
            if graph.value(e, PROV.value)
        ]
        return quote_findings(self.sources, items)

    # -- 4. HermiT over the whole graph ----------------------------------------------------------------------------
    def _hermit(self, triples: Iterable[OxTriple]) -> tuple[ConsistencyReport, list[Finding]]:
        """HermiT over the ontology, every stored graph but the ontology's and the submission (raises
        :class:`~ioir_kg.validation.owl.ReasonerUnavailable` or ``ReasonerFailed`` when it cannot answer)."""
        graph = load_graph(ontology_files(self.ontology_dir))
        skip = f"{self.settings.graph_base}ontology/"
        for quad in self.store.quads():
            if isinstance(quad.graph_name, OxNamedNode) and quad.graph_name.value.startswith(skip):
                continue
            graph.add(_triple(quad.triple))
        for t in triples:
            graph.add(_triple(t))
        verdict = hermit_consistency(graph, timeout_s=max(self.settings.query_timeout, 120))
        if verdict.ok:
            return ConsistencyReport("hermit", True, "HermiT: consistent, no unsatisfiable class"), []
        finding = Finding(
            "owl:consistency",
            "axiom",
            "Violation",
            "The graph with the submission must be consistent (HermiT).",
            f"HermiT finds the stored graph with this submission {verdict.message}.",
            source="HermiT " + ("consistency" if not verdict.consistent else "class satisfiability"),
        )
        return ConsistencyReport("hermit", False, f"HermiT: {verdict.message}"), [finding]


def _focus_node(result: ShapeResult) -> Node | None:
    if result.focus.startswith("_:"):
        return BNode(result.focus[2:])
    return URIRef(result.focus) if result.focus else None


def _shorten(text: str, limit: int = 80) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"
