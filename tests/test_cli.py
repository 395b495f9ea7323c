"""The real ``ioir-kg`` console script: outputs, exit codes and one-line errors."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import require_system

GOOD = '@prefix ex: <http://example.org/> .\nex:un ex:label "United Nations" .\nex:eu ex:label "European Union" .\n'


def run(env_root: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("IOIR_")}
    env.update(IOIR_STORE_PATH=str(env_root / "store"), IOIR_DATA_ROOT=str(env_root / "proj"))
    return subprocess.run(
        [sys.executable, "-m", "ioir_kg", *args], capture_output=True, text=True, env=env, cwd=env_root, timeout=120
    )


@pytest.fixture
def root(tmp_path: Path) -> Path:
    (tmp_path / "proj").mkdir()
    (tmp_path / "good.ttl").write_text(GOOD, encoding="utf-8")
    return tmp_path


def test_load_query_stats(root: Path) -> None:
    loaded = run(root, "load", "good.ttl")
    assert loaded.returncode == 0, loaded.stderr
    assert loaded.stdout.split() == ["loaded", "https://w3id.org/ioir/graph/files/good", "2", "triples"]
    assert run(root, "load", "good.ttl").stdout.split()[0] == "unchanged"

    q = run(root, "query", "SELECT ?l WHERE { ?s <http://example.org/label> ?l } ORDER BY ?l", "--format", "json")
    assert q.returncode == 0, q.stderr
    rows = json.loads(q.stdout)["results"]["bindings"]
    assert [r["l"]["value"] for r in rows] == ["European Union", "United Nations"]

    (root / "q.rq").write_text("SELECT (COUNT(*) AS ?n) WHERE { ?s ?p ?o }", encoding="utf-8")
    table = run(root, "query", "-f", "q.rq")
    assert table.stdout.splitlines() == ["n", "-", "2"]

    stats = run(root, "stats")
    assert stats.returncode == 0
    assert "       2  https://w3id.org/ioir/graph/files/good" in stats.stdout.splitlines()


def test_dump_and_restore_round_trip(root: Path) -> None:
    run(root, "load", "good.ttl")
    assert run(root, "dump", "-o", "dump.nq").returncode == 0
    dumped = sorted((root / "dump.nq").read_text(encoding="utf-8").splitlines())
    assert len(dumped) == 2
    other = root / "other"
    (other / "proj").mkdir(parents=True)
    assert run(other, "restore", str(root / "dump.nq")).returncode == 0
    assert run(other, "dump", "-o", "again.nq").returncode == 0
    assert sorted((other / "again.nq").read_text(encoding="utf-8").splitlines()) == dumped


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("load", "--bogus"), "ioir-kg: No such option: --bogus"),
        (("load", "missing.ttl"), "ioir-kg: missing.ttl: no such file or directory"),
        (("query", "SELECT * WHERE { ?s ?p }"), "ioir-kg: SPARQL syntax error: error at 1:25"),
        (("query",), "ioir-kg: give the query either as an argument or with --file, not both"),
        (("query", "ASK {}", "--format", "yaml"), "ioir-kg: unknown --format 'yaml'"),
        (("serve", "--port", "0"), "ioir-kg: Invalid value for '--port'"),
        (("restore", "nothing.nq"), "ioir-kg: nothing.nq: no such file"),
    ],
)
def test_bad_input_exits_2_with_one_line(root: Path, args: tuple[str, ...], message: str) -> None:
    result = run(root, *args)
    assert result.returncode == 2
    assert result.stderr.startswith(message)
    assert len(result.stderr.strip().splitlines()) == 1
    assert "Traceback" not in result.stderr


def test_malformed_turtle_names_file_and_line_and_changes_nothing(root: Path) -> None:
    run(root, "load", "good.ttl")
    before = run(root, "dump").stdout
    (root / "good.ttl").write_text(GOOD + "ex:nato ex:label .\n", encoding="utf-8")
    result = run(root, "load", "good.ttl")
    assert result.returncode == 2
    assert result.stderr.startswith("ioir-kg: good.ttl: Parser error")
    assert "line 4" in result.stderr
    assert run(root, "dump").stdout == before


def test_undecodable_file_is_bad_input(root: Path) -> None:
    (root / "binary.ttl").write_bytes(b"\xff\xfe\x00 not turtle")
    result = run(root, "load", "binary.ttl")
    assert result.returncode == 2
    assert result.stderr.startswith("ioir-kg: binary.ttl")


def test_bad_setting_stops_with_one_line(root: Path) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith("IOIR_")}
    env["IOIR_QUERY_TIMEOUT"] = "forever"
    result = subprocess.run(
        [sys.executable, "-m", "ioir_kg", "stats"], capture_output=True, text=True, env=env, cwd=root, timeout=60
    )
    assert result.returncode == 2
    assert result.stderr.strip() == (
        "ioir-kg: IOIR_QUERY_TIMEOUT: Input should be a valid number, unable to parse string as a number"
    )


def test_check_ontology_exit_codes(tmp_path: Path) -> None:
    from ioir_kg.config import PROJECT_ROOT

    require_system("java", "the HermiT reasoner")
    empty = run(tmp_path, "check-ontology")  # IOIR_DATA_ROOT points at an empty project
    assert empty.returncode == 2
    assert empty.stderr.startswith("ioir-kg: ")
    assert "ontology/ioir.ttl: no such file" in empty.stderr
    project = tmp_path / "proj"
    shutil.copytree(PROJECT_ROOT / "ontology", project / "ontology")
    shutil.copytree(PROJECT_ROOT / "data", project / "data")
    assert run(tmp_path, "check-ontology").returncode == 0
    (project / "data/zz.ttl").write_text(
        "@prefix ioir: <https://w3id.org/ioir/ontology#> .\n"
        "<https://w3id.org/ioir/id/org/x> a ioir:InternationalOrganization, ioir:Mission .\n",
        encoding="utf-8",
    )
    broken = run(tmp_path, "check-ontology")
    assert broken.returncode == 1
    assert "missing-label: https://w3id.org/ioir/id/org/x: entity without an English rdfs:label" in broken.stdout
    assert "hermit: inconsistent" in broken.stdout


@pytest.mark.parametrize("value", ["http://a b", "urn:a<b>", 'https://x/"y"', "http://a\nb"])
def test_cq_with_an_invalid_iri_exits_2_with_one_line(root: Path, value: str) -> None:
    from ioir_kg.config import PROJECT_ROOT

    shutil.copytree(PROJECT_ROOT / "queries", root / "proj" / "queries")
    result = run(root, "cq", "bodies-in-cooperation", "-p", f"org={value}")
    assert result.returncode == 2, result.stderr
    assert len(result.stderr.strip().splitlines()) == 1, result.stderr
    assert result.stderr.startswith("ioir-kg: bad parameters for bodies-in-cooperation: org: ")
    assert "is not a valid IRI" in result.stderr
    assert "Traceback" not in result.stderr
