"""The pages and their data over HTTP (the real ASGI app, no browser): negotiation beside the JSON APIs, headers,
escaping, the network's data and filters, the search suggestions, the vendored assets."""

from __future__ import annotations

import base64
import hashlib
import json
import re
from collections.abc import Callable, Iterator
from html.parser import HTMLParser
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from pyoxigraph import Literal, NamedNode, Quad

from ioir_kg.api.app import create_app
from ioir_kg.config import Settings
from ioir_kg.linked_data.views import STATIC_DIR
from ioir_kg.store import open_store
from ioir_kg.web.pages import EDITOR_STYLE_HASHES

BROWSER = "text/html,application/xhtml+xml,application/xml;q=0.9,image/avif,image/webp,*/*;q=0.8"
ID = "https://w3id.org/ioir/id/"
PAGES = [
    "/",
    "/search?q=kosovo",
    "/sparql",
    "/queries",
    "/queries/evidence",
    "/network",
    "/network?focus=org/nato&embed=1",
    "/assertions/new",
    "/id/org/nato",
]


class _Assets(HTMLParser):
    """The scripts, stylesheets, frames and inline scripts of a page."""

    def __init__(self) -> None:
        super().__init__()
        self.urls: list[str] = []
        self.inline: list[str] = []
        self._in_script: str | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = dict(attrs)
        if tag == "script":
            if a.get("src"):
                self.urls.append(a["src"] or "")
            else:
                self._in_script = a.get("type") or "text/javascript"
        elif tag == "link" and a.get("href"):
            self.urls.append(a["href"] or "")
        elif tag in ("iframe", "img") and a.get("src"):
            self.urls.append(a["src"] or "")

    def handle_endtag(self, tag: str) -> None:
        if tag == "script":
            self._in_script = None

    def handle_data(self, data: str) -> None:
        if self._in_script and data.strip():
            self.inline.append(self._in_script)


def assets(html: str) -> _Assets:
    reader = _Assets()
    reader.feed(html)
    return reader


@pytest.mark.parametrize("path", PAGES)
def test_pages_load_only_their_own_assets_under_a_policy(client: TestClient, path: str) -> None:
    response = client.get(path, headers={"Accept": BROWSER})
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/html")
    policy = response.headers["content-security-policy"]
    assert "script-src 'self';" in policy
    assert "unsafe-inline" not in policy
    assert "unsafe-eval" not in policy
    assert response.headers["x-content-type-options"] == "nosniff"
    found = assets(response.text)
    assert all(u.startswith("/") and not u.startswith("//") for u in found.urls), found.urls
    assert set(found.inline) <= {"application/json"}, "no inline script runs (data blocks only)"
    for url in found.urls:
        if url.startswith("/static/"):
            assert client.get(url).status_code == 200, url


def test_the_catalogue_is_json_for_programs_and_a_gallery_for_browsers(client: TestClient) -> None:
    for accept in (None, "*/*", "application/json"):
        headers = {"Accept": accept} if accept else {}
        response = client.get("/queries", headers=headers)
        assert response.headers["content-type"] == "application/json"
        assert len(response.json()["queries"]) >= 25
    page = client.get("/queries", headers={"Accept": BROWSER})
    assert page.headers["content-type"].startswith("text/html")
    assert 'href="/queries/instruments-between"' in page.text
    assert client.get("/queries?format=html").headers["content-type"].startswith("text/html")


def test_a_query_answers_data_to_programs_and_a_page_to_browsers(client: TestClient) -> None:
    as_json = client.get("/queries/mission-successions")
    assert as_json.status_code == 200, as_json.text
    assert as_json.headers["content-type"].startswith("application/sparql-results+json")
    rows = as_json.json()["results"]["bindings"]
    page = client.get("/queries/mission-successions", headers={"Accept": BROWSER})
    assert page.status_code == 200
    assert page.headers["vary"] == "Accept"
    assert page.text.count("<tr>") == len(rows) + 1  # header row + one per answer
    assert 'href="/id/mission/eupm"' in page.text  # entity columns link to their pages, by label
    assert "European Union Police Mission in Bosnia and Herzegovina</a>" in page.text
    # the downloads are the same URL with format=
    assert 'href="/queries/mission-successions?format=csv"' in page.text


def test_a_query_form_offers_the_graphs_choices_and_keeps_the_arguments(client: TestClient) -> None:
    page = client.get("/queries/instruments-between", params={"a": "NATO", "b": "org/un"}, headers={"Accept": BROWSER})
    assert page.status_code == 200
    assert '<option value="org/nato" selected>North Atlantic Treaty Organization (NATO' in page.text
    assert '<option value="org/un" selected>' in page.text
    assert "UN-NATO Joint Declaration" in page.text or "joint declaration" in page.text


def test_bad_arguments_are_shown_beside_their_fields_with_422(client: TestClient) -> None:
    page = client.get("/queries/instruments-in-period", params={"from": "last year"}, headers={"Accept": BROWSER})
    assert page.status_code == 422
    assert 'aria-invalid="true"' in page.text
    assert "must be a year such as 2003" in page.text
    assert 'role="alert"' in page.text


def test_a_required_parameter_waits_for_the_form(client: TestClient) -> None:
    page = client.get("/queries/evidence", headers={"Accept": BROWSER})
    assert page.status_code == 200
    assert "Answer</h2>" not in page.text
    assert 'data-suggest="/search"' in page.text  # any entity: a text box with suggestions, not a long list
    answered = client.get("/queries/evidence", params={"item": "mission/eupm"}, headers={"Accept": BROWSER})
    assert "which replaced the UN&#39;s International Police Task Force" in answered.text


def test_an_unknown_query_is_a_404_page_for_browsers_and_problem_json_otherwise(client: TestClient) -> None:
    page = client.get("/queries/no-such-query", headers={"Accept": BROWSER})
    assert page.status_code == 404
    assert page.headers["content-type"].startswith("text/html")
    assert "no competency query named" in page.text
    problem = client.get("/queries/no-such-query")
    assert problem.headers["content-type"] == "application/problem+json"


def test_search_suggests_exact_matches_first(client: TestClient) -> None:
    body = client.get("/search", params={"q": "kfor"}).json()
    first = body["results"][0]
    assert (first["iri"], first["href"], first["exact"]) == (f"{ID}mission/kfor", "/id/mission/kfor", True)
    assert len(body["results"]) <= 10
    assert client.get("/search", params={"q": "k"}).json()["results"] == []
    assert client.get("/search", params={"q": "x" * 201}).status_code == 422
    page = client.get("/search", params={"q": "kfor"}, headers={"Accept": BROWSER})
    assert 'href="/id/mission/kfor"' in page.text


def test_the_network_data_is_consistent(client: TestClient) -> None:
    body = client.get("/network/data").json()
    ids = {n["id"] for n in body["nodes"]}
    assert len(ids) == len(body["nodes"]) > 50
    assert all(e["source"] in ids and e["target"] in ids for e in body["edges"])
    assert {e["kind"] for e in body["edges"]} == {"dependency", "instrument", "liaison", "mandate", "launch", "unit"}
    assert [r["key"] for r in body["facets"]["levels"]] == [
        "concept/level-macro",
        "concept/level-meso",
        "concept/level-micro",
    ]
    berlin = [e for e in body["edges"] if e["rel"] == f"{ID}dependency/s000-table1-meso-eu-nato-berlin-plus"]
    assert len(berlin) == 1
    assert (berlin[0]["source"], berlin[0]["target"], berlin[0]["level"]) == (
        f"{ID}org/eu",
        f"{ID}org/nato",
        "level-meso",
    )


@pytest.mark.parametrize(
    ("params", "check"),
    [
        ({"level": "concept/level-micro"}, lambda e: e["kind"] == "dependency" and e["level"] == "level-micro"),
        ({"resource": "concept/resource-funding"}, lambda e: e["kind"] == "dependency"),
        ({"theatre": "place/kosovo"}, lambda e: "Kosovo" in e["theatres"]),
        ({"kind": ["mandate", "launch"]}, lambda e: e["kind"] in ("mandate", "launch")),
        ({"from": "2008", "to": "2010", "undated": "0"}, lambda e: e["start"] is not None or e["end"] is not None),
    ],
)
def test_network_filters(
    client: TestClient, params: dict[str, object], check: Callable[[dict[str, object]], bool]
) -> None:
    whole = len(client.get("/network/data").json()["edges"])
    body = client.get("/network/data", params=params).json()
    assert 0 < len(body["edges"]) < whole
    assert all(check(e) for e in body["edges"])
    assert body["filters"]


def test_a_period_keeps_overlapping_relations(client: TestClient) -> None:
    body = client.get("/network/data", params={"from": "2003", "to": "2003", "undated": "0"}).json()
    for e in body["edges"]:
        first = e["start"] if e["start"] is not None else e["end"]
        assert first <= 2003
        if e["kind"] in ("instrument", "mandate"):
            assert (e["end"] if e["end"] is not None else first) >= 2003


def test_the_neighbourhood_of_an_organization_includes_its_units(client: TestClient) -> None:
    body = client.get("/network/data", params={"focus": "org/nato"}).json()
    nato = f"{ID}org/nato"
    assert body["focus"] == nato
    units = {e["source"] for e in body["edges"] if e["kind"] == "unit" and e["target"] == nato}
    assert units
    while more := {e["source"] for e in body["edges"] if e["kind"] == "unit" and e["target"] in units} - units:
        units |= more  # units of units
    for e in body["edges"]:
        if e["kind"] != "unit":
            ends = {e["source"], e["target"]}
            assert nato in ends or ends & units or e["kind"] == "dependency", e


def test_entity_pages_of_organizations_and_missions_frame_their_network(client: TestClient) -> None:
    nato = client.get("/id/org/nato", headers={"Accept": BROWSER}).text
    assert '<iframe class="network-frame" src="/network?focus=org/nato&amp;embed=1"' in nato
    mission = client.get("/id/mission/kfor", headers={"Accept": BROWSER}).text
    assert 'src="/network?focus=mission/kfor&amp;embed=1"' in mission
    place = client.get("/id/place/kosovo", headers={"Accept": BROWSER}).text
    assert "network-frame" not in place
    frame = client.get("/network", params={"focus": "mission/kfor", "embed": "1"}, headers={"Accept": BROWSER})
    assert 'class="embed"' in frame.text
    assert 'target="_top"' in frame.text


def test_the_editor_page_configures_yasgui_for_this_server_only(client: TestClient) -> None:
    response = client.get("/sparql", headers={"Accept": BROWSER})
    config_text = re.search(r'<script type="application/json" id="editor-config">(.*?)</script>', response.text, re.S)
    assert config_text is not None
    config = json.loads(config_text.group(1))
    assert config["endpoint"] == "http://testserver/sparql"
    assert [t["name"] for t in config["tabs"]][:2] == ["Organizations", "network"]
    assert all("PREFIX ioir:" in t["query"] for t in config["tabs"])
    assert "VALUES" in next(t["query"] for t in config["tabs"] if t["name"] == "instruments-between")
    for digest in EDITOR_STYLE_HASHES:
        assert f"'{digest}'" in response.headers["content-security-policy"]


def test_the_editor_style_hashes_match_the_vendored_yasgui() -> None:
    """The CSP allows exactly the <style> elements YASGUI's column resizer injects; a new version needs new hashes."""
    source = (STATIC_DIR / "vendor" / "yasgui" / "yasgui.min.js").read_text(encoding="utf-8")
    start = source.index("r.createStyle(a,`") + len("r.createStyle(a,`")
    grip_css = source[start : source.index("`", start)]
    drag_cursor = re.search(r"dragCursor:`([^`]*)`", source)
    assert drag_cursor is not None
    styles = [grip_css, "*{cursor:" + drag_cursor.group(1) + "!important}"]

    def digest(text: str) -> str:
        return "sha256-" + base64.b64encode(hashlib.sha256(text.encode("utf-8")).digest()).decode("ascii")

    assert [digest(s) for s in styles] == list(EDITOR_STYLE_HASHES)


def test_vendored_assets_are_recorded_with_their_licences() -> None:
    record = (STATIC_DIR / "VENDORED.md").read_text(encoding="utf-8")
    for folder, version in (("yasgui", "4.6.2"), ("cytoscape", "3.35.0")):
        assert (STATIC_DIR / "vendor" / folder / "LICENSE").is_file()
        assert version in record
    for path in STATIC_DIR.rglob("*.js"):
        if "vendor" not in path.parts:
            text = path.read_text(encoding="utf-8")
            assert not re.search(r"(fetch|src|href)\W+https?://", text), f"{path} loads from another host"
            assert not re.search(r"cdn|unpkg|jsdelivr|googleapis", text), path


@pytest.fixture
def hostile_client(make_settings: Callable[..., Settings]) -> Iterator[TestClient]:
    """An app over a store whose organizations' names try to inject markup."""
    settings = make_settings(load_bundled=True, query_workers=1)
    store = open_store(settings)
    from ioir_kg.store.loading import load_sources

    load_sources(store, settings)
    skos, ioir = "http://www.w3.org/2004/02/skos/core#", "https://w3id.org/ioir/ontology#"
    evil = NamedNode(f"{ID}org/evil")
    graph = NamedNode("https://w3id.org/ioir/graph/test")
    store.add_quads(
        [
            Quad(
                evil,
                NamedNode("http://www.w3.org/1999/02/22-rdf-syntax-ns#type"),
                NamedNode(ioir + "InternationalOrganization"),
                graph,
            ),
            Quad(evil, NamedNode(skos + "prefLabel"), Literal('<script>alert("x")</script>', language="en"), graph),
            Quad(evil, NamedNode(skos + "altLabel"), Literal("<b>EVIL</b>", language="en"), graph),
            Quad(NamedNode(f"{ID}instrument/evil-pact"), NamedNode(ioir + "party"), evil, graph),
            Quad(NamedNode(f"{ID}instrument/evil-pact"), NamedNode(ioir + "party"), NamedNode(f"{ID}org/eu"), graph),
            Quad(
                NamedNode(f"{ID}instrument/evil-pact"),
                NamedNode("http://www.w3.org/1999/02/22-rdf-syntax-ns#type"),
                NamedNode(ioir + "MemorandumOfUnderstanding"),
                graph,
            ),
        ]
    )
    store.close()
    with TestClient(create_app(settings)) as client:
        yield client


@pytest.mark.parametrize(
    "path",
    [
        "/queries/instruments-between",
        "/search?q=script",
        "/network",
        "/network?focus=org/evil&embed=1",
        "/assertions/new",
    ],
)
def test_every_value_is_escaped(hostile_client: TestClient, path: str) -> None:
    body = hostile_client.get(path, headers={"Accept": BROWSER}).text
    assert "<script>alert" not in body
    assert "<b>EVIL</b>" not in body
    assert "&lt;script&gt;alert" in body


def test_static_files_exist_for_every_template_reference() -> None:
    templates = Path(STATIC_DIR).parent / "templates"
    for template in templates.glob("*.html"):
        for ref in re.findall(r'(?:src|href)="(/static/[^"]+)"', template.read_text(encoding="utf-8")):
            assert (STATIC_DIR / ref.removeprefix("/static/")).is_file(), f"{template.name}: {ref}"
