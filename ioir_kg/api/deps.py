"""``Annotated`` dependencies shared by the routes.

Dependencies that do no blocking work are coroutines: FastAPI runs a plain function dependency on its thread
pool, one thread hand-off per dependency per request.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request

from ioir_kg.api.endpoint import SparqlEndpoint
from ioir_kg.config import Settings
from ioir_kg.errors import StoreUnavailable
from ioir_kg.store.base import KnowledgeStore


async def get_store(request: Request) -> KnowledgeStore:
    """The store opened by the lifespan."""
    store: KnowledgeStore = request.app.state.store
    return store


async def get_app_settings(request: Request) -> Settings:
    """The settings the app was created with."""
    settings: Settings = request.app.state.settings
    return settings


StoreDep = Annotated[KnowledgeStore, Depends(get_store)]
SettingsDep = Annotated[Settings, Depends(get_app_settings)]


async def get_endpoint(request: Request) -> SparqlEndpoint:
    """The endpoint the lifespan started (503 before start-up or after shut-down)."""
    endpoint: SparqlEndpoint | None = getattr(request.app.state, "sparql", None)
    if endpoint is None:
        raise StoreUnavailable("the SPARQL endpoint is not running")
    return endpoint


EndpointDep = Annotated[SparqlEndpoint, Depends(get_endpoint)]
