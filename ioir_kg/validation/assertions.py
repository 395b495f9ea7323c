"""Accepted assertions: validated submissions stored, with their provenance, in named graphs of their own.

``submit`` validates a submission (:mod:`ioir_kg.validation.pipeline`) and, when it conforms, writes it with its
generated evidence and a PROV description into a new graph ``{base}assertion/{uuid}``, in one transaction and under
a lock, after checking again if the store changed while it was validated; otherwise it raises
:class:`SubmissionRejected` (HTTP 422) and writes nothing. The provenance lives in the graph it describes::

    <{base}assertion/{uuid}> a prov:Entity ;
        prov:wasAttributedTo <{base}id/contributor/{name}> ;
        prov:generatedAtTime "…"^^xsd:dateTime ;
        prov:wasDerivedFrom <{base}id/evidence/assertion-{uuid}> ;   # the quote and its source
        dcterms:source <{base}id/source/s002> ;
        rdfs:comment "…" .

so that listing, reading and retracting an assertion touch that graph alone.
"""

from __future__ import annotations

import re
import threading
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from pyoxigraph import Literal, NamedNode, Quad, Triple

from ioir_kg.config import Settings
from ioir_kg.errors import AssertionRejected, BadParameter, Conflict, Forbidden, ResourceNotFound
from ioir_kg.namespaces import RDF_TYPE_NODE as RDF_TYPE
from ioir_kg.namespaces import SLUG
from ioir_kg.store.base import KnowledgeStore
from ioir_kg.store.inference import inferred_graph_iri, materialise
from ioir_kg.validation.owl import ReasonerUnavailable
from ioir_kg.validation.pipeline import Checked, Metadata, Submission, Validator
from ioir_kg.validation.report import ValidationReport
from ioir_kg.validation.selectors import selector_triples
from ioir_kg.validation.submission import select

__all__ = ["Accepted", "AssertionRecord", "AssertionService", "SubmissionRejected"]

RDFS_LABEL = NamedNode("http://www.w3.org/2000/01/rdf-schema#label")
RDFS_COMMENT = NamedNode("http://www.w3.org/2000/01/rdf-schema#comment")
PROV = "http://www.w3.org/ns/prov#"
XSD_DATETIME = NamedNode("http://www.w3.org/2001/XMLSchema#dateTime")
DCTERMS_SOURCE = NamedNode("http://purl.org/dc/terms/source")
EVIDENCE_CLASS = NamedNode("https://w3id.org/ioir/ontology#Evidence")
_UUID = "[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}"
_PREFIXES = (
    "PREFIX prov: <http://www.w3.org/ns/prov#>\nPREFIX dcterms: <http://purl.org/dc/terms/>\n"
    "PREFIX rdfs: <http://www.w3.org/2000/01/rdf-schema#>\n"
)


class SubmissionRejected(AssertionRejected):
    """A submission that does not conform: 422 with the report's findings in ``errors``; nothing was written."""

    def __init__(self, report: ValidationReport) -> None:
        super().__init__(
            f"the assertion was rejected, nothing was written: {report.summary()}",
            errors=[r.to_json() for r in report.results],
        )
        self.report = report


@dataclass(frozen=True)
class AssertionRecord:
    """An accepted assertion as listed: its id, graph, location, who submitted it and when, its source and quote,
    the comment and how many triples the graph holds."""

    id: str
    graph: str
    contributor: str
    generated_at: str
    source: str | None = None
    quote: str | None = None
    comment: str | None = None
    triples: int | None = None

    @property
    def location(self) -> str:
        """The assertion's path in the API."""
        return f"/assertions/{self.id}"

    def to_json(self) -> dict[str, Any]:
        """The record as a JSON object."""
        body = {
            "id": self.id,
            "graph": self.graph,
            "location": self.location,
            "contributor": self.contributor,
            "generatedAtTime": self.generated_at,
            "source": self.source,
            "quote": self.quote,
            "comment": self.comment,
            "triples": self.triples,
        }
        return {key: value for key, value in body.items() if value is not None}


@dataclass(frozen=True)
class Accepted:
    """A stored assertion and the report it passed with."""

    record: AssertionRecord
    report: ValidationReport

    def to_json(self) -> dict[str, Any]:
        """The ``201`` body: the record and the report."""
        return {**self.record.to_json(), "report": self.report.to_json()}


class AssertionService:
    """Validate, store, list, read and retract assertions over one store (what the routes and the CLI call)."""

    def __init__(self, store: KnowledgeStore, settings: Settings, *, validator: Validator | None = None) -> None:
        self.store = store
        self.settings = settings
        self._validator = validator
        self._init_lock = threading.Lock()
        self._hermit_lock = threading.Lock()
        #: Serialises writes of assertions: validation again under it when the store changed, then one transaction.
        self.write_lock = threading.Lock()

    @property
    def validator(self) -> Validator:
        """The validator (the ontology and shapes are read on first use)."""
        if self._validator is None:
            with self._init_lock:
                if self._validator is None:
                    self._validator = Validator(self.store, self.settings)
        return self._validator

    @property
    def graph_prefix(self) -> str:
        """Every assertion graph's IRI starts with this: ``{base}assertion/``."""
        return f"{self.settings.base_uri}assertion/"

    # -- validate and submit ------------------------------------------------------------------------------------
    def validate(
        self, submission: Submission, metadata: Metadata | None = None, *, reasoner: str = "axioms"
    ) -> ValidationReport:
        """The report on ``submission`` in the context of the stored graph; nothing is written.

        With ``reasoner="hermit"`` (HermiT over the whole graph, seconds and a large heap) one check runs at a time;
        another one meanwhile gets :class:`~ioir_kg.validation.owl.ReasonerUnavailable` (503).
        """
        if reasoner != "hermit":
            return self.validator.check(submission, metadata, reasoner=reasoner).report
        if not self._hermit_lock.acquire(blocking=False):
            raise ReasonerUnavailable("HermiT is checking another submission: try again in a moment")
        try:
            return self.validator.check(submission, metadata, reasoner=reasoner).report
        finally:
            self._hermit_lock.release()

    def submit(self, submission: Submission, metadata: Metadata | None, *, submitter: str, admin: bool) -> Accepted:
        """Store a conforming submission in a new graph with its provenance; :class:`SubmissionRejected` if not.

        ``submitter`` is the name of the contributor whose token came with it (``admin`` for the admin token); the
        admin may credit another contributor through ``metadata.contributor``.
        """
        contributor = self._contributor(metadata, submitter, admin=admin)
        assertion_id = str(uuid.uuid4())
        evidence_iri = f"{self.settings.id_base}evidence/assertion-{assertion_id}"
        before = getattr(self.store, "generation", None)
        checked = self.validator.check(submission, metadata, evidence_iri=evidence_iri)
        if not checked.report.conforms:
            raise SubmissionRejected(checked.report)
        with self.write_lock:
            if before is None or getattr(self.store, "generation", None) != before:
                checked = self.validator.check(submission, metadata, evidence_iri=evidence_iri)
                if not checked.report.conforms:
                    raise SubmissionRejected(checked.report)
            record, quads = self._quads(assertion_id, checked, metadata, contributor)
            self.store.add_quads(quads)
            materialise(self.store, self.settings)  # the entailments follow the accepted assertion
        return Accepted(record, checked.report)

    def _contributor(self, metadata: Metadata | None, submitter: str, *, admin: bool) -> str:
        wanted = (metadata.contributor or "").strip() if metadata else ""
        if not wanted or wanted == submitter:
            return submitter
        if not admin:
            raise Forbidden("a contributor submits under their own name; only the admin token may credit another")
        if not SLUG.match(wanted):
            raise BadParameter(
                f"contributor {wanted!r}: use lowercase letters, digits and hyphens", errors=[{"param": "contributor"}]
            )
        return wanted

    def _quads(
        self, assertion_id: str, checked: Checked, metadata: Metadata | None, contributor: str
    ) -> tuple[AssertionRecord, list[Quad]]:
        graph_iri = f"{self.graph_prefix}{assertion_id}"
        graph = NamedNode(graph_iri)
        agent = NamedNode(f"{self.settings.id_base}contributor/{contributor}")
        now = datetime.now(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")
        prov: list[Triple] = [
            Triple(graph, RDF_TYPE, NamedNode(f"{PROV}Entity")),
            Triple(graph, NamedNode(f"{PROV}wasAttributedTo"), agent),
            Triple(graph, NamedNode(f"{PROV}generatedAtTime"), Literal(now, datatype=XSD_DATETIME)),
            Triple(agent, RDF_TYPE, NamedNode(f"{PROV}Agent")),
            Triple(agent, RDFS_LABEL, Literal(contributor)),
        ]
        evidence = sorted(
            {t.subject for t in checked.triples if t.predicate == RDF_TYPE and t.object == EVIDENCE_CLASS}, key=str
        )
        prov += [Triple(graph, NamedNode(f"{PROV}wasDerivedFrom"), e) for e in evidence]
        prov += self._selectors(checked, evidence)
        source = quote = comment = None
        if metadata is not None and metadata.source and metadata.quote:
            source_node = self.validator.source_iri(metadata.source)
            prov.append(Triple(graph, DCTERMS_SOURCE, source_node))
            source, quote = source_node.value, " ".join(metadata.quote.split())
        if metadata is not None and metadata.comment and metadata.comment.strip():
            comment = metadata.comment.strip()
            prov.append(Triple(graph, RDFS_COMMENT, Literal(comment)))
        triples = list(dict.fromkeys((*checked.triples, *prov)))
        record = AssertionRecord(assertion_id, graph_iri, contributor, now, source, quote, comment, len(triples))
        return record, [Quad(t.subject, t.predicate, t.object, graph) for t in triples]

    def _selectors(self, checked: Checked, evidence: list[Any]) -> list[Triple]:
        """Where each evidence quote sits in its source's text (W3C Web Annotation selectors)."""
        sources, found = self.validator.sources, []
        values = {(t.subject, t.predicate): t.object.value for t in checked.triples if isinstance(t.object, Literal)}
        refs = {
            t.subject: str(t.object.value)
            for t in checked.triples
            if t.predicate == DCTERMS_SOURCE and isinstance(t.object, NamedNode)
        }
        for node in evidence:
            quote, source = values.get((node, NamedNode(f"{PROV}value"))), refs.get(node)
            if isinstance(node, NamedNode) and quote and source and source.startswith(sources.prefix):
                text = sources.text(source[len(sources.prefix) :])
                found += selector_triples(node.value, text, quote)
        return found

    # -- read ----------------------------------------------------------------------------------------------------
    def _graph(self, assertion_id: str) -> str:
        if not re.fullmatch(_UUID, assertion_id):
            raise ResourceNotFound(f"there is no assertion {assertion_id!r} (ids are UUIDs)")
        graph = f"{self.graph_prefix}{assertion_id}"
        if not self.store.has_graph(graph):
            raise ResourceNotFound(f"there is no assertion {assertion_id} (it may have been retracted)")
        return graph

    def _records(self, graphs: list[str] | None, *, limit: int, offset: int) -> list[AssertionRecord]:
        values = f"VALUES ?g {{ {' '.join(f'<{g}>' for g in graphs)} }}" if graphs is not None else ""
        query = (
            _PREFIXES
            + f"""
            SELECT ?g (SAMPLE(?t) AS ?time) (SAMPLE(?a) AS ?agent) (SAMPLE(?c) AS ?comment) (SAMPLE(?src) AS ?source)
                   (SAMPLE(?q) AS ?quote)
            WHERE {{
              {values}
              GRAPH ?g {{
                ?g prov:generatedAtTime ?t ; prov:wasAttributedTo ?a .
                OPTIONAL {{ ?g rdfs:comment ?c }} OPTIONAL {{ ?g dcterms:source ?src }}
                OPTIONAL {{ ?g prov:wasDerivedFrom ?e . ?e prov:value ?q }}
              }}
              FILTER(STRSTARTS(STR(?g), "{self.graph_prefix}"))
            }} GROUP BY ?g ORDER BY DESC(?time) ?g LIMIT {limit} OFFSET {offset}"""
        )
        rows = select(self.store, query)
        counts = self._counts([row["g"] or "" for row in rows])
        agent_prefix = f"{self.settings.id_base}contributor/"
        records = []
        for row in rows:
            graph, agent = row["g"] or "", row["agent"] or ""
            records.append(
                AssertionRecord(
                    id=graph[len(self.graph_prefix) :],
                    graph=graph,
                    contributor=agent[len(agent_prefix) :] if agent.startswith(agent_prefix) else agent,
                    generated_at=row["time"] or "",
                    source=row["source"],
                    quote=row["quote"],
                    comment=row["comment"],
                    triples=counts.get(graph),
                )
            )
        return records

    def _counts(self, graphs: list[str]) -> dict[str, int]:
        if not graphs:
            return {}
        values = " ".join(f"<{g}>" for g in graphs)
        query = f"SELECT ?g (COUNT(*) AS ?n) WHERE {{ VALUES ?g {{ {values} }} GRAPH ?g {{ ?s ?p ?o }} }} GROUP BY ?g"
        return {row["g"] or "": int(row["n"] or 0) for row in select(self.store, query)}

    def listing(self, *, page: int = 1, per_page: int = 20) -> tuple[list[AssertionRecord], int]:
        """One page of accepted assertions, newest first, and how many there are."""
        query = _PREFIXES + (
            "SELECT (COUNT(DISTINCT ?g) AS ?n) WHERE { GRAPH ?g { ?g prov:generatedAtTime ?t } "
            f'FILTER(STRSTARTS(STR(?g), "{self.graph_prefix}")) }}'
        )
        total = next((int(row["n"] or 0) for row in select(self.store, query)), 0)
        return self._records(None, limit=per_page, offset=(page - 1) * per_page), total

    def get(self, assertion_id: str) -> tuple[AssertionRecord, list[Triple]]:
        """An assertion's record and the triples of its graph (:class:`ResourceNotFound` if there is none)."""
        graph = self._graph(assertion_id)
        records = self._records([graph], limit=1, offset=0)
        if not records:
            raise ResourceNotFound(f"graph {graph} is not an assertion")
        return records[0], [q.triple for q in self.store.quads(graph)]

    # -- retract -------------------------------------------------------------------------------------------------
    def retract(self, assertion_id: str, *, requester: str, admin: bool) -> None:
        """Drop an assertion's graph (the admin, or the contributor who submitted it).

        :class:`Conflict` when another graph builds on an entity that only this assertion describes.
        """
        record, _ = self.get(assertion_id)
        if not admin and requester != record.contributor:
            raise Forbidden("only the admin or the contributor who submitted it may retract an assertion")
        graph, inferred = record.graph, inferred_graph_iri(self.settings)
        with self.write_lock:
            rows = select(
                self.store,
                f"""
                SELECT DISTINCT ?e ?other WHERE {{
                  GRAPH <{graph}> {{ ?e a ?c }}
                  FILTER NOT EXISTS {{ GRAPH ?h {{ ?e a ?c2 }} FILTER(?h != <{graph}> && ?h != <{inferred}>) }}
                  GRAPH ?other {{ ?x ?p ?e }} FILTER(?other != <{graph}> && ?other != <{inferred}>)
                }} ORDER BY ?e ?other LIMIT 20""",
            )
            if rows:
                raise Conflict(
                    f"cannot retract assertion {assertion_id}: {len(rows)} statement(s) elsewhere build on entities "
                    "only it describes; retract those first",
                    errors=[{"entity": row["e"], "graph": row["other"]} for row in rows],
                )
            self.store.drop_graph(graph)
            materialise(self.store, self.settings)  # and forget what only it entailed
