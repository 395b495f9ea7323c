"""A file loaded into a graph that does not exist yet is bulk-loaded directly; a bad one leaves nothing behind."""

from __future__ import annotations

from pathlib import Path

import pytest

from ioir_kg.errors import BadRdf
from ioir_kg.store.oxigraph import OxigraphStore

GOOD = "".join(f"<urn:s{i}> <urn:p> <urn:o{i % 7}> .\n" for i in range(50))


def test_new_graph_gets_every_triple(tmp_path: Path) -> None:
    source = tmp_path / "good.nt"
    source.write_text(GOOD + GOOD, encoding="utf-8")  # duplicates count once
    store = OxigraphStore(tmp_path / "store")
    assert store.load_file(source, "urn:g:new") == 50
    assert [(g.iri, g.triples) for g in store.graphs()] == [("urn:g:new", 50)]
    store.close()


def test_syntax_error_in_a_new_file_names_file_and_line_and_leaves_no_graph(tmp_path: Path) -> None:
    source = tmp_path / "bad.nt"
    source.write_text(GOOD + '<urn:s> <urn:p> "unterminated .\n' + GOOD, encoding="utf-8")
    store = OxigraphStore(tmp_path / "store")
    with pytest.raises(BadRdf) as info:
        store.load_file(source, "urn:g:bad")
    assert str(source) in info.value.message
    assert "51" in info.value.message
    assert not store.has_graph("urn:g:bad")
    assert len(store) == 0
    store.close()
