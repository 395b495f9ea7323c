"""Every competency query gives the same answer on Virtuoso as on the embedded store.

The reviewed answers of ``tests/competency/expected/`` are checked on both backends by
``tests/competency/test_competency.py`` (its ``client`` fixture is parametrised); here, the answer with the
default arguments is compared with the embedded store's. The only allowed difference is the order of the
values inside a ``GROUP_CONCAT``, which SPARQL leaves open (and its language tag, which pyoxigraph keeps
when all values share it, SPARQL 1.1 does not): those cells are compared as sets of values.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from pyoxigraph import QuerySolutions

from ioir_kg.config import PROJECT_ROOT, Settings
from ioir_kg.errors import BadParameter
from ioir_kg.sparql.competency import CompetencyQuery, load_catalogue, run_competency
from ioir_kg.sparql.results import term_text
from ioir_kg.store import open_store
from ioir_kg.store.base import KnowledgeStore
from ioir_kg.store.oxigraph import OxigraphStore
from tests.competency.golden import comparable

CATALOGUE = load_catalogue(PROJECT_ROOT / "queries")
ID = "https://w3id.org/ioir/id/"


@pytest.fixture(scope="module")
def remote(remote_bundled: Settings) -> Iterator[KnowledgeStore]:
    store = open_store(remote_bundled)
    yield store
    store.close()


@pytest.fixture(scope="module")
def embedded(bundled_store_path: Path) -> KnowledgeStore:
    """The session's bundled on-disk store, opened read-only beside the session's app."""
    return OxigraphStore(bundled_store_path, read_only=True)  # (close() would flush, which read-only refuses)


def _answer(query: CompetencyQuery, store: KnowledgeStore, args: dict[str, str]) -> tuple[list[str], list[list[str]]]:
    result = run_competency(query, args, store, ID)
    assert isinstance(result, QuerySolutions)
    columns = [v.value for v in result.variables]
    return columns, [[term_text(row[c]) for c in columns] for row in result]


@pytest.mark.parametrize("name", sorted(CATALOGUE))
def test_default_arguments_answer_as_the_embedded_store(
    name: str, remote: KnowledgeStore, embedded: KnowledgeStore
) -> None:
    """With the default arguments (where every parameter has one), both backends give the same rows."""
    query = CATALOGUE[name]
    if any(p.required and p.default is None for p in query.params):
        with pytest.raises(BadParameter):
            run_competency(query, {}, remote, ID)
        return
    columns, rows = _answer(query, embedded, {})
    remote_columns, remote_rows = _answer(query, remote, {})
    assert remote_columns == columns
    assert comparable(query, columns, remote_rows) == comparable(query, columns, rows)


@pytest.mark.parametrize(
    ("name", "args", "param"),
    [
        ("missions-by-organization", {"org": "org/no-such-org"}, "org"),
        ("dependencies-by-level", {"level": "concept/level-nano"}, "level"),
        ("instruments-in-period", {"from": "twenty"}, "from"),
    ],
)
def test_bad_parameters_are_refused_the_same_way(
    name: str, args: dict[str, str], param: str, remote: KnowledgeStore
) -> None:
    with pytest.raises(BadParameter) as info:
        run_competency(CATALOGUE[name], args, remote, ID)
    assert [e["param"] for e in info.value.errors] == [param]
