"""``GET /health``: is the store up, which backend, how many triples."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse
from pydantic import BaseModel

from ioir_kg import __version__
from ioir_kg.api.deps import StoreDep
from ioir_kg.errors import IoirError

router = APIRouter(tags=["health"])


class Health(BaseModel):
    """The health document."""

    status: str
    backend: str
    triples: int
    version: str
    dataset: str = ""
    detail: str = ""


@router.get("/health", response_model=Health, responses={503: {"model": Health}})
def health(store: StoreDep, request: Request) -> JSONResponse:
    """Report the store's status (200, or 503 ``degraded`` when it does not answer) and the dataset version.

    ``dataset`` is the package version plus a hash of the bundled ontology, data and queries.
    """
    dataset = getattr(request.app.state, "dataset_version", "")
    try:
        status = store.status()
    except IoirError as exc:
        body = Health(
            status="degraded",
            backend=store.backend,
            triples=0,
            version=__version__,
            dataset=dataset,
            detail=exc.message,
        )
        return JSONResponse(body.model_dump(), status_code=503)
    body = Health(status="ok", backend=status.backend, triples=status.triples, version=__version__, dataset=dataset)
    return JSONResponse(body.model_dump())
