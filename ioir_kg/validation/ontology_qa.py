"""Quality checks of the ontology together with the data: violation queries and the HermiT reasoner.

Each ``ontology/checks/NAME-violation.rq`` is a SPARQL SELECT that returns no rows when all is well; it runs over the
union of the ontology (``ioir.ttl``, ``schemes.ttl``, ``imports/*.ttl``; not ``shapes.ttl``) and ``data/*.ttl``.
Each row becomes a :class:`Problem` named after the check (``NAME``). HermiT then checks that the same union is
consistent and has no unsatisfiable class.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

import pyoxigraph
from rdflib import Graph

from ioir_kg.validation.owl import ReasonerFailed, ReasonerUnavailable, hermit_consistency

__all__ = [
    "Problem",
    "check_ontology",
    "check_query_files",
    "load_graph",
    "ontology_files",
    "reasoning_graph",
    "run_checks",
    "shacl_ontology_files",
]

CHECK_SUFFIX = "-violation.rq"


@dataclass(frozen=True)
class Problem:
    """One finding: the ``check`` that found it (a query name such as ``missing-label``, ``hermit`` or
    ``syntax``) and a ``message`` for people."""

    check: str
    message: str


def ontology_files(ontology_dir: Path) -> list[Path]:
    """The ontology proper: ``ioir.ttl``, ``schemes.ttl`` and ``imports/*.ttl`` (the shapes are not part of it)."""
    files = [ontology_dir / "ioir.ttl", ontology_dir / "schemes.ttl"]
    return [path for path in files if path.is_file()] + sorted((ontology_dir / "imports").glob("*.ttl"))


def shacl_ontology_files(ontology_dir: Path) -> list[Path]:
    """The files to pass to pySHACL as ``ont_graph``: ``ioir.ttl`` and ``imports/*.ttl``
    (``schemes.ttl`` is instance data and goes with the data graph)."""
    return [ontology_dir / "ioir.ttl", *sorted((ontology_dir / "imports").glob("*.ttl"))]


def check_query_files(ontology_dir: Path) -> list[Path]:
    """The violation queries, ``checks/*-violation.rq``, sorted by name."""
    return sorted((ontology_dir / "checks").glob(f"*{CHECK_SUFFIX}"))


def load_graph(paths: Iterable[Path]) -> Graph:
    """Parse Turtle files into one rdflib graph (a file that does not parse raises rdflib's error)."""
    graph = Graph()
    for path in paths:
        graph.parse(path, format="turtle")
    return graph


def reasoning_graph(ontology_dir: Path, data_dir: Path) -> Graph:
    """The ontology (``ontology_files``) and every ``data_dir/*.ttl`` in one graph."""
    return load_graph([*ontology_files(ontology_dir), *sorted(data_dir.rglob("*.ttl"))])


def run_checks(graph: Graph, queries: Iterable[Path]) -> list[Problem]:
    """Run each violation query over ``graph`` (with pyoxigraph) and turn each row into a :class:`Problem`."""
    store = pyoxigraph.Store()
    store.load(graph.serialize(format="nt", encoding="utf-8"), format=pyoxigraph.RdfFormat.N_TRIPLES)
    problems: list[Problem] = []
    for query_file in queries:
        name = query_file.name.removesuffix(CHECK_SUFFIX)
        solutions = store.query(query_file.read_text(encoding="utf-8"))
        if not isinstance(solutions, pyoxigraph.QuerySolutions):
            raise ValueError(f"{query_file} is not a SELECT query")
        variables = [variable.value for variable in solutions.variables]
        for solution in solutions:
            problems.append(Problem(name, _describe(variables, solution)))
    return problems


def _describe(variables: list[str], solution: pyoxigraph.QuerySolution) -> str:
    bound = {name: solution[name] for name in variables if solution[name] is not None}
    focus, message = bound.pop("focus", None), bound.pop("message", None)
    parts = [_text(focus)] if focus is not None else []
    if message is not None:
        parts.append(_text(message))
    parts.extend(f"{name}={_text(term)}" for name, term in bound.items())
    return ": ".join(parts[:2]) + ("; " + ", ".join(parts[2:]) if len(parts) > 2 else "")


def _text(term: object) -> str:
    value = getattr(term, "value", None)
    return value if isinstance(value, str) else str(term)


def check_ontology(
    ontology_dir: Path, data_dir: Path, *, reasoner: bool = True, timeout_s: float = 300
) -> list[Problem]:
    """All problems of the ontology with the data: syntax errors, rows of the violation queries and, when
    ``reasoner`` is true, HermiT's verdict (inconsistency, unsatisfiable classes, or that it could not run)."""
    problems: list[Problem] = []
    graph = Graph()
    for path in [*ontology_files(ontology_dir), *sorted(data_dir.rglob("*.ttl"))]:
        try:
            graph.parse(path, format="turtle")
        except Exception as exc:  # rdflib raises several unrelated types for bad Turtle
            problems.append(Problem("syntax", f"{path.name}: {exc}"))
    problems.extend(run_checks(graph, check_query_files(ontology_dir)))
    if reasoner:
        try:
            verdict = hermit_consistency(graph, timeout_s=timeout_s)
        except (ReasonerUnavailable, ReasonerFailed) as exc:
            problems.append(Problem("hermit", f"HermiT could not check consistency: {exc.message}"))
        else:
            if not verdict.consistent:
                problems.append(Problem("hermit", verdict.message))
            problems.extend(Problem("hermit", f"unsatisfiable class: {iri}") for iri in verdict.unsatisfiable)
    return problems
