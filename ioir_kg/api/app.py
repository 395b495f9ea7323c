"""The application factory: nothing stateful happens at import time."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import anyio.to_thread
from fastapi import FastAPI
from fastapi.exceptions import RequestValidationError
from fastapi.staticfiles import StaticFiles
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.requests import ClientDisconnect

from ioir_kg import __version__
from ioir_kg.api import headers, limits, problems, security
from ioir_kg.api.clients import ClientLimitMiddleware
from ioir_kg.api.endpoint import SparqlEndpoint
from ioir_kg.api.routes import assertions, dataset, graph_store, health, ontology, queries, resources, sparql
from ioir_kg.api.routes import pages as page_routes
from ioir_kg.api.routes import sources as source_routes
from ioir_kg.config import Settings, dataset_version, get_settings
from ioir_kg.errors import BadSetting, IoirError, Unauthorized
from ioir_kg.linked_data.views import STATIC_DIR
from ioir_kg.sparql.competency import load_catalogue
from ioir_kg.store import open_store
from ioir_kg.store.loading import bundle_problems, load_sources
from ioir_kg.validation.assertions import AssertionService
from ioir_kg.validation.selectors import prepare_sources
from ioir_kg.web.network import NetworkCache
from ioir_kg.web.pages import PageHeadersMiddleware

log = logging.getLogger("ioir_kg")


def _check_bundle(settings: Settings) -> None:
    """Refuse to serve an empty dataset by accident: an error for the default data root, a warning for a chosen one."""
    problems = bundle_problems(settings) if settings.load_bundled else []
    if not problems:
        return
    message = "; ".join(problems)
    if "data_root" in settings.model_fields_set:
        log.warning("IOIR_DATA_ROOT=%s: %s (serving what the store holds)", settings.data_root, message)
        return
    hint = "set IOIR_DATA_ROOT to a folder with ontology/, data/ and queries/"
    raise BadSetting(f"the bundled dataset is missing: {message}; {hint}")


def create_app(settings: Settings | None = None) -> FastAPI:
    """Build the ASGI app; the lifespan opens the store and syncs the bundled data."""
    settings = settings or get_settings()

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        _check_bundle(settings)
        app.state.dataset_version = dataset_version(settings)
        app.state.catalogue = load_catalogue(settings.queries_dir)
        store = open_store(settings)
        try:
            if settings.load_bundled:
                results = load_sources(store, settings)
                loaded = sum(1 for r in results if r.status == "loaded")
                log.info("bundled data: %d files loaded, %d unchanged", loaded, len(results) - loaded)
                await anyio.to_thread.run_sync(lambda: prepare_sources(store, settings))  # texts, quote selectors
            app.state.store = store
            app.state.sparql = SparqlEndpoint(store, settings)
            app.state.assertions = AssertionService(store, settings)
            await app.state.sparql.start()
            yield
        finally:
            if getattr(app.state, "sparql", None) is not None:
                await app.state.sparql.aclose()
                app.state.sparql = None
            store.close()

    app = FastAPI(
        title="ioir-kg",
        version=__version__,
        summary="Inter-organizational relations in international security, as Linked Data and SPARQL.",
        lifespan=lifespan,
    )
    app.state.settings = settings
    app.state.network_cache = NetworkCache()  # the /network page's model, reused until the store is written
    app.add_exception_handler(IoirError, problems.ioir_error_handler)
    app.add_exception_handler(StarletteHTTPException, problems.http_error_handler)
    app.add_exception_handler(RequestValidationError, problems.validation_error_handler)
    app.add_exception_handler(Unauthorized, security.unauthorized_handler)
    app.add_exception_handler(ClientDisconnect, problems.client_disconnect_handler)
    app.include_router(health.router)
    app.include_router(page_routes.router)  # before assertions: /assertions/new is a page, not an id
    app.include_router(sparql.router)
    app.include_router(graph_store.router)
    app.include_router(queries.router)
    app.include_router(resources.router)
    app.include_router(ontology.router)
    app.include_router(dataset.router)
    app.include_router(assertions.router)
    app.include_router(source_routes.router)
    app.mount("/static", StaticFiles(directory=STATIC_DIR), name="static")
    app.add_middleware(PageHeadersMiddleware)
    limits.install(app, settings)  # body, header, query and response limits on every route
    app.add_middleware(ClientLimitMiddleware, settings=settings)  # outside the limits: a 429 reads no body
    headers.install(app)  # security headers on every response, the limits' refusals included
    if settings.cors_origins:
        app.add_middleware(security.PathCorsMiddleware, origins=settings.cors_origins, paths=security.CORS_PATHS)
    return app
