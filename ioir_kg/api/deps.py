"""``Annotated`` dependencies shared by the routes.

Dependencies that do no blocking work are coroutines: FastAPI runs a plain function dependency on its thread
pool, one thread hand-off per dependency per request.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request

from ioir_kg.config import Settings
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
