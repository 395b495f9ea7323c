"""``GET /ontology``: the ontology negotiated, pyLODE's HTML with one anchor per term, and its fallback."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from urllib.parse import urlsplit

import pytest
from fastapi.testclient import TestClient
from pyoxigraph import CanonicalizationAlgorithm, Dataset, NamedNode, Quad, RdfFormat, Triple, parse

from ioir_kg.api.app import create_app
from ioir_kg.config import PROJECT_ROOT, Settings
from ioir_kg.linked_data.ontology import FALLBACK_NOTICE
from ioir_kg.namespaces import IOIR, ONTOLOGY_IRI, PREFIXES
from tests.linked_data.conftest import start_app
from tests.linked_data.pages import read_page
from tests.linked_data.test_resources import ALL_TYPES, BROWSER, RDF_TYPES, link_header

ONTOLOGY_FILE = PROJECT_ROOT / "ontology" / "ioir.ttl"


def ontology_terms() -> set[str]:
    """Local names of every ``ioir:`` term the ontology file declares."""
    return {
        q.subject.value[len(IOIR) :]
        for q in parse(path=str(ONTOLOGY_FILE), format=RdfFormat.TURTLE)
        if isinstance(q.subject, NamedNode) and q.subject.value.startswith(IOIR) and q.subject.value != IOIR
    }


def canonical(quads: list[Quad]) -> set[Triple]:
    """The triples with blank nodes renamed canonically, to compare graphs up to isomorphism."""
    dataset = Dataset(quads)
    dataset.canonicalize(CanonicalizationAlgorithm.UNSTABLE)
    return {q.triple for q in dataset}


@pytest.mark.parametrize("media_type", list(RDF_TYPES))
def test_ontology_negotiates_rdf(client: TestClient, media_type: str) -> None:
    response = client.get("/ontology", headers={"Accept": media_type})
    assert response.status_code == 200
    assert response.headers["content-type"].split(";")[0] == media_type
    assert response.headers["vary"] == "Accept"
    assert set(link_header(response.headers["link"])) == set(ALL_TYPES)
    triples = canonical(list(parse(response.content, format=RDF_TYPES[media_type])))
    expected = canonical(list(parse(path=str(ONTOLOGY_FILE), format=RdfFormat.TURTLE)))
    assert triples == expected
    assert Triple(
        NamedNode(ONTOLOGY_IRI), NamedNode(PREFIXES["rdf"] + "type"), NamedNode(PREFIXES["owl"] + "Ontology")
    ) in (triples)


def test_ontology_turtle_is_the_file_and_the_default(client: TestClient) -> None:
    response = client.get("/ontology")
    assert response.headers["content-type"] == "text/turtle; charset=utf-8"
    assert response.content == ONTOLOGY_FILE.read_bytes()
    assert (
        client.get("/ontology?_mediatype=application/rdf%2Bxml", headers={"Accept": BROWSER})
        .headers["content-type"]
        .startswith("application/rdf+xml")
    )
    assert client.get("/ontology", headers={"Accept": "image/png"}).status_code == 406


def test_version_iri_resolves(client: TestClient) -> None:
    assert client.get("/ontology/0.1.0", headers={"Accept": "text/turtle"}).status_code == 200
    missing = client.get("/ontology/9.9.9", headers={"Accept": "text/turtle"})
    assert missing.status_code == 404
    assert missing.headers["content-type"] == "application/problem+json"


def test_html_is_pylode_with_an_anchor_per_term(make_settings: Callable[..., Settings], tmp_path: Path) -> None:
    cache = tmp_path / "cache"
    settings = make_settings(load_bundled=False, cache_dir=cache, query_workers=1)
    with TestClient(create_app(settings)) as client:
        response = client.get("/ontology", headers={"Accept": BROWSER})
    assert response.status_code == 200
    assert response.headers["content-type"] == "text/html; charset=utf-8"
    assert response.headers["vary"] == "Accept"
    page = read_page(response.text)
    assert "pyLODE" in response.text
    missing = ontology_terms() - page.ids
    assert not missing, f"terms without an anchor: {sorted(missing)}"
    assert ("/sparql", "SPARQL") in page.links  # the site's navigation
    # nothing is loaded from another host: no external scripts, stylesheets or images
    assert not [s for s in page.scripts if not s.startswith("/")]
    assert not [s for s in page.stylesheets if not s.startswith(("/", "data:"))]
    assert '<img src="http' not in response.text
    cached = list(cache.glob("ontology-*.html"))
    assert len(cached) == 1, "generated once into the cache folder"
    assert cached[0].read_text(encoding="utf-8") == response.text


def test_term_iris_land_on_their_anchor(client: TestClient) -> None:
    page = read_page(client.get("/ontology", headers={"Accept": BROWSER}).text)
    for term in ("Mission", "ResourceDependency", "launchedBy", "dependencyLevel", "DateValue"):
        iri = IOIR + term
        parts = urlsplit(iri)  # what a browser requests: the path, the fragment stays client-side
        assert parts.path == "/ioir/ontology"
        assert parts.fragment == term
        assert term in page.ids, term


def test_html_is_served_from_the_cache_on_the_next_start(
    make_settings: Callable[..., Settings], tmp_path: Path
) -> None:
    cache = tmp_path / "cache"
    settings = make_settings(load_bundled=False, cache_dir=cache, query_workers=1)
    with TestClient(create_app(settings)) as client:
        first = client.get("/ontology", headers={"Accept": BROWSER}).text
    cached = next(cache.glob("ontology-*.html"))
    stamp = cached.stat().st_mtime_ns
    time.sleep(0.01)
    with TestClient(create_app(settings)) as client:
        started = time.monotonic()
        again = client.get("/ontology", headers={"Accept": BROWSER}).text
        elapsed = time.monotonic() - started
    assert again == first
    assert cached.stat().st_mtime_ns == stamp
    assert elapsed < 2.0


def test_fallback_when_pylode_fails(make_settings: Callable[..., Settings], tmp_path: Path) -> None:
    """An ontology pyLODE cannot document (no owl:Ontology) still gets a page with one anchor per term."""
    root = tmp_path / "root"
    (root / "ontology").mkdir(parents=True)
    shutil.copytree(PROJECT_ROOT / "queries", root / "queries")
    text = ONTOLOGY_FILE.read_text(encoding="utf-8").replace(
        "<https://w3id.org/ioir/ontology> a owl:Ontology ;", "<https://w3id.org/ioir/ontology> a owl:Thing ;"
    )
    assert "a owl:Thing" in text
    (root / "ontology" / "ioir.ttl").write_text(text, encoding="utf-8")
    settings = make_settings(load_bundled=False, data_root=root, cache_dir=tmp_path / "cache", query_workers=1)
    with TestClient(create_app(settings)) as client:
        response = client.get("/ontology", headers={"Accept": BROWSER})
        turtle = client.get("/ontology", headers={"Accept": "text/turtle"})
    assert response.status_code == 200
    assert FALLBACK_NOTICE in response.text
    page = read_page(response.text)
    assert not ontology_terms() - page.ids
    assert ("#Mission", "mission") in page.links
    assert ("/ontology?_mediatype=text/turtle", "Turtle") in page.links
    assert turtle.status_code == 200
    assert not list((tmp_path / "cache").glob("ontology-*.html")), "a failed generation is not cached"


#: Seven triples to validate (enough for pySHACL to run every shape over them).
SEVEN_TRIPLES = """\
@prefix ioir: <https://w3id.org/ioir/ontology#> .
@prefix skos: <http://www.w3.org/2004/02/skos/core#> .
<https://w3id.org/ioir/id/dependency/log-check> a ioir:ResourceDependency ;
    skos:prefLabel "A dependency to validate"@en ;
    ioir:dependent <https://w3id.org/ioir/id/mission/eupol-afghanistan> ;
    ioir:provider <https://w3id.org/ioir/id/mission/isaf> ;
    ioir:resourceType <https://w3id.org/ioir/id/concept/resource-security-provision> ;
    ioir:dependencyLevel <https://w3id.org/ioir/id/concept/level-micro> ;
    ioir:theatre <https://w3id.org/ioir/id/place/afghanistan> .
"""


def test_generating_the_page_in_process_leaves_the_root_logger_alone(tmp_path: Path) -> None:
    """In a fresh interpreter (pytest's own log handlers would hide a change): the root logger's level and
    handlers are what they were before the page was generated with a cold cache."""
    script = (
        "import logging\n"
        "from ioir_kg.config import Settings\n"
        "from ioir_kg.linked_data.ontology import OntologyDocs\n"
        "before = (logging.root.level, list(logging.root.handlers))\n"
        f"page = OntologyDocs(Settings(cache_dir={str(tmp_path / 'cache')!r})).html()\n"
        "assert 'pyLODE' in page, page[:300]\n"
        "after = (logging.root.level, list(logging.root.handlers))\n"
        "print(before == after, logging.getLevelName(after[0]), len(after[1]))\n"
    )
    env = {k: v for k, v in os.environ.items() if not k.startswith("IOIR_")}
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, env=env, timeout=300)
    assert done.returncode == 0, done.stderr[-2000:]
    assert done.stdout.split() == ["True", "WARNING", "0"], done.stdout
    assert list((tmp_path / "cache").glob("ontology-*.html")), "the page was generated, not read from a cache"


def test_a_validation_after_a_cold_start_logs_no_debug_lines(tmp_path: Path) -> None:
    """A server started with a cold cache generates the page in the background; a validation afterwards must not
    write pySHACL's (or anyone's) DEBUG lines to the server's log."""
    server = start_app(tmp_path, {"IOIR_CACHE_DIR": str(tmp_path / "cache")}, own_base=False)
    try:
        with server.client() as client:
            page = client.get("ontology", headers={"Accept": BROWSER})
            assert "pyLODE" in page.text
            response = client.post("validate", content=SEVEN_TRIPLES, headers={"Content-Type": "text/turtle"})
            assert response.status_code == 200, response.text[:500]
            assert client.get("health").status_code == 200
    finally:
        server.stop()
    debug = [line for line in server.log.read_text(errors="replace").splitlines() if "DEBUG" in line]
    assert not debug, f"{len(debug)} DEBUG lines, such as: {debug[:3]}"
