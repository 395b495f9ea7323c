"""Typed settings read from ``IOIR_*`` environment variables.

>>> s = Settings(base_uri="https://example.org/kg/")
>>> s.id_base
'https://example.org/kg/id/'
"""

from __future__ import annotations

import hashlib
import ipaddress
from enum import StrEnum
from importlib import resources
from pathlib import Path
from typing import Annotated

from pydantic import Field, SecretStr, ValidationError, field_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

from ioir_kg import __version__
from ioir_kg.errors import BadSetting
from ioir_kg.namespaces import SLUG

PROJECT_ROOT = Path(__file__).resolve().parent.parent
#: The folders of the bundled dataset, under the data root: a source checkout's, or the wheel's copy.
BUNDLED_FOLDERS = ("ontology", "data", "queries")
DEFAULT_BASE_URI = "https://w3id.org/ioir/"


class Backend(StrEnum):
    """Which :class:`~ioir_kg.store.base.KnowledgeStore` implementation serves the app."""

    OXIGRAPH = "oxigraph"
    REMOTE = "remote"


class RemoteAuth(StrEnum):
    """How :class:`~ioir_kg.store.virtuoso.RemoteSparqlStore` authenticates to the remote server."""

    DIGEST = "digest"
    BASIC = "basic"
    NONE = "none"


def default_data_root() -> Path:
    """The source checkout when running from one, else the dataset's copy in the wheel (``ioir_kg/_bundled``)."""
    if (PROJECT_ROOT / "ontology" / "ioir.ttl").is_file():
        return PROJECT_ROOT
    return Path(str(resources.files("ioir_kg").joinpath("_bundled")))


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
    data_root: Path = Field(default_factory=default_data_root)
    load_bundled: bool = True
    union_default_graph: bool = True
    #: Whether the union default graph of ``/sparql`` and ``/queries`` includes the inferred graph when a request
    #: does not say (``infer=true|false``); the entailments are materialised either way.
    inference: bool = True
    #: Above this many triples in the store no entailments are materialised (the reasoner's memory grows with the
    #: closure: 154 MB at 19 k triples, more than 21 GB at a million).
    inference_max_triples: Annotated[int, Field(ge=0)] = 250_000
    query_timeout: Annotated[float, Field(gt=0, le=3600)] = 30.0
    max_body_bytes: Annotated[int, Field(gt=0)] = 2 * 1024 * 1024
    admin_token: SecretStr | None = None
    #: ``name:token`` pairs of the contributors allowed to submit assertions (``IOIR_CONTRIBUTOR_TOKENS``).
    contributor_tokens: Annotated[list[str], NoDecode] = Field(default_factory=list, repr=False)
    #: Most triples one submitted assertion may hold (413 beyond); validation time grows with it.
    max_assertion_triples: Annotated[int, Field(gt=0, le=100_000)] = 2000
    service_allowlist: Annotated[list[str], NoDecode] = Field(default_factory=list)
    seeds_dir: Path | None = None
    remote_query_url: str | None = None
    remote_update_url: str | None = None
    remote_gsp_url: str | None = None
    remote_user: str | None = None
    remote_password: SecretStr | None = None
    #: How the remote store authenticates (Virtuoso's ``/sparql-auth`` wants Digest).
    remote_auth: RemoteAuth = RemoteAuth.DIGEST
    #: Seconds to open a connection to the remote store, and to wait for an update's answer.
    remote_connect_timeout: Annotated[float, Field(gt=0, le=600)] = 5.0
    remote_update_timeout: Annotated[float, Field(gt=0, le=86400)] = 300.0
    #: Retries of a read that failed before an answer (connection refused or dropped, 502/503/504).
    remote_retries: Annotated[int, Field(ge=0, le=10)] = 2
    #: How long the remote store's list of graphs is cached (0: listed before every query).
    remote_graph_cache_seconds: Annotated[float, Field(ge=0, le=3600)] = 10.0
    #: IRI prefixes of the graphs that make up the dataset on a shared server (empty: every graph but
    #: the server's own system graphs).
    remote_graph_prefixes: Annotated[list[str], NoDecode] = Field(default_factory=list)
    #: Evaluate ``*``/``+``/``?`` property paths in the app (Virtuoso 7.2 answers them wrongly); turn off for
    #: a server that evaluates them right.
    remote_emulate_paths: bool = True
    #: Query worker processes (0: twice the usable cores, 2–16). Each holds a read-only view of the store.
    query_workers: Annotated[int, Field(ge=0, le=64)] = 0
    #: Most rows (solutions or triples) one query answer carries; 0 for no cap.
    max_result_rows: Annotated[int, Field(ge=0)] = 100_000
    #: Longest SPARQL query text, in characters (413 beyond; updates are bounded by ``IOIR_MAX_BODY_BYTES``).
    max_query_chars: Annotated[int, Field(ge=1000, le=1_000_000)] = 100_000
    #: Deepest nesting of brackets (``{``, ``(``, ``[``) in a query or update (400 beyond): the parser recurses on it.
    max_query_depth: Annotated[int, Field(ge=8, le=1000)] = 64
    #: Largest response body, in bytes (0: no cap); the N-Quads dumps are exempt. A larger answer is refused (422)
    #: when its size is known up front, else cut off by closing the connection before its end.
    max_response_bytes: Annotated[int, Field(ge=0)] = 128 * 1024 * 1024
    #: Most bytes of request headers (names and values) the app reads (431 beyond).
    max_header_bytes: Annotated[int, Field(ge=1024, le=1024 * 1024)] = 64 * 1024
    #: Seconds a request (headers and body) may take to arrive; the connection is then closed (408 if nothing has
    #: been answered on it yet). Enforced by ``ioir-kg serve`` (:mod:`ioir_kg.api.connections`).
    client_timeout: Annotated[float, Field(gt=0, le=3600)] = 30.0
    #: Most queries (``/sparql``, ``/queries/{name}``, Graph Store and dump reads) and validations (``/validate``) one
    #: client address may have in flight (429 beyond); 0: half the query workers, at least 1.
    max_queries_per_client: Annotated[int, Field(ge=0, le=10_000)] = 0
    #: Addresses or networks of the reverse proxies whose ``X-Forwarded-For`` names the client (empty: the peer
    #: address is the client, whatever the header says).
    trusted_proxies: Annotated[list[str], NoDecode] = Field(default_factory=list)
    #: Origins allowed to read query results cross-origin (``*``: any; empty: CORS off).
    cors_origins: Annotated[list[str], NoDecode] = Field(default_factory=lambda: ["*"])
    #: Public URL of this deployment (``IOIR_PUBLIC_URL``, e.g. ``https://kg.example.org/``): the SPARQL
    #: endpoint and dump named in VoID, and the target of the redirect rules; unset: the URL a request came in on.
    public_url: str | None = None
    #: Licence of the dataset, named in VoID/DCAT (``IOIR_DATASET_LICENSE``).
    dataset_license: str = "https://creativecommons.org/licenses/by/4.0/"
    #: Where generated artefacts (the ontology's HTML documentation) are cached; unset: ``var/cache`` under the
    #: data root (shared by every store, keyed by content, never committed).
    cache_dir: Path | None = None

    @field_validator("base_uri")
    @classmethod
    def _base_uri_is_http_and_ends_with_slash(cls, value: str) -> str:
        if not value.startswith(("http://", "https://")) or not value.endswith("/"):
            raise ValueError("must be an http(s) IRI ending with '/', e.g. https://w3id.org/ioir/")
        return value

    @field_validator("public_url")
    @classmethod
    def _public_url_is_http(cls, value: str | None) -> str | None:
        if value is None or not value.strip():
            return None
        value = value.strip()
        if not value.startswith(("http://", "https://")) or any(c in value for c in "?# <>\"'"):
            raise ValueError("must be an http(s) URL without query or fragment, e.g. https://kg.example.org/")
        return value if value.endswith("/") else value + "/"

    @field_validator("admin_token")
    @classmethod
    def _admin_token_is_long(cls, value: SecretStr | None) -> SecretStr | None:
        if value is not None and len(value.get_secret_value()) < 16:
            raise ValueError("must be at least 16 characters (or unset to refuse all writes)")
        return value

    @field_validator("remote_query_url", "remote_update_url", "remote_gsp_url")
    @classmethod
    def _remote_url_is_http(cls, value: str | None) -> str | None:
        if value is not None and not value.startswith(("http://", "https://")):
            raise ValueError("must be an http(s) URL, e.g. http://127.0.0.1:8890/sparql")
        return value

    @field_validator("remote_graph_prefixes", mode="before")
    @classmethod
    def _csv_prefixes(cls, value: object) -> object:
        return _split_csv(value)

    @field_validator("contributor_tokens", "service_allowlist", mode="before")
    @classmethod
    def _csv(cls, value: object) -> object:
        return _split_csv(value)

    @field_validator("contributor_tokens")
    @classmethod
    def _contributor_tokens_are_named(cls, value: list[str]) -> list[str]:
        names: set[str] = set()
        for item in value:
            name, sep, token = item.partition(":")
            if not sep or not SLUG.match(name):
                raise ValueError("write each entry as name:token, the name in lowercase letters, digits and hyphens")
            if name == "admin" or name in names:
                raise ValueError(f"contributor name {name!r} is reserved or given twice")
            if len(token) < 16:
                raise ValueError(f"the token of contributor {name!r} must be at least 16 characters")
            names.add(name)
        return value

    @field_validator("trusted_proxies", mode="before")
    @classmethod
    def _csv_proxies(cls, value: object) -> object:
        return _split_csv(value)

    @field_validator("trusted_proxies")
    @classmethod
    def _proxies_are_addresses(cls, value: list[str]) -> list[str]:
        for item in value:
            try:
                ipaddress.ip_network(item, strict=False)
            except ValueError:
                raise ValueError(f"{item!r} is not an IP address or network (e.g. 10.0.0.5 or 10.0.0.0/24)") from None
        return value

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
    def contributors(self) -> dict[str, SecretStr]:
        """The contributor tokens by contributor name (from ``IOIR_CONTRIBUTOR_TOKENS``)."""
        pairs = (item.partition(":") for item in self.contributor_tokens)
        return {name: SecretStr(token) for name, _, token in pairs}

    @property
    def seeds_path(self) -> Path:
        """The source documents: ``IOIR_SEEDS_DIR``, else ``../shared/seeds`` beside the project."""
        return self.seeds_dir if self.seeds_dir is not None else PROJECT_ROOT.parent / "shared" / "seeds"

    @property
    def coverage_exclusions_path(self) -> Path:
        """The sentences reviewed as holding no fact (``data/coverage/reviewed-no-fact.tsv``)."""
        return self.bundled_dirs[1] / "coverage" / "reviewed-no-fact.tsv"

    @property
    def cache_path(self) -> Path:
        """The cache folder: ``IOIR_CACHE_DIR``, else ``var/cache`` under ``IOIR_DATA_ROOT``."""
        return self.cache_dir if self.cache_dir is not None else self.data_root / "var" / "cache"

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


def dataset_version(settings: Settings) -> str:
    """``{package version}+{12 hex digits}``: the SHA-256 of the bundled files' paths and contents.

    Two deployments serve the same bundled dataset exactly when their versions agree.
    """
    digest = hashlib.sha256()
    for folder in BUNDLED_FOLDERS:
        root = settings.data_root / folder
        for path in _files(root):
            digest.update(path.relative_to(settings.data_root).as_posix().encode() + b"\0")
            digest.update(hashlib.sha256(path.read_bytes()).digest())
    return f"{__version__}+{digest.hexdigest()[:12]}"


def _files(folder: Path) -> list[Path]:
    return sorted(p for p in folder.rglob("*") if p.is_file()) if folder.is_dir() else []
