"""A lexical view of SPARQL: the tokens of a query or update, skipping white space and comments.

Strings, IRIs and comments are single tokens, so that a keyword or a bracket inside a literal never counts for the
checks built on them (:mod:`ioir_kg.sparql.protocol`'s policy, :mod:`ioir_kg.sparql.guard`'s bounds).

>>> [t.text for t in tokens('ASK { ?s ?p "{ (" } # }')]
['ASK', '{', '?s', '?p', '"{ ("', '}']
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass

_PN_CHARS = r"\w\-\u00B7\u0300-\u036F\u203F\u2040"
_PLX = r"%[0-9A-Fa-f]{2}|\\[_~.\-!$&'()*+,;=/?#@%]"
_TOKEN = re.compile(
    rf"""
    (?P<space>\s+)
  | (?P<comment>\#[^\r\n]*)
  | (?P<string>'''(?:[^'\\]|\\.|'(?!''))*'''|\"\"\"(?:[^"\\]|\\.|"(?!""))*\"\"\"
              |'(?:[^'\\\r\n]|\\.)*'|"(?:[^"\\\r\n]|\\.)*")
  | (?P<iri><(?:[^<>"{{}}|^`\\\x00-\x20]|\\u[0-9A-Fa-f]{{4}}|\\U[0-9A-Fa-f]{{8}})*>)
  | (?P<var>[?$][\w\u00B7\u0300-\u036F\u203F\u2040]+)
  | (?P<bnode>_:[{_PN_CHARS}.]*)
  | (?P<pname>(?:[^\W\d_](?:[{_PN_CHARS}.]*[{_PN_CHARS}])?)?:
               (?:(?:[{_PN_CHARS}:]|{_PLX})(?:(?:[{_PN_CHARS}.:]|{_PLX})*(?:[{_PN_CHARS}:]|{_PLX}))?)?)
  | (?P<lang>@[A-Za-z]+(?:-[A-Za-z0-9]+)*)
  | (?P<number>(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?)
  | (?P<word>[A-Za-z_][A-Za-z0-9_]*)
  | (?P<punct>.)
    """,
    re.VERBOSE | re.DOTALL,
)


@dataclass(frozen=True)
class Token:
    """A lexical token: its kind (``word``, ``iri``, ``pname``, ``var``, ``string``, ``punct`` …) and text."""

    kind: str
    text: str


def tokens(text: str) -> Iterator[Token]:
    """The tokens of a query or update, without white space and comments."""
    for _, token in located_tokens(text):
        yield token


def located_tokens(text: str) -> Iterator[tuple[int, Token]]:
    """:func:`tokens`, each with the offset in ``text`` where it starts."""
    for match in _TOKEN.finditer(text):
        kind = match.lastgroup or "punct"
        if kind not in ("space", "comment"):
            yield match.start(), Token(kind, match.group())
