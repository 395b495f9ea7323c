"""Expected answers of the competency queries on the bundled data, kept as JSON beside the tests.

``python -m tests.competency.golden`` rewrites them from the current data (review the diff!).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from pyoxigraph import QuerySolutions

from ioir_kg.config import PROJECT_ROOT, Settings
from ioir_kg.sparql.competency import CompetencyQuery, load_catalogue, run_competency
from ioir_kg.sparql.results import term_text
from ioir_kg.store.base import KnowledgeStore
from ioir_kg.store.virtuoso.dialect import query_shape

EXPECTED_DIR = Path(__file__).parent / "expected"


def sample_args(query: CompetencyQuery) -> dict[str, str]:
    """The arguments a golden run uses: each parameter's example, else its default."""
    return {p.name: value for p in query.params if (value := p.example or p.default) is not None}


def answer(query: CompetencyQuery, store: KnowledgeStore, id_base: str) -> dict[str, Any]:
    """The query's rows on ``store`` with the sample arguments, as plain strings."""
    args = sample_args(query)
    result = run_competency(query, args, store, id_base)
    assert isinstance(result, QuerySolutions)
    columns = [v.value for v in result.variables]
    rows = [[term_text(row[c]) for c in columns] for row in result]
    return {"params": args, "columns": columns, "rows": rows}


def comparable(query: CompetencyQuery, columns: list[str], rows: list[list[str]]) -> list[list[object]]:
    """The rows with each ``GROUP_CONCAT`` cell as the sorted list of its values.

    SPARQL leaves the order of the values inside a ``GROUP_CONCAT`` open (Virtuoso's differs from the embedded
    store's), and the language tag of the result too: only those cells are compared as sets.
    """
    concatenated = set(query_shape(query.sparql).group_concats)
    return [
        [
            sorted(cell.split(", ")) if column in concatenated else cell
            for column, cell in zip(columns, row, strict=True)
        ]
        for row in rows
    ]


def expected(name: str) -> dict[str, Any]:
    """The stored expected answer of query ``name``."""
    data: dict[str, Any] = json.loads((EXPECTED_DIR / f"{name}.json").read_text(encoding="utf-8"))
    return data


def main() -> None:
    """Rewrite every expected answer from the bundled data."""
    import tempfile

    from ioir_kg.store import open_store
    from ioir_kg.store.loading import load_sources

    settings = Settings(store_path=Path(tempfile.mkdtemp()) / "store")
    store = open_store(settings)
    load_sources(store, settings)
    EXPECTED_DIR.mkdir(exist_ok=True)
    for name, query in load_catalogue(PROJECT_ROOT / "queries").items():
        text = json.dumps(answer(query, store, settings.id_base), indent=1, ensure_ascii=False)
        (EXPECTED_DIR / f"{name}.json").write_text(text + "\n", encoding="utf-8")
    store.close()


if __name__ == "__main__":
    main()
