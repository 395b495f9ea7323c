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

from collections.abc import Sequence

from ioir_kg.store.virtuoso.path_model import (
    MAX_PAIRS,
    VALUES_ROWS,
    Fetch,
    Frame,
    GiveUp,
    Path,
    Pending,
    Unit,
    groups_distinct,
)
from ioir_kg.store.virtuoso.path_values import PathEvaluator
from ioir_kg.store.virtuoso.tokens import Token

_TERM_KINDS = frozenset({"var", "iri", "pname", "string", "number", "bnode"})
_KEYWORDS = frozenset({"OPTIONAL", "MINUS", "GRAPH", "SERVICE", "FILTER", "BIND", "VALUES", "UNION"})


class PathRewriter(PathEvaluator):
    """Reads a query and hands each unit that holds a path to :class:`PathEvaluator`."""

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
        if self.outermost and where is not None and groups_distinct(self.toks):
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
        self.frames.append(Frame(self.i, isolated=isolated))
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
                pending = Pending(unit, (first, self.i - 1), tuple(self.frames), self.exists_depth > 0, constants)
                self.pending.append(pending)
            if self.at("."):
                self.i += 1
                if self.starts_triple() and self.word() not in _KEYWORDS:
                    continue
            return

    def unit(self) -> Unit:
        subject, simple = self.node()
        unit = Unit(subject, simple=simple)
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

    def object(self, unit: Unit) -> str:
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
            inner = Unit("[]")
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


def rewrite_paths(query: str, fetch: Fetch, *, alternatives: bool = True) -> str | None:
    """``query`` with its ``*``/``+``/``?`` paths replaced (see the module docstring); ``None``: unchanged."""
    try:
        return PathRewriter(query, fetch, alternatives=alternatives).run()
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


__all__ = ["MAX_PAIRS", "VALUES_ROWS", "Fetch", "GiveUp", "Path", "rewrite_paths", "transitive_paths"]
