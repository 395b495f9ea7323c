"""``POST /validate`` and ``/assertions``: validate new triples in the graph's context; accept them into a named
graph with provenance, list, read and retract them.

The body of ``POST /validate`` and ``POST /assertions`` is Turtle, JSON-LD or N-Triples; relative IRIs resolve
against ``{base}id/``. The metadata travels as query parameters: ``source`` (``s000`` … ``s004``) and ``quote``
(they become the evidence of every entity the submission describes), ``locator``, ``comment`` and, for the admin,
``contributor``.
"""

from __future__ import annotations

from typing import Annotated, Any

import anyio.to_thread
from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import JSONResponse, Response
from pyoxigraph import RdfFormat, serialize

from ioir_kg.api.deps import SettingsDep
from ioir_kg.api.endpoint import read_body
from ioir_kg.api.security import ContributorDep
from ioir_kg.errors import StoreUnavailable
from ioir_kg.namespaces import PREFIXES
from ioir_kg.sparql.negotiation import HTML, N_TRIPLES, TURTLE, Format, Kind, choose
from ioir_kg.validation.assertions import AssertionService
from ioir_kg.validation.pipeline import MEDIA_TYPES, Metadata, Submission, read_submission
from ioir_kg.validation.report import ValidationReport

router = APIRouter(tags=["assertions"])

JSON = Format("json", "application/json", Kind.RESULTS, (), ("json",))
JSON_LD = Format("jsonld", "application/ld+json", Kind.GRAPH, (), ("jsonld", "json-ld"))
#: ``POST /validate``: the report as JSON, as a SHACL report in Turtle, or as a page.
REPORT_FORMATS = (JSON, TURTLE, HTML)
#: ``GET /assertions/{id}``: the graph (Turtle when anything goes), or its record with the graph as JSON.
ASSERTION_FORMATS = (TURTLE, N_TRIPLES, JSON_LD, JSON)
_BODY = {"content": {media_type: {"schema": {"type": "string"}} for media_type in MEDIA_TYPES}}


async def get_service(request: Request) -> AssertionService:
    """The assertion service the lifespan created (503 outside it)."""
    service: AssertionService | None = getattr(request.app.state, "assertions", None)
    if service is None:
        raise StoreUnavailable("the assertion service is not running")
    return service


async def get_metadata(
    source: Annotated[str | None, Query(description="the source document: s000 … s004")] = None,
    quote: Annotated[str | None, Query(description="a verbatim quote of the source supporting the triples")] = None,
    locator: Annotated[str | None, Query(description="where the quote is: section, table, page")] = None,
    comment: Annotated[str | None, Query(description="a comment for the record")] = None,
    contributor: Annotated[str | None, Query(description="credit this contributor (admin token only)")] = None,
) -> Metadata:
    """The submission's metadata from the query parameters."""
    return Metadata(source=source, quote=quote, locator=locator, comment=comment, contributor=contributor)


ServiceDep = Annotated[AssertionService, Depends(get_service)]
MetadataDep = Annotated[Metadata, Depends(get_metadata)]


async def read_request(request: Request, settings: SettingsDep) -> Submission:
    """The submitted triples (413 beyond the size limits, 415 for another media type, 400 if they do not parse)."""
    body = await read_body(request, settings.max_body_bytes)
    content_type = request.headers.get("content-type")
    return await anyio.to_thread.run_sync(lambda: read_submission(body, content_type, settings))


SubmissionDep = Annotated[Submission, Depends(read_request)]


def report_response(report: ValidationReport, fmt: Format, status: int = 200) -> Response:
    """The report in the chosen format."""
    headers = {"Vary": "Accept"}
    if fmt is TURTLE:
        return Response(report.to_turtle(), status, headers, media_type="text/turtle")
    if fmt is HTML:
        return Response(report.to_html(), status, headers, media_type="text/html")
    return JSONResponse(report.to_json(), status, headers)


@router.post("/validate", openapi_extra={"requestBody": _BODY}, response_class=Response)
async def validate(
    request: Request,
    service: ServiceDep,
    metadata: MetadataDep,
    submission: SubmissionDep,
    reasoner: Annotated[
        str, Query(pattern="^(axioms|hermit)$", description="hermit: also run HermiT (slow)")
    ] = "axioms",
    format_: Annotated[str | None, Query(alias="format", description="json, turtle or html")] = None,
) -> Response:
    """Validate triples in the context of the stored graph and answer the report (200); nothing is written."""
    fmt = choose(request.headers.get("accept"), REPORT_FORMATS, override=format_)
    report = await anyio.to_thread.run_sync(lambda: service.validate(submission, metadata, reasoner=reasoner))
    return report_response(report, fmt)


@router.post("/assertions", status_code=201, openapi_extra={"requestBody": _BODY}, responses={422: {}})
async def submit(
    service: ServiceDep, principal: ContributorDep, metadata: MetadataDep, submission: SubmissionDep
) -> JSONResponse:
    """Store conforming triples in a new graph with provenance: 201 and ``Location``; 422 with the report if not."""
    accepted = await anyio.to_thread.run_sync(
        lambda: service.submit(submission, metadata, submitter=principal.name, admin=principal.admin)
    )
    return JSONResponse(accepted.to_json(), status_code=201, headers={"Location": accepted.record.location})


@router.get("/assertions")
def list_assertions(
    request: Request,
    service: ServiceDep,
    page: Annotated[int, Query(ge=1)] = 1,
    per_page: Annotated[int, Query(ge=1, le=100)] = 20,
) -> JSONResponse:
    """The accepted assertions, newest first, one page at a time (``Link: <…>; rel="next"``)."""
    records, total = service.listing(page=page, per_page=per_page)
    body: dict[str, Any] = {"total": total, "page": page, "per_page": per_page, "items": [r.to_json() for r in records]}
    headers = {}
    if page * per_page < total:
        body["next"] = str(request.url.include_query_params(page=page + 1, per_page=per_page))
        headers["Link"] = f'<{body["next"]}>; rel="next"'
    return JSONResponse(body, headers=headers)


@router.get("/assertions/{assertion_id}", response_class=Response)
def get_assertion(
    assertion_id: str,
    request: Request,
    service: ServiceDep,
    format_: Annotated[str | None, Query(alias="format", description="turtle, ntriples, jsonld or json")] = None,
) -> Response:
    """An assertion's graph (its triples and provenance) in the negotiated RDF format, or its record as JSON."""
    fmt = choose(request.headers.get("accept"), ASSERTION_FORMATS, override=format_)
    record, triples = service.get(assertion_id)
    rdf_format = RdfFormat.TURTLE if fmt is JSON else RdfFormat.from_media_type(fmt.media_type) or RdfFormat.TURTLE
    text = serialize(triples, format=rdf_format, prefixes=PREFIXES if rdf_format == RdfFormat.TURTLE else None) or b""
    if fmt is JSON:
        return JSONResponse({**record.to_json(), "turtle": text.decode("utf-8")}, headers={"Vary": "Accept"})
    return Response(text, media_type=fmt.media_type, headers={"Vary": "Accept"})


@router.delete("/assertions/{assertion_id}", status_code=204, response_class=Response)
def retract_assertion(assertion_id: str, service: ServiceDep, principal: ContributorDep) -> Response:
    """Retract an assertion (the admin, or the contributor who submitted it): 204; 409 if others build on it."""
    service.retract(assertion_id, requester=principal.name, admin=principal.admin)
    return Response(status_code=204)
