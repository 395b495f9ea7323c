"""The pages for people: ``/`` (home), ``/search``, ``/network`` (and its data), ``/assertions/new``, and the HTML
answers of ``/queries`` and ``/queries/{name}`` (called from :mod:`ioir_kg.api.routes.queries`).

The pages read the store with the fixed queries of :mod:`ioir_kg.web.graph`; a competency query's answer runs on the
SPARQL endpoint's worker pool like any query (timeouts included) and is shown as a table linking to entity pages.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Annotated, Any
from urllib.parse import quote, urlencode

import anyio.to_thread
from fastapi import APIRouter, Query, Request
from fastapi.responses import HTMLResponse, JSONResponse, Response, StreamingResponse

from ioir_kg.api.deps import SettingsDep, StoreDep
from ioir_kg.api.endpoint import TRUNCATED_HEADER, SparqlEndpoint
from ioir_kg.config import Settings
from ioir_kg.errors import BadParameter, IoirError
from ioir_kg.namespaces import parse_entity_iri
from ioir_kg.sparql.competency import CompetencyQuery, bind_arguments, choices, competency_sparql, resolve_iri
from ioir_kg.sparql.negotiation import JSON
from ioir_kg.sparql.protocol import QueryOperation
from ioir_kg.store.base import KnowledgeStore
from ioir_kg.web import criteria as network_criteria
from ioir_kg.web import graph
from ioir_kg.web.pages import (
    NetworkView,
    assertion_page,
    bound_sparql,
    catalogue_page,
    example_arguments,
    form_fields,
    home_page,
    network_page,
    query_page,
    results_table,
    search_page,
    wants_html,
)

router = APIRouter(tags=["pages"])
#: Suggestions for the search box, and results on the search page.
SEARCH_LIMIT, PAGE_LIMIT = 10, 100


def _catalogue(request: Request) -> Mapping[str, CompetencyQuery]:
    catalogue: Mapping[str, CompetencyQuery] = request.app.state.catalogue
    return catalogue


@router.get("/", response_class=HTMLResponse)
async def home(request: Request, store: StoreDep, settings: SettingsDep) -> HTMLResponse:
    """What the dataset is, live counts, the search box and example questions."""
    catalogue = _catalogue(request)

    keys = example_arguments(catalogue)

    def read() -> tuple[list[graph.Count], int | None, int, dict[str, str]]:
        status = store.status()
        assertions = sum(1 for g in store.graphs() if g.iri.startswith(f"{settings.base_uri}assertion/"))
        found = graph.labels_of(store, (resolve_iri(k, settings.id_base) for k in keys))
        labels = {k: found[resolve_iri(k, settings.id_base)] for k in keys if resolve_iri(k, settings.id_base) in found}
        return graph.counts(store), status.triples if status.ok else None, assertions, labels

    counts, triples, assertions, labels = await anyio.to_thread.run_sync(read)
    return HTMLResponse(home_page(counts, triples, catalogue, assertions, labels))


@router.get("/search", response_class=Response, responses={200: {"content": {"application/json": {}}}})
async def search(
    request: Request, store: StoreDep, settings: SettingsDep, q: Annotated[str, Query(max_length=200)] = ""
) -> Response:
    """Entities whose name or acronym contains ``q`` (at least 2 characters), exact matches first: JSON suggestions
    for the search box, or a page of results for browsers."""
    text = " ".join(q.split())
    found: list[graph.Suggestion] = []
    query = _catalogue(request).get("search")
    html = wants_html(request.headers.get("accept"), ())
    limit = PAGE_LIMIT if html else SEARCH_LIMIT
    if len(text) >= 2 and query is not None:
        found = await anyio.to_thread.run_sync(lambda: graph.search(query, text, store, settings, limit=limit))
    if html:
        error = "Type at least two characters." if len(text) < 2 else None
        return HTMLResponse(search_page(text, found, error))
    return JSONResponse({"q": text, "results": [s.to_json() for s in found]})


# -- the network -------------------------------------------------------------------------------------------------


async def _view(request: Request, store: KnowledgeStore, settings: Settings) -> NetworkView:
    params: dict[str, list[str]] = {}
    for key, value in request.query_params.multi_items():
        params.setdefault(key, []).append(value)
    criteria = network_criteria.criteria_from(params, settings.id_base)
    whole = await anyio.to_thread.run_sync(lambda: request.app.state.network_cache.network(store, settings))
    shown = network_criteria.filter_network(whole, criteria)
    focus_label = whole.nodes[criteria.focus].label if criteria.focus in whole.nodes else None
    query = urlencode([(k, v) for k, v in request.query_params.multi_items() if k != "embed"])
    return NetworkView(
        shown,
        whole,
        criteria,
        network_criteria.describe_criteria(criteria, whole),
        "/network/data" + (f"?{query}" if query else ""),
        focus_label,
    )


@router.get("/network", response_class=HTMLResponse)
async def network(request: Request, store: StoreDep, settings: SettingsDep) -> HTMLResponse:
    """The inter-organizational network, filterable by level, resource type, theatre, period and relation kind
    (``focus=kind/slug``: one entity's neighbourhood; ``embed=1``: the graph alone, for an entity page)."""
    view = await _view(request, store, settings)
    return HTMLResponse(network_page(view, embed=request.query_params.get("embed") == "1"))


@router.get("/network/data", response_class=JSONResponse)
async def network_data(request: Request, store: StoreDep, settings: SettingsDep) -> JSONResponse:
    """The network's nodes and edges as JSON (same parameters as ``/network``), with the filter choices."""
    view = await _view(request, store, settings)
    body: dict[str, Any] = view.shown.to_json()
    body["facets"] = {name: [r.to_json() for r in refs] for name, refs in view.facets.items()}
    body["years"] = list(view.years) if view.years else None
    body["filters"] = view.active
    body["focus"] = view.criteria.focus
    return JSONResponse(body)


# -- assertions --------------------------------------------------------------------------------------------------


@router.get("/assertions/new", response_class=HTMLResponse)
async def new_assertion(store: StoreDep, settings: SettingsDep) -> HTMLResponse:
    """The assertion form: paste Turtle or fill a guided form; the validation report appears inline."""
    form = await anyio.to_thread.run_sync(lambda: graph.assertion_choices(store, settings))
    enabled = settings.admin_token is not None or bool(settings.contributor_tokens)
    return HTMLResponse(assertion_page(form, id_base=settings.id_base, writes_enabled=enabled))


# -- competency queries as pages (called by routes/queries.py for browsers) ---------------------------------------


def catalogue_html(request: Request) -> HTMLResponse:
    """The gallery of competency queries."""
    return HTMLResponse(catalogue_page(_catalogue(request)))


async def query_html(
    query: CompetencyQuery,
    args: Mapping[str, str],
    request: Request,
    store: KnowledgeStore,
    settings: Settings,
    endpoint: SparqlEndpoint,
) -> HTMLResponse:
    """A competency query's page: the form (choices from the graph), the answer as a table, the SPARQL text.

    A first visit without arguments runs the query with its defaults when it has no required parameter; bad
    arguments are shown beside their field (422)."""
    options = await anyio.to_thread.run_sync(lambda: _options(query, store, settings))
    errors: dict[str, str] = {}
    message: str | None = None
    status = 200
    results = None
    sparql = query.sparql
    missing = [p for p in query.params if p.required and not args.get(p.name)]
    if not (missing and not args):
        try:
            bound = await anyio.to_thread.run_sync(lambda: bind_arguments(query, args, store, settings.id_base))
            sparql = bound_sparql(query, bound)  # shown; what runs may also bind the label index's candidates
            executed = await anyio.to_thread.run_sync(lambda: competency_sparql(query, bound, store))
            response = await endpoint.query(QueryOperation(executed, None, JSON.short_names[0]), None, short=True)
            results = results_table(query, json.loads(await _body(response)), settings)
            results.truncated = response.headers.get(TRUNCATED_HEADER) == "true"
        except BadParameter as exc:
            errors = {str(e.get("param")): str(e.get("message")) for e in exc.errors if e.get("param")}
            message, status = "Some values are not valid: see the fields below.", exc.status
        except IoirError as exc:
            message, status = exc.message, exc.status
    path = f"/queries/{quote(query.name)}"
    downloads = [(label, f"{path}?{urlencode({**args, 'format': fmt})}") for label, fmt in _DOWNLOADS]
    fields = form_fields(query, args, options, errors)
    body = query_page(query, fields, results=results, sparql=sparql, message=message, downloads=downloads)
    return HTMLResponse(body, status_code=status, headers={"Vary": "Accept"})


_DOWNLOADS = (("SPARQL JSON", "json"), ("CSV", "csv"), ("TSV", "tsv"), ("SPARQL XML", "xml"))


def _options(query: CompetencyQuery, store: KnowledgeStore, settings: Settings) -> dict[str, list[tuple[str, str]]]:
    """The valid values of each entity or concept parameter, as ``(kind/slug, label (acronyms))`` pairs."""
    out: dict[str, list[tuple[str, str]]] = {}
    for param in query.params:
        if param.type not in ("iri", "concept") or param.cls == "*":
            continue  # any entity: a text box with search suggestions, not a list of thousands
        pairs = []
        for choice in choices(store, param, settings.id_base):
            parsed = parse_entity_iri(settings.base_uri, choice.iri)
            value = f"{parsed[0]}/{parsed[1]}" if parsed else choice.iri
            acronyms = [a for a in choice.alt_labels if len(a) <= 12 and a != choice.label]
            label = f"{choice.label} ({', '.join(sorted(acronyms)[:2])})" if acronyms else choice.label
            pairs.append((value, label))
        out[param.name] = pairs
    return out


async def _body(response: Response) -> bytes:
    """The whole body of a response, streamed or not."""
    if isinstance(response, StreamingResponse):
        chunks = [c if isinstance(c, bytes) else str(c).encode() async for c in response.body_iterator]
        return b"".join(chunks)
    return bytes(response.body)
