"""The pages for people: home, SPARQL editor, query gallery and forms, network view, assertion form.

Every page is rendered by the site's one jinja2 environment (:func:`ioir_kg.linked_data.views.render`, autoescaping
everything) from ``web/templates``; scripts and styles are files under ``/static`` (no inline script, nothing from
another host), so the :data:`CONTENT_SECURITY_POLICY` that :class:`PageHeadersMiddleware` sets on every page holds.

>>> wants_html("text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8", ())
True
>>> wants_html("*/*", ()), wants_html(None, ()), wants_html("application/json", ())
(False, False, False)
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import quote, urlencode

from pyoxigraph import Literal, NamedNode
from starlette.datastructures import MutableHeaders
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from ioir_kg.config import Settings
from ioir_kg.linked_data.views import fallback_label, href_for, render
from ioir_kg.namespaces import PREFIXES
from ioir_kg.sparql.competency import XSD_INTEGER, CompetencyQuery, Param, resolve_iri
from ioir_kg.sparql.negotiation import HTML, JSON, Format, parse_accept, quality
from ioir_kg.store.base import Term
from ioir_kg.store.bindings import inject_values
from ioir_kg.web.criteria import Criteria
from ioir_kg.web.graph import AssertionForm, Count, Suggestion
from ioir_kg.web.network import EDGE_KINDS, LEVEL_ORDER, NODE_KINDS, Network


def content_security_policy(style_hashes: Sequence[str] = ()) -> str:
    """The policy of the site's pages: its own scripts, styles, images and data, nothing else, no inline script
    (``style_hashes``: the exact ``<style>`` elements a vendored library injects, by hash)."""
    styles = " ".join(["'self'", "'report-sample'", *(f"'{h}'" for h in style_hashes)])
    return (
        f"default-src 'none'; script-src 'self'; style-src {styles}; img-src 'self' data:; font-src 'self'; "
        "connect-src 'self'; form-action 'self'; frame-src 'self'; frame-ancestors 'self'; base-uri 'none'"
    )


CONTENT_SECURITY_POLICY = content_security_policy()
SITE_PAGE_HEADERS: Mapping[str, str] = {
    "Content-Security-Policy": CONTENT_SECURITY_POLICY,
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "same-origin",
}
#: The two ``<style>`` elements YASGUI's table plugin (its column resizer) injects, by their SHA-256: the grip rules
#: and the cursor while a column is dragged. They change only with the vendored version (a test checks them).
EDITOR_STYLE_HASHES = (
    "sha256-zCK2EVMoPc04mRF/g5CotUvxbJPWS+8V0b+s9ptqQIk=",
    "sha256-c0O6TmFAkgpNbHxKAa1BrveWHHopjEtC47i0PzMudxg=",
)
#: The headers of the SPARQL editor page.
EDITOR_HEADERS: Mapping[str, str] = {
    **SITE_PAGE_HEADERS,
    "Content-Security-Policy": content_security_policy(EDITOR_STYLE_HASHES),
}
#: Paths whose HTML answers are the site's pages (entity pages and 404s under ``/id/`` included).
PAGE_PATHS = frozenset({"/", "/network", "/assertions/new", "/queries", "/sparql", "/search"})
PAGE_PREFIXES = ("/queries/", "/id/")

#: Competency questions the home page offers as examples, by query name (those missing are skipped).
EXAMPLE_QUERIES = (
    "dependencies-by-level",
    "instruments-between",
    "dependencies-in-theatre",
    "liaison-arrangements",
    "mission-successions",
    "missions-by-organization",
    "security-council-resolutions",
    "evidence",
)
#: Queries opened as tabs of the SPARQL editor, with their example arguments bound.
EDITOR_TABS = ("network", "dependencies-by-level", "instruments-between", "dependency-levels-by-theatre")


class PageHeadersMiddleware:
    """Adds :data:`SITE_PAGE_HEADERS` to the HTML answers of the site's pages (other answers are left alone)."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Pass the request on; on the way back, add the headers to an HTML page of :data:`PAGE_PATHS`."""
        path = scope.get("path", "") if scope["type"] == "http" else ""
        if not (path in PAGE_PATHS or path.startswith(PAGE_PREFIXES)):
            await self.app(scope, receive, send)
            return

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = MutableHeaders(scope=message)
                if headers.get("content-type", "").startswith("text/html"):
                    for name, value in SITE_PAGE_HEADERS.items():
                        headers.setdefault(name, value)
            await send(message)

        await self.app(scope, receive, send_with_headers)


def wants_html(accept: str | None, offers: Sequence[Format], *, override: str | None = None) -> bool:
    """Whether a client asks for a page rather than data: ``format=html``, or ``text/html`` named in ``Accept``
    and rated at least as high as every format in ``offers`` (``*/*`` alone gets data)."""
    if override:
        return override.strip().lower() in HTML.short_names or override.strip().lower() == HTML.media_type
    ranges = parse_accept(accept)
    if not any(r.type == "text" and r.subtype == "html" and r.q > 0 for r in ranges):
        return False
    html = quality(ranges, HTML)
    others = [quality(ranges, f) for f in (*offers, JSON)]
    return html > 0 and html >= max(others, default=0.0)


def page(template: str, *, nav: str = "", title: str | None = None, **context: Any) -> str:
    """Render one of the site's pages (``nav`` marks the current item of the main navigation)."""
    return render(template, nav=nav, title=title, **context)


# -- home and search ---------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Example:
    """A competency question offered as an example, with the link that answers it."""

    title: str
    question: str
    href: str
    arguments: str


def sample_arguments(query: CompetencyQuery) -> dict[str, str]:
    """The arguments a first visit uses: each parameter's example, else its default."""
    return {p.name: value for p in query.params if (value := p.example or p.default) is not None}


def examples(catalogue: Mapping[str, CompetencyQuery], labels: Mapping[str, str] | None = None) -> list[Example]:
    """The home page's example questions, each linking to its query run with example arguments (shown by label
    when ``labels`` names the argument's ``kind/slug``)."""
    labels = labels or {}
    out = []
    for name in EXAMPLE_QUERIES:
        query = catalogue.get(name)
        if query is None:
            continue
        args = sample_arguments(query)
        href = f"/queries/{quote(name)}" + (f"?{urlencode(args)}" if args else "")
        shown = ", ".join(
            f"{p.label.removesuffix(' (optional)')}: {labels.get(args[p.name], args[p.name])}"
            for p in query.params
            if p.name in args
        )
        out.append(Example(query.title, query.question, href, shown))
    return out


def example_arguments(catalogue: Mapping[str, CompetencyQuery]) -> set[str]:
    """The entity and concept arguments of the home page's examples (``kind/slug``), to label them."""
    return {
        value
        for name in EXAMPLE_QUERIES
        if (query := catalogue.get(name)) is not None
        for p in query.params
        if p.type in ("iri", "concept") and (value := sample_arguments(query).get(p.name))
    }


def home_page(
    counts: Sequence[Count],
    triples: int | None,
    catalogue: Mapping[str, CompetencyQuery],
    assertions: int,
    labels: Mapping[str, str] | None = None,
) -> str:
    """The home page: what the dataset is, live counts, the search box, example questions."""
    return page(
        "home.html",
        nav="home",
        title="Inter-organizational relations in international security",
        counts=counts,
        triples=triples,
        assertions=assertions,
        examples=examples(catalogue, labels),
        queries=len(catalogue),
    )


def search_page(text: str, results: Sequence[Suggestion], error: str | None = None) -> str:
    """The results of the search box, for browsers without JavaScript."""
    return page(
        "search.html",
        nav="home",
        title=f"Search: {text}" if text else "Search",
        text=text,
        results=results,
        error=error,
    )


# -- competency queries ------------------------------------------------------------------------------------------


@dataclass
class Field:
    """One form control of a competency query."""

    param: Param
    value: str
    choices: list[tuple[str, str]] = field(default_factory=list)  # (value, label)
    error: str | None = None

    def _named(self, value: str | None) -> str | None:
        return next((label for key, label in self.choices if key == value), value)

    @property
    def suggest(self) -> bool:
        """Whether the field takes any entity of the graph: a text box with search suggestions, not a list."""
        return self.param.type == "iri" and self.param.cls == "*"

    @property
    def control(self) -> str:
        """``select`` for entity and concept parameters, ``number`` for years and integers, else ``text``."""
        if self.param.type in ("iri", "concept") and self.choices and not self.suggest:
            return "select"
        return "number" if self.param.type in ("year", "integer") else "text"

    @property
    def hint(self) -> str:
        """What the parameter takes, in words."""
        parts = {
            "iri": "an entity (by name, acronym or IRI)",
            "concept": "a concept",
            "year": "a year, e.g. 2003",
            "integer": "a whole number",
            "text": "text",
        }
        hint = parts[self.param.type]
        if self.param.required:
            return f"Required: {hint}."
        if self.param.default:
            return f"Optional: {hint}; default: {self._named(self.param.default)}."
        return f"Optional: {hint}."

    @property
    def example(self) -> str | None:
        """The parameter's example, by label when it is one of the choices."""
        return self._named(self.param.example)


@dataclass(frozen=True)
class Cell:
    """A value in a results table: text, and a link for entities."""

    text: str
    href: str | None = None
    iri: str | None = None

    @property
    def short(self) -> bool:
        """A short literal (a date, a number): kept on one line."""
        return self.href is None and len(self.text) <= 12


@dataclass
class Results:
    """A query's answer as a table of cells."""

    headers: list[str]
    rows: list[list[Cell]]
    truncated: bool = False

    @property
    def count(self) -> int:
        """The number of rows."""
        return len(self.rows)


def humanize(variable: str) -> str:
    """A column header from a variable name.

    >>> humanize("resourceTypeLabel"), humanize("dependencies"), humanize("aLabel")
    ('resource type', 'dependencies', 'a')
    """
    name = variable[: -len("Label")] if variable.endswith("Label") and len(variable) > 5 else variable
    return re.sub(r"(?<=[a-z0-9])([A-Z])", r" \1", name).lower()


def results_table(query: CompetencyQuery, body: Mapping[str, Any], settings: Settings) -> Results:
    """SPARQL JSON results as a table: an IRI column with a ``…Label`` twin becomes one column of linked labels,
    other IRIs link to their pages, literals are shown as text."""
    variables: list[str] = list(body.get("head", {}).get("vars", []))
    labelled = {v for v in variables if f"{v}Label" in variables}
    shown = [v for v in variables if not (v.endswith("Label") and v[: -len("Label")] in labelled)]
    headers = [query.columns.get(v) or humanize(v) for v in shown]
    rows: list[list[Cell]] = []
    for binding in body.get("results", {}).get("bindings", []):
        row = []
        for v in shown:
            term = binding.get(v)
            label = binding.get(f"{v}Label") if v in labelled else None
            row.append(_cell(term, label, settings))
        rows.append(row)
    return Results(headers, rows)


def _cell(term: Mapping[str, str] | None, label: Mapping[str, str] | None, settings: Settings) -> Cell:
    if term is None:
        return Cell(label["value"] if label else "")
    value = term.get("value", "")
    if term.get("type") == "uri":
        text = label["value"] if label else fallback_label(value, settings)
        return Cell(text, href_for(value, settings)[0], value)
    if term.get("type") == "bnode":
        return Cell(f"_:{value}")
    return Cell(value)


def form_fields(
    query: CompetencyQuery,
    args: Mapping[str, str],
    choices: Mapping[str, Sequence[tuple[str, str]]],
    errors: Mapping[str, str],
) -> list[Field]:
    """The form controls of ``query``, filled with ``args`` (else the defaults) and the choices read from the graph;
    a value given by label, acronym or IRI selects its choice."""
    fields = []
    for p in query.params:
        options = list(choices.get(p.name, []))
        value = args.get(p.name, p.default or "")
        if options and value and not (p.type == "iri" and p.cls == "*"):
            value = match_choice(value, options)
            if value not in {v for v, _ in options}:
                options.insert(0, (value, f"{value} (not in the graph)"))
        fields.append(Field(p, value, options, errors.get(p.name)))
    return fields


def match_choice(value: str, options: Sequence[tuple[str, str]]) -> str:
    """The option ``value`` names: its key (``org/nato``), its IRI, its label or an acronym in the label.

    >>> match_choice("NATO", [("org/nato", "North Atlantic Treaty Organization (NATO)")])
    'org/nato'
    """
    wanted = value.strip().casefold()
    for key, label in options:
        name, _, acronyms = label.partition(" (")
        if (
            wanted in (key.casefold(), name.casefold())
            or wanted.endswith("/" + key.casefold())
            or wanted in [a.strip().casefold() for a in acronyms.rstrip(")").split(",")]
        ):
            return key
    return value


def editor_link(sparql: str) -> str:
    """A link opening ``sparql`` in a new tab of the SPARQL editor (the editor reads ``#query=``)."""
    return "/sparql#" + urlencode({"query": sparql})


def bound_sparql(query: CompetencyQuery, bound: Mapping[str, Term]) -> str:
    """The query's text with the arguments bound (a ``VALUES`` block), to read or open in the editor."""
    return inject_values(query.sparql, bound) if bound else query.sparql


def catalogue_page(catalogue: Mapping[str, CompetencyQuery]) -> str:
    """The gallery of competency queries."""
    items = [(q, f"/queries/{quote(q.name)}", ", ".join(p.label for p in q.params)) for q in catalogue.values()]
    return page("queries.html", nav="queries", title="Competency queries", items=items)


def query_page(
    query: CompetencyQuery,
    fields: Sequence[Field],
    *,
    results: Results | None,
    sparql: str,
    message: str | None,
    downloads: Sequence[tuple[str, str]],
) -> str:
    """One competency query: its form, its answer as a table, its SPARQL."""
    return page(
        "query.html",
        nav="queries",
        title=query.title,
        query=query,
        fields=fields,
        results=results,
        sparql=sparql,
        editor=editor_link(sparql),
        message=message,
        downloads=downloads,
    )


def query_not_found_page(message: str, path: str) -> str:
    """The 404 page of an unknown query."""
    return page("not_found.html", title="Not found", message=message, path=path)


# -- SPARQL editor -----------------------------------------------------------------------------------------------


def bind_examples(query: CompetencyQuery, args: Mapping[str, str], id_base: str) -> str:
    """The query's text with example arguments bound as terms (not checked against the store: they are the
    query file's own examples)."""
    bound: dict[str, Term] = {}
    for param in query.params:
        raw = args.get(param.name)
        if raw is None:
            continue
        if param.type in ("iri", "concept"):
            bound[param.name] = NamedNode(resolve_iri(raw, id_base))
        elif param.type in ("year", "integer") and re.fullmatch(r"-?\d+", raw):
            bound[param.name] = Literal(raw, datatype=XSD_INTEGER)
        else:
            bound[param.name] = Literal(raw)
    return bound_sparql(query, bound)


def editor_tabs(catalogue: Mapping[str, CompetencyQuery], id_base: str) -> list[dict[str, str]]:
    """The editor's example tabs: the organizations, then a few competency queries (named by their short names, which
    fit a phone's width) with their examples bound."""
    tabs = [{"name": "Organizations", "query": starter_query()}]
    for name in EDITOR_TABS:
        query = catalogue.get(name)
        if query is not None:
            tabs.append({"name": query.name, "query": bind_examples(query, sample_arguments(query), id_base)})
    return tabs


#: The prefixes a new editor tab declares (the competency queries declare their own).
STARTER_PREFIXES = ("ioir", "org", "skos", "rdfs", "dcterms", "prov", "xsd")


def starter_query() -> str:
    """The query a new editor tab opens with: the main prefixes, then the organizations and their acronyms."""
    prologue = "".join(f"PREFIX {p}: <{PREFIXES[p]}>\n" for p in STARTER_PREFIXES)
    return (
        prologue
        + """
SELECT ?org ?label (GROUP_CONCAT(?acronym; separator=", ") AS ?acronyms)
WHERE {
  ?org a ioir:InternationalOrganization ; skos:prefLabel ?label .
  OPTIONAL { ?org skos:altLabel ?acronym }
}
GROUP BY ?org ?label
ORDER BY ?label
"""
    )


def sparql_editor_page(endpoint: str, tabs: Sequence[Mapping[str, str]], id_base: str) -> str:
    """The SPARQL editor (YASGUI) with the example tabs; a plain form (``GET`` to ``endpoint``) without JavaScript."""
    config = {"endpoint": endpoint, "tabs": list(tabs), "starter": starter_query(), "idBase": id_base}
    return page(
        "sparql.html",
        nav="sparql",
        title="SPARQL editor",
        endpoint=endpoint,
        example=starter_query(),
        config=config,
        formats=(
            ("", "negotiated (JSON / Turtle)"),
            ("json", "SPARQL JSON / JSON-LD"),
            ("xml", "SPARQL XML / RDF/XML"),
            ("csv", "CSV"),
            ("tsv", "TSV"),
            ("turtle", "Turtle"),
            ("ntriples", "N-Triples"),
        ),
    )


# -- network -----------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class NetworkView:
    """What the network page shows: the filtered network, the filters and their choices."""

    shown: Network
    whole: Network
    criteria: Criteria
    active: list[str]
    data_url: str
    focus_label: str | None = None

    @property
    def facets(self) -> dict[str, Any]:
        """The filter choices (from the whole network)."""
        return self.whole.facets()

    @property
    def years(self) -> tuple[int, int] | None:
        """The years the whole network spans."""
        return self.whole.years()

    @property
    def focus_key(self) -> str:
        """The focus entity as ``kind/slug`` (its IRI when it is not an entity of this graph; empty: no focus)."""
        focus = self.criteria.focus or ""
        node = self.whole.nodes.get(focus)
        href = node.href if node else None
        return href.removeprefix("/id/") if href and href.startswith("/id/") else focus

    def selected(self, name: str) -> str:
        """The key of the chosen level, resource type or theatre (empty: all)."""
        iri = {"level": self.criteria.level, "resource": self.criteria.resource_type, "theatre": self.criteria.theatre}
        chosen = iri.get(name)
        for refs in self.facets.values():
            for ref in refs:
                if ref.iri == chosen:
                    return str(ref.key)
        return ""

    def rows(self) -> list[dict[str, Any]]:
        """The shown edges as rows of the text alternative: from, relation, to, details."""
        nodes = self.shown.nodes
        out = []
        for edge in self.shown.edges:
            details = [
                x
                for x in (
                    edge.type_label,
                    edge.level.label if edge.level else None,
                    ", ".join(r.label for r in edge.resource_types),
                    ", ".join(t.label for t in edge.theatres),
                    edge.period,
                )
                if x
            ]
            out.append(
                {
                    "kind": edge.kind,
                    "source": nodes[edge.source],
                    "target": nodes[edge.target],
                    "label": edge.label,
                    "href": edge.href,
                    "details": "; ".join(details),
                }
            )
        return out


def network_page(view: NetworkView, *, embed: bool = False) -> str:
    """The network page (``embed``: only the graph and its legend, for an entity page's frame)."""
    return page(
        "network_embed.html" if embed else "network.html",
        nav="network",
        title=f"Network of {view.focus_label}" if view.focus_label else "Inter-organizational network",
        view=view,
        edge_kinds=EDGE_KINDS,
        node_kinds=NODE_KINDS,
        level_order=LEVEL_ORDER,
    )


# -- assertions --------------------------------------------------------------------------------------------------


def assertion_page(form: AssertionForm, *, id_base: str, writes_enabled: bool) -> str:
    """The assertion form: paste Turtle or fill the guided form; validate, then submit with a token."""
    return page(
        "assertion_form.html",
        nav="assertions",
        title="Propose an assertion",
        form=form,
        id_base=id_base,
        writes_enabled=writes_enabled,
        example=EXAMPLE_ASSERTION,
    )


EXAMPLE_ASSERTION = """@prefix ioir: <https://w3id.org/ioir/ontology#> .
@prefix skos: <http://www.w3.org/2004/02/skos/core#> .
@prefix dcterms: <http://purl.org/dc/terms/> .
@prefix xsd: <http://www.w3.org/2001/XMLSchema#> .

<instrument/example-eu-au-memorandum> a ioir:MemorandumOfUnderstanding ;
    skos:prefLabel "EU-AU memorandum of understanding (example)"@en ;
    ioir:party <org/eu> , <org/au> ;
    dcterms:date "2008"^^xsd:gYear .
"""
