"""Fixtures of the remote-backend tests (Virtuoso itself and the bundled dataset come from ``tests.backends``)."""

from __future__ import annotations

import uuid
from collections.abc import Callable

import pytest

from ioir_kg.config import Settings
from tests.backends import ADMIN_TOKEN, AUTH, BACKENDS

__all__ = ["ADMIN_TOKEN", "AUTH"]


@pytest.fixture(params=BACKENDS)
def backend_settings(
    request: pytest.FixtureRequest, make_settings: Callable[..., Settings], scratch: Callable[..., Settings]
) -> Callable[..., Settings]:
    """Settings for an empty dataset on each backend: an on-disk store, or a scratch dataset on Virtuoso."""
    if request.param == "oxigraph":

        def embedded(**overrides: object) -> Settings:
            values: dict[str, object] = {"base_uri": f"http://embedded-{uuid.uuid4().hex[:12]}.test/"}
            values.update(overrides)
            return make_settings(**values)

        return embedded
    return scratch
