"""Fixtures for the assertion tests: apps over copies of the bundled store, with an admin and contributor tokens."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from ioir_kg.api.app import create_app
from ioir_kg.config import Settings
from ioir_kg.store.inference import materialise
from ioir_kg.store.virtuoso import RemoteSparqlStore
from tests.conftest import BACKENDS

HERE = Path(__file__).resolve().parent
ADMIN_TOKEN = "assertions-admin-token-0123456789"
ALICE_TOKEN = "alice-contributor-token-0123456789"
BOB_TOKEN = "bob-contributor-token-0123456789"
ADMIN = {"Authorization": f"Bearer {ADMIN_TOKEN}"}
ALICE = {"Authorization": f"Bearer {ALICE_TOKEN}"}
BOB = {"Authorization": f"Bearer {BOB_TOKEN}"}
TURTLE = {"Content-Type": "text/turtle"}
#: A supporting quote of source s002, verbatim.
QUOTE = {"source": "s002", "quote": "NATO has a liaison officer in the EULEX operational centre in Pristina"}
PREFIXES = """@base <https://w3id.org/ioir/id/> .
@prefix ioir: <https://w3id.org/ioir/ontology#> .
@prefix skos: <http://www.w3.org/2004/02/skos/core#> .
@prefix dcterms: <http://purl.org/dc/terms/> .
@prefix xsd: <http://www.w3.org/2001/XMLSchema#> .
"""


def copy_store(bundled: Path, target: Path) -> Path:
    """A private copy of the bundled store (and its load manifest) at ``target/store``."""
    target.mkdir(parents=True, exist_ok=True)
    shutil.copytree(bundled, target / "store")
    manifest = bundled.with_name(bundled.name + ".loaded.json")
    if manifest.is_file():
        shutil.copy(manifest, target / "store.loaded.json")
    return target / "store"


def settings_for(store: Path, **overrides: object) -> Settings:
    """Settings for an app over ``store`` with the test tokens (workers kept few)."""
    values: dict[str, object] = {
        "store_path": store,
        "admin_token": ADMIN_TOKEN,
        "contributor_tokens": [f"alice:{ALICE_TOKEN}", f"bob:{BOB_TOKEN}"],
        "query_workers": 2,
        "max_assertion_triples": 100,
    }
    values.update(overrides)
    return Settings(**values)  # type: ignore[arg-type]


def dependency(
    slug: str, *, dependent: str = "org/eu", provider: str = "org/nato", level: str = "micro", extra: str = ""
) -> str:
    """A small resource dependency between two organizations at ``level`` in Turtle (its evidence comes from the
    metadata :data:`QUOTE`)."""
    return PREFIXES + (
        f'<dependency/{slug}> a ioir:ResourceDependency ; skos:prefLabel "Test dependency {slug}"@en ;\n'
        f"    ioir:dependent <{dependent}> ; ioir:provider <{provider}> ;\n"
        f"    ioir:dependencyLevel <concept/level-{level}> ;\n"
        f"    ioir:resourceType <concept/resource-information> {extra}.\n"
    )


@pytest.fixture(scope="module")
def module_store(tmp_path_factory: pytest.TempPathFactory, bundled_store_path: Path) -> Path:
    """A copy of the bundled store that the module's tests share (and write to)."""
    return copy_store(bundled_store_path, tmp_path_factory.mktemp("assertions"))


@pytest.fixture(scope="module", params=BACKENDS)
def api(request: pytest.FixtureRequest) -> Iterator[TestClient]:
    """The real app over the bundled data that accepts assertions, on each backend (the module's tests share it).

    Embedded: the module's copy of the bundled store. Remote: the session's bundled dataset on Virtuoso; the
    graphs the module's tests add there are dropped afterwards.
    """
    if request.param == "oxigraph":
        with TestClient(create_app(settings_for(request.getfixturevalue("module_store")))) as client:
            yield client
        return
    remote: Settings = request.getfixturevalue("remote_bundled")
    settings = Settings(  # validated again: the tokens become secrets
        **{
            **remote.model_dump(),
            "load_bundled": False,
            "admin_token": ADMIN_TOKEN,
            "contributor_tokens": [f"alice:{ALICE_TOKEN}", f"bob:{BOB_TOKEN}"],
            "max_assertion_triples": 100,
        }
    )
    store = RemoteSparqlStore.from_settings(settings)
    before = {g.iri for g in store.graphs()}
    try:
        with TestClient(create_app(settings)) as client:
            yield client
    finally:
        for info in store.graphs():
            if info.iri not in before:
                store.drop_graph(info.iri)
        materialise(store, settings)  # the shared dataset's entailments without the module's assertions
        store.close()


@pytest.fixture
def fresh_store(tmp_path: Path, bundled_store_path: Path) -> Path:
    """A copy of the bundled store for one test."""
    return copy_store(bundled_store_path, tmp_path / "copy")
