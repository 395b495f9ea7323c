"""Competency queries: the field's standard questions as parameterised SPARQL files.

Each ``queries/NAME.rq`` opens with a comment header::

    # title: Cooperation instruments between two organizations
    # question: Which instruments link two organizations, by type and over time?
    # param: a
    #   type: iri
    #   class: org:Organization
    #   default: org/eu
    #   example: org/nato
    #   label: First organization
    # column: instrument
    #   label: the instrument

Parameter types: ``iri`` (an entity of ``class``), ``concept`` (a SKOS concept of ``scheme``),
``year`` (``xsd:gYear``-like integer), ``integer`` and ``text``. Arguments are checked, then bound
as RDF terms (pyoxigraph substitutions), never spliced into the query text.
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from typing import Literal as TypingLiteral

from pyoxigraph import Literal, NamedNode, QuerySolutions

from ioir_kg.errors import BadParameter, ResourceNotFound
from ioir_kg.namespaces import PREFIXES, sparql_prologue
from ioir_kg.store.base import KnowledgeStore, QueryResult, Term
from ioir_kg.store.bindings import inject_values
from ioir_kg.store.labels import label_index_for, search_sparql

ParamType = TypingLiteral["iri", "concept", "year", "integer", "text"]
PARAM_TYPES: tuple[ParamType, ...] = ("iri", "concept", "year", "integer", "text")
XSD_INTEGER = NamedNode("http://www.w3.org/2001/XMLSchema#integer")
_HEADER = re.compile(r"^#\s?(?P<indent>\s*)(?P<key>[a-z_]+):\s*(?P<value>.*)$")
_NAME = re.compile(r"^[a-z0-9]+(-[a-z0-9]+)*$")
#: ``class: *`` accepts any typed entity under the base IRI.
ANY_CLASS = "*"
_VAR = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")


@dataclass(frozen=True)
class Param:
    """One typed parameter of a competency query."""

    name: str
    type: ParamType
    label: str
    cls: str | None = None
    scheme: str | None = None
    default: str | None = None
    example: str | None = None
    required: bool = False

    def to_json(self) -> dict[str, Any]:
        """The parameter as shown in the catalogue."""
        return {k: v for k, v in self.__dict__.items() if v is not None and k != "cls"} | (
            {"class": self.cls} if self.cls else {}
        )


@dataclass(frozen=True)
class CompetencyQuery:
    """A parsed ``.rq`` file."""

    name: str
    title: str
    question: str
    sparql: str
    params: tuple[Param, ...] = ()
    columns: Mapping[str, str] = field(default_factory=dict)

    def param(self, name: str) -> Param | None:
        """The parameter called ``name``, if any."""
        return next((p for p in self.params if p.name == name), None)

    def to_json(self) -> dict[str, Any]:
        """The catalogue entry (without the SPARQL text)."""
        return {
            "name": self.name,
            "title": self.title,
            "question": self.question,
            "params": [p.to_json() for p in self.params],
            "columns": dict(self.columns),
        }


def expand_curie(value: str) -> str:
    """Expand ``prefix:local`` with the project's prefixes; full IRIs pass through.

    >>> expand_curie("org:Organization")
    'http://www.w3.org/ns/org#Organization'
    """
    prefix, sep, local = value.partition(":")
    if sep and prefix in PREFIXES and not local.startswith("//"):
        return PREFIXES[prefix] + local
    return value


def parse_query_file(path: Path) -> CompetencyQuery:
    """Parse one ``.rq`` file; a malformed header raises ``ValueError`` naming the file."""
    name = path.stem
    if not _NAME.match(name):
        raise ValueError(f"{path}: query names use lowercase letters, digits and hyphens")
    text = path.read_text(encoding="utf-8")
    meta: dict[str, str] = {}
    params: list[dict[str, str]] = []
    columns: dict[str, str] = {}
    current: dict[str, str] | None = None
    for line in text.splitlines():
        if not line.startswith("#"):
            if line.strip():
                break
            continue
        match = _HEADER.match(line)
        if match is None:
            continue
        key, value, nested = match["key"], match["value"].strip(), bool(match["indent"])
        if nested and current is not None:
            current[key] = value
        elif key == "param":
            current = {"name": value}
            params.append(current)
        elif key == "column":
            current = {"column": value}
            columns[value] = value
        else:
            current = None
            meta[key] = value
        if current is not None and "column" in current and key == "label" and nested:
            columns[current["column"]] = value
    for required in ("title", "question"):
        if not meta.get(required):
            raise ValueError(f"{path}: header lacks '# {required}:'")
    return CompetencyQuery(
        name=name,
        title=meta["title"],
        question=meta["question"],
        sparql=text,
        params=tuple(_param(path, p) for p in params),
        columns=columns,
    )


def _param(path: Path, raw: Mapping[str, str]) -> Param:
    name, kind = raw["name"], raw.get("type", "")
    if not _VAR.match(name) or kind not in PARAM_TYPES:
        raise ValueError(f"{path}: parameter {name!r} needs a variable name and a type in {PARAM_TYPES}")
    if kind == "iri" and "class" not in raw:
        raise ValueError(f"{path}: iri parameter {name!r} needs a class")
    if kind == "concept" and "scheme" not in raw:
        raise ValueError(f"{path}: concept parameter {name!r} needs a scheme")
    return Param(
        name=name,
        type=kind,
        label=raw.get("label", name),
        cls=expand_curie(raw["class"]) if raw.get("class", ANY_CLASS) != ANY_CLASS else raw.get("class"),
        scheme=raw.get("scheme"),
        default=raw.get("default"),
        example=raw.get("example"),
        required=raw.get("required", "false").lower() == "true",
    )


def load_catalogue(folder: Path) -> dict[str, CompetencyQuery]:
    """Every ``*.rq`` file of ``folder``, by name."""
    return {q.name: q for q in (parse_query_file(p) for p in sorted(folder.glob("*.rq")))}


def get_query(catalogue: Mapping[str, CompetencyQuery], name: str) -> CompetencyQuery:
    """The named query, or :class:`ResourceNotFound` listing the known names."""
    try:
        return catalogue[name]
    except KeyError:
        raise ResourceNotFound(f"no competency query named {name!r}; known: {', '.join(sorted(catalogue))}") from None


@dataclass(frozen=True)
class Choice:
    """A valid value of an ``iri`` or ``concept`` parameter, with its label and acronyms."""

    iri: str
    label: str
    alt_labels: tuple[str, ...] = ()


_CHOICES = (
    sparql_prologue()
    + """
SELECT ?item (SAMPLE(?pref) AS ?label) (GROUP_CONCAT(DISTINCT ?alt; separator="\u001f") AS ?alts)
WHERE {
  MEMBERSHIP
  OPTIONAL { ?item skos:prefLabel ?pref FILTER(langMatches(lang(?pref), "en")) }
  OPTIONAL { ?item skos:altLabel ?alt }
}
GROUP BY ?item ORDER BY LCASE(STR(SAMPLE(?pref)))
"""
)
_OF_CLASS = _CHOICES.replace("MEMBERSHIP", "?item a/rdfs:subClassOf* ?cls .")
_ANY_ENTITY = _CHOICES.replace("MEMBERSHIP", "?item a ?type . FILTER(STRSTARTS(STR(?item), STR(?base)))")
_IN_SCHEME = _CHOICES.replace("MEMBERSHIP", "?item skos:inScheme ?scheme .")


def choices(store: KnowledgeStore, param: Param, id_base: str) -> list[Choice]:
    """The valid values of an ``iri`` or ``concept`` parameter, read from the graph."""
    if param.type == "iri" and param.cls == ANY_CLASS:
        result = store.query(_ANY_ENTITY, bindings={"base": Literal(id_base)})
    elif param.type == "iri" and param.cls:
        result = store.query(_OF_CLASS, bindings={"cls": NamedNode(param.cls)})
    elif param.type == "concept" and param.scheme:
        result = store.query(_IN_SCHEME, bindings={"scheme": NamedNode(resolve_iri(param.scheme, id_base))})
    else:
        return []
    assert isinstance(result, QuerySolutions)
    out = []
    for row in result:
        item = row["item"]
        if not isinstance(item, NamedNode):
            continue
        label = row["label"].value if row["label"] is not None else item.value
        alts = tuple(a for a in (row["alts"].value.split("\x1f") if row["alts"] is not None else ()) if a)
        out.append(Choice(item.value, label, alts))
    return out


def resolve_iri(value: str, id_base: str) -> str:
    """``kind/slug`` → ``{id_base}kind/slug``; ``prefix:local`` expanded; full IRIs unchanged."""
    if value.startswith(("http://", "https://", "urn:")):
        return value
    if ":" in value:
        return expand_curie(value)
    return id_base + value.strip("/")


def bind_arguments(
    query: CompetencyQuery, args: Mapping[str, str], store: KnowledgeStore, id_base: str
) -> dict[str, Term]:
    """Check every argument and turn it into an RDF term; all problems are reported at once (422)."""
    errors: list[dict[str, Any]] = []
    unknown = sorted(set(args) - {p.name for p in query.params})
    for name in unknown:
        errors.append(
            {"param": name, "message": f"unknown parameter; this query takes: {_names(query)}", "choices": []}
        )
    bound: dict[str, Term] = {}
    for param in query.params:
        raw = args.get(param.name, param.default)
        if raw is None or raw == "":
            if param.required:
                errors.append({"param": param.name, "message": "is required", "choices": []})
            continue
        try:
            bound[param.name] = _bind_one(param, raw.strip(), store, id_base)
        except _ParamError as exc:
            errors.append({"param": param.name, "message": exc.message, "choices": exc.choices})
    if errors:
        detail = "; ".join(f"{e['param']}: {e['message']}" for e in errors)
        raise BadParameter(f"bad parameters for {query.name}: {detail}", errors=errors)
    return bound


def run_competency(query: CompetencyQuery, args: Mapping[str, str], store: KnowledgeStore, id_base: str) -> QueryResult:
    """Check and bind ``args``, then evaluate the query."""
    return store.query(competency_sparql(query, bind_arguments(query, args, store, id_base), store))


def competency_sparql(query: CompetencyQuery, bound: Mapping[str, Term], store: KnowledgeStore) -> str:
    """The query text with its checked arguments bound (a label search also gets the label index's candidates)."""
    # label index (ioir_kg.store.labels): a name search binds the few matching entities instead of scanning labels
    return search_sparql(query, bound, store) or inject_values(query.sparql, bound)


class _ParamError(Exception):
    def __init__(self, message: str, choices: Sequence[str] = ()) -> None:
        super().__init__(message)
        self.message = message
        self.choices = list(choices)


def _names(query: CompetencyQuery) -> str:
    return ", ".join(p.name for p in query.params) or "no parameters"


def _bind_one(param: Param, raw: str, store: KnowledgeStore, id_base: str) -> Term:
    if param.type in ("year", "integer"):
        if not re.fullmatch(r"-?\d{1,9}", raw):
            raise _ParamError(f"must be {'a year such as 2003' if param.type == 'year' else 'a whole number'}")
        return Literal(str(int(raw)), datatype=XSD_INTEGER)
    if param.type == "text":
        if len(raw) > 200:
            raise _ParamError("must be at most 200 characters")
        return Literal(raw)
    if _looks_like_iri(raw):
        _check_iri(raw, resolve_iri(raw, id_base))
    quick = _quick_bind(param, raw, store, id_base)  # one ASK instead of listing every valid value
    if quick is not None:
        return quick
    valid = choices(store, param, id_base)
    by_iri = {c.iri: c for c in valid}
    iri = resolve_iri(raw, id_base) if _looks_like_iri(raw) else None
    if iri is not None and iri in by_iri:
        return NamedNode(iri)
    by_name = _label_index(valid)
    if raw.casefold() in by_name:
        return NamedNode(by_name[raw.casefold()])
    if param.type == "concept":
        expected = f"a concept of {param.scheme}"
    else:
        expected = "an entity of this graph" if param.cls == ANY_CLASS else f"an entity of {param.cls}"
    near = difflib.get_close_matches(raw.casefold(), list(by_name), n=5, cutoff=0.6)
    suggestions = [f"{by_iri[by_name[n]].label} <{by_name[n]}>" for n in near]
    listed = [f"{c.label} <{c.iri}>" for c in valid]
    what = f"<{iri}> is not" if iri is not None else f"{raw!r} is neither the IRI nor a label or acronym of"
    hint = f"; did you mean: {', '.join(suggestions)}" if suggestions else ""
    raise _ParamError(f"{what} {expected}{hint}", listed)


_IS_OF_CLASS = sparql_prologue() + "ASK { ?item a/rdfs:subClassOf* ?cls }"
_IS_ENTITY = sparql_prologue() + "ASK { ?item a ?type . FILTER(STRSTARTS(STR(?item), STR(?base))) }"
_IS_IN_SCHEME = sparql_prologue() + "ASK { ?item skos:inScheme ?scheme }"


def _quick_bind(param: Param, raw: str, store: KnowledgeStore, id_base: str) -> NamedNode | None:
    """The IRI ``raw`` names when it is a valid value (checked with one ``ASK``); ``None``: take the full path.

    A name or acronym is looked up in the label index (:mod:`ioir_kg.store.labels`) when the store has one;
    when several entities carry it, or none, the full path decides (and explains).
    """
    if _looks_like_iri(raw):
        candidates = [resolve_iri(raw, id_base)]
    else:
        index = label_index_for(store)
        candidates = index.exact(store, raw) if index is not None else []
    members = [iri for iri in candidates if _is_valid(param, NamedNode(iri), store, id_base)]
    return NamedNode(members[0]) if len(members) == 1 else None


def _is_valid(param: Param, item: NamedNode, store: KnowledgeStore, id_base: str) -> bool:
    if param.type == "iri" and param.cls == ANY_CLASS:
        result = store.query(_IS_ENTITY, bindings={"item": item, "base": Literal(id_base)})
    elif param.type == "iri" and param.cls:
        result = store.query(_IS_OF_CLASS, bindings={"item": item, "cls": NamedNode(param.cls)})
    elif param.type == "concept" and param.scheme:
        result = store.query(
            _IS_IN_SCHEME, bindings={"item": item, "scheme": NamedNode(resolve_iri(param.scheme, id_base))}
        )
    else:
        return False
    return bool(result)


def _check_iri(raw: str, iri: str) -> None:
    """Refuse an argument written as an IRI that is not a valid one (spaces, ``<>``, quotes …)."""
    try:
        NamedNode(iri)
    except ValueError:
        shown = repr(raw[:80]) + ("…" if len(raw) > 80 else "")
        raise _ParamError(
            f"{shown} is not a valid IRI: write an absolute IRI without spaces, quotes, <>, {{}}, |, ^, ` or \\"
            " (percent-encode them), or kind/slug, or a label"
        ) from None


def _looks_like_iri(raw: str) -> bool:
    return raw.startswith(("http://", "https://", "urn:")) or bool(re.fullmatch(r"[a-z][a-z-]*/[a-z0-9-]+", raw))


def _label_index(valid: Sequence[Choice]) -> dict[str, str]:
    index: dict[str, str] = {}
    for choice in valid:
        for name in (choice.label, *choice.alt_labels):
            index.setdefault(name.casefold(), choice.iri)
    return index
