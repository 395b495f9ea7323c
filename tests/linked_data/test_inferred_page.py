"""Entity pages list the entity's inferred statements, marked as inferred, with the rule they follow from."""

from __future__ import annotations

import re

from fastapi.testclient import TestClient


def inferred_section(html: str) -> str:
    found = re.search(r'<section aria-labelledby="inferred".*?</section>', html, re.S)
    assert found, "no Inferred statements block"
    return found.group(0)


def test_entity_page_shows_an_inferred_type_marked_with_its_rule(client: TestClient) -> None:
    response = client.get("/id/instrument/eu-nato-joint-declaration-2016", headers={"Accept": "text/html"})
    assert response.status_code == 200
    block = inferred_section(response.text)
    assert "Inferred statements" in block
    entry = re.search(r"<dd data-inferred=\"true\">[^<]*<a[^>]*>[^<]*Cooperation ?[Ii]nstrument.*?</dd>", block, re.S)
    assert entry, block
    assert '<span class="inferred-mark">inferred</span>' in entry.group(0)
    assert "by rdfs:subClassOf" in entry.group(0)
    assert "a ioir:JointDeclaration" in entry.group(0)  # the asserted premise it rests on


def test_entity_page_shows_an_inverse_as_inferred(client: TestClient) -> None:
    block = inferred_section(client.get("/id/mandate/unscr-1484", headers={"Accept": "text/html"}).text)
    assert "by owl:inverseOf" in block
    assert "ioir:hasMandate" in block


def test_asserted_statements_are_not_listed_as_inferred(client: TestClient) -> None:
    page = client.get("/id/instrument/eu-nato-joint-declaration-2016", headers={"Accept": "text/html"})
    values = re.findall(r'<dd data-inferred="true">\s*(<a[^>]*>)', inferred_section(page.text))
    assert values
    assert not [v for v in values if "JointDeclaration" in v]  # asserted: a Property, not an inference
