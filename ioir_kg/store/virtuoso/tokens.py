"""The tokens of a query as the Virtuoso dialect and the path rewriter read it: every token with its place in the
text, white space and comments dropped, strings and IRIs whole (so that a keyword inside them is not one).

>>> [(t.kind, t.text) for t in tokenize("ASK { ?s <http://x/p> 'GRAPH' } # FROM")]
[('word', 'ASK'), ('punct', '{'), ('var', '?s'), ('iri', '<http://x/p>'), ('string', "'GRAPH'"), ('punct', '}')]
"""

from __future__ import annotations

import re
from dataclasses import dataclass

_TOKEN = re.compile(
    r"""
    (?P<space>\s+)
  | (?P<comment>\#[^\r\n]*)
  | (?P<string>'''(?:[^'\\]|\\.|'(?!''))*'''|\"\"\"(?:[^"\\]|\\.|"(?!""))*\"\"\"
              |'(?:[^'\\\r\n]|\\.)*'|"(?:[^"\\\r\n]|\\.)*")
  | (?P<iri><[^<>"{}|^`\\\x00-\x20]*>)
  | (?P<var>[?$]\w+)
  | (?P<bnode>_:[\w.-]*\w|_:\w)
  | (?P<pname>(?:[A-Za-z](?:[\w.-]*[\w-])?)?:(?:(?:[\w:%-]|\\.)(?:(?:[\w.:%-]|\\.)*(?:[\w:%-]|\\.))?)?)
  | (?P<lang>@[A-Za-z]+(?:-[A-Za-z0-9]+)*)
  | (?P<number>\d*\.\d+(?:[eE][+-]?\d+)?|\d+\.?\d*[eE][+-]?\d+|\d+)
  | (?P<word>[A-Za-z_]\w*)
  | (?P<punct>\^\^|&&|\|\||!=|<=|>=|.)
    """,
    re.VERBOSE | re.DOTALL,
)


@dataclass(frozen=True)
class Token:
    """A token with its place in the text."""

    kind: str
    text: str
    start: int
    end: int


def tokenize(text: str) -> list[Token]:
    """The tokens of a query, without white space and comments."""
    out = []
    for match in _TOKEN.finditer(text):
        kind = match.lastgroup or "punct"
        if kind not in ("space", "comment"):
            out.append(Token(kind, match.group(), match.start(), match.end()))
    return out


# -- property paths ---------------------------------------------------------------------------------


__all__ = ["Token", "tokenize"]
