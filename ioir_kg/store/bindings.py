"""Bind query parameters as RDF terms with a ``VALUES`` block opening the top-level ``WHERE`` group.

pyoxigraph's ``substitutions`` only accept projected variables, and remote SPARQL servers
have no substitution at all, so both backends bind the same way: the terms are serialised
by pyoxigraph (escaped, validated), never taken from user text.

>>> from pyoxigraph import NamedNode, Literal
>>> inject_values("PREFIX ex: <http://ex.org/#a> SELECT ?x WHERE { ?x ex:p ?o }", {"o": Literal('a "b"')})
'PREFIX ex: <http://ex.org/#a> SELECT ?x WHERE { VALUES (?o) { ("a \\\\"b\\\\"") }  ?x ex:p ?o }'
>>> inject_values("ASK { ?s ?p ?o }", {"s": NamedNode("http://a")})
'ASK { VALUES (?s) { (<http://a>) }  ?s ?p ?o }'
>>> inject_values("CONSTRUCT { ?s ?p ?o } WHERE { ?s ?p ?o }", {"s": NamedNode("http://a")})
'CONSTRUCT { ?s ?p ?o } WHERE { VALUES (?s) { (<http://a>) }  ?s ?p ?o }'
"""

from __future__ import annotations

import re
from collections.abc import Mapping

from ioir_kg.errors import BadQuery
from ioir_kg.store.base import Term

_IRI = re.compile(r'<[^<>"{}|^`\\\x00-\x20]*>')
_WORD = re.compile(r"[A-Za-z_]+")
_VAR = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")


def _where_brace(sparql: str) -> int:
    """Index of the ``{`` that opens the top-level WHERE group (the first after ``WHERE``, else the first)."""
    i, first_brace, after_where, depth = 0, -1, False, 0
    n = len(sparql)
    while i < n:
        c = sparql[i]
        if c == "#":
            end = sparql.find("\n", i)
            i = n if end < 0 else end + 1
            continue
        if c in "\"'":
            quote = sparql[i : i + 3] if sparql[i : i + 3] in ('"""', "'''") else c
            j = i + len(quote)
            while j < n and not sparql.startswith(quote, j):
                j += 2 if sparql[j] == "\\" else 1
            i = j + len(quote)
            continue
        if c == "<":
            match = _IRI.match(sparql, i)
            if match:
                i = match.end()
                continue
        if c == "{":
            if after_where:
                return i
            if first_brace < 0:
                first_brace = i
            depth += 1
        elif c == "}":
            depth -= 1
        word = _WORD.match(sparql, i) if c.isalpha() else None
        if word:
            if word.group().upper() == "WHERE" and depth == 0:  # after a CONSTRUCT template too
                after_where = True
            i = word.end()
            continue
        i += 1
    if first_brace < 0:
        raise BadQuery("the query has no WHERE group to bind parameters in")
    return first_brace


def inject_values(sparql: str, bindings: Mapping[str, Term]) -> str:
    """Return ``sparql`` with ``VALUES (?a ?b) { (t1 t2) }`` opening its top-level WHERE group."""
    if not bindings:
        return sparql
    for name in bindings:
        if not _VAR.match(name):
            raise BadQuery(f"bad variable name {name!r}")
    names = " ".join(f"?{name}" for name in bindings)
    terms = " ".join(str(term) for term in bindings.values())
    at = _where_brace(sparql) + 1
    return f"{sparql[:at]} VALUES ({names}) {{ ({terms}) }} {sparql[at:]}"
