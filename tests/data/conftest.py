"""The bundled data as one rdflib graph (ontology + data), and the source texts."""

from __future__ import annotations

from pathlib import Path

import pytest
from rdflib import Graph

from ioir_kg.config import PROJECT_ROOT
from ioir_kg.validation.quotes import SourceTexts, bundled_source_files
from tests.conftest import IN_CI, SEEDS_DIR

DATA_DIR = PROJECT_ROOT / "data"
ONTOLOGY_DIR = PROJECT_ROOT / "ontology"
#: The bundled documents, id → file name, as ``data/sources.ttl`` names them (``dcterms:identifier``).
SOURCE_FILES = bundled_source_files(DATA_DIR)


@pytest.fixture(scope="session")
def data_graph() -> Graph:
    """Every ``data/**/*.ttl`` file in one graph (the linksets under ``data/links/`` included)."""
    graph = Graph()
    for path in data_files():
        graph.parse(path, format="turtle")
    return graph


@pytest.fixture(scope="session")
def ontology_graph() -> Graph:
    """Every Turtle file under ``ontology/`` (ontology, schemes, imports; shapes excluded)."""
    graph = Graph()
    for path in sorted(ONTOLOGY_DIR.rglob("*.ttl")):
        if path.name != "shapes.ttl":
            graph.parse(path, format="turtle")
    return graph


@pytest.fixture(scope="session")
def sources() -> SourceTexts:
    """The five source documents; missing ones fail under CI=true."""
    missing = [name for name in SOURCE_FILES.values() if not (SEEDS_DIR / name).is_file()]
    if missing:
        message = f"source documents missing from {SEEDS_DIR}: {', '.join(missing)}"
        if IN_CI:
            pytest.fail(message)
        pytest.skip(message)
    return SourceTexts.from_dir(SEEDS_DIR, SOURCE_FILES)


def data_files() -> list[Path]:
    """The data files (``data/**/*.ttl``, as the loader reads them), for parametrised tests."""
    return sorted(DATA_DIR.rglob("*.ttl"))
