"""The real ``ioir-kg`` console script against Virtuoso: ``load --backend remote``, then the other commands.

The session's Virtuoso runs Debian's stock ``virtuoso.ini`` (``tests/support/virtuoso.py``), so the bundled data
is loaded under the limits a stock installation has."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

from ioir_kg.config import PROJECT_ROOT, Settings
from ioir_kg.store.oxigraph import OxigraphStore
from ioir_kg.store.virtuoso import RemoteSparqlStore

GOOD = """@base <https://w3id.org/ioir/id/> .
@prefix skos: <http://www.w3.org/2004/02/skos/core#> .
<org/un> skos:prefLabel "United Nations"@en .
<org/eu> skos:prefLabel "European Union"@en ; skos:altLabel [ skos:prefLabel "EU"@en ] .
"""


def _run(env: dict[str, str], cwd: Path, *args: str) -> subprocess.CompletedProcess[str]:
    command = [sys.executable, "-m", "ioir_kg", *args]
    return subprocess.run(command, capture_output=True, text=True, env=env, cwd=cwd, timeout=120, check=False)


def _environment(settings: Settings, tmp_path: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("IOIR_")}
    env.update(
        IOIR_STORE_PATH=str(tmp_path / "store"),
        IOIR_DATA_ROOT=str(settings.data_root),
        IOIR_BASE_URI=settings.base_uri,
        IOIR_REMOTE_GRAPH_PREFIXES=settings.base_uri,
        IOIR_REMOTE_QUERY_URL=str(settings.remote_query_url),
        IOIR_REMOTE_UPDATE_URL=str(settings.remote_update_url),
        IOIR_REMOTE_GSP_URL=str(settings.remote_gsp_url),
        IOIR_REMOTE_USER=str(settings.remote_user),
        IOIR_REMOTE_PASSWORD=settings.remote_password.get_secret_value() if settings.remote_password else "",
    )
    return env


def test_load_of_the_bundled_data_matches_the_embedded_store(
    scratch: Callable[..., Settings], bundled_store_path: Path, tmp_path: Path
) -> None:
    """Every bundled file loads on a stock Virtuoso (files of over ~1,400 triples once failed with SP031, "generated
    SQL text has exceeded 10000 lines"), graph by graph with the embedded store's triple counts."""
    settings = scratch(data_root=PROJECT_ROOT)
    loaded = _run(_environment(settings, tmp_path), tmp_path, "load", "--backend", "remote")
    assert loaded.returncode == 0, loaded.stderr
    assert loaded.stdout.count("loaded") == len(loaded.stdout.splitlines())
    remote = RemoteSparqlStore.from_settings(settings)
    found = {g.iri.removeprefix(settings.graph_base): g.triples for g in remote.graphs()}
    remote.close()
    embedded = OxigraphStore(bundled_store_path, read_only=True)
    # the files' graphs; the generated ones (source texts, quote selectors) are made by the app's start, not by load
    expected = {
        name: g.triples
        for g in embedded.graphs()
        if not (name := g.iri.removeprefix(Settings().graph_base)).startswith("generated/")
    }
    embedded.close()
    assert found == expected
    assert sum(found.values()) > 10_000


def test_load_into_the_remote_backend_then_query_it(scratch: Callable[..., Settings], tmp_path: Path) -> None:
    project = tmp_path / "proj"
    (project / "data").mkdir(parents=True)
    (project / "data" / "orgs.ttl").write_text(GOOD, encoding="utf-8")
    settings = scratch(data_root=project)
    env = _environment(settings, tmp_path)
    loaded = _run(env, tmp_path, "load", "--backend", "remote")
    assert loaded.returncode == 0, loaded.stderr
    assert loaded.stdout.split() == ["loaded", f"{settings.graph_base}data/orgs", "4", "triples"]
    store = RemoteSparqlStore.from_settings(settings)
    assert [(g.iri, g.triples) for g in store.graphs()] == [(f"{settings.graph_base}data/orgs", 4)]
    store.close()

    remote = {**env, "IOIR_BACKEND": "remote", "IOIR_LOAD_BUNDLED": "false"}
    query = _run(
        remote,
        tmp_path,
        "query",
        "SELECT ?l WHERE { ?s <http://www.w3.org/2004/02/skos/core#prefLabel> ?l } ORDER BY ?l",
        "--format",
        "json",
    )
    assert query.returncode == 0, query.stderr
    assert [r["l"]["value"] for r in json.loads(query.stdout)["results"]["bindings"]] == [
        "EU",
        "European Union",
        "United Nations",
    ]
    dump = _run(remote, tmp_path, "dump")
    assert dump.returncode == 0, dump.stderr
    assert len(dump.stdout.splitlines()) == 4
    assert "_:" in dump.stdout  # the blank node comes back as one

    refused = _run({**remote, "IOIR_REMOTE_QUERY_URL": "http://127.0.0.1:9/sparql"}, tmp_path, "query", "ASK {}")
    assert refused.returncode == 3
    assert "cannot be reached" in refused.stderr
    missing = _run({**remote, "IOIR_REMOTE_QUERY_URL": ""}, tmp_path, "query", "ASK {}")
    assert missing.returncode == 2
