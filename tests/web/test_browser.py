"""The web interface in a real browser: every page loads cleanly at laptop and phone widths, and each page does its
job — the editor runs a typed query, a competency form answers, an entity page quotes its evidence and draws its
network, the network view renders and filters, the search box suggests, the assertion form reports problems and
accepts valid facts. Screenshots of every page go to ``test-artifacts/web/``."""

from __future__ import annotations

import json
import re
from collections.abc import Callable

import pytest
from playwright.sync_api import Page, expect

from ioir_kg.config import PROJECT_ROOT
from tests.web.conftest import LAPTOP, PHONE, TOKEN, Browsing

PAGES = {
    "home": "/",
    "search": "/search?q=council",
    "sparql": "/sparql",
    "queries": "/queries",
    "query": "/queries/instruments-between",
    "network": "/network",
    "entity-org": "/id/org/nato",
    "entity-mission": "/id/mission/eupm",
    "assertion": "/assertions/new",
}
EXPECTED = PROJECT_ROOT / "tests" / "competency" / "expected"


def wait_for_network(page: Page, selector: str = "#cy") -> int:
    """Wait until cytoscape has drawn the network in ``selector``; the number of nodes drawn."""
    page.wait_for_selector(f"{selector}[data-rendered]", state="attached")
    return int(page.get_attribute(selector, "data-rendered") or "0")


@pytest.mark.parametrize("viewport", [LAPTOP, PHONE], ids=["laptop", "phone"])
@pytest.mark.parametrize("name", list(PAGES))
def test_page_loads_cleanly(make_page: Callable[..., Browsing], name: str, viewport: dict[str, int]) -> None:
    """No console error, nothing fetched from another host, a heading, the site's navigation, no sideways scroll."""
    web = make_page(viewport)
    page = web.open(PAGES[name])
    expect(page.locator("h1").first).to_be_visible()
    expect(page.get_by_role("navigation", name="Main")).to_be_visible()
    if name == "network":
        assert wait_for_network(page) > 10
    if name == "sparql":
        page.wait_for_selector(".yasqe .CodeMirror")
    if name.startswith("entity"):
        page.locator("iframe.network-frame").scroll_into_view_if_needed()
        frame = page.frame_locator("iframe.network-frame")
        expect(frame.locator("#cy[data-rendered]")).to_be_attached()
        page.evaluate("window.scrollTo(0, 0)")
    overflow = page.evaluate("document.documentElement.scrollWidth - document.documentElement.clientWidth")
    assert overflow <= 1, f"{name} scrolls sideways by {overflow}px at {viewport['width']}px"
    width = "laptop" if viewport == LAPTOP else "phone"
    web.screenshot(f"{name}-{width}")


def test_pages_carry_a_content_security_policy(web: Browsing) -> None:
    response = web.page.goto(web.base + "/network")
    assert response is not None
    policy = response.headers["content-security-policy"]
    assert "script-src 'self'" in policy
    assert "default-src 'none'" in policy


def test_skip_link_is_the_first_stop_of_the_keyboard(web: Browsing) -> None:
    page = web.open("/")
    page.keyboard.press("Tab")
    focused = page.evaluate("document.activeElement.textContent")
    assert focused == "Skip to the content"
    page.keyboard.press("Enter")
    assert page.evaluate("document.activeElement.id") == "main"


def test_search_box_suggests_and_opens_an_entity_with_the_keyboard(web: Browsing) -> None:
    page = web.open("/")
    box = page.get_by_role("combobox", name=re.compile("Find an organization"))
    box.click()
    box.press_sequentially("NATO", delay=30)
    first = page.locator("#search-suggestions [role=option]").first
    expect(first).to_contain_text("North Atlantic Treaty Organization")
    expect(box).to_have_attribute("aria-expanded", "true")
    box.press("ArrowDown")
    expect(first).to_have_attribute("aria-selected", "true")
    box.press("Enter")
    page.wait_for_url("**/id/org/nato")
    expect(page.locator("h1")).to_have_text("North Atlantic Treaty Organization")


def test_a_query_typed_in_the_editor_shows_its_rows(web: Browsing) -> None:
    page = web.open("/sparql")
    editor = page.locator(".yasqe .CodeMirror").first
    editor.click()
    page.keyboard.press("Control+A")
    page.keyboard.press("Delete")
    query = (
        "SELECT ?org ?label WHERE { ?org a <https://w3id.org/ioir/ontology#InternationalOrganization> ; "
        '<http://www.w3.org/2004/02/skos/core#prefLabel> ?label . FILTER(CONTAINS(?label, "North Atlantic")) }'
    )
    page.keyboard.type(query)
    page.keyboard.press("Control+Enter")
    table = page.locator(".yasr table.dataTable tbody")
    expect(table).to_contain_text("North Atlantic Treaty Organization")
    expect(table.locator("tr")).to_have_count(1)
    # entity IRIs open this server's pages
    link = table.locator("a", has_text="org/nato").or_(table.locator("a[href='/id/org/nato']")).first
    expect(link).to_have_attribute("href", "/id/org/nato")
    web.screenshot("sparql-results-laptop")


def test_the_editor_charts_numeric_results(web: Browsing) -> None:
    page = web.open("/sparql")
    page.evaluate(
        """() => {
        const yasqe = window.ioirYasgui.getTab().getYasqe();
        yasqe.setValue('PREFIX ioir: <https://w3id.org/ioir/ontology#>\\n'
          + 'SELECT ?type (COUNT(?x) AS ?n) WHERE { ?x a ?type FILTER(STRSTARTS(STR(?type), STR(ioir:))) }'
          + ' GROUP BY ?type ORDER BY DESC(?n) LIMIT 8');
        yasqe.query();
    }"""
    )
    page.locator(".yasr table.dataTable tbody tr").first.wait_for()
    page.locator(".yasr .select_chart").click()
    chart = page.locator(".ioir-chart-svg")
    expect(chart).to_be_visible()
    expect(chart.locator("rect")).to_have_count(8)
    web.screenshot("sparql-chart-laptop")


def test_a_competency_form_returns_its_expected_answer(web: Browsing) -> None:
    """The form's choices come from the graph; submitting the golden arguments shows the golden rows."""
    golden = json.loads((EXPECTED / "instruments-between.json").read_text(encoding="utf-8"))
    page = web.open("/queries/instruments-between")
    page.get_by_label("First organization").select_option(golden["params"]["a"])
    page.get_by_label("Second organization").select_option(golden["params"]["b"])
    page.get_by_role("button", name="Answer the question").click()
    page.wait_for_load_state("networkidle")
    table = page.locator(".answer table")
    label_index = golden["columns"].index("instrumentLabel")
    expected = [row[label_index] for row in golden["rows"]]
    assert table.locator("tbody tr").count() == len(expected)
    cells = table.locator("tbody tr td:first-child").all_inner_texts()
    assert cells == expected
    first_link = table.locator("tbody tr td:first-child a").first
    assert (first_link.get_attribute("href") or "").startswith("/id/instrument/")
    web.screenshot("query-answer-laptop")


def test_a_bad_argument_is_shown_beside_its_field(web: Browsing) -> None:
    page = web.open("/queries/instruments-in-period?from=last+year")
    expect(page.get_by_role("alert")).to_contain_text("not valid")
    field = page.get_by_label("From", exact=False).first
    expect(field).to_have_attribute("aria-invalid", "true")
    expect(page.locator(".field.has-error .error")).to_contain_text("must be a year")
    web.watch.expect_error("422")  # the browser notes the page's status, as it should


def test_an_entity_page_shows_its_evidence_quote_and_network(web: Browsing) -> None:
    page = web.open("/id/mission/eupm")
    evidence = page.locator("section[aria-labelledby=evidence] blockquote")
    expect(evidence.first).to_be_visible()
    expect(page.locator("section[aria-labelledby=evidence]")).to_contain_text(
        "which replaced the UN's International Police Task Force (IPTF) in January 2003"
    )
    page.locator("iframe.network-frame").scroll_into_view_if_needed()
    frame = page.frame_locator("iframe.network-frame")
    expect(frame.locator("#cy[data-rendered]")).to_be_attached()
    expect(frame.locator("#relations-body")).to_contain_text("European Union")
    count = frame.locator("#cy").get_attribute("data-rendered")
    assert count is not None
    assert int(count) >= 3


def test_the_network_renders_its_nodes_and_filters_them(web: Browsing) -> None:
    page = web.open("/network")
    drawn = wait_for_network(page)
    nodes = page.evaluate("window.ioirNetwork.nodes().length")
    edges = page.evaluate("window.ioirNetwork.edges().length")
    assert drawn == nodes > 50
    assert edges == int(page.locator("#network-summary [data-count=edges]").first.inner_text())
    assert page.locator("#relations-body tr").count() == edges
    page.get_by_label("Dependency level").select_option(label="meso-level dependency")
    # (wait on the page's own text: a predicate evaluated in the page would be refused by the CSP)
    expect(page.locator("#network-summary [data-count=edges]").first).not_to_have_text(str(edges))
    kinds = page.evaluate("window.ioirNetwork.edges().map(e => e.data('level'))")
    assert kinds
    assert set(kinds) == {"level-meso"}
    assert "level=concept%2Flevel-meso" in page.url or "level=concept/level-meso" in page.url
    web.screenshot("network-meso-laptop")
    page.get_by_label("Find in the graph").select_option("https://w3id.org/ioir/id/org/nato")
    expect(page.locator("#selection")).to_contain_text("North Atlantic Treaty Organization")


def test_an_invalid_assertion_shows_its_message(web: Browsing) -> None:
    page = web.open("/assertions/new")
    page.get_by_label("Turtle").fill(
        "@prefix ioir: <https://w3id.org/ioir/ontology#> .\n"
        "@prefix skos: <http://www.w3.org/2004/02/skos/core#> .\n"
        "<instrument/web-test-lonely-memorandum> a ioir:MemorandumOfUnderstanding ;\n"
        '    skos:prefLabel "A memorandum with one party"@en ;\n'
        "    ioir:party <org/eu> .\n"
    )
    page.get_by_label("Source document").select_option("source/s000")
    page.get_by_label("Supporting quote").fill(
        "The EU makes use of NATO military assets through the Berlin+ agreement."
    )
    page.get_by_role("button", name="Check").click()
    report = page.locator("#report")
    expect(report.locator(".verdict")).to_contain_text("do not conform")
    expect(report.locator(".finding").first).to_contain_text("S07")
    web.screenshot("assertion-report-laptop")


def test_the_guided_form_writes_turtle_that_is_accepted_with_a_token(web: Browsing) -> None:
    page = web.open("/assertions/new")
    page.get_by_label("What do you want to add?").select_option("instrument")
    page.get_by_label("Name").fill("EU-AU web test memorandum")
    page.get_by_label("First party").select_option("org/eu")
    page.get_by_label("Second party").select_option("org/au")
    page.get_by_label("Date").fill("2008")
    page.get_by_role("button", name="Write the Turtle").click()
    turtle = page.get_by_label("Turtle").input_value()
    assert "<instrument/eu-au-web-test-memorandum> a ioir:MemorandumOfUnderstanding" in turtle
    assert "ioir:party <org/eu> , <org/au>" in turtle
    page.get_by_label("Source document").select_option("source/s000")
    page.get_by_label("Supporting quote").fill(
        "The EU makes use of NATO military assets through the Berlin+ agreement."
    )
    page.get_by_role("button", name="Submit").click()
    expect(page.locator("#report .verdict")).to_contain_text("A token is needed")
    page.get_by_label("Your contributor token").fill(TOKEN)
    page.get_by_role("button", name="Submit").click()
    expect(page.locator("#report .verdict")).to_contain_text("Accepted")
    link = page.locator("#report a", has_text="See the stored assertion")
    assert re.match(r"^/assertions/[0-9a-f-]{36}$", link.get_attribute("href") or "")
