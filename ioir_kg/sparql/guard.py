"""Bounds on SPARQL text, checked before any parser sees it: what pyoxigraph's parser recurses on.

pyoxigraph's SPARQL parser recurses on nested brackets and on long chains (``!!!…true``, ``1||1||…``, a collection
in a pattern …) and overflows its thread's stack at some point: SIGSEGV, the whole process dies. So, for queries
and updates alike:

* brackets (``{``, ``(``, ``[``) nested deeper than ``IOIR_MAX_QUERY_DEPTH`` → ``400``;
* a query longer than ``IOIR_MAX_QUERY_CHARS`` → ``413``. The app gives its threads and query workers a stack sized
  for the longest chain that many characters can hold (:func:`ioir_kg.api.limits.stack_bytes_for`);
* an update whose text *outside its* ``INSERT DATA``/``DELETE DATA`` *blocks* (its patterns, templates and
  expressions: everything the parser may recurse on) is longer than ``IOIR_MAX_QUERY_CHARS`` → ``413``. Data blocks
  hold ground quads, which the parser reads in loops whatever the stack (2 MiB of objects, collections or quoted
  triples parse on a 64 MiB stack), so a bulk update stays bounded by ``IOIR_MAX_BODY_BYTES`` only.

>>> from ioir_kg.config import Settings
>>> chars_outside_data('INSERT DATA { <a> <b> "}" } ; DELETE WHERE { ?s ?p ?o }')
40
>>> check_sparql("INSERT DATA { <urn:a> <urn:b> 1 } ;" * 40, Settings(max_query_chars=1000), update=True)
>>> check_sparql("DELETE WHERE { FILTER(" + "!" * 1000 + "true) }", Settings(max_query_chars=1000), update=True)
Traceback (most recent call last):
ioir_kg.errors.PayloadTooLarge: the update's patterns and expressions (its text outside INSERT DATA and DELETE DATA \
blocks) take 1029 characters; at most 1000 are allowed (IOIR_MAX_QUERY_CHARS): send bulk data as INSERT DATA, or \
through the Graph Store protocol
"""

from __future__ import annotations

from ioir_kg.config import Settings
from ioir_kg.errors import BadQuery, PayloadTooLarge
from ioir_kg.sparql.lexer import located_tokens, tokens

_OPENERS = frozenset("{([")
_CLOSERS = frozenset("})]")


def nesting_depth(text: str) -> int:
    """How deep the brackets (``{``, ``(``, ``[``) of a SPARQL text nest, outside strings, IRIs and comments.

    >>> nesting_depth('SELECT * { ?s ?p "((((" FILTER((?o > 1)) }')
    3
    """
    depth = deepest = 0
    for token in tokens(text):
        if token.kind != "punct":
            continue
        if token.text in _OPENERS:
            depth += 1
            deepest = max(deepest, depth)
        elif token.text in _CLOSERS:
            depth = max(0, depth - 1)
    return deepest


def chars_outside_data(text: str) -> int:
    """The characters of an update that are not inside the braces of an ``INSERT DATA`` or ``DELETE DATA`` block.

    A block left open runs to the end of the text (the parser then refuses it without reading on).
    """
    inside = 0
    previous: list[str] = []  # the two tokens before the current one, upper-cased words
    block_start: int | None = None
    depth = 0
    for offset, token in located_tokens(text):
        if block_start is not None:
            if token.kind == "punct" and token.text == "{":
                depth += 1
            elif token.kind == "punct" and token.text == "}":
                depth -= 1
                if depth == 0:
                    inside += offset + 1 - block_start
                    block_start = None
            continue
        if token.kind == "punct" and token.text == "{" and previous[-2:] in (["INSERT", "DATA"], ["DELETE", "DATA"]):
            block_start, depth = offset, 1
        previous = [*previous[-1:], token.text.upper() if token.kind == "word" else token.text]
    if block_start is not None:
        inside += len(text) - block_start
    return len(text) - inside


def check_sparql(text: str, settings: Settings, *, update: bool) -> None:
    """Refuse a text the parser could not take: see the module's documentation.

    >>> check_sparql("SELECT * {" * 3 + "}" * 3, Settings(max_query_depth=8), update=False)
    >>> check_sparql("ASK {" + "(" * 9 + ")" * 9 + "}", Settings(max_query_depth=8), update=False)
    Traceback (most recent call last):
    ioir_kg.errors.BadQuery: the query nests brackets 10 deep; at most 8 are allowed (IOIR_MAX_QUERY_DEPTH)
    """
    kind = "update" if update else "query"
    limit = settings.max_query_chars
    errors = [{"limit": "IOIR_MAX_QUERY_CHARS", "value": limit}]
    if not update and len(text) > limit:
        raise PayloadTooLarge(
            f"the query is {len(text)} characters long; at most {limit} are allowed (IOIR_MAX_QUERY_CHARS)",
            errors=errors,
        )
    depth = nesting_depth(text)
    if depth > settings.max_query_depth:
        raise BadQuery(
            f"the {kind} nests brackets {depth} deep; at most {settings.max_query_depth} are allowed"
            " (IOIR_MAX_QUERY_DEPTH)",
            errors=[{"limit": "IOIR_MAX_QUERY_DEPTH", "value": settings.max_query_depth}],
        )
    if update and len(text) > limit and (outside := chars_outside_data(text)) > limit:
        raise PayloadTooLarge(
            f"the update's patterns and expressions (its text outside INSERT DATA and DELETE DATA blocks) take"
            f" {outside} characters; at most {limit} are allowed (IOIR_MAX_QUERY_CHARS): send bulk data as"
            " INSERT DATA, or through the Graph Store protocol",
            errors=errors,
        )
