"""Typed settings read from ``IOIR_*`` environment variables.

>>> s = Settings(base_uri="https://example.org/kg/")
>>> s.id_base
'https://example.org/kg/id/'
"""

from __future__ import annotations

from enum import StrEnum
from pathlib import Path
from typing import Annotated

from pydantic import Field, SecretStr, ValidationError, field_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

from ioir_kg.errors import BadSetting

PROJECT_ROOT = Path(__file__).resolve().parent.parent
DEFAULT_BASE_URI = "https://w3id.org/ioir/"


class Backend(StrEnum):
    """Which :class:`~ioir_kg.store.base.KnowledgeStore` implementation serves the app."""

    OXIGRAPH = "oxigraph"
    REMOTE = "remote"


def _split_csv(value: object) -> object:
    if isinstance(value, str):
        return [item.strip() for item in value.split(",") if item.strip()]
    return value


class Settings(BaseSettings):
    """All configuration of the app and the CLI (environment prefix ``IOIR_``)."""

    model_config = SettingsConfigDict(env_prefix="IOIR_", extra="ignore", frozen=True)

    backend: Backend = Backend.OXIGRAPH
    store_path: Path = Path("./var/store")
    base_uri: str = DEFAULT_BASE_URI
    data_root: Path = PROJECT_ROOT
    load_bundled: bool = True
    union_default_graph: bool = True
    query_timeout: Annotated[float, Field(gt=0, le=3600)] = 30.0
    max_body_bytes: Annotated[int, Field(gt=0)] = 2 * 1024 * 1024
    admin_token: SecretStr | None = None
    contributor_tokens: Annotated[list[str], NoDecode] = Field(default_factory=list)
    service_allowlist: Annotated[list[str], NoDecode] = Field(default_factory=list)
    seeds_dir: Path | None = None
    remote_query_url: str | None = None
    remote_update_url: str | None = None
    remote_gsp_url: str | None = None
    remote_user: str | None = None
    remote_password: SecretStr | None = None
    #: Query worker processes (0: twice the usable cores, 2–16). Each holds a read-only view of the store.
    query_workers: Annotated[int, Field(ge=0, le=64)] = 0
    #: Most rows (solutions or triples) one query answer carries; 0 for no cap.
    max_result_rows: Annotated[int, Field(ge=0)] = 100_000
    #: Origins allowed to read query results cross-origin (``*``: any; empty: CORS off).
    cors_origins: Annotated[list[str], NoDecode] = Field(default_factory=lambda: ["*"])

    @field_validator("base_uri")
    @classmethod
    def _base_uri_is_http_and_ends_with_slash(cls, value: str) -> str:
        if not value.startswith(("http://", "https://")) or not value.endswith("/"):
            raise ValueError("must be an http(s) IRI ending with '/', e.g. https://w3id.org/ioir/")
        return value

    @field_validator("admin_token")
    @classmethod
    def _admin_token_is_long(cls, value: SecretStr | None) -> SecretStr | None:
        if value is not None and len(value.get_secret_value()) < 16:
            raise ValueError("must be at least 16 characters (or unset to refuse all writes)")
        return value

    @field_validator("contributor_tokens", "service_allowlist", mode="before")
    @classmethod
    def _csv(cls, value: object) -> object:
        return _split_csv(value)

    @field_validator("cors_origins", mode="before")
    @classmethod
    def _csv_origins(cls, value: object) -> object:
        return _split_csv(value)

    @property
    def id_base(self) -> str:
        """Namespace of entity IRIs: ``{base}id/``."""
        return f"{self.base_uri}id/"

    @property
    def graph_base(self) -> str:
        """Namespace of named-graph IRIs: ``{base}graph/``."""
        return f"{self.base_uri}graph/"

    @property
    def seeds_path(self) -> Path:
        """The source documents: ``IOIR_SEEDS_DIR``, else ``../shared/seeds`` beside the project."""
        return self.seeds_dir if self.seeds_dir is not None else PROJECT_ROOT.parent / "shared" / "seeds"

    @property
    def queries_dir(self) -> Path:
        """The folder of competency queries (``queries/*.rq``)."""
        return self.data_root / "queries"

    @property
    def bundled_dirs(self) -> tuple[Path, Path]:
        """The ``ontology/`` and ``data/`` folders loaded into an empty store."""
        return (self.data_root / "ontology", self.data_root / "data")


def get_settings(**overrides: object) -> Settings:
    """Read the settings from the environment; a bad value raises :class:`BadSetting` with one line."""
    try:
        return Settings(**overrides)  # type: ignore[arg-type]
    except ValidationError as exc:
        first = exc.errors()[0]
        name = "_".join(str(part) for part in first["loc"]) or "settings"
        raise BadSetting(f"IOIR_{name.upper()}: {first['msg']}") from None
