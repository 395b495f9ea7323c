"""ASGI entry point for ``uvicorn ioir_kg.api.asgi:app --factory``-less deployments.

``uvicorn --factory ioir_kg.api.asgi:make_app`` builds the app from the environment at start.
"""

from __future__ import annotations

from fastapi import FastAPI

from ioir_kg.api.app import create_app


def make_app() -> FastAPI:
    """Build the app from ``IOIR_*`` settings (for ``uvicorn --factory``)."""
    return create_app()
