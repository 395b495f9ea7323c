"""The real ``ioir-kg`` console script against Virtuoso: ``load --backend remote``, then the other commands."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

from ioir_kg.config import Settings
from ioir_kg.store.remote import RemoteSparqlStore

GOOD = """@base <https://w3id.org/ioir/id/> .
@prefix skos: <http://www.w3.org/2004/02/skos/core#> .
<org/un> skos:prefLabel "United Nations"@en .
<org/eu> skos:prefLabel "European Union"@en ; skos:altLabel [ skos:prefLabel "EU"@en ] .
"""


def _run(env: dict[str, str], cwd: Path, *args: str) -> subprocess.CompletedProcess[str]:
    command = [sys.executable, "-m", "ioir_kg", *args]
    return subprocess.run(command, capture_output=True, text=True, env=env, cwd=cwd, timeout=120, check=False)


def test_load_into_the_remote_backend_then_query_it(scratch: Callable[..., Settings], tmp_path: Path) -> None:
    project = tmp_path / "proj"
    (project / "data").mkdir(parents=True)
    (project / "data" / "orgs.ttl").write_text(GOOD, encoding="utf-8")
    settings = scratch(data_root=project)
    env = {k: v for k, v in os.environ.items() if not k.startswith("IOIR_")}
    env.update(
        IOIR_STORE_PATH=str(tmp_path / "store"),
        IOIR_DATA_ROOT=str(project),
        IOIR_BASE_URI=settings.base_uri,
        IOIR_REMOTE_GRAPH_PREFIXES=settings.base_uri,
        IOIR_REMOTE_QUERY_URL=str(settings.remote_query_url),
        IOIR_REMOTE_UPDATE_URL=str(settings.remote_update_url),
        IOIR_REMOTE_GSP_URL=str(settings.remote_gsp_url),
        IOIR_REMOTE_USER=str(settings.remote_user),
        IOIR_REMOTE_PASSWORD=settings.remote_password.get_secret_value() if settings.remote_password else "",
    )
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
