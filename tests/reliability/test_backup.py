"""Backup and restore with the real console script: ``ioir-kg dump`` then ``ioir-kg restore`` into an empty store
gives the identical set of quads — bundled data, accepted assertions with their provenance, blank nodes, literals of
every kind, the default graph. A broken dump changes nothing; a running server's store is refused, not damaged."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from pyoxigraph import BlankNode, DefaultGraph, Literal, NamedNode, Quad, Store

from tests.reliability.payloads import TURTLE, new_submission
from tests.reliability.server import CONTRIBUTOR_AUTH, copy_store, start, stop

XSD = "http://www.w3.org/2001/XMLSchema#"
EX = "https://example.org/backup/"


def cli(store: Path, *args: str) -> subprocess.CompletedProcess[str]:
    """``python -m ioir_kg ARGS`` over the store at ``store``."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("IOIR_")}
    env.update(IOIR_STORE_PATH=str(store), IOIR_LOAD_BUNDLED="false")
    return subprocess.run(
        [sys.executable, "-m", "ioir_kg", *args], capture_output=True, text=True, env=env, timeout=300, check=False
    )


def quads(path: Path) -> set[Quad]:
    """Every quad of the store at ``path`` (opened read-only)."""
    store = Store.read_only(str(path))
    try:
        return set(store.quads_for_pattern(None, None, None, None))
    finally:
        del store


def awkward_quads() -> list[Quad]:
    """What a serialiser gets wrong: blank nodes, escapes, language tags, datatypes, the default graph."""
    s, p, graph = NamedNode(EX + "s"), NamedNode(EX + "p"), NamedNode(EX + "graph")
    node = BlankNode("b0")
    values = [
        Literal('quote " backslash \\ newline \n tab \t return \r'),
        Literal("ünïcødé 中文 🛰"),
        Literal("Vereinte Nationen", language="de"),
        Literal("en-GB", language="en-gb"),
        Literal("1", datatype=NamedNode(XSD + "integer")),
        Literal("1.50", datatype=NamedNode(XSD + "decimal")),
        Literal("NaN", datatype=NamedNode(XSD + "double")),
        Literal("2003-01", datatype=NamedNode(XSD + "gYearMonth")),
        Literal("not a date", datatype=NamedNode(XSD + "date")),
        Literal("", datatype=NamedNode(EX + "customType")),
        node,
    ]
    found = [Quad(s, p, value, graph) for value in values]
    found += [Quad(node, p, Literal("in a blank node"), graph), Quad(s, p, Literal("default"), DefaultGraph())]
    return found


def test_dump_then_restore_gives_the_identical_set_of_quads(tmp_path: Path, seeded_store: Path) -> None:
    # a store as a server leaves it: the bundled data plus accepted assertions
    source = copy_store(seeded_store, tmp_path / "source")
    server = start(tmp_path / "source", source)
    try:
        with server.client() as client:
            for _ in range(3):
                submitted = client.post(
                    "/assertions", content=new_submission("backup-").body, headers={**TURTLE, **CONTRIBUTOR_AUTH}
                )
                assert submitted.status_code == 201, submitted.text
    finally:
        stop(server)
    store = Store(str(source))
    store.extend(awkward_quads())
    store.flush()
    del store
    original = quads(source)
    assert len(original) > 11_000

    dumped = cli(source, "dump", "-o", str(tmp_path / "backup.nq"))
    assert dumped.returncode == 0, dumped.stderr
    target = tmp_path / "restored" / "store"
    restored = cli(target, "restore", str(tmp_path / "backup.nq"))
    assert restored.returncode == 0, restored.stderr
    assert quads(target) == original

    # and the restored store dumps to the same lines again
    again = cli(target, "dump", "-o", str(tmp_path / "again.nq"))
    assert again.returncode == 0
    first = (tmp_path / "backup.nq").read_text(encoding="utf-8").splitlines()
    second = (tmp_path / "again.nq").read_text(encoding="utf-8").splitlines()
    assert sorted(first) == sorted(second)


def test_a_broken_dump_changes_nothing(tmp_path: Path) -> None:
    target = tmp_path / "store"
    store = Store(str(target))
    store.add(Quad(NamedNode(EX + "kept"), NamedNode(EX + "p"), Literal("x"), NamedNode(EX + "g")))
    store.flush()
    del store
    before = quads(target)
    broken = tmp_path / "broken.nq"
    broken.write_text(f'<{EX}a> <{EX}p> "fine" <{EX}g> .\n<{EX}b> <{EX}p> "cut off in the mid', encoding="utf-8")
    result = cli(target, "restore", str(broken))
    assert result.returncode == 2
    assert result.stderr.startswith("ioir-kg: ")
    assert len(result.stderr.strip().splitlines()) == 1
    assert quads(target) == before


def test_restoring_into_the_store_of_a_running_server_is_refused(tmp_path: Path, seeded_store: Path) -> None:
    source = copy_store(seeded_store, tmp_path / "running")
    dump = cli(source, "dump", "-o", str(tmp_path / "dump.nq"))
    assert dump.returncode == 0
    server = start(tmp_path / "running", source)
    try:
        result = cli(source, "restore", str(tmp_path / "dump.nq"))
        assert result.returncode == 3, result.stderr
        assert "lock" in result.stderr.lower() or "store" in result.stderr.lower()
        with server.client() as client:
            assert client.get("/health").json()["triples"] > 11_000
    finally:
        stop(server)


@pytest.mark.parametrize("command", ["dump", "restore"])
def test_the_commands_document_themselves(command: str, tmp_path: Path) -> None:
    result = cli(tmp_path / "store", command, "--help")
    assert result.returncode == 0
    assert "N-Quads" in result.stdout
