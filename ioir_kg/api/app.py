"""The application factory: nothing stateful happens at import time."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI
from fastapi.exceptions import RequestValidationError
from starlette.exceptions import HTTPException as StarletteHTTPException

from ioir_kg import __version__
from ioir_kg.api import problems
from ioir_kg.api.routes import health
from ioir_kg.config import Settings, get_settings
from ioir_kg.errors import IoirError
from ioir_kg.store import open_store
from ioir_kg.store.loading import load_sources

log = logging.getLogger("ioir_kg")


def create_app(settings: Settings | None = None) -> FastAPI:
    """Build the ASGI app; the lifespan opens the store and syncs the bundled data."""
    settings = settings or get_settings()

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        store = open_store(settings)
        try:
            if settings.load_bundled:
                results = load_sources(store, settings)
                loaded = sum(1 for r in results if r.status == "loaded")
                log.info("bundled data: %d files loaded, %d unchanged", loaded, len(results) - loaded)
            app.state.store = store
            yield
        finally:
            store.close()

    app = FastAPI(
        title="ioir-kg",
        version=__version__,
        summary="Inter-organizational relations in international security, as Linked Data and SPARQL.",
        lifespan=lifespan,
    )
    app.state.settings = settings
    app.add_exception_handler(IoirError, problems.ioir_error_handler)
    app.add_exception_handler(StarletteHTTPException, problems.http_error_handler)
    app.add_exception_handler(RequestValidationError, problems.validation_error_handler)
    app.include_router(health.router)
    return app
