"""What the property-path rewriter (:mod:`ioir_kg.store.virtuoso.paths`) works with: paths, the units and
groups it reads, and the text it writes in their place (``VALUES`` blocks, membership tests, closures)."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

from pyoxigraph import Literal, NamedNode, RdfFormat, parse

from ioir_kg.store.virtuoso.tokens import Token

#: N-Triples terms; ``prologue`` holds the query's ``BASE`` and ``PREFIX`` declarations.
Fetch = Callable[[str, str, tuple[str, ...]], Sequence[tuple[str, ...]]]
#: Rows of one ``VALUES`` block (Virtuoso's parser fails at ~4,900); a larger set is split into
#: sub-selects joined by ``UNION``, which Virtuoso may evaluate wrongly in complex queries.
VALUES_ROWS = 4000
#: Pairs one path may expand to before the rewrite gives up (the query then goes unchanged).
MAX_PAIRS = 200_000


class GiveUp(Exception):
    """The query holds a form this rewriter does not follow: send it unchanged."""


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
class Unit:
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
class Frame:
    """A group graph pattern: its ``{`` token and its plain triple patterns (for candidate values)."""

    start: int
    triples: list[tuple[str, str, str]] = field(default_factory=list)
    #: The values a ``VALUES`` block of the group allows for each of its variables (as query text).
    listed: dict[str, set[str]] = field(default_factory=dict)
    #: Whether the variables of enclosing groups are not those of this one (sub-select, ``MINUS``).
    isolated: bool = False


@dataclass
class Pending:
    """A unit to rewrite once the whole query has been read (candidates may come from later patterns)."""

    unit: Unit
    span: tuple[int, int]
    frames: tuple[Frame, ...]
    exists: bool
    constants: dict[str, str]


def is_var(term: str) -> bool:
    return term.startswith(("?", "$"))


def anonymous(term: str) -> str:
    """A pattern end for a candidate query: constants stay, other variables become anonymous."""
    return "?_x" if is_var(term) else term


def values_select(variables: list[str], rows: Sequence[tuple[str, ...]]) -> str:
    """A sub-select over ``VALUES`` blocks of at most :data:`VALUES_ROWS` rows (joined by ``UNION``).

    (Virtuoso 7.2 joins a bare ``VALUES`` block with the other patterns by trying every row against every
    solution — seconds for a few hundred rows — and drops one that is a ``UNION`` branch; inside a
    sub-select it is evaluated right and fast. A column that mixes literals of several datatypes or
    languages is refused: Virtuoso gives them all the type of the first one.)
    """
    head = " ".join(variables)
    for k in range(len(variables)):
        kinds = {term_kind(row[k]) for row in rows}
        if len(kinds) > 1 and any(kind != "iri" for kind in kinds):
            raise GiveUp("a VALUES column would mix literal types")

    def select(chunk: Sequence[tuple[str, ...]]) -> str:
        listed = " ".join("(" + " ".join(row) + ")" for row in chunk)
        return f"{{ SELECT {head} WHERE {{ VALUES ({head}) {{ {listed} }} }} }}"

    selects = [select(rows[k : k + VALUES_ROWS]) for k in range(0, len(rows), VALUES_ROWS)] or [select([])]
    return selects[0] if len(selects) == 1 else "{ " + " UNION ".join(selects) + " }"


def term_kind(term: str) -> str:
    """``iri``, or the datatype or language part of a literal in N-Triples form."""
    if term.startswith("<"):
        return "iri"
    return term[term.rfind('"') + 1 :] or "string"


def generator(variable: str, helper1: str, helper2: str) -> str:
    """A pattern that binds ``variable`` to a node of the graph (inside ``EXISTS``, where duplicates do not count)."""
    return f"{{ {variable} {helper1} {helper2} }} UNION {{ {helper2} {helper1} {variable} }}"


def groups_distinct(toks: Sequence[Token]) -> bool:
    """Whether the query groups (``GROUP BY``) and its answer ignores duplicate solutions."""
    words = [t.text.upper() if t.kind == "word" else t.text for t in toks]
    return deduplicates(toks) and any(words[k] == "GROUP" and words[k + 1] == "BY" for k in range(len(words) - 1))


def deduplicates(toks: Sequence[Token]) -> bool:
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


def selects_star(toks: Sequence[Token]) -> bool:
    for k, token in enumerate(toks):
        if token.kind == "word" and token.text.upper() in ("SELECT", "DESCRIBE"):
            following = toks[k + 1 : k + 3]
            if following and following[0].kind == "word" and following[0].text.upper() in ("DISTINCT", "REDUCED"):
                following = following[1:]
            if following and following[0].text == "*":
                return True
    return False


def membership(subject: str, obj: str, s_const: str | None, o_const: str | None, rows: set[tuple[str, str]]) -> str:
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


def transitive_closure(pairs: Sequence[tuple[str, ...]]) -> list[tuple[str, str]]:
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


def ntriples(term: str, prefixes: dict[str, str], base: str | None) -> str:
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


__all__ = [
    "MAX_PAIRS",
    "VALUES_ROWS",
    "Fetch",
    "Frame",
    "GiveUp",
    "Path",
    "Pending",
    "Unit",
    "anonymous",
    "deduplicates",
    "generator",
    "is_var",
    "membership",
    "ntriples",
    "selects_star",
    "transitive_closure",
    "values_select",
]
