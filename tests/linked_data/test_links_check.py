"""``ioir-kg links check``: every link of the linkset re-checked against a real Wikidata-shaped SPARQL server.

The ``wikidata`` fixture is ``oxigraph serve`` with ``wikidata-fixture.ttl``; a linkset variant written to a
temporary file carries a wrong link, a redirected item and a deleted one, which must each be reported.
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
from pathlib import Path

from ioir_kg.config import PROJECT_ROOT
from ioir_kg.linked_data.links import WikidataEndpoint, check_links, read_links
from tests.linked_data.conftest import Server

LINKSET = PROJECT_ROOT / "data" / "links" / "wikidata.ttl"
VARIANT = """@base <https://w3id.org/ioir/id/> .
@prefix owl: <http://www.w3.org/2002/07/owl#> .
@prefix skos: <http://www.w3.org/2004/02/skos/core#> .
@prefix wd: <http://www.wikidata.org/entity/> .
<org/osce> owl:sameAs wd:Q81299 .
<org/csce> owl:sameAs wd:Q41550 .
<mission/kfor> owl:sameAs wd:Q99999001 .
<place/kosovo> skos:exactMatch wd:Q99999002 .
"""


def links_check(*args: str) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("IOIR_")}
    return subprocess.run(
        [sys.executable, "-m", "ioir_kg", "links", "check", *args],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        cwd=PROJECT_ROOT,
    )


def test_every_committed_link_holds(wikidata: Server) -> None:
    done = links_check("--endpoint", f"{wikidata.url}query")
    assert done.returncode == 0, done.stdout + done.stderr
    assert done.stdout == ""
    total = len(read_links(LINKSET))
    assert f"{total} of {total} links hold" in done.stderr


def test_wrong_redirected_and_deleted_links_are_reported(wikidata: Server, tmp_path: Path) -> None:
    variant = tmp_path / "variant.ttl"
    variant.write_text(VARIANT, encoding="utf-8")
    done = links_check("--endpoint", f"{wikidata.url}query", "--linkset", str(variant))
    assert done.returncode == 1, done.stderr
    lines = done.stdout.splitlines()
    assert len(lines) == 3, lines
    assert any(line.startswith("org/csce owl:sameAs Q41550: no label") for line in lines)
    assert "mission/kfor owl:sameAs Q99999001: the item is a redirect (owl:sameAs Q7184)" in lines
    assert "place/kosovo skos:exactMatch Q99999002: the item has no triples (deleted, or never existed)" in lines
    assert "1 of 4 links hold" in done.stderr


def test_labels_match_in_any_language_and_aliases(wikidata: Server) -> None:
    links = [link for link in read_links(LINKSET, [PROJECT_ROOT / "data"]) if link.qid in ("Q142", "Q30")]
    france = next(link for link in links if link.qid == "Q142")
    german_only = type(france)(france.entity, france.predicate, france.item, frozenset({"Frankreich"}))
    endpoint = WikidataEndpoint(f"{wikidata.url}query")
    try:
        assert check_links([*links, german_only], endpoint) == []
    finally:
        endpoint.close()


def test_a_bad_url_is_refused_in_one_line() -> None:
    done = links_check("--endpoint", "ftp://example.org/sparql")
    assert done.returncode == 2
    assert done.stderr.count("\n") == 1
    assert "--endpoint must be an http(s) URL" in done.stderr


def test_an_unreachable_endpoint_exits_3() -> None:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]  # closed again: nothing listens there
    done = links_check("--endpoint", f"http://127.0.0.1:{port}/query")
    assert done.returncode == 3
    assert "did not answer" in done.stderr
