"""Federated queries: ``SERVICE`` only to the endpoints on ``IOIR_SERVICE_ALLOWLIST``.

The server sends no request on a client's behalf except to endpoints the operator listed. The check
runs where every query is evaluated — :func:`ioir_kg.sparql.protocol.check_policy`, which ``/sparql``,
``/queries`` and the CLI's ``query`` and ``cq`` call — and it reads the query twice:

1. **lexically** (:func:`ioir_kg.sparql.protocol.service_targets`): a token scan that skips strings,
   IRIs and comments and resolves ``PREFIX``/``BASE``. A query without the ``SERVICE`` keyword stops
   here at no cost, and with an empty allowlist any ``SERVICE`` is refused without further work;
2. **parsed**, when the allowlist is not empty: rdflib's SPARQL 1.1 grammar (queries and updates) finds
   every ``ServiceGraphPattern`` — in sub-queries, ``OPTIONAL``, ``MINUS``, update ``WHERE`` clauses —
   and its endpoint is resolved against the query's prologue and the server's base IRI.

Why rdflib: pyoxigraph 0.5 exposes no parsed query or algebra to Python, and evaluating a query to
discover its services would already call them. rdflib's parser is slower, but it only runs on queries
that name ``SERVICE`` on a server that allows some. Every endpoint found by either reading must be on
the list (exact IRI match); a variable endpoint is always refused; a query rdflib cannot parse is
refused with its message (fail closed), since its endpoints cannot be verified.

>>> check_service("SELECT * { ?s ?p ?o }", [], allowlist=[], base_iri=None)
>>> check_service("SELECT * { SERVICE <http://x/> {} }", ["http://x/"], allowlist=["http://y/"], base_iri=None)
Traceback (most recent call last):
ioir_kg.errors.BadQuery: SERVICE <http://x/> is not allowed: this server only calls the endpoints listed in ...
>>> parsed_service_targets("PREFIX e: <http://e.org/> SELECT * { OPTIONAL { SERVICE SILENT e:q\\\\-1 {} } }")
['http://e.org/q-1']
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import Any

from pyparsing import ParseException
from rdflib.plugins.sparql.algebra import translatePName, translatePrologue, traverse
from rdflib.plugins.sparql.parser import parseQuery, parseUpdate
from rdflib.plugins.sparql.parserutils import CompValue
from rdflib.plugins.sparql.sparql import Prologue
from rdflib.term import URIRef, Variable

from ioir_kg.errors import BadQuery

_PN_LOCAL_ESCAPE = re.compile(r"\\([_~.\-!$&'()*+,;=/?#@%])")
ALLOWLIST_SETTING = "IOIR_SERVICE_ALLOWLIST"


def check_service(
    text: str,
    lexical_targets: Sequence[str | None],
    *,
    allowlist: Sequence[str],
    base_iri: str | None,
    update: bool = False,
) -> None:
    """Raise :class:`BadQuery` (400) unless every ``SERVICE`` endpoint of ``text`` is on ``allowlist``.

    ``lexical_targets`` are the endpoints the token scan found (``None`` for a variable); the parsed
    reading runs only when there are some and the allowlist is not empty.
    """
    if not lexical_targets:
        return
    if not allowlist:
        _refuse(lexical_targets[0], allowlist)
    targets = [*lexical_targets, *parsed_service_targets(text, base_iri, update=update)]
    for target in targets:
        if target is None or target not in allowlist:
            _refuse(target, allowlist)


def _refuse(target: str | None, allowlist: Sequence[str]) -> None:
    listed = (
        f"listed in {ALLOWLIST_SETTING}: {', '.join(allowlist)}"
        if allowlist
        else f"listed in {ALLOWLIST_SETTING}, and that list is empty (federation is off)"
    )
    if target is None:
        raise BadQuery(f"SERVICE with a variable endpoint is not allowed here: name one of the endpoints {listed}")
    raise BadQuery(f"SERVICE <{target}> is not allowed: this server only calls the endpoints {listed}")


def parsed_service_targets(text: str, base_iri: str | None = None, *, update: bool = False) -> list[str | None]:
    """The endpoint of every ``SERVICE`` in a query or update, from rdflib's parse tree (``None``: a variable).

    Raises :class:`BadQuery` when rdflib's grammar rejects the text as both a query and an update.
    """
    parsers = (_update_targets, _query_targets) if update else (_query_targets, _update_targets)
    errors: list[str] = []
    for parse in parsers:
        try:
            return parse(text, base_iri)
        except ParseException as exc:
            errors.append(str(exc).splitlines()[0])
        except Exception as exc:  # rdflib raises a bare Exception for an unknown prefix
            errors.append(str(exc).splitlines()[0] if str(exc) else type(exc).__name__)
    raise BadQuery(f"the SERVICE endpoints of this request cannot be verified, so it is refused: {errors[0]}")


def _query_targets(text: str, base_iri: str | None) -> list[str | None]:
    tree = parseQuery(text)
    prologue = translatePrologue(tree[0], base_iri)
    return _targets(tree[1], prologue)


def _update_targets(text: str, base_iri: str | None) -> list[str | None]:
    tree = parseUpdate(text)
    prologue: Prologue | None = None
    found: list[str | None] = []
    for prologue_part, request in zip(tree.prologue, tree.request, strict=False):
        prologue = translatePrologue(prologue_part, base_iri, None, prologue)
        found += _targets(request, prologue)
    return found


def _targets(tree: Any, prologue: Prologue) -> list[str | None]:
    services: list[CompValue] = []

    def visit(node: Any) -> None:
        if isinstance(node, CompValue) and node.name == "ServiceGraphPattern":
            services.append(node)

    traverse(tree, visitPost=visit)
    return [_endpoint(service.get("term"), prologue) for service in services]


def _endpoint(term: Any, prologue: Prologue) -> str | None:
    if isinstance(term, Variable):
        return None
    if isinstance(term, CompValue) and term.name == "pname":
        # rdflib keeps PN_LOCAL escapes (``\-``) in the local name: undo them as the SPARQL grammar says.
        # (``CompValue.get`` answers a missing key with the key's name: read the dict itself.)
        local = _PN_LOCAL_ESCAPE.sub(r"\1", dict.get(term, "localname") or "")
        term = CompValue("pname", prefix=dict.get(term, "prefix"), localname=local)
    resolved = translatePName(term, prologue)
    iri = resolved if resolved is not None else term
    if isinstance(iri, URIRef):
        return str(prologue.absolutize(iri))
    return None
