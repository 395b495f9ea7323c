"""The lexical view of queries: query form, top-level ORDER BY, SERVICE targets, and the request policy."""

from __future__ import annotations

import pytest

from ioir_kg.errors import BadQuery
from ioir_kg.sparql.protocol import check_policy, declared_prefixes, has_top_level_order_by, query_form, service_targets


@pytest.mark.parametrize(
    ("text", "form"),
    [
        ("SELECT * WHERE { ?s ?p ?o }", "SELECT"),
        ("  select ?x {}", "SELECT"),
        ("BASE <http://x/> PREFIX a: <http://a/> ASK {}", "ASK"),
        ("PREFIX a: <http://a/> # SELECT in a comment\nCONSTRUCT WHERE { ?s a:p ?o }", "CONSTRUCT"),
        ("DESCRIBE <http://x>", "DESCRIBE"),
        ('PREFIX select: <http://s/> ASK { ?s select:p "SELECT" }', "ASK"),
        ("INSERT DATA { <a> <b> <c> }", "UPDATE"),
        ("PREFIX : <http://x/> DELETE WHERE { ?s :p ?o }", "UPDATE"),
        ("garbage", None),
        ("", None),
    ],
)
def test_query_form(text: str, form: str | None) -> None:
    """Keywords count only outside strings, IRIs, comments and prefixed names."""
    assert query_form(text) == form


@pytest.mark.parametrize(
    ("text", "ordered"),
    [
        ("SELECT * { ?s ?p ?o } ORDER BY ?s", True),
        ("SELECT * { ?s ?p ?o } order\n by desc(?s)", True),
        ("SELECT * { { SELECT ?s { ?s ?p ?o } ORDER BY ?s LIMIT 2 } }", False),
        ('SELECT * { ?s ?p "ORDER BY" }', False),
        ("SELECT * { ?s ?p ?o } # ORDER BY ?s", False),
        ("CONSTRUCT { ?s ?p ?o } WHERE { ?s ?p ?o } ORDER BY ?o", True),
    ],
)
def test_top_level_order_by(text: str, ordered: bool) -> None:
    """Only an ORDER BY outside every group orders the answer."""
    assert has_top_level_order_by(text) is ordered


def test_service_targets_resolve_prefixes_base_and_escapes() -> None:
    """SERVICE endpoints are resolved as the parser would: prefixes, BASE, \\u escapes, PN_LOCAL escapes."""
    text = r"""BASE <http://base.org/x/> PREFIX : <ep/> PREFIX e: <http://e.org/>
    SELECT * { SERVICE <\u0068ttp://evil.org/> {} SERVICE SILENT :s\-1 {} SERVICE ?v {} SERVICE <rel> {}
               SERVICE e:q { } FILTER(?x = "SERVICE <http://in-a-string/>") }"""
    assert service_targets(text) == [
        "http://evil.org/",
        "http://base.org/x/ep/s-1",
        None,
        "http://base.org/x/rel",
        "http://e.org/q",
    ]
    assert declared_prefixes(text) == {"": "http://base.org/x/ep/", "e": "http://e.org/"}


@pytest.mark.parametrize(
    ("text", "update", "allowed", "message"),
    [
        ("LOAD <http://x.org/data.ttl>", True, [], "LOAD is not allowed"),
        ("load silent <http://x.org/d> into graph <http://g>", True, [], "LOAD is not allowed"),
        ("SELECT * { SERVICE <http://x.org/sparql> { ?s ?p ?o } }", False, [], "SERVICE <http://x.org/sparql>"),
        ("SELECT * { SERVICE ?endpoint { ?s ?p ?o } }", False, ["http://x.org/sparql"], "variable endpoint"),
        ("INSERT { ?s ?p ?o } WHERE { SERVICE <http://y/> { ?s ?p ?o } }", True, ["http://x/"], "SERVICE <http://y/>"),
    ],
)
def test_policy_refuses_outbound_requests(text: str, update: bool, allowed: list[str], message: str) -> None:
    """LOAD is always refused; SERVICE only to listed endpoints."""
    with pytest.raises(BadQuery, match=message):
        check_policy(text, allowlist=allowed, base_iri=None, update=update)


@pytest.mark.parametrize(
    "text",
    [
        "SELECT * { SERVICE <http://x.org/sparql> { ?s ?p ?o } }",
        'SELECT * { ?s ?p "LOAD <http://x/>" }',
        "INSERT DATA { <http://a> <http://b> <http://load> }",
        "SELECT ?load { ?load ?p ?o }",
    ],
)
def test_policy_allows_listed_services_and_lookalikes(text: str) -> None:
    """Listed endpoints, and LOAD/SERVICE in strings, IRIs or variables, pass."""
    check_policy(text, allowlist=["http://x.org/sparql"], base_iri=None, update=True)
