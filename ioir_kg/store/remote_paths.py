"""Property paths evaluated by the app, for a server that evaluates them wrongly (Virtuoso 7.2).

Debian's Virtuoso 7.2 returns wrong answers as soon as a query holds more than one ``*``/``+``/``?``
path (one row instead of fourteen for ``?body (org:unitOf|org:subOrganizationOf)+ ?org . ?i
a/rdfs:subClassOf* ioir:CooperationInstrument ; ioir:party ?body``), refuses a path whose two ends are
unbound ("transitive start not given"), and answers an alternative ``p|q`` with one row per match where
the embedded store (pyoxigraph) gives one per pair (openlink/virtuoso-opensource #234, #895, #1078).
:func:`rewrite_paths` replaces every such path by a ``VALUES`` block that the server only has to join:

* the path's step (``org:unitOf|org:subOrganizationOf``) is fetched once as distinct pairs
  (``SELECT DISTINCT ?a ?b { ?a STEP ?b }``) and its closure computed here;
* the block lists the pairs that fit the pattern's constant ends; a variable bound by the single-row
  ``VALUES`` that opens the query (how the app binds parameters) counts as a constant; the zero-length
  pairs of ``*`` and ``?`` are limited to the values that a plain triple pattern of an enclosing group
  allows for that variable (exact: the join would drop the others), or else to every IRI of the dataset;
* a sequence gets helper variables between its steps, an inverse swaps the ends; inside ``EXISTS``
  (where Virtuoso refuses a ``VALUES`` block on an outer variable) the path becomes a ``FILTER`` test.

Each step of the design avoids a construct that Virtuoso 7.2 evaluates wrongly: ``VALUES`` inside a
``UNION`` branch or ``EXISTS``, joins of several sub-selects, variables bound by expressions. Only what
holds such a path is rewritten, one subject with its predicate-object lists at a time; the rest keeps its
text. Paths inside ``GRAPH`` or ``SERVICE`` and forms this parser does not follow (collections,
blank-node property lists around a path, a result set too large to list) make :func:`rewrite_paths`
return ``None``: the query then goes to the server unchanged.

>>> pairs = {"<http://x/p>": [("<http://x/a>", "<http://x/b>"), ("<http://x/b>", "<http://x/c>")]}
>>> def fetch(prologue: str, pattern: str, variables: tuple[str, ...]) -> list[tuple[str, ...]]:
...     return pairs[pattern.split()[1]]
>>> print(rewrite_paths("SELECT ?y WHERE { <http://x/a> <http://x/p>+ ?y }", fetch))
SELECT ?y WHERE { { SELECT ?y WHERE { VALUES (?y) { (<http://x/b>) (<http://x/c>) } } } }
"""

from __future__ import annotations

import itertools
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

from pyoxigraph import Literal, NamedNode, RdfFormat, parse

#: ``fetch(prologue, pattern, variables)`` answers ``SELECT DISTINCT variables WHERE { pattern }`` as rows of
#: N-Triples terms; ``prologue`` holds the query's ``BASE`` and ``PREFIX`` declarations.
Fetch = Callable[[str, str, tuple[str, ...]], Sequence[tuple[str, ...]]]
#: Rows of one ``VALUES`` block (Virtuoso's parser fails at ~4,900); a larger set is split into
#: sub-selects joined by ``UNION``, which Virtuoso may evaluate wrongly in complex queries.
VALUES_ROWS = 4000
#: Pairs one path may expand to before the rewrite gives up (the query then goes unchanged).
MAX_PAIRS = 200_000

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
_TERM_KINDS = frozenset({"var", "iri", "pname", "string", "number", "bnode"})
_KEYWORDS = frozenset({"OPTIONAL", "MINUS", "GRAPH", "SERVICE", "FILTER", "BIND", "VALUES", "UNION"})


class GiveUp(Exception):
    """The query holds a form this rewriter does not follow: send it unchanged."""


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


@dataclass(frozen=True)
class Path:
    """A property path: ``kind`` is ``atom`` (an IRI, ``a`` or a negated set), ``inv``, ``seq``, ``alt``
    or ``mod`` (with ``op`` ``*``, ``+`` or ``?``)."""

    kind: str
    text: str = ""
    items: tuple[Path, ...] = ()
    op: str = ""
    #: The path as written in the query.
    source: str = ""

    @property
    def transitive(self) -> bool:
        """Whether a ``*``, ``+`` or ``?`` occurs in it."""
        return self.kind == "mod" or any(item.transitive for item in self.items)

    @property
    def alternative(self) -> bool:
        """Whether a ``|`` occurs in it (outside a negated property set)."""
        return self.kind == "alt" or any(item.alternative for item in self.items)

    def sparql(self) -> str:
        """The path as SPARQL text."""
        if self.kind == "atom":
            return self.text
        if self.kind == "inv":
            return f"^({self.items[0].sparql()})"
        if self.kind == "mod":
            return f"({self.items[0].sparql()}){self.op}"
        joiner = "/" if self.kind == "seq" else "|"
        return "(" + joiner.join(item.sparql() for item in self.items) + ")"


# -- the rewriter ---------------------------------------------------------------------------------------


@dataclass
class _Unit:
    """One subject with its predicate-object lists (a ``TriplesSameSubjectPath``)."""

    subject: str
    properties: list[tuple[Path | str, list[str]]] = field(default_factory=list)
    simple: bool = True

    def rewritten(self, in_exists: bool) -> bool:
        """Whether a property path here is evaluated by the app."""
        return any(
            isinstance(verb, Path) and (verb.transitive or (verb.alternative and not in_exists))
            for verb, _ in self.properties
        )


@dataclass
class _Frame:
    """A group graph pattern: its ``{`` token and its plain triple patterns (for candidate values)."""

    start: int
    triples: list[tuple[str, str, str]] = field(default_factory=list)
    #: The values a ``VALUES`` block of the group allows for each of its variables (as query text).
    listed: dict[str, set[str]] = field(default_factory=dict)
    #: Whether the variables of enclosing groups are not those of this one (sub-select, ``MINUS``).
    isolated: bool = False


@dataclass
class _Pending:
    """A unit to rewrite once the whole query has been read (candidates may come from later patterns)."""

    unit: _Unit
    span: tuple[int, int]
    frames: tuple[_Frame, ...]
    exists: bool
    constants: dict[str, str]


class _Rewriter:
    def __init__(self, text: str, fetch: Fetch, *, alternatives: bool = True) -> None:
        self.text = text
        self.toks = tokenize(text)
        #: Whether alternatives are evaluated as distinct pairs: not when the query removes duplicates anyway.
        self.alternatives = alternatives and not _deduplicates(self.toks)
        #: Whether this is the app's query (not one of the pattern queries sent to list a path's pairs).
        self.outermost = alternatives
        self.i = 0
        self.fetch = fetch
        self.fresh = itertools.count()
        self.fresh_count = 0
        self.prefixes: dict[str, str] = {}
        self.base: str | None = None
        self._rows: dict[tuple[str, tuple[str, ...]], list[tuple[str, ...]]] = {}
        #: How many ``EXISTS`` groups enclose the current position.
        self.exists_depth = 0
        self.frames: list[_Frame] = []
        self.pending: list[_Pending] = []
        #: Variables bound by the single-row ``VALUES`` that opens the top-level group (the parameters).
        self.constants: dict[str, str] = {}
        #: Whether some ``SELECT *`` would show helper variables (they are then hidden in sub-selects).
        self.star = _selects_star(self.toks)
        # set while a unit is emitted
        self.current: _Pending | None = None
        self.extra: dict[str, list[str]] = {}

    # -- scanning helpers ---------------------------------------------------------------------------
    def peek(self, ahead: int = 0) -> Token | None:
        index = self.i + ahead
        return self.toks[index] if index < len(self.toks) else None

    def word(self, ahead: int = 0) -> str:
        token = self.peek(ahead)
        return token.text.upper() if token is not None and token.kind == "word" else ""

    def at(self, text: str, ahead: int = 0) -> bool:
        token = self.peek(ahead)
        return token is not None and token.kind == "punct" and token.text == text

    def take(self) -> Token:
        token = self.peek()
        if token is None:
            raise GiveUp("unexpected end of query")
        self.i += 1
        return token

    def expect(self, text: str) -> None:
        token = self.take()
        if token.text != text:
            raise GiveUp(f"expected {text!r}, found {token.text!r}")

    # -- the query ----------------------------------------------------------------------------------
    def run(self) -> str | None:
        self.prologue()
        if self.word() == "CONSTRUCT" and self.at("{", 1):
            self.i += 1
            self.skip_braces()
        depth = 0
        where: tuple[int, int] | None = None
        while (token := self.peek()) is not None:
            if token.kind == "punct" and token.text in "()":
                depth += 1 if token.text == "(" else -1
            elif token.kind == "punct" and token.text == "{" and depth == 0:
                where = (self.i, 0)
                self.group(in_graph=False, top=True)
                where = (where[0], self.i - 1)
                break
            elif token.kind == "word" and token.text.upper() == "EXISTS" and self.at("{", 1):
                self.i += 1
                self.exists_group(in_graph=False)
                continue
            self.i += 1
        edits = []
        for item in self.pending:
            first, last = item.span
            edits.append((self.toks[first].start, self.toks[last].end, self.emit_unit(item)))
        if self.outermost and where is not None and _groups_distinct(self.toks):
            # Virtuoso 7.2 does not merge duplicate solutions whose group keys are unbound (the groups of
            # OPTIONAL parts come out two or three times, differently from run to run): with only
            # DISTINCT-insensitive aggregates, removing duplicates first changes nothing else.
            aliases = {  # (expr AS ?v) of the projection: bound by the outer query, not by the sub-select
                self.toks[k + 1].text
                for k in range(where[0])
                if self.toks[k].kind == "word" and self.toks[k].text.upper() == "AS" and k + 1 < len(self.toks)
            }
            names = sorted(
                {t.text for t in self.toks if t.kind == "var" and not t.text.startswith("?_ioir_path")} - aliases
            )
            opening, closing = self.toks[where[0]], self.toks[where[1]]
            edits.append((opening.end, opening.end, f" {{ SELECT DISTINCT {' '.join(names)} WHERE {{"))
            edits.append((closing.start, closing.start, "} } "))
        if not edits:
            return None
        out, end = [], 0
        for start, stop, replacement in sorted(edits):
            out += [self.text[end:start], replacement]
            end = stop
        out.append(self.text[end:])
        return "".join(out)

    def prologue(self) -> None:
        while self.word() in ("BASE", "PREFIX"):
            if self.word() == "BASE":
                self.i += 1
                self.base = self.take().text[1:-1]
            else:
                self.i += 1
                name = self.take().text
                self.prefixes[name[:-1]] = self.take().text[1:-1]

    def skip_braces(self) -> None:
        self.expect("{")
        depth = 1
        while depth:
            token = self.take()
            if token.kind == "punct" and token.text in "{}":
                depth += 1 if token.text == "{" else -1

    # -- group graph patterns -----------------------------------------------------------------------------
    def group(self, *, in_graph: bool, top: bool = False, isolated: bool = False) -> None:
        self.frames.append(_Frame(self.i, isolated=isolated))
        try:
            self._group(in_graph=in_graph, top=top)
        finally:
            self.frames.pop()

    def _group(self, *, in_graph: bool, top: bool) -> None:
        self.expect("{")
        if self.word() == "SELECT":
            self.frames[-1].isolated = True
            self.subselect(in_graph=in_graph)
            return
        first = True
        while True:
            token = self.peek()
            if token is None:
                raise GiveUp("unclosed group")
            word = token.text.upper() if token.kind == "word" else ""
            if token.kind == "punct" and token.text == "}":
                self.i += 1
                return
            if token.kind == "punct" and token.text == "{":
                self.group(in_graph=in_graph)
            elif token.kind == "punct" and token.text == ".":
                self.i += 1
            elif word == "OPTIONAL":
                self.i += 1
                self.group(in_graph=in_graph)
            elif word == "MINUS":
                self.i += 1
                self.group(in_graph=in_graph, isolated=True)
            elif word == "UNION":
                self.i += 1
            elif word == "GRAPH":
                self.i += 2
                self.group(in_graph=True)
            elif word == "SERVICE":
                self.i += 1
                if self.word() == "SILENT":
                    self.i += 1
                self.i += 1
                self.skip_braces()
            elif word == "FILTER":
                self.i += 1
                self.constraint(in_graph=in_graph)
            elif word == "BIND":
                self.i += 1
                self.parens(in_graph=in_graph)
            elif word == "VALUES":
                self.i += 1
                self.values(parameters=top and first)
            else:
                self.triples_block(in_graph=in_graph)
            first = False

    def exists_group(self, *, in_graph: bool) -> None:
        self.exists_depth += 1
        try:
            self.group(in_graph=in_graph)
        finally:
            self.exists_depth -= 1

    def subselect(self, *, in_graph: bool) -> None:
        """From ``SELECT`` to the ``}`` that closes the sub-select's group."""
        while not self.at("{"):
            if self.at("("):
                self.parens(in_graph=in_graph)
            else:
                self.take()
        self.group(in_graph=in_graph)
        while not self.at("}"):
            if self.at("("):
                self.parens(in_graph=in_graph)
            elif self.at("{"):
                self.skip_braces()
            else:
                self.take()
        self.i += 1

    def constraint(self, *, in_graph: bool) -> None:
        if self.at("("):
            self.parens(in_graph=in_graph)
            return
        if self.word() == "NOT":
            self.i += 1
        if self.word() == "EXISTS":
            self.i += 1
            self.exists_group(in_graph=in_graph)
            return
        self.take()  # a function name: a built-in, an IRI or a prefixed name
        self.parens(in_graph=in_graph)

    def parens(self, *, in_graph: bool) -> None:
        """A parenthesised expression, following ``EXISTS { … }`` inside it."""
        self.expect("(")
        depth = 1
        while depth:
            if self.word() == "EXISTS" and self.at("{", 1):
                self.i += 1
                self.exists_group(in_graph=in_graph)
                continue
            token = self.take()
            if token.kind == "punct" and token.text in "()":
                depth += 1 if token.text == "(" else -1

    def values(self, *, parameters: bool) -> None:
        """Skip a ``VALUES`` block; the single-row block that opens the query binds constants."""
        names: list[str] = []
        if self.at("("):
            self.i += 1
            while not self.at(")"):
                names.append(self.take().text)
            self.i += 1
        else:
            names.append(self.take().text)
        start = self.i
        self.skip_braces()
        inner = self.toks[start + 1 : self.i - 1]
        self.record_values(names, inner)
        if not parameters:
            return
        if len(names) > 1 or (inner and inner[0].text == "("):
            if not (inner and inner[0].text == "(" and inner[-1].text == ")"):
                return
            inner = inner[1:-1]
        if any(t.kind == "punct" and t.text in "()" for t in inner):
            return  # several rows
        terms = self.terms(inner)
        if terms is not None and len(terms) == len(names) and "UNDEF" not in terms:
            self.constants = dict(zip(names, terms, strict=True))

    def record_values(self, names: list[str], inner: Sequence[Token]) -> None:
        """Note the values each variable of a ``VALUES`` block may take (for the candidates of a path's end)."""
        rows: list[list[str]] = []
        if len(names) == 1 and not (inner and inner[0].text == "("):
            terms = self.terms(inner)
            rows = [[t] for t in terms] if terms is not None else []
        else:
            current: list[Token] = []
            for token in inner:
                if token.kind == "punct" and token.text == "(":
                    current = []
                elif token.kind == "punct" and token.text == ")":
                    terms = self.terms(current)
                    if terms is None or len(terms) != len(names):
                        return
                    rows.append(terms)
                else:
                    current.append(token)
        if not rows:
            return
        for k, name in enumerate(names):
            column = {row[k] for row in rows}
            if "UNDEF" not in column:
                self.frames[-1].listed[name] = column

    def terms(self, toks: Sequence[Token]) -> list[str] | None:
        """The terms of one ``VALUES`` row as text (``None`` if they do not read as terms)."""
        out: list[str] = []
        k = 0
        while k < len(toks):
            token = toks[k]
            text = token.text
            if token.kind == "string" and k + 1 < len(toks) and toks[k + 1].kind == "lang":
                text += toks[k + 1].text
                k += 1
            elif token.kind == "string" and k + 2 < len(toks) and toks[k + 1].text == "^^":
                text += "^^" + toks[k + 2].text
                k += 2
            elif token.kind not in ("iri", "pname", "string", "number", "word"):
                return None
            out.append(text)
            k += 1
        return out

    # -- triples ------------------------------------------------------------------------------------------
    def starts_triple(self) -> bool:
        token = self.peek()
        if token is None:
            return False
        if token.kind in _TERM_KINDS or (token.kind == "punct" and token.text in "[("):
            return True
        return token.kind == "word" and token.text.upper() in ("TRUE", "FALSE")

    def triples_block(self, *, in_graph: bool) -> None:
        while True:
            first = self.i
            unit = self.unit()
            frame = self.frames[-1]
            for verb, objects in unit.properties:
                plain = verb if isinstance(verb, str) else (verb.source if verb.kind == "atom" else "")
                if plain and unit.simple and not plain.startswith("!"):
                    frame.triples.extend((unit.subject, plain, obj) for obj in objects)
            if unit.rewritten(self.exists_depth > 0 or not self.alternatives) and not in_graph:
                if not unit.simple:
                    raise GiveUp("a path next to a collection or blank-node property list")
                constants = self.constants if not any(f.isolated for f in self.frames) else {}
                pending = _Pending(unit, (first, self.i - 1), tuple(self.frames), self.exists_depth > 0, constants)
                self.pending.append(pending)
            if self.at("."):
                self.i += 1
                if self.starts_triple() and self.word() not in _KEYWORDS:
                    continue
            return

    def unit(self) -> _Unit:
        subject, simple = self.node()
        unit = _Unit(subject, simple=simple)
        if subject.startswith("[") and not self.starts_verb():
            return unit
        while True:
            verb: Path | str = self.take().text if self.peek_kind() == "var" else self.path()
            objects = [self.object(unit)]
            while self.at(","):
                self.i += 1
                objects.append(self.object(unit))
            unit.properties.append((verb, objects))
            if not self.at(";"):
                return unit
            while self.at(";"):
                self.i += 1
            if not self.starts_verb():
                return unit

    def peek_kind(self) -> str:
        token = self.peek()
        return token.kind if token is not None else ""

    def object(self, unit: _Unit) -> str:
        text, simple = self.node()
        unit.simple = unit.simple and simple
        return text

    def starts_verb(self) -> bool:
        token = self.peek()
        if token is None:
            return False
        if token.kind in ("var", "iri", "pname"):
            return True
        return (token.kind == "word" and token.text == "a") or (token.kind == "punct" and token.text in "^(!")

    def node(self) -> tuple[str, bool]:
        """A subject or object: its text and whether it is a plain term."""
        token = self.take()
        if token.kind == "punct" and token.text == "[":
            inner = _Unit("[]")
            if not self.at("]"):
                while True:
                    verb = self.take().text if self.peek_kind() == "var" else self.path()
                    objects = [self.object(inner)]
                    while self.at(","):
                        self.i += 1
                        objects.append(self.object(inner))
                    inner.properties.append((verb, objects))
                    while self.at(";"):
                        self.i += 1
                    if self.at("]"):
                        break
            self.expect("]")
            if inner.rewritten(False):
                raise GiveUp("a path inside a blank-node property list")
            return "[", False
        if token.kind == "punct" and token.text == "(":
            depth = 1
            while depth:
                inner_token = self.take()
                if inner_token.kind == "punct" and inner_token.text in "()":
                    depth += 1 if inner_token.text == "(" else -1
            return "(", False
        if token.kind == "string":
            text = token.text
            if self.peek_kind() == "lang":
                text += self.take().text
            elif self.at("^^"):
                self.i += 1
                text += "^^" + self.take().text
            return text, True
        if token.kind in _TERM_KINDS or (token.kind == "word" and token.text.upper() in ("TRUE", "FALSE")):
            return token.text, token.kind != "bnode"
        if token.kind == "punct" and token.text in "+-" and self.peek_kind() == "number":
            return token.text + self.take().text, True
        raise GiveUp(f"unexpected {token.text!r} in a triple pattern")

    def path(self) -> Path:
        start = self.i
        items = [self.path_sequence()]
        while self.at("|"):
            self.i += 1
            items.append(self.path_sequence())
        return items[0] if len(items) == 1 else Path("alt", items=tuple(items), source=self.source(start))

    def path_sequence(self) -> Path:
        start = self.i
        items = [self.path_element()]
        while self.at("/"):
            self.i += 1
            items.append(self.path_element())
        return items[0] if len(items) == 1 else Path("seq", items=tuple(items), source=self.source(start))

    def source(self, start: int) -> str:
        """The query text from token ``start`` to the last token read."""
        return self.text[self.toks[start].start : self.toks[self.i - 1].end]

    def path_element(self) -> Path:
        start = self.i
        inverse = self.at("^")
        if inverse:
            self.i += 1
        primary_start = self.i
        token = self.take()
        if token.kind == "punct" and token.text == "(":
            group = self.path()
            self.expect(")")
            primary = Path(group.kind, group.text, group.items, group.op, source=self.source(primary_start))
        elif token.kind == "punct" and token.text == "!":
            if self.at("("):
                depth = 0
                while True:
                    member = self.take()
                    depth += {"(": 1, ")": -1}.get(member.text, 0) if member.kind == "punct" else 0
                    if depth == 0:
                        break
            else:
                if self.at("^"):
                    self.i += 1
                self.take()
            text = self.text[token.start : self.toks[self.i - 1].end]
            primary = Path("atom", text=text, source=text)
        elif token.kind in ("iri", "pname") or (token.kind == "word" and token.text == "a"):
            primary = Path("atom", text=token.text, source=token.text)
        else:
            raise GiveUp(f"unexpected {token.text!r} in a property path")
        if any(self.at(op) for op in "*+?"):
            primary = Path("mod", items=(primary,), op=self.take().text, source=self.source(primary_start))
        return Path("inv", items=(primary,), source=self.source(start)) if inverse else primary

    # -- the replacement --------------------------------------------------------------------------------------
    def var(self, *, helper: bool = True) -> str:
        """A fresh variable; ``helper=False`` for one that a sub-select already hides."""
        self.fresh_count += helper
        return f"?_ioir_path{next(self.fresh)}"

    def emit_unit(self, item: _Pending) -> str:
        self.current = item
        self.exists_depth = 1 if item.exists else 0
        unit = item.unit
        pieces: list[str] = []
        for verb, objects in unit.properties:
            for obj in objects:
                if isinstance(verb, Path) and self.rewritten(verb):
                    before = self.fresh_count
                    emitted = self.emit(unit.subject, verb, obj)
                    helpers = self.fresh_count != before
                    pieces.append(self.hidden(unit.subject, obj, emitted) if helpers else " . ".join(emitted))
                else:
                    text = verb.source or verb.sparql() if isinstance(verb, Path) else verb
                    pieces.append(f"{unit.subject} {text} {obj}")
        return " . ".join(piece for piece in pieces if piece)

    def rewritten(self, path: Path) -> bool:
        """Whether ``path`` is evaluated here: it holds ``*``/``+``/``?``, or an alternative (outside ``EXISTS``)."""
        return path.transitive or (path.alternative and self.alternatives and not self.exists_depth)

    def hidden(self, subject: str, obj: str, pieces: list[str]) -> str:
        """``pieces`` whose helper variables must not show: in a sub-select if the query uses ``SELECT *``.

        (Virtuoso 7.2 loses solutions when several sub-selects are joined, so they are used only when a
        helper variable would otherwise appear in the answer.)
        """
        body = " . ".join(piece for piece in pieces if piece)
        if self.exists_depth or not self.star:
            return body
        variables = list(dict.fromkeys(term for term in (subject, obj) if _is_var(term)))
        if not variables:
            return f"FILTER EXISTS {{ {body} }}"
        return f"{{ SELECT {' '.join(variables)} WHERE {{ {body} }} }}"

    def emit(self, subject: str, path: Path, obj: str) -> list[str]:
        if not self.rewritten(path):
            return [f"{subject} {path.source or path.sparql()} {obj}"]
        if path.kind == "inv":
            return self.emit(obj, path.items[0], subject)
        if path.kind == "seq":
            ends = [subject, *(self.var() for _ in path.items[1:]), obj]
            for k, item in enumerate(path.items):  # a plain step constrains the helper variables it binds
                if item.kind == "atom" and not item.source.startswith("!"):
                    if _is_var(ends[k + 1]) and ends[k + 1].startswith("?_ioir_path"):
                        self.extra.setdefault(ends[k + 1], []).append(f"{_free(ends[k])} {item.source} ?n")
                    if _is_var(ends[k]) and ends[k].startswith("?_ioir_path"):
                        self.extra.setdefault(ends[k], []).append(f"?n {item.source} {_free(ends[k + 1])}")
            return [piece for k, item in enumerate(path.items) for piece in self.emit(ends[k], item, ends[k + 1])]
        if path.kind == "alt" and not path.transitive:
            return [self.alternative(subject, path, obj)]
        if path.kind == "alt":
            raise GiveUp("an alternative of transitive paths")
        pairs: Sequence[tuple[str, ...]] = self.pairs(path.items[0])
        if path.op in "*+":
            pairs = _transitive_closure(pairs)
        return [self.listed(subject, obj, pairs, path.op in "*?")]

    def alternative(self, subject: str, path: Path, obj: str) -> str:
        """``subject (a|b) obj`` as distinct pairs, as the embedded store evaluates an alternative.

        (SPARQL 1.1 makes an alternative a ``UNION``; pyoxigraph answers each pair once, so a triple stored
        in two graphs, or matched by two branches, gives one solution on both backends. Not a ``VALUES``
        block: Virtuoso 7.2 mixes up the datatypes of literals listed in one column, and fails to compile
        some joins of such blocks.)
        """
        variables = list(dict.fromkeys(term for term in (subject, obj) if _is_var(term)))
        body = f"{subject} {path.source or path.sparql()} {obj}"
        if not variables:
            return f"FILTER EXISTS {{ {body} }}"
        return f"{{ SELECT DISTINCT {' '.join(variables)} WHERE {{ {body} }} }}"

    def listed(self, subject: str, obj: str, pairs: Sequence[tuple[str, ...]], zero: bool) -> str:
        """The pattern ``subject PATH obj`` whose pairs are ``pairs`` (plus zero-length ones when ``zero``)."""
        s_const, o_const = self.constant(subject), self.constant(obj)
        s_cand = None if s_const is not None else self.candidates(subject)
        o_cand = None if o_const is not None else self.candidates(obj)
        rows = {
            (a, b)
            for a, b in pairs
            if (s_const is None or a == s_const)
            and (o_const is None or b == o_const)
            and (s_cand is None or a in s_cand)
            and (o_cand is None or b in o_cand)
        }
        if zero:
            if s_const is not None:
                if o_const in (None, s_const):
                    rows.add((s_const, s_const))
            elif o_const is not None:
                rows.add((o_const, o_const))
            else:
                nodes = s_cand if o_cand is None else (o_cand if s_cand is None else s_cand & o_cand)
                rows |= {(n, n) for n in (nodes if nodes is not None else self.all_nodes())}
        if len(rows) > MAX_PAIRS:
            raise GiveUp(f"a path holds more than {MAX_PAIRS} pairs")
        if s_const is not None and o_const is not None:
            return "" if rows else "FILTER(false)"
        if self.exists_depth:
            ends = [term for term in (subject, obj) if _is_var(term) and self.constant(term) is None]
            generators = [_generator(v, self.var(helper=False), self.var(helper=False)) for v in ends if self.free(v)]
            return " . ".join([*generators, _membership(subject, obj, s_const, o_const, rows)])
        if s_const is not None or o_const is not None:
            variable = obj if s_const is not None else subject
            values = sorted({b if s_const is not None else a for a, b in rows})
            return _values([variable], [(v,) for v in values])
        if subject == obj:
            return _values([subject], sorted({(a,) for a, b in rows if a == b}))
        return _values([subject, obj], sorted(rows))

    def candidates(self, variable: str) -> set[str] | None:
        """The values ``variable`` can take, read from a plain triple pattern of an enclosing group.

        The pattern joins with the path, so listing only these values changes no answer; ``None``
        when no such pattern exists.
        """
        if not _is_var(variable) or self.current is None:
            return None
        patterns = list(self.extra.get(variable, []))
        best: set[str] | None = None
        for frame in reversed(self.current.frames):
            if variable in frame.listed:
                listed = {_ntriples(term, self.prefixes, self.base) for term in frame.listed[variable]}
                best = listed if best is None else best & listed
            for s, p, o in frame.triples:
                if s == variable and o != variable:
                    patterns.append(f"?n {p} {_free(o)}")
                elif o == variable and s != variable:
                    patterns.append(f"{_free(s)} {p} ?n")
            if frame.isolated:
                break
        for pattern in patterns[: 3 if best is None else 1]:
            found = {row[0] for row in self.rows(pattern, ("n",))}
            best = found if best is None else best & found
        return best

    def all_nodes(self) -> set[str]:
        """Every IRI of the dataset (the zero-length pairs of an unconstrained ``*`` path)."""
        rows = self.rows("{ ?n ?_p ?_o } UNION { ?_s ?_p ?n } FILTER(isIRI(?n))", ("n",))
        if len(rows) > VALUES_ROWS:
            raise GiveUp("too many nodes to list the zero-length pairs of a path")
        return {row[0] for row in rows}

    def free(self, variable: str) -> bool:
        """Whether ``variable`` (an end of a path inside ``EXISTS``) occurs nowhere else in that group.

        Such a variable gets a generator pattern: Virtuoso 7.2 does not carry an outer binding into an
        ``EXISTS`` group whose only use of it is a ``FILTER``.
        """
        if variable.startswith("?_ioir_path") or self.current is None:
            return False
        start = self.current.frames[-1].start
        depth, end = 0, start
        for end in range(start, len(self.toks)):
            token = self.toks[end]
            if token.kind == "punct" and token.text in "{}":
                depth += 1 if token.text == "{" else -1
                if depth == 0:
                    break
        first, last = self.current.span
        return not any(
            self.toks[k].kind == "var" and self.toks[k].text[1:] == variable[1:]
            for k in range(start, end)
            if not first <= k <= last
        )

    def rows(self, pattern: str, variables: tuple[str, ...]) -> list[tuple[str, ...]]:
        key = (pattern, variables)
        if key not in self._rows:
            found = [tuple(row) for row in self.fetch(self.prologue_text(), pattern, variables)]
            if len(found) > MAX_PAIRS:
                raise GiveUp(f"{pattern} holds more than {MAX_PAIRS} rows")
            self._rows[key] = found
        return self._rows[key]

    def pairs(self, step: Path) -> list[tuple[str, ...]]:
        return self.rows(f"?a {step.sparql()} ?b", ("a", "b"))

    def prologue_text(self) -> str:
        """``BASE``/``PREFIX`` declarations for a pattern sent on its own."""
        base = f"BASE <{self.base}>\n" if self.base else ""
        return base + "".join(f"PREFIX {name}: <{iri}>\n" for name, iri in self.prefixes.items())

    def constant(self, term: str) -> str | None:
        """A constant end as an N-Triples term (``None`` for a variable); parameters count as constants."""
        if _is_var(term):
            bound = self.current.constants.get(term) if self.current is not None else None
            return None if bound is None else _ntriples(bound, self.prefixes, self.base)
        return _ntriples(term, self.prefixes, self.base)


def _is_var(term: str) -> bool:
    return term.startswith(("?", "$"))


def _free(term: str) -> str:
    """A pattern end for a candidate query: constants stay, other variables become anonymous."""
    return "?_x" if _is_var(term) else term


def _values(variables: list[str], rows: Sequence[tuple[str, ...]]) -> str:
    """A sub-select over ``VALUES`` blocks of at most :data:`VALUES_ROWS` rows (joined by ``UNION``).

    (Virtuoso 7.2 joins a bare ``VALUES`` block with the other patterns by trying every row against every
    solution — seconds for a few hundred rows — and drops one that is a ``UNION`` branch; inside a
    sub-select it is evaluated right and fast. A column that mixes literals of several datatypes or
    languages is refused: Virtuoso gives them all the type of the first one.)
    """
    head = " ".join(variables)
    for k in range(len(variables)):
        kinds = {_kind(row[k]) for row in rows}
        if len(kinds) > 1 and any(kind != "iri" for kind in kinds):
            raise GiveUp("a VALUES column would mix literal types")

    def select(chunk: Sequence[tuple[str, ...]]) -> str:
        listed = " ".join("(" + " ".join(row) + ")" for row in chunk)
        return f"{{ SELECT {head} WHERE {{ VALUES ({head}) {{ {listed} }} }} }}"

    selects = [select(rows[k : k + VALUES_ROWS]) for k in range(0, len(rows), VALUES_ROWS)] or [select([])]
    return selects[0] if len(selects) == 1 else "{ " + " UNION ".join(selects) + " }"


def _kind(term: str) -> str:
    """``iri``, or the datatype or language part of a literal in N-Triples form."""
    if term.startswith("<"):
        return "iri"
    return term[term.rfind('"') + 1 :] or "string"


def _generator(variable: str, helper1: str, helper2: str) -> str:
    """A pattern that binds ``variable`` to a node of the graph (inside ``EXISTS``, where duplicates do not count)."""
    return f"{{ {variable} {helper1} {helper2} }} UNION {{ {helper2} {helper1} {variable} }}"


def _groups_distinct(toks: Sequence[Token]) -> bool:
    """Whether the query groups (``GROUP BY``) and its answer ignores duplicate solutions."""
    words = [t.text.upper() if t.kind == "word" else t.text for t in toks]
    return _deduplicates(toks) and any(words[k] == "GROUP" and words[k + 1] == "BY" for k in range(len(words) - 1))


def _deduplicates(toks: Sequence[Token]) -> bool:
    """Whether duplicate solutions cannot change the answer: ``SELECT DISTINCT``, or ``GROUP BY`` with only
    ``DISTINCT``, ``MIN``, ``MAX`` or ``SAMPLE`` aggregates (and no sub-select, to stay simple)."""
    words = [t.text.upper() if t.kind == "word" else t.text for t in toks]
    if words.count("SELECT") != 1:
        return False
    at = words.index("SELECT")
    if at + 1 < len(words) and words[at + 1] == "DISTINCT":
        return True
    grouped = any(words[k] == "GROUP" and words[k + 1] == "BY" for k in range(len(words) - 1))
    counted = [
        k for k in range(len(words) - 2) if words[k] in ("COUNT", "SUM", "AVG", "GROUP_CONCAT") and words[k + 1] == "("
    ]
    return grouped and all(words[k + 2] == "DISTINCT" for k in counted)


def _selects_star(toks: Sequence[Token]) -> bool:
    for k, token in enumerate(toks):
        if token.kind == "word" and token.text.upper() in ("SELECT", "DESCRIBE"):
            following = toks[k + 1 : k + 3]
            if following and following[0].kind == "word" and following[0].text.upper() in ("DISTINCT", "REDUCED"):
                following = following[1:]
            if following and following[0].text == "*":
                return True
    return False


def _membership(subject: str, obj: str, s_const: str | None, o_const: str | None, rows: set[tuple[str, str]]) -> str:
    """A ``FILTER`` that keeps the pairs of ``rows``, for a path inside ``EXISTS``.

    (Virtuoso 7.2 refuses a ``VALUES`` block in ``EXISTS`` whose variable the outer query binds: "side
    effect var passed"; there the path's ends are bound by the other patterns, so a test suffices.)
    """
    if s_const is not None or o_const is not None:
        variable = obj if s_const is not None else subject
        terms = sorted({b if s_const is not None else a for a, b in rows})
        return f"FILTER({variable} IN ({', '.join(terms)}))" if terms else "FILTER(false)"
    if subject == obj:
        terms = sorted({a for a, b in rows if a == b})
        return f"FILTER({subject} IN ({', '.join(terms)}))" if terms else "FILTER(false)"
    if any(not (a.startswith("<") and b.startswith("<")) for a, b in rows):
        raise GiveUp("a path between literals inside EXISTS")
    identity = {a for a, b in rows if a == b}
    keys = ", ".join(sorted(f'"{a[1:-1]} {b[1:-1]}"' for a, b in rows if a != b))
    tests = []
    if identity:
        tests.append(f"(sameTerm({subject}, {obj}) && {subject} IN ({', '.join(sorted(identity))}))")
    if keys:
        tests.append(f'(isIRI({subject}) && isIRI({obj}) && CONCAT(STR({subject}), " ", STR({obj})) IN ({keys}))')
    return f"FILTER({' || '.join(tests) or 'false'})"


def _transitive_closure(pairs: Sequence[tuple[str, ...]]) -> list[tuple[str, str]]:
    """Every ``(a, c)`` joined by one or more steps."""
    successors: dict[str, set[str]] = {}
    for a, b in pairs:
        successors.setdefault(a, set()).add(b)
    closure: list[tuple[str, str]] = []
    for start in successors:
        seen: set[str] = set()
        stack = list(successors[start])
        while stack:
            node = stack.pop()
            if node in seen:
                continue
            seen.add(node)
            stack.extend(successors.get(node, ()))
        closure.extend((start, node) for node in seen)
        if len(closure) > MAX_PAIRS:
            raise GiveUp(f"a path closure holds more than {MAX_PAIRS} pairs")
    return closure


def _ntriples(term: str, prefixes: dict[str, str], base: str | None) -> str:
    """A SPARQL term (IRI, prefixed name, literal, number, boolean) in N-Triples form, via the Turtle parser."""
    declarations = "".join(f"@prefix {name}: <{iri}> .\n" for name, iri in prefixes.items())
    document = f"{declarations}<urn:s> <urn:p> {term} ."
    try:
        quads = list(parse(document, RdfFormat.TURTLE, base_iri=base))
    except (SyntaxError, ValueError):
        raise GiveUp(f"cannot read the term {term!r}") from None
    value = quads[0].object
    if not isinstance(value, NamedNode | Literal):
        raise GiveUp(f"{term!r} is not a constant")
    return str(value)


def rewrite_paths(query: str, fetch: Fetch, *, alternatives: bool = True) -> str | None:
    """``query`` with its ``*``/``+``/``?`` paths replaced (see the module docstring); ``None``: unchanged."""
    try:
        return _Rewriter(query, fetch, alternatives=alternatives).run()
    except GiveUp:
        return None


def transitive_paths(query: str) -> list[str]:
    """The patterns whose answers :func:`rewrite_paths` would fetch (for tests and diagnostics).

    >>> transitive_paths("PREFIX o: <http://o/> ASK { ?a (o:p|o:q)* ?b . ?b o:r/o:s+ ?c }")
    ['?a (o:p|o:q) ?b', '?a o:s ?b']
    """
    found: list[str] = []

    def record(prologue: str, pattern: str, variables: tuple[str, ...]) -> list[tuple[str, ...]]:
        found.append(pattern)
        return []

    rewrite_paths(query, record)
    return [pattern for pattern in found if pattern.startswith("?a ")]


__all__ = ["MAX_PAIRS", "VALUES_ROWS", "Fetch", "GiveUp", "Path", "rewrite_paths", "tokenize", "transitive_paths"]
