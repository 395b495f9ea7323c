"""The state of one rewrite and what replaces a path: :class:`PathEvaluator` fetches a path's pairs from the server
(cached per pattern), narrows them to the values the rest of the query allows, and writes them as ``VALUES`` blocks
or ``FILTER`` tests. :class:`~ioir_kg.store.virtuoso.paths.PathRewriter` reads the query on top of it."""

from __future__ import annotations

import itertools
from collections.abc import Sequence

from ioir_kg.store.virtuoso.path_model import (
    MAX_PAIRS,
    VALUES_ROWS,
    Fetch,
    Frame,
    GiveUp,
    Path,
    Pending,
    anonymous,
    deduplicates,
    generator,
    is_var,
    membership,
    ntriples,
    selects_star,
    transitive_closure,
    values_select,
)
from ioir_kg.store.virtuoso.tokens import tokenize


class PathEvaluator:
    """The rewrite's state (the query's tokens, prefixes, groups read so far) and the replacement of paths."""

    def __init__(self, text: str, fetch: Fetch, *, alternatives: bool = True) -> None:
        self.text = text
        self.toks = tokenize(text)
        #: Whether alternatives are evaluated as distinct pairs: not when the query removes duplicates anyway.
        self.alternatives = alternatives and not deduplicates(self.toks)
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
        self.frames: list[Frame] = []
        self.pending: list[Pending] = []
        #: Variables bound by the single-row ``VALUES`` that opens the top-level group (the parameters).
        self.constants: dict[str, str] = {}
        #: Whether some ``SELECT *`` would show helper variables (they are then hidden in sub-selects).
        self.star = selects_star(self.toks)
        # set while a unit is emitted
        self.current: Pending | None = None
        self.extra: dict[str, list[str]] = {}

    # -- the replacement --------------------------------------------------------------------------------------
    def var(self, *, helper: bool = True) -> str:
        """A fresh variable; ``helper=False`` for one that a sub-select already hides."""
        self.fresh_count += helper
        return f"?_ioir_path{next(self.fresh)}"

    def emit_unit(self, item: Pending) -> str:
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
        variables = list(dict.fromkeys(term for term in (subject, obj) if is_var(term)))
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
                    if is_var(ends[k + 1]) and ends[k + 1].startswith("?_ioir_path"):
                        self.extra.setdefault(ends[k + 1], []).append(f"{anonymous(ends[k])} {item.source} ?n")
                    if is_var(ends[k]) and ends[k].startswith("?_ioir_path"):
                        self.extra.setdefault(ends[k], []).append(f"?n {item.source} {anonymous(ends[k + 1])}")
            return [piece for k, item in enumerate(path.items) for piece in self.emit(ends[k], item, ends[k + 1])]
        if path.kind == "alt" and not path.transitive:
            return [self.alternative(subject, path, obj)]
        if path.kind == "alt":
            raise GiveUp("an alternative of transitive paths")
        pairs: Sequence[tuple[str, ...]] = self.pairs(path.items[0])
        if path.op in "*+":
            pairs = transitive_closure(pairs)
        return [self.listed(subject, obj, pairs, path.op in "*?")]

    def alternative(self, subject: str, path: Path, obj: str) -> str:
        """``subject (a|b) obj`` as distinct pairs, as the embedded store evaluates an alternative.

        (SPARQL 1.1 makes an alternative a ``UNION``; pyoxigraph answers each pair once, so a triple stored
        in two graphs, or matched by two branches, gives one solution on both backends. Not a ``VALUES``
        block: Virtuoso 7.2 mixes up the datatypes of literals listed in one column, and fails to compile
        some joins of such blocks.)
        """
        variables = list(dict.fromkeys(term for term in (subject, obj) if is_var(term)))
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
            ends = [term for term in (subject, obj) if is_var(term) and self.constant(term) is None]
            generators = [generator(v, self.var(helper=False), self.var(helper=False)) for v in ends if self.free(v)]
            return " . ".join([*generators, membership(subject, obj, s_const, o_const, rows)])
        if s_const is not None or o_const is not None:
            variable = obj if s_const is not None else subject
            values = sorted({b if s_const is not None else a for a, b in rows})
            return values_select([variable], [(v,) for v in values])
        if subject == obj:
            return values_select([subject], sorted({(a,) for a, b in rows if a == b}))
        return values_select([subject, obj], sorted(rows))

    def candidates(self, variable: str) -> set[str] | None:
        """The values ``variable`` can take, read from a plain triple pattern of an enclosing group.

        The pattern joins with the path, so listing only these values changes no answer; ``None``
        when no such pattern exists.
        """
        if not is_var(variable) or self.current is None:
            return None
        patterns = list(self.extra.get(variable, []))
        best: set[str] | None = None
        for frame in reversed(self.current.frames):
            if variable in frame.listed:
                listed = {ntriples(term, self.prefixes, self.base) for term in frame.listed[variable]}
                best = listed if best is None else best & listed
            for s, p, o in frame.triples:
                if s == variable and o != variable:
                    patterns.append(f"?n {p} {anonymous(o)}")
                elif o == variable and s != variable:
                    patterns.append(f"{anonymous(s)} {p} ?n")
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
        if is_var(term):
            bound = self.current.constants.get(term) if self.current is not None else None
            return None if bound is None else ntriples(bound, self.prefixes, self.base)
        return ntriples(term, self.prefixes, self.base)


__all__ = ["PathEvaluator"]
