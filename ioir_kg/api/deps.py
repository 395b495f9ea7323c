"""``Annotated`` dependencies shared by the routes."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request

from ioir_kg.config import Settings
from ioir_kg.store.base import KnowledgeStore


def get_store(request: Request) -> KnowledgeStore:
    """The store opened by the lifespan."""
    store: KnowledgeStore = request.app.state.store
    return store


def get_app_settings(request: Request) -> Settings:
    """The settings the app was created with."""
    settings: Settings = request.app.state.settings
    return settings


StoreDep = Annotated[KnowledgeStore, Depends(get_store)]
SettingsDep = Annotated[Settings, Depends(get_app_settings)]
