"""ASGI entry point: ``uvicorn --factory ioir_kg.api.asgi:make_app`` builds the app from the environment at start.

There is no module-level ``app``: the app is built when uvicorn starts, from the environment at that moment.
"""

from __future__ import annotations

from fastapi import FastAPI

from ioir_kg.api.app import create_app


def make_app() -> FastAPI:
    """Build the app from ``IOIR_*`` settings (for ``uvicorn --factory``)."""
    return create_app()
